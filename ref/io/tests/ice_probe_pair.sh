#!/usr/bin/env bash
# `icelab probe ice` against itself on loopback, two processes introduced
# through SDP files: full controlling vs full controlled, and full vs lite.
# Each side must exit 0, select a host pair and count 5 packets each way.
# Bounded (timeout 20 per process), processes stopped by PID on exit.
# Environment: BUILD (default build), ICELAB (default $BUILD/icelab).
set -uo pipefail
cd "$(dirname "$0")/../../.."

BUILD=${BUILD:-build}
ICELAB=${ICELAB:-$BUILD/icelab}
if "$ICELAB" probe ice --help >/dev/null 2>&1; then
	PROBE=("$ICELAB" probe ice)
elif [ -x "$BUILD/ref/io/tests/ice_probe" ]; then
	PROBE=("$BUILD/ref/io/tests/ice_probe")
else
	echo "skip: neither '$ICELAB probe ice' nor $BUILD/ref/io/tests/ice_probe is built"
	exit 0
fi

TMP=$(mktemp -d /tmp/icelab-ice-probe.XXXXXX)
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

# run_case NAME "A FLAGS" "B FLAGS"
run_case() {
	local name=$1 a=$2 b=$3 dir=$TMP/$1 side
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	timeout 20 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/a.sdp" --remote-sdp "$dir/b.sdp" \
		--wait-remote 10 --timeout 15 --packets 5 $a >"$dir/a.out" 2>&1 &
	local pa=$!
	# shellcheck disable=SC2086
	timeout 20 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/b.sdp" --remote-sdp "$dir/a.sdp" \
		--wait-remote 10 --timeout 15 --packets 5 $b >"$dir/b.out" 2>&1 &
	local pb=$!
	PIDS+=("$pa" "$pb")
	wait "$pa"; local ra=$?
	wait "$pb"; local rb=$?
	local ok=1
	[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || { ok=0; echo "FAIL: $name: exit $ra and $rb"; }
	for side in a b; do
		grep -q '^result: ok$' "$dir/$side.out" &&
			grep -q '^selected: host 127.0.0.1:[0-9]* -> host 127.0.0.1:[0-9]*' "$dir/$side.out" &&
			grep -q '^packets: sent 5, received 5 of 5$' "$dir/$side.out" ||
			{ ok=0; echo "FAIL: $name: side $side"; tail -n 20 "$dir/$side.out"; }
	done
	if [ "$ok" -eq 1 ]; then
		echo "ok: $name: $(grep '^state:' "$dir/a.out") / $(grep '^role:' "$dir/b.out")"
	else
		FAILS=$((FAILS + 1))
	fi
}

run_case full-vs-full "--controlling" "--controlled"
run_case full-vs-lite "--controlling" "--lite"
[ "$FAILS" -eq 0 ] || exit 1
echo "ice_probe_pair: both cases connected with 5 packets each way"
