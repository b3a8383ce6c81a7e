#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Token faults and user-consent keys, through the CLI against the mock
# PKCS#11 module (tests/mock/mock_p11.c; issue #10 items 6-9):
#   6  a corrupted signature is refused before anything is written;
#      a certificate that is not the key's is caught when the key object
#      shows no public part;
#   7  CKA_ALWAYS_AUTHENTICATE keys sign everywhere a token key signs (sign,
#      batch, cert, csr, keygen --cert), one context login per signature,
#      the PIN read once;
#   8  a token failing mid-batch (five CK_RVs) stops the batch: one error,
#      the rest not started (JSON too), exit 6, done outputs verify;
#   9  a login answered with CKR_GENERAL_ERROR: one C_Login, a message
#      that says a wrong PIN may be the cause, exit 7.
# Env: SISIGN, MOCK_P11_MODULE.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${MOCK_P11_MODULE:-}" ] || [ ! -r "$MOCK_P11_MODULE" ]; then
	echo "SKIP: MOCK_P11_MODULE not set (run through ctest)"
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
M=$MOCK_P11_MODULE
unset MOCK_P11_MODE MOCK_P11_CORRUPT MOCK_P11_SIGN_FAIL_AFTER MOCK_P11_SIGN_FAIL_RV MOCK_P11_NO_PUBLIC \
	MOCK_P11_CERT_KEY MOCK_P11_KEY SISIGN_PASS
export SISIGN_PIN=1234

. "$(dirname "$0")/lib/common.sh"
tu_init token-faults
cd "$T" || exit 1
export MOCK_P11_LOG=$T/mock.log
KEY='pkcs11:token=sisign%20mock;object=mockkey;type=private'
# A fixed key, so certificates made in one run match the token's key in
# the next.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out mock.pem 2>/dev/null || { echo "FAIL: openssl"; exit 1; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out other.pem 2>/dev/null || { echo "FAIL: openssl"; exit 1; }
export MOCK_P11_KEY=$T/mock.pem

N=30
mkdir in
printf 'payload\n' >f.txt
for i in $(seq 1 $N); do
	"$SISIGN" pack --uid $((0xE0000500 + i)) --name "P$i" -f 'f.txt=!:\data\f.txt' -o "in/p$(printf %02d "$i").sis" ||
		{ echo "FAIL: pack"; exit 1; }
done
cp in/p01.sis one.sis
logs() { grep -c "^$1\$" "$T/mock.log" 2>/dev/null || true; }

# ---- 6: a corrupted signature ------------------------------------------------------
rm -f mock.log
run env MOCK_P11_CORRUPT=1 "$SISIGN" sign --module "$M" --key "$KEY" -o bad.sis one.sis
expect_rc 6 "corrupted signature"
expect_stderr_has "the token returned a signature that does not verify against certificate" "corrupted signature"
expect_stderr_has "nothing was written" "corrupted signature"
expect_absent bad.sis "corrupted signature"
check '[ -z "$(ls -A . | grep -v -x -e in -e f.txt -e mock.pem -e other.pem -e one.sis -e mock.log -e out -e err)" ]' \
	"corrupted signature: no temp file left"
check '[ "$(logs "sign 35")" -eq 1 ]' "corrupted signature: one C_Sign"
# ... and in a batch: the first one stops it.
run env MOCK_P11_CORRUPT=1 "$SISIGN" sign --module "$M" --key "$KEY" -r --out-dir bad "$T/in"
expect_rc 6 "corrupted signatures, batch"
check '[ "$(grep -c "does not verify" "$T/err")" -eq 1 ]' "corrupted batch: one error line"
check '[ -z "$(find bad -type f 2>/dev/null)" ]' "corrupted batch: nothing written"

# ... and for a certificate or a request made with the token key.
run env MOCK_P11_CORRUPT=1 "$SISIGN" cert --module "$M" --key "$KEY" --subject "CN=Bad" -o bad-cert.pem
expect_rc 5 "corrupted certificate signature"
expect_stderr_has "self-signature does not verify" "corrupted certificate signature"
expect_absent bad-cert.pem "corrupted certificate signature"
run env MOCK_P11_CORRUPT=1 "$SISIGN" csr --module "$M" --key "$KEY" --subject "CN=Bad" -o bad.csr
expect_rc 5 "corrupted request signature"
expect_absent bad.csr "corrupted request signature"

# A certificate of another key, on a key object without its public part.
run env MOCK_P11_NO_PUBLIC=1 MOCK_P11_CERT_KEY="$T/other.pem" "$SISIGN" sign --module "$M" --key "$KEY" -o mm.sis one.sis
expect_rc 5 "key object without public part, foreign certificate"
expect_stderr_has "does not belong to the key" "foreign certificate"
expect_absent mm.sis "foreign certificate"
run env MOCK_P11_NO_PUBLIC=1 "$SISIGN" sign --module "$M" --key "$KEY" -o np.sis one.sis
expect_rc 0 "key object without public part, its own certificate"
run "$SISIGN" verify np.sis
expect_rc 10 "no public part: output verifies"

# ---- 7: CKA_ALWAYS_AUTHENTICATE --------------------------------------------------------
export MOCK_P11_MODE=always_auth
rm -f mock.log
run "$SISIGN" sign --module "$M" --key "$KEY" -o aa.sis one.sis
expect_rc 0 "always-auth: sign"
run "$SISIGN" verify aa.sis
expect_rc 10 "always-auth: signature verifies"
check '[ "$(logs "login 1")" -eq 1 ] && [ "$(logs "login 2")" -eq 1 ]' "always-auth sign: one user and one context login"

# Batch: the PIN is read once (from a descriptor that holds it once), one
# context login per signature.
rm -f mock.log
printf '1234\n' >pin.txt
chmod 600 pin.txt
env -u SISIGN_PIN "$SISIGN" sign --module "$M" --key "$KEY" --pin-fd 3 -r --out-dir aa -q "$T/in" \
	3<pin.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 0 "always-auth: batch"
check '[ "$(logs "login 1")" -eq 1 ]' "always-auth batch: one user login"
check '[ "$(logs "login 2")" -eq $N ]' "always-auth batch: one context login per signature"
check '[ "$(logs "sign 35")" -eq $N ]' "always-auth batch: one C_Sign per package"
"$SISIGN" verify -r --json aa >verify.json 2>/dev/null
check '[ "$(grep -c "\"verdict\":\"self-signed\"" verify.json)" -eq $N ]' "always-auth batch: outputs verify"

# cert and csr with the token key, keygen --cert on a token whose keys all
# ask for consent.
rm -f mock.log
run "$SISIGN" cert --module "$M" --key "$KEY" --subject "CN=Consent" -o aa-cert.pem
expect_rc 0 "always-auth: cert"
check 'openssl x509 -in aa-cert.pem -noout 2>/dev/null && openssl verify -CAfile aa-cert.pem aa-cert.pem >/dev/null 2>&1' \
	"always-auth: certificate self-signature"
check '[ "$(logs "login 2")" -eq 1 ]' "always-auth cert: one context login"
run "$SISIGN" csr --module "$M" --key "$KEY" --subject "CN=Consent" -o aa.csr
expect_rc 0 "always-auth: csr"
check 'openssl req -in aa.csr -verify -noout >/dev/null 2>&1' "always-auth: request signature"
rm -f mock.log
run "$SISIGN" keygen --module "$M" --cert --subject "CN=New Consent" --label newkey -o aa-new.pem "pkcs11:token=sisign%20mock"
expect_rc 0 "always-auth: keygen --cert"
check 'openssl verify -CAfile aa-new.pem aa-new.pem >/dev/null 2>&1' "always-auth keygen: certificate verifies"
check '[ "$(logs "login 2")" -eq 1 ]' "always-auth keygen: one context login"
unset MOCK_P11_MODE

# ---- 8: a token that fails mid-batch -----------------------------------------------------
K=5
for rv in 0x32 0xe0 0xb3 0x30 0x5; do # DEVICE_REMOVED TOKEN_NOT_PRESENT SESSION_HANDLE_INVALID DEVICE_ERROR GENERAL_ERROR
	rm -rf out8 && rm -f mock.log
	MOCK_P11_SIGN_FAIL_AFTER=$K MOCK_P11_SIGN_FAIL_RV=$rv "$SISIGN" sign --module "$M" --key "$KEY" -r \
		--out-dir out8 -j 2 "$T/in" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	expect_rc 6 "fail after $K with $rv"
	check '[ "$(grep -c "token" "$T/err")" -ge 1 ] && [ "$(grep -c "failed: the token" "$T/err")" -eq 1 ]' \
		"$rv: exactly one error line"
	expect_stderr_has "$((N - K - 1)) package(s) not started" "$rv: the rest not started"
	check '[ "$(logs "sign 35")" -eq $((K + 1)) ]' "$rv: no C_Sign after the failure"
	check '[ "$(find out8 -name "*.sis" | wc -l)" -eq $K ]' "$rv: $K outputs"
	check '[ -z "$(find out8 -name "*.tmp*")" ]' "$rv: no partial files"
	"$SISIGN" verify -r --json out8 >v8.json 2>/dev/null
	check '[ "$(grep -c "\"verdict\":\"self-signed\"" v8.json)" -eq $K ]' "$rv: done outputs verify"
done
# JSON: K done, one error, the rest not_started; exit 6.
rm -rf out8
MOCK_P11_SIGN_FAIL_AFTER=$K MOCK_P11_SIGN_FAIL_RV=0x32 "$SISIGN" sign --module "$M" --key "$KEY" -r --out-dir out8 \
	--json "$T/in" >j8.json 2>"$T/err" </dev/null
rc=$?
expect_rc 6 "fail mid-batch, --json"
python3 - j8.json "$N" "$K" <<'EOF' || fail "JSON statuses after a token failure"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n, k = int(sys.argv[2]), int(sys.argv[3])
st = [r["status"] for r in recs]
assert len(recs) == n, len(recs)
assert st.count("done") == k, st
assert st.count("error") == 1, st
assert st.count("not_started") == n - k - 1, st
assert len({r["input"] for r in recs}) == n
err = [r for r in recs if r["status"] == "error"][0]
assert "CKR_DEVICE_REMOVED" in err["error"]["message"], err
for r in recs:
    if r["status"] == "not_started":
        assert r["output"] is None and r["exit"] == r["error"]["exit"] == 6, r
        assert "token failure" in r["error"]["message"], r
    elif r["status"] == "error":
        assert r["exit"] == r["error"]["exit"] == 6, r
EOF
check '[ "$(grep -c "CKR_DEVICE_REMOVED" "$T/err")" -eq 1 ]' "--json: the error once on stderr"

# ---- 9: CKR_GENERAL_ERROR at login ---------------------------------------------------
rm -f mock.log
run env MOCK_P11_MODE=cac SISIGN_PIN=9999 "$SISIGN" sign --module "$M" --key "$KEY" -o cac.sis one.sis
expect_rc 7 "CAC-like card, wrong PIN"
expect_stderr_has "the card refused the login (CKR_GENERAL_ERROR); some cards report a wrong PIN this way" "CAC login"
expect_stderr_has "check the PIN before trying again" "CAC login"
expect_absent cac.sis "CAC login"
check '[ "$(grep -c "^login" "$T/mock.log")" -eq 1 ]' "CAC login: exactly one C_Login"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
