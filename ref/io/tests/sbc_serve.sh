#!/usr/bin/env bash
# `icelab serve --sbc` on loopback, driven by `icelab ng` (issue #8 §5):
# ping; an offer/answer between a legacy leg and an ICE leg (an ICE-lite
# offer toward the ICE leg, the advertised address and never the bind
# address in the SDP); a connectivity check answered; RTP both ways, seen
# in `query`; a garbage control datagram does not stop the server; SIGHUP
# with a new advertised address used by the next offer; a private one
# refused with a log line while the old one is kept; delete frees the
# call. The server is stopped by PID. Ports: ng 22001, media 40100-40199.
cd "$(dirname "$0")/../../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
NG=127.0.0.1:22001
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
[ -x "$ICELAB" ] || { echo "FAIL: $ICELAB not built"; exit 1; }

TMP=$(mktemp -d)
PID=
fails=0
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
js() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }

cat >"$TMP/sbc.conf" <<EOF
# advertised address: rewritten below, then SIGHUP
advertised = 127.0.0.1
allow-private-advertised = true
EOF
"$ICELAB" serve --sbc --config conf/icelab-sbc.conf --check-config >/dev/null &&
	pass "conf/icelab-sbc.conf: configuration ok" || fail "conf/icelab-sbc.conf refused"
# A private address without the allow flag is refused at start (exit 2).
if "$ICELAB" serve --sbc --advertised 10.1.2.3 --ng "$NG" --port-min 40100 --port-max 40199 \
	>/dev/null 2>"$TMP/refused.err"; then
	fail "a private advertised address was accepted at start"
elif grep -q "private or loopback" "$TMP/refused.err"; then
	pass "start: private advertised refused: $(head -1 "$TMP/refused.err")"
else
	fail "start: no clear refusal: $(cat "$TMP/refused.err")"
fi

"$ICELAB" serve --sbc --config "$TMP/sbc.conf" --ng "$NG" --bind 127.0.0.1 \
	--port-min 40100 --port-max 40199 --log-json "$TMP/events.json" 2>"$TMP/serve.log" &
PID=$!
for _ in $(seq 50); do
	"$ICELAB" ng "$NG" ping --timeout 200 >"$TMP/ping.json" 2>/dev/null && break
	sleep 0.1
done
if [ "$(js "$TMP/ping.json" 'j["result"]')" = pong ]; then pass "ping: pong"; else
	fail "no pong"; cat "$TMP/serve.log"; exit 1; fi

# The call: leg A legacy, leg B ICE.
SBC_TMP=$TMP timeout 30 python3 ref/io/tests/sbc_call.python "$ICELAB" "$NG" call-1 50 \
	>"$TMP/call.json" || fail "the call script failed"
R="$TMP/call.json"
if [ -s "$R" ]; then
	to_b=$(js "$R" 'j["sdp_to_b"]')
	to_a=$(js "$R" 'j["sdp_to_a"]')
	grep -q "^a=ice-lite" <<<"$to_b" && grep -q "^a=ice-ufrag:" <<<"$to_b" &&
		pass "offer toward the ICE leg: ICE-lite" || fail "no ICE-lite toward B: $to_b"
	grep -q "^a=ice" <<<"$to_a" && fail "ICE attributes toward the legacy leg" ||
		pass "answer toward the legacy leg: no ICE"
	grep -q "^c=IN IP4 127.0.0.1" <<<"$to_b" && pass "offer: c= on the advertised address" ||
		fail "offer c= line: $to_b"
	[ "$(js "$R" 'j["stun_ok"]')" = True ] && pass "ICE check answered (success response)" ||
		fail "no success response to the check"
	ra=$(js "$R" 'j["received"]["a"]')
	rb=$(js "$R" 'j["received"]["b"]')
	[ "$ra" -ge 45 ] && [ "$rb" -ge 45 ] && pass "RTP both ways: A got $ra/50, B got $rb/50" ||
		fail "RTP: A got $ra, B got $rb"
	q='j["query"]["tags"]'
	ta=$(js "$R" "$q[\"phone-a\"][\"rx\"][\"packets\"], $q[\"phone-a\"][\"tx\"][\"packets\"]")
	tb=$(js "$R" "$q[\"web-b\"][\"rx\"][\"packets\"], $q[\"web-b\"][\"tx\"][\"packets\"]")
	read -r arx atx <<<"$ta"
	read -r brx btx <<<"$tb"
	if [ "$arx" -ge 45 ] && [ "$atx" -ge 45 ] && [ "$brx" -ge 45 ] && [ "$btx" -ge 45 ]; then
		pass "query: leg A rx/tx $arx/$atx, leg B rx/tx $brx/$btx"
	else
		fail "query counters: A $ta, B $tb"
	fi
	[ "$(js "$R" "$q[\"web-b\"][\"ICE\"]")" = ice-lite ] &&
		[ "$(js "$R" "$q[\"web-b\"][\"selected pair\"][\"remote\"][\"address\"]")" = 127.0.0.1 ] &&
		pass "query: leg B ICE-lite with a selected pair" || fail "query: leg B ICE state"
	[ "$(js "$R" 'j["query"]["state"]')" = connected ] && pass "query: state connected" ||
		fail "query state $(js "$R" 'j["query"]["state"]')"
fi
grep -q "call call-1 pair@connected a=rtp .* b=ice " "$TMP/serve.log" &&
	pass "log: $(grep -o 'call call-1 pair@connected.*' "$TMP/serve.log")" ||
	fail "no pair@connected log line"
python3 - "$TMP/events.json" <<'EOF' && pass "events: one JSON object a line, media-connected among them" || fail "events.json"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
names = [e["event"] for e in events]
assert "media-connected" in names and "call-created" in names, names
EOF

# Garbage on the control socket: an error reply when there is a cookie,
# silence without one; the server still answers ping.
python3 - "$NG" <<'EOF' >"$TMP/garbage.out"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for junk in (b"\xff\x00garbage", b"ck1 d7:command", b"ck2 i5e", b"ck3 d3:fooi1ee"):
    s.sendto(junk, (host, int(port)))
replies = []
for _ in range(3):
    try:
        replies.append(s.recv(4096))
    except socket.timeout:
        break
print(b"|".join(replies).decode(errors="replace"))
EOF
grep -q "ck1 d6:result5:error" "$TMP/garbage.out" && grep -q "ck3 .*No command" "$TMP/garbage.out" &&
	pass "garbage: error replies ($(cut -c1-80 "$TMP/garbage.out"))" ||
	fail "garbage replies: $(cat "$TMP/garbage.out")"
"$ICELAB" ng "$NG" ping >/dev/null && pass "ping after garbage" || fail "no pong after garbage"
"$ICELAB" ng "$NG" answer call-id=nope from-tag=x sdp=v=0 >"$TMP/nope.json"
[ $? -eq 1 ] && [ "$(js "$TMP/nope.json" 'j["error-reason"]')" = "Unknown call-id" ] &&
	pass "answer to an unknown call: error, exit 1" || fail "unknown call: $(cat "$TMP/nope.json")"

offer_c() { # call-id -> the c= line of the offer toward B
	printf 'v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n' >"$TMP/o.sdp"
	"$ICELAB" ng "$NG" offer "call-id=$1" from-tag=t --sdp "$TMP/o.sdp" --sdp-only | grep '^c=' | tr -d '\r'
}
# SIGHUP: a new advertised address for new calls.
sed -i 's/^advertised = .*/advertised = 127.0.0.2/' "$TMP/sbc.conf"
kill -HUP "$PID"
sleep 0.3
c=$(offer_c call-2)
[ "$c" = "c=IN IP4 127.0.0.2" ] && pass "SIGHUP: a new offer advertises 127.0.0.2" ||
	fail "after SIGHUP: '$c'"
# SIGHUP with a private address and no allow flag: refused, old one kept.
printf 'advertised = 10.9.8.7\nallow-private-advertised = false\n' >"$TMP/sbc.conf"
kill -HUP "$PID"
sleep 0.3
c=$(offer_c call-3)
[ "$c" = "c=IN IP4 127.0.0.2" ] && pass "SIGHUP: private 10.9.8.7 refused, 127.0.0.2 kept" ||
	fail "after a refused SIGHUP: '$c'"
grep -q "advertised 10.9.8.7 refused: private or loopback" "$TMP/serve.log" &&
	pass "log: $(grep -o 'reload: advertised 10.9.8.7 refused.*' "$TMP/serve.log")" ||
	fail "no refusal log line"

"$ICELAB" ng "$NG" statistics >"$TMP/stats.json"
[ "$(js "$TMP/stats.json" 'j["statistics"]["datagrams in"] >= 100 and j["statistics"]["send drops"] == 0')" = True ] &&
	pass "statistics: $(js "$TMP/stats.json" 'j["statistics"]')" || fail "statistics: $(cat "$TMP/stats.json")"
"$ICELAB" ng "$NG" delete call-id=call-1 >/dev/null && pass "delete call-1" || fail "delete"
n=$("$ICELAB" ng "$NG" list | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$n" = 2 ] && pass "list: 2 calls left" || fail "list count $n"
kill -0 "$PID" 2>/dev/null && pass "server alive" || fail "server died"
kill "$PID"
wait "$PID"
rc=$?
PID=
[ $rc -eq 0 ] && pass "clean stop" || fail "stop: exit $rc"
grep -q '"event":"call-deleted","call-id":"call-2","reason":"shutdown"' "$TMP/events.json" &&
	pass "shutdown ends the calls" || fail "no shutdown events"
[ $fails -eq 0 ] || { echo "--- serve.log"; cat "$TMP/serve.log"; exit 1; }
echo "sbc_serve: all passed"
