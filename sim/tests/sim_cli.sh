#!/usr/bin/env bash
# `icelab sim` end to end: presets, a scenario run, the same seed giving the
# same pcap bytes, a bad scenario giving one line and exit 2, the matrix
# with every cell as expected and its JSON report. Skips (exit 0) while
# cli/main.c does not dispatch `sim` yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
if [ ! -x "$ICELAB" ] || ! "$ICELAB" sim presets >/dev/null 2>&1; then
	echo "skip: $ICELAB has no working 'sim' verb yet"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ "$("$ICELAB" sim presets | grep -cE '^(open|full-cone|restricted-cone|port-restricted-cone|symmetric|symmetric-random|udp-blocked|cgn) ')" -eq 8 ]

"$ICELAB" sim run sim/scenarios/symmetric-vs-full-cone.json --seed 5 --pcap "$tmp/a.pcap" >"$tmp/out.txt"
grep -q '0 failed' "$tmp/out.txt"
"$ICELAB" sim run sim/scenarios/symmetric-vs-full-cone.json --seed 5 --pcap "$tmp/b.pcap" >/dev/null
cmp "$tmp/a.pcap" "$tmp/b.pcap"
"$ICELAB" sim run sim/scenarios/udp-blocked-turn-tcp.json --json | grep -q '"failed": 0'

printf '{"nodes": [\n  {"name": "a", "type": "hots"}\n], "links": [], "actors": []}\n' >"$tmp/bad.json"
set +e
"$ICELAB" sim run "$tmp/bad.json" 2>"$tmp/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ]
[ "$(wc -l <"$tmp/err.txt")" -eq 1 ]
grep -q 'bad.json: \$.nodes\[0\].type' "$tmp/err.txt"

"$ICELAB" sim matrix --out "$tmp/m" >"$tmp/matrix.txt"
grep -q '192 cells, 0 not as expected' "$tmp/matrix.txt"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mismatches"]==0 and len(d["cells"])==192' "$tmp/m/matrix.json"
# matrix.html beside it: self-contained (no script, no external resource), a cell per cell.
python3 - "$tmp/m/matrix.html" <<'PY'
import html.parser, sys
t = open(sys.argv[1]).read()
html.parser.HTMLParser().feed(t)
assert t.count("<td") == 192 and 'class="bad"' not in t, "cells"
assert "<script" not in t and "src=" not in t and "http" not in t, "not self-contained"
PY

# RFC 5780 discovery in the simulator, and the kernel-mode front end.
"$ICELAB" sim discover symmetric --json | grep -q '"nat_type": "symmetric"'
"$ICELAB" sim discover full-cone | grep -q '^nat type     full-cone$'
[ "$("$ICELAB" sim netns topologies | tr '\n' ' ')" = "full-cone port-restricted-cone symmetric udp-blocked open " ]
set +e
"$ICELAB" sim discover no-such-preset 2>"$tmp/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "unknown NAT preset" "$tmp/err.txt"
echo "sim_cli: ok"
