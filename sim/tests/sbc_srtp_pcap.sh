#!/usr/bin/env bash
# The SRTP key-mismatch call of the simulator (test_sbc_srtp_sim) as a
# capture, judged by `icelab pcap analyze`: the SDES phone's RTP (seen
# after its NAT) and the plain phone's reach the bridge, and nothing comes
# back on either leg, because the bridge drops every packet that fails
# SRTP authentication and so never learns where the phone is. Skips (77)
# when the binaries are not built.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
SIM_TEST=${SIM_TEST:-build/sim/tests/test_sbc_srtp_sim}
if [ ! -x "$ICELAB" ] || [ ! -x "$SIM_TEST" ]; then
	echo "skip: $ICELAB or $SIM_TEST not built"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SBC_SRTP_PCAP=$tmp/mismatch.pcap "$SIM_TEST" >"$tmp/test.txt" 2>&1 || {
	cat "$tmp/test.txt"
	exit 1
}
rc=0
"$ICELAB" pcap analyze "$tmp/mismatch.pcap" >"$tmp/analysis.txt" 2>&1 || rc=$?
fail() {
	cat "$tmp/analysis.txt"
	echo "sbc_srtp_pcap: $1" >&2
	exit 1
}
# analyze exits 1 when it has error findings: here it must.
[ "$rc" -eq 1 ] || fail "icelab pcap analyze exited $rc, not 1"
grep -q "media-one-way: One-way media: 203.0.113.2:[0-9]* sends RTP to 198.51.100.1:40000 .* 198.51.100.1:40000 is silent for the whole capture" \
	"$tmp/analysis.txt" || fail "no one-way finding for the SRTP phone's leg"
grep -q "media-one-way: One-way media: 192.0.2.1:6000 sends RTP to 198.51.100.1:40002 .* 198.51.100.1:40002 is silent" \
	"$tmp/analysis.txt" || fail "no one-way finding for the plain phone's leg"
grep -q "ssrc 0x5a5a0001 pt 0" "$tmp/analysis.txt" || fail "the SRTP phone's stream is not listed"
echo "sbc_srtp_pcap: the mismatch call is one-way on both legs in the capture"
