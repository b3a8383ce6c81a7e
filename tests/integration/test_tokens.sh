#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign tokens / sisign keys against the SoftHSM fixture (softhsm_token).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${SOFTHSM2_CONF:-}" ] || [ ! -r "$SOFTHSM2_CONF" ]; then
	echo "SKIP: no SoftHSM token (run via ctest with the softhsm_token fixture)"; exit 77
fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r "$M" ] || { echo "SKIP: SoftHSM module $M not found"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
PIN=${SISIGN_PIN:-1234}
T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-tokens.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; echo "  stdout: $(head -c 800 "$T/out")"; echo "  stderr: $(head -c 800 "$T/err")"; failures=$((failures + 1)); }
run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { checks=$((checks + 1)); [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"; }
expect_no_stderr() { checks=$((checks + 1)); [ ! -s "$T/err" ] || fail "$1: stderr not empty"; }
expect_stdout_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/out" || fail "$2: stdout lacks '$1'"; }
expect_stderr_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"; }
pycheck() { # DESC PYTHON-EXPR-over-list-`docs`
	checks=$((checks + 1))
	python3 -c "import json,sys; docs=[json.loads(l) for l in open('$T/out') if l.strip()]; sys.exit(0 if ($2) else 1)" ||
		fail "$1"
}

run "$SISIGN" tokens --module "$M"
expect_rc 0 "tokens"
expect_no_stderr "tokens"
expect_stdout_has "token:  sisign-test" "tokens lists sisign-test"
expect_stdout_has "login required" "tokens flags"
expect_stdout_has "initialised" "tokens flags"
checks=$((checks + 1))
[ "$(grep -c '^token:  sisign-dup$' "$T/out")" -eq 2 ] || fail "tokens: both sisign-dup tokens"

run "$SISIGN" tokens --json --module "$M"
expect_rc 0 "tokens --json"
pycheck "tokens --json: sisign-test with serial, module, flags" \
	"any(d['label']=='sisign-test' and d['serial'] and d['module']=='$M' and 'login required' in d['flags'] and d['uri'].startswith('pkcs11:') for d in docs)"
pycheck "tokens --json: two sisign-dup" "sum(d['label']=='sisign-dup' for d in docs)==2"

run env SISIGN_PIN="$PIN" "$SISIGN" keys 'pkcs11:token=sisign-test' --module "$M"
expect_rc 0 "keys"
expect_no_stderr "keys"
expect_stdout_has "private-key RSA-2048 label \"sisign\" id 01" "keys: private key"
expect_stdout_has "type=private" "keys: private key URI"
expect_stdout_has "subject: " "keys: certificate subject"
expect_stdout_has "expires: " "keys: certificate expiry"

run env SISIGN_PIN="$PIN" "$SISIGN" keys --json --module "$M" 'pkcs11:token=sisign-test'
expect_rc 0 "keys --json"
pycheck "keys --json: private key paired with its certificate" \
	"any(d['kind']=='private-key' and d['key_type']=='RSA' and d['key_bits']==2048 and d['id']=='01' and d['paired_uri'] and 'type=cert' in d['paired_uri'] for d in docs)"
pycheck "keys --json: certificate with subject and expiry" \
	"any(d['kind']=='certificate' and 'sisign test' in (d['subject'] or '') and d['not_after'] for d in docs)"
# The listed private-key URI is copy-ready: signing with it works.
uri=$(python3 -c "import json; print([d['uri'] for d in map(json.loads, open('$T/out')) if d['kind']=='private-key'][0])")
printf 'k\n' >"$T/f.txt"
(cd "$T" && "$SISIGN" pack --uid 0xE0001237 --name K --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o "$T/in.sis" >/dev/null 2>&1)
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$uri" --module "$M" -o "$T/s.sis" "$T/in.sis"
expect_rc 0 "sign with the URI keys printed"

# No PIN and no terminal to ask on: the public objects, not an error.
if command -v setsid >/dev/null; then
	run env -u SISIGN_PIN setsid "$SISIGN" keys 'pkcs11:token=sisign-test' --module "$M"
	expect_rc 0 "keys without a PIN or terminal"
	expect_stdout_has "certificate RSA-2048" "keys without a PIN: the certificate"
	check '! grep -q "private-key" "$T/out"' "keys without a PIN: no private key (needs a login)"
fi
run env SISIGN_PIN="$PIN" "$SISIGN" keys 'pkcs11:token=sisign-dup' --module "$M"
expect_rc 6 "keys on an ambiguous label"
expect_stderr_has "sisign-dup" "keys ambiguous lists candidates"
run env SISIGN_PIN=99999999 "$SISIGN" keys 'pkcs11:token=sisign-test' --module "$M"
expect_rc 7 "keys with a wrong PIN"
run "$SISIGN" tokens --module /nonexistent/module.so
expect_rc 6 "tokens with a missing module"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
