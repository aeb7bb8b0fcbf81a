#!/usr/bin/env bash
# icelab check from the command line: exit codes, --list-requirements,
# reports and the latest link, a real run over UDP against `icelab serve`
# on loopback. Uses build/conformance/check_main (the verb, stand-alone).
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECK=${CHECK:-build/conformance/check_main}
ICELAB=${ICELAB:-build/icelab}
tmp=$(mktemp -d)
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "check_cli: $*" >&2; exit 1; }

# Usage errors: exit 2 with one line.
set +e
"$CHECK" --bogus >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || fail "--bogus: want exit 2"
"$CHECK" --suite nope --out - >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || fail "unknown suite: want exit 2"
grep -q "unknown suite 'nope'" "$tmp/err" || fail "unknown suite: message"
"$CHECK" --target ftp://x --out - >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad target: want exit 2"
"$CHECK" --user a --out - >/dev/null 2>&1; [ $? -eq 2 ] || fail "--user alone: want exit 2"
printf '{"schema":"icelab-conformance-baseline","waivers":[{"test":"a/b"}]}' > "$tmp/nobase.json"
"$CHECK" --baseline "$tmp/nobase.json" --out - >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || fail "waiver without reason: want exit 2"
grep -q 'needs a "reason"' "$tmp/err" || fail "waiver without reason: message"
"$CHECK" --diff only-one.json >/dev/null 2>&1; [ $? -eq 2 ] || fail "--diff with one file: want exit 2"
set -e

# A baseline waiver that matches nothing is reported; the run still passes.
printf '{"schema":"icelab-conformance-baseline","waivers":[{"test":"turn-server/allocate-success","reason":"r"}]}' > "$tmp/base.json"
"$CHECK" --suite turn-security --baseline "$tmp/base.json" --out - 2>"$tmp/err" >/dev/null || fail "baseline run failed"
grep -q 'matched nothing' "$tmp/err" || fail "unused waiver not reported"

# Coverage listing.
"$CHECK" --list-requirements > "$tmp/cov"
grep -q '^RFC 8489' "$tmp/cov" || fail "coverage lacks RFC 8489"
grep -q '^RFC 8656' "$tmp/cov" || fail "coverage lacks RFC 8656"
"$CHECK" --list-requirements --rfc 8656 > "$tmp/cov1"
! grep -q '^RFC 8489' "$tmp/cov1" || fail "--rfc 8656 shows RFC 8489"

# The builtin run: pass, three reports, latest link, JSON on stdout.
"$CHECK" --out "$tmp/reports" --json > "$tmp/out.json" 2>"$tmp/err" || fail "builtin run failed: $(cat "$tmp/err")"
for f in report.json junit.xml report.html; do
	[ -s "$tmp/reports/latest/$f" ] || fail "missing $f"
done
python3 - "$tmp/reports/latest/report.json" "$tmp/reports/latest/junit.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
assert d["schema"] == "icelab-conformance-report" and d["schema_version"] == 1
assert d["summary"]["exit_code"] == 0 and d["summary"]["fail"] == 0, d["summary"]
assert all(t["evidence"] or t["verdict"] == "not-applicable" for t in d["tests"])
j = ET.parse(sys.argv[2]).getroot()
cases = j.findall(".//testcase")
assert len(cases) == len(d["tests"]), (len(cases), len(d["tests"]))
assert all(c.get("classname").startswith("RFC ") for c in cases)
PY
# Same seed, same verdicts and same packets.
"$CHECK" --out - --json --seed 9 > "$tmp/a.json" 2>/dev/null
"$CHECK" --out - --json --seed 9 > "$tmp/b.json" 2>/dev/null
python3 - "$tmp/a.json" "$tmp/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ka = [(t["id"], t["verdict"], [e["hex"] for e in t["evidence"]]) for t in a["tests"]]
kb = [(t["id"], t["verdict"], [e["hex"] for e in t["evidence"]]) for t in b["tests"]]
assert ka == kb
PY
# --diff of a run against itself: nothing changed, exit 0.
"$CHECK" --diff "$tmp/a.json" "$tmp/b.json" > "$tmp/diff" || fail "--diff same: $(cat "$tmp/diff")"
grep -q '^0 regressed, 0 fixed, 0 changed, 0 new, 0 removed' "$tmp/diff" || fail "--diff same: $(cat "$tmp/diff")"
# --test selects.
"$CHECK" --out - --test 'turn-server/channel*' --json 2>/dev/null | python3 -c '
import json, sys; d = json.load(sys.stdin)
assert d["tests"] and all(t["id"].startswith("turn-server/channel") for t in d["tests"])'

# A real server over UDP on loopback.
if [ -x "$ICELAB" ]; then
	port=$((35000 + RANDOM % 2000))
	"$ICELAB" serve --listen "127.0.0.1:$port" --no-tcp --user alice:secret --realm example.org \
		--allow-peer 127.0.0.0/8 --allow-private-relay --workers 1 >"$tmp/serve.log" 2>&1 &
	serve_pid=$!
	sleep 0.5
	"$CHECK" --target "udp://127.0.0.1:$port" --user alice --password secret --out - --json \
		--suite stun-server --suite turn-server \
		> "$tmp/udp.json" 2>"$tmp/err" || fail "udp run against icelab serve failed: $(cat "$tmp/err")"
	python3 - "$tmp/udp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["error"] == 0 and s["fail"] == 0 and s["pass"] > 30, s
PY
fi
echo "check_cli: ok"
