#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 2: man pages.  The build makes them from --help
# (scripts/clidocs.py, cmake/SisignDocs.cmake) into build/man/.  Here:
#   - they lint clean: `mandoc -T lint` and `groff -ww -man -z` print
#     nothing (each where installed);
#   - tests/tools/check_man.py finds every command's page, every option of
#     each command's --help in its page and no option there that --help
#     lacks (sisign-gtk.1 against `sisign-gtk --help-all` when built);
#   - they are what the built sisign's --help gives now (made again into a
#     temp dir and compared), so a stale page fails;
#   - the checks can fail: a page with an option taken out, one with an
#     option --help does not have, and one with a bad escape are caught.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${SISIGN_BUILDDIR:-}" ]; then echo "SKIP: \$SISIGN_BUILDDIR not set"; exit 77; fi
if grep -qx 'SISIGN_BUILD_DOCS:BOOL=OFF' "$SISIGN_BUILDDIR/CMakeCache.txt" 2>/dev/null; then
	echo "SKIP: built with -DSISIGN_BUILD_DOCS=OFF"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init man
S=${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$SISIGN_BUILDDIR/man
GTK=$SISIGN_BUILDDIR/src/gui/sisign-gtk
gtk=()
[ -x "$GTK" ] && gtk=(--gtk "$GTK")

check '[ -s "$MAN/sisign.1" ]' "the build made man/sisign.1"
for p in sisign-sign signsis makekeys sisign-verify sisign-keys; do
	check '[ -s "$MAN/$p.1" ]' "the build made man/$p.1"
done
if [ -x "$GTK" ]; then
	check '[ -s "$MAN/sisign-gtk.1" ]' "the build made man/sisign-gtk.1 (the app is built)"
fi

# lint DIR: every page through mandoc and groff; prints what they say.
lint() {
	local f
	for f in "$1"/*.1; do
		if command -v mandoc >/dev/null; then mandoc -T lint "$f" 2>&1; fi
		if command -v groff >/dev/null; then groff -ww -man -z "$f" 2>&1; fi
	done
}
if command -v mandoc >/dev/null || command -v groff >/dev/null; then
	lint "$MAN" >"$T/lint"
	check '[ ! -s "$T/lint" ]' "pages lint clean: $(head -c 600 "$T/lint")"
else
	echo "note: neither mandoc nor groff installed; lint skipped"
fi

run python3 "$S/tests/tools/check_man.py" --sisign "$SISIGN" --man "$MAN" "${gtk[@]}"
expect_rc 0 "pages match --help: $(head -c 600 "$T/out")"

# Made again now, from the same sisign: the same pages (the date aside).
run python3 "$S/scripts/clidocs.py" man --sisign "$SISIGN" "${gtk[@]}" --extra "$S/man" --out "$T/regen" \
	--version "$(sed -n 's/^.TH [^ ]* 1 [^ ]* "sisign \([^"]*\)".*/\1/p' "$MAN/sisign.1")"
expect_rc 0 "clidocs.py man"
diff -r -I '^\.TH ' -x .stamp "$MAN" "$T/regen" >"$T/diff" 2>&1
check '[ ! -s "$T/diff" ]' "built pages are not what --help gives now: $(head -c 600 "$T/diff")"

# The checks fail when they should.
cp -r "$MAN" "$T/bad"
grep -v 'skip\\-signed' "$MAN/sisign-sign.1" >"$T/bad/sisign-sign.1"
printf '.PP\nAlso \\fB\\-\\-frobnicate\\fR.\n' >>"$T/bad/sisign-verify.1"
rm "$T/bad/sisign-csr.1"
run python3 "$S/tests/tools/check_man.py" --sisign "$SISIGN" --man "$T/bad"
expect_rc 1 "check_man on broken pages"
expect_stdout_has "sisign-sign.1: lacks --skip-signed" "check_man: an option missing from a page"
expect_stdout_has "sisign-verify.1: shows --frobnicate" "check_man: an option --help does not have"
expect_stdout_has "no page for 'sisign csr'" "check_man: a command without a page"
if command -v mandoc >/dev/null || command -v groff >/dev/null; then
	mkdir "$T/badlint"
	{ cat "$MAN/sisign-info.1"; printf '.PP\nsee \\fQthis\n'; } >"$T/badlint/sisign-info.1"
	lint "$T/badlint" >"$T/lint"
	check 'grep -q "sisign-info.1:" "$T/lint"' "lint reports a bad escape"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
