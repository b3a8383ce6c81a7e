#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mksis.py - a small SIS writer for tests: packages `sisign pack` does not
make (embedded packages nested as deep as asked, the same UID twice in one
file, stubs), written from ../shared/docs/sis-format.md sections 2-6.

    mksis.py DESCRIPTION.json OUT.sis
    mksis.py --layout PACKAGE.sis     print its field layout, one line per
                                      controller (to compare with a real one)

The description is one JSON object, a package:

    {"uid": "0xE0001234",          package UID (also header UID3)
     "type": "SA",                 SA SP PU PA PP (default SA)
     "name": "X", "vendor": "V",   (defaults "mksis", "mksis")
     "version": [1, 0, 0],
     "files": [{"target": "!:\\data\\f.txt",
                "data": "text",    inline UTF-8 bytes, or
                "src": "f.txt",    a local file
                "caps": 0,         SISCapabilities word, omitted when 0
                "operation": 1, "store": false}],
     "embedded": [PACKAGE, ..., {"sis": "child.sis"}],
     "stub": false,
     "data_index": N}              SISDataIndex written instead of the
                                   right one (a package whose data is
                                   missing)

An embedded PACKAGE is a description like the top one, written unsigned;
{"sis": FILE} embeds the controller of an existing (signed) SISX package
FILE as makesis does: its controller bytes unchanged but for its
SISDataIndex, its data units appended to the parent's (§5.13).  "stub"
(top level only) writes SISData with no data units at all: the installer's
test for a stub (removable-media or preinstalled, install-rules.md IR-SIG-8)
is exactly that (its CData::IsStub counts the data units); file
descriptions keep their hashes and sizes.

Layout: data units in depth-first order, each controller's own unit first,
then those of its embedded packages in order; a controller's SISDataIndex
is where its first unit lies relative to its parent's (the top one 0).
Controllers and file data are zlib-compressed unless "store"; both CRC
fields are written (omitted when 0, as Symbian's PC tools do; a stub has
no data CRC); no signatures (sign the result with `sisign sign`).
"""
import hashlib
import json
import struct
import sys
import zlib

TYPES = {"SA": 0, "SP": 1, "PU": 2, "PA": 3, "PP": 4}


def pad(v):
    return b"\0" * ((4 - len(v) % 4) % 4)


def hdr(length):
    # 31-bit form below 2^31 (§3.1); tests never need more
    assert length < 0x80000000
    return struct.pack("<I", length)


def field(ftype, value):  # a typed field: type, length, value, padding
    return struct.pack("<I", ftype) + hdr(len(value)) + value + pad(value)


def elem(value):  # an array element: no type word (§3.4)
    return hdr(len(value)) + value + pad(value)


def array(etype, values):
    return field(2, struct.pack("<I", etype) + b"".join(elem(v) for v in values))


def string(text):
    return field(1, text.encode("utf-16-le"))


def compressed(raw, store):
    if store:
        return field(3, struct.pack("<IQ", 0, len(raw)) + raw)
    return field(3, struct.pack("<IQ", 1, len(raw)) + zlib.compress(raw, 9))


def crc16(data):
    """CRC-16 poly 0x1021, init 0, no reflection, no final XOR (§6)."""
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


# ---- reading a SISX package to embed it (§2-§5) ------------------------------

def read_hdr(buf, off, typed):
    """(type, value offset, length, end after padding) of the field at off."""
    t = None
    if typed:
        (t,) = struct.unpack_from("<I", buf, off)
        off += 4
    (length,) = struct.unpack_from("<I", buf, off)
    off += 4
    if length & 0x80000000:
        (hi,) = struct.unpack_from("<I", buf, off)
        off += 4
        length = (length & 0x7FFFFFFF) | (hi << 31)
    return t, off, length, off + length + (4 - length % 4) % 4


def read_sisx(path):
    """(controller value bytes, [data unit element values]) of a SISX file."""
    buf = open(path, "rb").read()
    if struct.unpack_from("<I", buf, 0)[0] != 0x10201A7A:
        sys.exit("mksis: %s is not a SISX package" % path)
    t, voff, length, _ = read_hdr(buf, 16, True)
    assert t == 12, "%s: no SISContents" % path
    off = voff
    t, v, n, off2 = read_hdr(buf, off, True)
    while t in (34, 35):  # the CRC fields
        off = off2
        t, v, n, off2 = read_hdr(buf, off, True)
    assert t == 3, "%s: no SISCompressed controller" % path
    alg, usize = struct.unpack_from("<IQ", buf, v)
    payload = buf[v + 12:v + n]
    ctl = zlib.decompress(payload) if alg == 1 else payload
    assert len(ctl) == usize
    ct, cv, cn, _ = read_hdr(ctl, 0, True)
    assert ct == 13, "%s: the compressed payload is no SISController" % path
    t, v, n, _ = read_hdr(buf, off2, True)
    assert t == 30, "%s: no SISData" % path
    t, av, an, _ = read_hdr(buf, v, True)
    (etype,) = struct.unpack_from("<I", buf, av)
    assert t == 2 and etype == 31
    units, p = [], av + 4
    while p < av + an:
        _, ev, en, p = read_hdr(buf, p, False)
        units.append(buf[ev:ev + en])
    return ctl[cv:cv + cn], units


def set_data_index(value, index):
    """The controller value with its SISDataIndex (§5.4, member 9) set."""
    off = 0
    while off < len(value):
        t, v, n, end = read_hdr(value, off, True)
        if t == 40:
            return value[:v] + struct.pack("<I", index) + value[v + 4:]
        off = end
    sys.exit("mksis: controller without SISDataIndex")


# ---- writing ------------------------------------------------------------------

def file_description(f, index):
    if "src" in f:
        data = open(f["src"], "rb").read()
    else:
        data = f.get("data", "").encode("utf-8")
    stored = compressed(data, f.get("store", False))
    caps = num(f.get("caps", 0))
    desc = string(f["target"]) + string(f.get("mime", ""))
    if caps:
        desc += field(41, struct.pack("<I", caps))
    desc += field(25, struct.pack("<I", 1) + field(37, hashlib.sha1(data).digest()))
    # Length = the SISCompressed value's length less its 12-byte header (§5.10)
    plen = struct.unpack_from("<I", stored, 4)[0] - 12
    desc += struct.pack("<IIQQI", num(f.get("operation", 1)), 0, plen, len(data), index)
    return desc, stored  # a SISFileData value is one typed SISCompressed (§5.12)


def controller(pkg, index):
    """(controller value, [data unit values]): this controller's unit first."""
    if "sis" in pkg:
        value, units = read_sisx(pkg["sis"])
        return set_data_index(value, index), units
    uid = num(pkg["uid"])
    index = num(pkg.get("data_index", index))  # a wrong one, for tests
    descs, filedata = [], []
    for i, f in enumerate(pkg.get("files", [])):
        d, fd = file_description(f, i)
        descs.append(d)
        filedata.append(fd)
    units = [array(32, filedata)]
    children = []
    for child in pkg.get("embedded", []):
        # the child's first unit lands at len(units), relative to ours
        cv, cu = controller(child, len(units))
        children.append(cv)
        units += cu
    major, minor, build = pkg.get("version", [1, 0, 0])
    name, vendor = pkg.get("name", "mksis"), pkg.get("vendor", "mksis")
    info = (field(9, struct.pack("<I", uid)) + string(vendor)
            + array(1, [name.encode("utf-16-le")]) + array(1, [vendor.encode("utf-16-le")])
            + field(4, struct.pack("<iii", major, minor, build))
            + field(8, field(6, struct.pack("<HBB", 2020, 0, 1)) + field(7, b"\0\0\0"))
            + struct.pack("<BB", TYPES[pkg.get("type", "SA")], num(pkg.get("flags", 0))))
    value = (field(14, info)
             + field(16, array(33, []))
             + field(15, array(11, [struct.pack("<I", 1)]))
             + field(17, array(18, []) + array(18, []))
             + field(19, array(20, []))
             + field(28, array(24, descs) + array(13, children) + array(26, []))
             + field(40, struct.pack("<I", index)))
    return value, units


def package(pkg):
    uid = num(pkg["uid"])
    value, units = controller(pkg, 0)
    if pkg.get("stub"):
        units = []
    ctl = compressed(field(13, value), pkg.get("store", False))
    data = field(30, array(31, units))
    contents = b""
    for t, region in ((34, ctl), (35, data)):
        c = crc16(region)
        # a stub's empty SISData has no data CRC (§5.12), as the
        # installer's own stub writer leaves it out
        if c and not (t == 35 and pkg.get("stub")):
            contents += field(t, struct.pack("<H", c))
    u = struct.pack("<III", 0x10201A7A, 0, uid)
    check = (crc16(u[1::2]) << 16) | crc16(u[0::2])
    return u + struct.pack("<I", check) + field(12, contents + ctl + data)


# ---- the field layout of a package, to compare with a real one ---------------

def members(buf, off, end):
    """[(type, value offset, length)] of the typed fields from off to end."""
    out = []
    while end - off >= 8:
        t, v, n, off = read_hdr(buf, off, True)
        out.append((t, v, n))
    return out


def elements(buf, av, an):
    """The element type and [(value offset, length)] of the array at av."""
    (et,) = struct.unpack_from("<I", buf, av)
    out, p = [], av + 4
    while p < av + an:
        _, ev, en, p = read_hdr(buf, p, False)
        out.append((ev, en))
    return et, out


def install_block(buf, v, n, kids):
    """Its members as "type<element type>"; embedded controllers (also
    those inside IF and ELSEIF blocks, in file order) go to kids."""
    parts = []
    for at, av, an in members(buf, v, v + n):
        et, els = elements(buf, av, an)
        parts.append("%d<%d>" % (at, et))
        for ev, en in els:
            if et == 13:
                kids.append(buf[ev:ev + en])
            elif et in (26, 27):  # SISIf / SISElseIf: expression, block[, else-ifs]
                for t, mv, mn in members(buf, ev, ev + en):
                    if t == 28:
                        install_block(buf, mv, mn, kids)
                    elif t == 2:
                        install_block_elseifs(buf, mv, mn, kids)
    return parts


def install_block_elseifs(buf, av, an, kids):
    _, els = elements(buf, av, an)
    for ev, en in els:
        for t, mv, mn in members(buf, ev, ev + en):
            if t == 28:
                install_block(buf, mv, mn, kids)


def layout_controller(value, depth, lines):
    """One line per controller: its member types in order (chains as 39),
    the SISInstallBlock's member types and element types, its SISDataIndex;
    then its embedded controllers, depth first."""
    ms = members(value, 0, len(value))
    kids, blk, index = [], "", None
    for t, v, n in ms:
        if t == 28:
            blk = " ".join(install_block(value, v, n, kids))
        elif t == 40:
            (index,) = struct.unpack_from("<I", value, v)
    lines.append("depth %d: %s; install block %s; data index %s"
                 % (depth, " ".join(str(t) for t, _, _ in ms), blk, index))
    for k in kids:
        layout_controller(k, depth + 1, lines)


def layout(path):
    buf = open(path, "rb").read()
    _, voff, length, _ = read_hdr(buf, 16, True)
    top = members(buf, voff, voff + length)
    value, units = read_sisx(path)
    lines = ["contents: %s; %d data units" % (" ".join(str(t) for t, _, _ in top), len(units))]
    layout_controller(value, 0, lines)
    return lines


def main(argv):
    if len(argv) == 3 and argv[1] == "--layout":
        print("\n".join(layout(argv[2])))
        return
    if len(argv) != 3:
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as fh:
        pkg = json.load(fh)
    out = package(pkg)
    with open(argv[2], "wb") as fh:
        fh.write(out)


if __name__ == "__main__":
    main(sys.argv)
