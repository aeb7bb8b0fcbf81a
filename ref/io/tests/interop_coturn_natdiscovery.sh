#!/usr/bin/env bash
# RFC 5780 behaviour discovery in `icelab serve` (--other-address), judged
# by coturn's turnutils_natdiscovery, on loopback: A1 = 127.0.0.1,
# A2 = 127.0.0.2 (both are on lo). A loopback path has no NAT, so the
# client must find endpoint-independent mapping and filtering, and the
# responses to CHANGE-REQUEST must come from the other IP and port. Without
# --other-address the RFC 5780 attributes are unknown (420) and the
# discovery cannot conclude.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools
command -v turnutils_natdiscovery >/dev/null || { echo "skip: turnutils_natdiscovery"; exit 0; }

read -r P1 P2 PLAIN <<<"$(il_free_ports 3)"
il_start serve "$ICELAB" serve --listen "127.0.0.1:$P1" --other-address "127.0.0.2:$P2" \
	--user alice:secret --realm example.org --workers 2 --state-dir "$IL_TMP/state"
il_wait_log "$IL_TMP/serve.log" "icelab serve ready" || { cat "$IL_TMP/serve.log"; exit 1; }

out=$(timeout 30 turnutils_natdiscovery -m -f -p "$P1" 127.0.0.1 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'NAT with Endpoint Independent Mapping' <<<"$out" &&
	grep -q 'NAT with Endpoint Independent Filtering' <<<"$out"; then
	il_pass "natdiscovery: endpoint-independent mapping and filtering"
else
	il_fail "natdiscovery rc=$rc: $(grep -E 'NAT|rror' <<<"$out" | head -n4)"
fi
# The mapping test's second request went to A2:P1 and was answered from
# there (OTHER-ADDRESS then A1:P2); the change-IP-and-port answer of the
# filtering test left from A2:P2; OTHER-ADDRESS of a request to A1:P1 is
# A2:P2.
if grep -q "Response origin: : 127.0.0.2:$P1" <<<"$out" &&
	grep -q "Other addr: : 127.0.0.1:$P2" <<<"$out" &&
	grep -q "Response origin: : 127.0.0.2:$P2" <<<"$out" &&
	grep -q "Other addr: : 127.0.0.2:$P2" <<<"$out"; then
	il_pass "answers from A2:P1 and, on CHANGE-REQUEST, from A2:P2; OTHER-ADDRESS right"
else
	il_fail "response origins: $(grep -E 'origin|Other' <<<"$out" | sort -u | head -n6)"
fi
# Every one of the four addresses answers a plain Binding.
for hp in "127.0.0.1 $P1" "127.0.0.1 $P2" "127.0.0.2 $P1" "127.0.0.2 $P2"; do
	set -- $hp
	# One retry: stunclient also binds its local port + 1 for its RFC 5780
	# probes, which another process may hold (seen once in ~15 runs).
	for try in 1 2; do
		timeout 10 turnutils_stunclient -p "$2" "$1" >"$IL_TMP/stun-$1-$2.log" 2>&1
		rc=$?
		grep -q 'UDP reflexive addr: 127.0.0.1:' "$IL_TMP/stun-$1-$2.log" && break
	done
	if grep -q 'UDP reflexive addr: 127.0.0.1:' "$IL_TMP/stun-$1-$2.log"; then
		il_pass "Binding on $1:$2"
	else
		il_fail "no Binding answer on $1:$2 (rc=$rc): $(tail -n3 "$IL_TMP/stun-$1-$2.log")"
	fi
done

# Off by default: CHANGE-REQUEST is an unknown attribute (420).
il_start serve-plain "$ICELAB" serve --listen "127.0.0.1:$PLAIN" --user alice:secret \
	--realm example.org --workers 1 --state-dir "$IL_TMP/state"
il_wait_log "$IL_TMP/serve-plain.log" "icelab serve ready" || { cat "$IL_TMP/serve-plain.log"; exit 1; }
out=$(timeout 30 turnutils_natdiscovery -m -f -p "$PLAIN" 127.0.0.1 2>&1)
if grep -q 'Endpoint Independent' <<<"$out"; then
	il_fail "discovery concluded against a server without --other-address"
else
	il_pass "without --other-address discovery is refused"
fi

# A bad other-address is one line and exit 2.
"$ICELAB" serve --listen "127.0.0.1:$P1" --other-address "127.0.0.1:$P2" --check-config \
	--state-dir "$IL_TMP/state" >"$IL_TMP/bad.log" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'other-address' "$IL_TMP/bad.log"; then
	il_pass "other-address on A1's IP refused (exit 2)"
else
	il_fail "bad other-address: exit $rc: $(head -n2 "$IL_TMP/bad.log")"
fi
il_finish
