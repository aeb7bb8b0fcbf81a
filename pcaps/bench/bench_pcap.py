#!/usr/bin/env python3
"""The capture analyser benchmark (issue #7 §7), run by `make bench-pcap`.

Generates one large RTP-heavy capture of many SIP calls with
pcaps/gen/gen_bench.c, then times `icelab pcap analyze F` and
`tshark -q -z rtp,streams -r F` on it, each under /usr/bin/time -v, on the
same machine, the file in the page cache for both (read once first), the
median of 3 runs each: wall time, packets/s (frames of the file over the
wall time) and peak RSS, and the ratios. Also checks the two agree on the
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
    """Runs cmd under /usr/bin/time -v, stdout to out_path; (wall s, peak RSS KiB)."""
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
    return rc, wall, int(m.group(1))


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
    ap.add_argument("--rounds", type=int, default=3)
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
    for r in range(a.rounds):
        for name, cmd in tools.items():  # interleaved: drift hits both alike
            rc, wall, rss = timed(cmd, os.path.join(work, name + ".out"))
            if name == "tshark" and rc != 0 or name == "icelab" and rc not in (0, 1):
                sys.exit("bench-pcap: %s exited %d" % (name, rc))
            runs[name].append({"wall_s": round(wall, 4), "peak_rss_kib": rss})
            print("bench-pcap: round %d %-6s %7.3f s  %8d KiB" % (r + 1, name, wall, rss),
                  file=sys.stderr)
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
        res[name] = {"median_wall_s": wall, "packets_per_s": round(frames / wall),
                     "median_peak_rss_kib": rss, "runs": runs[name]}
    thr = res["icelab"]["packets_per_s"] / res["tshark"]["packets_per_s"]
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
                   "rss_icelab_over_tshark": round(mem, 4),
                   "targets": {"throughput_at_least": 20, "rss_at_most": 0.1},
                   "throughput_target_met": thr >= 20, "rss_target_met": mem <= 0.1},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "tshark": subprocess.run(["tshark", "--version"], capture_output=True,
                                             text=True).stdout.splitlines()[0]},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(a.json, report)
    print("capture: %s, %.1f MB, %d frames, %d calls (%d s each)"
          % (a.capture, size / 1e6, frames, calls, a.call_seconds))
    print("%-8s %10s %14s %14s" % ("tool", "wall (s)", "packets/s", "peak RSS (MiB)"))
    for name in tools:
        r = res[name]
        print("%-8s %10.3f %14d %14.1f" % (name, r["median_wall_s"], r["packets_per_s"],
                                            r["median_peak_rss_kib"] / 1024))
    print("ratios: throughput %.1fx tshark (target >= 20x: %s), peak RSS %.3f of tshark's "
          "(target <= 0.1: %s)" % (thr, "met" if thr >= 20 else "NOT met", mem,
                                    "met" if mem <= 0.1 else "NOT met"))
    print("agreement: RTP streams %d/%d, packets %d/%d (icelab/tshark): %s"
          % (our_streams, ts_streams, our_packets, ts_packets,
             "equal" if report["agreement"]["equal"] else "DIFFERENT"))
    print("medians of %d rounds; report: %s" % (a.rounds, a.json))
    return 0 if report["agreement"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
