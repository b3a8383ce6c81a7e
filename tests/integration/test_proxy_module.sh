#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The default module is p11-kit's proxy, which gives each caller its own
# instance: what sisign does through the module's raw function list (export
# a certificate, read CKA_ALWAYS_AUTHENTICATE before signing) must work
# through it too, and agree with the SoftHSM module loaded directly.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${SOFTHSM2_CONF:-}" ] || [ ! -r "$SOFTHSM2_CONF" ]; then
	echo "SKIP: no SoftHSM token (run via ctest with the softhsm_token fixture)"; exit 77
fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r /usr/share/p11-kit/modules/softhsm2.module ] || { echo "SKIP: SoftHSM not registered with p11-kit"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-proxy.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; cat "$T/err" 2>/dev/null; fi; }
KEY='pkcs11:token=sisign-test;object=sisign;type=private'

"$SISIGN" export-cert -o "$T/proxy.pem" "$KEY" 2>"$T/err"; rc=$?
check "export-cert through the proxy exits 0 (got $rc)" '[ "$rc" -eq 0 ]'
"$SISIGN" export-cert --module "$M" -o "$T/direct.pem" "$KEY" 2>"$T/err"; rc=$?
check "export-cert with the module exits 0 (got $rc)" '[ "$rc" -eq 0 ]'
check "same certificate both ways" 'cmp -s "$T/proxy.pem" "$T/direct.pem"'

printf 'x' >"$T/x.txt"
"$SISIGN" pack --uid 0xE0001111 --name P --vendor V -f "$T/x.txt=!:\\x.txt" -o "$T/p.sis" 2>"$T/err"
"$SISIGN" sign --key "$KEY" -o "$T/s.sis" "$T/p.sis" 2>"$T/err"; rc=$?
check "sign through the proxy exits 0 (got $rc)" '[ "$rc" -eq 0 ]'
"$SISIGN" verify --trust "$T/direct.pem" "$T/s.sis" >/dev/null 2>"$T/err"; rc=$?
check "signature made through the proxy is trusted (got $rc)" '[ "$rc" -eq 0 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
