#!/usr/bin/env bash
# Our ICE agent against libnice through a kernel NAT (issue #5 §4): the
# namespaces of sim/netns/netns.sh (sim/README.md "Kernel mode"):
#
#   NAME-host 10.0.0.2  --  NAME-nat (nftables)  --  NAME-pub 198.51.100.1, .2
#
# nice_peer (libnice) runs in NAME-host behind the NAT, `icelab probe ice`
# in NAME-pub on 198.51.100.1. Cases:
#   port-restricted-cone, symmetric, full-cone: libnice offers its host
#     candidate 10.0.0.2 (unreachable from the public side); its checks
#     reach us from the NAT's mapping, which we learn as a peer-reflexive
#     remote candidate (RFC 8445 §7.3.1.3) and answer; our selected pair's
#     remote is prflx 198.51.100.254:PORT. Both roles are covered.
#   relay-only-port-restricted: `icelab serve` in NAME-pub on
#     198.51.100.2:3478 is libnice's STUN server (it gathers a srflx
#     candidate) and our TURN server; we are relay-only: our selected
#     pair's local is relay, its remote libnice's NAT mapping.
# Each case asserts both exit 0 and 10 packets each way, counted on both
# sides.
#
# Skips (exit 0) when not root, when `ip netns add` is not permitted, when
# nft is missing, or when nice_peer / the probe is not built. Namespaces
# get unique names and are deleted by a trap; processes run under timeout
# and are stopped by PID. Environment: BUILD (default build), ICELAB
# (default $BUILD/icelab), IL_KEEP=1 keeps the temporary directory.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 2

BUILD=${BUILD:-build}
ICELAB=${ICELAB:-$BUILD/icelab}
NICE_PEER=$BUILD/ref/io/tests/nice_peer
NETNS=sim/netns/netns.sh
NAME=icln$$
PACKETS=10
HOST_IP=10.0.0.2
PUB_IP=198.51.100.1
SERVER_IP=198.51.100.2
NAT_EXT=198.51.100.254

skip() {
	echo "skip: $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v nft >/dev/null || skip "nft (nftables) not installed"
[ -x "$NICE_PEER" ] || skip "$NICE_PEER not built (needs libnice-dev)"
if "$ICELAB" probe ice --help 2>/dev/null | grep -q -- --relay-only; then
	PROBE=("$(realpath "$ICELAB")" probe ice)
elif [ -x "$BUILD/ref/io/tests/ice_probe" ]; then
	PROBE=("$(realpath "$BUILD/ref/io/tests/ice_probe")")
else
	skip "neither '$ICELAB probe ice' nor $BUILD/ref/io/tests/ice_probe is built"
fi
NICE_PEER=$(realpath "$NICE_PEER")
ip netns add "$NAME-probe" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del "$NAME-probe"

TMP=$(mktemp -d /tmp/icelab-ice-netns.XXXXXX)
PIDS=()
FAILS=0
UP=0
stop_pids() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	PIDS=()
}
cleanup() {
	stop_pids
	[ "$UP" -eq 0 ] || bash "$NETNS" down "$NAME" >/dev/null 2>&1
	[ -n "${IL_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

show() {
	local name=$1 f
	shift
	for f in "$@"; do
		echo "--- $name: $(basename "$f")"
		tail -n 25 "$f"
	done
}

# run_case NAME TOPOLOGY "OUR FLAGS" "NICE FLAGS" OUR-SELECTED-REGEX [server]
run_case() {
	local name=$1 topo=$2 ours=$3 nice=$4 want=$5 server=${6:-}
	local dir=$TMP/$name
	mkdir -p "$dir"
	if ! bash "$NETNS" up "$topo" "$NAME" >"$dir/up.txt" 2>&1; then
		fail "$name: netns.sh up $topo"
		cat "$dir/up.txt"
		return
	fi
	UP=1
	if [ -n "$server" ]; then
		mkdir -p "$dir/state"
		ip netns exec "$NAME-pub" timeout 60 "$(realpath "$ICELAB")" serve \
			--listen "$SERVER_IP:3478" --no-tcp --user alice:secret --realm example.org \
			--allow-peer 198.51.100.0/24 --allow-private-relay --state-dir "$dir/state" \
			>"$dir/server.log" 2>&1 &
		PIDS+=($!)
		for _ in $(seq 1 50); do
			grep -q 'ready' "$dir/server.log" 2>/dev/null && break
			sleep 0.1
		done
	fi
	# shellcheck disable=SC2086
	ip netns exec "$NAME-pub" timeout 40 "${PROBE[@]}" --local "$PUB_IP" \
		--local-sdp-out "$dir/ours.sdp" --remote-sdp "$dir/nice.sdp" --wait-remote 15 \
		--timeout 30 --packets $PACKETS $ours >"$dir/ours.out" 2>"$dir/ours.err" &
	local pa=$!
	# shellcheck disable=SC2086
	ip netns exec "$NAME-host" timeout 40 "$NICE_PEER" --local "$HOST_IP" \
		--local-sdp-out "$dir/nice.sdp" --remote-sdp "$dir/ours.sdp" --wait-remote 15 \
		--timeout 30 --packets $PACKETS $nice >"$dir/nice.out" 2>"$dir/nice.err" &
	local pn=$!
	PIDS+=("$pa" "$pn")
	wait "$pa"; local ra=$?
	wait "$pn"; local rn=$?
	stop_pids
	bash "$NETNS" down "$NAME" >/dev/null 2>&1 || fail "$name: netns.sh down"
	UP=0

	local ok=1
	if [ "$ra" -ne 0 ] || [ "$rn" -ne 0 ]; then ok=0; fail "$name: icelab exit $ra, nice_peer exit $rn"; fi
	grep -q '^result: ok$' "$dir/ours.out" || { ok=0; fail "$name: icelab did not report ok"; }
	grep -q "^selected: $want" "$dir/ours.out" ||
		{ ok=0; fail "$name: icelab's selected pair is not '$want'"; }
	grep -q "^packets: sent $PACKETS, received $PACKETS of $PACKETS$" "$dir/ours.out" ||
		{ ok=0; fail "$name: icelab did not send and receive $PACKETS packets"; }
	grep -q "^nice_peer: ready .*sent $PACKETS received $PACKETS$" "$dir/nice.out" ||
		{ ok=0; fail "$name: libnice not ready with $PACKETS packets each way"; }
	if [ "$ok" -eq 1 ]; then
		echo "ok: $name: ours $(grep '^selected:' "$dir/ours.out" | sed 's/^selected: //');" \
			"libnice $(sed -n 's/.*\(selected .*\), sent.*/\1/p' "$dir/nice.out")"
	else
		show "$name" "$dir/ours.out" "$dir/ours.err" "$dir/nice.out" "$dir/nice.err"
		[ -z "$server" ] || show "$name" "$dir/server.log"
	fi
}

PRFLX="host $PUB_IP:[0-9]* -> prflx $NAT_EXT:[0-9]*"
run_case port-restricted-cone port-restricted-cone "--controlling" "--controlled" "$PRFLX"
run_case symmetric symmetric "--controlled" "--controlling" "$PRFLX"
run_case full-cone full-cone "--controlled" "--controlling --aggressive" "$PRFLX"
run_case relay-only-port-restricted port-restricted-cone \
	"--controlling --relay-only --turn turn:$SERVER_IP:3478 --user alice --password secret" \
	"--controlled --stun $SERVER_IP:3478" \
	"relay $SERVER_IP:[0-9]* -> \(srflx\|prflx\) $NAT_EXT:[0-9]*" server

if [ "$FAILS" -ne 0 ]; then
	echo "ice_libnice_netns: $FAILS failure(s)"
	exit 1
fi
echo "ice_libnice_netns: libnice behind kernel NATs connected with $PACKETS packets each way"
