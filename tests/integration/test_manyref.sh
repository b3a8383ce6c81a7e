#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #11 item 4: a small package whose file descriptions all name one big
# data entry is checked with one inflate-and-hash of that entry, not one per
# description; SISData with more data units than the cap is refused (exit 4).
# The timeout is a hang guard, not a speed claim (speed is bench/'s job): one
# pass over 8 MiB takes well under a second, 60,000 passes take hours.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
command -v timeout >/dev/null || { echo "SKIP: timeout not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init manyref
tools="$(cd "$(dirname "$0")/../tools" && pwd)"

python3 "$tools/mkmanyref.py" "$T/many.sis" 60000 $((8 << 20))
size=$(stat -c %s "$T/many.sis")
check '[ "$size" -lt 1048576 ]' "the package is small ($size bytes)"
run timeout 300 "$SISIGN" info "$T/many.sis"
expect_rc 0 "60,000 descriptions of one 8 MiB entry are checked (124 = timed out)"
expect_stdout_has "Data check:   ok (every file hash matches)" "every description's hash matches"
expect_no_stderr "many descriptions"

python3 "$tools/mkmanyref.py" "$T/units_ok.sis" 1 16 65536
run "$SISIGN" info "$T/units_ok.sis"
expect_rc 0 "65,536 data units are accepted"
expect_stdout_has "65536 data units" "info counts the data units"

python3 "$tools/mkmanyref.py" "$T/units_over.sis" 1 16 65537
run "$SISIGN" info "$T/units_over.sis"
expect_rc 4 "65,537 data units are refused"
expect_stderr_has "more than 65536 data units" "the refusal says why"
check '[ "$(grep -c . "$T/err")" -eq 1 ]' "the refusal is one line"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
