#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A 12 KB package whose controller inflates to three million list entries
# is refused with a clear error, quickly and in little memory (entries per
# list are capped; the controller size is capped).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-bomb.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }

python3 "$tools/mkbomb.py" "$T/ok.sis" 3
"$SISIGN" info "$T/ok.sis" >/dev/null 2>"$T/err"; rc=$?
check "a three-name control package parses (exit $rc: $(cat "$T/err"))" '[ "$rc" -eq 0 ]'

python3 "$tools/mkbomb.py" "$T/bomb.sis" 3000000
size=$(stat -c %s "$T/bomb.sis")
check "the bomb is small ($size bytes)" '[ "$size" -lt 65536 ]'
# Run it as a child of python to read its peak memory.
out=$(python3 - "$SISIGN" "$T/bomb.sis" <<'PY'
import resource, subprocess, sys
p = subprocess.run([sys.argv[1], "info", sys.argv[2]], capture_output=True, text=True, timeout=60)
print(p.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(p.stderr.strip())
PY
)
rc=$(sed -n 1p <<<"$out"); kb=$(sed -n 2p <<<"$out"); msg=$(sed -n '3,$p' <<<"$out")
check "bomb exits 4 (got $rc)" '[ "$rc" -eq 4 ]'
check "bomb message says why ($msg)" 'grep -q "more than 65536 entries" <<<"$msg"'
check "bomb message is one line" '[ "$(grep -c . <<<"$msg")" -eq 1 ]'
check "bomb peak memory under 256 MiB ($kb KiB)" '[ "$kb" -lt 262144 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
