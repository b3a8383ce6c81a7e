#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# mke32.py OUT [options]: write a minimal E32 image header (install-rules.md
# §3.1) for tests: the fields the installer and sisign read, every other
# header word 0, then optional padding.  Not a runnable Symbian binary.
#
#   --kind exe|dll|other       UID1 0x1000007A, 0x10000079, or 0x10000080
#   --uid2 N --uid3 N          (hex or decimal; default 0x100039CE, 0xE0001234)
#   --sid N --vid N            (default: SID = UID3, VID 0)
#   --caps NAME,NAME|0xWORD0[:0xWORD1]   capability set (default none)
#   --pad N                    bytes of (compressible) body after the header
#   --random-pad N             bytes of incompressible body after the header
#   breaking one field:
#   --bad-checksum             UID checksum at 0x0C off by one
#   --bad-signature            'EPOX' instead of 'EPOC' at 0x10
#   --format N                 header format nibble (flags bits 24-27; V = 2)
#   --flags N                  the whole flags word at 0x2C (overrides --format)
#   --truncate N               keep only the first N bytes of the result
import argparse, os, struct, sys

CAPS = ["TCB", "CommDD", "PowerMgmt", "MultimediaDD", "ReadDeviceData", "WriteDeviceData", "DRM",
        "TrustedUI", "ProtServ", "DiskAdmin", "NetworkControl", "AllFiles", "SwEvent", "NetworkServices",
        "LocalServices", "ReadUserData", "WriteUserData", "Location", "SurroundingsDD", "UserEnvironment"]


def crc16(b):
    c = 0
    for x in b:
        c ^= x << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xffff if c & 0x8000 else (c << 1) & 0xffff
    return c


def uid_checksum(u1, u2, u3):
    # The checked-UID CRC: CRC-16 of the odd bytes (high half) and of the
    # even bytes (low half) of the three UIDs, as in a SISX header.
    u = struct.pack('<III', u1, u2, u3)
    return (crc16(u[1::2]) << 16) | crc16(u[0::2])


def num(s):
    return int(s, 0)


def caps_words(s):
    if not s:
        return 0, 0
    if s.lower().startswith('0x') or s.isdigit():
        parts = s.split(':')
        return num(parts[0]), num(parts[1]) if len(parts) > 1 else 0
    w = [0, 0]
    lower = [c.lower() for c in CAPS]
    for name in s.split(','):
        n = lower.index(name.strip().lower())
        w[n // 32] |= 1 << (n % 32)
    return w[0], w[1]


def main():
    ap = argparse.ArgumentParser(description="write a minimal E32 image header for tests")
    ap.add_argument('out')
    ap.add_argument('--kind', choices=['exe', 'dll', 'other'], default='exe')
    ap.add_argument('--uid2', type=num, default=0x100039CE)
    ap.add_argument('--uid3', type=num, default=0xE0001234)
    ap.add_argument('--sid', type=num)
    ap.add_argument('--vid', type=num, default=0)
    ap.add_argument('--caps', default='')
    ap.add_argument('--pad', type=num, default=0)
    ap.add_argument('--random-pad', type=num, default=0)
    ap.add_argument('--bad-checksum', action='store_true')
    ap.add_argument('--bad-signature', action='store_true')
    ap.add_argument('--format', type=num, default=2)
    ap.add_argument('--flags', type=num)
    ap.add_argument('--truncate', type=num)
    a = ap.parse_args()

    uid1 = {'exe': 0x1000007A, 'dll': 0x10000079, 'other': 0x10000080}[a.kind]
    sid = a.uid3 if a.sid is None else a.sid
    flags = a.flags if a.flags is not None else (a.format & 0xF) << 24
    c0, c1 = caps_words(a.caps)
    h = bytearray(0x9C)  # V-format header size; words past 0x90 left 0
    ck = uid_checksum(uid1, a.uid2, a.uid3)
    if a.bad_checksum:
        ck = (ck + 1) & 0xffffffff
    struct.pack_into('<IIII', h, 0, uid1, a.uid2, a.uid3, ck)
    h[0x10:0x14] = b'EPOX' if a.bad_signature else b'EPOC'
    struct.pack_into('<I', h, 0x2C, flags)
    struct.pack_into('<IIII', h, 0x80, sid, a.vid, c0, c1)
    body = bytes(h) + bytes(i % 251 for i in range(a.pad)) + os.urandom(a.random_pad)
    if a.truncate is not None:
        body = body[:a.truncate]
    with open(a.out, 'wb') as f:
        f.write(body)


if __name__ == '__main__':
    sys.exit(main())
