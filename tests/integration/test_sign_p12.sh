#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Signing with a PKCS#12 file (issue #12 item 7): the key, its certificate
# and the intermediate come from one .p12/.pfx, the password from
# --pass-fd, --pass-file or $SISIGN_PASS; files written by `openssl pkcs12
# -export` with today's ciphers and with -legacy (RC2-40, as older Windows
# tools write); a wrong password; single files, batches and signsis.
# Env: SISIGN (the built CLI).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init sign-p12
unset SISIGN_PASS SISIGN_PIN
cd "$T" || exit 1

# root -> intermediate -> leaf, the leaf and the intermediate in the .p12
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=P12 Test Root" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
	-keyout root.key -out root.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=P12 Test Intermediate" -keyout int.key -out int.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >ca.ext
openssl x509 -req -sha256 -days 30 -in int.csr -CA root.crt -CAkey root.key -CAcreateserial -extfile ca.ext \
	-out int.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=P12 Test Leaf/O=sisign" -keyout leaf.key -out leaf.csr 2>/dev/null
printf 'extendedKeyUsage=codeSigning\n' >leaf.ext
openssl x509 -req -sha256 -days 30 -in leaf.csr -CA int.crt -CAkey int.key -CAcreateserial -extfile leaf.ext \
	-out leaf.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Someone Else" -keyout other.key \
	-out other.crt 2>/dev/null
PW='p12 Secret-1'
openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile int.crt -passout "pass:$PW" -out dev.p12
openssl pkcs12 -export -legacy -inkey leaf.key -in leaf.crt -certfile int.crt -passout "pass:$PW" -out old.pfx \
	2>/dev/null
[ -s dev.p12 ] && [ -s old.pfx ] || { echo "SKIP: openssl cannot write PKCS#12 files"; exit 77; }
checks=$((checks + 1))
openssl pkcs12 -in old.pfx -info -noout -legacy -passin "pass:$PW" 2>&1 | grep -q RC2 ||
	fail "old.pfx is not RC2-encrypted: the legacy path would not be tested"
printf 'x\n' >f.txt
run "$SISIGN" pack --uid 0xE0001236 --name P12 --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"

# The leaf and the intermediate are in the output's chain; it verifies
# against the root.
verify_chain() {
	run "$SISIGN" verify --trust root.crt "$1"
	expect_rc 0 "$2: verifies against the root"
	run "$SISIGN" info "$1"
	check 'grep -Eq "^ *Signer: .*CN ?= ?P12 Test Leaf" "$T/out"' "$2: the leaf is the signer"
	check 'grep -Eq "^ *Cert 2: .*P12 Test Intermediate" "$T/out"' "$2: the intermediate is in the chain"
}

# $SISIGN_PASS, no --cert
SISIGN_PASS=$PW run "$SISIGN" sign --key dev.p12 -o env.sis in.sis
expect_rc 0 "sign --key dev.p12 with SISIGN_PASS"
expect_no_stderr "sign --key dev.p12"
verify_chain env.sis "SISIGN_PASS"

# --pass-file and --pass-fd
printf '%s\n' "$PW" >pw.txt
chmod 600 pw.txt
run "$SISIGN" sign --key dev.p12 --pass-file pw.txt -o file.sis in.sis
expect_rc 0 "--pass-file"
verify_chain file.sis "--pass-file"
"$SISIGN" sign --key dev.p12 --pass-fd 3 -o fd.sis in.sis 3<pw.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 0 "--pass-fd"
verify_chain fd.sis "--pass-fd"

# Told by content: the same file under another name.
cp dev.p12 signing-identity.bin
SISIGN_PASS=$PW run "$SISIGN" sign --key signing-identity.bin -o byname.sis in.sis
expect_rc 0 "PKCS#12 without a .p12 name"

# A legacy (RC2-40 / 3DES) .pfx: read with OpenSSL's legacy provider.
SISIGN_PASS=$PW run "$SISIGN" sign --key old.pfx -o legacy.sis in.sis
expect_rc 0 "sign --key old.pfx (RC2-40)"
expect_no_stderr "legacy .pfx"
verify_chain legacy.sis "legacy .pfx"
# ... and when that provider cannot be found, the message says so.
SISIGN_PASS=$PW OPENSSL_MODULES=$T/no-modules run "$SISIGN" sign --key old.pfx -o nolegacy.sis in.sis
expect_rc 5 "legacy .pfx without the legacy provider"
expect_stderr_has "legacy provider" "legacy .pfx without the provider: says why"
expect_absent nolegacy.sis "legacy .pfx without the provider"

# A wrong password: exit 5, one line naming the file, no output, asked once.
SISIGN_PASS=wrong-one run "$SISIGN" sign --key dev.p12 -o wrong.sis in.sis
expect_rc 5 "wrong password"
expect_stderr_has "dev.p12: wrong password" "wrong password: names the file"
check '[ "$(wc -l <"$T/err")" -eq 1 ]' "wrong password: one line"
check '! grep -q "wrong-one" "$T/err"' "wrong password: not echoed"
expect_absent wrong.sis "wrong password"
SISIGN_PASS=wrong-one run "$SISIGN" sign --key old.pfx -o wrong.sis in.sis
expect_rc 5 "wrong password (legacy)"
expect_stderr_has "old.pfx: wrong password" "wrong password (legacy): names the file"

# No password at all and no terminal: exit 5, not a hang.
run "$SISIGN" sign --key dev.p12 -o nopw.sis in.sis
expect_rc 5 "no password source"
expect_absent nopw.sis "no password source"

# A --cert that is not the p12's key's: refused.  The p12's own certificate
# given again as --cert: fine (then the chain comes from --cert/--chain).
SISIGN_PASS=$PW run "$SISIGN" sign --key dev.p12 --cert other.crt -o mism.sis in.sis
expect_rc 5 "--cert of another key"
expect_stderr_has "does not belong to the certificate other.crt" "--cert of another key: says so"
expect_absent mism.sis "--cert of another key"
SISIGN_PASS=$PW run "$SISIGN" sign --key dev.p12 --cert leaf.crt --chain int.crt -o withcert.sis in.sis
expect_rc 0 "--cert matching the p12"
verify_chain withcert.sis "--cert matching the p12"

# A PKCS#12 file exported without a password opens without asking.
openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile int.crt -passout pass: -out nopass.p12
run "$SISIGN" sign --key nopass.p12 -o nopass.sis in.sis
expect_rc 0 "password-less p12"
verify_chain nopass.sis "password-less p12"

# A file named .p12 that is neither: exit 5 and the message lists what is read.
echo "not a key" >junk.p12
run "$SISIGN" sign --key junk.p12 --cert leaf.crt -o junk.sis in.sis
expect_rc 5 "junk .p12"
expect_stderr_has "PKCS#12" "junk .p12: the message names PKCS#12"

# A batch: one password for all, every output verifies.
mkdir -p batch/sub outb
cp in.sis batch/a.sis
cp in.sis batch/sub/b.sis
cp in.sis batch/c.sis
SISIGN_PASS=$PW run "$SISIGN" sign -q --key dev.p12 -r --out-dir outb batch
expect_rc 0 "batch sign with a p12"
for f in outb/a.sis outb/sub/b.sis outb/c.sis; do
	verify_chain "$f" "batch $f"
done

# signsis with the p12 as the key and its own certificate (Symbian's order:
# input output cert key).
ln -s "$SISIGN" signsis
cat leaf.crt int.crt >leaf-int.crt
SISIGN_PASS=$PW run ./signsis in.sis ss.sis leaf-int.crt dev.p12
expect_rc 0 "signsis with a p12 key"
verify_chain ss.sis "signsis"
SISIGN_PASS=$PW run ./signsis in.sis ss2.sis other.crt old.pfx
expect_rc 1 "signsis with a p12 and a foreign certificate"
expect_absent ss2.sis "signsis mismatch"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
