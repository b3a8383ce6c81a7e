#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign info and executables (issue #13 part 2): for each E32 image, and
# each file going to \sys\bin\, the kind, SID, VID and capabilities of its
# header and the problems the installer would refuse it for (not an E32
# image in \sys\bin\, bad UID checksum, not the V format, capabilities that
# differ from the package's), in text and in JSON (validated against
# docs/json-schema.json when python3-jsonschema is there).  Test executables
# are header images from tests/tools/mke32.py; with the corpus, real
# Symbian test packages are read too.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
. "$(dirname "$0")/lib/common.sh"
tu_init info-e32
S="$(cd "$(dirname "$0")/../.." && pwd)"
mke32() { python3 "$S/tests/tools/mke32.py" "$@" || { echo "mke32.py $* failed"; exit 1; }; }

mke32 "$T/app.exe" --uid3 0xE0001234 --vid 0x70000001 --caps ReadUserData,NetworkServices --pad 100000
mke32 "$T/lib.dll" --kind dll --uid3 0x10001234 --sid 0x10005678 --caps LocalServices --random-pad 2000
mke32 "$T/badck.exe" --uid3 0xE0002222 --bad-checksum
mke32 "$T/jfmt.exe" --uid3 0xE0003333 --format 1
printf 'plain text\n' >"$T/readme.txt"
# (pack warns about the broken ones on stderr: test_pack_e32.sh checks that)
run "$SISIGN" pack --uid 0xE0001234 --name Info --vendor Acme --created 2026-01-01 \
	-f "$T/app.exe=!:\\sys\\bin\\app.exe" \
	-f "$T/lib.dll=c:\\sys\\bin\\lib.dll" \
	-f "$T/readme.txt=!:\\sys\\bin\\readme.txt" \
	-f "$T/badck.exe=!:\\sys\\bin\\badck.exe" \
	-f "$T/jfmt.exe=!:\\sys\\bin\\jfmt.exe" \
	-f "$T/app.exe=!:\\private\\E0001234\\copy.exe,caps=Location" \
	-f "$T/readme.txt=!:\\data\\readme.txt" -o "$T/p.sis"
expect_rc 0 "pack the test package"

# ---- text ----------------------------------------------------------------------
for check in --check --no-check; do
	run "$SISIGN" info $check "$T/p.sis"
	expect_rc 0 "info $check: header problems do not change the exit status"
	expect_no_stderr "info $check"
	expect_stdout_has "EXE: SID 0xe0001234, VID 0x70000001, capabilities NetworkServices+ReadUserData" "info $check: EXE"
done
expect_stdout_has "DLL: SID 0x10005678, VID 0x00000000, capabilities LocalServices" "info: DLL (SID is not UID3)"
expect_stdout_has "NOT AN EXECUTABLE:" "info: non-E32 in \\sys\\bin\\"
expect_stdout_has "PROBLEM: no 'EPOC' signature at offset 0x10" "info: why it is not one"
expect_stdout_has "PROBLEM: the installer refuses a file in \\sys\\bin\\ that is not an executable (IR-EXE-1)" "info: IR-EXE-1"
expect_stdout_has "PROBLEM: UID checksum at offset 0x0C does not match UID1-3" "info: bad checksum"
expect_stdout_has "PROBLEM: header is not the V format" "info: J format"
expect_stdout_has "PROBLEM: the package's capabilities for it differ from its header's" "info: IR-EXE-4"
checks=$((checks + 1))
[ "$(grep -c 'PROBLEM:' "$T/out")" -eq 5 ] || fail "info: exactly five problems (none for the good files, none for \\data\\)"
checks=$((checks + 1))
# the \data\ text file is not an executable and not in \sys\bin\: nothing about it
awk '/!:\\data\\readme.txt/ { getline; getline; print }' "$T/out" | grep -qE '^ +(EXE|DLL|E32|NOT AN)' &&
	fail "info: a text file outside \\sys\\bin\\ gets an executable line"

# ---- JSON ----------------------------------------------------------------------
run "$SISIGN" info --json "$T/p.sis"
expect_rc 0 "info --json"
expect_no_stderr "info --json"
checks=$((checks + 1))
python3 - "$T/out" "$S/docs/json-schema.json" <<'PY' || fail "info --json: executables"
import json, sys
d = json.loads(open(sys.argv[1], encoding="utf-8").read())
try:
    import jsonschema
    jsonschema.Draft202012Validator(json.load(open(sys.argv[2]))).validate(d)
except ImportError:
    print("note: python3-jsonschema missing, schema not checked")
f = {x["target"]: x["executable"] for x in d["package"]["files"]}
a = f["!:\\sys\\bin\\app.exe"]
assert a == {"kind": "exe", "header_ok": True, "uid1": "0x1000007a", "uid2": "0x100039ce", "uid3": "0xe0001234",
             "flags": "0x02000000", "sid": "0xe0001234", "vid": "0x70000001",
             "capabilities": ["NetworkServices", "ReadUserData"], "capabilities_match": True, "problems": []}, a
l = f["c:\\sys\\bin\\lib.dll"]
assert (l["kind"], l["sid"], l["vid"], l["capabilities"], l["problems"]) == \
    ("dll", "0x10005678", "0x00000000", ["LocalServices"], []), l
r = f["!:\\sys\\bin\\readme.txt"]
assert r["kind"] == "none" and r["header_ok"] is False and r["sid"] is None and r["capabilities"] is None, r
assert len(r["problems"]) == 2 and "IR-EXE-1" in r["problems"][1], r
b = f["!:\\sys\\bin\\badck.exe"]
assert b["kind"] == "exe" and b["header_ok"] is False and b["problems"] == ["UID checksum at offset 0x0C does not match UID1-3"], b
j = f["!:\\sys\\bin\\jfmt.exe"]
assert j["header_ok"] is False and j["flags"] == "0x01000000" and "V format" in j["problems"][0], j
c = f["!:\\private\\E0001234\\copy.exe"]
assert c["capabilities_match"] is False and "IR-EXE-4" in c["problems"][0], c
assert f["!:\\data\\readme.txt"] is None
PY

# ---- real Symbian test packages (corpus) -----------------------------------------
C=${SISIGN_CORPUS:-}
if [ -n "$C" ] && [ -f "$C/sis/secureswitools/swisistools/test/tsignsis/data/CertWithUnicodeSubjectLine.SIS" ]; then
	run "$SISIGN" info "$C/sis/secureswitools/swisistools/test/tsignsis/data/CertWithUnicodeSubjectLine.SIS"
	expect_stdout_has "DLL: SID 0x10281f2e, VID 0x70000001, capabilities CommDD+PowerMgmt+MultimediaDD+ReadDeviceData" \
		"corpus: libz.dll"
	run "$SISIGN" info --json "$C/sis/secureswitools/swisistools/test/tsignsis/data/eshell_hybrid.sis"
	checks=$((checks + 1))
	python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
e = [f["executable"] for f in d["package"]["files"] if f["target"].lower().endswith("eshell.exe")][0]
assert (e["kind"], e["sid"], e["capabilities"], e["capabilities_match"]) == ("exe", "0xe01f7ae7", ["ReadUserData"], False), e
' "$T/out" || fail "corpus: eshell.exe, whose package claims more capabilities than its header"
else
	echo "note: corpus not found, real packages not read"
fi

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
