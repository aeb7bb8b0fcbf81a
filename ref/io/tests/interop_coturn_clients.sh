#!/usr/bin/env bash
# coturn's own clients against `icelab serve` (issue #3 §6), on loopback:
# turnutils_stunclient (Binding), and turnutils_uclient through a relay to
# turnutils_peer (the echo peer) with Send indications over UDP, TCP and
# TLS, IPv4 and IPv6; a SIGHUP in the middle of a run (no loss: the
# allocations stay), a user added by reload, metrics, SIGTERM.
# ChannelData mode is interop_coturn_channels.sh.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools

read -r PORT TLS_PORT PEER_PORT METRICS_PORT <<<"$(il_free_ports 4)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IL_TMP/key.pem" -out "$IL_TMP/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || { echo "FAIL: openssl req"; exit 1; }
printf 'alice:secret\n' >"$IL_TMP/users"

il_start peer turnutils_peer -L 127.0.0.1 -L ::1 -p "$PEER_PORT"
il_start serve "$ICELAB" serve --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" \
	--tls-listen "127.0.0.1:$TLS_PORT" --cert "$IL_TMP/cert.pem" --key "$IL_TMP/key.pem" \
	--users-file "$IL_TMP/users" --realm example.org --allow-peer 127.0.0.0/8 \
	--allow-peer ::1/128 --allow-private-relay --workers 2 --state-dir "$IL_TMP/state" \
	--metrics "127.0.0.1:$METRICS_PORT"
SERVE_LOG=$IL_TMP/serve.log
il_wait_log "$SERVE_LOG" "icelab serve ready" || { cat "$SERVE_LOG"; echo "FAIL: no start"; exit 1; }

# Binding (RFC 8489): the reflexive address is the client's own.
out=$(timeout 10 turnutils_stunclient -p "$PORT" 127.0.0.1 2>&1)
if grep -q 'UDP reflexive addr: 127.0.0.1:' <<<"$out"; then
	il_pass "stunclient IPv4"
else
	il_fail "stunclient IPv4: $out"
fi

common=(-u alice -w secret -r "$PEER_PORT" -s)
il_uclient udp-send 50 4 "${common[@]}" -e 127.0.0.1 -p "$PORT" -X 127.0.0.1
il_uclient tcp-send 50 4 "${common[@]}" -t -e 127.0.0.1 -p "$PORT" -X 127.0.0.1
il_uclient tls-send 50 4 "${common[@]}" -t -S -e 127.0.0.1 -p "$TLS_PORT" -X 127.0.0.1
il_uclient udp6-send 50 2 "${common[@]}" -c -e ::1 -p "$PORT" -x ::1
# Without -c uclient also makes an RTCP allocation: it reserves the next
# port with EVEN-PORT (R bit) and claims it with a RESERVATION-TOKEN, and
# the reserved family (IPv6 here) must be the one handed out.
il_uclient udp6-rtcp-token 20 2 "${common[@]}" -e ::1 -p "$PORT" -x ::1
il_uclient tcp6-send 50 2 "${common[@]}" -c -t -e ::1 -p "$PORT" -x ::1

# SIGHUP while traffic flows: the allocations survive, nothing is lost;
# bob, added to the users file, can log in afterwards.
printf 'alice:secret\nbob:hunter2\n' >"$IL_TMP/users"
( sleep 1; kill -HUP "$PID_serve" ) &
IL_PIDS+=("$!")
il_uclient udp-send-across-sighup 150 2 "${common[@]}" -e 127.0.0.1 -p "$PORT" -X 127.0.0.1
if grep -q 'configuration reloaded' "$SERVE_LOG"; then
	il_pass "SIGHUP reload logged"
else
	il_fail "no 'configuration reloaded' after SIGHUP"
fi
il_uclient udp-send-bob 20 2 -u bob -w hunter2 -r "$PEER_PORT" -s -e 127.0.0.1 -p "$PORT" -X 127.0.0.1

# A wrong password is refused (and the run reports it).
if timeout 30 turnutils_uclient -n 2 -m 1 -u alice -w wrong -r "$PEER_PORT" -s -e 127.0.0.1 \
	-p "$PORT" -X 127.0.0.1 >"$IL_TMP/uclient-wrong.log" 2>&1 &&
	grep -q 'tot_recv_msgs=2' "$IL_TMP/uclient-wrong.log"; then
	il_fail "a wrong password relayed data"
else
	il_pass "wrong password refused"
fi

# Metrics: the allocations made above are counted.
sleep 1.2 # snapshots are published once a second
metrics=$(il_metrics 127.0.0.1 "$METRICS_PORT" 2>&1)
created=$(sed -n 's/^icelab_allocations_created_total \([0-9]*\)$/\1/p' <<<"$metrics")
auth=$(sed -n 's/^icelab_auth_failures_total \([0-9]*\)$/\1/p' <<<"$metrics")
if [ "${created:-0}" -ge 10 ] && [ "${auth:-0}" -ge 1 ]; then
	il_pass "metrics: $created allocations created, $auth auth failures"
else
	il_fail "metrics: created='$created' auth='$auth'"
	head -n 20 <<<"$metrics" | sed 's/^/    /'
fi

# The server logged no error, and SIGTERM stops it cleanly.
if grep -q ' error ' "$SERVE_LOG"; then
	il_fail "server logged errors: $(grep ' error ' "$SERVE_LOG" | head -n3)"
fi
kill -TERM "$PID_serve"
if timeout 10 tail --pid="$PID_serve" -f /dev/null; then
	wait "$PID_serve"
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'stopped' "$SERVE_LOG"; then
		il_pass "SIGTERM: stopped, exit 0"
	else
		il_fail "SIGTERM: exit $rc"
	fi
else
	il_fail "SIGTERM: still running after 10 s"
fi
il_finish
