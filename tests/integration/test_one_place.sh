#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 13: one thing, one place.  Source checks (the behaviour is
# covered by the unit and integration tests of each caller):
#   - one hex encoder: sisign_hex (src/lib/util/misc.c); no other
#     "0123456789abcdef" table and no "%02x"/"%02X" byte loops in src/;
#   - one SHA-1 DigestInfo prefix (src/lib/crypto/x509build.c);
#   - one DN formatter: X509_NAME_print_ex only in src/lib/crypto/certs.c,
#     no X509_NAME_oneline anywhere;
#   - no certificate decoding in the front ends (src/fe, src/cli): they use
#     sisign_certs_describe;
#   - batch_cli.c reads URIs with p11-kit, not sscanf.
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# only FILE... PATTERN DESC: the extended regexp matches in exactly the files listed (under src/)
only() {
	local want=$1 pat=$2 desc=$3 got
	checks=$((checks + 1))
	got=$(cd "$S" && grep -rlE -- "$pat" src | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$desc: found in '$got', expected '$want'"
}
[ -d "$S/src/lib" ] || { echo "SKIP: no source tree at $S"; exit 77; }

only "src/lib/util/misc.c " '"0123456789abcdef"' "hex digit table"
only "" '%02[xX]"' "printf-style hex encoder"
only "src/lib/crypto/x509build.c " '0x2b, 0x0e, 0x03, 0x02, 0x1a' "SHA-1 DigestInfo prefix"
only "src/lib/crypto/certs.c " 'X509_NAME_print_ex' "DN formatter"
only "" 'X509_NAME_oneline' "X509_NAME_oneline (the /C=../CN=.. style)"
checks=$((checks + 1))
(cd "$S" && grep -rlE 'd2i_X509|X509_digest|X509_NAME' src/fe src/cli) && fail "certificates decoded in a front end"
checks=$((checks + 1))
grep -q 'sscanf' "$S/src/cli/batch_cli.c" && fail "batch_cli.c scans URIs with sscanf"
checks=$((checks + 1))
grep -q 'p11_kit_uri_parse' "$S/src/cli/batch_cli.c" || fail "batch_cli.c does not parse URIs with p11-kit"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
