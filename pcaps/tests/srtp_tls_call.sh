#!/usr/bin/env bash
# SRTP authentication (keys from SDES a=crypto and --srtp-key), SIP over
# TLS, and `analyze --call ID` (issue #7 §3, §1, §4), on our captures:
#   srtp_wrong_key.pcap: the caller's 150 packets fail with its SDP key,
#     and pass with the key it really used given as --srtp-key (by SSRC and
#     by flow); srtp_call.pcap: 300 authenticated, the duplicate a replay;
#   bad --srtp-key values: exit 2, one line;
#   sip_tls.pcap: two TLS streams on 5061, records counted, the sip-tls info;
#   --call on sip_two_calls.pcap (the second call one-way): the first call
#     alone has no finding (exit 0), the second keeps its error with the
#     frame numbers of the whole capture; HTML of one call; unknown Call-ID.
set -uo pipefail
T_NAME=srtp_tls_call
source "$(dirname "$0")/common.bash"
S='[s for s in d["stats"]["rtp_streams"] if s["ssrc"]=="0x11110007"][0]["srtp"]'
check "srtp wrong key" 1 $PCAP analyze pcaps/captures/srtp_wrong_key.pcap --json
json "wrong key: 150 fail" "$S[\"auth_failed\"]==150 and $S[\"authenticated\"]==0 and $S[\"key\"]==\"sdp\" and d[\"findings\"][0][\"code\"]==\"srtp-auth-failed\""
# the key the caller really used (gen_more.c: bytes 0x99 + 7 i)
K=$(python3 -c 'import base64; print(base64.b64encode(bytes((0x99 + 7 * i) & 255 for i in range(30))).decode())')
check "srtp-key by ssrc" 0 $PCAP analyze pcaps/captures/srtp_wrong_key.pcap --json --srtp-key "0x11110007:$K"
json "key by ssrc: 150 pass" "$S[\"authenticated\"]==150 and $S[\"auth_failed\"]==0 and $S[\"key\"]==\"option\" and d[\"findings\"]==[]"
check "srtp-key by flow" 0 $PCAP analyze pcaps/captures/srtp_wrong_key.pcap --json \
	--srtp-key "192.0.2.10:4000>198.51.100.20:5000:$K"
json "key by flow: 150 pass" "$S[\"authenticated\"]==150"
check "srtp call" 0 $PCAP analyze pcaps/captures/srtp_call.pcap --json
json "correct call: all pass, one replay" "$S[\"authenticated\"]==150 and $S[\"replayed\"]==1 and $S[\"auth_failed\"]==0 and d[\"findings\"]==[]"
for bad in "0x11110007:abc" "nokey" "host:1:$K" "0x11110007:!!!!"; do
	check "bad --srtp-key $bad" 2 $PCAP analyze pcaps/captures/srtp_call.pcap --srtp-key "$bad"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "srtp_tls_call: --srtp-key error not one line"; fail=1; }
done
check "sip tls" 0 $PCAP stats pcaps/captures/sip_tls.pcap --json
json "tls streams" 'len(d["tls"])==2 and all(t["sip"] for t in d["tls"]) and d["tls"][0]["handshake"]==3 and d["tls"][0]["application_data"]==3 and d["tls"][0]["client_hello_frame"]==4 and d["tls"][1]["records"]==8 and not any(t["broken"] for t in d["tls"]) and d["sip"]["messages"]==0'
check "sip tls analyze" 0 $PCAP analyze pcaps/captures/sip_tls.pcap
grep -q "SIP signalling is encrypted (TLS): calls cannot be analysed" "$tmp/out" ||
	{ echo "srtp_tls_call: sip-tls line"; fail=1; }
# --call: two calls on one signalling 5-tuple, the second one-way
T=pcaps/captures/sip_two_calls.pcap
check "both calls" 1 $PCAP analyze $T --json
json "2 calls, the one-way error" 'len(d["calls"])==2 and len(d["stats"]["rtp_streams"])==3 and d["findings"][0]["code"]=="media-one-way"'
check "--call clean one" 0 $PCAP analyze $T --json --call two-1@192.0.2.10
json "one call, no finding" 'd["call_filter"]=="two-1@192.0.2.10" and len(d["calls"])==1 and d["calls"][0]["call_id"]=="two-1@192.0.2.10" and len(d["stats"]["rtp_streams"])==2 and d["stats"]["sip"]["messages"]==7 and d["findings"]==[] and d["stats"]["frames"]==614 and d["stats"]["datagrams"]["sip"]==7'
check "--call one-way one" 1 $PCAP analyze $T --json --call two-2@192.0.2.10
json "the other call, its finding, same frames" 'len(d["calls"])==1 and [s["ssrc"] for s in d["stats"]["rtp_streams"]]==["0x3333000d"] and d["findings"][0]["frames"][0]==13'
check "--call text" 0 $PCAP analyze $T --call two-1@192.0.2.10
grep -q "restricted to SIP call two-1@192.0.2.10" "$tmp/out" || { echo "srtp_tls_call: --call text"; fail=1; }
check "--call html" 0 $PCAP analyze $T --call two-1@192.0.2.10 --html "$tmp/c.html"
grep -q "two-1@192.0.2.10" "$tmp/c.html" && ! grep -q "two-2@192.0.2.10" "$tmp/c.html" ||
	{ echo "srtp_tls_call: --call html has the other call"; fail=1; }
check "--call unknown" 2 $PCAP analyze $T --call nope
grep -q "no SIP call with Call-ID 'nope' (2 call(s): two-1@192.0.2.10, two-2@192.0.2.10)" "$tmp/err" ||
	{ echo "srtp_tls_call: unknown call"; cat "$tmp/err"; fail=1; }
check "--call with stats" 2 $PCAP stats $T --call two-1@192.0.2.10
[ $fail -eq 0 ] && echo "srtp_tls_call: all checks passed"
exit $fail
