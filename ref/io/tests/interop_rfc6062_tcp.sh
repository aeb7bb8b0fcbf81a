#!/usr/bin/env bash
# RFC 6062 TCP relaying through `icelab serve` on loopback, with a small
# client written from the RFC (rfc6062_client_lib.python: Allocate with
# REQUESTED-TRANSPORT=TCP, Connect, ConnectionBind, ConnectionAttempt) and
# TCP echo peers: outgoing connect and 200 kB spliced both ways, 447 for a
# closed port, inbound connections refused without permission and
# delivered (with the bytes sent before the bind) with it, close
# propagation. (coturn's turnutils_uclient -T only relays between its own
# clients, peers that are our own relayed addresses, which the TURN-loop
# rule of RFC 8656 §21.1.7 refuses.)
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools

read -r PORT <<<"$(il_free_ports 1)"
il_start serve "$ICELAB" serve --listen "127.0.0.1:$PORT" --user alice:secret \
	--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay --workers 1 \
	--state-dir "$IL_TMP/state" --no-udp
il_wait_log "$IL_TMP/serve.log" "icelab serve ready" || { cat "$IL_TMP/serve.log"; exit 1; }

timeout 60 python3 ref/io/tests/rfc6062_client_lib.python "$PORT" alice secret >"$IL_TMP/client.log" 2>&1
rc=$?
cat "$IL_TMP/client.log"
[ "$rc" -eq 0 ] || il_fail "rfc6062_client_lib.python exit $rc"
if grep -q ' error ' "$IL_TMP/serve.log"; then
	il_fail "server logged errors: $(grep ' error ' "$IL_TMP/serve.log" | head -n3)"
fi
kill -TERM "$PID_serve"
timeout 10 tail --pid="$PID_serve" -f /dev/null || il_fail "SIGTERM: still running"
il_finish
