#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #11 item 12: sign then unsign gives back the input byte for byte,
# also for a package without CRC fields: sign keeps the controller CRC
# field exactly when the input has one (its value recomputed), and unsign
# does the same.  The package is made by tests/tools/mkmanyref.py (no CRC
# fields; controller deflated at zlib's default level, as sisign does).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
. "$(dirname "$0")/lib/common.sh"
tu_init sign-nocrc
unset SISIGN_PASS SISIGN_PIN
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
cd "$T" || exit 1

tu_codesign_cert rsa "sisign test RSA"

# The type words of SISContents' members, in order (sis-format.md §5.2).
members() {
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
t, n = struct.unpack_from('<II', b, 16)
pos, end, out = 24, 24 + n, []
while pos < end:
    t, n = struct.unpack_from('<II', b, pos)
    out.append(str(t))
    pos += 8 + n + (4 - n % 4) % 4
print(' '.join(out))
PY
}

python3 "$tools/mkmanyref.py" in.sis 3 5000
check '[ "$(members in.sis)" = "3 30" ]' "the input has no CRC fields ($(members in.sis))"

# A field that is not there is not stale: info says it is absent.
run "$SISIGN" info in.sis
expect_rc 0 "info on a package without CRC fields"
check 'grep -q "^Checksums: *no controller CRC field; no data CRC field" "$T/out"' \
	"info says the CRC fields are absent ($(grep Checksums "$T/out"))"
check '! grep -q "stale" "$T/out"' "info calls an absent CRC field stale"

run "$SISIGN" sign --key rsa.key --cert rsa.crt -o signed.sis in.sis
expect_rc 0 "sign"
expect_no_stderr "sign"
check '[ "$(members signed.sis)" = "3 30" ]' "sign adds no CRC field ($(members signed.sis))"
run "$SISIGN" verify --trust rsa.crt signed.sis
expect_rc 0 "the signed package verifies"

run "$SISIGN" unsign -o back.sis signed.sis
expect_rc 0 "unsign"
expect_no_stderr "unsign"
check 'cmp -s in.sis back.sis' "sign then unsign gives back the input byte for byte"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
