#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Signing with a key on a SoftHSM token (fixture softhsm_token: token
# "sisign-test" with key "sisign", id 01 and its certificate; two tokens
# labelled "sisign-dup").  Env: SISIGN, SOFTHSM2_CONF, SOFTHSM2_MODULE,
# SISIGN_PIN (1234).  The new signature is checked with plain openssl.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${SOFTHSM2_CONF:-}" ] || [ ! -r "$SOFTHSM2_CONF" ]; then
	echo "SKIP: no SoftHSM token (SOFTHSM2_CONF unset or unreadable; run via ctest with the softhsm_token fixture)"
	exit 77
fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r "$M" ] || { echo "SKIP: SoftHSM module $M not found"; exit 77; }
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
PIN=${SISIGN_PIN:-1234}
unset SISIGN_PASS

. "$(dirname "$0")/lib/common.sh"
tu_init sign-token

. "$(dirname "$0")/lib/openssl_check.sh"


cd "$T" || exit 1
KEY='pkcs11:token=sisign-test;object=sisign;type=private'
printf 'token\n' >f.txt
run "$SISIGN" pack --uid 0xE0001236 --name Tok --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"
before=$(sha256sum <in.sis)

# Sign with the token key and the token's certificate; PIN from SISIGN_PIN.
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" -o tok.sis in.sis
expect_rc 0 "sign with token key"
expect_no_stderr "sign with token key"
check_chains tok.sis 1 "token signature"
run "$SISIGN" verify tok.sis
expect_rc 10 "token-signed package verifies (self-signed token certificate)"
expect_stdout_has "signature ok" "token verify"
run "$SISIGN" unsign -o tok-u.sis tok.sis
expect_rc 0 "unsign token signature"
checks=$((checks + 1))
cmp -s in.sis tok-u.sis || fail "token sign+unsign not byte-identical"

# PIN through --pin-file (0600) and --pin-fd; a 0644 pin file is refused.
printf '%s\n' "$PIN" >pin.txt
chmod 600 pin.txt
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-file pin.txt -o tok2.sis in.sis
expect_rc 0 "--pin-file 0600"
check_chains tok2.sis 1 "--pin-file"
env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o tok3.sis in.sis 3<pin.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 0 "--pin-fd"
chmod 644 pin.txt
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-file pin.txt -o tok4.sis in.sis
expect_rc 7 "--pin-file 0644 refused"
expect_stderr_has "pin.txt" "--pin-file 0644 names the file"
expect_absent tok4.sis "--pin-file 0644"

# Wrong PIN → EXIT_PIN, nothing written; the token still works after it.
run env SISIGN_PIN=99999999 "$SISIGN" sign --key "$KEY" --module "$M" -o bad.sis in.sis
expect_rc 7 "wrong PIN"
expect_absent bad.sis "wrong PIN"
# --pin-fd beats SISIGN_PIN
printf '99999999\n' >badpin.txt
SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o bad.sis in.sis 3<badpin.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 7 "--pin-fd takes precedence over SISIGN_PIN"
expect_absent bad.sis "--pin-fd precedence"
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" -o after.sis in.sis
expect_rc 0 "right PIN after wrong ones"
check_chains after.sis 1 "after wrong PIN"

# PIN in the URI: refused unless --allow-pin-in-uri.
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY?pin-value=$PIN" --module "$M" -o uri.sis in.sis
expect_rc 7 "pin-value in URI refused by default (a PIN problem)"
expect_absent uri.sis "pin-value refused"
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY?pin-value=$PIN" --allow-pin-in-uri --module "$M" -o uri.sis in.sis
expect_rc 0 "pin-value with --allow-pin-in-uri"

# Key/cert mismatch: --cert another certificate → EXIT_KEY, no output.
openssl req -new -x509 -newkey rsa:2048 -nodes -keyout other.key -subj "/CN=other" -days 30 -out other.crt 2>/dev/null
mkdir neg
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" --cert other.crt -o neg/x.sis in.sis
expect_rc 5 "token key with a foreign --cert"
expect_absent neg/x.sis "key/cert mismatch"
checks=$((checks + 1))
[ -z "$(ls -A neg)" ] || fail "key/cert mismatch left files: $(ls -A neg)"

# Ambiguous label → EXIT_TOKEN, both candidates listed, no output.
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key 'pkcs11:token=sisign-dup;object=sisign' --module "$M" -o neg/d.sis in.sis
expect_rc 6 "ambiguous token label"
checks=$((checks + 1))
[ "$(grep -o 'serial=[0-9a-f]*;token=sisign-dup' "$T/err" | sort -u | wc -l)" -eq 2 ] ||
	fail "ambiguous token: both candidates are not listed"
expect_absent neg/d.sis "ambiguous"
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key 'pkcs11:token=no-such-token;object=sisign' --module "$M" -o neg/n.sis in.sis
expect_rc 6 "unknown token"
expect_absent neg/n.sis "unknown token"

checks=$((checks + 1))
[ "$(sha256sum <in.sis)" = "$before" ] || fail "input changed"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
