#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #11 item 10: every exit status `sisign help exit-codes` documents,
# made to happen for every command where it can occur (info, verify, check,
# sign, unsign), each row of the table below asserted.  Also the one rule for
# several inputs (cli.h, struct cli_tally): nothing failed = 0 or verify's
# worst verdict (invalid > unsigned > untrusted > self-signed); some failed
# and some went through = 12; all failed = the highest status.
# 130 (interrupted) is test_batch_kill.sh's; 1 (internal error) has no
# trigger from outside, except unsign's documented "no signature".
# Env: SISIGN, MOCK_P11_MODULE (token rows skip without it).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PIN SISIGN_PASS MOCK_P11_MODE

tools="$(cd "$(dirname "$0")/../tools" && pwd)"
. "$(dirname "$0")/lib/common.sh"
tu_init exit-codes
cd "$T" || exit 1

# ---- fixtures ---------------------------------------------------------------
tu_codesign_cert self "exit self"   # also writes cs.cnf (v3cs, v3ca)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key 2>/dev/null
openssl req -new -x509 -key ca.key -sha256 -days 365 -subj "/CN=exit CA" -config cs.cnf \
	-extensions v3ca -out ca.crt 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf.key 2>/dev/null
openssl req -new -key leaf.key -subj "/CN=exit leaf" -config cs.cnf -out leaf.csr 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
	-extfile cs.cnf -extensions v3cs -out leaf.crt 2>/dev/null
[ -s self.crt ] && [ -s leaf.crt ] || { echo "FAIL: openssl could not make the test certificates"; exit 1; }

printf 'exit-code-test data MARKER-0123456789\n' >f.txt
"$SISIGN" pack --store --uid 0xE0001237 --name X --vendor V --created 2020-01-01 \
	-f 'f.txt=!:\data\f.txt' -o unsigned.sis >/dev/null 2>&1 || { echo "FAIL: pack"; exit 1; }
"$SISIGN" sign --key self.key --cert self.crt -o self.sis unsigned.sis >/dev/null 2>&1 || { echo "FAIL: sign"; exit 1; }
# check: a protected package UID (IR-UID-1), a private directory no EXE owns (IR-CAGE-2)
"$SISIGN" pack --store --uid 0x10001237 --name X --vendor V --created 2020-01-01 \
	-f 'f.txt=!:\data\f.txt' -o prot.sis >/dev/null 2>&1 || { echo "FAIL: pack"; exit 1; }
"$SISIGN" pack --store --uid 0xE0001237 --name X --vendor V --created 2020-01-01 \
	-f 'f.txt=!:\private\E0001237\f.txt' -o cage.sis >/dev/null 2>&1 || { echo "FAIL: pack"; exit 1; }
"$SISIGN" sign --key leaf.key --cert leaf.crt -o leaf.sis unsigned.sis >/dev/null 2>&1 || { echo "FAIL: sign"; exit 1; }
# Invalid: the stored file data changed under a signature (hash mismatch).
python3 - self.sis badhash.sis <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
i = b.index(b'MARKER-0123456789')
b[i] ^= 0x20
open(sys.argv[2], 'wb').write(b)
PY
# An unsigned package with a hash mismatch (for sign: 8).
python3 - unsigned.sis badhash-unsigned.sis <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
i = b.index(b'MARKER-0123456789')
b[i] ^= 0x20
open(sys.argv[2], 'wb').write(b)
PY
# An over-long deflated controller: it inflates to 4 bytes more than the
# SISCompressed field declares (a structure problem, 4 - not 8).
python3 "$tools/mkbomb.py" zok.sis 3
python3 - zok.sis overlong.sis <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
# header 16 + SISContents header 8 + SISCompressed header 8: algorithm, size
alg, n = struct.unpack_from('<IQ', b, 32)
assert alg == 1
struct.pack_into('<Q', b, 36, n - 4)
open(sys.argv[2], 'wb').write(b)
PY
cp /etc/passwd notsis.sis
mkdir -p both && cp self.sis both/a.sis && cp notsis.sis both/b.sis
printf '1234\n' >pin.ok && chmod 600 pin.ok
printf '1234\n' >pin.open && chmod 644 pin.open
printf '9999\n' >pin.bad && chmod 600 pin.bad

# row EXPECTED DESC -- COMMAND...: run sisign with COMMAND, assert the status.
row() {
	local want=$1 desc=$2
	shift 3
	run "$SISIGN" "$@"
	expect_rc "$want" "$desc"
}

# ---- the table itself -------------------------------------------------------
run "$SISIGN" help exit-codes
expect_rc 0 "help exit-codes"
for c in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 130; do
	check "grep -qE '^ +$c  ' \"\$T/out\"" "help exit-codes lists $c"
done
expect_stdout_has "some failed and some went through: 12" "help exit-codes states the several-inputs rule"

# ---- info --------------------------------------------------------------------
row 0  "info: a valid package"                         -- info unsigned.sis
row 2  "info: unknown option"                          -- info --bogus unsigned.sis
row 3  "info: missing file"                            -- info missing.sis
row 4  "info: not a SIS file"                          -- info notsis.sis
row 4  "info: over-long deflated controller"           -- info overlong.sis
expect_stderr_has "inflates to more than" "info: over-long controller says why"
row 8  "info: file hash mismatch"                      -- info badhash.sis
row 12 "info: one good, one not a SIS file"            -- info unsigned.sis notsis.sis
row 4  "info: all failed, highest (3, 4)"              -- info missing.sis notsis.sis
row 8  "info: all failed, highest (4, 8)"              -- info notsis.sis badhash.sis

# ---- verify ------------------------------------------------------------------
row 0  "verify: trusted"                               -- verify --trust self.crt self.sis
row 2  "verify: unknown option"                        -- verify --bogus self.sis
row 2  "verify: no input"                              -- verify
row 3  "verify: missing file"                          -- verify missing.sis
row 4  "verify: not a SIS file"                        -- verify notsis.sis
row 4  "verify: over-long deflated controller"         -- verify overlong.sis
row 8  "verify: invalid (file hash)"                   -- verify --trust self.crt badhash.sis
row 9  "verify: untrusted (CA not trusted)"            -- verify leaf.sis
row 10 "verify: self-signed"                           -- verify self.sis
row 11 "verify: unsigned"                              -- verify unsigned.sis
# several files: the issue's case, then the rest of the rule
row 12 "verify: not a SIS file + unsigned"             -- verify notsis.sis unsigned.sis
row 12 "verify: unsigned + not a SIS file (order)"     -- verify unsigned.sis notsis.sis
row 12 "verify --jobs: the same rule in the batch"     -- verify --jobs 2 notsis.sis unsigned.sis
row 12 "verify -r DIR: the same rule"                  -- verify -r both
row 4  "verify: all failed, highest (3, 4)"            -- verify missing.sis notsis.sis
row 4  "verify --jobs: all failed, highest"            -- verify --jobs 2 missing.sis notsis.sis
row 8  "verify: invalid > unsigned"                    -- verify unsigned.sis badhash.sis
row 11 "verify: unsigned > untrusted"                  -- verify leaf.sis unsigned.sis
row 9  "verify: untrusted > self-signed"               -- verify self.sis leaf.sis
row 10 "verify: self-signed > trusted"                 -- verify --trust ca.crt self.sis leaf.sis
row 8  "verify --jobs: invalid > unsigned"             -- verify --jobs 2 unsigned.sis badhash.sis

# ---- sign (key files) ----------------------------------------------------------
K=(--key self.key --cert self.crt)
row 0  "sign: signed"                                  -- sign "${K[@]}" -o s0.sis unsigned.sis
row 2  "sign: no output chosen"                        -- sign "${K[@]}" unsigned.sis
row 3  "sign: missing input"                           -- sign "${K[@]}" -o s1.sis missing.sis
row 3  "sign: output directory unusable"           -- sign "${K[@]}" -o notsis.sis/s2.sis unsigned.sis
row 4  "sign: not a SIS file"                          -- sign "${K[@]}" -o s3.sis notsis.sis
row 4  "sign: over-long deflated controller"           -- sign "${K[@]}" -o s4.sis overlong.sis
row 5  "sign: key and certificate do not match"        -- sign --key self.key --cert leaf.crt -o s5.sis unsigned.sis
row 5  "sign: key file is not a key"                   -- sign --key f.txt --cert self.crt -o s6.sis unsigned.sis
row 3  "sign: key file missing"                        -- sign --key missing.key --cert self.crt -o s8.sis unsigned.sis
row 8  "sign: file hash mismatch in the input"         -- sign "${K[@]}" -o s7.sis badhash-unsigned.sis
row 12 "sign: batch, one good, one not a SIS file"     -- sign "${K[@]}" --out-dir o12 unsigned.sis notsis.sis
row 4  "sign: batch, all failed, highest"              -- sign "${K[@]}" --out-dir o4 notsis.sis overlong.sis
row 13 "sign: dry run"                                 -- sign "${K[@]}" --dry-run --out-dir o13 unsigned.sis
row 12 "sign: dry run with a failing input"            -- sign "${K[@]}" --dry-run --out-dir o13b unsigned.sis notsis.sis

# ---- sign (token: the mock module) -------------------------------------------
if [ -n "${MOCK_P11_MODULE:-}" ] && [ -r "$MOCK_P11_MODULE" ]; then
	M=$MOCK_P11_MODULE
	export MOCK_P11_LOG="$T/mock.log"
	KEY='pkcs11:token=sisign%20mock;object=mockkey;type=private'
	row 0 "sign (token): signed"                   -- sign --module "$M" --key "$KEY" --pin-file pin.ok \
		-o t0.sis unsigned.sis
	row 6 "sign (token): no such token"            -- sign --module "$M" \
		--key 'pkcs11:token=nope;object=mockkey;type=private' --pin-file pin.ok -o t1.sis unsigned.sis
	row 6 "sign (token): module cannot be loaded"  -- sign --module "$T/missing.so" --key "$KEY" \
		--pin-file pin.ok -o t2.sis unsigned.sis
	row 7 "sign (token): wrong PIN"                -- sign --module "$M" --key "$KEY" --pin-file pin.bad \
		-o t3.sis unsigned.sis
	row 7 "sign (token): unsafe --pin-file"        -- sign --module "$M" --key "$KEY" --pin-file pin.open \
		-o t4.sis unsigned.sis
	row 7 "sign (token): unsafe pin-source"        -- sign --module "$M" \
		--key "$KEY?pin-source=$T/pin.open" -o t5.sis unsigned.sis
	row 7 "sign (token): pin-value not allowed"    -- sign --module "$M" --key "$KEY?pin-value=1234" \
		-o t6.sis unsigned.sis
	row 12 "sign (token): batch, one good, one bad" -- sign --module "$M" --key "$KEY" --pin-file pin.ok \
		--out-dir t12 unsigned.sis notsis.sis
	row 13 "sign (token): dry run"                 -- sign --module "$M" --key "$KEY" --pin-file pin.ok \
		--dry-run --out-dir t13 unsigned.sis
else
	echo "note: MOCK_P11_MODULE not set, token rows (6, 7) skipped"
fi

# ---- check ---------------------------------------------------------------------
row 0  "check: would install (self-signed)"            -- check self.sis
row 14 "check: would not install (unsigned)"           -- check unsigned.sis
row 15 "check: depends on the certstore (protected UID)" -- check --cert leaf.crt prot.sis
row 14 "check: worst of several (14 > 15)"             -- check --cert leaf.crt prot.sis cage.sis
row 15 "check: worst of several (15 > 0)"              -- check --cert leaf.crt prot.sis self.sis
row 12 "check: one good, one not a package"            -- check self.sis notsis.sis
row 4  "check: not a package"                          -- check notsis.sis
row 3  "check: missing input"                          -- check missing.sis
row 5  "check: unreadable certificate"                 -- check --cert f.txt self.sis
row 2  "check: no input"                               -- check
row 14 "sign --strict: would not install, not written" -- sign "${K[@]}" --strict -o s14.sis cage.sis
row 0  "sign --strict: would install"                  -- sign "${K[@]}" --strict -o s15.sis unsigned.sis

# ---- unsign -------------------------------------------------------------------
row 0  "unsign: done"                                  -- unsign -o u0.sis self.sis
row 1  "unsign: no signature (as signsis -u)"          -- unsign -o u1.sis unsigned.sis
row 2  "unsign: no output chosen"                      -- unsign self.sis
row 3  "unsign: missing input"                         -- unsign -o u2.sis missing.sis
row 3  "unsign: output directory unusable"         -- unsign -o notsis.sis/u3.sis self.sis
row 4  "unsign: not a SIS file"                        -- unsign -o u4.sis notsis.sis
row 4  "unsign: over-long deflated controller"         -- unsign -o u5.sis overlong.sis
row 12 "unsign: batch, one good, one not a SIS file"   -- unsign --out-dir u12 self.sis notsis.sis

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
