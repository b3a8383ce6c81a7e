#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# makekeys as Nokia-era guides and Symbian's own scripts call it (issue #12
# item 9):
#   makekeys -cert -password PW -len 2048 -dname "CN=.. OU=.. OR=.. LO=.. ST=.. CO=.. EM=.." KEY CERT
# gives an RSA key (one line says so) and a certificate with every DN key
# mapped, which sign packages that verify; -view prints a certificate; a
# password under 4 characters is refused, as makekeys did.  Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init makekeys-symbian
unset SISIGN_PASS SISIGN_PIN
cd "$T" || exit 1
ln -s "$SISIGN" makekeys
ln -s "$SISIGN" signsis
printf 'hello\n' >a.txt
run "$SISIGN" pack --uid 0xE0001237 --name Hello --vendor Acme --version 1.0.0 --s60v3 \
	-f 'a.txt=!:\data\a.txt' -o pkg.sis
expect_rc 0 "pack"

PW=foobar
DN="CN=Nokia Dev OU=Apps OR=Acme Oy LO=Espoo ST=Uusimaa CO=FI EM=dev@acme.example"
run ./makekeys -cert -password "$PW" -len 2048 -dname "$DN" selfsigned.key selfsigned.cer
expect_rc 0 "the guides' makekeys line"
check '[ "$(grep -ci "RSA" "$T/err")" -eq 1 ]' "one line says the key is RSA"
check '! grep -qF "$PW" "$T/err" "$T/out"' "the password is not echoed"
check 'grep -q "BEGIN RSA PRIVATE KEY" selfsigned.key && grep -q "DEK-Info: DES-EDE3-CBC" selfsigned.key' \
	"RSA key in makekeys' encrypted PEM"
check 'openssl x509 -in selfsigned.cer -noout -text | grep -q "Public-Key: (2048 bit)"' "2048 bits"
check '[ "$(openssl x509 -in selfsigned.cer -noout -subject -nameopt RFC2253)" = "subject=emailAddress=dev@acme.example,C=FI,ST=Uusimaa,L=Espoo,O=Acme Oy,OU=Apps,CN=Nokia Dev" ]' \
	"every DN key: OR->O, LO->L, CO->C, EM->emailAddress"
check '[ "$(openssl x509 -in selfsigned.cer -noout -pubkey)" = "$(openssl pkey -in selfsigned.key -passin "pass:$PW" -pubout 2>/dev/null)" ]' \
	"the certificate is the key's"

# The pair signs packages that verify, through signsis and sisign sign.
SISIGN_PASS=$PW run ./signsis -s pkg.sis signed.sis selfsigned.cer selfsigned.key
expect_rc 0 "signsis with makekeys' files"
run "$SISIGN" verify --trust selfsigned.cer signed.sis
expect_rc 0 "signsis output verifies"
SISIGN_PASS=$PW run "$SISIGN" sign --key selfsigned.key --cert selfsigned.cer -o signed2.sis pkg.sis
expect_rc 0 "sisign sign with makekeys' files"
run "$SISIGN" verify --trust selfsigned.cer signed2.sis
expect_rc 0 "sisign sign output verifies"

# -view
run ./makekeys -view selfsigned.cer
expect_rc 0 "-view"
expect_stdout_has "Subject: emailAddress=dev@acme.example, C=FI, ST=Uusimaa, L=Espoo, O=Acme Oy, OU=Apps, CN=Nokia Dev" \
	"-view: subject"
expect_stdout_has "Public-Key: (2048 bit)" "-view: key size"
fp=$(openssl x509 -in selfsigned.cer -noout -fingerprint -sha256 | cut -d= -f2)
expect_stdout_has "SHA-256 Fingerprint: $fp" "-view: fingerprint"
openssl x509 -in selfsigned.cer -outform DER -out selfsigned.der
run ./makekeys -view selfsigned.der
expect_rc 0 "-view DER"
expect_stdout_has "CN=Nokia Dev" "-view DER: subject"
run ./makekeys -view selfsigned.key
check '[ "$rc" -ne 0 ]' "-view of a key file fails"
run ./makekeys -view missing.cer
expect_rc 3 "-view of a missing file"
expect_stderr_has "missing.cer" "-view of a missing file: named"

# -len 1024 (or none) keeps Symbian's DSA default and says nothing about RSA.
SISIGN_PASS=$PW run ./makekeys -cert -len 1024 -dname "CN=Dsa Dev OR=Acme" dsa.key dsa.cer
expect_rc 0 "-len 1024"
expect_no_stderr "-len 1024"
check 'grep -q "BEGIN DSA PRIVATE KEY" dsa.key' "-len 1024 stays DSA"

# Symbian's rule: a password of at least 4 characters.
run ./makekeys -cert -password q7z -len 2048 -dname "$DN" short.key short.cer
expect_rc 5 "3-character -password"
expect_stderr_has "at least 4 characters" "short password: the rule is said"
check '! grep -q "q7z" "$T/err"' "short password: not echoed"
expect_absent short.key "short password: no key"
expect_absent short.cer "short password: no certificate"
SISIGN_PASS=q7z run ./makekeys -cert -len 2048 -dname "$DN" short.key short.cer
expect_rc 5 "3-character SISIGN_PASS"
expect_stderr_has "at least 4 characters" "short SISIGN_PASS: the rule is said"
expect_absent short.key "short SISIGN_PASS: no key"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
