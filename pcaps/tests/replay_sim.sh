#!/usr/bin/env bash
# `icelab pcap replay FILE --sim A,B|all` (issue #7 §5) on our captures:
#   clean_call.pcap (ICE connected, no SDP): open,open connects host-host;
#     symmetric,symmetric fails (no TURN in the capture, so none in the
#     sim); all: 64 cells, each as the RFC 4787/8445 expectation says;
#   ice_failed.pcap (every pair failed: no response, 401, 487): the capture
#     failed, full-cone,full-cone connects: "connects (capture failed)";
#   sip_ice_call.pcap (ICE in SDP, the callee relay-only): candidate types
#     and ufrags from the SDP, TURN over UDP, relay-only gathering for B,
#     signalling delay 250 ms (half the 500 ms offer-answer); connects
#     through a relay even symmetric,symmetric;
#   usage errors exit 2 with one line.
set -uo pipefail
T_NAME=replay_sim
source "$(dirname "$0")/common.bash"
C=pcaps/captures
check "connected, open/open" 0 $PCAP replay $C/clean_call.pcap --sim open,open --json
json "capture connected, sim host-host" 'cap["connected"] and cap["selected"]["nominated"] and cap["controlling"]=="192.0.2.10:40000" and cap["connect_ms"]==55.0 and d["sim"]["mode"]=="no-turn" and c[0]["outcome"]=="host" and c[0]["local_type"]=="host" and c[0]["remote_type"]=="host" and c[0]["same_as_capture"] and c[0]["time_ms"]>0'
check "connected, symmetric/symmetric" 0 $PCAP replay $C/clean_call.pcap --sim symmetric,symmetric --json
json "symmetric pair fails without TURN" 'c[0]["outcome"]=="failed" and not c[0]["connected"] and c[0]["as_expected"] and not c[0]["same_as_capture"]'
check "connected, all" 0 $PCAP replay $C/clean_call.pcap --sim all --json
json "64 cells as expected" 'len(c)==64 and all(x["as_expected"] for x in c) and d["connected"]==sum(x["connected"] for x in c) and 0 < d["connected"] < 64'
check "failed capture" 0 $PCAP replay $C/ice_failed.pcap --sim full-cone,full-cone --json
json "ice_failed: capture failed, sim connects" 'not cap["connected"] and cap["failed_pairs"]=={"no_response":1,"401":1,"487":1,"other":0,"pending":0} and c[0]["connected"] and c[0]["outcome"]=="direct" and not c[0]["same_as_capture"]'
check "failed capture, text" 0 $PCAP replay $C/ice_failed.pcap --sim full-cone,full-cone
grep -q "connects (capture failed)" "$tmp/out" && grep -q "not the NATs'" "$tmp/out" ||
	{ echo "replay_sim: ice_failed text"; cat "$tmp/out"; fail=1; }
check "sdp ice call" 0 $PCAP replay $C/sip_ice_call.pcap --sim symmetric,symmetric --json
json "SDP: types, ufrag, relay-only, delay" 'cap["candidates_a"]=="host+srflx (SDP)" and cap["candidates_b"]=="relay (SDP)" and cap["ufrag_a"]=="aaaa" and cap["ufrag_b"]=="bbbb" and d["sim"]=={"mode":"turn-udp","seed":1,"signal_delay_ms":250,"policy_a":"all","policy_b":"relay-only"} and c[0]["outcome"]=="relay" and c[0]["remote_type"]=="relay"'
check "knobs and seed" 0 $PCAP replay $C/clean_call.pcap --sim symmetric,hairpin=off,cgn --seed 7
grep -q "symmetric,hairpin=off" "$tmp/out" || { echo "replay_sim: knobs"; fail=1; }
for bad in "open" "open,open,open" "foo,open" ",open" "open,"; do
	check "bad --sim '$bad'" 2 $PCAP replay $C/clean_call.pcap --sim "$bad"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "replay_sim: --sim '$bad' error not one line"; fail=1; }
done
check "no ICE" 2 $PCAP replay $C/sip_clean_call.pcap --sim open,open
grep -q "nothing to replay" "$tmp/err" || { echo "replay_sim: no ICE message"; fail=1; }
check "--sim with --target" 2 $PCAP replay $C/clean_call.pcap --sim open,open --target udp://127.0.0.1:27001
check "--seed alone" 2 $PCAP replay $C/clean_call.pcap --seed 3 --target udp://127.0.0.1:27001
check "--sim with analyze" 2 $PCAP analyze $C/clean_call.pcap --sim open,open
[ $fail -eq 0 ] && echo "replay_sim: all checks passed"
exit $fail
