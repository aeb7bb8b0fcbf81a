#!/usr/bin/env bash
# The same ng offer given to rtpengine (Debian rtpengine-daemon, userspace,
# on loopback) and to `icelab serve --sbc` (issue #8 §6, the differential
# peer), both driven with `icelab ng`: the client speaks to both, and the
# SDP out is compared line by line in structure.
#
# Expected, and asserted (the differences are the point):
# - both put c= on their own address and offer ICE credentials and
#   candidates toward the ICE leg (ICE=force);
# - icelab is ICE-lite there (a=ice-lite), rtpengine with ICE=force is a
#   full agent (no a=ice-lite) unless asked with ICE-lite=forward;
# - rtpengine leaves the phone's private address in o= unless told
#   replace=origin (the leak issue #8 names); icelab never writes it;
# - latching: an intruder sending A's SSRC to A's bridge port after both
#   legs latched gets nothing from icelab (printed for rtpengine: 10.5
#   follows it, B's audio goes to the intruder).
# Ports: ng 22003 (rtpengine) and 22004 (icelab), media 41000-41199.
cd "$(dirname "$0")/../../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
command -v rtpengine >/dev/null || { echo "SKIP: rtpengine not installed"; exit 77; }
[ -x "$ICELAB" ] || { echo "FAIL: $ICELAB not built"; exit 1; }
TMP=$(mktemp -d)
RPID=
IPID=
fails=0
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null && wait "$IPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

rtpengine --config-file=none --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:22003 \
	--port-min=41000 --port-max=41099 --foreground --delete-delay=0 --log-stderr \
	>"$TMP/rtpengine.log" 2>&1 &
RPID=$!
"$ICELAB" serve --sbc --ng 127.0.0.1:22004 --advertised 127.0.0.1 --allow-private-advertised \
	--bind 127.0.0.1 --port-min 41100 --port-max 41199 2>"$TMP/icelab.log" &
IPID=$!
for ng in 127.0.0.1:22003 127.0.0.1:22004; do
	up=
	for _ in $(seq 50); do
		"$ICELAB" ng "$ng" ping --timeout 200 >/dev/null 2>&1 && { up=1; break; }
		sleep 0.1
	done
	[ -n "$up" ] || { echo "FAIL: no pong from $ng"; cat "$TMP"/*.log; exit 1; }
done
pass "both answer ping over ng"

printf 'v=0\r\no=phone 1001 1 IN IP4 192.168.1.10\r\ns=call\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n' >"$TMP/phone.sdp"
offer() { # ng-address call-id extra-args... -> SDP on stdout
	local ng=$1 call=$2
	shift 2
	"$ICELAB" ng "$ng" offer "call-id=$call" from-tag=phone "$@" --sdp "$TMP/phone.sdp" --sdp-only |
		tr -d '\r'
}
offer 127.0.0.1:22003 d1 ICE=force >"$TMP/rtpe.sdp"
offer 127.0.0.1:22004 d1 ICE=force >"$TMP/icelab.sdp"
offer 127.0.0.1:22003 d2 ICE=force replace=origin >"$TMP/rtpe-replace.sdp"
offer 127.0.0.1:22003 d3 ICE=force ICE-lite=forward >"$TMP/rtpe-lite.sdp"
for f in rtpe icelab; do
	[ -s "$TMP/$f.sdp" ] || { fail "$f: no SDP"; continue; }
	grep -q '^c=IN IP4 127.0.0.1$' "$TMP/$f.sdp" && pass "$f: c= on its own address" ||
		fail "$f: c= $(grep '^c=' "$TMP/$f.sdp")"
	grep -q '^a=ice-ufrag:' "$TMP/$f.sdp" && grep -q '^a=ice-pwd:' "$TMP/$f.sdp" &&
		grep -q '^a=candidate:.* 127.0.0.1 .* typ host' "$TMP/$f.sdp" &&
		pass "$f: ICE credentials and a host candidate toward the ICE leg" ||
		fail "$f: ICE attributes missing"
done
grep -q '^a=ice-lite' "$TMP/icelab.sdp" && pass "icelab: a=ice-lite" || fail "icelab: no a=ice-lite"
grep -q '^a=ice-lite' "$TMP/rtpe.sdp" && fail "rtpengine ICE=force claims ice-lite" ||
	pass "rtpengine ICE=force: a full ICE agent (no a=ice-lite): a difference"
grep -q '^a=ice-lite' "$TMP/rtpe-lite.sdp" && pass "rtpengine ICE-lite=forward: a=ice-lite" ||
	fail "rtpengine ICE-lite=forward: no a=ice-lite"
grep -q '192\.168\.1\.10' "$TMP/icelab.sdp" && fail "icelab leaks 192.168.1.10" ||
	pass "icelab: the phone's private address appears nowhere"
if grep -q '^o=.*192\.168\.1\.10' "$TMP/rtpe.sdp"; then
	pass "rtpengine: o= keeps the private 192.168.1.10 without replace=origin: a difference"
else
	fail "rtpengine: o= is $(grep '^o=' "$TMP/rtpe.sdp") (the documented leak changed?)"
fi
grep -q '192\.168\.1\.10' "$TMP/rtpe-replace.sdp" &&
	fail "rtpengine replace=origin still leaks" || pass "rtpengine replace=origin: no leak"
# The structure side by side (for the log): the kinds of lines each writes.
kinds() { sed -E 's/^(a=[a-z-]+|[a-z]=).*/\1/' "$1" | sort -u | tr '\n' ' '; }
echo "rtpengine lines: $(kinds "$TMP/rtpe.sdp")"
echo "icelab lines:    $(kinds "$TMP/icelab.sdp")"
for ng in 127.0.0.1:22003 127.0.0.1:22004; do
	"$ICELAB" ng "$ng" delete call-id=d1 >/dev/null || fail "delete on $ng"
done

# Latching (RTP Bleed): an intruder with A's SSRC after both legs latched.
SBC_TMP=$TMP timeout 20 python3 ref/io/tests/sbc_bleed.python "$ICELAB" 127.0.0.1:22003 b1 \
	>"$TMP/bleed-rtpe.json" || fail "bleed script against rtpengine"
SBC_TMP=$TMP timeout 20 python3 ref/io/tests/sbc_bleed.python "$ICELAB" 127.0.0.1:22004 b1 \
	>"$TMP/bleed-icelab.json" || fail "bleed script against icelab"
echo "rtpengine, intruder after latching: $(cat "$TMP/bleed-rtpe.json")"
echo "icelab,    intruder after latching: $(cat "$TMP/bleed-icelab.json")"
python3 - "$TMP/bleed-icelab.json" <<'EOF2' && pass "icelab: the intruder gets nothing, A keeps B's audio" ||
import json, sys
j = json.load(open(sys.argv[1]))
assert j["intruder_got"] == 0 and j["a_got"] >= 15 and j["b_got"] == 0, j
EOF2
	fail "icelab followed the intruder: $(cat "$TMP/bleed-icelab.json")"
[ $fails -eq 0 ] || exit 1
echo "sbc_vs_rtpengine: all passed"
