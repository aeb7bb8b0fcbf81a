#!/usr/bin/env bash
# Our ICE agent (`icelab probe ice`) against libnice (nice_peer, linking
# Debian's libnice-dev) on loopback, issue #5 §4: both roles, both agents
# full and each one lite, libnice's aggressive nomination too. Each case
# asserts that both sides connected on a host pair and that 10 packets
# went each way, counted on both sides. The two processes introduce
# themselves through SDP files (each writes its own, renamed into place,
# and polls for the other's).
#
# Bounded: every process runs under `timeout 30`, and is stopped by PID on
# exit. Skips (exit 0, with a note) when nice_peer is not built, unless
# ICELAB_INTEROP_REQUIRED is set. Environment: BUILD (default build),
# ICELAB (default $BUILD/icelab), IL_KEEP=1 keeps the temporary directory.
set -uo pipefail
cd "$(dirname "$0")/../../.."

BUILD=${BUILD:-build}
ICELAB=${ICELAB:-$BUILD/icelab}
NICE_PEER=$BUILD/ref/io/tests/nice_peer
PACKETS=10

skip() {
	if [ -n "${ICELAB_INTEROP_REQUIRED:-}" ]; then
		echo "FAIL: $*"
		exit 1
	fi
	echo "skip: $*"
	exit 0
}

[ -x "$NICE_PEER" ] ||
	skip "$NICE_PEER not built (needs libnice-dev: pkg-config nice; then make with mk/ice_interop.mk)"
if "$ICELAB" probe ice --help >/dev/null 2>&1; then
	PROBE=("$ICELAB" probe ice)
elif [ -x "$BUILD/ref/io/tests/ice_probe" ]; then
	PROBE=("$BUILD/ref/io/tests/ice_probe")
else
	skip "neither '$ICELAB probe ice' nor $BUILD/ref/io/tests/ice_probe is built"
fi

TMP=$(mktemp -d /tmp/icelab-ice-libnice.XXXXXX)
PIDS=()
FAILS=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	[ -n "${IL_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# run_case NAME "OUR FLAGS" "NICE FLAGS" [json]
run_case() {
	local name=$1 ours=$2 nice=$3 json=${4:-}
	local dir=$TMP/$name
	mkdir -p "$dir"
	local json_flag=()
	[ -n "$json" ] && json_flag=(--json)
	# shellcheck disable=SC2086
	timeout 30 "${PROBE[@]}" --local 127.0.0.1 --local-sdp-out "$dir/ours.sdp" \
		--remote-sdp "$dir/nice.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		"${json_flag[@]}" $ours >"$dir/ours.out" 2>"$dir/ours.err" &
	local ours_pid=$!
	# shellcheck disable=SC2086
	timeout 30 "$NICE_PEER" --local 127.0.0.1 --local-sdp-out "$dir/nice.sdp" \
		--remote-sdp "$dir/ours.sdp" --wait-remote 10 --timeout 20 --packets $PACKETS \
		$nice >"$dir/nice.out" 2>"$dir/nice.err" &
	local nice_pid=$!
	PIDS+=("$ours_pid" "$nice_pid")
	wait "$ours_pid"
	local ours_rc=$?
	wait "$nice_pid"
	local nice_rc=$?

	local ok=1
	if [ "$ours_rc" -ne 0 ]; then ok=0; fail "$name: icelab exit $ours_rc"; fi
	if [ "$nice_rc" -ne 0 ]; then ok=0; fail "$name: nice_peer exit $nice_rc"; fi
	if [ -n "$json" ]; then
		if ! python3 - "$dir/ours.out" "$PACKETS" <<'EOF'; then
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
sel = r["selected_pair"]
assert r["result"] == "ok", r["result"]
assert r["state"] in ("connected", "completed"), r["state"]
assert sel and sel["local"]["type"] == "host" and sel["remote"]["type"] == "host", sel
assert sel["local"]["address"].startswith("127.0.0.1:"), sel
assert r["packets"]["sent"] == n and r["packets"]["received"] >= n, r["packets"]
assert sel["packets_received"] >= n and sel["packets_sent"] >= n, sel
EOF
			ok=0; fail "$name: icelab --json output does not show a host pair carrying $PACKETS each way"
		fi
	else
		grep -q '^result: ok$' "$dir/ours.out" || { ok=0; fail "$name: icelab did not report ok"; }
		grep -q '^selected: host 127.0.0.1:[0-9]* -> host 127.0.0.1:[0-9]*' "$dir/ours.out" ||
			{ ok=0; fail "$name: icelab selected no host pair"; }
		grep -q "^packets: sent $PACKETS, received $PACKETS of $PACKETS$" "$dir/ours.out" ||
			{ ok=0; fail "$name: icelab did not send and receive $PACKETS packets"; }
	fi
	grep -q "^nice_peer: ready .*selected host 127.0.0.1:[0-9]* -> host 127.0.0.1:[0-9]*, sent $PACKETS received $PACKETS$" \
		"$dir/nice.out" || { ok=0; fail "$name: libnice not ready with $PACKETS packets each way"; }
	if [ "$ok" -eq 1 ]; then
		echo "ok: $name: $(grep '^nice_peer:' "$dir/nice.out" | sed 's/^nice_peer: //')"
	else
		for f in ours.out ours.err nice.out nice.err; do
			echo "--- $name/$f"
			tail -n 25 "$dir/$f"
		done
	fi
}

run_case full-controlling-vs-libnice-controlled "--controlling" "--controlled"
run_case full-controlled-vs-libnice-controlling "--controlled" "--controlling"
run_case full-controlled-vs-libnice-aggressive "--controlled" "--controlling --aggressive"
run_case lite-vs-libnice-controlling "--lite" "--controlling"
run_case full-vs-libnice-lite "--controlling" "--controlled --lite" json

if [ "$FAILS" -ne 0 ]; then
	echo "ice_libnice: $FAILS failure(s)"
	exit 1
fi
echo "ice_libnice: all cases connected with $PACKETS packets each way"
