#!/usr/bin/env bash
# A short libFuzzer run of the parser targets pcaps_sip_sdp,
# pcaps_rtp_rtcp and pcaps_srtp_tls (pcaps/fuzz/), seeded with inputs written here (SIP with
# SDP and ICE candidates, multipart, RTP with CSRC/extension/padding,
# compound RTCP with report blocks, BYE reason, XR); kept crashes in
# pcaps/tests/fuzz/regressions/TARGET/ are replayed first.
# usage: smoke_parsers.sh BINDIR WORKDIR TARGET...   (FUZZ_SMOKE_SECONDS)
set -uo pipefail
cd "$(dirname "$0")/../../.."
bindir=$1; work=$2; shift 2
seconds=${FUZZ_SMOKE_SECONDS:-20}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "$@"; do
	bin="$bindir/pcaps_$t"; dir="$work/pcaps_$t"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	if compgen -G "pcaps/tests/fuzz/regressions/$t/*" >/dev/null; then
		"$bin" pcaps/tests/fuzz/regressions/$t/* >"$dir/replay.log" 2>&1 ||
			{ cat "$dir/replay.log"; echo "pcaps-fuzz: $t regression FAILED"; status=1; continue; }
	fi
	python3 - "$t" "$dir/corpus" <<'PY'
import os, struct, sys
t, out = sys.argv[1:]
def w(name, data):
    open(os.path.join(out, name), "wb").write(data)
if t == "sip_sdp":
    sdp = ("v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
           "m=audio 4000 RTP/AVP 8\r\na=sendonly\r\na=ice-ufrag:abcd\r\n"
           "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
           "a=candidate:1 1 UDP 2130706431 192.0.2.1 4000 typ host\r\n"
           "m=video 0 RTP/AVP 96\r\nc=IN IP6 2001:db8::1\r\na=inactive\r\n")
    inv = ("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n"
           "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:b@example.com>\r\ni: c1@x\r\n"
           "CSeq: 1 INVITE\r\nc: application/sdp\r\nl: %d\r\n\r\n%s" % (len(sdp), sdp))
    w("invite", inv.encode())
    ok = inv.replace("INVITE sip:b@example.com SIP/2.0", "SIP/2.0 200 OK", 1)
    w("ok", ok.encode())
    mp = ("SIP/2.0 183 Session Progress\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@x>;tag=a1\r\n"
          "To: <sip:b@x>;tag=b1\r\nContent-Type: multipart/mixed;boundary=zz\r\n\r\n"
          "--zz\r\nContent-Type: application/sdp\r\n\r\n%s--zz--\r\n" % sdp)
    w("multipart", mp.encode())
    w("bye", b"BYE sip:b@x SIP/2.0\r\nCall-ID: c1@x\r\nCSeq: 2 BYE\r\nFrom: <sip:a@x>;tag=a1\r\n\r\n")
elif t == "srtp_tls":
    w("crypto", b"1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^31")
    w("crypto_mki", b"2 AES_256_CM_HMAC_SHA1_32 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdA==|2^20|1:4")
    w("key", b"0x11110007:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd")
    w("tls", bytes([22, 3, 1, 0, 4, 1, 0, 0, 0, 23, 3, 3, 0, 2, 0xaa, 0xbb, 21, 3, 3, 0, 2, 2, 40]))
    w("srtp", bytes([0x80, 8, 0, 1, 0, 0, 0, 160, 0x11, 0x11, 0, 7]) + b"\xd5" * 20 + b"\x01" * 10)
else:
    hdr = bytes([0x80 | 0x20 | 0x10 | 2, 8]) + struct.pack(">HII", 7, 160, 0x11111111)
    rtp = hdr + struct.pack(">II", 1, 2) + struct.pack(">HH", 0xbede, 1) + b"\x10\xaa\x00\x00" + b"\xd5" * 20 + b"\x00\x00\x03"
    w("rtp", rtp)
    sr = struct.pack(">BBHI", 0x81, 200, 12, 0x11111111) + b"\x00" * 20 + struct.pack(">IBBHIIII", 0x22222222, 13, 0, 6, 70000, 40, 0, 0)
    sdes = struct.pack(">BBHIBB", 0x81, 202, 3, 0x11111111, 1, 6) + b"icelab"
    bye = struct.pack(">BBHIB", 0x81, 203, 3, 0x11111111, 6) + b"hangup" + b"\x00"
    xr = struct.pack(">BBHI", 0x80, 207, 4, 0x11111111) + struct.pack(">BBH", 4, 0, 2) + b"\x00" * 8
    w("rtcp_compound", sr + sdes + bye[:16] + xr)
    w("rtcp_bye_reason", bye[:16])
PY
	"$bin" "$dir/corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/" -print_final_stats=1 >"$dir/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	if [ $rc -ne 0 ]; then
		tail -n 60 "$dir/log"
		echo "pcaps-fuzz: $t FAILED; the input is in $dir/artifacts/"
		status=1
	else
		echo "pcaps-fuzz: $t: ${execs:-?} runs in ${seconds} s, no crash"
	fi
done
exit $status
