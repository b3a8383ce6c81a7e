#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The signsis-compatible command line (sis-format.md §8.1), both as
# `sisign signsis` and through a link named signsis.
# Env: SISIGN (the built CLI), SISIGN_CORPUS (optional).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init signsis
unset SISIGN_PASS SISIGN_PIN

cd "$T" || exit 1
ln -s "$SISIGN" signsis
SS=$T/signsis

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl req -new -x509 -key rsa.key -sha256 -days 365 -subj "/CN=signsis test/O=sisign" -out rsa.crt 2>/dev/null
openssl pkey -in rsa.key -aes256 -passout pass:pw1234 -out rsa-enc.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param 2>/dev/null
openssl genpkey -paramfile dsa.param -out dsa.key 2>/dev/null
openssl req -new -x509 -key dsa.key -sha256 -days 365 -subj "/CN=signsis dsa" -out dsa.crt 2>/dev/null
printf 'x\n' >f.txt
run "$SISIGN" pack --uid 0xE0001235 --name SS --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"

# Sign through the link, then the same through `sisign signsis`.
run "$SS" in.sis out.sis rsa.crt rsa.key
expect_rc 0 "signsis sign"
expect_no_stderr "signsis sign"
run "$SISIGN" verify --trust rsa.crt out.sis
expect_rc 0 "signed by signsis verifies trusted"
run "$SISIGN" signsis -s in.sis out2.sis rsa.crt rsa.key
expect_rc 0 "sisign signsis -s"
checks=$((checks + 1))
cmp -s out.sis out2.sis || { [ -s out2.sis ] && "$SISIGN" verify --trust rsa.crt out2.sis >/dev/null 2>&1; } ||
	fail "sisign signsis -s output does not verify"

# -o report
run "$SS" -o out.sis
expect_rc 0 "-o"
expect_stdout_has "Primary:" "-o report"
expect_stdout_has "Issued by : O=sisign, CN=signsis test." "-o report issuer"
expect_stdout_has "Issued to : O=sisign, CN=signsis test." "-o report subject"
expect_stdout_has "Valid from " "-o report validity"
run "$SS" -o in.sis
expect_rc 0 "-o unsigned"
expect_stdout_has "No primary signatures." "-o unsigned"
# -o -p writes Chain/cert1.pem, the signer certificate
run "$SS" -op out.sis
expect_rc 0 "-op"
checks=$((checks + 1))
cmp -s <(openssl x509 -in Chain/cert1.pem -outform DER 2>/dev/null) <(openssl x509 -in rsa.crt -outform DER) ||
	fail "-p: Chain/cert1.pem is not the signer certificate"

# -u removes the last chain: back to the original bytes
run "$SS" -u out.sis unsigned.sis
expect_rc 0 "-u"
checks=$((checks + 1))
cmp -s in.sis unsigned.sis || fail "-u does not give back the unsigned package"
run "$SS" -u in.sis never.sis
expect_rc 1 "-u on an unsigned package"
expect_absent never.sis "-u unsigned"

# Combined options after one dash; -v banner
run "$SS" -sv in.sis out3.sis rsa.crt rsa.key
expect_rc 0 "-sv"
expect_stdout_has "SIGNSIS" "-sv banner"
# -cr / -cd
run "$SS" -cr in.sis out4.sis rsa.crt rsa.key
expect_rc 0 "-cr with an RSA key"
run "$SS" -cd in.sis out5.sis rsa.crt rsa.key
expect_rc 1 "-cd with an RSA key"
expect_absent out5.sis "-cd with an RSA key"
run "$SS" -cd in.sis out6.sis dsa.crt dsa.key
expect_rc 0 "-cd with a DSA key"
run "$SISIGN" verify --trust dsa.crt out6.sis
expect_rc 0 "DSA by signsis verifies"

# Passphrase on the command line: works, with a warning
run "$SS" in.sis out7.sis rsa.crt rsa-enc.key pw1234
expect_rc 0 "passphrase argument"
expect_stderr_has "signsis: warning: passphrase given on the command line is visible to other users; use SISIGN_PASS or a prompt" "passphrase warning"
run env SISIGN_PASS=pw1234 "$SS" in.sis out8.sis rsa.crt rsa-enc.key
expect_rc 0 "SISIGN_PASS"
expect_no_stderr "SISIGN_PASS"

# Errors → 1, no output
run "$SS" in.sis bad.sis rsa.crt other.key
expect_rc 1 "wrong key/cert pair"
expect_absent bad.sis "wrong key/cert pair"
run "$SS" in.sis bad.sis rsa.crt rsa-enc.key wrongpw
expect_rc 1 "wrong passphrase"
expect_absent bad.sis "wrong passphrase"
printf 'not a sis file at all' >junk.sis
run "$SS" junk.sis bad.sis rsa.crt rsa.key
expect_rc 1 "not a SIS file"
expect_absent bad.sis "not a SIS file"
checks=$((checks + 1))
[ -z "$(ls -A | grep -E '^\.|tmp' || true)" ] || fail "temp files left: $(ls -A)"

# Bad command lines → 4
for args in "-z in.sis" "-cx in.sis o.sis rsa.crt rsa.key" "-su out.sis o.sis" "-crd in.sis o.sis rsa.crt rsa.key" \
	"in.sis o.sis" "-u out.sis" "-u out.sis o.sis rsa.crt" "in.sis o.sis rsa.crt rsa.key pw extra" "-p in.sis" ""; do
	# shellcheck disable=SC2086
	run "$SS" $args
	expect_rc 4 "bad command line '$args'"
done
run "$SS" -h
expect_rc 0 "-h"
expect_stdout_has "usage: signsis" "-h"

if [ -n "${SISIGN_CORPUS:-}" ] && [ -d "$SISIGN_CORPUS/sis" ]; then
	D=$SISIGN_CORPUS/sis/secureswitools/swianalysistoolkit/test/tchainvalidity/data
	run "$SS" -o "$D/multichain.sis"
	expect_rc 0 "-o corpus multichain"
	checks=$((checks + 1))
	[ "$(grep -c '^Issued to' "$T/out")" -ge 2 ] || fail "-o corpus multichain: fewer than 2 certificates listed"
	TS=$SISIGN_CORPUS/sis/secureswitools/swisistools/test/tsignsis/data
	run "$SS" "$TS/eshell_hybrid.sis" bad.sis rsa.crt rsa.key
	expect_rc 1 "corpus eshell_hybrid (hash mismatch)"
	expect_absent bad.sis "eshell_hybrid"
else
	echo "note: SISIGN_CORPUS absent: corpus part skipped"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
