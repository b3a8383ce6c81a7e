#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign keygen / cert / csr / import / export-cert on a SoftHSM token of
# this test's own (issue #5): the generated and imported private keys are
# sensitive and never extractable (attributes read back with OpenSC's
# pkcs11-tool, and pkcs11-tool --read-object must fail), the certificate is
# stored beside the key under the same label and id, packages signed with
# the token keys verify, nothing is overwritten.  Env: SISIGN,
# SOFTHSM2_MODULE.  Exit 77 without SoftHSM/pkcs11-tool/openssl.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
for tool in softhsm2-util pkcs11-tool openssl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
[ -r "$M" ] || { echo "SKIP: no SoftHSM module"; exit 77; }

TU_STDERR_ICASE=1
. "$(dirname "$0")/lib/common.sh"
tu_init keygen-token
unset SISIGN_PASS
mkdir "$T/tokens"
sed "s|@TOKENDIR@|$T/tokens|" "${SISIGN_SRCDIR:-$(dirname "$0")/../..}/softhsm-config/softhsm2.conf.in" >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
softhsm2-util --init-token --free --label kg --pin 1234 --so-pin 12345678 >/dev/null || exit 1
export SISIGN_PIN=1234
p11() { pkcs11-tool --module "$M" --token-label kg --login --pin 1234 "$@" 2>&1; }

# object KIND LABEL: pkcs11-tool's listing of the object of KIND ("Private
# Key", "Public Key", "Certificate") labelled LABEL (pkcs11-tool -O ignores
# --label, so the blocks are picked out here).
object() {
	p11 -O | awk -v kind="$1 Object" -v lab="  label:      $2" '
		/^[^ ]/ { if (keep) printf "%s", blk; blk = $0 "\n"; keep = 0; hdr = index($0, kind) == 1; next }
		{ blk = blk $0 "\n"; if (hdr && $0 == lab) keep = 1 }
		END { if (keep) printf "%s", blk }'
}

# A private key as it must be: sensitive, not extractable (pkcs11-tool
# prints "extractable" for CKA_EXTRACTABLE=TRUE), sign only; a generated one
# also "never extractable" and "local".  An imported key cannot be "never
# extractable": PKCS#11 sets CKA_NEVER_EXTRACTABLE only for keys born on
# the token.
check_key_attrs() { # LABEL [imported]
	local o acc
	o=$(object "Private Key" "$1")
	check '[ "$(grep -c "^Private Key Object" <<<"$o")" -eq 1 ]' "$1: one private key"
	acc=$(grep "Access:" <<<"$o")
	check 'grep -q "Access: *sensitive" <<<"$acc"' "$1: sensitive"
	check '! grep -Eq "(: *|, )extractable" <<<"$acc"' "$1: not extractable"
	if [ "${2:-}" != imported ]; then
		check 'grep -q "never extractable" <<<"$acc" && grep -q "local" <<<"$acc"' "$1: never extractable, generated on the token"
	fi
	check 'grep -q "Usage: *sign$" <<<"$o"' "$1: usage sign only"
	check '! p11 --read-object --type privkey --label "$1" -o "$T/stolen.der" >/dev/null 2>&1 || [ ! -s "$T/stolen.der" ]' "$1: private key cannot be read out"
}

mkdir "$T/src"
printf 'hello\n' >"$T/src/a.txt"
run "$SISIGN" pack --uid 0xE0001234 --name Hello -l EN --vendor Acme --version 1.0.0 --s60v3 \
	-f "$T/src/a.txt=!:\\data\\a.txt" -o "$T/pkg.sis"
expect_rc 0 "pack"

sign_verify() { # URI CERTFILE
	local out=$T/signed-$RANDOM.sis
	run "$SISIGN" sign --module "$M" --key "$1" -o "$out" "$T/pkg.sis"
	expect_rc 0 "sign with $1"
	run "$SISIGN" verify --trust "$2" "$out"
	expect_rc 0 "verify package signed with $1"
}

DN="CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example"

# ---- keygen --cert: key and certificate in one command -----------------------------
run "$SISIGN" keygen --module "$M" --cert --subject "$DN" --label jane --id 0a0b -o "$T/jane.pem" "pkcs11:token=kg"
expect_rc 0 "keygen --cert on the token"
expect_no_stderr "keygen --cert"
URI=$(cat "$T/out")
check '[[ "$URI" == pkcs11:*token=kg* ]] && [[ "$URI" == *object=jane* ]] && [[ "$URI" == *id=%0A%0B* ]] && [[ "$URI" == *type=private* ]]' "prints the key URI ($URI)"
check '[ "$(wc -l <"$T/out")" -eq 1 ]' "one line"
check_key_attrs jane
o=$(p11 -O)
check '[ "$(grep -c "label: *jane" <<<"$o")" -eq 3 ]' "private key, public key and certificate labelled jane"
check '[ "$(grep -c "ID: *0a0b" <<<"$o")" -eq 3 ]' "all three with id 0a0b"
check 'openssl x509 -in "$T/jane.pem" -noout -text | grep -q "Signature Algorithm: sha1WithRSAEncryption"' "SHA-1 by default"
check 'openssl x509 -in "$T/jane.pem" -noout -text | grep -q "Public-Key: (2048 bit)"' "RSA-2048 by default"
check 'openssl verify -check_ss_sig -CAfile "$T/jane.pem" "$T/jane.pem" >/dev/null 2>&1' "self-signature verifies"
check 'openssl x509 -in "$T/jane.pem" -noout -text | grep -q "Code Signing"' "codeSigning"
# The certificate on the token is the one written to the file.
run "$SISIGN" export-cert --module "$M" --der -o "$T/jane-tok.der" "$URI"
expect_rc 0 "export-cert"
expect_no_stderr "export-cert"
check '[ "$(openssl x509 -in "$T/jane.pem" -outform DER | sha256sum)" = "$(sha256sum <"$T/jane-tok.der")" ]' "exported = written certificate"
sign_verify "$URI" "$T/jane.pem"
# pkcs11-tool signs with it and openssl verifies against the certificate.
printf 'x' >"$T/msg"
p11 --sign --mechanism SHA1-RSA-PKCS --label jane -i "$T/msg" -o "$T/msg.sig" >/dev/null
openssl x509 -in "$T/jane.pem" -pubkey -noout >"$T/jane.pub"
check 'openssl dgst -sha1 -verify "$T/jane.pub" -signature "$T/msg.sig" "$T/msg" | grep -q OK' "independent sign/verify"

# ---- refusing to overwrite ------------------------------------------------------
run "$SISIGN" keygen --module "$M" --label jane "pkcs11:token=kg"
expect_rc 3 "keygen with an existing label"
expect_stderr_has "already has an object labelled" "existing label"
run "$SISIGN" keygen --module "$M" --label other --id 0a0b "pkcs11:token=kg"
expect_rc 3 "keygen with an existing id"
expect_stderr_has "id 0a0b" "existing id"
run "$SISIGN" cert --module "$M" --key "$URI" --subject "CN=again" --store
expect_rc 3 "cert --store over an existing certificate"
check '[ "$(p11 -O | grep -c "label: *jane")" -eq 3 ]' "still exactly three jane objects"
run "$SISIGN" keygen --module "$M" --cert --subject "nonsense" --label broken "pkcs11:token=kg"
expect_rc 2 "keygen with a bad subject"
expect_stderr_has "subject" "bad subject"
check '! p11 -O | grep -q "label: *broken"' "nothing made for a bad subject"

# ---- keygen without cert, random id, then cert --store and csr ---------------------
run "$SISIGN" keygen --module "$M" --bits 3072 "pkcs11:token=kg;object=bare"
expect_rc 0 "keygen without certificate (label from the URI)"
BARE=$(cat "$T/out")
check '[[ "$BARE" =~ id=(%[0-9A-F]{2}){8} ]]' "random 8-byte id"
check_key_attrs bare
run "$SISIGN" cert --module "$M" --key "$BARE" --subject "/CN=Bare Key/O=Acme" --digest sha256 --store -o "$T/bare.pem"
expect_rc 0 "cert --store for a token key"
expect_no_stderr "cert --store"
check 'openssl x509 -in "$T/bare.pem" -noout -text | grep -q "Signature Algorithm: sha256WithRSAEncryption"' "sha256 token-signed cert"
check 'openssl verify -check_ss_sig -CAfile "$T/bare.pem" "$T/bare.pem" >/dev/null 2>&1' "token-signed self-signature"
check 'openssl x509 -in "$T/bare.pem" -noout -text | grep -q "Public-Key: (3072 bit)"' "3072 bits"
check '[ "$(object Certificate bare | grep -c "^Certificate Object")" -eq 1 ]' "certificate stored beside the key"
check '[ "$(object Certificate bare | grep "ID:")" = "$(object "Private Key" bare | grep "ID:")" ]' "certificate id = key id"
sign_verify "$BARE" "$T/bare.pem"
run "$SISIGN" csr --module "$M" --key "$BARE" --subject "$DN" -o "$T/bare.csr"
expect_rc 0 "csr from a token key"
check 'openssl req -in "$T/bare.csr" -noout -verify 2>&1 | grep -q "verify OK"' "openssl req -verify (token)"

# ---- import -------------------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/imp.key" 2>/dev/null
openssl req -new -x509 -key "$T/imp.key" -subj "/CN=Imported/O=Acme" -days 100 -out "$T/imp.pem" 2>/dev/null
run "$SISIGN" import --module "$M" --key "$T/imp.key" --cert "$T/imp.pem" --id 77 "pkcs11:token=kg"
expect_rc 0 "import PEM key + cert"
expect_no_stderr "import"
IMP=$(cat "$T/out")
check '[[ "$IMP" == *object=Imported* ]]' "label defaults to the CN"
check_key_attrs Imported imported
sign_verify "$IMP" "$T/imp.pem"
openssl pkcs12 -export -inkey "$T/imp.key" -in "$T/imp.pem" -passout pass:p12pass -out "$T/imp.p12" 2>/dev/null
SISIGN_PASS=p12pass run "$SISIGN" import --module "$M" --key "$T/imp.p12" --label fromp12 "pkcs11:token=kg"
expect_rc 0 "import PKCS#12"
check_key_attrs fromp12 imported
check '[ "$(object Certificate fromp12 | grep -c "^Certificate Object")" -eq 1 ]' "PKCS#12 certificate imported"
openssl req -new -x509 -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=Other" -out "$T/other.pem" 2>/dev/null
run "$SISIGN" import --module "$M" --key "$T/imp.key" --cert "$T/other.pem" --label mism "pkcs11:token=kg"
expect_rc 5 "import with a certificate of another key"
check '! p11 -O | grep -q "label: *mism"' "nothing imported on mismatch"
run "$SISIGN" import --module "$M" --key "$T/imp.key" --label Imported "pkcs11:token=kg"
expect_rc 3 "import over an existing label"

# ---- wrong PIN ----------------------------------------------------------------
SISIGN_PIN=0000 run "$SISIGN" keygen --module "$M" --label wrongpin "pkcs11:token=kg"
expect_rc 7 "wrong PIN"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
