#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign info on the corpus's damaged and corrupt packages: each gets a clear
# one-line error naming the file, and exit 4; nothing crashes.
set -u
C="${SISIGN_CORPUS:-}/sis"
if [ ! -d "$C" ]; then echo "SKIP: corpus not found"; exit 77; fi
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }

expect_bad() { # file, message fragment
	local f="$C/$1" frag="$2" err rc
	err=$("$SISIGN" info "$f" 2>&1 >/dev/null); rc=$?
	check "$1 exit 4 (got $rc)" '[ "$rc" -eq 4 ]'
	check "$1 one stderr line" '[ "$(printf "%s\n" "$err" | grep -c .)" -eq 1 ]'
	check "$1 names the file" 'printf "%s" "$err" | grep -qF "$f"'
	check "$1 says '$frag' ($err)" 'printf "%s" "$err" | grep -qiF "$frag"'
}
T=installationservices/swi/test
S=secureswitools/swisistools/test
expect_bad "$T/tsisfile/data/files/TS_00001__TC_02291__PE_00002__.sis" "damaged: SISInfo"
expect_bad "$T/tsisfile/data/files/panic47.sis" "uncompressed size"
expect_bad "$T/tsisfile/data/files/corruptedlengthfield.sis" "SISFileData runs past"
expect_bad "$T/tsisfile/data/files/legacy.sis" "pre-v9"
expect_bad "$S/tsignsis/data/corrupted.sis" "SISContents declares"
expect_bad "$T/tsisfile/data/files/TS_00001__TC_02789__PE_00002__.sis" "SISString declares"

# test_bufferoverflow.sis must not crash a parser: it parses cleanly
"$SISIGN" info "$C/$T/tsisfile/data/files/test_bufferoverflow.sis" >/dev/null 2>&1; rc=$?
check "test_bufferoverflow exit 0 (got $rc)" '[ "$rc" -eq 0 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
