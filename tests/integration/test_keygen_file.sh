#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign keygen / cert / csr with key files (issue #5): every certificate is
# checked with openssl (fields, extensions, validity, self-signature), a
# CSR with `openssl req -verify`, a package is signed and verified with
# each kind of generated key, overwriting is refused, bad subjects fail
# clearly.  Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

TU_STDERR_ICASE=1
. "$(dirname "$0")/lib/common.sh"
tu_init keygen-file
unset SISIGN_PASS SISIGN_PIN

# check_cert FILE SIGALG CN DAYS: the profile of keygen.h, checked by openssl.
check_cert() {
	local f=$1 alg=$2 cn=$3 days=$4 txt nb na
	txt=$(openssl x509 -in "$f" -noout -text 2>&1)
	check 'grep -q "Version: 3 (0x2)" <<<"$txt"' "$f: v3"
	check 'grep -q "Signature Algorithm: $alg" <<<"$txt"' "$f: $alg"
	check '[ "$(openssl x509 -in "$f" -noout -subject -nameopt RFC2253)" = "subject=$(openssl x509 -in "$f" -noout -issuer -nameopt RFC2253 | sed s/^issuer=//)" ]' "$f: issuer = subject"
	check 'openssl x509 -in "$f" -noout -subject -nameopt RFC2253 | grep -q "CN=$cn"' "$f: CN $cn"
	check 'grep -A1 "Basic Constraints: critical" <<<"$txt" | grep -q "CA:FALSE"' "$f: CA:FALSE critical"
	check 'grep -A1 "Key Usage: critical" <<<"$txt" | grep -qx " *Digital Signature"' "$f: keyUsage digitalSignature"
	check 'grep -A1 "Extended Key Usage" <<<"$txt" | grep -q "Code Signing"' "$f: EKU codeSigning"
	check 'grep -q "Subject Key Identifier" <<<"$txt"' "$f: SKI"
	check '! openssl x509 -in "$f" -noout -serial | grep -q "serial=-"' "$f: positive serial"
	# the self-signature: openssl verifies the certificate against itself
	check 'openssl verify -check_ss_sig -CAfile "$f" "$f" >/dev/null 2>&1' "$f: self-signature (openssl verify -check_ss_sig)"
	nb=$(date -u -d "$(openssl x509 -in "$f" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -u -d "$(openssl x509 -in "$f" -noout -enddate | cut -d= -f2)" +%s)
	check '[ $(( (na - nb) / 86400 )) -eq "$days" ]' "$f: $days days of validity"
	check '[ "$nb" -le "$(date -u +%s)" ] && [ "$nb" -ge "$(( $(date -u +%s) - 300 ))" ]' "$f: starts now"
}

# A package to sign.
mkdir "$T/src"
printf 'hello\n' >"$T/src/a.txt"
run "$SISIGN" pack --uid 0xE0001234 --name Hello -l EN --vendor Acme --version 1.0.0 --s60v3 \
	-f "$T/src/a.txt=!:\\data\\a.txt" -o "$T/pkg.sis"
expect_rc 0 "pack"

# sign_verify KEY CERT [PASS]: sign the package and verify it trusting CERT.
sign_verify() {
	local key=$1 cert=$2 out=$T/signed-$RANDOM.sis
	SISIGN_PASS=${3:-} run "$SISIGN" sign --key "$key" --cert "$cert" -o "$out" "$T/pkg.sis"
	expect_rc 0 "sign with $key"
	run "$SISIGN" verify --trust "$cert" "$out"
	expect_rc 0 "verify the package signed with $key"
}

DN="CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example"

# ---- RSA, encrypted PKCS#8 --------------------------------------------------------
printf 'secret-pass\n' >"$T/pass"
chmod 600 "$T/pass"
run "$SISIGN" keygen --bits 2048 --pass-file "$T/pass" --cert --subject "$DN" -o "$T/rsa.pem" "$T/rsa.key"
expect_rc 0 "keygen rsa file"
expect_no_stderr "keygen rsa file"
check '[ ! -s "$T/out" ]' "keygen file prints nothing"
check '[ "$(stat -c %a "$T/rsa.key")" = 600 ]' "key file mode 0600"
check 'grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$T/rsa.key"' "key encrypted (PKCS#8)"
check 'openssl pkey -in "$T/rsa.key" -passin pass:secret-pass -noout 2>/dev/null' "openssl reads the key with the passphrase"
check '! openssl pkey -in "$T/rsa.key" -passin pass:wrong -noout 2>/dev/null' "wrong passphrase fails"
check_cert "$T/rsa.pem" sha1WithRSAEncryption "Jane Dev" 365
check 'openssl x509 -in "$T/rsa.pem" -noout -subject -nameopt RFC2253 | grep -qF "emailAddress=jane@acme.example,C=FI,O=Acme,OU=Apps,CN=Jane Dev"' "makekeys DN mapped"
check '[ "$(openssl x509 -in "$T/rsa.pem" -noout -modulus)" = "$(openssl rsa -in "$T/rsa.key" -passin pass:secret-pass -noout -modulus 2>/dev/null)" ]' "cert matches key"
sign_verify "$T/rsa.key" "$T/rsa.pem" secret-pass

# ---- refusing to overwrite --------------------------------------------------------
cp "$T/rsa.key" "$T/rsa.key.orig"
run "$SISIGN" keygen --no-passphrase "$T/rsa.key"
expect_rc 3 "keygen over an existing key"
expect_stderr_has "already exists" "keygen over an existing key"
check 'cmp -s "$T/rsa.key" "$T/rsa.key.orig"' "existing key untouched"
run "$SISIGN" cert --key "$T/rsa.key" --pass-file "$T/pass" --subject "CN=x" -o "$T/rsa.pem"
expect_rc 3 "cert over an existing file"

# ---- RSA 1024 unencrypted, SHA-256, explicit dates, DER -----------------------------
run "$SISIGN" keygen --bits 1024 --no-passphrase --cert --subject "/CN=Sha Two/O=Acme" --digest sha256 \
	--not-before 2024-01-01 --not-after 2034-01-01 --der -o "$T/r1024.der" "$T/r1024.key"
expect_rc 0 "keygen sha256"
check 'grep -q "BEGIN PRIVATE KEY" "$T/r1024.key"' "unencrypted key"
check 'openssl x509 -inform DER -in "$T/r1024.der" -noout -text | grep -q "Signature Algorithm: sha256WithRSAEncryption"' "sha256 cert"
check 'openssl x509 -inform DER -in "$T/r1024.der" -noout -startdate | grep -q "Jan  1 00:00:00 2024 GMT"' "explicit notBefore"
check 'openssl x509 -inform DER -in "$T/r1024.der" -noout -enddate | grep -q "Jan  1 00:00:00 2034 GMT"' "explicit notAfter"

# ---- DSA-1024, traditional (makekeys) format --------------------------------------
SISIGN_PASS=dsa-pass run "$SISIGN" keygen --type dsa --traditional --cert --subject "CN=Dsa Dev O=Acme" --days 30 \
	-o "$T/dsa.pem" "$T/dsa.key"
expect_rc 0 "keygen dsa"
expect_no_stderr "keygen dsa"
check 'grep -q "BEGIN DSA PRIVATE KEY" "$T/dsa.key" && grep -q "DES-EDE3-CBC" "$T/dsa.key"' "traditional encrypted DSA"
check_cert "$T/dsa.pem" dsaWithSHA1 "Dsa Dev" 30
check 'openssl dsa -in "$T/dsa.key" -passin pass:dsa-pass -noout -text 2>/dev/null | grep -q "Private-Key: (1024 bit)"' "DSA-1024"
sign_verify "$T/dsa.key" "$T/dsa.pem" dsa-pass

# ---- cert and csr for an existing key ---------------------------------------------
run "$SISIGN" cert --key "$T/rsa.key" --pass-file "$T/pass" --subject "$DN" --days 10 -o "$T/rsa2.pem"
expect_rc 0 "cert for an existing key"
expect_no_stderr "cert"
check_cert "$T/rsa2.pem" sha1WithRSAEncryption "Jane Dev" 10
run "$SISIGN" cert --key "$T/r1024.key" --subject "CN=stdout"
expect_rc 0 "cert to stdout"
check 'openssl x509 -in "$T/out" -noout 2>/dev/null' "PEM on stdout"
run "$SISIGN" csr --key "$T/rsa.key" --pass-file "$T/pass" --subject "$DN" -o "$T/rsa.csr"
expect_rc 0 "csr"
expect_no_stderr "csr"
check 'openssl req -in "$T/rsa.csr" -noout -verify 2>&1 | grep -q "verify OK"' "openssl req -verify (RSA)"
check 'openssl req -in "$T/rsa.csr" -noout -subject -nameopt RFC2253 | grep -qF "CN=Jane Dev"' "csr subject"
SISIGN_PASS=dsa-pass run "$SISIGN" csr --key "$T/dsa.key" --subject "/CN=Dsa Dev" --digest sha1 -o "$T/dsa.csr"
expect_rc 0 "csr dsa"
check 'openssl req -in "$T/dsa.csr" -noout -verify 2>&1 | grep -q "verify OK"' "openssl req -verify (DSA)"

# ---- errors -----------------------------------------------------------------------
for bad in "Jane Dev" "CN=" "CN=Jane XX=1" "C=FIN CN=x" "/CN=a/NOPE=b" "CN=x EM=no-at"; do
	run "$SISIGN" keygen --no-passphrase --cert --subject "$bad" -o "$T/bad.pem" "$T/bad.key"
	expect_rc 2 "bad subject '$bad'"
	expect_stderr_has "subject" "bad subject '$bad'"
	check '[ "$(wc -l <"$T/err")" -eq 1 ]' "bad subject '$bad': one line"
	check '[ ! -e "$T/bad.key" ] && [ ! -e "$T/bad.pem" ]' "bad subject '$bad': nothing written"
done
run "$SISIGN" keygen --no-passphrase --bits 1000 "$T/bad.key"
expect_rc 2 "bad bit size"
run "$SISIGN" keygen --no-passphrase --type dsa --bits 2048 "$T/bad.key"
expect_rc 2 "DSA-2048"
run "$SISIGN" keygen --cert --no-passphrase "$T/bad.key"
expect_rc 2 "--cert without --subject"
SISIGN_PASS=abc run "$SISIGN" keygen "$T/bad.key"
expect_rc 5 "passphrase under 4 characters"
run "$SISIGN" csr --key "$T/rsa.key" --subject "CN=x"
expect_rc 5 "csr: encrypted key without passphrase"
check '[ ! -e "$T/bad.key" ]' "no key left by failures"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
