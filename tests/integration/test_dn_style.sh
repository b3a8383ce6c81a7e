#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 11: one distinguished-name style everywhere.  One
# certificate (made on a private SoftHSM token by `sisign keygen --cert`,
# with UTF-8, a comma inside a value and four components) is shown by keys,
# info, verify and signsis, as text and as JSON: every one must print the
# same string, the library's (RFC 2253 order, ", " between components,
# UTF-8 as is).  Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r "$M" ] || { echo "SKIP: SoftHSM module $M not found"; exit 77; }
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not found"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init dn-style
cd "$T" || exit 1

DN='C=FI, O=Acme\, Inc., OU=Apps, CN=Jäne Dev'
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >softhsm2.conf
export SOFTHSM2_CONF=$T/softhsm2.conf SISIGN_PIN=1234
softhsm2-util --init-token --free --label dn-test --pin 1234 --so-pin 12345678 >/dev/null || fail "init token"
run "$SISIGN" keygen --module "$M" --bits 2048 --label dn --id 0d --cert \
	--subject "/CN=Jäne Dev/OU=Apps/O=Acme, Inc./C=FI" --days 365 "pkcs11:token=dn-test"
expect_rc 0 "keygen --cert on the token"
KEY="pkcs11:token=dn-test;object=dn;type=private"
printf 'hello\n' >a.txt
run "$SISIGN" pack --uid 0xE0001234 --name DN -f 'a.txt=!:\data\a.txt' -o in.sis
expect_rc 0 "pack"
run "$SISIGN" sign --module "$M" --key "$KEY" -o s.sis in.sis
expect_rc 0 "sign with the token key"

# line_has DESC PREFIX: some stdout line is PREFIX followed by the DN
line_has() {
	checks=$((checks + 1))
	grep -qxF -- "$2$DN$3" "$T/out" || fail "$1: no line '$2$DN$3'"
}
# json_is DESC PYTHON-EXPR (over d, the first JSON line): equals the DN
json_is() {
	checks=$((checks + 1))
	python3 -c 'import json,sys
d = json.loads(open(sys.argv[1], encoding="utf-8").readline())
v = eval(sys.argv[2])
sys.exit(0 if v == sys.argv[3] else "%r != %r" % (v, sys.argv[3]))' "$T/out" "$2" "$DN" || fail "$1"
}

run "$SISIGN" keys --module "$M" "pkcs11:token=dn-test;type=cert"
expect_rc 0 "keys"
line_has "keys" "  subject: " ""
run "$SISIGN" keys --json --module "$M" "pkcs11:token=dn-test;type=cert"
json_is "keys --json" 'd["subject"]'

run "$SISIGN" info s.sis
expect_rc 0 "info"
line_has "info signer" "    Signer:     " ""
line_has "info issuer" "    Issuer:     " " (self-signed)"
run "$SISIGN" info --json s.sis
json_is "info --json subject" 'd["package"]["signature_chains"][0]["certificates"][0]["subject"]'
json_is "info --json issuer" 'd["package"]["signature_chains"][0]["certificates"][0]["issuer"]'

run "$SISIGN" verify s.sis
expect_rc 10 "verify (self-signed)"
line_has "verify signer" "      signer:  " ""
line_has "verify issuer" "      issuer:  " ""
run "$SISIGN" verify --json s.sis
json_is "verify --json signer" 'd["top"]["chains"][0]["signer_subject"]'
json_is "verify --json issuer" 'd["top"]["chains"][0]["signer_issuer"]'

run "$SISIGN" signsis -o s.sis
expect_rc 0 "signsis -o"
line_has "signsis issued by" "Issued by : " "."
line_has "signsis issued to" "Issued to : " "."

run "$SISIGN" export-cert --module "$M" -o dn.pem "pkcs11:token=dn-test;object=dn"
expect_rc 0 "export-cert"
ln -s "$SISIGN" makekeys
run ./makekeys -view dn.pem
expect_rc 0 "makekeys -view"
line_has "makekeys -view subject" "        Subject: " ""
line_has "makekeys -view issuer" "        Issuer: " ""

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
