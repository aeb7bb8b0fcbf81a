#!/usr/bin/env bash
# `icelab serve --sbc` with force-relay and SDP crypto translation on
# loopback, driven by `icelab ng` (issue #8 §2, §4, §5):
# - an `icelab serve` TURN server (loopback relay and peers allowed: a lab)
#   is the SBC's --turn-server;
# - an offer with ICE=force-relay: the ng reply is held until the TURN
#   allocation is ready, and the SDP toward leg B has only a relay
#   candidate, on the TURN server's relayed address (c= and m= too), and
#   nothing of the SBC's own port; query shows the relay ready there;
# - a tenant rule of --relay-policy relays a call without the flag; after
#   the rule is removed and SIGHUP, the same offer gets a host candidate;
# - an SDES offer (RTP/SAVP, a=crypto) with transport-protocol=RTP/AVP:
#   the SDP toward the plain leg has RTP/AVP and no a=crypto; the answer
#   back toward the SDES leg has RTP/SAVP and our own a=crypto; query
#   shows the profiles; UDP/TLS/RTP/SAVPF gives a=fingerprint, a=setup;
# - a wrong TURN password: an error reply naming the 401, no SDP.
# Processes stopped by PID. Ports (helper range 29000-29999): TURN 29478,
# relays 29500-29599, ng 29001/29002, media 29100-29299.
cd "$(dirname "$0")/../../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
[ -x "$ICELAB" ] || { echo "FAIL: $ICELAB not built"; exit 1; }
NG=127.0.0.1:29001
NG_BAD=127.0.0.1:29002
TURN=127.0.0.1:29478

TMP=$(mktemp -d)
PIDS=()
fails=0
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
js() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }
wait_pong() {
	for _ in $(seq 50); do
		"$ICELAB" ng "$1" ping --timeout 200 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

"$ICELAB" serve --listen "$TURN" --no-tcp --relay-ip 127.0.0.1 --allow-private-relay \
	--allow-peer 127.0.0.0/8 --min-port 29500 --max-port 29599 --workers 1 \
	--user sbc:s3cret --state-dir "$TMP" --log-level warn 2>"$TMP/turn.log" &
PIDS+=($!)
printf 'force-relay tenant=acme\n' >"$TMP/policy"
"$ICELAB" serve --sbc --ng "$NG" --advertised 127.0.0.1 --allow-private-advertised \
	--bind 127.0.0.1 --port-min 29100 --port-max 29199 --turn-server "$TURN" \
	--turn-user sbc --turn-password s3cret --relay-policy "$TMP/policy" \
	--log-json "$TMP/events.json" 2>"$TMP/sbc.log" &
SBC=$!
PIDS+=($SBC)
"$ICELAB" serve --sbc --ng "$NG_BAD" --advertised 127.0.0.1 --allow-private-advertised \
	--bind 127.0.0.1 --port-min 29200 --port-max 29299 --turn-server "$TURN" \
	--turn-user sbc --turn-password wrong 2>"$TMP/sbc_bad.log" &
PIDS+=($!)
wait_pong "$NG" && wait_pong "$NG_BAD" || { fail "no pong"; cat "$TMP"/*.log; exit 1; }

# Leg A: a legacy phone (plain RTP, no ICE).
printf 'v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 29010 RTP/AVP 0\r\n' >"$TMP/plain.sdp"

# 1. ICE=force-relay.
"$ICELAB" ng "$NG" offer call-id=r1 from-tag=a ICE=force-relay --sdp "$TMP/plain.sdp" \
	--timeout 8000 >"$TMP/r1.json"
rc=$?
sdp=$(js "$TMP/r1.json" 'j.get("sdp","")' | tr -d '\r')
cands=$(grep -c '^a=candidate:' <<<"$sdp")
relay=$(grep '^a=candidate:' <<<"$sdp" | grep -c ' typ relay')
relayed=$(grep '^a=candidate:' <<<"$sdp" | awk '{print $5":"$6}')
rport=${relayed#*:}
if [ $rc -eq 0 ] && [ "$cands" = 1 ] && [ "$relay" = 1 ] && [ "${relayed%:*}" = 127.0.0.1 ] &&
	[ "$rport" -ge 29500 ] && [ "$rport" -le 29599 ]; then
	pass "ICE=force-relay: one candidate, typ relay, on the TURN relay $relayed"
else
	fail "force-relay offer (rc $rc): $sdp $(cat "$TMP/r1.json")"
fi
grep -q "^m=audio $rport " <<<"$sdp" && grep -q '^c=IN IP4 127.0.0.1' <<<"$sdp" &&
	pass "m= on the relayed port $rport" || fail "m= not on the relayed port: $sdp"
grep -Eq ' 291[0-9][0-9] ' <<<"$sdp" && fail "the SBC's own port appears: $sdp" ||
	pass "no SBC media port (29100-29199) in the SDP toward B"
"$ICELAB" ng "$NG" query call-id=r1 >"$TMP/q1.json"
st=$(js "$TMP/q1.json" '[l.get("relay",{}).get("state","-")+"@"+l.get("relay",{}).get("relayed","") for l in j["tags"].values()]')
grep -q "ready@$relayed" <<<"$st" && pass "query: relay $st" || fail "query relay: $st"

# Deleting the call gives the allocation back (a Refresh with lifetime 0)
# from the leg's port before it closes: nothing dropped on the way out.
"$ICELAB" ng "$NG" delete call-id=r1 >/dev/null
"$ICELAB" ng "$NG" statistics >"$TMP/st.json"
[ "$(js "$TMP/st.json" 'j["statistics"]["send drops"]')" = 0 ] &&
	pass "delete: the TURN release left before the port closed (0 send drops)" ||
	fail "send drops after delete: $(cat "$TMP/st.json")"

# 2. The tenant's rule relays without the flag; SIGHUP without the rule: host.
"$ICELAB" ng "$NG" offer call-id=r2 from-tag=a ICE=force tenant=acme --sdp "$TMP/plain.sdp" \
	--timeout 8000 --sdp-only | tr -d '\r' >"$TMP/r2.sdp"
grep -q ' typ relay' "$TMP/r2.sdp" && ! grep -q ' typ host' "$TMP/r2.sdp" &&
	pass "tenant=acme (policy file): relay candidate only" || fail "tenant rule: $(cat "$TMP/r2.sdp")"
grep -q '"event":"force-relay","call-id":"r2".*"decided-by":"tenant"' "$TMP/events.json" &&
	pass "event: force-relay decided by tenant" || fail "no force-relay event for r2"
printf '# no rules\n' >"$TMP/policy"
kill -HUP "$SBC"
sleep 0.3
"$ICELAB" ng "$NG" offer call-id=r3 from-tag=a ICE=force tenant=acme --sdp "$TMP/plain.sdp" \
	--sdp-only | tr -d '\r' >"$TMP/r3.sdp"
grep -q ' typ host' "$TMP/r3.sdp" && ! grep -q ' typ relay' "$TMP/r3.sdp" &&
	pass "after SIGHUP without the rule: host candidate" || fail "after SIGHUP: $(cat "$TMP/r3.sdp")"
printf 'force-relay tenant=\n' >"$TMP/policy" # a bad file: refused, rules kept
kill -HUP "$SBC"
sleep 0.3
grep -q "relay-policy .*keeping the rules in force" "$TMP/sbc.log" &&
	pass "SIGHUP with a bad policy file: refused, logged" || fail "bad policy not logged"

# 3. SDES toward a plain leg.
printf 'v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 29012 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n' >"$TMP/sdes.sdp"
"$ICELAB" ng "$NG" offer call-id=s1 from-tag=a transport-protocol=RTP/AVP --sdp "$TMP/sdes.sdp" \
	--sdp-only | tr -d '\r' >"$TMP/s1.sdp"
grep -q '^m=audio [0-9]* RTP/AVP 0$' "$TMP/s1.sdp" && ! grep -q '^a=crypto' "$TMP/s1.sdp" &&
	pass "SDES offer toward the plain leg: RTP/AVP, no a=crypto" ||
	fail "SDES -> plain: $(cat "$TMP/s1.sdp")"
printf 'v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 29014 RTP/AVP 0\r\n' >"$TMP/ans.sdp"
"$ICELAB" ng "$NG" answer call-id=s1 from-tag=a to-tag=b --sdp "$TMP/ans.sdp" --sdp-only |
	tr -d '\r' >"$TMP/s1a.sdp"
grep -q '^m=audio [0-9]* RTP/SAVP 0$' "$TMP/s1a.sdp" && grep -q '^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' "$TMP/s1a.sdp" &&
	! grep -q 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz' "$TMP/s1a.sdp" &&
	pass "answer toward the SDES leg: RTP/SAVP with our own key" ||
	fail "answer toward SDES: $(cat "$TMP/s1a.sdp")"
"$ICELAB" ng "$NG" query call-id=s1 >"$TMP/qs.json"
prof=$(js "$TMP/qs.json" '" ".join(sorted(l["leg"]+"="+l["profile"]+("/keys:"+l["SRTP"]["rx key"]+","+l["SRTP"]["tx key"] if "SRTP" in l else "") for l in j["tags"].values()))')
[ "$prof" = "A=sdes/keys:yes,yes B=rtp" ] && pass "query: $prof" || fail "query profiles: $prof"
"$ICELAB" ng "$NG" offer call-id=d1 from-tag=a transport-protocol=UDP/TLS/RTP/SAVPF \
	--sdp "$TMP/plain.sdp" --sdp-only | tr -d '\r' >"$TMP/d1.sdp"
grep -q '^m=audio [0-9]* UDP/TLS/RTP/SAVPF 0$' "$TMP/d1.sdp" && grep -q '^a=fingerprint:sha-256 ' "$TMP/d1.sdp" &&
	grep -q '^a=setup:actpass' "$TMP/d1.sdp" && pass "transport-protocol=UDP/TLS/RTP/SAVPF: DTLS-SRTP offer" ||
	fail "DTLS offer: $(cat "$TMP/d1.sdp")"
"$ICELAB" ng "$NG" offer call-id=x1 from-tag=a transport-protocol=RTP/XYZ --sdp "$TMP/plain.sdp" >"$TMP/x1.json"
[ $? -eq 1 ] && grep -q "transport-protocol RTP/XYZ" "$TMP/x1.json" &&
	pass "unknown transport-protocol: error reply" || fail "RTP/XYZ: $(cat "$TMP/x1.json")"

# 4. A wrong TURN password: an error reply with the reason, no SDP, no call.
"$ICELAB" ng "$NG_BAD" offer call-id=f1 from-tag=a ICE=force-relay --sdp "$TMP/plain.sdp" \
	--timeout 8000 >"$TMP/f1.json"
rc=$?
reason=$(js "$TMP/f1.json" 'j.get("error-reason","")')
[ $rc -eq 1 ] && grep -q "401" <<<"$reason" && pass "wrong TURN password: error '$reason'" ||
	fail "wrong password (rc $rc): $(cat "$TMP/f1.json")"
n=$("$ICELAB" ng "$NG_BAD" list | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$n" = 0 ] && pass "the failed call is gone" || fail "calls left: $n"

kill -0 "$SBC" && pass "SBC alive" || fail "SBC died"
[ $fails -eq 0 ] || { echo "--- sbc.log"; cat "$TMP/sbc.log"; echo "--- turn.log"; cat "$TMP/turn.log"; exit 1; }
echo "sbc_relay_crypto: all passed"
