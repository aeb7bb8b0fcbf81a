#!/usr/bin/env bash
# Real SBCs under the ice-lite suite (issue #6 §6, issue #8 §6): rtpengine
# (Debian rtpengine-daemon, userspace) and our own bridge (`icelab serve
# --sbc`), each started here on loopback and stopped by PID, driven over
# rtpengine's ng protocol (bencode over UDP) like a SIP proxy would:
#   offer  from the legacy phone (plain RTP/AVP), flags ICE=force and
#          ICE-lite=forward: the SBC offers ICE-lite toward the other leg;
#   answer from the harness, a full ICE agent (its ufrag and pwd);
# then `icelab check --target sdp:OFFER_OUT,ANSWER_IN,ANSWER_OUT --suite
# ice-lite` (conformance/README.md "Target sdp:").
#   rtpengine: no harness error (exit 0 or 1, never 2); exit 0 with
#              conformance/baselines/rtpengine-10.5.json, every waiver used.
#   icelab:    every MUST passes with no baseline (exit 0); skipped with a
#              loud message while `icelab serve` has no --sbc.
# Fixed ports: ng 24000-24001, media 42000-43999 (this helper's ranges).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASELINE=conformance/baselines/rtpengine-10.5.json
REPORTS=${REPORTS:-build/ice-lite-targets}
. conformance/tests/lib.bash

# A tiny ng client: bencode over UDP, "COOKIE <dict>" each way.
cat >"$tmp/ng.py" <<'PY'
import os, socket, sys

def enc(o):
    if isinstance(o, str):
        o = o.encode()
    if isinstance(o, bytes):
        return str(len(o)).encode() + b":" + o
    if isinstance(o, int):
        return b"i%de" % o
    if isinstance(o, list):
        return b"l" + b"".join(enc(x) for x in o) + b"e"
    return b"d" + b"".join(enc(k) + enc(o[k]) for k in sorted(o)) + b"e"

def dec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        out = [] if c == b"l" else {}
        while b[i:i + 1] != b"e":
            k, i = dec(b, i)
            if c == b"l":
                out.append(k)
            else:
                v, i = dec(b, i)
                out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n

def ng(port, cmd, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    cookie = os.urandom(6).hex().encode()
    s.sendto(cookie + b" " + enc(cmd), ("127.0.0.1", port))
    data = s.recv(65535)
    got, _, body = data.partition(b" ")
    assert got == cookie, "ng: cookie mismatch"
    return dec(body)[0]

def sdp(ip, port, ice=None):
    lines = ["v=0", "o=- 1 1 IN IP4 %s" % ip, "s=-", "c=IN IP4 %s" % ip, "t=0 0",
             "m=audio %d RTP/AVP 0" % port, "a=rtpmap:0 PCMU/8000", "a=sendrecv"]
    if ice:
        lines += ["a=ice-ufrag:%s" % ice[0], "a=ice-pwd:%s" % ice[1],
                  "a=candidate:1 1 UDP 2130706431 %s %d typ host" % (ip, port)]
    return "\r\n".join(lines) + "\r\n"

if __name__ == "__main__":
    port, what, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    flags = {"ICE": "force", "ICE-lite": "forward"}
    if len(sys.argv) > 4 and sys.argv[4] == "full":
        flags = {"ICE": "force"}  # the SBC as a full agent toward the ICE leg
    if what == "ping":
        for _ in range(40):
            try:
                if ng(port, {"command": "ping"}, 0.1).get("result") == b"pong":
                    sys.exit(0)
            except (OSError, AssertionError, ValueError):
                pass
        sys.exit(1)
    call = "icelab-cf-%s" % os.urandom(4).hex()
    # The legacy phone's offer; nobody listens on its SDP port, the
    # harness's phone sends from its own socket (symmetric RTP latching).
    r = ng(port, {"command": "offer", "call-id": call, "from-tag": "phone",
                  "sdp": sdp("127.0.0.1", 24010), **flags})
    assert r.get("result") == b"ok", r
    open(out + "/offer-out.sdp", "wb").write(r["sdp"])
    # The harness's answer: a full ICE agent (ufrag, pwd, one host candidate).
    answer = sdp("127.0.0.1", 24012, ("cfharness", "conformanceIcePassword0123"))
    open(out + "/answer-in.sdp", "w").write(answer)
    r = ng(port, {"command": "answer", "call-id": call, "from-tag": "phone",
                  "to-tag": "harness", "sdp": answer})
    assert r.get("result") == b"ok", r
    open(out + "/answer-out.sdp", "wb").write(r["sdp"])
    open(out + "/call-id", "w").write(call)
PY

# suite NAME NG_PORT MODE WANT_EXITS [args...]: an offer/answer, then one
# run. MODE lite: ICE=force ICE-lite=forward; full: ICE=force only.
suite() {
	local name=$1 port=$2 mode=$3 want=$4 rc dir="$tmp/$1"
	shift 4
	mkdir -p "$dir"
	python3 "$tmp/ng.py" "$port" call "$dir" "$mode" || fail "$name: offer/answer over ng failed"
	grep -q '^a=ice-ufrag:' "$dir/offer-out.sdp" || fail "$name: no ICE in the SBC's offer"
	for f in "$dir"/*.sdp; do cp "$f" "$REPORTS/$name-$(basename "$f")"; done
	set +e
	timeout 60 "$CHECK" --target "sdp:$dir/offer-out.sdp,$dir/answer-in.sdp,$dir/answer-out.sdp" \
		--suite ice-lite --out "$REPORTS/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	set -e
	case " $want " in
	*" $rc "*) ;;
	*) fail "$name: exit $rc, want $want: $(cat "$tmp/$name.err" "$tmp/$name.out")" ;;
	esac
	for f in report.json junit.xml report.html; do
		[ -s "$REPORTS/$name/latest/$f" ] || fail "$name: no $f"
	done
	python3 - "$REPORTS/$name/latest/report.json" <<'PY' || fail "$name: harness errors: $(cat "$tmp/$name.out")"
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["error"] == 0 and s["pass"] > 0, s
PY
	echo "ice_lite_targets: $name: exit $rc: $(tail -1 "$tmp/$name.err" | head -c 300)"
}

# ---- rtpengine ----
if command -v rtpengine >/dev/null; then
	rtpengine --config-file=none --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:24000 \
		--port-min=42000 --port-max=42999 --foreground --delete-delay=0 \
		>"$tmp/rtpengine.log" 2>&1 &
	pids+=($!)
	python3 "$tmp/ng.py" 24000 ping - || fail "rtpengine: no pong: $(tail -5 "$tmp/rtpengine.log")"
	# rtpengine as an ICE-lite agent, then as a full one (the harness then
	# answers its checks too); each a fresh call.
	suite rtpengine 24000 lite "0 1"
	suite rtpengine-full 24000 full "0 1"
	suite rtpengine-baseline 24000 lite 0 --baseline "$BASELINE"
	suite rtpengine-full-baseline 24000 full 0 --baseline "$BASELINE"
	# Every waiver is used, and the waived tests say why.
	python3 - "$BASELINE" "$REPORTS/rtpengine-baseline/latest/report.json" \
		"$REPORTS/rtpengine-full-baseline/latest/report.json" <<'PY' || fail "baseline and runs disagree"
import json, sys
bl = json.load(open(sys.argv[1]))
tests = [t for p in sys.argv[2:] for t in json.load(open(p))["tests"]]
for w in bl["waivers"]:
    assert w["reason"], w
    hit = [t for t in tests if t["id"] == w["test"] and any(
        not c["ok"] and c["requirement"] == w.get("requirement", c["requirement"]) for c in t["checks"])]
    assert hit, "waiver matches nothing: %s" % w
    assert all(t["waived"] and t["waiver"] for t in hit), hit
PY
else
	echo "ice_lite_targets: rtpengine not installed (scripts/deps.sh: rtpengine-daemon): skipped"
fi

# ---- our bridge ----
if [ -x "$ICELAB" ] && "$ICELAB" serve --sbc --help 2>&1 | grep -q -- '--advertised'; then
	"$ICELAB" serve --sbc --ng 127.0.0.1:24001 --bind 127.0.0.1 --advertised 127.0.0.1 \
		--allow-private-advertised --port-min 43000 --port-max 43999 \
		>"$tmp/icelab-sbc.log" 2>&1 &
	pids+=($!)
	python3 "$tmp/ng.py" 24001 ping - || fail "icelab serve --sbc: no pong: $(tail -5 "$tmp/icelab-sbc.log")"
	suite icelab-sbc 24001 lite 0
else
	echo "ice_lite_targets: *** SKIPPED: $ICELAB serve has no --sbc yet: the ice-lite suite" \
		"did NOT run against our bridge ***" >&2
fi
echo "ice_lite_targets: ok (reports in $REPORTS)"
