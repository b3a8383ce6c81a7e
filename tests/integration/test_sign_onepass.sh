#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 1 / #14 item 3: signing reads the file data once.  The
# writer's one pass over SISData copies it into the temp file (pread +
# pwrite), inflates and SHA-1s the files and works out the data CRC; no
# kernel copy (copy_file_range, sendfile, splice) moves it a second time.
#   - one package and a batch of two, each with a few MiB of file data in
#     three files (one deflated) and a stale SISDataChecksum: strace shows
#     every byte of each input's SISData region read exactly once, and no
#     kernel copy; the outputs are well-formed with both CRCs right
#     (tests/tools/sischeck.py --strict) and verify;
#   - a package whose file data does not match its hash: exit 8 as before,
#     one error line (the key's own warnings aside) naming IN and the file,
#     no output, no temp file, IN unchanged; the same with a token key (the
#     mock module): the signature is made and thrown away (one C_Sign, the
#     documented cost of reading the data once), the audit log has an
#     "error" record and no "writing" or "done" one for it;
#   - a pwrite that fails with ENOSPC during the pass: exit 3, no output,
#     no temp file.
# Env: SISIGN, MOCK_P11_MODULE (the token part; skipped without it).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3 strace; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
if ! strace -qq -o /dev/null -e trace=openat -e inject=openat:error=ENOSPC:when=60000 true 2>/dev/null; then
	echo "SKIP: this strace has no syscall fault injection (-e inject=, strace >= 4.16)"
	exit 77
fi
unset SISIGN_PASS SISIGN_PIN MOCK_P11_MODE
# LeakSanitizer cannot run under ptrace.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
. "$(dirname "$0")/lib/common.sh"
tu_init sign-onepass
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
cd "$T" || exit 1

tu_codesign_cert rsa "sisign onepass"
K=(--key rsa.key --cert rsa.crt)

cat >sis.py <<'EOF'
# region FILE: "OFF LEN" of the SISData field (header, value, padding).
# stale IN OUT: IN with the value of its SISDataChecksum field (sisign pack
# writes one) made wrong.
import struct, sys

def hdr(b, off):
    t, l0 = struct.unpack_from('<II', b, off)
    if l0 & 0x80000000:
        (l1,) = struct.unpack_from('<I', b, off + 8)
        return t, 12, (l0 & 0x7FFFFFFF) | (l1 << 31)
    return t, 8, l0

def pad(n):
    return (4 - n % 4) % 4

def layout(b):
    t, h, clen = hdr(b, 16)
    assert t == 12, 'no SISContents'
    p = 16 + h
    fields = []
    while p < 16 + h + clen:
        t, fh, flen = hdr(b, p)
        fields.append((t, p, fh + flen + pad(flen)))
        p += fh + flen + pad(flen)
    return h, clen, fields

b = bytearray(open(sys.argv[2], 'rb').read())
h, clen, fields = layout(b)
if sys.argv[1] == 'region':
    (off, n), = [(p, n) for t, p, n in fields if t == 30]
    print(off, n)
else:
    (at,) = [p for t, p, n in fields if t == 35]
    (v,) = struct.unpack_from('<H', b, at + 8)
    struct.pack_into('<H', b, at + 8, v ^ 0x5555)
    open(sys.argv[3], 'wb').write(b)
EOF

# mkpkg N OUT: three files, 1.5 to 2.5 MiB each (two random, one that
# deflates), and a stale data CRC.
mkpkg() {
	head -c $((1536 * 1024 + $1 * 4096)) /dev/urandom >a.bin
	head -c $((2048 * 1024)) /dev/urandom >b.bin
	python3 -c 'print("".join("line %d of text that deflates well\n" % i for i in range(70000)), end="")' >c.txt
	"$SISIGN" pack --uid $((0xE0000A00 + $1)) --name "P$1" --vendor V --version 1.0.0 \
		-f 'a.bin=!:\data\a.bin' -f 'b.bin=!:\data\b.bin' -f 'c.txt=!:\data\c.txt' -o pk.sis ||
		{ echo "FAIL: pack"; exit 1; }
	python3 sis.py stale pk.sis "$2" || { echo "FAIL: making the data CRC stale"; exit 1; }
	rm -f pk.sis
}
mkdir in
mkpkg 1 in/p1.sis
mkpkg 2 in/p2.sis
check 'python3 "$tools/sischeck.py" -q in/p1.sis' "test premise: the input is well-formed"
check '! python3 "$tools/sischeck.py" --strict -q in/p1.sis 2>/dev/null' "test premise: its data CRC is stale"

# reads.py DIR FILE...: from the strace -ff logs in DIR (one per thread),
# whether each FILE's SISData region was read exactly once in the writing
# phase (pread64 only, every byte once, none twice) and nothing was moved
# by a kernel copy.  The writing phase of FILE starts when the main thread
# opens a temp output after opening FILE; before it the parser reads the
# field headers of SISData (the layout: at most 12 bytes each, never file
# data), which are counted apart.  Hashing threads only run in the pass.
cat >reads.py <<'EOF'
import glob, re, subprocess, sys
d, files = sys.argv[1], sys.argv[2:]
regions = {}
for f in files:
    off, n = map(int, subprocess.check_output(['python3', 'sis.py', 'region', f]).split())
    regions[f] = (off, off + n)
got = {f: [] for f in files}
parse = {f: [] for f in files}
bad = []
pr = re.compile(r'^pread64\(\d+<([^>]*)>, .*, (\d+), (\d+)\) = (-?\d+)')
logs = glob.glob(d + '/log.*')
main = [l for l in logs if any(x.startswith('execve(') for x in open(l))]
for log in logs:
    state = {f: 'writing' if log not in main else 'none' for f in files}
    for line in open(log):
        if re.match(r'^(copy_file_range|sendfile|sendfile64|splice)\(', line):
            bad.append('kernel copy: ' + line.strip())
            continue
        if line.startswith('openat('):
            for f in files:
                if line.rstrip().endswith('<%s>' % f):
                    state[f] = 'parsing'
            if 'O_RDWR' in line and ('O_TMPFILE' in line or '.tmp' in line):
                for f in files:
                    if state[f] == 'parsing':
                        state[f] = 'writing'
            continue
        for f in files:
            if re.match(r'^read\(\d+<%s>' % re.escape(f), line):
                bad.append('read() without an offset of %s: %s' % (f, line.strip()))
        m = pr.match(line)
        if not m or m.group(1) not in got:
            continue
        f, off, ret = m.group(1), int(m.group(3)), int(m.group(4))
        if ret > 0:
            (got if state[f] == 'writing' else parse)[f].append((off, off + ret))
for f, (a, z) in regions.items():
    parts = sorted((max(s, a), min(e, z)) for s, e in got[f] if s < z and e > a)
    total = sum(e - s for s, e in parts)
    at = a
    for s, e in parts:
        if s != at:
            bad.append('%s: SISData bytes %d..%d read %s' % (f, min(s, at), max(s, at), 'twice' if s < at else 'never'))
        at = max(at, e)
    if at != z:
        bad.append('%s: SISData bytes %d..%d never read' % (f, at, z))
    hdrs = [(max(s, a), min(e, z)) for s, e in parse[f] if s < z and e > a]
    big = [(s, e) for s, e in hdrs if e - s > 12]
    if big:
        bad.append('%s: the parser read more than a field header of SISData: %s' % (f, big[:3]))
    print('%s: SISData %d bytes; %d read from it while writing, %d in %d field-header reads while parsing'
          % (f, z - a, total, sum(e - s for s, e in hdrs), len(hdrs)))
    if total != z - a:
        bad.append('%s: %d bytes of SISData read, not %d' % (f, total, z - a))
for b in bad[:10]:
    print('BAD', b)
sys.exit(1 if bad else 0)
EOF
trace() {
	rm -rf st && mkdir st
	strace -ff -qq -y -s 0 -o st/log \
		-e trace=execve,openat,pread64,read,copy_file_range,sendfile,splice,pwrite64,write "$@"
}

# ---- one package -----------------------------------------------------------------
run trace "$SISIGN" sign "${K[@]}" -o one.sis "$T/in/p1.sis"
expect_rc 0 "sign one package under strace"
check 'python3 reads.py st "$T/in/p1.sis" >reads.txt || { cat reads.txt; false; }' \
	"one package: SISData read exactly once, no kernel copy"
sed 's/^/  /' reads.txt
check 'python3 "$tools/sischeck.py" --strict -q one.sis' "one package: well-formed, both CRCs right"
run "$SISIGN" verify --trust rsa.crt one.sis
expect_rc 0 "one package: the output verifies"

# ---- a batch of two (with --json: the output's SHA-256 is read back from
# the temp file, which is not the input) ------------------------------------------
run trace "$SISIGN" sign "${K[@]}" -j1 --json --out-dir o in/p1.sis in/p2.sis
expect_rc 0 "sign a batch of two under strace"
check 'python3 reads.py st "$T/in/p1.sis" "$T/in/p2.sis" >reads.txt || { cat reads.txt; false; }' \
	"batch: each SISData read exactly once, no kernel copy"
sed 's/^/  /' reads.txt
check 'python3 "$tools/sischeck.py" --strict -q o/in/p1.sis o/in/p2.sis' "batch: well-formed, both CRCs right"
check 'python3 - "$T/out" <<EOF2
import hashlib, json, sys
for d in map(json.loads, open(sys.argv[1])):
    assert d["status"] == "done", d
    assert hashlib.sha256(open(d["output"], "rb").read()).hexdigest() == d["output_sha256"], d
EOF2' "batch: output_sha256 is the output's"
# The same batch on the default workers (and hashing threads).
run "$SISIGN" sign "${K[@]}" --out-dir o2 in/p1.sis in/p2.sis
expect_rc 0 "batch on all cores"
check 'cmp -s o/in/p1.sis o2/in/p1.sis && cmp -s o/in/p2.sis o2/in/p2.sis' "batch on all cores: the same bytes"

# ---- a file whose data does not match its hash --------------------------------------
python3 - in/p1.sis bad.sis <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[len(b) // 2] ^= 0x01   # inside b.bin's stored (random, not deflated) data
open(sys.argv[2], 'wb').write(b)
EOF
before=$(sha256sum <bad.sis)
mkdir neg
run "$SISIGN" sign "${K[@]}" -o neg/bad.sis bad.sis
expect_rc 8 "bad hash: exit 8"
expect_stderr_has "bad.sis: !:\\data\\" "bad hash: the error names IN and the file"
expect_stderr_has "stored SHA-1 does not match the file data" "bad hash: says why"
check '[ "$(grep -vc ": warning: " "$T/err")" -eq 1 ]' "bad hash: one error line"
check '[ -z "$(ls -A neg)" ]' "bad hash: no output, no temp file ($(ls -A neg))"
check '[ "$(sha256sum <bad.sis)" = "$before" ]' "bad hash: input unchanged"
# A dry run and --skip-signed check first, before any signature.
run "$SISIGN" sign "${K[@]}" --dry-run -o neg/bad.sis bad.sis
expect_rc 12 "bad hash, dry run: the input fails its check"
check '[ -z "$(ls -A neg)" ]' "bad hash, dry run: nothing written"

# ---- ENOSPC from a pwrite of the pass -------------------------------------------------
for n in 1 3; do
	rm -rf nospace && mkdir nospace
	run strace -f -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:error=ENOSPC:when=$n \
		"$SISIGN" sign "${K[@]}" -o nospace/x.sis in/p1.sis
	expect_rc 3 "pwrite #$n fails with ENOSPC: exit 3"
	expect_stderr_has "No space left on device" "pwrite #$n: says why"
	check '[ -z "$(ls -A nospace)" ]' "pwrite #$n: no output, no temp file ($(ls -A nospace))"
done

# ---- a batch of small packages: buffers sized to the data --------------------------------
# The pass's read and inflate buffers were 256 KiB each, per package: above
# glibc's mmap threshold, so every package of a batch mapped and unmapped
# (or trimmed with madvise) them, a TLB flush on every core each time.
# Sized to the package's entries, 4 KiB files use heap memory that is
# reused: a 60-package batch makes a handful of such calls, not ~1 per package.
mkdir -p small smallout
printf 'four KiB of text\n%.0s' $(seq 1 240) >small.txt
"$SISIGN" pack -q --uid 0xE0000B00 --name S --vendor V -f small.txt='!:\data\s.txt' -o small/s.sis
for i in $(seq 1 59); do cp small/s.sis "small/s$i.sis"; done
run strace -f -qq -c -o st.count -e trace=munmap,madvise "$SISIGN" sign "${K[@]}" --out-dir smallout -j 2 -q small/*.sis
expect_rc 0 "a batch of 60 small packages signs"
# The count is glibc malloc's; a sanitizer's allocator maps and unmaps on
# its own terms, so the sanitizer builds only sign the batch.
if ldd "$SISIGN" 2>/dev/null | grep -Eq 'lib(a|t)san\.'; then
	echo "note: sanitizer build: munmap/madvise count not checked (its allocator is not glibc's)"
else
	unmaps=$(awk '$NF == "munmap" || $NF == "madvise" { n += $4 } END { print n + 0 }' st.count)
	check '[ "$unmaps" -lt 20 ]' "a batch of 60 small packages: $unmaps munmap/madvise calls (60 or more when each package had 256 KiB buffers)"
fi

# ---- a token key: the signature is thrown away -----------------------------------------
if [ -n "${MOCK_P11_MODULE:-}" ] && [ -r "$MOCK_P11_MODULE" ]; then
	export MOCK_P11_LOG="$T/mock.log"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out mock.pem 2>/dev/null
	export MOCK_P11_KEY=$T/mock.pem
	printf '1234\n' >pin && chmod 600 pin
	TK='pkcs11:token=sisign%20mock;object=mockkey;type=private'
	: >"$MOCK_P11_LOG"
	run "$SISIGN" sign --module "$MOCK_P11_MODULE" --key "$TK" --pin-file pin --audit-log audit.log \
		-o neg/bad.sis bad.sis
	expect_rc 8 "token, bad hash: exit 8"
	check '[ -z "$(ls -A neg)" ]' "token, bad hash: no output, no temp file"
	check '[ "$(grep -c "^sign " "$MOCK_P11_LOG")" -eq 1 ]' \
		"token, bad hash: the one signature made before the data is read ($(grep -c "^sign " "$MOCK_P11_LOG"))"
	check 'python3 - audit.log <<EOF2
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
jobs = [r for r in recs if r.get("input")]
assert [r["status"] for r in jobs] == ["error"], recs
assert jobs[0]["exit"] == 8, jobs
EOF2' "token, bad hash: the audit log has one error record, no writing or done"
	: >"$MOCK_P11_LOG"
	run "$SISIGN" sign --module "$MOCK_P11_MODULE" --key "$TK" --pin-file pin -o neg/good.sis in/p1.sis
	expect_rc 0 "token, good package"
	check '[ "$(grep -c "^sign " "$MOCK_P11_LOG")" -eq 1 ]' "token, good package: one signature"
else
	echo "note: MOCK_P11_MODULE not set; token part skipped"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
