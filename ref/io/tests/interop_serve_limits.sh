#!/usr/bin/env bash
# Limits of `icelab serve` (issue #3 §4) on loopback, with a client written
# in Python from the RFCs (rfc6062_client_lib.python's STUN framing):
#  - max-401-per-second: a flood of unauthenticated Allocates from one
#    source gets at most the burst (and the rate) of 401s; another source
#    (127.0.0.2) still gets its 401; icelab_401_withheld_total counts it;
#  - USERHASH: a tenant that accepts REST does not set the "Username
#    anonymity" bit of the nonce cookie; with no-rest it does;
#  - max-connections-per-ip: the 4th and 5th TCP connection from one IP
#    are closed at once, the first 3 served; one closed frees a slot;
#  - max-bps-per-allocation: Send indications beyond the bucket dropped;
#  - tcp-idle-timeout on RFC 6062 connections: one-way traffic keeps a
#    splice alive, silence closes both sides;
#  - SIGHUP with a policy denying a peer closes the RFC 6062 connection to it.
cd "$(dirname "$0")/../../.." || exit 2
. ref/io/tests/interop_lib.bash
il_require_tools

read -r PORT METRICS PORT2 <<<"$(il_free_ports 3)"
CONF=$IL_TMP/serve.conf
cat >"$CONF" <<EOF
allow-peer = 127.0.0.0/8
EOF
il_start serve "$ICELAB" serve --config "$CONF" --listen "127.0.0.1:$PORT" --user alice:secret \
	--realm example.org --allow-private-relay --workers 1 --state-dir "$IL_TMP/state" \
	--max-401-per-second 5 --max-401-burst 10 --max-connections-per-ip 3 \
	--tcp-idle-timeout 2 --max-bps-per-allocation 80000 --metrics "127.0.0.1:$METRICS"
il_wait_log "$IL_TMP/serve.log" "icelab serve ready" || { cat "$IL_TMP/serve.log"; exit 1; }

timeout 90 python3 - "$PORT" "$METRICS" "$PID_serve" "$CONF" >"$IL_TMP/client.log" 2>&1 <<'EOF'
import importlib.machinery, os, signal, socket, struct, sys, threading, time, urllib.request
lib = importlib.machinery.SourceFileLoader("rfc6062", "ref/io/tests/rfc6062_client_lib.python").load_module()
port, metrics_port, serve_pid, conf = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
check = lib.check
BINDING, SEND = 1, 6
A_DATA = 0x13

def raw(method, cls=lib.REQUEST, attrs=()):
    t = (method & 0xF) | ((method & 0x70) << 1) | ((method & 0xF80) << 2) | cls
    body = b"".join(lib.attr(a, v) for a, v in attrs)
    return struct.pack("!HHI", t, len(body), lib.COOKIE) + os.urandom(12) + body

def cookie_bits(nonce):
    # "obMatJos2" + base64 of the 24 feature bits (RFC 8489 §9.2)
    import base64
    assert nonce.startswith(b"obMatJos2"), nonce
    return int.from_bytes(base64.b64decode(nonce[9:13]), "big")

def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None

# ---- 401 flood from one source ----
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.settimeout(0.3)
alloc = raw(lib.ALLOCATE, attrs=[(lib.A_TRANSPORT, bytes([17, 0, 0, 0]))])
t0 = time.monotonic()
for _ in range(100):
    u.sendto(raw(lib.ALLOCATE, attrs=[(lib.A_TRANSPORT, bytes([17, 0, 0, 0]))]), ("127.0.0.1", port))
answers, nonce = 0, None
try:
    while True:
        m = lib.Msg(u.recv(2048))
        answers += 1
        nonce = m.attrs.get(lib.A_NONCE)
except socket.timeout:
    pass
elapsed = time.monotonic() - t0
check(10 <= answers <= 10 + 5 * elapsed + 1,
      f"100 unauthenticated Allocates from one source: {answers} answers (burst 10, 5/s)")
check(nonce is not None and not cookie_bits(nonce) & (1 << 22),
      "REST tenant: no 'Username anonymity' bit in the nonce cookie (USERHASH not offered)")
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind(("127.0.0.2", 0))
o.settimeout(2)
o.sendto(alloc, ("127.0.0.1", port))
try:
    check(lib.Msg(o.recv(2048)).error() == 401, "another source still gets its 401")
except socket.timeout:
    check(False, "another source still gets its 401")
time.sleep(1.2)  # the metrics snapshot is taken once a second
w = metric("icelab_401_withheld_total")
check(w is not None and w >= 100 - answers - 1, f"icelab_401_withheld_total {w}")

# ---- max-connections-per-ip 3 ----
def binding_over_tcp(s):
    try:
        s.sendall(raw(BINDING))
        s.settimeout(2)
        return len(s.recv(2048)) > 0
    except OSError:
        return False
conns = [socket.create_connection(("127.0.0.1", port), timeout=2) for _ in range(5)]
served = [binding_over_tcp(c) for c in conns]
check(served == [True, True, True, False, False], f"5 TCP connections from one IP, limit 3: served {served}")
other = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0), timeout=2)
check(binding_over_tcp(other), "another IP is served meanwhile")
other.close()
conns[0].close()
time.sleep(0.3)
again = socket.create_connection(("127.0.0.1", port), timeout=2)
check(binding_over_tcp(again), "a closed connection frees a slot")
for c in conns[1:] + [again]:
    c.close()
time.sleep(1.2)
r = metric("icelab_tcp_connections_refused_total")
check(r == 2, f"icelab_tcp_connections_refused_total {r}")

# ---- bandwidth per allocation (80 kbit/s: a 64 KiB bucket) ----
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
sink.settimeout(0.5)
sink_addr = sink.getsockname()
ctl = lib.Stun(port, "alice", "secret")
m = ctl.request(lib.ALLOCATE, [(lib.A_TRANSPORT, bytes([17, 0, 0, 0]))])
check(m.cls == lib.SUCCESS, f"Allocate UDP over TCP: error {m.error()}")
m = ctl.request(lib.CREATEPERMISSION, [(lib.A_PEER, lib.xor_addr(*sink_addr))])
check(m.cls == lib.SUCCESS, f"CreatePermission: error {m.error()}")
payload = b"z" * 1000
for _ in range(200):
    ctl.s.sendall(raw(SEND, lib.INDICATION, [(lib.A_PEER, lib.xor_addr(*sink_addr)), (A_DATA, payload)]))
got = 0
try:
    while True:
        sink.recv(2048)
        got += 1
except socket.timeout:
    pass
check(60 <= got <= 75, f"200 x 1000 bytes at 80 kbit/s: {got} relayed (bucket 65536 bytes)")
ctl.s.close()
time.sleep(1.2)
text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
bw = [l for l in text.splitlines() if 'reason="bandwidth"' in l]
check(bw and int(bw[0].split()[1]) >= 200 - got, f"bandwidth drops counted: {bw}")

# ---- RFC 6062: idle timeout (2 s) and reload closing a denied peer ----
def sink_peer(host):
    l = socket.socket()
    l.bind((host, 0))
    l.listen(4)
    state = {"eof": threading.Event(), "bytes": 0, "conn": None, "up": threading.Event()}
    def serve():
        c, _ = l.accept()
        state["conn"] = c
        state["up"].set()
        while True:
            b = c.recv(65536)
            if not b:
                state["eof"].set()
                return
            state["bytes"] += len(b)
    threading.Thread(target=serve, daemon=True).start()
    return l.getsockname(), state

def spliced(peer):
    ctl = lib.Stun(port, "alice", "secret")
    m = ctl.request(lib.ALLOCATE, [(lib.A_TRANSPORT, bytes([6, 0, 0, 0]))])
    m = ctl.request(lib.CONNECT, [(lib.A_PEER, lib.xor_addr(*peer))])
    if not check(m.cls == lib.SUCCESS, f"Connect to {peer}: error {m.error()}"):
        return ctl, None
    cid = struct.unpack("!I", m.attrs[lib.A_CONNID])[0]
    d, m = lib.data_connection(port, "alice", "secret", ctl, cid)
    check(m.cls == lib.SUCCESS, f"ConnectionBind: error {m.error()}")
    return ctl, d

def closed_by_server(sock, within):
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False

def keepalive(ctl, stop):
    # the control connection has its own tcp-idle-timeout: Binding indications
    while not stop.is_set():
        try:
            ctl.s.sendall(raw(BINDING, lib.INDICATION))
        except OSError:
            return
        stop.wait(0.5)

stop = threading.Event()
peer, st = sink_peer("127.0.0.1")
ctl, d = spliced(peer)
threading.Thread(target=keepalive, args=(ctl, stop), daemon=True).start()
if d:
    # one way only for 4 s, twice the idle timeout: the client's side of
    # the splice reads nothing, yet the splice is not idle
    st["up"].wait(2)
    got = b""
    d.s.settimeout(2)
    for _ in range(8):
        st["conn"].sendall(b"k" * 10)
        time.sleep(0.5)
        try:
            got += d.s.recv(100)
        except OSError:
            break
    check(not st["eof"].is_set() and len(got) == 80,
          f"peer-to-client traffic keeps an RFC 6062 splice alive past tcp-idle-timeout ({len(got)} bytes)")
    for _ in range(4):
        d.s.sendall(b"k" * 10)
        time.sleep(0.5)
    check(not st["eof"].is_set() and st["bytes"] == 40,
          f"client-to-peer traffic too ({st['bytes']} bytes)")
    check(closed_by_server(d.s, 4), "a silent splice is closed after tcp-idle-timeout")
    check(st["eof"].wait(2), "... and its peer connection too")
stop.set()
ctl.s.close()

peer, st = sink_peer("127.0.0.9")
ctl, d = spliced(peer)
if d:
    d.s.sendall(b"before")
    time.sleep(0.3)
    with open(conf, "a") as f:
        f.write("deny-peer = 127.0.0.9/32\n")
    os.kill(serve_pid, signal.SIGHUP)
    check(st["eof"].wait(3), "SIGHUP denying the peer closes the peer connection")
    check(closed_by_server(d.s, 2), "... and the client data connection")
ctl.s.close()
time.sleep(1.2)
text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
pol = [l for l in text.splitlines() if 'reason="peer_denied_on_reload"' in l]
check(pol and int(pol[0].split()[1]) == 1, f"closed by policy counted: {pol}")
sys.exit(1 if lib.failures else 0)
EOF
rc=$?
cat "$IL_TMP/client.log"
[ "$rc" -eq 0 ] || il_fail "limits client exit $rc"
kill -TERM "$PID_serve"
timeout 10 tail --pid="$PID_serve" -f /dev/null || il_fail "SIGTERM: still running"

# A tenant without REST offers USERHASH: the anonymity bit is set.
il_start serve2 "$ICELAB" serve --listen "127.0.0.1:$PORT2" --user alice:secret --no-rest \
	--realm example.org --allow-private-relay --workers 1 --state-dir "$IL_TMP/state2"
il_wait_log "$IL_TMP/serve2.log" "icelab serve ready" || { cat "$IL_TMP/serve2.log"; exit 1; }
bits=$(timeout 10 python3 - "$PORT2" <<'EOF'
import base64, os, socket, struct, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
body = struct.pack("!HHI", 0x19, 4, 0x11000000)
u.sendto(struct.pack("!HHI", 0x0003, len(body), 0x2112A442) + os.urandom(12) + body, ("127.0.0.1", int(sys.argv[1])))
m = u.recv(2048)
i = 20
while i < len(m):
    t, l = struct.unpack("!HH", m[i:i + 4])
    if t == 0x15:
        print(int.from_bytes(base64.b64decode(m[i + 4 + 9:i + 4 + 13]), "big"))
    i += 4 + l + (-l % 4)
EOF
)
if [ -n "$bits" ] && (((bits >> 22) & 1)); then
	il_pass "no-rest tenant: 'Username anonymity' bit set (USERHASH offered)"
else
	il_fail "no-rest tenant: cookie features '$bits'"
fi
il_finish
