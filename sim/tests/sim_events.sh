#!/usr/bin/env bash
# Scenario events and capture end to end through `icelab sim run`: the
# link-down/link-up and address-change scenarios pass and fail when their
# event is removed; a NAT table dumped right after a flush is empty;
# --per-link writes one pcap per link (each opening in tshark without
# errors when tshark is installed) whose packets add up to the merged
# capture, packet for packet; the same seed gives the same files. Skips
# (exit 0) while cli/main.c does not dispatch `sim` yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
if [ ! -x "$ICELAB" ] || ! "$ICELAB" sim presets >/dev/null 2>&1; then
	echo "skip: $ICELAB has no working 'sim' verb yet"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_rc() { # rc, command...
	local want=$1 rc=0
	shift
	"$@" >"$tmp/run.txt" 2>&1 || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$tmp/run.txt"
		echo "sim_events: '$*' exited $rc, not $want" >&2
		exit 1
	fi
}

# ---- link-down / link-up, address change ----
expect_rc 0 "$ICELAB" sim run sim/scenarios/link-down-up.json
grep -q '^7 expectations, 0 failed' "$tmp/run.txt"
grep -q '^expect alice srflx=false: ok' "$tmp/run.txt"
grep -q '^peer alice: srflx - .* sent 8,' "$tmp/run.txt" # 1 request + 6 retransmissions, all lost
expect_rc 0 "$ICELAB" sim run sim/scenarios/address-change.json --json
grep -q '"failed": 0' "$tmp/run.txt"

sed 's/"do": "link-up", "link": "a-wan"/"do": "dump", "node": "nat-a"/' \
	sim/scenarios/link-down-up.json >"$tmp/no-up.json"
expect_rc 1 "$ICELAB" sim run "$tmp/no-up.json"
grep -q '^expect carol srflx=true: FAILED' "$tmp/run.txt"
sed 's#"addr": "203.0.113.9/24"#"addr": "203.0.113.2/24"#' \
	sim/scenarios/address-change.json >"$tmp/no-renumber.json"
expect_rc 1 "$ICELAB" sim run "$tmp/no-renumber.json"
grep -q '^expect alice srflx_addr=203.0.113.9:1024: FAILED (203.0.113.2:1024)' "$tmp/run.txt"

# ---- a flush mid-call, and the table dumped at any time ----
expect_rc 0 "$ICELAB" sim run sim/scenarios/symmetric-vs-full-cone.json
# The dump block after each "event dump" line: nat-b has its mapping at 2 s,
# none right after the flush at 3 s.
dump_at() { # time, node
	awk -v t="$1" -v n="$2" '
		/ event / { on = ($1 == t && $4 == "dump"); next }
		on && $1 == n { c++ }
		END { print c + 0 }' "$tmp/run.txt"
}
[ "$(dump_at 2.000 nat-b)" -eq 1 ]
[ "$(dump_at 2.000 nat-a)" -eq 2 ]
[ "$(dump_at 3.000 nat-b)" -eq 0 ]

# ---- --per-link capture ----
check_per_link() { # scenario, expected link names...
	local scen=$1
	shift
	"$ICELAB" sim run "$scen" --seed 9 --pcap "$tmp/merged.pcap" >/dev/null
	rm -f "$tmp"/pl.*.pcap
	"$ICELAB" sim run "$scen" --seed 9 --pcap "$tmp/pl.pcap" --per-link >/dev/null
	[ ! -e "$tmp/pl.pcap" ] # no merged file in per-link mode
	local want got
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	got=$(cd "$tmp" && ls pl.*.pcap | sed 's/^pl\.//; s/\.pcap$//' | sort | tr '\n' ' ')
	if [ "$want" != "$got" ]; then
		echo "sim_events: per-link files for $scen: got '$got', want '$want'" >&2
		exit 1
	fi
	# Every per-link record is in the merged file and nothing else is.
	python3 - "$tmp/merged.pcap" "$tmp"/pl.*.pcap <<'PY'
import collections, struct, sys
def records(path):
    b = open(path, "rb").read()
    magic, = struct.unpack("<I", b[:4])
    assert magic == 0xa1b2c3d4, (path, hex(magic))
    assert struct.unpack("<I", b[20:24])[0] == 101, "LINKTYPE_RAW"
    off, out = 24, []
    while off < len(b):
        sec, usec, caplen, length = struct.unpack("<IIII", b[off:off + 16])
        assert caplen == length, path
        out.append((sec, usec, b[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    assert off == len(b), path
    return out
merged = records(sys.argv[1])
links = [records(p) for p in sys.argv[2:]]
assert sum(map(len, links)) == len(merged), (sum(map(len, links)), len(merged))
assert len(merged) > 0
assert all(links), "an empty per-link capture"
union = collections.Counter(r for l in links for r in l)
assert union == collections.Counter(merged), "per-link records differ from the merged ones"
PY
	if command -v tshark >/dev/null 2>&1; then
		local total=0 n f
		for f in "$tmp"/pl.*.pcap; do
			n=$(tshark -n -r "$f" 2>"$tmp/tshark.err" | wc -l)
			# (Its "running as root" notice is not about the file.)
			sed -i '/^Running as user/d' "$tmp/tshark.err"
			if [ -s "$tmp/tshark.err" ]; then
				cat "$tmp/tshark.err"
				echo "sim_events: tshark complains about $f" >&2
				exit 1
			fi
			# No malformed packet or bad checksum in any dissection.
			if tshark -n -r "$f" -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
				-o ip.check_checksum:TRUE -Y '_ws.malformed || _ws.expert.severity >= error' \
				2>/dev/null | grep -q .; then
				echo "sim_events: tshark finds malformed or bad-checksum packets in $f" >&2
				exit 1
			fi
			total=$((total + n))
		done
		[ "$total" -eq "$(tshark -n -r "$tmp/merged.pcap" 2>/dev/null | wc -l)" ]
	else
		echo "sim_events: tshark absent, per-link pcaps checked with python only"
	fi
	# The same seed gives the same files.
	mkdir -p "$tmp/again"
	"$ICELAB" sim run "$scen" --seed 9 --pcap "$tmp/again/pl.pcap" --per-link >/dev/null
	for f in "$tmp"/pl.*.pcap; do
		cmp "$f" "$tmp/again/$(basename "$f")"
	done
	rm -rf "$tmp/again"
}
check_per_link sim/scenarios/symmetric-vs-full-cone.json stun-lan a-lan a-wan b-lan b-wan
# Unnamed links get "A-B" names; TURN over TCP puts TCP in the captures.
check_per_link sim/scenarios/udp-blocked-turn-tcp.json turn-a-internet turn-b-internet \
	alice-fw a-wan bob-nat-b b-wan
check_per_link sim/scenarios/link-down-up.json stun-lan a-lan c-lan a-wan b-lan b-wan
echo "sim_events: ok"
