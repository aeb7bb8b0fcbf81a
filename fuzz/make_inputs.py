#!/usr/bin/env python3
"""Writes the hand-made inputs committed under fuzz/: seeds the vectors do
not cover (fuzz/seeds/<target>/) and known-nasty inputs replayed by
`make fuzz-replay` (fuzz/regressions/<target>/). Deterministic; rerun after
editing and commit the result. Files it does not name (crashes copied in by
fuzz/run) are left alone.

usage: python3 fuzz/make_inputs.py
"""
import hashlib
import hmac
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent
COOKIE = 0x2112A442
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")

# The credentials fixed in stun_decode.c, so seeds verify there.
SHORT_KEY = b"VOkJxbRl1RmTxUk/WvJxBt"
LT = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9:example.org:TheMatrIX".encode()
MD5_KEY = hashlib.md5(LT).digest()
SHA256_KEY = hashlib.sha256(LT).digest()

BINDING, ALLOCATE, REFRESH, SEND, DATA_M, CREATEPERMISSION, CHANNELBIND, CONNECT = 1, 3, 4, 6, 7, 8, 9, 10
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3


def msg_type(method, cls):
    return ((method & 0xF) | ((method & 0x70) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def tlv(atype, value, pad=b"\0"):
    return struct.pack("!HH", atype, len(value)) + value + pad * (-len(value) % 4)


class Msg:
    """A STUN message built attribute by attribute, integrity included."""

    def __init__(self, method, cls, tid=TID, classic=False):
        self.head = struct.pack("!H", msg_type(method, cls))
        self.tid = (b"" if classic else struct.pack("!I", COOKIE)) + tid
        self.body = b""

    def header(self, body_len):
        return self.head + struct.pack("!H", body_len) + self.tid

    def add(self, atype, value=b"", pad=b"\0"):
        self.body += tlv(atype, value, pad)
        return self

    def raw(self, data):
        self.body += data
        return self

    def integrity(self, key, sha256=False, length=None):
        mac_len = length or (32 if sha256 else 20)
        atype = 0x001C if sha256 else 0x0008
        hdr = self.header(len(self.body) + 4 + mac_len)
        mac = hmac.new(key, hdr + self.body, hashlib.sha256 if sha256 else hashlib.sha1).digest()
        return self.add(atype, mac[:mac_len])

    def fingerprint(self):
        crc = zlib.crc32(self.header(len(self.body) + 8) + self.body) ^ 0x5354554E
        return self.add(0x8028, struct.pack("!I", crc))

    def bytes(self, length=None):
        return self.header(len(self.body) if length is None else length) + self.body


def xor_v4(ip, port):
    a = bytes(int(x) for x in ip.split("."))
    x = bytes(b ^ c for b, c in zip(a, struct.pack("!I", COOKIE)))
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + x


def xor_v6(ip16, port, tid=TID):
    mask = struct.pack("!I", COOKIE) + tid
    return struct.pack("!BBH", 0, 2, port ^ (COOKIE >> 16)) + bytes(b ^ c for b, c in zip(ip16, mask))


def plain_v4(ip, port):
    return struct.pack("!BBH", 0, 1, port) + bytes(int(x) for x in ip.split("."))


def error_code(code, reason):
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode()


def channeldata(channel, data, pad=False):
    out = struct.pack("!HH", channel, len(data)) + data
    return out + bytes(-len(out) % 4) if pad else out


USERNAME_LT = "\u30de\u30c8\u30ea\u30c3\u30af\u30b9".encode()
NONCE = b"obMatJos2gAAAf//499k954d6OL34oL9FSTvy64sA"


def stun_decode_seeds():
    m = {}
    m["ice-binding-request"] = (Msg(BINDING, REQUEST).add(0x0006, b"evtj:h6vY")
        .add(0x0024, struct.pack("!I", 0x6E0001FF)).add(0x802A, bytes(range(8)))
        .add(0x0025).integrity(SHORT_KEY).fingerprint().bytes())
    m["allocate-long-term-sha256"] = (Msg(ALLOCATE, REQUEST).add(0x0006, USERNAME_LT)
        .add(0x0014, b"example.org").add(0x0015, NONCE).add(0x001D, struct.pack("!HH", 2, 0))
        .add(0x0019, b"\x11\0\0\0").add(0x001A).integrity(SHA256_KEY)
        .integrity(SHA256_KEY, sha256=True).fingerprint().bytes())
    m["allocate-success-v4-v6"] = (Msg(ALLOCATE, SUCCESS)
        .add(0x0016, xor_v6(bytes.fromhex("20010db8000000000000000000000001"), 49152))
        .add(0x0020, xor_v4("192.0.2.1", 32853)).add(0x000D, struct.pack("!I", 600))
        .add(0x0022, bytes(8)).add(0x8022, b"icelab").integrity(MD5_KEY).fingerprint().bytes())
    m["error-401-password-algorithms"] = (Msg(ALLOCATE, ERROR)
        .add(0x0009, error_code(401, "Unauthenticated")).add(0x0014, b"example.org")
        .add(0x0015, NONCE).add(0x8002, struct.pack("!HHHH", 2, 0, 1, 0)).fingerprint().bytes())
    m["error-420-unknown-attributes"] = (Msg(BINDING, ERROR)
        .add(0x0009, error_code(420, "Unknown Attribute")).add(0x000A, struct.pack("!HHH", 0x7F00, 0x0031, 0x0055))
        .bytes())
    m["channelbind-request"] = (Msg(CHANNELBIND, REQUEST).add(0x000C, b"\x40\x01\0\0")
        .add(0x0012, xor_v4("198.51.100.7", 5000)).integrity(MD5_KEY, sha256=True, length=16).bytes())
    m["send-indication"] = (Msg(SEND, INDICATION).add(0x0012, xor_v4("198.51.100.7", 5000))
        .add(0x0013, b"hello, peer").add(0x001A).bytes())
    m["data-indication-ipv6-peer"] = (Msg(DATA_M, INDICATION)
        .add(0x0012, xor_v6(bytes.fromhex("20010db8000000000000000000000002"), 3478)).add(0x0013, b"x").bytes())
    m["rfc3489-classic-binding-response"] = (Msg(BINDING, SUCCESS, tid=bytes(range(16)), classic=True)
        .add(0x0001, plain_v4("192.0.2.1", 32853)).add(0x0004, plain_v4("192.0.2.2", 3478))
        .add(0x0005, plain_v4("192.0.2.3", 3479)).bytes())
    m["rfc5780-behaviour-discovery"] = (Msg(BINDING, SUCCESS).add(0x0020, xor_v4("192.0.2.1", 1))
        .add(0x802C, plain_v4("192.0.2.9", 3479)).add(0x802B, plain_v4("192.0.2.8", 3478))
        .add(0x8027, struct.pack("!I", 60)).bytes())
    m["rfc5780-change-request"] = (Msg(BINDING, REQUEST).add(0x0003, b"\0\0\0\x06")
        .add(0x0027, b"\x13\x88\0\0").add(0x0026, bytes(64)).bytes())
    m["ignored-after-integrity"] = (Msg(BINDING, REQUEST).add(0x0024, b"\0\0\0\1")
        .integrity(SHORT_KEY).add(0x8022, b"after").add(0x7F01, b"zz").fingerprint().bytes())
    m["unknown-required-and-optional"] = (Msg(BINDING, REQUEST).add(0x7FFF, b"abc")
        .add(0x0031).add(0xC000, b"opt").bytes())
    m["tcp-connect"] = (Msg(CONNECT, REQUEST).add(0x0012, xor_v4("203.0.113.5", 80))
        .add(0x002A, b"\0\0\0\7").bytes())
    m["refresh-zero-lifetime"] = Msg(REFRESH, REQUEST).add(0x000D, bytes(4)).bytes()
    m["create-permission-two-peers"] = (Msg(CREATEPERMISSION, REQUEST)
        .add(0x0012, xor_v4("198.51.100.1", 0)).add(0x0012, xor_v4("198.51.100.2", 0)).bytes())
    m["header-only"] = Msg(BINDING, REQUEST).bytes()
    return m


def stun_decode_regressions():
    r = {}
    r["error-code-shorter-than-4"] = Msg(BINDING, ERROR).add(0x0009, b"\0\0").bytes()
    r["error-code-class-9"] = Msg(BINDING, ERROR).add(0x0009, b"\0\0\x09\x63x").bytes()
    r["attr-length-past-end"] = Msg(BINDING, REQUEST).raw(struct.pack("!HH", 0x0006, 64) + b"abcd").bytes()
    r["attr-header-cut"] = Msg(BINDING, REQUEST).raw(b"\x00\x06\x00\x04").bytes()
    r["attr-length-0xffff"] = Msg(BINDING, REQUEST).raw(b"\x80\x22\xff\xff" + b"x" * 8).bytes()
    over = Msg(BINDING, REQUEST)
    for i in range(49):
        over.add(0x8022 if i % 2 else 0x0024, struct.pack("!I", i))
    r["49-attributes"] = over.bytes()
    many = Msg(BINDING, REQUEST)
    for i in range(300):
        many.add(0x0025)
    r["300-empty-attributes"] = many.bytes()
    full = Msg(BINDING, REQUEST)
    for i in range(47):
        full.add(0x8050)
    r["47-attributes-and-fingerprint"] = full.fingerprint().bytes()
    ignored = Msg(BINDING, REQUEST).integrity(SHORT_KEY)
    for i in range(60):
        ignored.add(0x8022, b"i")
    r["60-ignored-after-integrity"] = ignored.bytes()
    unknown = Msg(BINDING, REQUEST)
    for i in range(20):
        unknown.add(0x7000 + i, b"u")
    r["20-unknown-required-attributes"] = unknown.bytes()
    r["huge-username-600-bytes"] = Msg(BINDING, REQUEST).add(0x0006, b"u" * 600).bytes()
    r["username-513-bytes"] = Msg(BINDING, REQUEST).add(0x0006, b"u" * 513).bytes()
    r["huge-realm-nonce-software"] = (Msg(ALLOCATE, REQUEST).add(0x0014, "\u00e9".encode() * 400)
        .add(0x0015, b"n" * 800).add(0x8022, b"s" * 800).bytes())
    r["reason-129-characters"] = Msg(BINDING, ERROR).add(0x0009, error_code(400, "r" * 129)).bytes()
    r["bad-utf8-username"] = Msg(BINDING, REQUEST).add(0x0006, b"\xc3\x28\xff\xfe").bytes()
    r["fingerprint-not-last"] = Msg(BINDING, REQUEST).fingerprint().add(0x0024, b"\0\0\0\1").bytes()
    r["fingerprint-mismatch"] = Msg(BINDING, REQUEST).add(0x8028, b"\xde\xad\xbe\xef").bytes()
    r["fingerprint-3-bytes"] = Msg(BINDING, REQUEST).add(0x8028, b"\xde\xad\xbe").bytes()
    r["header-length-beyond-datagram"] = Msg(BINDING, REQUEST).add(0x0024, b"\0\0\0\1").bytes(length=0xFFFC)
    r["header-length-not-multiple-of-4"] = Msg(BINDING, REQUEST).add(0x0024, b"\0\0\0\1").bytes(length=6)
    r["truncated-header-19-bytes"] = Msg(BINDING, REQUEST).bytes()[:19]
    r["first-bits-not-zero"] = b"\xc0" + Msg(BINDING, REQUEST).bytes()[1:]
    r["message-integrity-19-bytes"] = Msg(BINDING, REQUEST).add(0x0008, bytes(19)).bytes()
    r["mi-sha256-12-bytes"] = Msg(BINDING, REQUEST).add(0x001C, bytes(12)).bytes()
    r["mi-sha256-36-bytes"] = Msg(BINDING, REQUEST).add(0x001C, bytes(36)).bytes()
    r["mi-sha256-18-bytes"] = Msg(BINDING, REQUEST).add(0x001C, bytes(18)).bytes()
    r["xor-address-family-3"] = Msg(BINDING, SUCCESS).add(0x0020, b"\0\x03\0\x01" + bytes(4)).bytes()
    r["xor-address-ipv6-family-ipv4-length"] = Msg(BINDING, SUCCESS).add(0x0020, b"\0\x02\0\x01" + bytes(4)).bytes()
    r["address-ipv4-family-ipv6-length"] = Msg(BINDING, SUCCESS).add(0x0001, b"\0\x01\0\x01" + bytes(16)).bytes()
    r["unknown-attributes-odd-length"] = Msg(BINDING, ERROR).add(0x000A, b"\x00\x31\x00").bytes()
    r["channel-number-2-bytes"] = Msg(CHANNELBIND, REQUEST).add(0x000C, b"\x40\x00").bytes()
    r["password-algorithms-params-overrun"] = Msg(BINDING, ERROR).add(0x8002, b"\0\x02\0\x40\0\0").bytes()
    r["classic-with-message-integrity"] = (Msg(BINDING, REQUEST, tid=bytes(16), classic=True)
        .integrity(SHORT_KEY).bytes())
    r["nonzero-padding-then-integrity"] = (Msg(BINDING, REQUEST).add(0x8022, b"abc", pad=b"\xff")
        .integrity(SHORT_KEY).fingerprint().bytes())
    r["nonce-cookie-short"] = Msg(ALLOCATE, REQUEST).add(0x0015, b"obMatJos2gA").bytes()
    r["empty-input"] = b""
    return r


def stream(data, mode=0, chunks=(0, 0, 0, 0)):
    return bytes([mode, *chunks]) + data


def channeldata_seeds():
    return {
        "channel-4000-data": channeldata(0x4000, b"media payload"),
        "channel-4fff-empty": channeldata(0x4FFF, b""),
        "channel-4001-padded": channeldata(0x4001, b"abcde", pad=True),
        "rtp": bytes.fromhex("80e0000100000001deadbeef") + b"\0" * 8,
        "rtcp-sender-report": bytes.fromhex("80c80006deadbeef") + bytes(20),
        "dtls-client-hello": bytes.fromhex("16fefd0000000000000000") + bytes(8),
        "zrtp": bytes.fromhex("1000") + bytes(10),
        "stun-binding": Msg(BINDING, REQUEST).fingerprint().bytes(),
    }


def channeldata_regressions():
    return {
        "length-overrun": b"\x40\x00\xff\xff" + b"abcd",
        "length-one-past-end": b"\x40\x00\x00\x05" + b"abcd",
        "channel-3fff": channeldata(0x3FFF, b"abc"),
        "channel-5000-reserved": channeldata(0x5000, b"abc"),
        "channel-7fff-reserved": channeldata(0x7FFF, b""),
        "three-bytes": b"\x40\x00\x00",
        "empty": b"",
        "length-zero": channeldata(0x4000, b""),
    }


def stun_stream_seeds():
    req = Msg(BINDING, REQUEST).add(0x0024, b"\0\0\0\1").integrity(SHORT_KEY).fingerprint().bytes()
    mixed = req + channeldata(0x4000, b"abcde", pad=True) + channeldata(0x4FFF, b"", pad=True) + req
    return {
        "mixed-whole": stream(mixed),
        "mixed-byte-by-byte": stream(mixed, chunks=(1, 1, 1, 1)),
        "mixed-odd-chunks": stream(mixed, chunks=(2, 6, 12, 254)),
        "mixed-small-buffer": stream(mixed, mode=3 | (40 << 2), chunks=(7, 0, 0, 0)),
    }


def stun_stream_regressions():
    req = Msg(BINDING, REQUEST).add(0x0024, b"\0\0\0\1").bytes()
    return {
        "channeldata-length-overrun": stream(b"\x40\x00\xff\xff" + b"x" * 64),
        "channeldata-larger-than-small-buffer": stream(b"\x40\x00\x01\x00" + b"x" * 300, mode=3),
        "stun-larger-than-small-buffer": stream(Msg(BINDING, REQUEST).add(0x8022, b"s" * 200).bytes(), mode=3),
        "stun-length-not-multiple-of-4": stream(Msg(BINDING, REQUEST).bytes(length=6) + b"\0" * 6),
        "first-bits-10-not-stun-nor-channeldata": stream(req + b"\x80\x00\x00\x04abcd"),
        "channel-7fff-reserved": stream(channeldata(0x7FFF, b"abc", pad=True) + req),
        "padding-split-across-pushes": stream(channeldata(0x4000, b"a", pad=True) + req, chunks=(4, 0, 1, 2)),
        "stun-max-length-header": stream(b"\x00\x01\xff\xfc" + struct.pack("!I", COOKIE) + TID, chunks=(1, 1, 1, 1)),
        "many-empty-channeldata-one-byte-chunks": stream(channeldata(0x4000, b"") * 200, mode=3, chunks=(1, 1, 1, 1)),
    }


def write(kind, target, files):
    d = HERE / kind / target
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / f"{name}.bin").write_bytes(data)
    return len(files)


def main():
    n = 0
    n += write("seeds", "stun_decode", stun_decode_seeds())
    n += write("regressions", "stun_decode", stun_decode_regressions())
    n += write("seeds", "channeldata", channeldata_seeds())
    n += write("regressions", "channeldata", channeldata_regressions())
    n += write("seeds", "stun_stream", stun_stream_seeds())
    n += write("regressions", "stun_stream", stun_stream_regressions())
    print(f"make_inputs.py: wrote {n} files under {HERE}")


if __name__ == "__main__":
    main()
