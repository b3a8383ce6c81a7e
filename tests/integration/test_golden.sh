#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Byte-stable output: packing (fixed creation time) and signing (RSA
# PKCS#1 v1.5 is deterministic) the golden inputs give exactly the bytes
# recorded in tests/data/golden/SHA256SUMS; unsigning gives the packed file
# back; the signed file verifies as trusted against the golden certificate.
# A change here means sisign writes different bytes: regenerate with
# tests/data/mkdata.sh only if that is intended.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
. "$(dirname "$0")/lib/common.sh"
tu_init golden
G="$(cd "$(dirname "$0")/../data/golden" && pwd)"
D="$(cd "$(dirname "$0")/../data" && pwd)"

run env SISIGN="$SISIGN" "$D/mkdata.sh" --out "$T"
expect_rc 0 "pack and sign the golden inputs (tests/data/mkdata.sh --out)"
expect_no_stderr "pack and sign"
check '(cd "$T" && sha256sum -c --quiet "$G/SHA256SUMS")' "outputs differ from tests/data/golden/SHA256SUMS"
run "$SISIGN" unsign -o "$T/back.sis" "$T/golden_signed.sis"
expect_rc 0 "unsign"
check 'cmp -s "$T/back.sis" "$T/golden.sis"' "unsign gives back the packed bytes"
run "$SISIGN" verify --trust "$G/golden.pem" "$T/golden_signed.sis"
expect_rc 0 "verify trusted"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
