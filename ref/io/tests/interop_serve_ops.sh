#!/usr/bin/env bash
# Operating `icelab serve` (issue #3 §2-3), checked with coturn's clients on
# loopback: a config file, a bad value (exit 2, one line naming option and
# place), TURN REST credentials (turnutils_uclient -W with the tenant's
# secret file; --print-credentials; --rotate-secret with its grace period
# and SIGHUP), a second tenant on its own listener, and 508 at once when
# the relay port range is exhausted.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools

read -r PORT PORT_B PEER_PORT RELAY_LO <<<"$(il_free_ports 4)"
STATE=$IL_TMP/state
CONF=$IL_TMP/serve.conf
cat >"$CONF" <<EOF
# default tenant
listen = 127.0.0.1:$PORT
realm = example.org
user = alice:secret
allow-peer = 127.0.0.0/8
allow-private-relay = true
state-dir = $STATE
workers = 2
rest-ttl = 600
log-level = info

[tenant acme]
realm = acme.example
listen = 127.0.0.1:$PORT_B
user = carol:pw
EOF

# A bad value: exit 2 and one line naming the option and the place.
printf 'min-port = 70000\n' >"$IL_TMP/bad.conf"
out=$("$ICELAB" serve --config "$IL_TMP/bad.conf" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "bad.conf:1: min-port:" <<<"$out"; then
	il_pass "bad config value: exit 2, '$out'"
else
	il_fail "bad config value: rc=$rc '$out'"
fi
out=$("$ICELAB" serve --config "$CONF" --max-port x 2>&1)
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--max-port:" <<<"$out" && il_pass "bad flag: exit 2, '$out'" ||
	il_fail "bad flag: rc=$rc '$out'"
"$ICELAB" serve --config "$CONF" --check-config >/dev/null 2>&1 && il_pass "--check-config" ||
	il_fail "--check-config on a good file"

il_start peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
il_start serve "$ICELAB" serve --config "$CONF"
SERVE_LOG=$IL_TMP/serve.log
il_wait_log "$SERVE_LOG" "icelab serve ready" || { cat "$SERVE_LOG"; echo "FAIL: no start"; exit 1; }

# The secret was made on first start: 0600, 64 hex digits.
secret_file=$STATE/default/secret
mode=$(stat -c %a "$secret_file" 2>/dev/null)
secret=$(cat "$secret_file" 2>/dev/null)
if [ "$mode" = 600 ] && [[ $secret =~ ^[0-9a-f]{64}$ ]]; then
	il_pass "REST secret created, mode 0600"
else
	il_fail "REST secret: mode '$mode', content '${secret:0:8}...'"
fi

common=(-r "$PEER_PORT" -s -c -e 127.0.0.1 -p "$PORT" -X 127.0.0.1)
il_uclient static-user 20 2 -u alice -w secret "${common[@]}"
il_uclient rest-W 20 2 -W "$secret" -u webrtc "${common[@]}"
if timeout 30 turnutils_uclient -n 2 -m 2 -W "0000$secret" -u webrtc "${common[@]}" \
	>"$IL_TMP/uclient-rest-wrong.log" 2>&1 && grep -q 'tot_recv_msgs=4' "$IL_TMP/uclient-rest-wrong.log"; then
	il_fail "REST with a wrong secret relayed data"
else
	il_pass "REST with a wrong secret refused"
fi

# --print-credentials: an iceServers JSON whose credential logs in.
json=$("$ICELAB" serve --config "$CONF" --print-credentials default 2>&1)
read -r rest_user rest_pass urls <<<"$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])["iceServers"][0]
print(s["username"], s["credential"], ",".join(s["urls"]))' "$json" 2>/dev/null)"
if [[ $urls == *"turn:127.0.0.1:$PORT?transport=udp"* ]] && [ -n "$rest_pass" ]; then
	il_pass "print-credentials: $urls"
else
	il_fail "print-credentials: $json"
fi
il_uclient rest-printed 20 2 -u "$rest_user" -w "$rest_pass" "${common[@]}"

# --rotate-secret, then SIGHUP: the new secret works, and the printed
# credential (made before the rotation) still does during the grace.
"$ICELAB" serve --config "$CONF" --rotate-secret default >/dev/null 2>&1 ||
	il_fail "--rotate-secret"
new_secret=$(cat "$secret_file")
[ "$new_secret" != "$secret" ] && [ -f "$STATE/default/secret.previous" ] &&
	il_pass "secret rotated" || il_fail "secret not rotated"
kill -HUP "$PID_serve"
sleep 0.5
il_uclient rest-new-secret 20 2 -W "$new_secret" -u webrtc "${common[@]}"
il_uclient rest-old-credential-in-grace 20 2 -u "$rest_user" -w "$rest_pass" "${common[@]}"

# Tenant acme on its own listener: its user logs in there, alice does not.
acme=(-r "$PEER_PORT" -s -c -e 127.0.0.1 -p "$PORT_B" -X 127.0.0.1)
il_uclient tenant-acme 20 2 -u carol -w pw "${acme[@]}"
if timeout 30 turnutils_uclient -n 2 -m 2 -u alice -w secret "${acme[@]}" \
	>"$IL_TMP/uclient-acme-alice.log" 2>&1 && grep -q 'tot_recv_msgs=4' "$IL_TMP/uclient-acme-alice.log"; then
	il_fail "alice (default tenant) was let in on acme's listener"
else
	il_pass "tenants are separate"
fi
kill -TERM "$PID_serve"
timeout 10 tail --pid="$PID_serve" -f /dev/null || il_fail "SIGTERM: still running"

# Relay ports exhausted: two ports for four allocations; the extra ones
# get 508 at once, and the log says so once a second, not per request.
il_start serve2 "$ICELAB" serve --listen "127.0.0.1:$PORT" --user alice:secret \
	--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay --workers 1 \
	--min-port "$RELAY_LO" --max-port "$((RELAY_LO + 1))" --state-dir "$STATE"
il_wait_log "$IL_TMP/serve2.log" "icelab serve ready" || { cat "$IL_TMP/serve2.log"; exit 1; }
start=$(date +%s%N)
timeout 30 turnutils_uclient -n 5 -m 4 -u alice -w secret "${common[@]}" >"$IL_TMP/uclient-508.log" 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
refused=$(grep -c '508' "$IL_TMP/uclient-508.log")
warns=$(grep -c 'allocation refused' "$IL_TMP/serve2.log")
if [ "$refused" -ge 1 ] && [ "$warns" -le 3 ]; then
	il_pass "relay ports exhausted: 508 seen by uclient ($refused lines, ${ms} ms), $warns warning line(s)"
else
	il_fail "relay ports exhausted: 508 lines $refused, server warnings $warns"
	tail -n 5 "$IL_TMP/uclient-508.log" | sed 's/^/    /'
fi
il_finish
