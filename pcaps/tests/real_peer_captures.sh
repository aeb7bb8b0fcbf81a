#!/usr/bin/env bash
# Captures recorded from real peers on loopback (issue #7 §6), analysed by
# `icelab pcap` and cross-checked with tshark:
#  (a) a TURN session against coturn's turnserver (`icelab probe allocate`
#      with turnutils_peer as the echo peer): an allocation, no warning+;
#  (b) a call through rtpengine (ng offer/answer with `icelab ng`, RTP both
#      ways, then leg B goes silent): `media-one-way` naming B as silent;
#  (c) a call through `icelab serve --sbc` (ICE leg with a check, RTP both
#      ways): no finding of severity warning or above.
# Each capture: dumpcap on lo with a port filter, stopped by PID; then the
# findings asserted here, expected_findings.sh and tshark_crosscheck.sh on
# it (their .expected written beside it, without frame numbers).
# REAL_CAPTURES_UPDATE=1 copies the fresh captures, with .expected files
# naming their frames, over pcaps/captures/real_*.
# Ports (helper range): ng 16001/16002, coturn 16010, peer 16020, call legs
# 16101/16102 and 16201/16202; relay and media ports 46000-46299. Every
# process is stopped by PID.
cd "$(dirname "$0")/../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
for c in dumpcap tshark turnserver turnutils_peer rtpengine; do
	command -v $c >/dev/null || { echo "real_peer_captures: $c not installed: skipped"; exit 77; }
done
[ -x "$ICELAB" ] || { echo "real_peer_captures: FAIL: $ICELAB not built"; exit 1; }
TMP=$(mktemp -d /tmp/realcap-XXXXXX)
PIDS=()
fails=0
stop() { # PID: SIGTERM, then wait for it (dumpcap flushes its file on TERM)
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	for p in "${PIDS[@]}"; do stop "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
pass() { echo "real_peer_captures: ok: $*"; }
fail() { echo "real_peer_captures: FAIL: $*"; fails=$((fails + 1)); }

# capture_start NAME FILTER: dumpcap into $TMP/NAME.pcap (classic pcap);
# sets CAP_PID once dumpcap says it is capturing.
capture_start() {
	dumpcap -q -i lo -f "$2" -P -w "$TMP/$1.pcap" >"$TMP/$1.dumpcap" 2>&1 &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	for _ in $(seq 50); do
		# "Capturing on" comes before the filter is live: a short margin,
		# or the session's first datagrams (the 401 challenge) are lost
		grep -q "Capturing on" "$TMP/$1.dumpcap" 2>/dev/null && { sleep 0.5; return 0; }
		sleep 0.1
	done
	# dumpcap -q may say nothing: give it a moment
	sleep 0.5
}
capture_stop() {
	sleep 0.3 # the last datagrams reach the kernel's capture buffer
	stop "$CAP_PID"
	[ -s "$TMP/$1.pcap" ] || fail "$1: no capture written: $(tail -3 "$TMP/$1.dumpcap")"
}
analyze() { # NAME: analyze --json into $TMP/NAME.json
	"$ICELAB" pcap analyze "$TMP/$1.pcap" --json >"$TMP/$1.json" 2>"$TMP/$1.err"
}
# assert NAME MESSAGE PYTHON-EXPR over d (the analyze JSON) and r (extra JSON)
assert() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
r=json.load(open(sys.argv[2])) if sys.argv[2] else {}
w=[f for f in d["findings"] if f["severity"] in ("warning","error")]
assert eval(sys.argv[3]), (d["findings"], r)' "$TMP/$1.json" "${4:-}" "$3" 2>"$TMP/assert.err" &&
		pass "$1: $2" || { fail "$1: $2"; tail -3 "$TMP/assert.err"; }
}

# (a) coturn: Allocate, CreatePermission/ChannelBind, 20 echoes, release.
turnserver --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --allow-loopback-peers --no-cli \
	--no-dtls --no-tls --realm=example.org --log-file=stdout --simple-log -p 16010 \
	--lt-cred-mech --user=alice:secret --min-port=46000 --max-port=46049 \
	--pidfile="$TMP/turnserver.pid" >"$TMP/turnserver.log" 2>&1 &
PIDS+=($!)
TURN_PID=$!
turnutils_peer -L 127.0.0.1 -p 16020 >"$TMP/peer.log" 2>&1 &
PIDS+=($!)
PEER_PID=$!
up=
for _ in $(seq 50); do
	"$ICELAB" probe binding udp://127.0.0.1:16010 --timeout 1 >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
[ -n "$up" ] || fail "coturn does not answer on 127.0.0.1:16010"
# Both ends named: other tests' ephemeral ports may fall in 46000-46999.
capture_start real_coturn_turn "udp port 16010 or (udp portrange 46000-46049 and udp port 16020)"
timeout 30 "$ICELAB" probe allocate turn:127.0.0.1:16010 --user alice --password secret \
	--peer 127.0.0.1:16020 --count 20 --interval 20 --json >"$TMP/probe.json" 2>"$TMP/probe.err" ||
	fail "probe allocate against coturn: $(cat "$TMP/probe.err")"
capture_stop real_coturn_turn
stop "$PEER_PID"
stop "$TURN_PID"
analyze real_coturn_turn
assert real_coturn_turn "an allocation seen (created in the capture, a peer granted, echoes both ways, deleted), no warning+" \
	'len(d["turn_allocations"]) == 1 and d["turn_allocations"][0]["created_in_capture"] and d["turn_allocations"][0]["deleted"] and any(p["ever_granted"] and p["to_peer"] >= 20 and p["from_peer"] >= 20 for p in d["turn_allocations"][0]["peers"]) and not w'
printf '# real_coturn_turn.pcap: findings `icelab pcap analyze` must report; recorded by pcaps/tests/real_peer_captures.sh.\n# code severity frames (evidence that must be listed)\n' >"$TMP/real_coturn_turn.expected"

# (b) rtpengine: 1 s both ways, then leg B silent for 3 s.
rtpengine --config-file=none --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:16001 \
	--port-min=46100 --port-max=46199 --foreground --delete-delay=0 --log-stderr \
	>"$TMP/rtpengine.log" 2>&1 &
PIDS+=($!)
RTPE_PID=$!
# (c) icelab serve --sbc, started now so both get ready together.
"$ICELAB" serve --sbc --ng 127.0.0.1:16002 --advertised 127.0.0.1 --allow-private-advertised \
	--bind 127.0.0.1 --port-min 46200 --port-max 46299 2>"$TMP/icelab.log" &
PIDS+=($!)
SBC_PID=$!
for ng in 127.0.0.1:16001 127.0.0.1:16002; do
	up=
	for _ in $(seq 50); do
		"$ICELAB" ng "$ng" ping --timeout 200 >/dev/null 2>&1 && { up=1; break; }
		sleep 0.1
	done
	[ -n "$up" ] || fail "no pong from $ng"
done
capture_start real_rtpengine_one_way "udp portrange 46100-46199 and (udp port 16101 or udp port 16102)"
REAL_TMP=$TMP timeout 20 python3 pcaps/tests/real_call.python "$ICELAB" 127.0.0.1:16001 rc1 4 1 16101 16102 \
	>"$TMP/rtpe-call.json" 2>"$TMP/rtpe-call.err" || fail "call through rtpengine: $(cat "$TMP/rtpe-call.err")"
capture_stop real_rtpengine_one_way
stop "$RTPE_PID"
analyze real_rtpengine_one_way
# The silent side is leg B (its socket), on B's leg of the relay; on A's
# leg the relay's port toward A goes silent in turn (it has nothing to
# forward): both are media-one-way, both right.
assert real_rtpengine_one_way "media-one-way naming leg B (silent) as the silent side" \
	'any(f["code"] == "media-one-way" and f["severity"] == "error" and f["message"].startswith("One-way media: " + r["b"] + " stopped sending") for f in d["findings"]) and all(f["code"] == "media-one-way" for f in w) and r["received"]["a"] > 0 and r["received"]["b"] >= 150' \
	"$TMP/rtpe-call.json"
python3 - "$TMP/real_rtpengine_one_way.json" >"$TMP/real_rtpengine_one_way.expected" <<'PY'
import json, sys
print("# real_rtpengine_one_way.pcap: findings `icelab pcap analyze` must report; recorded by pcaps/tests/real_peer_captures.sh.")
print("# code severity frames (evidence that must be listed)")
print("# Leg B (127.0.0.1:16102) goes silent after 1 s: B -> rtpengine stops on B's leg, and so")
print("# rtpengine -> A on A's leg (nothing to forward): two media-one-way, both right.")
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["severity"] in ("warning", "error"):
        print(f["code"], f["severity"], ",".join(map(str, f["frames"])))
PY

# (c) icelab serve --sbc: an ICE check on leg B, 50 RTP packets each way.
capture_start real_icelab_sbc_call "udp portrange 46200-46299 and (udp port 16201 or udp port 16202)"
SBC_CALL_PORTS=16201,16202 SBC_TMP=$TMP timeout 20 python3 ref/io/tests/sbc_call.python "$ICELAB" 127.0.0.1:16002 ic1 100 \
	>"$TMP/sbc-call.json" 2>"$TMP/sbc-call.err" || fail "call through icelab: $(cat "$TMP/sbc-call.err")"
capture_stop real_icelab_sbc_call
"$ICELAB" ng 127.0.0.1:16002 delete call-id=ic1 >/dev/null 2>&1
stop "$SBC_PID"
analyze real_icelab_sbc_call
assert real_icelab_sbc_call "RTP both ways on both legs (4 streams), the ICE check answered, no warning+" \
	'len(d["stats"]["rtp_streams"]) == 4 and not w and r["stun_ok"] and r["received"]["a"] >= 90 and r["received"]["b"] >= 90' \
	"$TMP/sbc-call.json"
printf '# real_icelab_sbc_call.pcap: findings `icelab pcap analyze` must report; recorded by pcaps/tests/real_peer_captures.sh.\n# code severity frames (evidence that must be listed)\n' >"$TMP/real_icelab_sbc_call.expected"

caps=("$TMP/real_coturn_turn.pcap" "$TMP/real_rtpengine_one_way.pcap" "$TMP/real_icelab_sbc_call.pcap")
for f in "${caps[@]}"; do
	[ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -lt 300000 ] || fail "$f is 300 KB or more"
done
# Frames are this run's: the fresh .expected files list codes and severities
# only (the committed copies name frames).
sed -i -E 's/^([a-z0-9-]+ [a-z]+) [0-9,]+$/\1/' "$TMP/real_rtpengine_one_way.expected"
bash pcaps/tests/expected_findings.sh "${caps[@]}" || fail "expected_findings on the fresh captures"
bash pcaps/tests/tshark_crosscheck.sh "${caps[@]}" || fail "tshark_crosscheck on the fresh captures"
if [ "${REAL_CAPTURES_UPDATE:-0}" = 1 ] && [ $fails -eq 0 ]; then
	for n in real_coturn_turn real_rtpengine_one_way real_icelab_sbc_call; do
		cp "$TMP/$n.pcap" pcaps/captures/
		python3 - "$TMP/$n.json" "$TMP/$n.expected" >"pcaps/captures/$n.expected" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[2]) if l.startswith("#")]
print("".join(lines), end="")
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["severity"] in ("warning", "error"):
        print(f["code"], f["severity"], ",".join(map(str, f["frames"][:2])))
PY
	done
	echo "real_peer_captures: pcaps/captures/real_* rewritten"
fi
[ $fails -eq 0 ] || exit 1
echo "real_peer_captures: all passed"
