#!/usr/bin/env python3
"""Builds the seed corpora from vectors/ at build time.

usage: fuzz/seed.py VECTORS_DIR OUT_DIR

Every vector's "hex" becomes a seed, into OUT_DIR/<target>/ for each target
that reads that kind of bytes. stun_stream seeds carry the 5-byte header its
harness expects (buffer size, chunk sizes) and also get every vector joined
into one stream. Rebuilds OUT_DIR/<target>/ from scratch each time, so a
removed vector leaves no stale seed.
"""
import json
import pathlib
import re
import shutil
import sys

TARGETS = ("stun_decode", "stun_stream", "channeldata")
# stun_stream header: byte 0 = buffer mode (0: fits any frame), bytes 1-4 =
# chunk sizes (0: all the rest). Whole, tiny and mixed chunkings.
STREAM_HEADERS = (bytes([0, 0, 0, 0, 0]), bytes([0, 0, 3, 16, 255]), bytes([0, 6, 1, 0, 2]))


def load_vectors(root):
    for path in sorted(pathlib.Path(root).rglob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            raw = bytes.fromhex(re.sub(r"\s+", "", doc["hex"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Another vector being written right now must not break the build.
            print(f"seed.py: skipping {path}: {exc}", file=sys.stderr)
            continue
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(path.relative_to(root).with_suffix("")))
        yield name, doc.get("kind", "stun"), raw


def stream_frame(kind, raw):
    # Over a stream, ChannelData is padded to 4 (RFC 8656 §12.5).
    if kind == "channeldata":
        return raw + bytes(-len(raw) % 4)
    return raw


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    vectors, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    dirs = {t: out / t for t in TARGETS}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)

    counts = dict.fromkeys(TARGETS, 0)

    def put(target, name, data):
        (dirs[target] / f"{name}.bin").write_bytes(data)
        counts[target] += 1

    joined = b""
    for name, kind, raw in load_vectors(vectors):
        if kind == "stun":
            put("stun_decode", name, raw)
            # A STUN message relayed as TURN data on channel 0x4000.
            if len(raw) <= 0xFFFF:
                put("channeldata", f"{name}-in-channel",
                    b"\x40\x00" + len(raw).to_bytes(2, "big") + raw)
        put("channeldata", name, raw)
        for i, header in enumerate(STREAM_HEADERS):
            put("stun_stream", f"{name}-{i}", header + stream_frame(kind, raw))
        joined += stream_frame(kind, raw)
    if joined:
        for i, header in enumerate(STREAM_HEADERS):
            put("stun_stream", f"all-vectors-{i}", header + joined)
    print("seed.py: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
