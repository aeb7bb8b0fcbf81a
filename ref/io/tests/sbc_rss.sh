#!/usr/bin/env bash
# RSS per idle call of `icelab serve --sbc` (issue #8 §7 (c)): 1000 calls
# of each kind made through ng (offer and answer, no media), VmRSS read
# before and after (sbc_rss.python), the bytes per call printed and held
# under bounds that catch a regression (a per-session SDP scratch was
# ~190 KiB): two legacy phones 4.5 KiB (the issue's target is 4 KiB), a
# legacy phone and an ICE leg 24 KiB, an SDES phone and a plain one
# 12 KiB, a plain phone and a DTLS-SRTP ICE leg 28 KiB.
# Runs in a network namespace of its own (unshare -rn: 4000 media ports
# without touching anyone's); skips (77) where that is not allowed.
cd "$(dirname "$0")/../../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
CALLS=${SBC_RSS_CALLS:-1000}
[ -x "$ICELAB" ] || { echo "FAIL: $ICELAB not built"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
if [ -z "${SBC_RSS_INSIDE:-}" ]; then
	unshare -rn true 2>/dev/null || { echo "SKIP: no network namespace (unshare -rn)"; exit 77; }
	SBC_RSS_INSIDE=1 exec unshare -rn bash "$0" "$@"
fi
ip link set lo up || exit 1
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
fails=0
for kind in legacy:4608 plain:24576 sdes:12288 dtls:28672; do
	name=${kind%:*}
	limit=${kind#*:}
	"$ICELAB" serve --sbc --ng 127.0.0.1:2223 --advertised 127.0.0.1 --allow-private-advertised \
		--bind 127.0.0.1 --port-min 30000 --port-max 39999 --log-level warn 2>"$TMP/$name.log" &
	PID=$!
	for _ in $(seq 50); do
		"$ICELAB" ng 127.0.0.1:2223 ping --timeout 200 >/dev/null 2>&1 && break
		sleep 0.1
	done
	out=$(timeout 120 python3 ref/io/tests/sbc_rss.python "$PID" 127.0.0.1:2223 "$name" "$CALLS")
	kill "$PID"
	wait "$PID"
	PID=
	per=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['per_call_bytes'])" "$out" 2>/dev/null)
	if [ -n "$per" ] && [ "$per" -le "$limit" ]; then
		echo "ok: $name: $per bytes RSS per idle call ($out)"
	else
		echo "FAIL: $name: ${per:-?} bytes per call, limit $limit ($out)"
		cat "$TMP/$name.log"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ] || exit 1
echo "sbc_rss: all within bounds"
