#!/usr/bin/env bash
# SRTP authentication (keys from SDES a=crypto and --srtp-key), SIP over
# TLS, and `analyze --call ID` (issue #7 §3, §1, §4), on our captures:
#   srtp_wrong_key.pcap: the caller's 150 packets fail with its SDP key,
#     and pass with the key it really used given as --srtp-key (by SSRC and
#     by flow); srtp_call.pcap: 300 authenticated, the duplicate a replay;
#   bad --srtp-key values: exit 2, one line;
#   sip_tls.pcap: two TLS streams on 5061, records counted, the sip-tls info;
#   --call on a bench capture of several calls: one call, its two streams,
#     its five SIP messages, frame numbers of the whole capture.
set -uo pipefail
cd "$(dirname "$0")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
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
		echo "srtp_tls_call: $name: exit $rc, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1
	fi
}
json() { # name, python assertion over d
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert $2, d" "$tmp/out" \
		>/dev/null 2>"$tmp/pyerr" || { echo "srtp_tls_call: $1"; tail -1 "$tmp/pyerr"; fail=1; }
}
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
# --call: a bench capture of 11 calls with distinct media addresses
if [ -x build/bench/pcap/gen_bench ]; then
	build/bench/pcap/gen_bench "$tmp/calls.pcap" 1 4 >/dev/null
	check "all calls" 0 $PCAP analyze "$tmp/calls.pcap" --json
	json "11 calls" 'len(d["calls"])==11 and len(d["stats"]["rtp_streams"])==22'
	check "--call" 0 $PCAP analyze "$tmp/calls.pcap" --json --call bench-1@example.com
	json "one call" 'd["call_filter"]=="bench-1@example.com" and len(d["calls"])==1 and d["calls"][0]["call_id"]=="bench-1@example.com" and len(d["stats"]["rtp_streams"])==2 and d["stats"]["sip"]["messages"]==5 and d["calls"][0]["invite_frame"]>1'
	check "--call text" 0 $PCAP analyze "$tmp/calls.pcap" --call bench-1@example.com
	grep -q "restricted to SIP call bench-1@example.com" "$tmp/out" || { echo "srtp_tls_call: --call text"; fail=1; }
	check "--call html" 0 $PCAP analyze "$tmp/calls.pcap" --call bench-1@example.com --html "$tmp/c.html"
	grep -q "bench-1@example.com" "$tmp/c.html" && ! grep -q "bench-2@example.com" "$tmp/c.html" ||
		{ echo "srtp_tls_call: --call html has other calls"; fail=1; }
	check "--call unknown" 2 $PCAP analyze "$tmp/calls.pcap" --call nope
	grep -q "no SIP call with Call-ID 'nope' (11 call(s)" "$tmp/err" || { echo "srtp_tls_call: unknown call"; fail=1; }
	check "--call with stats" 2 $PCAP stats "$tmp/calls.pcap" --call bench-1@example.com
else
	echo "srtp_tls_call: build/bench/pcap/gen_bench not built (make bench-pcap-build): --call checks skipped"
fi
[ $fail -eq 0 ] && echo "srtp_tls_call: all checks passed"
exit $fail
