#!/usr/bin/env bash
# Relayed candidates in `icelab probe ice` (issue #5 §2, §5): the driver
# gathers through the TURN client (ice_gather.c) from `icelab serve` on
# loopback, and the relay-only policy offers and uses relayed candidates
# only. Cases:
#   relay-only-udp-vs-relay-only-tcp: two probes, each relay-only, A
#     allocating over UDP on server 1, B over TCP on server 2 (icelab
#     serve refuses a permission for one of its own relayed addresses,
#     turn_peer_check in ref/turn/server_relay.c, so relay to relay goes
#     through two servers); both select relay -> relay.
#   relay-only-vs-host: A relay-only (UDP) against B with host candidates
#     only (no --turn); A selects relay -> host, B host -> relay.
#   relay-only-vs-libnice: A relay-only against nice_peer (libnice, host
#     candidates), when nice_peer is built; --json on our side.
# Each case asserts: both exit 0; the selected pair's local type is relay
# on every relay-only side; 5 packets each way; the relay-only side's SDP
# offers no host candidate and every pair it formed has a relayed local.
#
# Servers: `icelab serve --listen 127.0.0.1:PORT --user alice:secret
# --realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay
# --state-dir TMP`, on a free port. Bounded: every process under timeout,
# stopped by PID on exit. Environment: BUILD (default build), ICELAB
# (default $BUILD/icelab), IL_KEEP=1 keeps the temporary directory.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 2

BUILD=${BUILD:-build}
ICELAB=${ICELAB:-$BUILD/icelab}
NICE_PEER=$BUILD/ref/io/tests/nice_peer
PACKETS=5

skip() {
	echo "skip: $*"
	exit 0
}

# The probe: the verb when it knows --relay-only, else the standalone one.
if "$ICELAB" probe ice --help 2>/dev/null | grep -q -- --relay-only; then
	PROBE=("$ICELAB" probe ice)
elif "$BUILD/ref/io/tests/ice_probe" --help 2>/dev/null | grep -q -- --relay-only; then
	PROBE=("$BUILD/ref/io/tests/ice_probe")
else
	skip "no 'probe ice' with --relay-only built ($ICELAB, $BUILD/ref/io/tests/ice_probe)"
fi
"$ICELAB" serve --help >/dev/null 2>&1 || skip "$ICELAB serve is not built"

TMP=$(mktemp -d /tmp/icelab-ice-relay.XXXXXX)
PIDS=()
FAILS=0
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	[ -n "${IL_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# A free TCP and UDP port on 127.0.0.1 (the kernel picks; a race with
# another binder is possible and would show as a server start failure).
free_port() {
	python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    print(port)
    break
EOF
}

# start_server N: server N on a free port, in SERVER_PORT[N].
declare -A SERVER_PORT
start_server() {
	local n=$1 port
	for _ in 1 2 3; do
		port=$(free_port)
		mkdir -p "$TMP/state$n"
		timeout 120 "$ICELAB" serve --listen "127.0.0.1:$port" --user alice:secret \
			--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay \
			--state-dir "$TMP/state$n" >"$TMP/server$n.log" 2>&1 &
		local pid=$!
		PIDS+=("$pid")
		# Ready when it answers TCP on the port (or gone: try another port).
		for _ in $(seq 1 50); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
				SERVER_PORT[$n]=$port
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
	done
	echo "FAIL: icelab serve $n did not start"
	cat "$TMP/server$n.log"
	exit 1
}

start_server 1
start_server 2
TURN1="turn:127.0.0.1:${SERVER_PORT[1]}"
TURN2="turn:127.0.0.1:${SERVER_PORT[2]}?transport=tcp"
CRED=(--user alice --password secret)

# The relay-only side's checks: text report and its SDP file.
check_relay_only_side() { # name side-dir-prefix remote-type
	local name=$1 f=$2 rtype=$3
	grep -q '^result: ok$' "$f.out" || { fail "$name: $f: not ok"; return 1; }
	grep -q "^selected: relay 127.0.0.1:[0-9]* -> $rtype 127.0.0.1:[0-9]*" "$f.out" ||
		{ fail "$name: $f: the selected pair is not relay -> $rtype"; return 1; }
	grep -q "^packets: sent $PACKETS, received $PACKETS of $PACKETS$" "$f.out" ||
		{ fail "$name: $f: not $PACKETS packets each way"; return 1; }
	grep -q 'typ relay' "$f.sdp" || { fail "$name: $f.sdp offers no relayed candidate"; return 1; }
	! grep -q 'typ \(host\|srflx\)' "$f.sdp" ||
		{ fail "$name: $f.sdp offers a host or srflx candidate under relay-only"; return 1; }
	# Every pair line: "  1 relay ADDR -> ...": no check ever left a host base.
	! sed -n '/^pairs:$/,$p' "$f.out" | grep -v '^pairs:$' | grep -qv '^  [0-9]* relay ' ||
		{ fail "$name: $f: a pair with a non-relayed local"; return 1; }
	return 0
}

show() { # name files...
	local name=$1 f
	shift
	for f in "$@"; do
		echo "--- $name: $f"
		tail -n 25 "$f"
	done
}

# probe_pair NAME "A FLAGS" "B FLAGS": two probes, A controlling.
run_probe_pair() {
	local name=$1 a=$2 b=$3 dir=$TMP/$1
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	timeout 30 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/a.sdp" \
		--remote-sdp "$dir/b.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		--controlling $a >"$dir/a.out" 2>"$dir/a.err" &
	local pa=$!
	# shellcheck disable=SC2086
	timeout 30 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/b.sdp" \
		--remote-sdp "$dir/a.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		--controlled $b >"$dir/b.out" 2>"$dir/b.err" &
	local pb=$!
	PIDS+=("$pa" "$pb")
	wait "$pa"; RA=$?
	wait "$pb"; RB=$?
	DIR=$dir
}

# 1. relay-only on both sides, UDP to server 1 and TCP to server 2.
name=relay-only-udp-vs-relay-only-tcp
run_probe_pair $name "--relay-only --turn $TURN1 ${CRED[*]}" "--relay-only --turn $TURN2 ${CRED[*]}"
ok=1
if [ "$RA" -ne 0 ] || [ "$RB" -ne 0 ]; then ok=0; fail "$name: exit $RA and $RB"; fi
check_relay_only_side $name "$DIR/a" relay || ok=0
check_relay_only_side $name "$DIR/b" relay || ok=0
if [ "$ok" -eq 1 ]; then
	echo "ok: $name: $(grep '^selected:' "$DIR/a.out") / $(grep '^selected:' "$DIR/b.out")"
else
	show $name "$DIR/a.out" "$DIR/a.err" "$DIR/b.out" "$DIR/b.err" "$TMP/server1.log" "$TMP/server2.log"
fi

# 2. relay-only against host candidates only.
name=relay-only-vs-host
run_probe_pair $name "--relay-only --turn $TURN1 ${CRED[*]}" ""
ok=1
if [ "$RA" -ne 0 ] || [ "$RB" -ne 0 ]; then ok=0; fail "$name: exit $RA and $RB"; fi
check_relay_only_side $name "$DIR/a" host || ok=0
grep -q "^selected: host 127.0.0.1:[0-9]* -> relay 127.0.0.1:[0-9]*" "$DIR/b.out" ||
	{ ok=0; fail "$name: b did not select host -> relay"; }
if [ "$ok" -eq 1 ]; then
	echo "ok: $name: $(grep '^selected:' "$DIR/a.out") / $(grep '^selected:' "$DIR/b.out")"
else
	show $name "$DIR/a.out" "$DIR/a.err" "$DIR/b.out" "$DIR/b.err" "$TMP/server1.log"
fi

# 3. relay-only (TCP to the server) against libnice, --json.
name=relay-only-vs-libnice
if [ -x "$NICE_PEER" ]; then
	dir=$TMP/$name
	mkdir -p "$dir"
	timeout 30 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/a.sdp" \
		--remote-sdp "$dir/nice.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		--controlling --relay-only --turn "$TURN2" "${CRED[@]}" --json \
		>"$dir/a.json" 2>"$dir/a.err" &
	pa=$!
	timeout 30 "$NICE_PEER" --local 127.0.0.1 --local-sdp-out "$dir/nice.sdp" \
		--remote-sdp "$dir/a.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		--controlled >"$dir/nice.out" 2>"$dir/nice.err" &
	pn=$!
	PIDS+=("$pa" "$pn")
	wait "$pa"; ra=$?
	wait "$pn"; rn=$?
	ok=1
	if [ "$ra" -ne 0 ] || [ "$rn" -ne 0 ]; then ok=0; fail "$name: exit $ra and $rn"; fi
	if ! python3 - "$dir/a.json" "$PACKETS" <<'EOF'; then
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
sel = r["selected_pair"]
assert r["result"] == "ok", r["result"]
assert r["policy"] == "relay-only", r["policy"]
assert sel and sel["local"]["type"] == "relay" and sel["remote"]["type"] == "host", sel
assert all(p["local"]["type"] == "relay" for p in r["pairs"]), r["pairs"]
assert "typ host" not in r["local_sdp"] and "typ relay" in r["local_sdp"], r["local_sdp"]
assert r["gathering"]["relay"] >= 1 and r["gathering"]["host"] == 0, r["gathering"]
assert r["gathering"]["refused_sends"] == 0, r["gathering"]
assert r["packets"]["sent"] == n and r["packets"]["received"] >= n, r["packets"]
EOF
		ok=0
		fail "$name: our --json does not show a relay-only run carrying $PACKETS each way"
	fi
	grep -q "^nice_peer: ready .*selected host 127.0.0.1:[0-9]* -> relay 127.0.0.1:[0-9]*, sent $PACKETS received $PACKETS$" \
		"$dir/nice.out" || { ok=0; fail "$name: libnice did not select host -> relay with $PACKETS each way"; }
	if [ "$ok" -eq 1 ]; then
		echo "ok: $name: $(sed 's/^nice_peer: //' "$dir/nice.out")"
	else
		show $name "$dir/a.json" "$dir/a.err" "$dir/nice.out" "$dir/nice.err" "$TMP/server2.log"
	fi
else
	echo "skip: $name: $NICE_PEER not built"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "ice_relay: $FAILS failure(s)"
	exit 1
fi
echo "ice_relay: relay-only probes connected through icelab serve with $PACKETS packets each way"
