#!/usr/bin/env python3
"""Cross-check of `icelab stun decode` and `icelab stun encode` against an
independent STUN encoder written here from the RFCs (RFC 8489 §5, §9,
§14; RFC 8656 §18; RFC 5780 §7; RFC 8445 §7.1; RFC 6062 §6.2; RFC 3489
§11; RFC 5952 for IPv6 text), with the standard library only.

With a fixed seed it builds several hundred random messages (every method,
unknown ones too, every class, classic RFC 3489 messages, IPv4/IPv6 plain
and XOR addresses, UTF-8 text, integers, error codes, UNKNOWN-ATTRIBUTES,
unknown attributes, short-term and long-term MESSAGE-INTEGRITY,
MESSAGE-INTEGRITY-SHA256, FINGERPRINT, USERHASH, attributes ignored after
the integrity, correct and corrupted MACs) and checks:

  1. decode: `icelab stun decode --json` prints exactly what we built;
  2. encode: `icelab stun encode` of our JSON description gives our bytes;
  3. decode then encode gives back the same bytes;
  4. crafted lengths: a lying "length" is written as given;
  5. malformed messages (truncations, bad lengths, overruns, bad values)
     give exit 1 and {"error","message","offset"}; random bytes and
     mutations never crash;
  6. exit codes of single runs: 0, 1 (mismatch, undecodable), 2 (usage).

Runs from the repository root after `make all` (scripts/test.sh). Prints
"N messages agreed" and exits non-zero on any disagreement. ICELAB=path
overrides the binary; build/asan/icelab is checked too when it exists.
CROSSCHECK_SEED=n changes the seed.
"""
import hashlib
import hmac
import json
import os
import random
import struct
import subprocess
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = int(os.environ.get("CROSSCHECK_SEED", "5389"))
N_VALID = 700
N_MALFORMED = 500
N_RANDOM = 300

COOKIE = 0x2112A442
COOKIE_BYTES = struct.pack("!I", COOKIE)
FINGERPRINT_XOR = 0x5354554E  # RFC 8489 §14.7

# ---------------------------------------------------------------------------
# Registries (RFC 8489 §18, RFC 8656 §17, RFC 5780 §9, RFC 8445 §20,
# RFC 6062 §6, RFC 8016, RFC 7635, RFC 3489 §11.2), written out here.

METHODS = {
    0x001: "binding", 0x003: "allocate", 0x004: "refresh", 0x006: "send",
    0x007: "data", 0x008: "createpermission", 0x009: "channelbind",
    0x00A: "connect", 0x00B: "connectionbind", 0x00C: "connectionattempt",
}
CLASSES = ["request", "indication", "success", "error"]

# type: (name, JSON form): addr, xaddr, text, u32, empty, hex
ATTRS = {
    0x0001: ("MAPPED-ADDRESS", "addr"),
    0x0002: ("RESPONSE-ADDRESS", "addr"),
    0x0003: ("CHANGE-REQUEST", "u32"),
    0x0004: ("SOURCE-ADDRESS", "addr"),
    0x0005: ("CHANGED-ADDRESS", "addr"),
    0x0006: ("USERNAME", "text"),
    0x0007: ("PASSWORD", "hex"),
    0x0008: ("MESSAGE-INTEGRITY", "hex"),
    0x0009: ("ERROR-CODE", "hex"),
    0x000A: ("UNKNOWN-ATTRIBUTES", "hex"),
    0x000B: ("REFLECTED-FROM", "addr"),
    0x000C: ("CHANNEL-NUMBER", "hex"),
    0x000D: ("LIFETIME", "u32"),
    0x0012: ("XOR-PEER-ADDRESS", "xaddr"),
    0x0013: ("DATA", "hex"),
    0x0014: ("REALM", "text"),
    0x0015: ("NONCE", "text"),
    0x0016: ("XOR-RELAYED-ADDRESS", "xaddr"),
    0x0017: ("REQUESTED-ADDRESS-FAMILY", "hex"),
    0x0018: ("EVEN-PORT", "hex"),
    0x0019: ("REQUESTED-TRANSPORT", "hex"),
    0x001A: ("DONT-FRAGMENT", "empty"),
    0x001B: ("ACCESS-TOKEN", "hex"),
    0x001C: ("MESSAGE-INTEGRITY-SHA256", "hex"),
    0x001D: ("PASSWORD-ALGORITHM", "hex"),
    0x001E: ("USERHASH", "hex"),
    0x0020: ("XOR-MAPPED-ADDRESS", "xaddr"),
    0x0022: ("RESERVATION-TOKEN", "hex"),
    0x0024: ("PRIORITY", "u32"),
    0x0025: ("USE-CANDIDATE", "empty"),
    0x0026: ("PADDING", "hex"),
    0x0027: ("RESPONSE-PORT", "hex"),
    0x002A: ("CONNECTION-ID", "u32"),
    0x8000: ("ADDITIONAL-ADDRESS-FAMILY", "hex"),
    0x8001: ("ADDRESS-ERROR-CODE", "hex"),
    0x8002: ("PASSWORD-ALGORITHMS", "hex"),
    0x8003: ("ALTERNATE-DOMAIN", "text"),
    0x8004: ("ICMP", "hex"),
    0x8022: ("SOFTWARE", "text"),
    0x8023: ("ALTERNATE-SERVER", "addr"),
    0x8027: ("CACHE-TIMEOUT", "u32"),
    0x8028: ("FINGERPRINT", "hex"),
    0x8029: ("ICE-CONTROLLED", "hex"),
    0x802A: ("ICE-CONTROLLING", "hex"),
    0x802B: ("RESPONSE-ORIGIN", "addr"),
    0x802C: ("OTHER-ADDRESS", "addr"),
    0x802E: ("THIRD-PARTY-AUTHORIZATION", "text"),
    0x8030: ("MOBILITY-TICKET", "hex"),
}
MI, MI256, FP = 0x0008, 0x001C, 0x8028
USERNAME, REALM, NONCE, USERHASH, PASSWORD_ALGORITHM = 0x0006, 0x0014, 0x0015, 0x001E, 0x001D

# Credential sets: one decode/encode batch each. The non-ASCII strings are
# stable under SASLprep/OpaqueString (NFKC, nothing mapped), so the key
# is the UTF-8 of what is written here.
CREDS = {
    "none": None,
    "st1": {"password": "VOkJxbRl1RmTxUk/WvJxBt"},
    "st2": {"password": "s3cr\u00e9t pass"},
    "lt1": {"username": "alice", "realm": "example.org", "password": "hunter2"},
    "lt2": {"username": "\u30e6\u30fc\u30b6\u30fc", "realm": "r\u00e9alm.example",
            "password": "p\u00e4ssw\u00f6rd"},
}


def cred_args(name):
    c = CREDS[name] or {}
    args = []
    for k in ("username", "realm", "password"):
        if k in c:
            args += ["--" + k, c[k]]
    return args


def key_for(name, alg):
    """RFC 8489 §9.1.1 (short-term: the password) and §9.2.2 (long-term:
    MD5 or SHA-256 of username:realm:password)."""
    c = CREDS[name]
    if "username" not in c:
        return c["password"].encode()
    text = ("%s:%s:%s" % (c["username"], c["realm"], c["password"])).encode()
    return hashlib.sha256(text).digest() if alg == 2 else hashlib.md5(text).digest()


# ---------------------------------------------------------------------------
# Text forms


def ipv6_text(b):
    """RFC 5952 §4: lowercase, no leading zeros, the longest run (first on
    a tie) of two or more zero groups as "::". §5 allows the embedded IPv4
    address in dotted form; like inet_ntop, we expect it for ::ffff:0:0/96
    (IPv4-mapped) and for IPv4-compatible ::a.b.c.d whose first six groups
    exactly are zero (so not for ::, ::1 or ::8d)."""
    groups = list(struct.unpack("!8H", b))
    dotted = None
    if (groups[:5] == [0] * 5 and groups[5] == 0xFFFF) or (groups[:6] == [0] * 6 and groups[6] != 0):
        dotted = "%d.%d.%d.%d" % tuple(b[12:16])
        groups = groups[:6]
    best, best_len, i = -1, 1, 0
    while i < len(groups):
        if groups[i] == 0:
            j = i
            while j < len(groups) and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    words = ["%x" % g for g in groups]
    if dotted:
        words.append(dotted)
    if best < 0:
        return ":".join(words)
    head = ":".join(words[:best])
    tail = ":".join(words[best + best_len:])
    return head + "::" + tail


def addr_text(family, ip, port):
    if family == 1:
        return "%d.%d.%d.%d:%d" % (tuple(ip) + (port,))
    return "[%s]:%d" % (ipv6_text(ip), port)


# ---------------------------------------------------------------------------
# The encoder


def msg_type(method, cls):
    """RFC 8489 §5, Figure 3: M11..M7 C1 M6..M4 C0 M3..M0."""
    return ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def tlv(t, v, length=None):
    return struct.pack("!HH", t, len(v) if length is None else length) + pad4(v)


class Message:
    """A message being built; expect/desc grow with each attribute."""

    def __init__(self, method, cls, tid, classic=False):
        self.method, self.cls, self.tid, self.classic = method, cls, tid, classic
        self.body = b""
        self.attrs = []        # expected decoder JSON of each attribute
        self.desc_attrs = []   # the encoder description of each attribute
        self.seen_mi = self.seen_mi256 = False
        self.verdicts = {"message_integrity": "absent",
                         "message_integrity_sha256": "absent",
                         "fingerprint": "absent"}
        self.userhash = None
        self.creds = "none"

    def header(self, body_len):
        magic = b"" if self.classic else COOKIE_BYTES
        return struct.pack("!HH", msg_type(self.method, self.cls), body_len) + magic + self.tid

    def wire(self):
        return self.header(len(self.body)) + self.body

    def add(self, t, v, jvalue, extras=None, desc=None, raw=False):
        name = ATTRS[t][0] if t in ATTRS else "0x%04x" % t
        exp = {"type": t, "name": name, "length": len(v), "value": jvalue}
        if raw:
            exp["raw"] = True
        for k, val in (extras or {}).items():
            exp[k] = val
        self.attrs.append(exp)
        self.desc_attrs.append(desc if desc is not None else {"type": t, "value": jvalue})
        self.body += tlv(t, v)

    def mark_ignored(self):
        """RFC 8489 §6.3: "agents MUST ignore all attributes that follow
        MESSAGE-INTEGRITY, with the exception of the MESSAGE-INTEGRITY-SHA256
        and FINGERPRINT attributes. Similarly, agents MUST ignore all
        attributes that follow the MESSAGE-INTEGRITY-SHA256 attribute if the
        MESSAGE-INTEGRITY attribute is not present, with the exception of
        the FINGERPRINT attribute." """
        has_mi = any(a["type"] == MI for a in self.attrs)
        seen_mi = seen_mi256 = False
        for a in self.attrs:
            t = a["type"]
            ign = ((seen_mi and t not in (MI256, FP))
                   or (seen_mi256 and not has_mi and t != FP))
            a.pop("ignored", None)
            if ign:
                a["ignored"] = True
            seen_mi |= t == MI and not ign
            seen_mi256 |= t == MI256 and not ign

    # The length field covers the attribute being added (RFC 8489 §14.5-14.7).
    def hmac_sha1(self, key):
        return hmac.new(key, self.header(len(self.body) + 24) + self.body, hashlib.sha1).digest()

    def hmac_sha256(self, key, n):
        data = self.header(len(self.body) + 4 + n) + self.body
        return hmac.new(key, data, hashlib.sha256).digest()[:n]

    def crc(self):
        data = self.header(len(self.body) + 8) + self.body
        return (zlib.crc32(data) & 0xFFFFFFFF) ^ FINGERPRINT_XOR

    def method_json(self):
        return METHODS.get(self.method, "0x%03x" % self.method)

    def expected(self):
        e = {"method": self.method_json(), "class": CLASSES[self.cls],
             "transaction_id": self.tid.hex()}
        if self.classic:
            e["classic"] = True
        e["length"] = len(self.body)
        self.mark_ignored()
        e["attributes"] = self.attrs
        integ = dict(self.verdicts)
        if self.userhash:
            integ["userhash"] = self.userhash
        e["integrity"] = integ
        return e

    def description(self, rng):
        m = self.method_json()
        if rng.random() < 0.2:
            m = self.method  # a number works too
        d = {"method": m, "class": CLASSES[self.cls], "transaction_id": self.tid.hex()}
        if self.classic:
            d["classic"] = True
        if rng.random() < 0.3:
            d["length"] = len(self.body)
        d["attributes"] = self.desc_attrs
        return d


# ---------------------------------------------------------------------------
# Random attributes

TEXT_POOL = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
             + list(" -_.:/@!#$%&*+=?~'\"\\")
             + ["\u00e9", "\u00fc", "\u00df", "\u00f1", "\u03a9", "\u0416", "\u65e5",
                "\u672c", "\u8a9e", "\u20ac", "\U0001F642", "\U0001D11E", "\t", "\n",
                "\u0000", "\u007f"])


def rand_text(rng, max_chars, max_bytes):
    if rng.random() < 0.05:  # at the limit
        n = min(max_chars - 1 if max_chars else max_bytes, max_bytes)
        return "x" * n
    n = rng.randint(0, min(40, (max_chars or 1000) - 1))
    out, size = [], 0
    for _ in range(n):
        ch = rng.choice(TEXT_POOL) if rng.random() < 0.5 else rng.choice(TEXT_POOL[:62])
        if size + len(ch.encode()) > max_bytes:
            break
        out.append(ch)
        size += len(ch.encode())
    return "".join(out)


def rand_ip(rng, family):
    if family == 1:
        special = [b"\0\0\0\0", b"\xff\xff\xff\xff", b"\x7f\0\0\x01", b"\xc0\x00\x02\x01"]
        return rng.choice(special) if rng.random() < 0.2 else bytes(rng.getrandbits(8) for _ in range(4))
    r = rng.random()
    if r < 0.15:
        return rng.choice([bytes(16), bytes(15) + b"\x01",
                           bytes.fromhex("20010db8000000000000000000000001"),
                           bytes.fromhex("fe800000000000000000000000010002"),
                           bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 33]),
                           bytes(12) + bytes([10, 1, 2, 3]),
                           bytes.fromhex("00010000000000000000000000000000")])
    groups = [0 if rng.random() < 0.35 else rng.getrandbits(rng.choice([4, 8, 16]))
              for _ in range(8)]
    return struct.pack("!8H", *groups)


def gen_addr(rng, m, t, xor):
    family = rng.choice([1, 2])
    ip, port = rand_ip(rng, family), rng.randrange(65536)
    text = addr_text(family, ip, port)
    if xor:  # RFC 8489 §14.2
        mask = COOKIE_BYTES + m.tid
        wire_ip = bytes(a ^ b for a, b in zip(ip, mask))
        wire_port = port ^ (COOKIE >> 16)
    else:
        wire_ip, wire_port = ip, port
    m.add(t, struct.pack("!BBH", 0, family, wire_port) + wire_ip, text,
          desc=named(rng, t, {"value": text}))


def named(rng, t, rest):
    """An attribute description by number, by name, or both."""
    r = rng.random()
    if t not in ATTRS or r < 0.45:
        d = {"type": t}
    elif r < 0.9:
        d = {"name": ATTRS[t][0]}
    else:
        d = {"type": t, "name": ATTRS[t][0]}
    d.update(rest)
    return d


def gen_text(rng, m, t):
    limits = {USERNAME: (0, 763), REALM: (128, 763), NONCE: (128, 763),
              0x8022: (128, 763), 0x8003: (0, 255), 0x802E: (0, 2000)}
    max_chars, max_bytes = limits[t]
    s = rand_text(rng, max_chars, max_bytes)
    if t == 0x8003:  # ALTERNATE-DOMAIN: a DNS name, ASCII
        s = "".join(c for c in s if c.isascii() and (c.isalnum() or c in ".-"))
    m.add(t, s.encode(), s, desc=named(rng, t, {"value": s}))


def gen_u32(rng, m, t):
    v = rng.getrandbits(32) if rng.random() < 0.8 else rng.choice([0, 1, 0xFFFFFFFF])
    m.add(t, struct.pack("!I", v), v, desc=named(rng, t, {"value": v}))


def gen_hex(rng, m, t, v, as_int=None):
    desc = named(rng, t, {"value": v.hex()})
    if as_int is not None and rng.random() < 0.5:
        desc["value"] = as_int
    m.add(t, v, v.hex(), desc=desc)


def gen_error_code(rng, m):
    code = rng.randint(3, 6) * 100 + rng.randint(0, 99)
    reason = rand_text(rng, 128, 763)
    v = struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode()
    if rng.random() < 0.6:
        desc = named(rng, 0x0009, {"code": code, "reason": reason})
    else:
        desc = named(rng, 0x0009, {"value": v.hex()})
    m.add(0x0009, v, v.hex(), extras={"code": code, "reason": reason}, desc=desc)


def gen_unknown_attributes(rng, m):
    types = [rng.getrandbits(16) for _ in range(rng.randint(1, 7))]
    v = struct.pack("!%dH" % len(types), *types)
    desc = named(rng, 0x000A, {"types": types} if rng.random() < 0.5 else {"value": v.hex()})
    m.add(0x000A, v, v.hex(), extras={"types": types}, desc=desc)


def unknown_type(rng, required):
    while True:
        t = rng.randint(0x0040, 0x7FFF) if required else rng.randint(0x8100, 0xBFFF)
        if t not in ATTRS:
            return t


def gen_unknown(rng, m, required):
    t = unknown_type(rng, required)
    v = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 24)))
    desc = {"type": t, "value": v.hex()} if rng.random() < 0.7 else {"name": "0x%04x" % t, "value": v.hex()}
    m.add(t, v, v.hex(), desc=desc)


def rbytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def gen_body_attr(rng, m):
    c = rng.randrange(100)
    if c < 14:
        if m.classic:
            gen_addr(rng, m, rng.choice([0x0001, 0x0002, 0x0004, 0x0005, 0x000B]), False)
        else:
            gen_addr(rng, m, rng.choice([0x0001, 0x8023, 0x802B, 0x802C]), False)
    elif c < 28:
        if m.classic:
            gen_addr(rng, m, 0x0001, False)
        else:
            gen_addr(rng, m, rng.choice([0x0020, 0x0012, 0x0016]), True)
    elif c < 44:
        gen_text(rng, m, rng.choice([USERNAME, REALM, NONCE, 0x8022, 0x8022, 0x8003, 0x802E]))
    elif c < 54:
        gen_u32(rng, m, rng.choice([0x0003, 0x000D, 0x0024, 0x002A, 0x8027]))
    elif c < 58:
        v = rbytes(rng, 8)
        gen_hex(rng, m, rng.choice([0x8029, 0x802A]), v,
                as_int=int.from_bytes(v, "big") if v[0] < 0x80 else None)
    elif c < 64:
        gen_error_code(rng, m)
    elif c < 68:
        gen_unknown_attributes(rng, m)
    elif c < 74:
        gen_unknown(rng, m, required=False)
    elif c < 77:
        gen_unknown(rng, m, required=True)
    elif c < 80:
        t = rng.choice([0x0025, 0x001A])
        m.add(t, b"", "", desc=named(rng, t, {} if rng.random() < 0.5 else {"value": ""}))
    elif c < 82:
        ch = rng.randint(0x4000, 0x4FFF)
        gen_hex(rng, m, 0x000C, struct.pack("!HH", ch, 0), as_int=ch)
    elif c < 84:
        t, v = rng.choice([(0x0019, 17), (0x0019, 6), (0x0017, 1), (0x0017, 2), (0x8000, 2)])
        gen_hex(rng, m, t, struct.pack("!B3x", v), as_int=v)
    elif c < 85:
        b = rng.choice([0x80, 0x00])
        gen_hex(rng, m, 0x0018, bytes([b]), as_int=b)
    elif c < 86:
        p = rng.randrange(65536)
        gen_hex(rng, m, 0x0027, struct.pack("!HH", p, 0), as_int=p)
    elif c < 91:
        t, n = rng.choice([(0x0013, rng.randint(0, 64)), (0x0022, 8), (0x001B, rng.randint(0, 40)),
                           (0x8030, rng.randint(0, 40)), (0x0007, rng.randint(0, 20))])
        gen_hex(rng, m, t, rbytes(rng, n))
    elif c < 92:
        gen_hex(rng, m, 0x0026, bytes(rng.randint(0, 32)))
    elif c < 94:
        gen_hex(rng, m, 0x8004, struct.pack("!HBBI", 0, rng.randrange(256), rng.randrange(256),
                                            rng.getrandbits(32)))
    elif c < 96:
        code = rng.choice([440, 443, 508])
        v = struct.pack("!BBBB", rng.choice([1, 2]), 0, code // 100, code % 100)
        gen_hex(rng, m, 0x8001, v + rand_text(rng, 128, 763).encode())
    else:
        algs = [rng.choice([1, 2]) for _ in range(rng.randint(0, 3))]
        gen_hex(rng, m, 0x8002, b"".join(struct.pack("!HH", a, 0) for a in algs))


def gen_malformed_junk(rng, m):
    """An ignored attribute whose value is not in its type's form: the
    decoder does not check ignored attributes, so it shows them raw."""
    t, v = rng.choice([(USERNAME, b"\xff\xfe"), (0x8022, b"ab\xc0\x80"),
                       (0x0020, b"\x00\x07\x12\x34\x01\x02\x03\x04"),
                       (0x0001, b"\x01\x01\x00\x50\x0a\x00\x00\x01"),
                       (0x000D, b"\x00\x01")])
    m.add(t, v, v.hex(), raw=True, desc={"type": t, "value": v.hex(), "raw": True})


# ---------------------------------------------------------------------------
# Whole messages


def gen_valid(rng, i):
    classic = rng.random() < 0.08
    if rng.random() < 0.15:
        method = rng.randrange(0x1000)
    else:
        method = rng.choice(list(METHODS))
    cls = rng.randrange(4)
    if classic:
        tid = rbytes(rng, 16)
        while tid[:4] == COOKIE_BYTES:
            tid = rbytes(rng, 16)
    else:
        tid = rbytes(rng, 12)
    m = Message(method, cls, tid, classic)
    m.creds = "none" if classic else rng.choice(list(CREDS))
    for _ in range(rng.randint(0, 8)):
        gen_body_attr(rng, m)
    if not classic:
        add_integrity(rng, m)
    return m


def add_integrity(rng, m):
    creds = CREDS[m.creds]
    key_set = m.creds if creds else rng.choice(["st1", "lt1"])  # MACs exist without creds too
    long_term = "username" in CREDS[key_set]
    alg = 1
    if long_term:
        c = CREDS[key_set]
        r = rng.random()
        if r < 0.3:
            alg = 2
            m.add(PASSWORD_ALGORITHM, struct.pack("!HH", 2, 0), "00020000",
                  desc={"name": "PASSWORD-ALGORITHM", "value": "00020000"})
        elif r < 0.45:
            m.add(PASSWORD_ALGORITHM, struct.pack("!HH", 1, 0), "00010000",
                  desc={"name": "PASSWORD-ALGORITHM", "value": 1})
        if rng.random() < 0.4:
            uh = hashlib.sha256(("%s:%s" % (c["username"], c["realm"])).encode()).digest()
            good = rng.random() < 0.85
            if not good:
                uh = bytes([uh[0] ^ 1]) + uh[1:]
            m.add(USERHASH, uh, uh.hex(), desc={"name": "USERHASH", "value": uh.hex()})
            m.userhash = ("ok" if good else "mismatch") if creds else "unchecked"
        elif rng.random() < 0.8:
            m.add(USERNAME, c["username"].encode(), c["username"],
                  desc={"name": "USERNAME", "value": c["username"]})
    key = key_for(key_set, alg)
    wrong_key = rng.random() < 0.1
    if wrong_key:
        key = key + b"x"
    corrupt = rng.choice([None] * 6 + ["mi", "mi256", "fp"])

    def verdict(good):
        if not creds:
            return "unchecked"
        return "ok" if good else "mismatch"

    want_mi = rng.random() < 0.55
    want_mi256 = rng.random() < 0.35
    # Usually MESSAGE-INTEGRITY first; sometimes the order RFC 8489 §9.1.2
    # lists them in (-SHA256 first), which keeps MESSAGE-INTEGRITY counted.
    order = [MI, MI256] if rng.random() < 0.85 else [MI256, MI]
    for t in order:
        if t == MI and want_mi:
            mac = m.hmac_sha1(key)
            good = not wrong_key and corrupt != "mi"
            if corrupt == "mi":
                mac = flip(rng, mac)
            desc = {"name": "MESSAGE-INTEGRITY"} if good and creds else \
                {"name": "MESSAGE-INTEGRITY", "value": mac.hex()}
            m.add(MI, mac, mac.hex(), desc=desc)
            m.verdicts["message_integrity"] = verdict(good)
        if t == MI256 and want_mi256:
            n = rng.choice([16, 20, 24, 28, 32, 32, 32])
            mac = m.hmac_sha256(key, n)
            good = not wrong_key and corrupt != "mi256"
            if corrupt == "mi256":
                mac = flip(rng, mac)
            desc = {"name": "MESSAGE-INTEGRITY-SHA256", "length": n} if good and creds else \
                {"type": MI256, "value": mac.hex()}
            m.add(MI256, mac, mac.hex(), desc=desc)
            m.verdicts["message_integrity_sha256"] = verdict(good)
    if (want_mi or want_mi256) and rng.random() < 0.2:
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.3:
                gen_malformed_junk(rng, m)
            else:
                gen_body_attr(rng, m)
    if rng.random() < 0.6:
        crc = struct.pack("!I", m.crc())
        good = corrupt != "fp"
        if not good:
            crc = flip(rng, crc)
        m.add(FP, crc, crc.hex(),
              desc={"name": "FINGERPRINT"} if good else {"name": "FINGERPRINT", "value": crc.hex()})
        m.verdicts["fingerprint"] = "ok" if good else "mismatch"


def flip(rng, b):
    i = rng.randrange(len(b))
    return b[:i] + bytes([b[i] ^ (1 << rng.randrange(8))]) + b[i + 1:]


# ---------------------------------------------------------------------------
# Malformed messages: (bytes, set of acceptable error names)


def attr_offsets(wire):
    pos, out = 20, []
    while pos + 4 <= len(wire):
        t, n = struct.unpack("!HH", wire[pos:pos + 4])
        out.append((pos, t, n))
        pos += 4 + n + (-n % 4)
    return out


def with_length(wire, n):
    return wire[:2] + struct.pack("!H", n) + wire[4:]


def one_attr_msg(rng, t, v, length=None):
    m = Message(0x001, 0, rbytes(rng, 12))
    return m.header(len(tlv(t, v, length))) + tlv(t, v, length)


def gen_malformed(rng, valid):
    m = rng.choice(valid)
    w = m.wire()
    kind = rng.randrange(14)
    if kind == 0:
        cut = rng.randrange(len(w))
        return w[:cut], {"truncated" if cut < 20 else "length-mismatch"}
    if kind == 1:
        return w + rbytes(rng, rng.randint(1, 8)), {"length-mismatch"}
    if kind == 2:
        n = len(w) - 20
        bad = rng.choice([n + 1, n + 2, n + 3, max(n - 1, 1), rng.getrandbits(16) | 1])
        return with_length(w, bad), {"bad-length"}
    if kind == 3:
        n = len(w) - 20
        bad = rng.choice([n + 4, n + 8, (n - 4) % 65536, rng.getrandbits(14) * 4])
        if bad == n:
            bad += 4
        return with_length(w, bad), {"length-mismatch"}
    if kind == 4:
        return bytes([w[0] | rng.choice([0x40, 0x80, 0xC0])]) + w[1:], {"not-stun"}
    if kind == 5:
        offs = attr_offsets(w)
        if not offs:
            return w[:10], {"truncated"}
        pos, t, n = offs[-1]
        room = len(w) - pos - 4
        new = min(0xFFFF, room + rng.randint(1, 60))
        return w[:pos + 2] + struct.pack("!H", new) + w[pos + 4:], {"attr-truncated"}
    if kind == 6:
        extra = struct.pack("!HH", 0x8123, rng.randint(1, 200))
        return with_length(w + extra, len(w) - 20 + 4), {"attr-truncated"}
    if kind == 7:
        if m.verdicts["fingerprint"] == "absent":
            mm = Message(0x001, 1, rbytes(rng, 12))
            mm.add(FP, b"\0\0\0\0", "")
            w = mm.wire()
        extra = tlv(rng.choice([0x8022, 0x0025, 0x9999]), b"")
        return with_length(w + extra, len(w) - 20 + len(extra)), {"fingerprint-not-last"}
    if kind == 8:
        mm = Message(0x001, 0, rbytes(rng, 12))
        for _ in range(rng.randint(49, 60)):
            mm.body += tlv(rng.choice([0x0025, 0x8123, 0x001A]), b"")
        return mm.wire(), {"too-many-attributes"}
    if kind == 9:
        t = rng.choice([0x0001, 0x0020, 0x8023, 0x0012])
        r = rng.randrange(3)
        if r == 0:
            v = struct.pack("!BBH", 0, rng.choice([0, 3, 4, 0xFF]), 1) + rbytes(rng, 4)
            return one_attr_msg(rng, t, v), {"attr-bad-value"}
        if r == 1:
            v = struct.pack("!BBH", 0, 1, 1) + rbytes(rng, 16)
            return one_attr_msg(rng, t, v), {"attr-bad-length"}
        v = struct.pack("!BBH", 0, 2, 1) + rbytes(rng, rng.choice([0, 4, 8, 12]))
        return one_attr_msg(rng, t, v), {"attr-bad-length"}
    if kind == 10:
        t = rng.choice([0x000D, 0x0024, 0x8028, 0x0008, 0x001C, 0x8029, 0x000C, 0x001E])
        good = {0x000D: 4, 0x0024: 4, 0x8028: 4, 0x0008: 20, 0x001C: 32, 0x8029: 8,
                0x000C: 4, 0x001E: 32}[t]
        n = rng.choice([n for n in range(0, 40) if n != good and not (t == 0x001C and n in (16, 20, 24, 28))])
        return one_attr_msg(rng, t, rbytes(rng, n)), {"attr-bad-length"}
    if kind == 11:
        t = rng.choice([USERNAME, REALM, NONCE, 0x8022])
        bad = rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80",
                          b"\x80abc"])
        return one_attr_msg(rng, t, b"ok" + bad), {"bad-utf8"}
    if kind == 12:
        t = rng.choice([REALM, NONCE, 0x8022])
        if rng.random() < 0.5:
            s = "a" * rng.randint(128, 200)
        else:
            s = "\u00e9" * 128
        if rng.random() < 0.3:
            return one_attr_msg(rng, USERNAME, b"u" * rng.randint(764, 900)), {"string-too-long"}
        return one_attr_msg(rng, t, s.encode()), {"string-too-long"}
    # kind 13: ERROR-CODE with a bad class or number, or too short
    r = rng.randrange(3)
    if r == 0:
        v = struct.pack("!HBB", 0, rng.choice([0, 1, 2, 7]), 0) + b"x"
        return one_attr_msg(rng, 0x0009, v), {"attr-bad-value"}
    if r == 1:
        v = struct.pack("!HBB", 0, 4, rng.randint(100, 255)) + b"x"
        return one_attr_msg(rng, 0x0009, v), {"attr-bad-value"}
    return one_attr_msg(rng, 0x0009, rbytes(rng, rng.randint(0, 3))), {"attr-bad-length"}


def gen_random_input(rng, valid):
    if rng.random() < 0.5:
        n = rng.randint(0, 120)
        b = bytearray(rbytes(rng, n))
        if n >= 20 and rng.random() < 0.7:
            b[0] &= 0x3F
            b[2:4] = struct.pack("!H", (n - 20) & ~3)
            b[4:8] = COOKIE_BYTES
        return bytes(b)
    w = bytearray(rng.choice(valid).wire())
    for _ in range(rng.randint(1, 4)):
        w[rng.randrange(len(w))] = rng.getrandbits(8)
    return bytes(w)


# ---------------------------------------------------------------------------
# Running icelab


class Failures:
    def __init__(self):
        self.items = []

    def add(self, what):
        self.items.append(what)

    def show(self, limit=8):
        for f in self.items[:limit]:
            print("  " + f)
        if len(self.items) > limit:
            print("  ... and %d more" % (len(self.items) - limit))


def run(binary, args, stdin_text):
    p = subprocess.run([binary] + args, input=stdin_text.encode(), capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def crashed(rc, stderr):
    return rc < 0 or rc >= 128 or "runtime error" in stderr or "Sanitizer" in stderr


def short(obj):
    text = json.dumps(obj, ensure_ascii=False, sort_keys=False)
    return text if len(text) < 300 else text[:300] + "..."


def diff(expected, got):
    """The first difference between two JSON values, as a path."""
    def walk(e, g, path):
        if type(e) is not type(g):
            return "%s: expected %s, got %s" % (path, short(e), short(g))
        if isinstance(e, dict):
            if list(e) != list(g):
                return "%s: keys expected %s, got %s" % (path, list(e), list(g))
            for k in e:
                d = walk(e[k], g[k], path + "." + k)
                if d:
                    return d
            return None
        if isinstance(e, list):
            if len(e) != len(g):
                return "%s: %d items expected, got %d" % (path, len(e), len(g))
            for i, (a, b) in enumerate(zip(e, g)):
                d = walk(a, b, "%s[%d]" % (path, i))
                if d:
                    return d
            return None
        return None if e == g else "%s: expected %s, got %s" % (path, short(e), short(g))
    return walk(expected, got, "$")


def check_decode(binary, msgs, fails):
    """Returns {id(msg): decoder JSON line} for the round trip."""
    lines = {}
    for cred in CREDS:
        group = [m for m in msgs if m.creds == cred]
        if not group:
            continue
        stdin = "".join(m.wire().hex() + "\n" for m in group)
        rc, out, err = run(binary, ["stun", "decode", "--json", "--each-line"] + cred_args(cred), stdin)
        if crashed(rc, err):
            fails.add("decode [%s]: crashed (exit %d): %s" % (cred, rc, err.strip()[:300]))
            continue
        want_rc = 1 if any(has_mismatch(m) for m in group) else 0
        if rc != want_rc:
            fails.add("decode [%s]: exit %d, expected %d: %s" % (cred, rc, want_rc, err.strip()[:200]))
        outs = out.splitlines()
        if len(outs) != len(group):
            fails.add("decode [%s]: %d lines out for %d in" % (cred, len(outs), len(group)))
            continue
        for m, line in zip(group, outs):
            try:
                got = json.loads(line)
            except ValueError as e:
                fails.add("decode %s: not JSON (%s): %s" % (m.wire().hex(), e, line[:200]))
                continue
            d = diff(m.expected(), got)
            if d:
                fails.add("decode [%s] %s: %s" % (cred, m.wire().hex(), d))
            else:
                lines[id(m)] = line
    return lines


def has_mismatch(m):
    return "mismatch" in m.verdicts.values() or m.userhash == "mismatch"


def check_encode(binary, msgs, rng, fails):
    n = 0
    for cred in CREDS:
        group = [m for m in msgs if m.creds == cred]
        if not group:
            continue
        descs = [m.description(rng) for m in group]
        stdin = "".join(json.dumps(d, ensure_ascii=rng.random() < 0.5) + "\n" for d in descs)
        rc, out, err = run(binary, ["stun", "encode", "--each-line"] + cred_args(cred), stdin)
        if crashed(rc, err) or rc != 0:
            fails.add("encode [%s]: exit %d: %s" % (cred, rc, err.strip()[:300]))
        outs = out.splitlines()
        if len(outs) != len(group):
            fails.add("encode [%s]: %d lines out for %d in" % (cred, len(outs), len(group)))
            continue
        for m, d, line in zip(group, descs, outs):
            if line != m.wire().hex():
                fails.add("encode [%s] %s\n    expected %s\n    got      %s"
                          % (cred, short(d), m.wire().hex(), line))
            else:
                n += 1
    return n


def check_round_trip(binary, msgs, lines, fails):
    group = [m for m in msgs if id(m) in lines]
    stdin = "".join(lines[id(m)] + "\n" for m in group)
    rc, out, err = run(binary, ["stun", "encode", "--each-line"], stdin)
    if crashed(rc, err) or rc != 0:
        fails.add("decode-encode: exit %d: %s" % (rc, err.strip()[:300]))
    outs = out.splitlines()
    if len(outs) != len(group):
        fails.add("decode-encode: %d lines out for %d in" % (len(outs), len(group)))
        return 0
    n = 0
    for m, line in zip(group, outs):
        if line != m.wire().hex():
            fails.add("decode-encode %s: got %s" % (m.wire().hex(), line))
        else:
            n += 1
    return n


def check_crafted(binary, rng, fails):
    """A "length" unlike the real one is written as given."""
    n = 0
    for _ in range(40):
        m = Message(rng.choice(list(METHODS)), rng.randrange(4), rbytes(rng, 12))
        for _ in range(rng.randint(1, 4)):
            gen_body_attr(rng, m)
        d = m.description(rng)
        w = bytearray(m.wire())
        if rng.random() < 0.5:
            bad = rng.randrange(65536)
            d["length"] = bad
            w[2:4] = struct.pack("!H", bad)
        else:
            offs = attr_offsets(bytes(w))
            i = rng.randrange(len(offs))
            bad = rng.randrange(65536)
            d["attributes"][i] = dict(d["attributes"][i], length=bad)
            w[offs[i][0] + 2:offs[i][0] + 4] = struct.pack("!H", bad)
        rc, out, err = run(binary, ["stun", "encode", "--json-text", json.dumps(d)], "")
        if rc != 0 or out.strip() != bytes(w).hex():
            fails.add("crafted %s: exit %d, expected %s, got %s %s"
                      % (short(d), rc, bytes(w).hex(), out.strip(), err.strip()))
            continue
        rc, out, err = run(binary, ["stun", "decode", "--json", "--hex", bytes(w).hex()], "")
        if crashed(rc, err) or rc not in (0, 1):
            fails.add("crafted decode %s: exit %d %s" % (bytes(w).hex(), rc, err.strip()[:200]))
            continue
        n += 1
    return n


def check_malformed(binary, cases, fails, strict):
    # an empty message cannot be a line: those are run one by one below
    nonempty = [(b, e) for b, e in cases if b]
    stdin = "".join(b.hex() + "\n" for b, _ in nonempty)
    rc, out, err = run(binary, ["stun", "decode", "--json", "--each-line"], stdin)
    if crashed(rc, err):
        fails.add("malformed batch: crashed (exit %d): %s" % (rc, err.strip()[-400:]))
        return 0
    if strict and rc != 1:
        fails.add("malformed batch: exit %d, expected 1" % rc)
    outs = out.splitlines()
    if len(outs) != len(nonempty):
        fails.add("malformed batch: %d lines out for %d in" % (len(outs), len(nonempty)))
        return 0
    n = 0
    for (b, expect), line in zip(nonempty, outs):
        try:
            got = json.loads(line)
        except ValueError:
            fails.add("malformed %s: not JSON: %s" % (b.hex(), line[:200]))
            continue
        if "error" in got:
            ok = (list(got) == ["error", "message", "offset"] and isinstance(got["offset"], int)
                  and 0 <= got["offset"] <= len(b))
            if ok and strict and got["error"] not in expect:
                ok = False
            if not ok:
                fails.add("malformed %s: expected %s, got %s" % (b.hex(), sorted(expect), line))
                continue
        elif strict or list(got)[:3] != ["method", "class", "transaction_id"]:
            fails.add("malformed %s: decoded, expected %s: %s" % (b.hex(), sorted(expect), line[:200]))
            continue
        n += 1
    for b, expect in cases:
        if b:
            continue
        rc, out, err = run(binary, ["stun", "decode", "--json", "-"], "")
        if rc != 2 and not (rc == 1 and '"truncated"' in out):
            fails.add("empty input: exit %d %s %s" % (rc, out, err))
        else:
            n += 1
    return n


def check_bad_descriptions(binary, valid, rng, fails):
    """Mangled descriptions: encode gives a hex line or "error: ..." for
    each, exit 0 or 2, and never crashes."""
    junk = [None, True, -1, 0x10000, 2 ** 70, 1.5, "", "zz", "0x", "[::1]:99999", "1.2.3.4:5",
            [], {}, [1, "a"], "\u0000", "\u00e9" * 300, "ab" * 40000]
    keys = ["method", "class", "transaction_id", "classic", "length", "attributes"]
    akeys = ["type", "name", "value", "length", "raw", "code", "reason", "types"]
    lines = []
    for _ in range(400):
        d = json.loads(json.dumps(rng.choice(valid).description(rng)))
        for _ in range(rng.randint(1, 3)):
            if isinstance(d.get("attributes"), list) and d["attributes"] and rng.random() < 0.7:
                a = rng.choice(d["attributes"])
                if isinstance(a, dict):
                    a[rng.choice(akeys)] = rng.choice(junk)
            else:
                d[rng.choice(keys)] = rng.choice(junk)
        lines.append(json.dumps(d))
    lines.append("not json")
    lines.append("[1, 2]")
    rc, out, err = run(binary, ["stun", "encode", "--each-line", "--password", "pw"],
                       "".join(l + "\n" for l in lines))
    outs = out.splitlines()
    if crashed(rc, err) or rc not in (0, 2) or len(outs) != len(lines):
        fails.add("bad descriptions: exit %d, %d lines for %d: %s"
                  % (rc, len(outs), len(lines), err.strip()[-300:]))
        return 0
    bad = [o for o in outs if not (o.startswith("error: ") or all(c in "0123456789abcdef" for c in o))]
    for o in bad[:3]:
        fails.add("bad descriptions: odd line %r" % o[:200])
    return len(outs) - len(bad)


def check_exit_codes(binary, valid, malformed, fails):
    """Single runs: exit status and the stderr line."""
    n = 0
    picks = [m for m in valid if m.creds != "none"][:25] + [m for m in valid if has_mismatch(m)][:10]
    for m in picks:
        rc, out, err = run(binary, ["stun", "decode", "--json", "--hex", m.wire().hex()] + cred_args(m.creds), "")
        want = 1 if has_mismatch(m) else 0
        if rc != want or (want == 1 and "mismatch" not in err) or (want == 0 and err):
            fails.add("exit: %s [%s]: exit %d, expected %d; stderr %r" % (m.wire().hex(), m.creds, rc, want, err))
        else:
            n += 1
        rc, out, err = run(binary, ["stun", "decode", "--hex", m.wire().hex()] + cred_args(m.creds), "")
        if rc != want or not out.startswith("STUN "):
            fails.add("summary: %s: exit %d: %s" % (m.wire().hex(), rc, out[:200]))
        else:
            n += 1
    for b, expect in malformed[:20]:
        rc, out, err = run(binary, ["stun", "decode", "--json", "--hex", b.hex()], "")
        if b and (rc != 1 or json.loads(out)["error"] not in expect or err.count("\n") != 1):
            fails.add("exit: malformed %s: exit %d, out %s, stderr %r" % (b.hex(), rc, out, err))
        else:
            n += 1
    usage = [
        ["stun", "decode", "--hex", "0g"],
        ["stun", "decode", "--hex", "000"],
        ["stun", "decode", "--bogus"],
        ["stun", "decode", "--hex"],
        ["stun", "decode", "--username", "u", "--hex", "00"],
        ["stun", "encode", "--json-text", "{"],
        ["stun", "encode", "--json-text", '{"method":"binding","class":"request"}'],
        ["stun", "encode", "--json-text",
         '{"method":"binding","class":"request","transaction_id":"000000000000000000000000",'
         '"attributes":[{"name":"MESSAGE-INTEGRITY"}]}'],
        ["stun", "frobnicate"],
        ["frobnicate"],
        ["probe"], ["check", "--bogus"], ["sim"], ["pcap"], ["serve", "--bogus"],
        ["serve", "--sbc", "--bogus"], ["serve", "--sbc"],
        ["serve", "--sbc", "--advertised", "1.2.3.4", "--port-min", "0"],
        ["ng"], ["ng", "127.0.0.1:1"], ["ng", "nohost", "ping"], ["ng", "--bogus"],
        ["ng", "127.0.0.1:1", "offer", "novalue"],
    ]
    for args in usage:
        rc, out, err = run(binary, args, "")
        if rc != 2 or err.count("\n") != 1 or not err.startswith("icelab"):
            fails.add("usage %s: exit %d, stderr %r" % (args, rc, err))
        else:
            n += 1
    for args in (["--help"], ["--version"], ["stun", "--help"], ["stun", "decode", "--help"],
                 ["stun", "encode", "--help"], ["ng", "--help"], ["serve", "--sbc", "--help"]):
        rc, out, err = run(binary, args, "")
        if rc != 0 or not out or err:
            fails.add("%s: exit %d" % (args, rc))
        else:
            n += 1
    return n


def coverage(valid):
    """What the valid messages exercised, so a thinned generator shows."""
    c = {}

    def bump(k):
        c[k] = c.get(k, 0) + 1
    for m in valid:
        bump("classic" if m.classic else "cookie")
        if m.method not in METHODS:
            bump("unknown-method")
        for k, v in m.verdicts.items():
            if v != "absent":
                bump("%s=%s" % (k.replace("message_integrity", "mi"), v))
        if m.userhash:
            bump("userhash=" + m.userhash)
        for a in m.attrs:
            if a.get("ignored"):
                bump("ignored")
            if a.get("raw"):
                bump("raw")
            if a["name"].startswith("0x"):
                bump("unknown-attr")
            if isinstance(a["value"], str) and a["value"].startswith("["):
                bump("ipv6")
    return " ".join("%s:%d" % kv for kv in sorted(c.items()))


def main():
    start = time.time()
    binary = os.environ.get("ICELAB", os.path.join(ROOT, "build", "icelab"))
    if not os.access(binary, os.X_OK):
        print("crosscheck: %s not found (run make first)" % binary)
        return 2
    rng = random.Random(SEED)
    valid = [gen_valid(rng, i) for i in range(N_VALID)]
    malformed = [gen_malformed(rng, valid) for _ in range(N_MALFORMED)]
    randoms = [(gen_random_input(rng, valid), set()) for _ in range(N_RANDOM)]

    binaries = [binary]
    asan = os.path.join(ROOT, "build", "asan", "icelab")
    if "ICELAB" not in os.environ and os.access(asan, os.X_OK):
        binaries.append(asan)

    fails = Failures()
    counts = {}
    for b in binaries:
        tag = os.path.relpath(b, ROOT) if b.startswith(ROOT + os.sep) else b
        lines = check_decode(b, valid, fails)
        counts[tag + " decode"] = len(lines)
        counts[tag + " malformed"] = check_malformed(b, malformed, fails, strict=True)
        counts[tag + " random"] = check_malformed(b, randoms, fails, strict=False)
        if b == binary:
            counts["encode"] = check_encode(b, valid, random.Random(SEED + 1), fails)
            counts["decode-encode"] = check_round_trip(b, valid, lines, fails)
            counts["crafted"] = check_crafted(b, random.Random(SEED + 2), fails)
            counts["exit codes"] = check_exit_codes(b, valid, malformed, fails)
        else:
            counts[tag + " decode-encode"] = check_round_trip(b, valid, lines, fails)
        counts[tag + " bad descriptions"] = check_bad_descriptions(b, valid, random.Random(SEED + 3), fails)

    print("crosscheck: coverage " + coverage(valid))
    for k, v in counts.items():
        print("crosscheck: %-36s %d agreed" % (k, v))
    total = sum(counts.values())
    elapsed = time.time() - start
    if fails.items:
        print("crosscheck: %d disagreements (seed %d), first ones:" % (len(fails.items), SEED))
        fails.show()
        return 1
    print("crosscheck: %d messages agreed (%d valid, %d malformed, %d random; seed %d) in %.1f s"
          % (total, N_VALID, N_MALFORMED, N_RANDOM, SEED, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
