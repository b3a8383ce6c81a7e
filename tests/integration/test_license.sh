#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The project is under Apache-2.0: LICENSE holds the licence text, and
# every source file the project wrote (C, headers, shell, Python, CMake,
# linker map, sanitizer lists, desktop file, icon) names it with an SPDX
# identifier near its top.  Data (test keys, fuzz seeds, golden files) and
# prose (Markdown) are not source files and are not checked.
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

checks=$((checks + 1))
if ! grep -q 'Apache License' "$S/LICENSE" 2>/dev/null || ! grep -q 'Version 2.0, January 2004' "$S/LICENSE"; then
	fail "LICENSE is missing or is not the Apache License 2.0"
fi

# The files to check: git's list where this is a clone, else a walk.
if git -C "$S" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list=$(git -C "$S" ls-files --cached --others --exclude-standard)
else
	list=$(cd "$S" && find . -path ./.git -prune -o -path './build*' -prune -o -type f -print | sed 's|^\./||')
fi
n=0
while IFS= read -r f; do
	case "$f" in
	tests/fuzz/seeds/* | tests/data/* | */fuzz.key | */fuzz.pem) continue ;;
	*.c | *.h | *.sh | *.py | *.cmake | CMakeLists.txt | */CMakeLists.txt | *.map | *.supp | *.in | *.desktop | *.svg | .ci/run) ;;
	*) continue ;;
	esac
	[ -f "$S/$f" ] || continue
	n=$((n + 1))
	checks=$((checks + 1))
	head -n 3 "$S/$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' ||
		fail "$f: no 'SPDX-License-Identifier: Apache-2.0' in its first three lines"
done <<<"$list"
checks=$((checks + 1))
[ "$n" -gt 100 ] || fail "only $n source files found under $S"

echo "$checks checks, $failures failures ($n source files)"
[ "$failures" -eq 0 ]
