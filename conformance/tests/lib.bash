# What conformance/tests/*_targets.sh share; sourced after `cd` to the
# repo root and after REPORTS is set (named .bash: scripts/test.sh runs
# every tests/*.sh). Gives CHECK, ICELAB, $tmp (removed on exit), pids
# (servers started by the caller, stopped by PID on exit, never by name),
# fail() named after the caller, an empty $REPORTS, and wait_ready.
CHECK=${CHECK:-build/conformance/check_main}
ICELAB=${ICELAB:-build/icelab}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }
[ -x "$CHECK" ] || fail "$CHECK not built"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"

# Waits until a STUN Binding to 127.0.0.1:$1 is answered (<= 3 s), over
# UDP, or over TCP when WAIT_PROTO=tcp.
wait_ready() {
	for _ in $(seq 30); do
		if python3 - "$1" "${WAIT_PROTO:-udp}" <<'PY' 2>/dev/null; then return 0; fi
import os, socket, sys
req = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + os.urandom(12)
addr = ("127.0.0.1", int(sys.argv[1]))
if sys.argv[2] == "tcp":
    s = socket.create_connection(addr, timeout=0.2)
    s.sendall(req)
    assert len(s.recv(2048)) >= 20
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
    s.sendto(req, addr)
    s.recv(2048)
PY
		sleep 0.1
	done
	return 1
}
