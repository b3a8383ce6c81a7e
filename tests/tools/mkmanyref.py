#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# mkmanyref.py OUT NDESC SIZE [NUNITS]: a small, valid, unsigned SIS package
# whose install block holds NDESC file descriptions that all name file 0 of
# data unit 0: SIZE zero bytes, zlib-compressed (a hashing amplifier: one
# data entry, many descriptions).  With NUNITS, SISData holds NUNITS data
# units (the first with that file, the rest empty).  No CRC fields.
# Layout per sis-format.md §3-§5.
import hashlib, struct, sys, zlib


def f(t, v):  # typed field
    return struct.pack('<II', t, len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)


def e(v):  # untyped array element
    return struct.pack('<I', len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)


def arr(t, elems):
    return f(2, struct.pack('<I', t) + b''.join(e(x) for x in elems))


def s(text):
    return f(1, text.encode('utf-16-le'))


out, ndesc, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
nunits = int(sys.argv[4]) if len(sys.argv) > 4 else 1
data = b'\0' * size
z = zlib.compress(data, 9)
digest = hashlib.sha1(data).digest()
uid = 0xE0000001

desc = [s('!:\\data\\f%d.txt' % i) + s('') + f(25, struct.pack('<I', 1) + f(37, digest))
        + struct.pack('<IIQQI', 1, 0, len(z), size, 0) for i in range(ndesc)]
info = f(9, struct.pack('<I', uid)) + s('Acme') + arr(1, ['manyref'.encode('utf-16-le')]) + arr(1, ['Acme'.encode('utf-16-le')]) \
    + f(4, struct.pack('<iii', 1, 0, 0)) + f(8, f(6, struct.pack('<HBB', 2008, 0, 1)) + f(7, b'\0\0\0')) \
    + struct.pack('<BB', 0, 0)
ctl = f(13, f(14, info) + f(16, f(2, struct.pack('<I', 33))) + f(15, arr(11, [struct.pack('<I', 1)]))
        + f(17, f(2, struct.pack('<I', 18)) + f(2, struct.pack('<I', 18))) + f(19, f(2, struct.pack('<I', 20)))
        + f(28, arr(24, desc) + f(2, struct.pack('<I', 13)) + f(2, struct.pack('<I', 26)))
        + f(40, struct.pack('<I', 0)))
comp = f(3, struct.pack('<IQ', 1, len(ctl)) + zlib.compress(ctl, 6))
filedata = f(3, struct.pack('<IQ', 1, size) + z)
units = [arr(32, [filedata])] + [arr(32, [])] * (nunits - 1)
sisdata = f(30, arr(31, units))
contents = f(12, comp + sisdata)


def crc16(b):
    c = 0
    for x in b:
        c ^= x << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xffff if c & 0x8000 else (c << 1) & 0xffff
    return c


u = struct.pack('<III', 0x10201A7A, 0, uid)
ck = (crc16(u[1::2]) << 16) | crc16(u[0::2])
with open(out, 'wb') as fh:
    fh.write(u + struct.pack('<I', ck) + contents)
