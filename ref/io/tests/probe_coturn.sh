#!/usr/bin/env bash
# `icelab probe` against coturn's turnserver (issue #3 §6), on loopback:
# Binding over UDP, TCP and TLS (a self-signed certificate, trusted with
# --ca; refused without it); Allocate over UDP, TCP and TLS with
# turnutils_peer as the echo peer, through a channel and with Send
# indications: a relayed address, every echo back, the release. Then the
# failures: a wrong password, a realm that is not the server's, MD5
# refused (coturn offers nothing else), and TURN REST credentials against
# a second turnserver with --use-auth-secret. Both servers are stopped by
# PID.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/probe_lib.bash
pr_require turnserver turnutils_peer openssl python3

read -r PORT TLS_PORT PEER_PORT REST_PORT <<<"$(pr_free_ports 4)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PR_TMP/key.pem" -out "$PR_TMP/cert.pem" \
	-days 1 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	>/dev/null 2>&1 || { echo "FAIL: openssl req"; exit 1; }

# coturn's own flags: loopback only, no CLI, no DTLS, a test user, the
# log on stdout (into our log file), its pid file in our directory.
MIN=$((40000 + RANDOM % 80 * 100))
common=(--listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --allow-loopback-peers --no-cli
	--no-dtls --realm=example.org --log-file=stdout --simple-log)
pr_start turnserver turnserver "${common[@]}" -p "$PORT" --tls-listening-port="$TLS_PORT" \
	--cert="$PR_TMP/cert.pem" --pkey="$PR_TMP/key.pem" --lt-cred-mech --user=alice:secret \
	--min-port="$MIN" --max-port=$((MIN + 49)) --pidfile="$PR_TMP/turnserver.pid"
pr_start turnserver-rest turnserver "${common[@]}" -p "$REST_PORT" --no-tls \
	--use-auth-secret --static-auth-secret=s3cr3t-text \
	--min-port=$((MIN + 50)) --max-port=$((MIN + 99)) --pidfile="$PR_TMP/turnserver-rest.pid"
pr_start peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"

pr_wait_binding "udp://127.0.0.1:$PORT" || { pr_fail "turnserver does not answer"; pr_finish; }
pr_wait_binding "tls://127.0.0.1:$TLS_PORT" --insecure || pr_fail "turnserver TLS does not answer"
pr_wait_binding "udp://127.0.0.1:$REST_PORT" || pr_fail "REST turnserver does not answer"

# Binding over the three transports.
pr_check_binding udp "udp://127.0.0.1:$PORT"
[[ $(pr_json "$PR_TMP/udp.json" 'j["software"]') == Coturn* ]] ||
	pr_fail "binding udp: SOFTWARE is not coturn's: $(pr_json "$PR_TMP/udp.json" 'j["software"]')"
pr_check_binding tcp "tcp://127.0.0.1:$PORT"
pr_check_binding tls "tls://127.0.0.1:$TLS_PORT" --ca "$PR_TMP/cert.pem"
pr_check_binding tls-insecure "tls://127.0.0.1:$TLS_PORT" --insecure
pr_check_exit tls-untrusted 1 "certificate not trusted" binding "tls://127.0.0.1:$TLS_PORT"

# Allocate, a channel to the echo peer, 20 datagrams and back, release.
peer=(--user alice --password secret --peer "127.0.0.1:$PEER_PORT" --count 20 --interval 5)
pr_check_allocate udp MD5 "turn:127.0.0.1:$PORT?transport=udp" "${peer[@]}"
pr_check_allocate tcp MD5 "turn:127.0.0.1:$PORT?transport=tcp" "${peer[@]}"
pr_check_allocate tls MD5 "turns:127.0.0.1:$TLS_PORT" "${peer[@]}" --ca "$PR_TMP/cert.pem"
pr_check_allocate udp-send-indications MD5 "turn:127.0.0.1:$PORT" "${peer[@]}" --send-indications
pr_check_allocate tcp-send-indications MD5 "turn:127.0.0.1:$PORT?transport=tcp" "${peer[@]}" \
	--send-indications --realm example.org
f=$PR_TMP/udp.json
if [ "$(pr_json "$f" 'j["peer"]["channel"]')" = "16384" ] &&
	[ "$(pr_json "$f" 'j["integrity"]')" = "MESSAGE-INTEGRITY" ] &&
	[ "$(pr_json "$f" 'j["lifetime_s"]')" = "600" ]; then
	pr_pass "allocate udp: channel 0x4000, MESSAGE-INTEGRITY, lifetime 600 s"
else
	pr_fail "allocate udp: channel/integrity/lifetime: $(cat "$f")"
fi

# Failures: each one a clear line and exit 1.
pr_check_exit wrong-password 1 "error 401" allocate "turn:127.0.0.1:$PORT" --user alice \
	--password wrong
pr_check_exit other-realm 1 "credentials not sent" allocate "turn:127.0.0.1:$PORT" \
	--user alice --password secret --realm other.org
pr_check_exit no-md5 1 "MD5" allocate "turn:127.0.0.1:$PORT" --user alice --password secret \
	--no-md5
pr_check_exit bad-usage 2 "turn:HOST" allocate "http://127.0.0.1:$PORT" --user alice \
	--password secret

# TURN REST: the credential computed from the shared secret's text.
printf 's3cr3t-text\n' >"$PR_TMP/rest.secret"
printf 'not-the-secret\n' >"$PR_TMP/bad.secret"
pr_check_allocate rest MD5 "turn:127.0.0.1:$REST_PORT" --user bob --rest-secret \
	"$PR_TMP/rest.secret" --peer "127.0.0.1:$PEER_PORT" --count 5 --interval 5
pr_check_exit rest-wrong-secret 1 "error 401" allocate "turn:127.0.0.1:$REST_PORT" --user bob \
	--rest-secret "$PR_TMP/bad.secret"

# The pid files name the processes we started; stop them by PID.
for name in turnserver turnserver-rest; do
	pid=$(cat "$PR_TMP/$name.pid" 2>/dev/null)
	var="PID_${name//-/_}"
	if [ -n "$pid" ] && [ "$pid" != "${!var}" ]; then
		pr_fail "$name: pid file says $pid, started $((${!var}))"
	fi
done
pr_finish
