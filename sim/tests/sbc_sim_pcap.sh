#!/usr/bin/env bash
# The SBC scenarios of the simulator (test_sbc_sim_restart) as captures on
# the bridge's interface (NAME.sbc-internet.pcap: the phone seen as its
# NAT's 198.51.100.2:1024, the browser as 192.0.2.2:50000), judged by
# `icelab pcap analyze --json` (issue #8 §6):
#   sbc-call.pcap         the clean call: no finding of severity warning or above;
#   sbc-third-party.pcap  a stranger (8.8.8.66) sprays RTP at both bridge
#                         ports mid-call: exactly two media-one-way errors, one
#                         per bridge port, naming the stranger as the sender
#                         that never gets an answer (the bridge dropped it all),
#                         and no finding about the phone's or the browser's flows;
#                         no stream with the stranger's SSRC leaves the bridge;
#   sbc-ice-restart.pcap  the browser restarts ICE mid-call: no finding of
#                         warning or above, the ICE pair succeeded with no error
#                         and no unanswered check, the phone's stream keeps one
#                         SSRC with nothing lost both ways.
# The simulator writes no SIP, so the call findings built on SDP
# (media-source-mismatch, media-unadvertised-destination, sdp-*) cannot
# appear: what these captures can show is the 5-tuple media rule
# (media-one-way), ICMP, ICE (ice-failed, ice-consent-lost) and TURN.
# Skips (77) when the binaries are not built.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
SIM_TEST=${SIM_TEST:-build/sim/tests/test_sbc_sim_restart}
if [ ! -x "$ICELAB" ] || [ ! -x "$SIM_TEST" ]; then
	echo "skip: $ICELAB or $SIM_TEST not built"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SBC_SIM_PCAP_DIR=$tmp "$SIM_TEST" >"$tmp/test.txt" 2>&1 || {
	cat "$tmp/test.txt"
	exit 1
}
for name in call third-party ice-restart; do
	rc=0
	"$ICELAB" pcap analyze --json "$tmp/sbc-$name.sbc-internet.pcap" >"$tmp/$name.json" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
done

python3 - "$tmp" <<'PY'
import json, sys

tmp = sys.argv[1]
bad = []
PHONE, WEB = "198.51.100.2:1024", "192.0.2.2:50000"  # their NATs' mappings


def load(name):
    with open(f"{tmp}/{name}.json") as f:
        d = json.load(f)
    rc = int(open(f"{tmp}/{name}.rc").read())
    return d, rc


def serious(d):
    return [x for x in d["findings"] if x["severity"] in ("warning", "error", "critical")]


def check(cond, what):
    if not cond:
        bad.append(what)


def stream(d, src, dst):
    return [s for s in d["stats"]["rtp_streams"] if s["src"] == src and s["dst"] == dst]


# The clean call.
d, rc = load("call")
check(rc == 0, f"clean call: analyze exited {rc}")
check(not serious(d), f"clean call: findings {serious(d)}")
pairs = [p for p in d["ice_pairs"] if p["remote"] == "203.0.113.10:40002"]
check(pairs and all(p["state"] == "succeeded" for p in pairs), f"clean call: ICE pairs {pairs}")
for src, dst in ((PHONE, "203.0.113.10:40000"), ("203.0.113.10:40000", PHONE),
                 (WEB, "203.0.113.10:40002"), ("203.0.113.10:40002", WEB)):
    s = stream(d, src, dst)
    check(len(s) == 1 and s[0]["packets"] >= 490 and s[0]["lost"] == 0,
          f"clean call: stream {src} -> {dst}: {s}")
print(f"clean call: {len(d['findings'])} findings, "
      f"{d['stats']['datagrams']['rtp']} RTP and {d['stats']['datagrams']['stun']} STUN datagrams")

# The third party.
d, rc = load("third-party")
check(rc == 1, f"third party: analyze exited {rc}, not 1 (error findings)")
ow = [x for x in d["findings"] if x["code"] == "media-one-way"]
ports = sorted(x["message"].split(" sends RTP to ")[1].split(" ")[0] for x in ow
               if x["message"].startswith("One-way media: 8.8.8.66:"))
check(len(ow) == 2 and ports == ["203.0.113.10:40000", "203.0.113.10:40002"],
      f"third party: media-one-way findings {ow}")
check(all("nothing comes back" in x["message"] and "(300 packets from" in x["message"] for x in ow),
      f"third party: {ow}")
# Nothing of the stranger's leaves the bridge (no RTP Bleed): every stream
# from 203.0.113.10 carries the phone's or the browser's SSRC.
out = [(x["dst"], x["ssrc"]) for x in d["stats"]["rtp_streams"] if x["src"].startswith("203.0.113.10:")]
check(sorted(out) == [(WEB, "0x0a0b0c0d"), (PHONE, "0x01020304")],
      f"third party: streams out of the bridge {out}")
others = [x for x in serious(d) if x["code"] != "media-one-way"]
check(not others, f"third party: other findings {others}")
for x in d["findings"]:
    for who in ("192.168.1.10", "198.51.100.2", "192.168.2.20", "192.0.2.2"):
        check(who not in x["message"], f"third party: a finding names {who}: {x['message']}")
s = stream(d, "203.0.113.10:40000", PHONE)
check(len(s) == 1 and s[0]["ssrc"] == "0x01020304" and s[0]["lost"] == 0,
      f"third party: the phone still hears only the browser: {s}")
for x in ow:
    print(f"third party: {x['code']} {x['severity']}: {x['message']}")

# The ICE restart.
d, rc = load("ice-restart")
check(rc == 0, f"ICE restart: analyze exited {rc}")
check(not serious(d), f"ICE restart: findings {serious(d)}")
pairs = [p for p in d["ice_pairs"] if p["remote"] == "203.0.113.10:40002"]
check(pairs and all(p["state"] == "succeeded" and p["errors"] == 0 and p["no_response"] == 0
                    for p in pairs), f"ICE restart: ICE pairs {pairs}")
for src, dst, ssrc in ((PHONE, "203.0.113.10:40000", "0x0a0b0c0d"),
                       ("203.0.113.10:40000", PHONE, "0x01020304")):
    s = stream(d, src, dst)
    check(len(s) == 1 and s[0]["ssrc"] == ssrc and s[0]["lost"] == 0 and s[0]["packets"] >= 490,
          f"ICE restart: phone stream {src} -> {dst}: {s}")
print(f"ICE restart: {len(d['findings'])} findings; pair {pairs[0]['local'] if pairs else '?'} -> "
      f"203.0.113.10:40002 {pairs[0]['state'] if pairs else '?'}, "
      f"{pairs[0]['requests'] if pairs else 0} checks answered")

if bad:
    print("\n".join("FAIL " + b for b in bad))
    sys.exit(1)
PY

# The restart in the capture: the browser's checks toward the bridge carry
# two USERNAMEs, the first credentials' and the restart's (tshark, when
# installed: the analyzer keeps the first USERNAME of a pair).
if command -v tshark >/dev/null 2>&1; then
	users=$(tshark -r "$tmp/sbc-ice-restart.sbc-internet.pcap" -Y 'stun.type == 0x0001 && udp.dstport == 40002' \
		-T fields -e stun.att.username 2>/dev/null | sort -u | grep -c . || true)
	if [ "$users" != 2 ]; then
		echo "sbc_sim_pcap: $users distinct USERNAMEs in the browser's checks, not 2" >&2
		exit 1
	fi
	echo "ICE restart: 2 distinct USERNAMEs in the browser's checks (before and after the restart)"
fi
echo "sbc_sim_pcap: ok"
