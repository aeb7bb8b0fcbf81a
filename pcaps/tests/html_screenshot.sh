#!/usr/bin/env bash
# `icelab pcap analyze FILE --html OUT` (issue #7 §4): the page is written
# (through a temporary file renamed into place), is self-contained (no
# script, no external URL), links each finding's frames to the ladder or
# timeline, and renders in headless Chromium: the screenshot is not blank,
# and the DOM Chromium built holds the ladders, the timeline and the
# findings. Skipped when chromium is absent.
set -uo pipefail
cd "$(dirname "$0")/../.."
# The stand-alone `icelab pcap` (same cli/pcap_cmd.c), always built by mk/pcaps.mk.
PCAP=${PCAP_CMD:-build/pcaps/tests/pcap_main}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for cap in sip_hold_conflict.pcap ice_consent_lost.pcap sip_not_latched.pcap; do
	out="$tmp/${cap%.*}.html"
	$PCAP analyze "pcaps/captures/$cap" --html "$out" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" -le 1 ] && [ -s "$out" ] || { echo "html: $cap: exit $rc, no page"; cat "$tmp/err"; fail=1; continue; }
	ls "$tmp" | grep -q "\.html\.[A-Za-z0-9]\{6\}$" && { echo "html: temporary file left behind"; fail=1; }
	grep -qi "<script\|src=\"http\|href=\"http" "$out" && { echo "html: $cap: not self-contained"; fail=1; }
	python3 - "$out" "$cap" <<'PY' || fail=1
import re, sys
page = open(sys.argv[1]).read()
ids = set(re.findall(r'id="(f\d+)"', page))
links = re.findall(r'href="#(f\d+)"', page)
bad = [l for l in links if l not in ids]
if not links or bad:
    print("html: %s: frame links %s, dangling %s" % (sys.argv[2], links, bad)); sys.exit(1)
if page.count("<svg") < 2 or "RTP timeline" not in page:
    print("html: %s: ladder or timeline missing" % sys.argv[2]); sys.exit(1)
PY
done
# The page's own frame anchors: the hold conflict's evidence starts at the
# re-INVITE (frame 247 in the ladder) and the first packet after it.
grep -q 'href="#f247"' "$tmp/sip_hold_conflict.html" || { echo "html: re-INVITE not linked"; fail=1; }
$PCAP stats pcaps/captures/clean_call.pcap --html "$tmp/x.html" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "html: --html with stats is not a usage error"; fail=1; }
$PCAP analyze pcaps/captures/clean_call.pcap --html "$tmp/no/such/dir/x.html" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "html: unwritable output is not exit 2"; fail=1; }

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "html: chromium absent: screenshot skipped"
	[ $fail -eq 0 ] && echo "html: all checks passed"
	exit $fail
fi
for page in sip_hold_conflict ice_consent_lost; do
	prof=$(mktemp -d)
	flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
	       --disable-component-update --disable-sync --no-first-run --user-data-dir="$prof")
	timeout 90 "$CHROMIUM" "${flags[@]}" --window-size=1400,1600 \
		--screenshot="$tmp/$page.png" "file://$tmp/$page.html" >/dev/null 2>&1
	timeout 90 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$tmp/$page.html" \
		>"$tmp/$page.dom" 2>/dev/null
	rm -rf "$prof"
	python3 - "$tmp/$page.png" "$tmp/$page.dom" "$page" <<'PY' || fail=1
import struct, sys, zlib
png, dom, name = sys.argv[1:]
try:
    data = open(png, "rb").read()
except OSError:
    print("html: %s: no screenshot" % name); sys.exit(1)
if data[:8] != b"\x89PNG\r\n\x1a\n":
    print("html: %s: screenshot is not a PNG" % name); sys.exit(1)
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}.get(ctype)
if depth != 8 or not bpp:
    print("html: %s: unexpected PNG format" % name); sys.exit(1)
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
dark = coloured = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if r + g + bl < 200: dark += 1
        if bl > 180 and r < 120: coloured += 1   # the timeline's bars
    prev = line
if dark < 2000 or coloured < 2000:
    print("html: %s: screenshot looks blank (dark %d, blue %d)" % (name, dark, coloured)); sys.exit(1)
d = open(dom).read()
if d.count("<svg") < 2 or "Findings" not in d or "marker" not in d:
    print("html: %s: Chromium's DOM lacks the ladder or findings" % name); sys.exit(1)
print("html: %s: rendered %dx%d, %d dark and %d bar pixels" % (name, w, h, dark, coloured))
PY
done
[ $fail -eq 0 ] && echo "html: all checks passed"
exit $fail
