#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# makekeys compatibility (issue #5, sis-format.md §8.2): `makekeys` through
# a link and `sisign makekeys` accept Symbian's command lines and make files
# that the signsis command line accepts (ours; Symbian's signsis reads the
# same traditional PEM key and PEM certificate formats).  Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

TU_STDERR_ICASE=1
. "$(dirname "$0")/lib/common.sh"
tu_init makekeys
unset SISIGN_PASS SISIGN_PIN
ln -s "$SISIGN" "$T/makekeys"
ln -s "$SISIGN" "$T/signsis"

mkdir "$T/src"
printf 'hello\n' >"$T/src/a.txt"
run "$SISIGN" pack --uid 0xE0001234 --name Hello -l EN --vendor Acme --version 1.0.0 --s60v3 \
	-f "$T/src/a.txt=!:\\data\\a.txt" -o "$T/pkg.sis"
expect_rc 0 "pack"

DN="CN=Joe Bloggs OU=Development O=Acme Ltd C=GB EM=noone@nowhere.com"

# ---- makekeys -cert: new DSA key, passphrase from the environment ------------------
SISIGN_PASS=secret run "$T/makekeys" -cert -expdays 100 -dname "$DN" "$T/mykey.key" "$T/mycert.cer"
expect_rc 0 "makekeys -cert"
expect_no_stderr "makekeys -cert"
check 'grep -q "BEGIN DSA PRIVATE KEY" "$T/mykey.key" && grep -q "DEK-Info: DES-EDE3-CBC" "$T/mykey.key"' "makekeys key format (DSA, 3DES)"
check '[ "$(stat -c %a "$T/mykey.key")" = 600 ]' "key mode 0600"
check 'grep -q "BEGIN CERTIFICATE" "$T/mycert.cer"' "PEM certificate in .cer"
check 'openssl x509 -in "$T/mycert.cer" -noout -text | grep -q "Signature Algorithm: dsaWithSHA1"' "DSA-SHA1"
check 'openssl x509 -in "$T/mycert.cer" -noout -subject -nameopt RFC2253 | grep -qF "emailAddress=noone@nowhere.com,C=GB,O=Acme Ltd,OU=Development,CN=Joe Bloggs"' "DN"
check 'openssl verify -check_ss_sig -CAfile "$T/mycert.cer" "$T/mycert.cer" >/dev/null 2>&1' "self-signature"
nb=$(date -u -d "$(openssl x509 -in "$T/mycert.cer" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -u -d "$(openssl x509 -in "$T/mycert.cer" -noout -enddate | cut -d= -f2)" +%s)
check '[ $(( (na - nb) / 86400 )) -eq 100 ]' "-expdays 100"

# signsis accepts them: signsis IN OUT CERT KEY [PASS] (passphrase from env).
SISIGN_PASS=secret run "$T/signsis" -s "$T/pkg.sis" "$T/signed.sis" "$T/mycert.cer" "$T/mykey.key"
expect_rc 0 "signsis with makekeys' files"
run "$SISIGN" verify --trust "$T/mycert.cer" "$T/signed.sis"
expect_rc 0 "verify"

# ---- existing key is reused; the certificate is rewritten ---------------------------
cp "$T/mykey.key" "$T/mykey.orig"
SISIGN_PASS=secret run "$T/makekeys" -cert -dname "CN=Joe Again O=Acme" "$T/mykey.key" "$T/mycert.cer"
expect_rc 0 "makekeys -cert with an existing key"
check 'cmp -s "$T/mykey.key" "$T/mykey.orig"' "key reused, not rewritten"
check 'openssl x509 -in "$T/mycert.cer" -noout -subject | grep -q "Joe Again"' "new certificate"
check '[ "$(openssl x509 -in "$T/mycert.cer" -noout -pubkey)" = "$(openssl pkey -in "$T/mykey.key" -passin pass:secret -pubout 2>/dev/null)" ]' "same key"
SISIGN_PASS=wrong run "$T/makekeys" -cert -dname "CN=x" "$T/mykey.key" "$T/x.cer"
expect_rc 5 "wrong passphrase for the existing key"

# ---- -password on the command line (warned), -rsa -len, sisign makekeys ------------
run "$SISIGN" makekeys -cert -rsa -len 2048 -password pw1234 -dname "CN=Rsa Dev O=Acme" "$T/rsa.key" "$T/rsa.cer"
expect_rc 0 "sisign makekeys -cert -rsa"
expect_stderr_has "warning: -password" "-password is warned about"
check 'grep -q "BEGIN RSA PRIVATE KEY" "$T/rsa.key"' "traditional RSA key"
check 'openssl x509 -in "$T/rsa.cer" -noout -text | grep -q "Public-Key: (2048 bit)"' "-len 2048"
check 'openssl x509 -in "$T/rsa.cer" -noout -text | grep -q "sha1WithRSAEncryption"' "SHA1-RSA"
run "$T/signsis" -s "$T/pkg.sis" "$T/signed-rsa.sis" "$T/rsa.cer" "$T/rsa.key" pw1234
expect_rc 0 "signsis with the RSA files (passphrase argument)"
run "$SISIGN" verify --trust "$T/rsa.cer" "$T/signed-rsa.sis"
expect_rc 0 "verify RSA"

# ---- -req -----------------------------------------------------------------------
SISIGN_PASS=secret run "$T/makekeys" -req -dname "$DN" "$T/mykey.key" "$T/mycert.cer" "$T/my.req"
expect_rc 0 "makekeys -req"
expect_no_stderr "makekeys -req"
check 'grep -q "BEGIN CERTIFICATE REQUEST" "$T/my.req"' "PEM request"
check 'openssl req -in "$T/my.req" -noout -verify 2>&1 | grep -q "verify OK"' "openssl req -verify"

# ---- no password: unencrypted, with a warning --------------------------------------
run "$T/makekeys" -cert -dname "CN=Plain O=Acme" "$T/plain.key" "$T/plain.cer"
expect_rc 0 "makekeys without password"
expect_stderr_has "not encrypted" "unencrypted key is warned about"
check 'grep -q "BEGIN DSA PRIVATE KEY" "$T/plain.key" && ! grep -q ENCRYPTED "$T/plain.key"' "plain DSA key"

# ---- errors ---------------------------------------------------------------------
run "$T/makekeys" -cert -dname "Joe Bloggs" "$T/e.key" "$T/e.cer"
expect_rc 2 "bad -dname"
expect_stderr_has "subject" "bad -dname"
check '[ ! -e "$T/e.key" ]' "no key for a bad -dname"
run "$T/makekeys" -cert -dname "CN=x" "$T/e.key"
expect_rc 2 "missing CERT argument"
run "$T/makekeys" -dname "CN=x" "$T/e.key" "$T/e.cer"
expect_rc 2 "neither -cert nor -req"
run "$T/makekeys" -cert -dsa -len 2048 -dname "CN=x O=y" "$T/e.key" "$T/e.cer"
expect_rc 2 "DSA-2048 refused"
expect_stderr_has "1024" "DSA size message"
SISIGN_PASS=abc run "$T/makekeys" -cert -dname "CN=x O=y" "$T/e.key" "$T/e.cer"
expect_rc 5 "password shorter than 4 characters"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
