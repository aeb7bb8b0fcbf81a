#!/usr/bin/env bash
# `icelab pcap` as a command: help, usage errors (exit 2, one line),
# unreadable files (exit 2), exit 1 with error findings, JSON shape, and
# the nDPI stun.pcap security finding (frames 150/156 and 151/157, per
# ../shared/captures/PROVENANCE.txt) when that capture is present.
set -uo pipefail
cd "$(dirname "$0")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
	# build/icelab when it is at least as new as the stand-alone build of
	# the same cli/pcap_cmd.c (a stale binary would test old code)
	if build/icelab pcap --help >/dev/null 2>&1 &&
		! [ build/pcaps/tests/pcap_main -nt build/icelab ]; then PCAP="build/icelab pcap"
	else PCAP="build/pcaps/tests/pcap_main"; fi
fi
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # name, expected status, command...
	local name=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "cli: $name: exit $rc, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1
	fi
}
check "help" 0 $PCAP --help
grep -q "usage: icelab pcap stats" "$tmp/out" || { echo "cli: help text"; fail=1; }
check "no arguments" 2 $PCAP
check "unknown sub-command" 2 $PCAP frobnicate pcaps/captures/clean_call.pcap
check "unknown option" 2 $PCAP stats --bogus pcaps/captures/clean_call.pcap
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "cli: usage error is not one line"; fail=1; }
check "missing file" 2 $PCAP stats "$tmp/none.pcap"
grep -q "none.pcap" "$tmp/err" || { echo "cli: missing file not named"; fail=1; }
printf 'not a capture at all\n' >"$tmp/text.pcap"
check "not a capture" 2 $PCAP analyze "$tmp/text.pcap"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "cli: bad file error is not one line"; fail=1; }
# a capture cut in the middle of a packet: analysed up to the cut
head -c 3000 pcaps/captures/one_way_media.pcap >"$tmp/cut.pcap"
check "truncated capture" 0 $PCAP stats "$tmp/cut.pcap"
check "stats" 0 $PCAP stats pcaps/captures/clean_call.pcap
grep -q "ssrc 0x11111111 pt 8 packets 300 lost 0" "$tmp/out" || { echo "cli: stats text"; fail=1; }
check "analyze clean" 0 $PCAP analyze pcaps/captures/clean_call.pcap --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["findings"]==[] and d["stats"]["frames"]==624 and len(d["ice_pairs"])==2 and d["dtls"][0]["completed"]' "$tmp/out" ||
	{ echo "cli: analyze JSON of clean_call"; fail=1; }
check "analyze finds errors" 1 $PCAP analyze pcaps/captures/one_way_media.pcap
# SIP: over WebSocket (RFC 7118) and TCP (several messages per segment,
# one across two), the call model, RTCP report blocks.
check "sip websocket" 0 $PCAP analyze pcaps/captures/sip_websocket.pcap --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["stats"]["sip"]; c=d["calls"][0]; assert s["over_websocket"]==5 and s["sdp"]==2 and len(d["calls"])==1 and c["final"]==200 and c["bye_frame"] and c["media"][0][0]["rtp_sent"]==150 and c["media"][0][1]["rtp_sent"]==150' "$tmp/out" ||
	{ echo "cli: SIP over WebSocket"; fail=1; }
check "sip tcp" 0 $PCAP analyze pcaps/captures/sip_private_sdp.pcap --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["stats"]["sip"]; c=d["calls"][0]; assert s["over_tcp"]==5 and [x["kind"] for x in c["sdp"]]==["offer","answer"] and c["sdp"][0]["origin"]=="192.168.1.10"' "$tmp/out" ||
	{ echo "cli: SIP over TCP"; fail=1; }
check "rtcp reports" 0 $PCAP analyze pcaps/captures/sip_clean_call.pcap --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r={x["reporter_ssrc"]:x for x in d["rtcp_reports"]}; x=r["0x22220002"]; assert d["stats"]["rtcp"]["sr"]==2 and x["source_ssrc"]=="0x11110001" and x["cumulative_lost"]==6 and abs(x["fraction_lost"]-13/256)<1e-9 and d["findings"]==[]' "$tmp/out" ||
	{ echo "cli: RTCP report blocks"; fail=1; }
check "analyze text with calls" 1 $PCAP analyze pcaps/captures/sip_one_way.pcap
grep -q "SIP calls: 1" "$tmp/out" && grep -q "m0 callee 198.51.100.20:5000 sendrecv: RTP sent 0" "$tmp/out" ||
	{ echo "cli: call summary text"; fail=1; }
shared=${SHARED_CAPTURES:-../shared/captures}
[ -d "$shared" ] || shared=/work/shared/captures
if [ -f "$shared/ndpi__stun.pcap" ]; then
	check "nDPI stun.pcap" 1 $PCAP analyze "$shared/ndpi__stun.pcap" --json
	python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
sec = [x for x in f if x["code"] == "turn-permission-internal-peer"]
loop = [x for x in sec if "127.0.0.1" in x["message"]]
priv = [x for x in sec if "192.168.8.153" in x["message"]]
ok = (loop and {151, 157} <= set(loop[0]["frames"]) and loop[0]["severity"] == "error"
      and priv and {150, 156} <= set(priv[0]["frames"]))
if not ok:
    print("cli: nDPI stun.pcap: security findings missing or wrong:", sec)
    sys.exit(1)
PY
else
	echo "cli: ../shared/captures/ndpi__stun.pcap absent: skipped"
fi
# SIP over IPv6 with fragments through a proxy that rewrites SDP (sngrep's
# ipv6frag.pcap): one call, offer/answer on both legs, 200 then BYE; all
# addresses are ULA (private) on both sides, so no SDP finding.
if [ -f "$shared/sngrep__ipv6frag.pcap" ]; then
	check "sngrep ipv6frag" 0 $PCAP analyze "$shared/sngrep__ipv6frag.pcap" --json
	python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
s, calls = d["stats"]["sip"], d["calls"]
ok = (s["messages"] == 32 and s["requests"] == 14 and len(calls) == 1 and
      calls[0]["final"] == 200 and calls[0]["final_frame"] == 26 and calls[0]["bye_frame"] == 31 and
      calls[0]["bye_ok_frame"] == 33 and calls[0]["sdp"][0]["kind"] == "offer" and
      calls[0]["sdp"][2]["kind"] == "answer" and d["findings"] == [])
if not ok:
    print("cli: sngrep ipv6frag: SIP model wrong:", s, calls[0] if calls else None)
    sys.exit(1)
PY
	tshark_sip=$(tshark -r "$shared/sngrep__ipv6frag.pcap" -Y sip 2>/dev/null | wc -l)
	[ "$tshark_sip" -eq 32 ] || { echo "cli: tshark sees $tshark_sip SIP messages, we 32"; fail=1; }
else
	echo "cli: ../shared/captures/sngrep__ipv6frag.pcap absent: skipped"
fi
# sipp's g711a.pcap: RTP alone, no SIP: no call, and the stream judged
# without SDP (the reverse 5-tuple is silent).
if [ -f "$shared/sipp__g711a.pcap" ]; then
	check "sipp g711a" 1 $PCAP analyze "$shared/sipp__g711a.pcap" --json
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["calls"]==[] and d["stats"]["sip"]["messages"]==0 and [f["code"] for f in d["findings"]]==["media-one-way"] and d["findings"][0]["frames"]==[1,236]' "$tmp/out" ||
		{ echo "cli: sipp g711a"; fail=1; }
else
	echo "cli: ../shared/captures/sipp__g711a.pcap absent: skipped"
fi
[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
