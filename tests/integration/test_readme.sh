#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 12: the README's examples stay true.  A code block (4-space
# indented, or fenced with ```) is safe to run when the line
#     <!-- readme-test -->
# comes right before it (blank lines between are fine; the comment does not
# show on GitHub).  Mark only blocks that need nothing but a built tree and
# change nothing outside the current directory and $HOME.  All marked
# blocks run in README order as one bash script (set -e, so every command
# must succeed; state such as PATH carries over) in a scratch directory
# that holds `build` (a link to the build tree) with HOME set to a scratch
# home.  The README must say how to install sisign: a marked block runs
# `cmake --install`, and the .deb route is named.
#   SISIGN_BUILDDIR  the built tree the blocks see as ./build (default: build/)
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
B="${SISIGN_BUILDDIR:-$S/build}"
. "$S/tests/integration/lib/common.sh"
tu_init readme
[ -f "$B/cmake_install.cmake" ] || { echo "SKIP: $B is not a configured build tree"; exit 77; }

# Extract the marked blocks into a script; each block starts by recording
# its README line for the error report.
awk -v out="$T/blocks.sh" -v list="$T/blocks.txt" '
	function flush() { if (inblock) { print "" > out; inblock = 0; n++ } }
	/^<!-- readme-test -->[ \t]*$/ { flush(); armed = NR; next }
	armed && /^[ \t]*$/ && !inblock { next }
	armed && !inblock && /^```/ { inblock = 2; armed = 0; start(NR + 1); next }
	armed && !inblock && /^(    |\t)/ { inblock = 1; armed = 0; start(NR) }
	armed && !inblock { printf "line %d: <!-- readme-test --> is not followed by a code block\n", armed > "/dev/stderr"; bad = 1; armed = 0; next }
	inblock == 2 { if (/^```/) flush(); else print > out; next }
	inblock == 1 { if (/^(    |\t)/) { sub(/^(    |\t)/, ""); print > out } else flush(); next }
	function start(l) { printf "__readme_line=%d\n", l > out; print l > list }
	END { flush(); exit bad }
' "$S/README.md"
rc=$?
expect_rc 0 "every <!-- readme-test --> marker is followed by a code block"
nblocks=$(wc -l <"$T/blocks.txt" 2>/dev/null || echo 0)
check '[ "$nblocks" -ge 1 ]' "README.md has marked blocks"
check 'grep -q "^cmake --install " "$T/blocks.sh"' "a marked README block installs sisign (cmake --install)"
check 'grep -q "cpack -G DEB" "$S/README.md" && grep -q "apt install ./" "$S/README.md"' \
	"README.md says how to build and install the Debian packages"

# Run them.
mkdir -p "$T/work" "$T/home" || exit 1
ln -s "$B" "$T/work/build"
{
	echo "set -eE -o pipefail"
	echo "trap 'echo \"README.md: the block at line \$__readme_line failed (exit \$?)\" >&2' ERR"
	cat "$T/blocks.sh"
} >"$T/run.sh"
(cd "$T/work" && env -u SISIGN_PASS -u SISIGN_PIN HOME="$T/home" bash "$T/run.sh" >"$T/out" 2>"$T/err" </dev/null)
rc=$?
expect_rc 0 "the $nblocks marked README blocks (at lines $(tr '\n' ' ' <"$T/blocks.txt")) run"
echo "--- output of the README blocks:"
cat "$T/out" "$T/err"

echo "$checks checks, $failures failures ($nblocks blocks)"
[ "$failures" -eq 0 ]
