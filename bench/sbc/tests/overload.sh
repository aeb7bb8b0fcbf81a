#!/usr/bin/env bash
# Overload degrades gracefully (issue #8 §7): `icelab serve --sbc` on
# loopback, 50 calls set up over ng, then far more RTP than it can forward
# for 3 s: 4000 packets/s per direction per call (400 000/s offered), and
# the server stopped (SIGSTOP) for 1 s of it, so every receive queue
# overflows on any machine, however fast or busy. Then 50 packets/s.
# Asserted: the blast did overload it (> 5 % lost); in the last 2 s EVERY
# stream is forwarded, in both directions (received > 0 per stream); the
# excess was dropped rather than queued for ever (recovery loss under
# 20 %); ng ping still answers.
# rtpengine under the same overload is shown for information only (it
# stops reading a socket for the rest of the call after a few receive-queue
# overflows, issue #8 §7); nothing about it is asserted.
#
# Exit 77 (skip) only when `icelab serve` has no --sbc yet.
# Ports: ng 23010 (icelab), 23011 (rtpengine); media 35000-35499 (icelab),
# 35500-35999 (rtpengine). Every process is stopped by PID.
cd "$(dirname "$0")/../../.." || exit 2
ICELAB=${ICELAB:-build/icelab}
LOADGEN=build/bench/sbc/sbc_loadgen
TMP=$(mktemp -d /tmp/icelab-overload.XXXXXX)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! "$ICELAB" serve --help 2>&1 | grep -q -- '--sbc'; then
	echo "SKIP !!! '$ICELAB serve' has no --sbc: the SBC overload test did NOT run !!!"
	exit 77
fi
make --no-print-directory -s "$LOADGEN" >"$TMP/make.log" 2>&1 ||
	{ cat "$TMP/make.log"; echo "FAIL: cannot build $LOADGEN"; exit 1; }

# Waits (bounded) for ng ping -> pong on 127.0.0.1:$1.
ng_ready() {
	python3 - "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
end = time.monotonic() + 10
while time.monotonic() < end:
    try:
        s.sendto(b"ov_ping d7:command4:pinge", ("127.0.0.1", int(sys.argv[1])))
        if b"pong" in s.recv(2048):
            sys.exit(0)
    except OSError:
        pass
sys.exit(1)
EOF
}

# Runs the overload on the ng server at port $1 (pid $2); JSON in $3.
overload() {
	"$LOADGEN" --ng "127.0.0.1:$1" --calls 50 --pid "$2" --warmup-ms 500 \
		--phase 4000:3000 --stall 500:1000 --phase 50:2500 >"$3" 2>"$3.err"
}

# Prints "blast_sent blast_fwd_pps blast_loss dead_ab dead_ba rec_loss ping".
summary() {
	python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
b, q = r["phases"]
print(b["sent_pps"], b["fwd_pps"], b["loss"], q["dead_a_to_b"], q["dead_b_to_a"], q["loss"],
      "yes" if r["ping_after"] else "no")
EOF
}

fails=0
"$ICELAB" serve --sbc --ng 127.0.0.1:23010 --bind 127.0.0.1 --advertised 127.0.0.1 \
	--allow-private-advertised --port-min 35000 --port-max 35499 >"$TMP/icelab.log" 2>&1 &
ICELAB_PID=$!
PIDS+=("$ICELAB_PID")
if ! ng_ready 23010; then
	tail -20 "$TMP/icelab.log"
	echo "FAIL: icelab serve --sbc does not answer ng ping on 127.0.0.1:23010"
	exit 1
fi
if ! overload 23010 "$ICELAB_PID" "$TMP/icelab.json"; then
	cat "$TMP/icelab.json.err"
	echo "FAIL: the load generator could not run against icelab"
	exit 1
fi
read -r sent fwd loss dab dba rloss ping <<<"$(summary "$TMP/icelab.json")"
echo "icelab: blast offered ${sent} pkt/s, forwarded ${fwd} pkt/s (loss ${loss});" \
	"recovery: ${dab}/50 streams A->B and ${dba}/50 B->A dead, loss ${rloss}; ping: ${ping}"
if [ "$dab" != 0 ] || [ "$dba" != 0 ]; then
	echo "FAIL: icelab: streams died after the overload ($dab A->B, $dba B->A)"
	fails=$((fails + 1))
fi
if ! python3 -c "import sys; sys.exit(0 if float('$rloss') < 0.2 else 1)"; then
	echo "FAIL: icelab: ${rloss} of the recovery phase lost (excess queued, not dropped?)"
	fails=$((fails + 1))
fi
if [ "$ping" != yes ] || ! kill -0 "$ICELAB_PID" 2>/dev/null; then
	echo "FAIL: icelab serve --sbc stopped answering after the overload"
	fails=$((fails + 1))
fi
if ! python3 -c "import sys; sys.exit(0 if float('$loss') > 0.05 else 1)"; then
	echo "FAIL: the blast was not an overload (loss ${loss}): the test proved nothing"
	fails=$((fails + 1))
fi

# rtpengine, the same overload, for information.
if command -v rtpengine >/dev/null; then
	rtpengine --config-file=none --table=-1 --interface=127.0.0.1 \
		--listen-ng=127.0.0.1:23011 --port-min=35500 --port-max=35999 --foreground \
		--delete-delay=0 >"$TMP/rtpengine.log" 2>&1 &
	RTPE_PID=$!
	PIDS+=("$RTPE_PID")
	if ng_ready 23011 && overload 23011 "$RTPE_PID" "$TMP/rtpengine.json"; then
		read -r sent fwd loss dab dba rloss ping <<<"$(summary "$TMP/rtpengine.json")"
		echo "rtpengine (information only): blast offered ${sent} pkt/s, forwarded ${fwd}" \
			"pkt/s (loss ${loss}); recovery: ${dab}/50 streams A->B and ${dba}/50 B->A" \
			"dead, loss ${rloss}; ping: ${ping}"
	else
		echo "rtpengine (information only): did not run"
	fi
fi
[ "$fails" -eq 0 ] && echo "ok: every stream flows after the overload; ng ping answers"
[ "$fails" -eq 0 ]
