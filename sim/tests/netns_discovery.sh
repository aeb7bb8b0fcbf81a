#!/usr/bin/env bash
# Kernel mode end to end (issue #4 §4): for each kernel NAT of
# sim/netns/netns.sh, RFC 5780 discovery (`icelab probe nat`) from the
# host namespace against a server with two addresses in the public one,
# checked against what the nftables rules make (sim/README.md "Kernel
# mode"); and coturn's turnutils_natdiscovery, run the same way, must
# agree on mapping and filtering (the interop of issue #4 §3).
#
# Server: `icelab serve --other-address` when the driver accepts it, else
# coturn's turnserver with two listening addresses (ICELAB_NETNS_SERVER=coturn
# forces it). Skips (exit 0) when
# not root, when `ip netns add` is not permitted, when nft is missing, or
# when no probe or server is at hand. Traffic stays in namespaces this
# script creates (unique names, deleted on exit and on failure); every
# step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ICELAB=${ICELAB:-build/icelab}
NETNS=sim/netns/netns.sh
NAME=iclt$$
skip() { echo "skip: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v nft >/dev/null || skip "nft (nftables) not installed"
ip netns add "$NAME-probe" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del "$NAME-probe"

if [ -n "${ICELAB_PROBE_NAT:-}" ]; then
	read -r -a PROBE <<<"$ICELAB_PROBE_NAT"
elif [ -x "$ICELAB" ] && "$ICELAB" probe nat --help >/dev/null 2>&1; then
	PROBE=("$(realpath "$ICELAB")" probe nat)
else
	skip "$ICELAB has no 'probe nat' yet (set ICELAB_PROBE_NAT to run it another way)"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	bash "$NETNS" down "$NAME" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The verb's front end: up, the namespaces exist, down, they are gone.
if [ -x "$ICELAB" ] && "$ICELAB" sim netns topologies >/dev/null 2>&1; then
	"$ICELAB" sim netns up symmetric "$NAME" >/dev/null
	ip netns list | grep -q "^$NAME-nat"
	"$ICELAB" sim netns down "$NAME"
	! ip netns list | grep -q "^$NAME-"
fi

server_kind=""
start_server() { # pub namespace
	local ns=$1
	if [ "${ICELAB_NETNS_SERVER:-}" != coturn ] && [ -x "$ICELAB" ] && timeout 10 ip netns exec "$ns" "$ICELAB" serve \
		--listen 198.51.100.1:3478 --other-address 198.51.100.2:3479 --no-tcp \
		--check-config >/dev/null 2>&1; then
		server_kind=icelab
		ip netns exec "$ns" timeout 300 "$(realpath "$ICELAB")" serve --listen 198.51.100.1:3478 \
			--other-address 198.51.100.2:3479 --no-tcp >"$tmp/server.log" 2>&1 &
	elif command -v turnserver >/dev/null; then
		server_kind=coturn
		ip netns exec "$ns" timeout 300 turnserver -n -L 198.51.100.1 -L 198.51.100.2 \
			--listening-port 3478 --alt-listening-port 3479 --no-tcp --no-tls --no-dtls \
			--no-cli --log-file stdout --simple-log >"$tmp/server.log" 2>&1 &
	else
		return 1
	fi
	pids+=($!)
	sleep 1
}

# topology  nat-type  mapping  filtering  hairpin
cases=(
	"open open no-nat eif untested"
	"full-cone full-cone eim eif yes"
	"port-restricted-cone port-restricted-cone eim apdf no"
	"symmetric symmetric apdm apdf no"
	"udp-blocked udp-blocked unknown unknown untested"
)
failures=0
for c in "${cases[@]}"; do
	read -r topo want_type want_map want_fil want_hp <<<"$c"
	bash "$NETNS" up "$topo" "$NAME" >"$tmp/up.txt"
	start_server "$NAME-pub" || skip "no RFC 5780 server (icelab serve --other-address refused, no coturn)"
	# Short timers keep each unanswered test near 2 s (RFC 8489 default: 39.5 s).
	set +e
	timeout 60 ip netns exec "$NAME-host" "${PROBE[@]}" udp://198.51.100.1:3478 \
		--rto 100 --rc 4 --json >"$tmp/ours.json" 2>"$tmp/ours.err"
	set -e
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["nat_type"], d["mapping"], d["filtering"], d["hairpinning"])' "$tmp/ours.json" 2>/dev/null || echo "no-result")
	want="$want_type $want_map $want_fil $want_hp"
	if [ "$got" != "$want" ]; then
		echo "$topo: icelab probe nat says '$got', want '$want'"; cat "$tmp/ours.json" "$tmp/ours.err"
		failures=$((failures + 1))
	else
		echo "$topo ($server_kind server): $got"
	fi
	if command -v turnutils_natdiscovery >/dev/null && [ "$topo" != udp-blocked ]; then
		timeout 90 ip netns exec "$NAME-host" turnutils_natdiscovery -m -f -p 3478 198.51.100.1 \
			>"$tmp/coturn.txt" 2>&1 || true
		cm=$(sed -n 's/.*\(Endpoint Independent\|Address Dependent\|Address and Port Dependent\) Mapping.*/\1/p' "$tmp/coturn.txt" | head -n1)
		cf=$(sed -n 's/.*NAT with \(.*\) Filtering!.*/\1/p' "$tmp/coturn.txt" | head -n1)
		declare -A M=(["Endpoint Independent"]=eim ["Address Dependent"]=adm ["Address and Port Dependent"]=apdm)
		declare -A F=(["Endpoint Independent"]=eif ["Address Dependent"]=adf ["Address and Port Dependent"]=apdf)
		theirs="${M[$cm]:-none} ${F[$cf]:-none}"
		mine="$want_map $want_fil"
		[ "$want_map" = no-nat ] && mine="eim $want_fil" # coturn: "No NAT! (Endpoint Independent Mapping)"
		if [ "$theirs" != "$mine" ]; then
			echo "$topo: turnutils_natdiscovery says '$theirs', icelab '$mine'"; cat "$tmp/coturn.txt"
			failures=$((failures + 1))
		else
			echo "$topo: turnutils_natdiscovery agrees ($theirs)"
		fi
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
	bash "$NETNS" down "$NAME"
done
[ "$failures" -eq 0 ] || { echo "netns_discovery: $failures failed"; exit 1; }
echo "netns_discovery: ok"
