#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sischeck.py - an independent well-formedness checker for SISX packages.

Written from ../shared/docs/sis-format.md sections 1-7 only (not from the C
library), so that the library's writer is checked against the description
rather than against itself.

    sischeck.py [--strict] [-q] FILE...

Exit 0 if every file is well-formed, 1 otherwise (one message per problem on
stderr).  Without --strict, things the device tolerates (stale CRCs, UID3 !=
SISInfo UID, non-zero padding, unsigned bytes after SISDataIndex, skipped
trailing members, name count != language count) are warnings; with --strict
they are errors too (what a freshly written package must satisfy).
"""
import hashlib
import struct
import sys
import zlib

UID1 = 0x10201A7A

(T_STRING, T_ARRAY, T_COMPRESSED, T_VERSION, T_VERSION_RANGE, T_DATE, T_TIME, T_DATETIME, T_UID) = range(1, 10)
T_LANGUAGE = 11
T_CONTENTS, T_CONTROLLER, T_INFO, T_LANGS, T_OPTIONS, T_PREREQS, T_DEPENDENCY, T_PROPERTIES, T_PROPERTY = range(12, 21)
T_CERT_CHAIN, T_LOGO, T_FILE_DESC, T_HASH, T_IF, T_ELSE_IF, T_INSTALL_BLOCK, T_EXPRESSION = range(22, 30)
T_DATA, T_DATA_UNIT, T_FILE_DATA, T_OPTION, T_CTL_CRC, T_DATA_CRC, T_SIGNATURE, T_BLOB, T_SIG_ALG = range(30, 39)
T_SIG_CHAIN, T_DATA_INDEX, T_CAPS = 39, 40, 41

MAX_DEPTH = 8
LIMIT_1G = 0x3FFFFFFF


class Bad(Exception):
    """A structural error: the walk of this subtree stops."""


def crc16(data, crc=0):
    """CRC-16 poly 0x1021, init 0, no reflection, no final XOR (sec. 6)."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def uid_checksum(uid1, uid2, uid3):
    """Symbian checked-UID (sec. 2): CRC of even bytes, CRC of odd bytes."""
    b = struct.pack("<III", uid1, uid2, uid3)
    return (crc16(b[1::2]) << 16) | crc16(b[0::2])


def pad4(n):
    return (4 - n % 4) % 4


class Field:
    __slots__ = ("type", "hdr", "start", "voff", "length", "end")

    def __init__(self, ftype, hdr, start, voff, length, end):
        self.type, self.hdr, self.start, self.voff, self.length, self.end = ftype, hdr, start, voff, length, end


class Checker:
    def __init__(self, name, strict):
        self.name = name
        self.strict = strict
        self.errors = []
        self.warnings = []

    # -- reporting -----------------------------------------------------------
    def error(self, where, msg):
        self.errors.append("%s: %s: %s" % (self.name, where, msg))

    def soft(self, where, msg):
        if self.strict:
            self.error(where, msg)
        else:
            self.warnings.append("%s: %s: warning: %s" % (self.name, where, msg))

    # -- generic field reading (sec. 3) -----------------------------------------
    def field(self, buf, off, end, expect=None, typed=True, what="field"):
        """Read one field at off that must fit (with padding) before end.
        typed=False: an array element (length word(s) only).  Returns a Field
        whose .end is the offset after its padding."""
        if typed:
            if end - off < 4:
                raise Bad("%s at %d: no room for a type word" % (what, off))
            (ftype,) = struct.unpack_from("<I", buf, off)
            p = off + 4
        else:
            ftype, p = expect, off
        if expect is not None and ftype != expect:
            raise Bad("%s at %d: type %d, expected %d" % (what, off, ftype, expect))
        if end - p < 4:
            raise Bad("%s at %d: no room for a length word" % (what, off))
        (l0,) = struct.unpack_from("<I", buf, p)
        p += 4
        if l0 & 0x80000000:
            if end - p < 4:
                raise Bad("%s at %d: no room for the second length word" % (what, off))
            (l1,) = struct.unpack_from("<I", buf, p)
            p += 4
            length = (l0 & 0x7FFFFFFF) | (l1 << 31)
            if length < 0x80000000:
                self.soft("offset %d" % off, "%s uses a 63-bit length header for length %d" % (what, length))
        else:
            length = l0
        if length > end - p:
            raise Bad("%s at %d: length %d overruns its container (%d bytes left)" % (what, off, length, end - p))
        pad = pad4(length)
        if pad > end - p - length:
            raise Bad("%s at %d: padding (%d) overruns its container" % (what, off, pad))
        if any(buf[p + length:p + length + pad]):
            self.soft("offset %d" % (p + length), "%s has non-zero padding" % what)
        return Field(ftype, p - off, off, p, length, p + length + pad)

    def peek_type(self, buf, off, end):
        if end - off < 4:
            return None
        return struct.unpack_from("<I", buf, off)[0]

    def u32(self, buf, off, end, what):
        if end - off < 4:
            raise Bad("%s at %d: truncated u32" % (what, off))
        return struct.unpack_from("<I", buf, off)[0], off + 4

    def done(self, off, end, what):
        """Trailing bytes inside a structure: DEV skips them (sec. 3.7)."""
        if off != end:
            self.soft("offset %d" % off, "%d unexpected bytes at the end of %s" % (end - off, what))

    def array(self, buf, f, elem_type, what):
        """Yields the element Fields of SISArray field f."""
        end = f.voff + f.length
        t, off = self.u32(buf, f.voff, end, what)
        if t != elem_type:
            raise Bad("%s at %d: array of type %d, expected %d" % (what, f.start, t, elem_type))
        while off < end:
            e = self.field(buf, off, end, expect=elem_type, typed=False, what=what + " element")
            yield e
            off = e.end
        # the while loop guarantees the element sizes sum to the array length

    def string(self, buf, f, what):
        if f.length % 2:
            raise Bad("%s at %d: SISString has odd length %d" % (what, f.start, f.length))
        try:
            return bytes(buf[f.voff:f.voff + f.length]).decode("utf-16-le")
        except UnicodeDecodeError:
            self.soft("offset %d" % f.start, "%s is not valid UTF-16" % what)
            return ""

    def string_field(self, buf, off, end, what):
        f = self.field(buf, off, end, T_STRING, what=what)
        return self.string(buf, f, what), f.end

    def string_array(self, buf, off, end, what):
        f = self.field(buf, off, end, T_ARRAY, what=what)
        return [self.string(buf, e, what) for e in self.array(buf, f, T_STRING, what)], f.end

    def fixed(self, buf, off, end, ftype, size, what):
        f = self.field(buf, off, end, ftype, what=what)
        if f.length < size:
            raise Bad("%s at %d: length %d, expected %d" % (what, off, f.length, size))
        self.done(f.voff + size, f.voff + f.length, what)
        return f

    # -- SISCompressed (sec. 3.6) ------------------------------------------------
    def compressed(self, buf, f, what, cap=LIMIT_1G):
        end = f.voff + f.length
        if f.length < 12:
            raise Bad("%s at %d: SISCompressed shorter than 12 bytes" % (what, f.start))
        alg, size = struct.unpack_from("<IQ", buf, f.voff)
        payload = bytes(buf[f.voff + 12:end])
        if size >= LIMIT_1G or size > cap:
            raise Bad("%s at %d: uncompressed size %d is over the limit" % (what, f.start, size))
        if alg == 0:
            if size != len(payload):
                raise Bad("%s at %d: stored payload is %d bytes, declared %d" % (what, f.start, len(payload), size))
            return alg, payload
        if alg != 1:
            raise Bad("%s at %d: unknown compression algorithm %d" % (what, f.start, alg))
        d = zlib.decompressobj()
        try:
            out = d.decompress(payload, size + 1)
        except zlib.error as e:
            raise Bad("%s at %d: zlib stream is corrupt (%s)" % (what, f.start, e))
        if len(out) != size:
            raise Bad("%s at %d: inflates to %s bytes, declared %d" %
                      (what, f.start, "more than" if len(out) > size else len(out), size))
        if not d.eof:
            raise Bad("%s at %d: zlib stream does not end with the declared data" % (what, f.start))
        if d.unused_data:
            self.soft("offset %d" % f.start, "%s: %d bytes after the zlib stream" % (what, len(d.unused_data)))
        return alg, out

    # -- controller (sec. 5.4 - 5.11) ---------------------------------------------
    def version(self, buf, off, end, what):
        f = self.fixed(buf, off, end, T_VERSION, 12, what)
        return struct.unpack_from("<iii", buf, f.voff), f.end

    def dependency(self, buf, e, what):
        end = e.voff + e.length
        uf = self.fixed(buf, e.voff, end, T_UID, 4, what + " UID")
        off = uf.end
        if self.peek_type(buf, off, end) == T_VERSION_RANGE:
            rf = self.field(buf, off, end, T_VERSION_RANGE, what=what + " version range")
            rend = rf.voff + rf.length
            _, p = self.version(buf, rf.voff, rend, what + " from-version")
            if p < rend:
                _, p = self.version(buf, p, rend, what + " to-version")
            self.done(p, rend, what + " version range")
            off = rf.end
        _, off = self.string_array(buf, off, end, what + " names")
        self.done(off, end, what)

    def expression(self, buf, off, end, nest):
        if nest > 100:
            raise Bad("expression at %d nested too deeply" % off)
        f = self.field(buf, off, end, T_EXPRESSION, what="SISExpression")
        vend = f.voff + f.length
        if f.length < 8:
            raise Bad("SISExpression at %d: shorter than 8 bytes" % off)
        op, _ = struct.unpack_from("<Ii", buf, f.voff)
        p = f.voff + 8
        if op in (1, 2, 3, 4, 5, 6, 7, 8, 11):
            p = self.expression(buf, p, vend, nest + 1)
            p = self.expression(buf, p, vend, nest + 1)
        elif op in (9, 12):
            p = self.expression(buf, p, vend, nest + 1)
        elif op in (10, 13):
            _, p = self.string_field(buf, p, vend, "SISExpression string")
        elif op not in (14, 15, 16):
            raise Bad("SISExpression at %d: unknown operator %d" % (off, op))
        self.done(p, vend, "SISExpression")
        return f.end

    def file_description(self, buf, f, ctl, conditional):
        end = f.voff + f.length
        target, off = self.string_field(buf, f.voff, end, "file target")
        mime, off = self.string_field(buf, off, end, "file MIME type")
        caps = None  # the SISCapabilities words, None when the field is absent
        if self.peek_type(buf, off, end) == T_CAPS:
            cf = self.field(buf, off, end, T_CAPS, what="SISCapabilities")
            if cf.length % 4 or cf.length == 0:
                raise Bad("SISCapabilities at %d: length %d is not a positive multiple of 4" % (off, cf.length))
            caps = list(struct.unpack_from("<%dI" % (cf.length // 4), buf, cf.voff))
            off = cf.end
        hf = self.field(buf, off, end, T_HASH, what="SISHash")
        halg, p = self.u32(buf, hf.voff, hf.voff + hf.length, "SISHash")
        if halg != 1:
            raise Bad("SISHash at %d: algorithm %d, expected 1 (SHA-1)" % (off, halg))
        bf = self.field(buf, p, hf.voff + hf.length, T_BLOB, what="SISHash digest")
        if bf.length not in (0, 20):
            raise Bad("SISHash at %d: digest of %d bytes" % (off, bf.length))
        digest = bytes(buf[bf.voff:bf.voff + bf.length])
        self.done(bf.end, hf.voff + hf.length, "SISHash")
        off = hf.end
        if end - off < 28:
            raise Bad("SISFileDescription at %d: its integer members are truncated" % f.start)
        op, opts, length, ulength, index = struct.unpack_from("<IIQQI", buf, off)
        self.done(off + 28, end, "SISFileDescription")
        if op not in (1, 2, 4, 8):
            self.soft("offset %d" % f.start, "file %r: unknown operation %d" % (target, op))
        ctl["files"].append({"target": target, "digest": digest, "length": length, "ulength": ulength,
                             "index": index, "op": op, "at": f.start, "caps": caps})

    def install_block(self, buf, off, end, ctl, depth, conditional, nest):
        if nest > 100:
            raise Bad("install blocks at %d nested too deeply" % off)
        f = self.field(buf, off, end, T_INSTALL_BLOCK, what="SISInstallBlock")
        vend = f.voff + f.length
        af = self.field(buf, f.voff, vend, T_ARRAY, what="file array")
        for e in self.array(buf, af, T_FILE_DESC, "SISFileDescription"):
            self.file_description(buf, e, ctl, conditional)
        ef = self.field(buf, af.end, vend, T_ARRAY, what="embedded controller array")
        for e in self.array(buf, ef, T_CONTROLLER, "embedded SISController"):
            if depth + 1 > MAX_DEPTH:
                raise Bad("embedded controller at %d: nested deeper than %d" % (e.start, MAX_DEPTH))
            child = self.controller_value(buf, e, depth + 1)
            ctl["embedded"].append(child)
        iff = self.field(buf, ef.end, vend, T_ARRAY, what="SISIf array")
        for e in self.array(buf, iff, T_IF, "SISIf"):
            iend = e.voff + e.length
            p = self.expression(buf, e.voff, iend, 0)
            p = self.install_block(buf, p, iend, ctl, depth, True, nest + 1)
            elf = self.field(buf, p, iend, T_ARRAY, what="SISElseIf array")
            for ee in self.array(buf, elf, T_ELSE_IF, "SISElseIf"):
                eend = ee.voff + ee.length
                q = self.expression(buf, ee.voff, eend, 0)
                q = self.install_block(buf, q, eend, ctl, depth, True, nest + 1)
                self.done(q, eend, "SISElseIf")
            self.done(elf.end, iend, "SISIf")
        self.done(iff.end, vend, "SISInstallBlock")
        return f.end

    def controller_value(self, buf, f, depth):
        """f: the SISController field (typed or array element)."""
        end = f.voff + f.length
        ctl = {"depth": depth, "files": [], "embedded": [], "at": f.start}
        # SISInfo
        inf = self.field(buf, f.voff, end, T_INFO, what="SISInfo")
        iend = inf.voff + inf.length
        uf = self.fixed(buf, inf.voff, iend, T_UID, 4, "SISInfo UID")
        ctl["uid"] = struct.unpack_from("<I", buf, uf.voff)[0]
        _, p = self.string_field(buf, uf.end, iend, "unique vendor name")
        names, p = self.string_array(buf, p, iend, "package names")
        vendors, p = self.string_array(buf, p, iend, "vendor names")
        _, p = self.version(buf, p, iend, "package version")
        dtf = self.field(buf, p, iend, T_DATETIME, what="SISDateTime")
        dend = dtf.voff + dtf.length
        df = self.fixed(buf, dtf.voff, dend, T_DATE, 4, "SISDate")
        _, month, day = struct.unpack_from("<HBB", buf, df.voff)
        if month > 11 or not 1 <= day <= 31:
            self.soft("offset %d" % df.start, "SISDate month %d / day %d out of range" % (month, day))
        tf = self.fixed(buf, df.end, dend, T_TIME, 3, "SISTime")
        self.done(tf.end, dend, "SISDateTime")
        p = dtf.end
        if iend - p < 2:
            raise Bad("SISInfo at %d: install type/flags truncated" % inf.start)
        itype = buf[p]
        if itype > 4:
            self.soft("offset %d" % p, "install type %d is unknown" % itype)
        ctl["install_type"] = itype
        self.done(p + 2, iend, "SISInfo")
        # options, languages, prerequisites, properties
        of = self.field(buf, inf.end, end, T_OPTIONS, what="SISSupportedOptions")
        oaf = self.field(buf, of.voff, of.voff + of.length, T_ARRAY, what="options array")
        for e in self.array(buf, oaf, T_OPTION, "SISSupportedOption"):
            _, q = self.string_array(buf, e.voff, e.voff + e.length, "option names")
            self.done(q, e.voff + e.length, "SISSupportedOption")
        self.done(oaf.end, of.voff + of.length, "SISSupportedOptions")
        lf = self.field(buf, of.end, end, T_LANGS, what="SISSupportedLanguages")
        laf = self.field(buf, lf.voff, lf.voff + lf.length, T_ARRAY, what="languages array")
        langs = []
        for e in self.array(buf, laf, T_LANGUAGE, "SISLanguage"):
            if e.length < 4:
                raise Bad("SISLanguage at %d: shorter than 4 bytes" % e.start)
            langs.append(struct.unpack_from("<I", buf, e.voff)[0])
        self.done(laf.end, lf.voff + lf.length, "SISSupportedLanguages")
        if not langs:
            self.soft("offset %d" % lf.start, "no supported language")
        if len(names) != len(langs) or len(vendors) != len(langs):
            self.soft("offset %d" % inf.start, "%d names and %d vendor names for %d languages" %
                      (len(names), len(vendors), len(langs)))
        pf = self.field(buf, lf.end, end, T_PREREQS, what="SISPrerequisites")
        pend = pf.voff + pf.length
        q = pf.voff
        for what in ("target devices", "dependencies"):
            daf = self.field(buf, q, pend, T_ARRAY, what=what)
            for e in self.array(buf, daf, T_DEPENDENCY, "SISDependency"):
                self.dependency(buf, e, "SISDependency")
            q = daf.end
        self.done(q, pend, "SISPrerequisites")
        prf = self.field(buf, pf.end, end, T_PROPERTIES, what="SISProperties")
        praf = self.field(buf, prf.voff, prf.voff + prf.length, T_ARRAY, what="properties array")
        for e in self.array(buf, praf, T_PROPERTY, "SISProperty"):
            if e.length < 8:
                raise Bad("SISProperty at %d: shorter than 8 bytes" % e.start)
        self.done(praf.end, prf.voff + prf.length, "SISProperties")
        p = prf.end
        if self.peek_type(buf, p, end) == T_LOGO:
            lgf = self.field(buf, p, end, T_LOGO, what="SISLogo")
            fdf = self.field(buf, lgf.voff, lgf.voff + lgf.length, T_FILE_DESC, what="logo file description")
            self.file_description(buf, fdf, ctl, False)
            self.done(fdf.end, lgf.voff + lgf.length, "SISLogo")
            p = lgf.end
        p = self.install_block(buf, p, end, ctl, depth, False, 0)
        # signature chains (sec. 3.5, 7.3), then SISDataIndex
        nchains = 0
        while self.peek_type(buf, p, end) == T_SIG_CHAIN:
            cf = self.field(buf, p, end, T_SIG_CHAIN, what="SISSignatureCertificateChain")
            cend = cf.voff + cf.length
            saf = self.field(buf, cf.voff, cend, T_ARRAY, what="signature array")
            for e in self.array(buf, saf, T_SIGNATURE, "SISSignature"):
                send = e.voff + e.length
                af = self.field(buf, e.voff, send, T_SIG_ALG, what="SISSignatureAlgorithm")
                _, r = self.string_field(buf, af.voff, af.voff + af.length, "algorithm OID")
                self.done(r, af.voff + af.length, "SISSignatureAlgorithm")
                bf = self.field(buf, af.end, send, T_BLOB, what="signature blob")
                self.done(bf.end, send, "SISSignature")
            ccf = self.field(buf, saf.end, cend, T_CERT_CHAIN, what="SISCertificateChain")
            cbf = self.field(buf, ccf.voff, ccf.voff + ccf.length, T_BLOB, what="certificate blob")
            self.done(cbf.end, ccf.voff + ccf.length, "SISCertificateChain")
            self.done(ccf.end, cend, "SISSignatureCertificateChain")
            p = cf.end
            nchains += 1
        dif = self.fixed(buf, p, end, T_DATA_INDEX, 4, "SISDataIndex")
        ctl["data_index"] = struct.unpack_from("<I", buf, dif.voff)[0]
        ctl["nchains"] = nchains
        ctl["names"] = names
        ctl["langs"] = langs
        if dif.end != end:
            self.soft("offset %d" % dif.end, "%d unsigned bytes after SISDataIndex" % (end - dif.end))
        return ctl

    # -- the whole file (sec. 2, 5.1 - 5.3, 5.12, 6) -------------------------------
    def check(self, buf):
        n = len(buf)
        if n < 16:
            self.error("header", "file of %d bytes is shorter than the 16-byte UID header" % n)
            return
        uid1, uid2, uid3, cks = struct.unpack_from("<IIII", buf, 0)
        if uid1 != UID1:
            if uid3 == 0x10000419:
                self.error("header", "pre-v9 (legacy) SIS file")
            else:
                self.error("header", "UID1 is 0x%08X, not 0x%08X" % (uid1, UID1))
            return
        want = uid_checksum(uid1, uid2, uid3)
        if cks != want:
            self.error("header", "UID checksum 0x%08X, expected 0x%08X" % (cks, want))
        try:
            self.contents(buf, uid3)
        except Bad as e:
            self.error("structure", str(e))

    def contents(self, buf, uid3):
        n = len(buf)
        cf = self.field(buf, 16, n + pad4(n), T_CONTENTS, what="SISContents")
        if cf.voff + cf.length > n:
            raise Bad("SISContents length %d overruns the file" % cf.length)
        if cf.end != n and cf.voff + cf.length != n:
            self.soft("offset %d" % (cf.voff + cf.length),
                      "SISContents ends at %d but the file is %d bytes" % (cf.voff + cf.length, n))
        elif cf.end != n:
            self.soft("offset %d" % n, "SISContents padding is missing at the end of the file")
        end = cf.voff + cf.length
        p = cf.voff
        stored = {}
        for t, what in ((T_CTL_CRC, "SISControllerChecksum"), (T_DATA_CRC, "SISDataChecksum")):
            if self.peek_type(buf, p, end) == t:
                f = self.fixed(buf, p, end, t, 2, what)
                stored[t] = struct.unpack_from("<H", buf, f.voff)[0]
                p = f.end
        ccf = self.field(buf, p, end, T_COMPRESSED, what="controller SISCompressed")
        _, ctlbytes = self.compressed(buf, ccf, "controller", cap=64 << 20)
        dataf = self.field(buf, ccf.end, end, T_DATA, what="SISData")
        self.done(dataf.end, end, "SISContents")
        for t, f, what in ((T_CTL_CRC, ccf, "controller"), (T_DATA_CRC, dataf, "data")):
            if t in stored:
                got = crc16(buf[f.start:f.end])
                if got != stored[t]:
                    self.soft("CRC", "%s CRC stored 0x%04X, computed 0x%04X" % (what, stored[t], got))
        # the controller: a complete SISController field, padding included
        cl = len(ctlbytes)
        f = self.field(ctlbytes, 0, cl + pad4(cl), T_CONTROLLER, what="SISController")
        if f.voff + f.length > cl:
            raise Bad("SISController length %d overruns the decompressed controller (%d)" % (f.length, cl))
        if f.end != cl:
            self.soft("controller", "SISController field is %d bytes with padding, payload is %d" % (f.end, cl))
        ctl = self.controller_value(ctlbytes, f, 0)
        self.top = ctl  # for tests that look at the model (file capabilities)
        if ctl["uid"] != uid3:
            self.soft("header", "UID3 0x%08X differs from the SISInfo UID 0x%08X" % (uid3, ctl["uid"]))
        if ctl["data_index"] != 0:
            self.soft("controller", "top-level SISDataIndex is %d, not 0" % ctl["data_index"])
        units = self.data(buf, dataf)
        self.files(ctl, 0, units)

    def data(self, buf, f):
        units = []
        af = self.field(buf, f.voff, f.voff + f.length, T_ARRAY, what="data unit array")
        for e in self.array(buf, af, T_DATA_UNIT, "SISDataUnit"):
            uaf = self.field(buf, e.voff, e.voff + e.length, T_ARRAY, what="file data array")
            files = []
            for fe in self.array(buf, uaf, T_FILE_DATA, "SISFileData"):
                cf = self.field(buf, fe.voff, fe.voff + fe.length, T_COMPRESSED, what="file SISCompressed")
                self.done(cf.end, fe.voff + fe.length, "SISFileData")
                files.append(cf)
            self.done(uaf.end, e.voff + e.length, "SISDataUnit")
            units.append(files)
        self.done(af.end, f.voff + f.length, "SISData")
        return units

    def files(self, ctl, parent_abs, units):
        absu = parent_abs + ctl["data_index"]
        for fd in ctl["files"]:
            where = "file %r (description at %d)" % (fd["target"], fd["at"])
            if not fd["digest"]:
                continue
            if absu >= len(units) or fd["index"] >= len(units[absu]):
                if ctl["install_type"] in (3, 4) or not units:
                    # PA/PP, or a stub of any type (no data unit at all, sec.
                    # 5.12): the files are already on the device or the media
                    continue
                self.error(where, "data unit %d / file index %d points nowhere" % (absu, fd["index"]))
                continue
            cf = units[absu][fd["index"]]
            try:
                _, data = self.compressed(self.buf, cf, "file data")
            except Bad as e:
                self.error(where, str(e))
                continue
            if cf.length - 12 != fd["length"]:
                self.error(where, "Length %d, but the stored payload is %d bytes" % (fd["length"], cf.length - 12))
            if len(data) != fd["ulength"]:
                self.error(where, "UncompressedLength %d, but the data is %d bytes" % (fd["ulength"], len(data)))
            if hashlib.sha1(data).digest() != fd["digest"]:
                self.error(where, "SHA-1 does not match the stored data")
        for child in ctl["embedded"]:
            self.files(child, absu, units)


def check_file(path, strict):
    with open(path, "rb") as fp:
        buf = fp.read()
    c = Checker(path, strict)
    c.buf = buf
    c.check(buf)
    return c


def main(argv):
    strict = "--strict" in argv
    quiet = "-q" in argv
    paths = [a for a in argv if a not in ("--strict", "-q")]
    if not paths:
        sys.stderr.write(__doc__)
        return 2
    bad = 0
    for path in paths:
        try:
            c = check_file(path, strict)
        except OSError as e:
            sys.stderr.write("%s: %s\n" % (path, e))
            bad = 1
            continue
        for w in c.warnings:
            sys.stderr.write(w + "\n")
        for e in c.errors:
            sys.stderr.write(e + "\n")
        if c.errors:
            bad = 1
        elif not quiet:
            print("%s: well-formed" % path)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
