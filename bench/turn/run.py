#!/usr/bin/env python3
"""The TURN server benchmark (issue #3 §7): `icelab serve` and coturn side
by side on loopback, with the same worker count (1, then 2), against the
floor the kernel allows (turn_floor_binding, turn_floor_forward), driven by
turn_loadgen. Prints a table and every ratio; writes reports/bench/turn.json
(through a temporary file and a rename).

Every process it starts it stops by PID. Traffic goes to 127.0.0.1 only,
each measurement is bounded in time and count.

Each round runs every case on every target back to back, so a ratio is
taken between numbers of the same round; the figure reported is the median
over the rounds (of the values, and of the per-round ratios).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
PORT_ICELAB, PORT_COTURN, PORT_FLOOR_BINDING, PORT_FLOOR_FORWARD, PORT_PEER = (
    3480, 3490, 3500, 3510, 3520)
# Relay ranges below the ephemeral range (32768-60999), where the load
# generator's own sockets live, and apart from each other.
RELAY_ICELAB = (10000, 20999)
RELAY_COTURN = (21000, 31999)
USER, PASSWORD, REALM = "alice", "secret", "example.org"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Proc:
    """A child process, stopped by its PID."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  preexec_fn=raise_nofile)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()


def binding_answered(port, timeout=8.0):
    """True once a Binding request to HOST:port gets a success response."""
    deadline = time.monotonic() + timeout
    req = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + os.urandom(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                s.sendto(req, (HOST, port))
                data = s.recv(2048)
                if data[:2] == b"\x01\x01":
                    return True
            except OSError:
                pass
    return False


class Bench:
    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="icelab-bench-turn-")
        self.procs = []
        self.failures = []

    # ---- processes ----

    def start(self, name, argv):
        p = Proc(name, argv, os.path.join(self.tmp, name + ".log"))
        self.procs.append(p)
        return p

    def stop(self, p):
        p.stop()
        self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)

    def bin(self, name):
        return os.path.join(self.a.bin_dir, name)

    def start_server(self, launch, what):
        """launch() with retries: another build may be relinking the
        binary for a moment (Permission denied, or no answer)."""
        for attempt in range(6):
            try:
                return launch()
            except (OSError, RuntimeError) as e:
                if attempt == 5:
                    raise RuntimeError("%s: %s" % (what, e))
                for p in [p for p in self.procs if p.name.startswith(what)]:
                    self.stop(p)
                time.sleep(2)

    def start_icelab(self, workers):
        return self.start_server(lambda: self._start_icelab(workers), "icelab")

    def start_coturn(self, workers):
        return self.start_server(lambda: self._start_coturn(workers), "coturn")

    def _start_icelab(self, workers):
        p = self.start("icelab-w%d" % workers, [
            self.a.icelab, "serve", "--listen", "%s:%d" % (HOST, PORT_ICELAB), "--no-tcp",
            "--user", "%s:%s" % (USER, PASSWORD), "--realm", REALM,
            "--allow-peer", "127.0.0.0/8", "--allow-private-relay",
            "--workers", str(workers),
            "--min-port", str(RELAY_ICELAB[0]), "--max-port", str(RELAY_ICELAB[1]),
            "--state-dir", os.path.join(self.tmp, "state"),
            "--max-allocations", "100000", "--max-allocations-per-user", "100000",
            "--log-level", "error"])
        if not binding_answered(PORT_ICELAB):
            raise RuntimeError("icelab serve did not answer (log: %s)" % p.log.name)
        return p

    def _start_coturn(self, workers):
        p = self.start("coturn-w%d" % workers, [
            self.a.turnserver, "-n", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
            "--no-tcp-relay", "-L", HOST, "-p", str(PORT_COTURN),
            "--min-port", str(RELAY_COTURN[0]), "--max-port", str(RELAY_COTURN[1]),
            "--lt-cred-mech", "--user", "%s:%s" % (USER, PASSWORD), "-r", REALM,
            "--allow-loopback-peers", "--relay-threads", str(workers),
            "--total-quota", "0", "--user-quota", "0",
            "--pidfile", os.path.join(self.tmp, "coturn.pid"),
            "--userdb", os.path.join(self.tmp, "turndb"),
            "--no-stdout-log", "--log-file", os.path.join(self.tmp, "coturn-file.log"),
            "--simple-log"])
        if not binding_answered(PORT_COTURN):
            raise RuntimeError("turnserver did not answer (log: %s)" % p.log.name)
        return p

    # ---- the load generator ----

    def loadgen(self, mode, server=None, pid=None, raw=False, pin=False, **opts):
        argv = [self.bin("turn_loadgen"), mode, "--peer", "%s:%d" % (HOST, PORT_PEER)]
        if server:
            argv += ["--server", "%s:%d" % (HOST, server)]
        if pid:
            argv += ["--pid", str(pid)]
        if raw:
            argv.append("--raw")
        for k, v in opts.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        def prepare():
            raise_nofile()
            if pin:
                os.sched_setaffinity(0, {0})
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=prepare, timeout=120)
        out = r.stdout.decode().strip()
        if not out:
            self.failures.append("%s %s: exit %d: %s" % (
                mode, server, r.returncode, r.stderr.decode().strip()[:200]))
            return None
        return json.loads(out.splitlines()[-1])


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) and a >= 0 and b > 0 else None


# The cases: (key, target list, loadgen mode, options, field kept).
TARGETS = ("floor", "icelab", "coturn")


def with_cpus(pids, cpus):
    """Sets the CPU affinity of every thread of each process."""
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:
                pass


def run_rounds(b, workers, rounds, quick, peak_hint, peer_pid):
    """Every case on every target, `rounds` times; returns raw results."""
    ms = 300 if quick else 700
    paced_ms = 500 if quick else 1000
    res = {}

    def keep(case, target, value):
        res.setdefault(case, {}).setdefault(target, []).append(value)

    icelab = b.start_icelab(workers)
    coturn = b.start_coturn(workers)
    floor_b = b.start("floor-binding-w%d" % workers, [
        b.bin("turn_floor_binding"), "%s:%d" % (HOST, PORT_FLOOR_BINDING),
        "--threads", str(workers)])
    floor_f = b.start("floor-forward-w%d" % workers, [
        b.bin("turn_floor_forward"), "%s:%d" % (HOST, PORT_FLOOR_FORWARD),
        "%s:%d" % (HOST, PORT_PEER), "--threads", str(workers)])
    if not binding_answered(PORT_FLOOR_BINDING):
        raise RuntimeError("turn_floor_binding did not answer")
    time.sleep(0.1)
    binding_target = {"floor": (PORT_FLOOR_BINDING, floor_b.pid, False),
                      "icelab": (PORT_ICELAB, icelab.pid, False),
                      "coturn": (PORT_COTURN, coturn.pid, False)}
    relay_target = {"floor": (PORT_FLOOR_FORWARD, floor_f.pid, True),
                    "icelab": (PORT_ICELAB, icelab.pid, False),
                    "coturn": (PORT_COTURN, coturn.pid, False)}
    try:
        for rnd in range(rounds):
            # Rotate the order of the targets each round.
            order = TARGETS[rnd % 3:] + TARGETS[:rnd % 3]
            for t in order:
                port, pid, raw = binding_target[t]
                keep("binding", t, b.loadgen("binding", port, pid, flows=16, window=16, ms=ms))
            for size in (100, 1000):
                for t in order:
                    port, pid, raw = relay_target[t]
                    keep("relay%d" % size, t, b.loadgen(
                        "relay", port, pid, raw, flows=16, window=16, size=size, ms=ms))
            for t in order:
                port, pid, raw = relay_target[t]
                keep("paced", t, b.loadgen(
                    "paced", port, pid, raw, flows=1000, rate=50, size=100,
                    warmup_ms=300, ms=paced_ms))
            # Loss at 80% of icelab's peak relay rate (100-byte payloads),
            # the same offered load for each target.
            peak = peak_hint or median([r["answers_per_s"] for r in res["relay100"]["icelab"] if r])
            if peak:
                for t in order:
                    port, pid, raw = relay_target[t]
                    keep("loss80", t, b.loadgen(
                        "paced", port, pid, raw, flows=16, rate=round(0.8 * peak / 16),
                        size=100, ms=ms))
            # Latency: the load generator, the echo peer and the target on
            # one CPU, so a round trip is the sum of the work on its path
            # and not the luck of cross-CPU wake-ups (idle exits cost tens
            # of microseconds and come and go).
            pinned = [peer_pid, floor_f.pid, icelab.pid, coturn.pid]
            with_cpus(pinned, {0})
            try:
                keep("direct", "peer", b.loadgen("direct", count=2000, pin=True))
                for t in order:
                    port, pid, raw = relay_target[t]
                    keep("latency", t, b.loadgen("latency", port, None, raw, count=2000,
                                                 pin=True))
            finally:
                with_cpus(pinned, set(range(os.cpu_count())))
    finally:
        b.stop(icelab)
        b.stop(coturn)
        b.stop(floor_b)
        b.stop(floor_f)
    # Allocations: a fresh server per measurement, so RSS starts clean.
    n_alloc = 2000 if quick else 10000
    for rnd in range(rounds):
        for t in (("icelab", "coturn") if rnd % 2 == 0 else ("coturn", "icelab")):
            p = b.start_icelab(workers) if t == "icelab" else b.start_coturn(workers)
            port = PORT_ICELAB if t == "icelab" else PORT_COTURN
            try:
                time.sleep(0.2)
                keep("alloc", t, b.loadgen("alloc", port, p.pid, flows=n_alloc, window=256))
            finally:
                b.stop(p)
    return res


def summarize(res):
    """Medians and per-round ratios of one worker count."""
    def col(case, target, field):
        return [r[field] if r else None for r in res.get(case, {}).get(target, [])]

    def med(case, target, field):
        return median(col(case, target, field))

    def per_round(case, t1, t2, field, invert=False):
        a, c = col(case, t1, field), col(case, t2, field)
        rs = [ratio(y, x) if invert else ratio(x, y) for x, y in zip(a, c)]
        return median(rs)

    s = {"medians": {}, "ratios": {}}
    m, q = s["medians"], s["ratios"]
    for case in ("binding", "relay100", "relay1000", "paced", "loss80"):
        for t in TARGETS:
            if t not in res.get(case, {}):
                continue
            m["%s.%s" % (case, t)] = {
                "per_s": med(case, t, "answers_per_s"),
                "server_cpu_us_per_dgram": med(case, t, "server_cpu_us_per_dgram"),
                "server_cpu_share": med(case, t, "server_cpu_share"),
                "machine_cpu_us_per_dgram": med(case, t, "machine_cpu_us_per_dgram"),
                "loss": med(case, t, "loss"),
            }
        cpu = "server_cpu_us_per_dgram"
        if case == "loss80":
            continue
        q["%s: icelab/coturn throughput" % case] = per_round(case, "icelab", "coturn", "answers_per_s")
        q["%s: icelab CPU/dgram / floor" % case] = per_round(case, "icelab", "floor", cpu)
        q["%s: coturn CPU/dgram / floor" % case] = per_round(case, "coturn", "floor", cpu)
        q["%s: icelab CPU/dgram / coturn" % case] = per_round(case, "icelab", "coturn", cpu)
    direct = med("direct", "peer", "rtt_us_p50")
    m["latency.direct_rtt_us_p50"] = direct
    for t in TARGETS:
        rtt = med("latency", t, "rtt_us_p50")
        m["latency.%s.rtt_us_p50" % t] = rtt
        m["latency.%s.added_us_per_pass" % t] = (rtt - direct) / 2 if rtt and direct else None
    for t in ("icelab", "coturn"):
        if t not in res.get("alloc", {}):
            continue
        m["alloc.%s" % t] = {
            "allocs_per_s": med("alloc", t, "allocs_per_s"),
            "server_cpu_us_per_alloc": med("alloc", t, "server_cpu_us_per_alloc"),
            "rss_bytes_per_alloc": med("alloc", t, "rss_bytes_per_alloc"),
            "rss_kb_before": med("alloc", t, "rss_kb_before"),
            "rss_kb_held": med("alloc", t, "rss_kb_held"),
            "rss_kb_after_release": med("alloc", t, "rss_kb_after_release"),
            "failed": max([x or 0 for x in col("alloc", t, "failed")] or [0]),
        }
    q["alloc: icelab/coturn allocs per s"] = per_round("alloc", "icelab", "coturn", "allocs_per_s")
    q["alloc: coturn/icelab server CPU per alloc"] = per_round(
        "alloc", "icelab", "coturn", "server_cpu_us_per_alloc", invert=True)
    q["alloc: coturn/icelab RSS per alloc"] = per_round(
        "alloc", "icelab", "coturn", "rss_bytes_per_alloc", invert=True)
    li, lc = m.get("latency.icelab.added_us_per_pass"), m.get("latency.coturn.added_us_per_pass")
    q["latency: icelab/coturn added per pass"] = ratio(li, lc)
    return s


def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def print_summary(workers, s):
    m, q = s["medians"], s["ratios"]
    print("\n== workers %d ==" % workers)
    print("%-22s %12s %14s %10s %10s" % ("case.target", "per s", "srv us/dgram", "srv share", "loss"))
    for k, v in m.items():
        if isinstance(v, dict) and "per_s" in v:
            print("%-22s %12s %14s %10s %10s" % (k, fmt(v["per_s"], ".0f"),
                  fmt(v["server_cpu_us_per_dgram"], ".3f"), fmt(v["server_cpu_share"]),
                  fmt(v["loss"], ".5f")))
    print("latency p50 RTT (us): direct %s, floor %s, icelab %s, coturn %s" % (
        fmt(m.get("latency.direct_rtt_us_p50")), fmt(m.get("latency.floor.rtt_us_p50")),
        fmt(m.get("latency.icelab.rtt_us_p50")), fmt(m.get("latency.coturn.rtt_us_p50"))))
    print("latency added per relay pass (us): floor %s, icelab %s, coturn %s" % (
        fmt(m.get("latency.floor.added_us_per_pass")), fmt(m.get("latency.icelab.added_us_per_pass")),
        fmt(m.get("latency.coturn.added_us_per_pass"))))
    for t in ("icelab", "coturn"):
        a = m.get("alloc." + t)
        if a:
            print("alloc %-7s %8s allocs/s, %8s us server CPU/alloc, %8s B RSS/alloc, "
                  "RSS kB before %s held %s after release %s, failed %d" % (
                      t, fmt(a["allocs_per_s"], ".0f"), fmt(a["server_cpu_us_per_alloc"], ".1f"),
                      fmt(a["rss_bytes_per_alloc"], ".0f"), fmt(a["rss_kb_before"], ".0f"),
                      fmt(a["rss_kb_held"], ".0f"), fmt(a["rss_kb_after_release"], ".0f"),
                      a["failed"]))
    print("ratios (median of per-round ratios):")
    for k, v in q.items():
        print("  %-44s %s" % (k, fmt(v, ".3f")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--icelab", default="build/icelab")
    ap.add_argument("--turnserver", default="turnserver")
    ap.add_argument("--bin-dir", default="build/bench/turn")
    ap.add_argument("--json", default="reports/bench/turn.json")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--quick", action="store_true", help="one short round: a smoke run")
    a = ap.parse_args()
    if a.quick:
        a.rounds = 1
    b = Bench(a)
    t0 = time.monotonic()
    # Run a copy of the server binary: other work may relink or clean
    # build/ while the bench runs.
    for _ in range(30):
        try:
            copy = os.path.join(b.tmp, "icelab")
            shutil.copy2(a.icelab, copy)
            a.icelab = copy
            break
        except OSError:
            time.sleep(2)
    else:
        print("bench-turn: %s is missing" % a.icelab, file=sys.stderr)
        return 2
    report = {"issue": "#3 §7", "host": {"cpus": os.cpu_count(), "kernel": os.uname().release},
              "rounds": a.rounds, "quick": a.quick,
              "coturn_version": subprocess.run([a.turnserver, "--version"], stdout=subprocess.PIPE,
                                               stderr=subprocess.STDOUT).stdout.decode().strip(),
              "workers": {}}
    peer = None
    try:
        for w in [int(x) for x in a.workers.split(",")]:
            peer = b.start("echo-peer", [b.bin("turn_echo_peer"), "%s:%d" % (HOST, PORT_PEER)])
            time.sleep(0.1)
            raw = run_rounds(b, w, a.rounds, a.quick, None, peer.pid)
            b.stop(peer)
            peer = None
            s = summarize(raw)
            report["workers"][str(w)] = {"summary": s, "raw": raw}
            print_summary(w, s)
    finally:
        b.stop_all()
    report["failures"] = b.failures
    report["seconds"] = round(time.monotonic() - t0, 1)
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    tmp = a.json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1)
    os.rename(tmp, a.json)
    for f in b.failures:
        print("failure: " + f, file=sys.stderr)
    print("\n%s written (%.0f s)" % (a.json, report["seconds"]))
    return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
