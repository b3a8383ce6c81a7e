#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
import struct, sys, zlib
# chains.py FILE OUTDIR: writes region<k>.bin, sig<k>.bin, alg<k>.txt,
# certs<k>.der for each top-level chain k; prints the chain count.
def field(buf, off):
    t, l = struct.unpack_from('<II', buf, off)
    hl = 8
    if l & 0x80000000:
        hi, = struct.unpack_from('<I', buf, off + 8)
        l = (l & 0x7fffffff) | (hi << 31)
        hl = 12
    return t, off + hl, l, off + hl + l + (-(hl + l)) % 4
def fields(buf, start, end):
    off = start
    while off < end:
        t, v, l, nxt = field(buf, off)
        yield off, t, v, l
        off = nxt
data = open(sys.argv[1], 'rb').read()
outdir = sys.argv[2]
assert struct.unpack_from('<I', data, 0)[0] == 0x10201A7A
t, v, l, _ = field(data, 16)
assert t == 12
ctrl = None
for _, ft, fv, fl in fields(data, v, v + l):
    if ft == 3 and ctrl is None:       # the first SISCompressed is the controller
        alg, size = struct.unpack_from('<IQ', data, fv)
        raw = data[fv + 12:fv + fl]
        ctrl = zlib.decompress(raw) if alg == 1 else raw
        assert len(ctrl) == size
t, bv, bl, _ = field(ctrl, 0)
assert t == 13
B = ctrl[bv:bv + bl]
k = 0
for off, ft, fv, fl in fields(B, 0, len(B)):
    if ft != 39:
        continue
    open('%s/region%d.bin' % (outdir, k), 'wb').write(B[:off])   # §7.1
    inner = list(fields(B, fv, fv + fl))
    _, at, av, al = inner[0]
    assert at == 2 and struct.unpack_from('<I', B, av)[0] == 36
    elen, = struct.unpack_from('<I', B, av + 4)
    sig = list(fields(B, av + 8, av + 8 + elen))
    _, algt, algv, _ = sig[0]
    assert algt == 38
    st, sv, sl, _ = field(B, algv)
    open('%s/alg%d.txt' % (outdir, k), 'w').write(B[sv:sv + sl].decode('utf-16-le') + '\n')
    _, blt, blv, bll = sig[1]
    assert blt == 37
    open('%s/sig%d.bin' % (outdir, k), 'wb').write(B[blv:blv + bll])
    _, ct, cv, cl = inner[1]
    assert ct == 22
    bt, bv2, bl2, _ = field(B, cv)
    assert bt == 37
    open('%s/certs%d.der' % (outdir, k), 'wb').write(B[bv2:bv2 + bl2])
    k += 1
print(k)
