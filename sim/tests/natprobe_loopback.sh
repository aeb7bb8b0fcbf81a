#!/usr/bin/env bash
# `icelab probe nat` and coturn's turnutils_natdiscovery against the same
# `icelab serve --other-address` on loopback (127.0.0.1 and 127.0.0.2, the
# whole of 127/8 being local on Linux): both must see no NAT (coturn says
# "Endpoint Independent Mapping") and endpoint-independent filtering.
# Skips (exit 0) when the probe verb, the server flag or coturn's client
# is not there. Loopback only; every step bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
skip() { echo "skip: $*"; exit 0; }
[ -x "$ICELAB" ] || skip "$ICELAB not built"
if [ -n "${ICELAB_PROBE_NAT:-}" ]; then
	read -r -a PROBE <<<"$ICELAB_PROBE_NAT"
elif "$ICELAB" probe nat --help >/dev/null 2>&1; then
	PROBE=("$ICELAB" probe nat)
else
	skip "$ICELAB has no 'probe nat' yet"
fi
port=$((20000 + $$ % 20000))
serve=("$ICELAB" serve --listen "127.0.0.1:$port" --other-address "127.0.0.2:$((port + 1))" --no-tcp)
timeout 10 "${serve[@]}" --check-config >/dev/null 2>&1 ||
	skip "icelab serve refuses --other-address (RFC 5780 listeners not in the driver yet)"
tmp=$(mktemp -d)
timeout 120 "${serve[@]}" >"$tmp/server.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
sleep 1
timeout 30 "${PROBE[@]}" "udp://127.0.0.1:$port" --rto 100 --rc 4 --json >"$tmp/ours.json"
python3 - "$tmp/ours.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rfc5780"] and d["other_address"].startswith("127.0.0.2:"), d
assert (d["mapping"], d["filtering"], d["nat_type"]) == ("no-nat", "eif", "open"), d
PY
if command -v turnutils_natdiscovery >/dev/null; then
	timeout 60 turnutils_natdiscovery -m -f -p "$port" 127.0.0.1 >"$tmp/coturn.txt" 2>&1 || true
	grep -q "Endpoint Independent Mapping" "$tmp/coturn.txt" || { cat "$tmp/coturn.txt"; exit 1; }
	grep -q "Endpoint Independent Filtering" "$tmp/coturn.txt" || { cat "$tmp/coturn.txt"; exit 1; }
	echo "natprobe_loopback: icelab and turnutils_natdiscovery agree: no NAT, EIF"
else
	echo "natprobe_loopback: ok (turnutils_natdiscovery not installed: no cross-check)"
fi
