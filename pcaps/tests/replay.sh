#!/usr/bin/env bash
# `icelab pcap replay` (issue #7 §5) on loopback: our clean TURN session
# capture (pcaps/captures/turn_replay.pcap: Binding, Allocate challenged
# then made, CreatePermission, ChannelBind, Refresh, deallocation) replayed
# against `icelab serve` and against coturn's turnserver: every response
# matches the captured one (exit 0); with a wrong password the authenticated
# exchanges differ (exit 1); a capture that starts mid-session
# (turn_internal_peer.pcap, no captured challenge) is challenged by the
# target and answered with its nonce. Usage errors exit 2. Servers run on
# 127.0.0.1 only, are bounded by `timeout`, and are stopped by their PID.
set -uo pipefail
cd "$(dirname "$0")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
	if build/icelab pcap --help 2>/dev/null | grep "pcap replay" >/dev/null &&
		! [ build/pcaps/tests/pcap_main -nt build/icelab ]; then PCAP="build/icelab pcap"
	else PCAP="build/pcaps/tests/pcap_main"; fi
fi
CAP=pcaps/captures/turn_replay.pcap
MID=pcaps/captures/turn_internal_peer.pcap
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "replay: FAIL: $*"; fail=1; }

# expect NAME RC GREP-PATTERN command...: exit status and a line of output
expect() {
	local name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "$name: exit $rc, expected $want"; sed 's/^/    /' "$tmp/out"
	elif [ -n "$pattern" ] && ! grep -Eq "$pattern" "$tmp/out"; then
		bad "$name: no line matching '$pattern'"; sed 's/^/    /' "$tmp/out"
	else
		echo "replay: ok: $name"
	fi
}

read -r P_OURS P_COTURN <<<"$(python3 - <<'PY'
import socket
held, ports = [], []
while len(ports) < 2:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    if p < 49152 and p not in ports:
        ports.append(p)
    held.append(u)
print(*ports)
PY
)"

# ---- usage (exit 2, one line)
expect "no --target" 2 "needs --target" $PCAP replay $CAP
expect "tcp target refused" 2 "only udp://" $PCAP replay $CAP --target tcp://127.0.0.1:3478
expect "bad port" 2 "expected udp://HOST:PORT" $PCAP replay $CAP --target udp://127.0.0.1:99999
expect "credentials needed" 2 "give --user and --password" $PCAP replay $CAP \
	--target "udp://127.0.0.1:$P_OURS"
expect "user without password" 2 "go together" $PCAP replay $CAP \
	--target "udp://127.0.0.1:$P_OURS" --user alice
expect "replay flag on analyze" 2 "go with replay" $PCAP analyze $CAP --target udp://127.0.0.1:1
expect "not a capture" 2 "not a readable capture" $PCAP replay pcaps/README.md \
	--target "udp://127.0.0.1:$P_OURS"

# Waits (at most 10 s) until the target answers the capture's Binding.
wait_ready() {
	local i
	for i in $(seq 40); do
		$PCAP replay $CAP --target "udp://127.0.0.1:$1" --user x --password y --timeout 200 \
			>"$tmp/ready" 2>&1
		grep -q "binding  *success  *success" "$tmp/ready" && return 0
		sleep 0.25
	done
	return 1
}

# against_target NAME PORT: the three replays
against_target() {
	local name=$1 port=$2
	expect "$name: clean capture matches" 0 \
		"summary: 7 exchanges, 7 matched, 0 different, 0 not compared" \
		$PCAP replay $CAP --target "udp://127.0.0.1:$port" --user alice --password secret
	grep -q "allocate  *error 401  *error 401  *match" "$tmp/out" ||
		bad "$name: the captured 401 challenge is not matched"
	expect "$name: wrong password differs" 1 "summary: 7 exchanges, 2 matched, 5 different" \
		$PCAP replay $CAP --target "udp://127.0.0.1:$port" --user alice --password wrong
	grep -q "allocate  *success  *error 401  *DIFFERENT" "$tmp/out" ||
		bad "$name: the refused Allocate is not shown as a difference"
	expect "$name: mid-session capture is challenged and answered" 0 \
		"4 exchanges, 4 matched, 0 different.*1 challenge answered" \
		$PCAP replay $MID --target "udp://127.0.0.1:$port" --user alice --password secret
	expect "$name: --strict counts added attributes" "$3" "summary: 7 exchanges" \
		$PCAP replay $CAP --target "udp://127.0.0.1:$port" --user alice --password secret --strict
}

# ---- icelab serve
ICELAB=build/icelab
if [ -x "$ICELAB" ] && $ICELAB serve --help >/dev/null 2>&1; then
	timeout 120 $ICELAB serve --listen "127.0.0.1:$P_OURS" --no-tcp --user alice:secret \
		--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay \
		--state-dir "$tmp/state" --workers 1 --min-port 45000 --max-port 45099 \
		>"$tmp/serve.log" 2>&1 &
	pids+=($!)
	if wait_ready "$P_OURS"; then
		# icelab offers PASSWORD-ALGORITHMS in its 401 (RFC 8489 §9.2.4): an
		# attribute the capture lacks, a difference only with --strict
		against_target "icelab serve" "$P_OURS" 1
	else
		bad "icelab serve does not answer"; cat "$tmp/serve.log"
	fi
else
	echo "replay: skip icelab serve (build/icelab has no serve verb)"
fi

# ---- coturn (its own flags: loopback, no TCP/TLS/DTLS, no CLI, a pid file)
if command -v turnserver >/dev/null; then
	timeout 120 turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 -p "$P_COTURN" \
		--allow-loopback-peers --no-cli --no-dtls --no-tls --no-tcp --realm=example.org \
		--lt-cred-mech --user=alice:secret --min-port=45100 --max-port=45199 \
		--log-file=stdout --simple-log --pidfile="$tmp/turnserver.pid" >"$tmp/coturn.log" 2>&1 &
	pids+=($!)
	if wait_ready "$P_COTURN"; then
		[ -s "$tmp/turnserver.pid" ] && pids+=("$(cat "$tmp/turnserver.pid")")
		# coturn adds MAPPED-ADDRESS and RESPONSE-ORIGIN to its Binding
		# success: a difference only with --strict
		against_target "coturn" "$P_COTURN" 1
	else
		bad "turnserver does not answer"; tail -20 "$tmp/coturn.log"
	fi
else
	echo "replay: skip coturn (turnserver not installed)"
fi

[ "$fail" -eq 0 ] && echo "replay: all passed"
exit "$fail"
