# Shared by pcaps/tests/srtp_tls_call.sh and replay_sim.sh (sourced; not a
# test itself: scripts/test.sh runs *.sh only). Sets PCAP (build/icelab
# pcap when it is at least as new as the stand-alone pcap_main, which
# tests the same cli/pcap_cmd.c), fail=0 and a temporary directory $tmp
# removed on exit; check NAME STATUS CMD... runs CMD (at most 60 s) into
# $tmp/out and $tmp/err and wants exit STATUS; json NAME EXPR asserts a
# Python expression over d (the JSON in $tmp/out), c (its "cells") and
# cap (its "capture"). Messages are prefixed with $T_NAME.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PCAP=${PCAP_CMD:-}
if [ -z "$PCAP" ]; then
	if build/icelab pcap --help >/dev/null 2>&1 &&
		! [ build/pcaps/tests/pcap_main -nt build/icelab ]; then PCAP="build/icelab pcap"
	else PCAP="build/pcaps/tests/pcap_main"; fi
fi
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() {
	local name=$1 want=$2; shift 2
	timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "$T_NAME: $name: exit $rc, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1
	fi
}
json() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d.get('cells',[]); cap=d.get('capture',{}); assert $2, d" \
		"$tmp/out" >/dev/null 2>"$tmp/pyerr" || { echo "$T_NAME: $1"; tail -1 "$tmp/pyerr"; fail=1; }
}
