#!/usr/bin/env bash
# Real targets over streams (issue #6 §3, §6): `icelab check --target
# tcp://...` and `tls://...` (stun-server and turn-server, RFC 6062 among
# them) against `icelab serve` and coturn's turnserver, started here on
# loopback (ports 25000-25999) and stopped by PID. The TLS certificate is
# made here with `openssl req -x509` and verified with --ca.
#   icelab serve: every MUST passes (exit 0) over tcp:// and tls://; RFC
#                 6062 Connect to a refused peer gets 403 (production
#                 peer policy); --jobs gives the same verdicts as serial.
#   coturn:       no harness error; exit 1 without
#                 conformance/baselines/coturn-4.6.1.json, 0 with it.
# Bounded: each run under `timeout`; the whole script well under 60 s.
# Reports stay in $REPORTS (default build/tcp-tls-targets).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASELINE=conformance/baselines/coturn-4.6.1.json
REPORTS=${REPORTS:-build/tcp-tls-targets}
WAIT_PROTO=tcp
. conformance/tests/lib.bash
[ -x "$ICELAB" ] || fail "$ICELAB not built"
command -v openssl >/dev/null || { echo "tcp_tls_targets: no openssl: skipped"; exit 77; }
# One block of 100 ports of 25000-25999 per run: listeners at +0..+9,
# relays at +10..+99.
b=$((25000 + 100 * (RANDOM % 10)))

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || fail "openssl req failed"

# check NAME URI WANT_EXIT [args...]: one run, reports into $REPORTS/NAME.
check() {
	local name=$1 uri=$2 want=$3 rc
	shift 3
	set +e
	timeout 40 "$CHECK" --target "$uri" --ca "$tmp/cert.pem" --user alice --password secret \
		--user2 bob --password2 secret2 --out "$REPORTS/$name" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] || fail "$name: exit $rc, want $want: $(cat "$tmp/$name.err")"
	python3 - "$REPORTS/$name/latest/report.json" <<'PY' || fail "$name: harness errors: $(cat "$tmp/$name.err")"
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["error"] == 0 and s["pass"] > 0, s
PY
}

# verdict NAME TEST WANT: the verdict of one test in a report.
verdict() {
	python3 - "$REPORTS/$1/latest/report.json" "$2" "$3" <<'PY' || fail "$1: $2 is not $3"
import json, sys
t = [t for t in json.load(open(sys.argv[1]))["tests"] if t["id"] == sys.argv[2]]
assert t and t[0]["verdict"] == sys.argv[3], t
PY
}

# ---- icelab serve: loopback peers allowed, and production policy ----
"$ICELAB" serve --listen "127.0.0.1:$b" --tls-listen "127.0.0.1:$((b + 1))" \
	--cert "$tmp/cert.pem" --key "$tmp/key.pem" --user alice:secret --user bob:secret2 \
	--realm example.org --allow-peer 127.0.0.0/8 --allow-private-relay --workers 1 \
	--min-port $((b + 10)) --max-port $((b + 29)) >"$tmp/serve1.log" 2>&1 &
pids+=($!)
"$ICELAB" serve --listen "127.0.0.1:$((b + 2))" --user alice:secret --user bob:secret2 \
	--realm example.org --allow-private-relay --workers 1 \
	--min-port $((b + 30)) --max-port $((b + 39)) >"$tmp/serve2.log" 2>&1 &
pids+=($!)
wait_ready "$b" || fail "icelab serve on $b not ready: $(cat "$tmp/serve1.log")"
wait_ready $((b + 2)) || fail "icelab serve on $((b + 2)) not ready: $(cat "$tmp/serve2.log")"
suites=(--suite stun-server --suite turn-server)
check serve-tcp "tcp://127.0.0.1:$b" 0 "${suites[@]}"
check serve-tls "tls://localhost:$((b + 1))" 0 "${suites[@]}" --jobs 4
check serve-forbidden "tcp://127.0.0.1:$((b + 2))" 0 --test tcp-connect-forbidden-403
for t in stun-server/tcp-split-segments stun-server/tcp-pipelined-one-segment \
	turn-server/channeldata-tcp-framing turn-server/tcp-connect \
	turn-server/tcp-connection-attempt turn-server/tcp-connect-errors; do
	verdict serve-tcp "$t" pass
	verdict serve-tls "$t" pass
done
verdict serve-forbidden turn-server/tcp-connect-forbidden-403 pass
# --jobs changes nothing but the time: same tests, same order, same verdicts.
check serve-tls-serial "tls://localhost:$((b + 1))" 0 "${suites[@]}"
python3 - "$REPORTS/serve-tls/latest/report.json" "$REPORTS/serve-tls-serial/latest/report.json" <<'PY' ||
import json, sys
a, b = (json.load(open(p))["tests"] for p in sys.argv[1:])
assert [(t["id"], t["verdict"]) for t in a] == [(t["id"], t["verdict"]) for t in b]
PY
	fail "--jobs 4 and serial runs differ"
# A certificate that does not verify is a usage error (exit 2), before any test.
set +e
"$CHECK" --target "tls://127.0.0.1:$((b + 1))" --out - >/dev/null 2>"$tmp/noca.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "certificate verify failed" "$tmp/noca.err" ||
	fail "tls without --ca: exit $rc: $(cat "$tmp/noca.err")"

# ---- coturn ----
if ! command -v turnserver >/dev/null; then
	echo "tcp_tls_targets: icelab serve ok; coturn (turnserver) not installed: skipped"
	exit 0
fi
coturn() { # PORT TLSPORT MINPORT MAXPORT [extra flags]
	local port=$1 tls=$2 min=$3 max=$4
	shift 4
	turnserver -n --listening-ip=127.0.0.1 --listening-port="$port" --tls-listening-port="$tls" \
		--relay-ip=127.0.0.1 --min-port="$min" --max-port="$max" --lt-cred-mech \
		--realm example.org --user alice:secret --user bob:secret2 --cert="$tmp/cert.pem" \
		--pkey="$tmp/key.pem" --no-dtls --no-cli --pidfile="$tmp/coturn-$port.pid" \
		--log-file=stdout --simple-log "$@" >"$tmp/coturn-$port.log" 2>&1 &
	pids+=($!)
}
coturn $((b + 3)) $((b + 4)) $((b + 40)) $((b + 69)) --allow-loopback-peers
coturn $((b + 5)) $((b + 6)) $((b + 70)) $((b + 99))
wait_ready $((b + 3)) || fail "coturn on $((b + 3)) not ready: $(tail -5 "$tmp/coturn-$((b + 3)).log")"
wait_ready $((b + 5)) || fail "coturn on $((b + 5)) not ready: $(tail -5 "$tmp/coturn-$((b + 5)).log")"
check coturn-tcp "tcp://127.0.0.1:$((b + 3))" 1 "${suites[@]}"
check coturn-tcp-baseline "tcp://127.0.0.1:$((b + 3))" 0 "${suites[@]}" --baseline "$BASELINE"
check coturn-tls-baseline "tls://localhost:$((b + 4))" 0 "${suites[@]}" --baseline "$BASELINE" \
	--jobs 4
check coturn-forbidden "tcp://127.0.0.1:$((b + 5))" 0 --test tcp-connect-forbidden-403
verdict coturn-forbidden turn-server/tcp-connect-forbidden-403 pass
# The RFC 6062 deviations are coturn's, found over both transports.
for r in coturn-tcp coturn-tls-baseline; do
	verdict "$r" turn-server/tcp-connect-errors fail
	verdict "$r" turn-server/tcp-connect pass
done
# Every waiver of a stream-only test is used over TCP, and every test a
# waiver matches there says why.
python3 - "$BASELINE" "$REPORTS/coturn-tcp-baseline/latest/report.json" <<'PY' || fail "baseline and the TCP run disagree"
import json, sys
bl = json.load(open(sys.argv[1]))
tests = json.load(open(sys.argv[2]))["tests"]
for w in bl["waivers"]:
    hit = [t for t in tests if t["id"] == w["test"] and any(
        not c["ok"] and c["requirement"] == w.get("requirement", c["requirement"]) for c in t["checks"])]
    assert hit or not w["test"].startswith("turn-server/tcp-") or \
        w["reason"].startswith("intermittent"), "waiver matches nothing: %s" % w
    assert all(t["waived"] and t["waiver"] for t in hit), hit
PY
echo "tcp_tls_targets: ok (reports in $REPORTS)"
