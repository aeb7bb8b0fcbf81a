#!/usr/bin/env bash
# Real ICE agents as the browser leg of `icelab serve --sbc` on loopback
# (issue #8 §6): (a) our agent, `icelab probe ice`, (b) libnice (nice_peer,
# Debian libnice-dev). The legacy leg is a plain RTP phone
# (sbc_browser_legs.python), which also drives the signalling with
# `icelab ng`: the phone's offer toward the ICE leg with ICE=force (the
# bridge is ICE-lite there), the agent's answer with its credentials and
# candidates. Each case asserts: the agent reports a selected host pair
# toward the bridge's port and exits 0 after 100 RTP packets each way; the
# bridge's `query` shows the leg ICE-lite with the agent's candidate as
# the selected pair and RTP counted both ways on both legs; the phone
# hears the agent's SSRC; the server logs "pair@connected" naming both.
# Ports: ng 127.0.0.1:19000, media 44000-44099 (agents and the phone use
# ephemeral ports). Every process is stopped by PID; bounded (~10 s, at
# most ~60 s: every process under `timeout`).
# Skips (77) after the probe case when libnice (nice_peer) is not built.
set -uo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build}
ICELAB=${ICELAB:-$BUILD/icelab}
PROBE=$BUILD/ref/io/tests/ice_probe
NICE_PEER=$BUILD/ref/io/tests/nice_peer
NG=127.0.0.1:19000
PACKETS=100
command -v python3 >/dev/null || { echo "FAIL: python3 missing"; exit 1; }
[ -x "$ICELAB" ] && [ -x "$PROBE" ] || { echo "FAIL: $ICELAB or $PROBE not built"; exit 1; }

TMP=$(mktemp -d)
PIDS=()
fails=0
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	[ -n "${IL_KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
js() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }

"$ICELAB" serve --sbc --ng "$NG" --advertised 127.0.0.1 --allow-private-advertised \
	--bind 127.0.0.1 --port-min 44000 --port-max 44099 --log-json "$TMP/events.json" \
	2>"$TMP/serve.log" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 50); do
	"$ICELAB" ng "$NG" ping --timeout 200 >/dev/null 2>&1 && break
	sleep 0.1
done
"$ICELAB" ng "$NG" ping >/dev/null 2>&1 || { echo "FAIL: no pong"; cat "$TMP/serve.log"; exit 1; }

# run_case NAME SSRC AGENT-COMMAND...: the agent in the background, the
# phone and the signalling in the foreground, then the assertions.
run_case() {
	local name=$1 ssrc=$2 dir=$TMP/$1
	shift 2
	mkdir -p "$dir"
	timeout 30 "$@" --controlling --rtp --packets "$PACKETS" --local-sdp-out "$dir/agent.sdp" \
		--remote-sdp "$dir/bridge.sdp" --wait-remote 10 --timeout 20 >"$dir/agent.out" 2>&1 &
	local agent=$!
	PIDS+=("$agent")
	timeout 30 python3 ref/io/tests/sbc_browser_legs.python "$ICELAB" "$NG" "$name" \
		"$dir/agent.sdp" "$dir/bridge.sdp" 25 "$agent" >"$dir/call.json" 2>"$dir/call.err" ||
		{ fail "$name: the phone script: $(cat "$dir/call.err")"; }
	wait "$agent"
	local rc=$?
	local R=$dir/call.json
	[ -s "$R" ] || { fail "$name: no call result"; cat "$dir/agent.out"; return; }
	local bport agent_at aport
	bport=$(grep -o '^m=audio [0-9]*' <<<"$(js "$R" 'j["sdp_to_b"]')" | cut -d' ' -f2)
	agent_at=$(js "$R" 'j["agent"]')
	aport=${agent_at##*:}
	grep -q "^a=ice-lite" <<<"$(js "$R" 'j["sdp_to_b"]')" &&
		pass "$name: offer toward the ICE leg: ICE-lite, candidate 127.0.0.1 $bport" ||
		fail "$name: no ICE-lite in the offer toward B"

	# The agent: connected on a host pair toward the bridge's port.
	local sel
	if [ "$name" = probe ]; then
		sel=$(grep '^selected:' "$dir/agent.out")
		[ "$rc" -eq 0 ] && grep -q '^result: ok$' "$dir/agent.out" &&
			grep -q "^selected: host 127.0.0.1:$aport -> host 127.0.0.1:$bport " "$dir/agent.out" &&
			grep -Eq "^packets: sent $PACKETS, received [0-9]+ of $PACKETS$" "$dir/agent.out" &&
			pass "$name: agent exit 0, $sel, $(grep '^packets:' "$dir/agent.out")" ||
			{ fail "$name: agent (exit $rc)"; cat "$dir/agent.out"; }
	else
		sel=$(grep -o 'selected .*' "$dir/agent.out")
		[ "$rc" -eq 0 ] &&
			grep -Eq "^nice_peer: ready controlling, state ready, selected host 127.0.0.1:$aport -> host 127.0.0.1:$bport, sent $PACKETS received [0-9]+$" \
				"$dir/agent.out" &&
			pass "$name: agent exit 0, $sel" ||
			{ fail "$name: agent (exit $rc)"; cat "$dir/agent.out"; }
	fi

	# The bridge's view.
	local q='j["query"]["tags"]'
	local ice state raddr rport
	ice=$(js "$R" "$q[\"web\"][\"ICE\"]")
	state=$(js "$R" "$q[\"web\"][\"ICE state\"]")
	raddr=$(js "$R" "$q[\"web\"][\"selected pair\"][\"remote\"][\"address\"]")
	rport=$(js "$R" "$q[\"web\"][\"selected pair\"][\"remote\"][\"port\"]")
	rtype=$(js "$R" "$q[\"web\"][\"selected pair\"][\"remote type\"]")
	[ "$ice" = ice-lite ] && [ "$raddr:$rport" = "$agent_at" ] && [ "$rtype" = host ] &&
		[[ "$state" =~ ^(connected|completed)$ ]] &&
		pass "$name: query: leg web $ice, ICE state $state, selected pair remote $rtype $raddr:$rport" ||
		fail "$name: query: ICE $ice, state $state, selected $rtype $raddr:$rport (agent $agent_at)"
	local arx atx wrx wtx
	read -r arx atx wrx wtx <<<"$(js "$R" "$q[\"phone\"][\"rx\"][\"packets\"], $q[\"phone\"][\"tx\"][\"packets\"], $q[\"web\"][\"rx\"][\"packets\"], $q[\"web\"][\"tx\"][\"packets\"]")"
	[ "$wrx" -ge "$PACKETS" ] && [ "$atx" -ge "$PACKETS" ] && [ "$arx" -ge "$PACKETS" ] &&
		[ "$wtx" -ge "$PACKETS" ] &&
		pass "$name: query: phone rx/tx $arx/$atx, web rx/tx $wrx/$wtx" ||
		fail "$name: query counters: phone rx/tx $arx/$atx, web rx/tx $wrx/$wtx"
	[ "$(js "$R" 'j["query"]["state"]')" = connected ] && pass "$name: query: state connected" ||
		fail "$name: query state $(js "$R" 'j["query"]["state"]')"
	local got ssrcs
	got=$(js "$R" 'j["phone"]["received"]')
	ssrcs=$(js "$R" '",".join(j["phone"]["ssrcs"])')
	[ "$got" -ge "$PACKETS" ] && [ "$ssrcs" = "$ssrc" ] &&
		pass "$name: the phone sent $(js "$R" 'j["phone"]["sent"]'), got $got RTP packets of SSRC $ssrcs" ||
		fail "$name: the phone got $got packets, SSRCs $ssrcs (want $ssrc)"
	grep -Eq "call $name pair@connected a=rtp local=host 127.0.0.1:[0-9]+ remote=[a-z]+ 127.0.0.1:[0-9]+ b=ice local=host 127.0.0.1:$bport remote=host 127.0.0.1:$aport " \
		"$TMP/serve.log" && pass "$name: log: $(grep -o "call $name pair@connected.*" "$TMP/serve.log")" ||
		fail "$name: no pair@connected line naming 127.0.0.1:$bport and $agent_at"
}

run_case probe 0x1ce1ab01 "$PROBE" --local 127.0.0.1
nice=0
if [ -x "$NICE_PEER" ]; then
	run_case libnice 0x0417ce01 "$NICE_PEER" --local 127.0.0.1
	nice=1
fi
"$ICELAB" ng "$NG" statistics >"$TMP/stats.json" && pass "statistics: $(js "$TMP/stats.json" 'j["statistics"]')"
kill "$SERVER"
wait "$SERVER"
rc=$?
PIDS=()
[ $rc -eq 0 ] && pass "server stopped cleanly" || fail "server exit $rc"
[ $fails -eq 0 ] || { echo "--- serve.log"; cat "$TMP/serve.log"; exit 1; }
if [ $nice -eq 0 ]; then
	echo "skip: the libnice case: $NICE_PEER not built (libnice-dev, pkg-config nice)"
	exit 77
fi
echo "sbc_browser_legs: our agent and libnice both connected through the bridge"
