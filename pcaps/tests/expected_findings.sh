#!/usr/bin/env bash
# Every capture of pcaps/captures/ against its NAME.expected (issue #7 §6):
# each expected finding (code, severity, evidence frames) is reported, and
# nothing else of severity warning or above. Also: the generator writes
# exactly the committed captures (the corpus is reproducible), and the
# exit status of `analyze` is 1 exactly when an error finding is expected.
set -uo pipefail
cd "$(dirname "$0")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
	# build/icelab when it is at least as new as the stand-alone build of
	# the same cli/pcap_cmd.c (a stale binary would test old code)
	if build/icelab pcap --help >/dev/null 2>&1 &&
		! [ build/pcaps/tests/pcap_main -nt build/icelab ]; then PCAP="build/icelab pcap"
	else PCAP="build/pcaps/tests/pcap_main"; fi
fi
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# With arguments: only those captures (real_peer_captures.sh's fresh ones).
files=("$@")
if [ ${#files[@]} -eq 0 ] && [ -x build/pcaps/gen/gen_captures ]; then
	build/pcaps/gen/gen_captures "$tmp"
	# real_*: recorded from real peers by real_peer_captures.sh, not generated
	if diff -r -q -x 'real_*' "$tmp" pcaps/captures; then
		echo "expected_findings: the generator reproduces pcaps/captures/"
	else
		echo "expected_findings: pcaps/captures/ differs from the generator's output (make pcaps-captures)"
		status=1
	fi
fi
[ ${#files[@]} -gt 0 ] || files=(pcaps/captures/*.pcap pcaps/captures/*.pcapng)
for f in "${files[@]}"; do
	exp=${f%.pcap*}.expected
	$PCAP analyze "$f" --json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	python3 - "$f" "$exp" "$tmp/out.json" "$rc" <<'PY' || status=1
import json, sys
path, exp_path, out_path, rc = sys.argv[1:]
findings = json.load(open(out_path))["findings"]
expected = []
for line in open(exp_path):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    parts = line.split()
    frames = [int(x) for x in parts[2].split(",")] if len(parts) > 2 else []
    expected.append((parts[0], parts[1], frames))
problems, used = [], set()
for code, sev, frames in expected:
    match = [i for i, f in enumerate(findings) if i not in used and f["code"] == code
             and f["severity"] == sev and set(frames) <= set(f["frames"])]
    if not match:
        problems.append("missing %s %s with frames %s" % (code, sev, frames))
    else:
        used.add(match[0])
for i, f in enumerate(findings):
    if i not in used and f["severity"] in ("warning", "error"):
        problems.append("unexpected %s %s: %s %s" % (f["code"], f["severity"], f["message"], f["frames"]))
want_rc = 1 if any(s == "error" for _, s, _ in expected) else 0
if int(rc) != want_rc:
    problems.append("exit status %s, expected %d" % (rc, want_rc))
name = path.split("/")[-1]
if problems:
    print("expected_findings: %s: FAILED" % name)
    for p in problems:
        print("  " + p)
    sys.exit(1)
print("expected_findings: %s: %d finding(s) as expected" % (name, len(expected)))
PY
done
exit $status
