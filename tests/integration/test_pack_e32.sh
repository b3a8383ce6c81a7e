#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign pack and executables (issue #13 part 2, install-rules.md IR-EXE-1/4):
# a file packed into \sys\bin\ gets the capabilities of its E32 header, as
# makesis does; a caps= list that disagrees is refused (exit 2, one line
# naming the file, the target and both sets, no output); a file there that
# is not an E32 image, or has a header the installer refuses, is warned
# about.  Every package made is checked by the independent
# tests/tools/sischeck.py, which also reads back each file's Capabilities
# field.  Test executables are header images from tests/tools/mke32.py.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
. "$(dirname "$0")/lib/common.sh"
tu_init pack-e32
TOOLS="$(cd "$(dirname "$0")/../tools" && pwd)"
mke32() { python3 "$TOOLS/mke32.py" "$@" || { echo "mke32.py $* failed"; exit 1; }; }
base=(--uid 0xE0001234 --name E32 --vendor Acme --created 2026-01-01)

# caps_of PKG: "TARGET=WORDS" per file (WORDS: hex words joined by ':', or
# "absent"), from sischeck.py's own reading of the package; also checks the
# package is well-formed in strict mode.
caps_of() {
	python3 - "$TOOLS/sischeck.py" "$1" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("sischeck", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
c = m.check_file(sys.argv[2], True)
if c.errors or c.warnings:
    sys.exit("sischeck: %s" % "; ".join(c.errors + c.warnings))
for f in c.top["files"]:
    caps = f["caps"]
    print("%s=%s" % (f["target"], "absent" if caps is None else ":".join("%08x" % w for w in caps)))
PY
}
# expect_caps PKG TARGET WORDS DESC
expect_caps() {
	checks=$((checks + 1))
	local got
	got=$(caps_of "$1" 2>&1) || { fail "$4: $got"; return; }
	grep -qxF -- "$2=$3" <<<"$got" || fail "$4: capabilities of $2: got '$got', expected '$3'"
}

# ReadUserData = bit 15, WriteUserData = 16, NetworkServices = 13, LocalServices = 14
mke32 "$T/app.exe" --caps ReadUserData,NetworkServices --vid 0x70000001 --pad 20000
mke32 "$T/lib.dll" --kind dll --uid3 0x10001234 --caps LocalServices --random-pad 3000
mke32 "$T/nocaps.exe" --uid3 0xE0005678
mke32 "$T/hi.exe" --caps 0x8000:0x1
printf 'not a program\n' >"$T/readme.txt"

# 1. capabilities come from the header: EXE, DLL (any drive, any case), none
run "$SISIGN" pack "${base[@]}" -f "$T/app.exe=!:\\sys\\bin\\app.exe" \
	-f "$T/lib.dll=C:\\Sys\\Bin\\lib.dll" -f "$T/nocaps.exe=e:\\sys\\bin\\nocaps.exe" \
	-f "$T/hi.exe=!:\\sys\\bin\\hi.exe" -o "$T/a.sis"
expect_rc 0 "pack executables"
expect_no_stderr "pack executables"
expect_caps "$T/a.sis" '!:\sys\bin\app.exe' 0000a000 "EXE caps from its header"
expect_caps "$T/a.sis" 'C:\Sys\Bin\lib.dll' 00004000 "DLL caps from its header"
expect_caps "$T/a.sis" 'e:\sys\bin\nocaps.exe' absent "no caps: no field, as makesis writes it"
expect_caps "$T/a.sis" '!:\sys\bin\hi.exe' 00008000:00000001 "caps past bit 31: two words"
run "$SISIGN" info "$T/a.sis"
expect_rc 0 "info of the packed executables"
expect_stdout_has "capabilities NetworkServices+ReadUserData" "info shows the header's caps"

# 2. a caps= list equal to the header's is accepted (order does not matter)
run "$SISIGN" pack "${base[@]}" -f "$T/app.exe=!:\\sys\\bin\\app.exe,caps=ReadUserData+NetworkServices" -o "$T/b.sis"
expect_rc 0 "caps= equal to the header"
expect_no_stderr "caps= equal to the header"
expect_caps "$T/b.sis" '!:\sys\bin\app.exe' 0000a000 "caps= equal"

# 3. a caps= list that differs is refused: exit 2, one line, no output
for spec in "app.exe=!:\\sys\\bin\\app.exe,caps=ReadUserData" \
	"app.exe=!:\\sys\\bin\\app.exe,caps=ReadUserData+NetworkServices+Location" \
	"nocaps.exe=!:\\sys\\bin\\nocaps.exe,caps=ReadUserData"; do
	run "$SISIGN" pack "${base[@]}" -f "$T/$spec" -o "$T/c.sis"
	expect_rc 2 "disagreeing caps= ($spec)"
	expect_absent "$T/c.sis" "disagreeing caps= ($spec): no package"
	check '[ "$(wc -l <"$T/err")" -eq 1 ]' "disagreeing caps= ($spec): one line on stderr"
	expect_stderr_has "$T/${spec%%=*} (to !:\\sys\\bin\\${spec%%=*})" "names the file and the target"
	expect_stderr_has "E32 header has" "says where the other set comes from"
done
run "$SISIGN" pack "${base[@]}" -f "$T/app.exe=!:\\sys\\bin\\app.exe,caps=ReadUserData+Location" -o "$T/c.sis"
expect_stderr_has "capabilities given ReadUserData+Location, but its E32 header has NetworkServices+ReadUserData" \
	"both sets by name"
run "$SISIGN" pack "${base[@]}" -f "$T/nocaps.exe=!:\\sys\\bin\\nocaps.exe,caps=ReadUserData" -o "$T/c.sis"
expect_stderr_has "E32 header has none" "an empty header set is named"

# 4. not an E32 image in \sys\bin\: packed with a warning naming it and why; caps= kept
run "$SISIGN" pack "${base[@]}" -q -f "$T/readme.txt=!:\\sys\\bin\\readme.txt,caps=ReadUserData" -o "$T/d.sis"
expect_rc 0 "non-E32 in \\sys\\bin\\"
expect_stderr_has "warning: $T/readme.txt: not an EXE or DLL (no 'EPOC' signature" "warning names the file and why"
expect_stderr_has "its target !:\\sys\\bin\\readme.txt is in \\sys\\bin\\" "warning names the target"
expect_caps "$T/d.sis" '!:\sys\bin\readme.txt' 00008000 "non-E32 keeps caps="
mke32 "$T/short.exe" --truncate 100
mke32 "$T/other.exe" --kind other
for f in short other; do
	run "$SISIGN" pack "${base[@]}" -f "$T/$f.exe=!:\\sys\\bin\\$f.exe" -o "$T/d.sis"
	expect_rc 0 "$f.exe in \\sys\\bin\\"
	expect_stderr_has "warning: $T/$f.exe: not an EXE or DLL" "$f.exe warned about"
done
expect_stderr_has "neither 0x1000007A nor 0x10000079" "other.exe: says why"

# 5. a header the installer refuses: warned about, caps still from it
mke32 "$T/badck.exe" --bad-checksum --caps Location
mke32 "$T/jfmt.exe" --format 1 --caps Location
run "$SISIGN" pack "${base[@]}" -f "$T/badck.exe=!:\\sys\\bin\\badck.exe" -f "$T/jfmt.exe=!:\\sys\\bin\\jfmt.exe" -o "$T/e.sis"
expect_rc 0 "refusable headers"
expect_stderr_has "$T/badck.exe (to !:\\sys\\bin\\badck.exe): EXE E32 header the installer refuses: UID checksum" "bad checksum"
expect_stderr_has "$T/jfmt.exe (to !:\\sys\\bin\\jfmt.exe): EXE E32 header the installer refuses: header is not the V format" "J format"
expect_caps "$T/e.sis" '!:\sys\bin\badck.exe' 00020000 "bad checksum: caps from the header"

# 6. only \sys\bin\ itself: elsewhere caps= is taken as given, silently
run "$SISIGN" pack "${base[@]}" -f "$T/readme.txt=!:\\sys\\bin\\sub\\readme.txt" \
	-f "$T/app.exe=!:\\private\\E0001234\\app.exe,caps=Location" -f "$T/readme.txt=!:\\sys\\binary.txt" -o "$T/f.sis"
expect_rc 0 "outside \\sys\\bin\\"
expect_no_stderr "outside \\sys\\bin\\"
expect_caps "$T/f.sis" '!:\private\E0001234\app.exe' 00020000 "outside \\sys\\bin\\: caps= as given"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
