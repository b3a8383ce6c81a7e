#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A batch on a SoftHSM token through pkcs11-spy: exactly ONE C_Login for N
# packages, one C_Sign per package, every output verifies; --dry-run logs
# in once, test-signs once, writes nothing, exits 13; --parallel-token keeps
# one login.  Fixture softhsm_token (token "sisign-test", key "sisign").
# Env: SISIGN, SOFTHSM2_CONF, SOFTHSM2_MODULE, SISIGN_PIN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${SOFTHSM2_CONF:-}" ] || [ ! -r "$SOFTHSM2_CONF" ]; then
	echo "SKIP: no SoftHSM token (run via ctest with the softhsm_token fixture)"
	exit 77
fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
SPY=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
[ -r "$M" ] || { echo "SKIP: SoftHSM module $M not found"; exit 77; }
[ -r "$SPY" ] || { echo "SKIP: pkcs11-spy ($SPY) not found (opensc)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
export SISIGN_PIN=${SISIGN_PIN:-1234}

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-batch-token.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() {
	echo "FAIL: $*"
	echo "  stderr: $(head -c 800 "$T/err")"
	failures=$((failures + 1))
}
check() { checks=$((checks + 1)); "$@" || fail "check: $*"; }
N=25
URI='pkcs11:token=sisign-test;object=sisign;type=private'
export PKCS11SPY=$M

mkdir -p "$T/in"
echo "token batch payload" > "$T/src.txt"
for i in $(seq 1 $N); do
	"$SISIGN" pack --uid $((0xE0000400 + i)) --name "T$i" -f "$T/src.txt=!:\\data\\t.txt" \
		-o "$T/in/t$(printf %02d "$i").sis" || { echo "FAIL: pack"; exit 1; }
done
calls() { grep -cE "^[0-9]+: $1\$" "$T/spy.log"; }

# ---- the batch: one login ----------------------------------------------------------
export PKCS11SPY_OUTPUT=$T/spy.log
"$SISIGN" sign --module "$SPY" --key "$URI" -r --out-dir "$T/out" --json "$T/in" > "$T/out.json" 2> "$T/err" </dev/null
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "token batch exit $rc"
check [ "$(calls C_Login)" -eq 1 ]
check [ "$(calls C_Sign)" -eq $N ]
check [ "$(find "$T/out" -name '*.sis' | wc -l)" -eq $N ]
python3 - "$T/out.json" <<'EOF' || fail "JSON has the token serial and key id"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
for d in recs:
    assert d["status"] == "done" and d["chains"] == 1, d
    assert d["token_serial"] and d["key_id"] == "01" and len(d["signer_fingerprint"]) == 64, d
EOF
"$SISIGN" verify -r --json "$T/out" > "$T/verify.json" 2>&1
check [ "$(grep -c '"verdict":"self-signed"' "$T/verify.json")" -eq $N ]

# ---- --parallel-token: still one login ----------------------------------------------------
rm -f "$T/spy.log"
"$SISIGN" sign --module "$SPY" --key "$URI" -r --out-dir "$T/out2" --parallel-token -j 4 -q "$T/in" > /dev/null 2> "$T/err" </dev/null
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "parallel-token batch exit $rc"
check [ "$(calls C_Login)" -eq 1 ]
check [ "$(calls C_Sign)" -eq $N ]
# signatures made concurrently on several sessions are all good
"$SISIGN" verify -r --json "$T/out2" > "$T/verify2.json" 2>&1
check [ "$(grep -c '"verdict":"self-signed"' "$T/verify2.json")" -eq $N ]

# ---- --dry-run: one login, one test signature, nothing written ------------------------------
rm -f "$T/spy.log"
"$SISIGN" sign --module "$SPY" --key "$URI" -r --out-dir "$T/dry" --dry-run "$T/in" > /dev/null 2> "$T/err" </dev/null
rc=$?
checks=$((checks + 1))
[ $rc -eq 13 ] || fail "dry run exit $rc, expected 13"
check grep -q "NOT SIGNED" "$T/err"
check [ "$(calls C_Login)" -eq 1 ]
check [ "$(calls C_Sign)" -eq 1 ]
check [ ! -e "$T/dry" ] || [ -z "$(ls -A "$T/dry")" ]

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
