#!/usr/bin/env bash
# coturn's turnutils_uclient against `icelab serve` in ChannelData mode
# (ChannelBind, then ChannelData both ways; issue #3 §6) over UDP, TCP and
# TLS, with turnutils_peer as the echo peer, on loopback. No loss, no
# error.
#
# uclient picks channel numbers in 0x4000-0x7FFF (the RFC 5766 range);
# RFC 8656 §12 narrowed it to 0x4000-0x4FFF and a server answers 400
# outside it, which is icelab's default. The server here runs with
# --rfc5766-channels (legacy clients); a second one without it must
# refuse uclient's ChannelBinds above 0x4FFF.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools

read -r PORT TLS_PORT PEER_PORT <<<"$(il_free_ports 3)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IL_TMP/key.pem" -out "$IL_TMP/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || { echo "FAIL: openssl req"; exit 1; }

il_start peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
il_start serve "$ICELAB" serve --listen "127.0.0.1:$PORT" --tls-listen "127.0.0.1:$TLS_PORT" \
	--cert "$IL_TMP/cert.pem" --key "$IL_TMP/key.pem" --user alice:secret \
	--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay --workers 2 \
	--state-dir "$IL_TMP/state" --rfc5766-channels
il_wait_log "$IL_TMP/serve.log" "icelab serve ready" || { cat "$IL_TMP/serve.log"; exit 1; }

common=(-u alice -w secret -r "$PEER_PORT" -e 127.0.0.1 -X)
il_uclient udp-channels 50 4 "${common[@]}" -p "$PORT" 127.0.0.1
il_uclient tcp-channels 50 4 "${common[@]}" -t -p "$PORT" 127.0.0.1
il_uclient tls-channels 50 4 "${common[@]}" -t -S -p "$TLS_PORT" 127.0.0.1
il_uclient udp-channels-padded 50 2 "${common[@]}" -D -c -p "$PORT" 127.0.0.1

# The default (RFC 8656): uclient's 8 ChannelBinds, each with a number
# drawn from 0x4000-0x7FFF, cannot all fall in 0x4000-0x4FFF (odds 4^-8):
# the run must see 400s and fail to relay everything.
read -r STRICT_PORT <<<"$(il_free_ports 1)"
il_start serve-strict "$ICELAB" serve --listen "127.0.0.1:$STRICT_PORT" --user alice:secret \
	--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay --workers 1 \
	--state-dir "$IL_TMP/state" --no-tcp
il_wait_log "$IL_TMP/serve-strict.log" "icelab serve ready" ||
	{ cat "$IL_TMP/serve-strict.log"; exit 1; }
timeout 30 turnutils_uclient -n 5 -m 4 -l 100 "${common[@]}" -p "$STRICT_PORT" 127.0.0.1 \
	>"$IL_TMP/uclient-strict.log" 2>&1
if grep -q 'tot_send_msgs=20, tot_recv_msgs=20' "$IL_TMP/uclient-strict.log"; then
	il_fail "strict server relayed uclient's RFC 5766 channels (expected 400 above 0x4FFF)"
else
	il_pass "strict server (RFC 8656 default) refused channels above 0x4FFF"
fi
il_finish
