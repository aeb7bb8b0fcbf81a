#!/usr/bin/env bash
# `icelab pcap` as a command: help, usage errors (exit 2, one line),
# unreadable files (exit 2), exit 1 with error findings, JSON shape, and
# the nDPI stun.pcap security finding (frames 150/156 and 151/157, per
# ../shared/captures/PROVENANCE.txt) when that capture is present.
set -uo pipefail
cd "$(dirname "$0")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
	if build/icelab pcap --help >/dev/null 2>&1; then PCAP="build/icelab pcap"
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
[ $fail -eq 0 ] && echo "cli: all checks passed"
exit $fail
