#!/usr/bin/env bash
# Kernel mode (issue #4 §4): a host behind a Linux NAT router and a
# "public" side, built with network namespaces, veth pairs and nftables,
# so that binaries we did not write can be put behind a real NAT.
#
#   NAME-host  eth0 10.0.0.2/24, default via 10.0.0.1
#   NAME-nat   lan0 10.0.0.1/24 | wan0 198.51.100.254/24, forwarding, nftables
#   NAME-pub   eth0 198.51.100.1/24 and 198.51.100.2/24 (a server's two addresses)
#
# Addresses are documentation (RFC 5737) and private ones, inside the
# namespaces only: no veth reaches the host's own namespace, no namespace
# has a route out, so nothing can leave the machine.
#
#   netns.sh up TOPOLOGY [NAME]   TOPOLOGY: full-cone, port-restricted-cone,
#                                 symmetric, udp-blocked, open (no NAT)
#   netns.sh down NAME            deletes NAME-host, NAME-nat, NAME-pub
#   netns.sh list                 namespaces this script made (icl-*)
#   netns.sh topologies
#
# `up` deletes what it made when any step fails. sim/README.md says which
# RFC 4787 behaviours each topology reproduces exactly.
set -euo pipefail

TOPOLOGIES="full-cone port-restricted-cone symmetric udp-blocked open"
EXT=198.51.100.254
HOST=10.0.0.2

die() { echo "netns: $*" >&2; exit 2; }

ruleset() { # topology -> nft script on stdout
	local masq="masquerade"
	local fwd="policy drop; ct state established,related accept; iifname \"lan0\" accept;"
	local pre="" hairpin=""
	case $1 in
	full-cone)
		# EIM: masquerade keeps the source port whenever the tuple stays
		# unique, and inbound to the external address goes to the one
		# inside host with its port: EIF. Hairpin: inside to the external
		# address is sent back in, its source the external address.
		pre="iifname { \"wan0\", \"lan0\" } ip daddr $EXT udp dport 1024-65535 dnat to $HOST"
		hairpin="oifname \"lan0\" ct status dnat ip saddr 10.0.0.0/24 snat to $EXT"
		fwd="policy accept;"
		;;
	port-restricted-cone)
		# EIM by port preservation; conntrack lets in only replies from
		# the exact address and port: APDF.
		;;
	symmetric)
		# A random external port per conntrack entry (per destination
		# address and port): APDM; APDF as above.
		masq="masquerade random"
		;;
	udp-blocked)
		fwd="policy drop; ct state established,related accept; iifname \"lan0\" tcp dport 443 accept;"
		;;
	*) die "unknown topology '$1' ($TOPOLOGIES)" ;;
	esac
	cat <<NFT
table ip icelab {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		$pre
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" $masq
		$hairpin
	}
	chain forwarding {
		type filter hook forward priority filter; $fwd
	}
}
NFT
}

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

cmd_down() {
	local name=$1 rc=0
	for role in host nat pub; do
		if ns_exists "$name-$role"; then
			ip netns del "$name-$role" || rc=1
		fi
	done
	return $rc
}

cmd_up() {
	local topo=$1 name=${2:-icl-$$}
	case " $TOPOLOGIES " in *" $topo "*) ;; *) die "unknown topology '$topo' ($TOPOLOGIES)" ;; esac
	[[ $name =~ ^[A-Za-z0-9_.-]{1,40}$ ]] || die "bad name '$name'"
	for role in host nat pub; do
		ns_exists "$name-$role" && die "namespace $name-$role exists already"
	done
	command -v ip >/dev/null || die "ip (iproute2) is not installed"
	[ "$topo" = open ] || command -v nft >/dev/null || die "nft (nftables) is not installed"
	trap 'cmd_down "$name" >/dev/null 2>&1 || true' ERR
	local h=$name-host n=$name-nat p=$name-pub
	ip netns add "$h"
	ip netns add "$n"
	ip netns add "$p"
	for ns in "$h" "$n" "$p"; do ip -n "$ns" link set lo up; done
	if [ "$topo" = open ]; then
		# No NAT: the host sits on the public segment (198.51.100.10).
		ip link add eth0 netns "$h" type veth peer name eth0 netns "$p"
		ip -n "$h" addr add 198.51.100.10/24 dev eth0
		ip -n "$h" link set eth0 up
	else
		ip link add eth0 netns "$h" type veth peer name lan0 netns "$n"
		ip link add wan0 netns "$n" type veth peer name eth0 netns "$p"
		ip -n "$h" addr add $HOST/24 dev eth0
		ip -n "$h" link set eth0 up
		ip -n "$h" route add default via 10.0.0.1
		ip -n "$n" addr add 10.0.0.1/24 dev lan0
		ip -n "$n" addr add $EXT/24 dev wan0
		ip -n "$n" link set lan0 up
		ip -n "$n" link set wan0 up
		ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
		ruleset "$topo" | ip netns exec "$n" nft -f -
	fi
	ip -n "$p" addr add 198.51.100.1/24 dev eth0
	ip -n "$p" addr add 198.51.100.2/24 dev eth0
	ip -n "$p" link set eth0 up
	trap - ERR
	echo "topology $topo"
	echo "host $h"
	echo "nat $n"
	echo "pub $p"
	echo "server 198.51.100.1 198.51.100.2"
	[ "$topo" = open ] || echo "external $EXT"
}

case ${1:-} in
up) [ $# -ge 2 ] || die "usage: netns.sh up TOPOLOGY [NAME]"; cmd_up "$2" "${3:-}" ;;
down) [ $# -eq 2 ] || die "usage: netns.sh down NAME"; cmd_down "$2" ;;
list) ip netns list | awk '{print $1}' | grep -E -- '-(host|nat|pub)$' || true ;;
topologies) echo "$TOPOLOGIES" | tr ' ' '\n' ;;
*) die "usage: netns.sh up TOPOLOGY [NAME] | down NAME | list | topologies" ;;
esac
