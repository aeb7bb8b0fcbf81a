# Helpers of the interop scripts beside this file (sourced, not run: the
# name does not end in .sh, so scripts/test.sh skips it).
#
# Everything stays on loopback; every process started here is recorded
# and stopped by PID on exit; every wait is bounded.

set -uo pipefail

ICELAB=${ICELAB:-build/icelab}
IL_TMP=$(mktemp -d /tmp/icelab-interop.XXXXXX)
IL_PIDS=()
IL_FAILS=0

il_cleanup() {
	local pid
	for pid in "${IL_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${IL_PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	[ -n "${IL_KEEP:-}" ] || rm -rf "$IL_TMP"
}
trap il_cleanup EXIT

il_fail() {
	echo "FAIL: $*"
	IL_FAILS=$((IL_FAILS + 1))
}

il_pass() {
	echo "ok: $*"
}

# Skips (exit 0 with a note) when coturn's tools are missing and
# ICELAB_INTEROP_REQUIRED is not set; fails when icelab serve is missing.
il_require_tools() {
	local t
	for t in turnutils_uclient turnutils_peer turnutils_stunclient openssl python3; do
		if ! command -v "$t" >/dev/null; then
			if [ -n "${ICELAB_INTEROP_REQUIRED:-}" ]; then
				echo "FAIL: $t not installed (apt-get install coturn)"
				exit 1
			fi
			echo "skip: $t not installed (apt-get install coturn)"
			exit 0
		fi
	done
	if ! "$ICELAB" serve --help >/dev/null 2>&1; then
		echo "FAIL: '$ICELAB serve' does not run (built? wired into cli/main.c?)"
		exit 1
	fi
}

# Prints N distinct ports free for both UDP and TCP on 127.0.0.1 and ::1.
il_free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
want, ports, held = int(sys.argv[1]), [], []
while len(ports) < want:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    ok = True
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            if fam == socket.AF_INET and kind == socket.SOCK_DGRAM:
                continue
            t = socket.socket(fam, kind)
            try:
                t.bind((host, p))
                held.append(t)
            except OSError:
                ok = False
    held.append(s)
    if ok and p not in ports and p < 49152:
        ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

# Starts a command in the background with its output in a log; records
# its PID. Usage: il_start NAME cmd args...
il_start() {
	local name=$1
	shift
	"$@" >"$IL_TMP/$name.log" 2>&1 &
	local pid=$!
	IL_PIDS+=("$pid")
	eval "PID_${name//-/_}=$pid"
}

# Waits (at most 5 s) until a log contains a line matching a pattern.
il_wait_log() {
	local file=$1 pattern=$2 i
	for i in $(seq 50); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Runs turnutils_uclient (bounded) and checks its summary: every message
# sent came back, nothing lost, no error line. TLS version probes that our
# TLS 1.2+ server refuses ("alert protocol version") are not errors.
# Usage: il_uclient NAME MESSAGES CLIENTS uclient-args...
il_uclient() {
	local name=$1 n=$2 m=$3
	shift 3
	local log="$IL_TMP/uclient-$name.log"
	timeout 90 turnutils_uclient -n "$n" -m "$m" -l 100 "$@" >"$log" 2>&1
	local rc=$?
	local want=$((n * m))
	local summary lost errors
	summary=$(grep -o 'tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*' "$log" | tail -n1)
	lost=$(grep -o 'Total lost packets [0-9]*' "$log" | tail -n1)
	errors=$(grep -i 'error' "$log" | grep -v 'alert protocol version' | head -n3)
	if [ "$rc" -ne 0 ] || [ "$summary" != "tot_send_msgs=$want, tot_recv_msgs=$want" ] ||
		[ "$lost" != "Total lost packets 0" ] || [ -n "$errors" ]; then
		il_fail "uclient $name: rc=$rc '$summary' '$lost' (want $want each, 0 lost)${errors:+ errors: $errors}"
		tail -n 5 "$log" | sed 's/^/    /'
		return 1
	fi
	il_pass "uclient $name: $summary, $lost"
}

# GET /metrics-like page from the metrics listener; prints the body.
il_metrics() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b"\r\n\r\n", 1)[-1].decode())
EOF
}

il_finish() {
	if [ "$IL_FAILS" -ne 0 ]; then
		echo "$IL_FAILS check(s) failed; logs were in $IL_TMP"
		for f in "$IL_TMP"/serve*.log; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
		done
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
