#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Make broken-but-parseable SIS packages for tests (issue 11).

  sistamper.py sig IN OUT [K]   flip one bit in the signature of top-level
                                chain K (1-based; default: the last chain)
  sistamper.py uid3 IN OUT UID  set the header's UID3 (checksum fixed)

The controller is decompressed, changed, compressed again and the
SISContents length and controller CRC rewritten, so the package still
parses: only the chosen signature stops verifying.  Short (31-bit) field
lengths only, which is all small test packages use.
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sischeck import crc16, uid_checksum  # noqa: E402


def field(buf, off):
    t, ln = struct.unpack_from('<II', buf, off)
    assert not ln & 0x80000000, 'long field lengths are not handled'
    return t, off + 8, ln, off + 8 + ln + (-ln) % 4


def fields(buf, start, end):
    off = start
    while off < end:
        t, v, ln, nxt = field(buf, off)
        yield off, t, v, ln, nxt
        off = nxt


def put_field(t, value):
    return struct.pack('<II', t, len(value)) + value + b'\0' * ((-len(value)) % 4)


def tamper_sig(data, k):
    t, cv, cl, _ = field(data, 16)
    assert t == 12
    out_fields = []
    for off, ft, fv, fl, nxt in fields(data, cv, cv + cl):
        out_fields.append((ft, data[off:nxt], fv, fl))
    ci = next(i for i, f in enumerate(out_fields) if f[0] == 3)
    _, raw, _, _ = out_fields[ci]
    alg, size = struct.unpack_from('<IQ', raw, 8)
    body = raw[20:8 + struct.unpack_from('<I', raw, 4)[0]]
    ctrl = bytearray(zlib.decompress(body) if alg == 1 else body)
    assert len(ctrl) == size
    t, bv, bl, _ = field(ctrl, 0)
    assert t == 13
    chains = [(fv, fl) for off, ft, fv, fl, _ in fields(ctrl, bv, bv + bl) if ft == 39]
    fv, fl = chains[k - 1 if k else -1]
    # SISSignatureCertificateChain { Array<SISSignature>, ... }: the first
    # signature's SISBlob is the second field of the first array element.
    _, at, av, al, _ = next(fields(ctrl, fv, fv + fl))
    assert at == 2 and struct.unpack_from('<I', ctrl, av)[0] == 36
    elen, = struct.unpack_from('<I', ctrl, av + 4)
    sig = list(fields(ctrl, av + 8, av + 8 + elen))
    _, blt, blv, bll, _ = sig[1]
    assert blt == 37 and bll > 0
    ctrl[blv + bll // 2] ^= 0x01
    z = zlib.compress(bytes(ctrl))
    comp = put_field(3, struct.pack('<IQ', 1, len(ctrl)) + z)
    crc = crc16(comp)
    crcf = put_field(34, struct.pack('<H', crc)) if crc else b''
    # The controller CRC comes first in SISContents (sis-format.md §5.3).
    value = b'' if any(f[0] == 34 for f in out_fields) else crcf
    for ft, rawf, _, _ in out_fields:
        if ft == 34:
            value += crcf
        elif ft == 3 and rawf is raw:
            value += comp
        else:
            value += rawf
    contents = put_field(12, value)
    rest = data[cv + cl + (-cl) % 4:]
    return data[:16] + contents + rest


def set_uid3(data, uid3):
    uid1, uid2 = struct.unpack_from('<II', data, 0)
    return struct.pack('<IIII', uid1, uid2, uid3, uid_checksum(uid1, uid2, uid3)) + data[16:]


def main(argv):
    data = open(argv[2], 'rb').read()
    if argv[1] == 'sig':
        out = tamper_sig(data, int(argv[4]) if len(argv) > 4 else 0)
    elif argv[1] == 'uid3':
        out = set_uid3(data, int(argv[4], 0))
    else:
        sys.exit(__doc__)
    open(argv[3], 'wb').write(out)


if __name__ == '__main__':
    main(sys.argv)
