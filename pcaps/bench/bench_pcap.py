#!/usr/bin/env python3
"""The capture analyser benchmark (issue #7 §7), run by `make bench-pcap`.

Generates one large RTP-heavy capture of many SIP calls with
pcaps/gen/gen_bench.c, then times `icelab pcap analyze F` and
`tshark -q -z rtp,streams -r F` on it, each under /usr/bin/time -v, on the
same machine, the file in the page cache for both (read once first, and
one untimed run of each tool), then 5 rounds, each running both tools back
to back (the order alternating between rounds): wall time, CPU time
(user + system), packets/s (frames of the file over the wall time) and
peak RSS. The machine is shared, so the throughput ratio given against
the target is the median of the rounds' own ratios (both tools of a round
saw about the same load); the ratio of the median packets/s and the ratio
of CPU times are printed beside it. Also checks the two agree on the
number of RTP streams and packets, so the comparison is of equal work.
Writes reports/bench/pcap.json through a temporary file and a rename.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd, out_path):
    """Runs cmd under /usr/bin/time -v, stdout to out_path; (rc, wall s, peak RSS KiB, CPU s)."""
    with open(out_path, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        rc = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=out, stderr=err,
                            timeout=600).returncode
        wall = time.monotonic() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m is None:
        sys.exit("bench-pcap: no RSS from /usr/bin/time for %s" % cmd[0])
    cpu = sum(float(x) for x in
              re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", text))
    return rc, wall, int(m.group(1)), cpu


def tshark_streams(path):
    """(streams, packets) from `tshark -z rtp,streams` output."""
    streams = packets = 0
    for line in open(path, errors="replace"):
        f = line.split()
        if len(f) > 9 and f[6].startswith("0x"):
            streams += 1
            packets += int(f[8])
    return streams, packets


def write_json(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pcap.json.", dir=d)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--icelab", default="build/icelab")
    ap.add_argument("--gen", default="build/bench/pcap/gen_bench")
    ap.add_argument("--capture", default="build/bench/pcap/bench.pcap")
    ap.add_argument("--mb", type=int, default=220, help="capture size in MB")
    ap.add_argument("--call-seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20 MB, one round")
    ap.add_argument("--json", default="reports/bench/pcap.json")
    a = ap.parse_args()
    if a.quick:
        a.mb, a.rounds = 20, 1
    if not shutil.which("tshark"):
        sys.exit("bench-pcap: tshark is not installed (make deps)")
    os.makedirs(os.path.dirname(os.path.abspath(a.capture)), exist_ok=True)
    gen = subprocess.run([a.gen, a.capture, str(a.mb), str(a.call_seconds)], check=True,
                         capture_output=True, text=True).stdout.strip()
    m = re.search(r"(\d+) calls, (\d+) frames, (\d+) bytes", gen)
    calls, frames, size = (int(x) for x in m.groups())
    with open(a.capture, "rb") as f:  # into the page cache, for both tools
        while f.read(1 << 24):
            pass
    work = tempfile.mkdtemp(prefix="bench-pcap.")
    tools = {
        "icelab": [a.icelab, "pcap", "analyze", a.capture],
        "tshark": ["tshark", "-q", "-z", "rtp,streams", "-r", a.capture],
    }
    runs = {k: [] for k in tools}
    load_before = os.getloadavg()[0]
    for name, cmd in tools.items():  # warm-up, untimed: libraries into the page cache
        timed(cmd, os.path.join(work, name + ".out"))
    round_ratios = []
    for r in range(a.rounds):
        # Both tools back to back, the order alternating: drift and
        # neighbours' load hit both alike, and neither always goes first.
        order = list(tools) if r % 2 == 0 else list(reversed(list(tools)))
        walls = {}
        for name in order:
            rc, wall, rss, cpu = timed(tools[name], os.path.join(work, name + ".out"))
            if name == "tshark" and rc != 0 or name == "icelab" and rc not in (0, 1):
                sys.exit("bench-pcap: %s exited %d" % (name, rc))
            runs[name].append({"wall_s": round(wall, 4), "cpu_s": round(cpu, 3),
                               "peak_rss_kib": rss})
            walls[name] = wall
            print("bench-pcap: round %d %-6s %7.3f s wall %7.3f s cpu %8d KiB"
                  % (r + 1, name, wall, cpu, rss), file=sys.stderr)
        round_ratios.append(walls["tshark"] / walls["icelab"])
        print("bench-pcap: round %d ratio %.1fx" % (r + 1, round_ratios[-1]), file=sys.stderr)
    load_after = os.getloadavg()[0]
    # the agreement check, untimed: the same analysis as JSON
    with open(os.path.join(work, "icelab.json"), "wb") as out:
        subprocess.run(tools["icelab"] + ["--json"], stdout=out, timeout=600)
    ours = json.load(open(os.path.join(work, "icelab.json")))
    our_streams = len(ours["stats"]["rtp_streams"])
    our_packets = sum(s["packets"] for s in ours["stats"]["rtp_streams"])
    ts_streams, ts_packets = tshark_streams(os.path.join(work, "tshark.out"))
    shutil.rmtree(work)
    res = {}
    for name in tools:
        wall = statistics.median(x["wall_s"] for x in runs[name])
        rss = statistics.median(x["peak_rss_kib"] for x in runs[name])
        cpu = statistics.median(x["cpu_s"] for x in runs[name])
        res[name] = {"median_wall_s": wall, "median_cpu_s": cpu,
                     "packets_per_s": round(frames / wall),
                     "median_peak_rss_kib": rss, "runs": runs[name]}
    thr = statistics.median(round_ratios)
    thr_medians = res["icelab"]["packets_per_s"] / res["tshark"]["packets_per_s"]
    # /usr/bin/time counts CPU in 10 ms steps: no ratio from a few steps.
    thr_cpu = (res["tshark"]["median_cpu_s"] / res["icelab"]["median_cpu_s"]
               if res["icelab"]["median_cpu_s"] >= 0.05 else None)
    mem = res["icelab"]["median_peak_rss_kib"] / res["tshark"]["median_peak_rss_kib"]
    report = {
        "benchmark": "pcap-analyze-vs-tshark",
        "issue": "#7 §7",
        "capture": {"path": a.capture, "bytes": size, "frames": frames, "calls": calls,
                    "call_seconds": a.call_seconds,
                    "generator": "pcaps/gen/gen_bench.c (SIP+SDP, PCMA RTP both ways, 20 ms)"},
        "commands": {k: " ".join(v) for k, v in tools.items()},
        "rounds": a.rounds,
        "results": res,
        "agreement": {"icelab_rtp_streams": our_streams, "tshark_rtp_streams": ts_streams,
                      "icelab_rtp_packets": our_packets, "tshark_rtp_packets": ts_packets,
                      "equal": our_streams == ts_streams and our_packets == ts_packets},
        "ratios": {"throughput_icelab_over_tshark": round(thr, 2),
                   "throughput_how": "median of the rounds' tshark wall / icelab wall",
                   "round_ratios": [round(x, 2) for x in round_ratios],
                   "throughput_of_median_packets_per_s": round(thr_medians, 2),
                   "cpu_time_tshark_over_icelab": (round(thr_cpu, 2)
                                                   if thr_cpu is not None else None),
                   "rss_icelab_over_tshark": round(mem, 4),
                   "targets": {"throughput_at_least": 20, "rss_at_most": 0.1},
                   "throughput_target_met": thr >= 20, "rss_target_met": mem <= 0.1},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1min": [round(load_before, 2), round(load_after, 2)],
                    "tshark": subprocess.run(["tshark", "--version"], capture_output=True,
                                             text=True).stdout.splitlines()[0]},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(a.json, report)
    print("capture: %s, %.1f MB, %d frames, %d calls (%d s each)"
          % (a.capture, size / 1e6, frames, calls, a.call_seconds))
    print("%-8s %10s %10s %14s %14s" % ("tool", "wall (s)", "cpu (s)", "packets/s",
                                         "peak RSS (MiB)"))
    for name in tools:
        r = res[name]
        print("%-8s %10.3f %10.3f %14d %14.1f" % (name, r["median_wall_s"], r["median_cpu_s"],
                                                  r["packets_per_s"],
                                                  r["median_peak_rss_kib"] / 1024))
    print("ratios: throughput %.1fx tshark (target >= 20x: %s), peak RSS %.3f of tshark's "
          "(target <= 0.1: %s)" % (thr, "met" if thr >= 20 else "NOT met", mem,
                                    "met" if mem <= 0.1 else "NOT met"))
    print("throughput: median of %d rounds' ratios (%s); ratio of median packets/s %.1fx, "
          "of CPU time %s; load average %.1f -> %.1f"
          % (a.rounds, " ".join("%.1f" % x for x in round_ratios), thr_medians,
             "%.1fx" % thr_cpu if thr_cpu is not None else "n/a (under 50 ms)",
             load_before, load_after))
    print("agreement: RTP streams %d/%d, packets %d/%d (icelab/tshark): %s"
          % (our_streams, ts_streams, our_packets, ts_packets,
             "equal" if report["agreement"]["equal"] else "DIFFERENT"))
    print("medians of %d rounds; report: %s" % (a.rounds, a.json))
    return 0 if report["agreement"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
