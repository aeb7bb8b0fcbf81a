#!/usr/bin/env bash
# Renders a report.html in headless Chromium (Debian package: chromium) and
# checks the screenshot is a real page: a PNG of the asked size, big enough
# and not one flat colour. Skips (exit 0) when chromium is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECK=${CHECK:-build/conformance/check_main}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "html_screenshot: skipped (no chromium; apt-get install chromium)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$CHECK" --out "$tmp/reports" >/dev/null 2>&1 || { echo "html_screenshot: check run failed" >&2; exit 1; }
html=$(readlink -f "$tmp/reports/latest/report.html")
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
	--window-size=1280,2000 --screenshot="$tmp/shot.png" "file://$html" >/dev/null 2>&1 || true
[ -s "$tmp/shot.png" ] || { echo "html_screenshot: no screenshot" >&2; exit 1; }
python3 - "$tmp/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 2000), (w, h)
assert len(data) > 20000, "suspiciously small PNG: %d bytes" % len(data)
# Decode the IDAT stream and count distinct row contents: a blank or
# single-colour page has almost none.
idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                for i in range(8, len(data)) if data[i + 4:i + 8] == b"IDAT")
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}.get(data[25], 3)
stride = w * bpp + 1
rows = {raw[r * stride + 1:(r + 1) * stride] for r in range(h)}
assert len(rows) > 100, "page looks blank: %d distinct rows" % len(rows)
print("html_screenshot: ok (%dx%d, %d bytes, %d distinct rows)" % (w, h, len(data), len(rows)))
PY
