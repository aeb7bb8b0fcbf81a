# Helpers of the probe_*.sh scripts beside this file (sourced, not run:
# the name does not end in .sh, so scripts/test.sh skips it).
#
# Loopback only; every process started here is recorded and stopped by
# PID on exit; every wait is bounded.

set -uo pipefail

ICELAB=${ICELAB:-build/icelab}
PR_TMP=$(mktemp -d /tmp/icelab-probe.XXXXXX)
PR_PIDS=()
PR_FAILS=0

pr_cleanup() {
	local pid
	for pid in "${PR_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PR_PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$PR_TMP"
}
trap pr_cleanup EXIT

pr_fail() {
	echo "FAIL: $*"
	PR_FAILS=$((PR_FAILS + 1))
}

pr_pass() {
	echo "ok: $*"
}

# Skips (exit 0 with a note) while `icelab probe` is not wired into the
# binary, or when a tool is missing (unless ICELAB_INTEROP_REQUIRED is set).
pr_require() {
	local t
	if ! "$ICELAB" probe --help >/dev/null 2>&1; then
		echo "skip: '$ICELAB probe' is not available (not wired into cli/main.c yet?)"
		exit 0
	fi
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			if [ -n "${ICELAB_INTEROP_REQUIRED:-}" ]; then
				echo "FAIL: $t not installed"
				exit 1
			fi
			echo "skip: $t not installed"
			exit 0
		fi
	done
}

# Prints N distinct ports free for UDP and TCP on 127.0.0.1, under 49152
# (relay ranges live above).
pr_free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
want, ports, held = int(sys.argv[1]), [], []
while len(ports) < want:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    held.append(u)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", p))
        held.append(t)
    except OSError:
        continue
    if p < 49152 and p not in ports:
        ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

# Starts a command in the background, output in $PR_TMP/NAME.log; records
# its PID in PR_PIDS and in PID_NAME. Usage: pr_start NAME cmd args...
pr_start() {
	local name=$1
	shift
	"$@" >"$PR_TMP/$name.log" 2>&1 &
	local pid=$!
	PR_PIDS+=("$pid")
	eval "PID_${name//-/_}=$pid"
}

# Waits (at most 10 s) until a Binding probe to URL is answered.
pr_wait_binding() {
	local url=$1 i
	shift
	for i in $(seq 40); do
		"$ICELAB" probe binding "$url" --timeout 0.25 "$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	return 1
}

# A field of a JSON file, by a Python expression on `j`.
pr_json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# Runs a probe (bounded) with --json into $PR_TMP/NAME.json; sets PR_RC.
# Usage: pr_probe NAME args...
pr_probe() {
	local name=$1
	shift
	timeout 60 "$ICELAB" probe "$@" --json >"$PR_TMP/$name.json" 2>"$PR_TMP/$name.err"
	PR_RC=$?
}

# A binding probe that must succeed with the mapped address on loopback.
# Usage: pr_check_binding NAME URL [probe flags...]
pr_check_binding() {
	local name=$1 url=$2 f
	shift 2
	pr_probe "$name" binding "$url" "$@"
	f=$PR_TMP/$name.json
	local mapped local_ rtt
	mapped=$(pr_json "$f" 'j["mapped"]')
	local_=$(pr_json "$f" 'j["local"]')
	rtt=$(pr_json "$f" 'j["rtt_ms"]')
	if [ "$PR_RC" -eq 0 ] && [ "$mapped" = "$local_" ] && [[ $mapped == 127.0.0.1:* ]] &&
		[ "$rtt" != "None" ]; then
		pr_pass "binding $name: mapped $mapped, rtt $rtt ms, software '$(pr_json "$f" 'j["software"]')'"
	else
		pr_fail "binding $name: rc=$PR_RC mapped='$mapped' local='$local_' $(cat "$PR_TMP/$name.err")"
	fi
}

# An allocate probe with a peer that must succeed: a relayed address, every
# echo back, released, and the password algorithm expected.
# Usage: pr_check_allocate NAME ALGORITHM URI [probe flags...]
pr_check_allocate() {
	local name=$1 alg=$2 uri=$3 f
	shift 3
	pr_probe "$name" allocate "$uri" "$@"
	f=$PR_TMP/$name.json
	local relayed sent echoed released got_alg
	relayed=$(pr_json "$f" 'j["relayed"][0]')
	sent=$(pr_json "$f" 'j["peer"]["sent"]')
	echoed=$(pr_json "$f" 'j["peer"]["echoed"]')
	released=$(pr_json "$f" 'j["released"]')
	got_alg=$(pr_json "$f" 'j["password_algorithm"]')
	if [ "$PR_RC" -eq 0 ] && [[ $relayed == 127.0.0.1:* ]] && [ -n "$sent" ] &&
		[ "$sent" != "0" ] && [ "$sent" = "$echoed" ] && [ "$released" = "True" ] &&
		[ "$got_alg" = "$alg" ]; then
		pr_pass "allocate $name: relayed $relayed, $echoed/$sent echoes, avg rtt $(pr_json "$f" 'j["peer"]["rtt_ms"]["avg"]') ms, $got_alg, released"
	else
		pr_fail "allocate $name: rc=$PR_RC relayed='$relayed' echoed=$echoed/$sent released=$released alg='$got_alg' (want $alg) $(cat "$PR_TMP/$name.err")"
	fi
}

# A probe that must exit with a given status and say something on stderr.
# Usage: pr_check_exit NAME STATUS PATTERN probe-args...
pr_check_exit() {
	local name=$1 want=$2 pattern=$3
	shift 3
	timeout 60 "$ICELAB" probe "$@" >"$PR_TMP/$name.out" 2>"$PR_TMP/$name.err"
	local rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$pattern" "$PR_TMP/$name.err"; then
		pr_pass "$name: exit $rc, $(head -n1 "$PR_TMP/$name.err")"
	else
		pr_fail "$name: exit $rc (want $want), stderr: $(head -n2 "$PR_TMP/$name.err")"
	fi
}

pr_finish() {
	if [ "$PR_FAILS" -ne 0 ]; then
		echo "$PR_FAILS check(s) failed"
		local f
		for f in "$PR_TMP"/*.log; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
		done
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
