#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 3: `sisign check` against hand-made packages for the three
# rules `sisign pack` cannot make a package for (docs/check.md), each one
# package that breaks the rule and one that keeps it:
#   IR-SIG-8   a stub (SISX without data units) that is not PA/PP, refused
#              when the policy has AllowPackagePropagate false;
#   IR-TYPE-12 one UID under two parents, or two SA packages of one UID;
#   IR-DEP-1   a package embedded 8 levels below the top (7 is allowed).
# The packages come from tests/tools/mksis.py; embedded packages are signed
# (self-signed) on their own first and embedded as makesis does, so a
# package that keeps every rule would install (exit 0).  Each package must
# be well-formed by `sisign info` and tests/tools/sischeck.py.  With the
# corpus, the writer's layout of an embedded package is compared with a
# real one.  Env: SISIGN, SISIGN_CORPUS (optional).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PIN SISIGN_PASS
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/check.sh"
tu_init check-tree
cd "$T" || exit 1
tu_codesign_cert self "check tree"

# mk NAME JSON: NAME.sis from the description, well-formed by info and sischeck
mk() {
	printf '%s\n' "$2" >"$1.json"
	python3 "$tools/mksis.py" "$1.json" "$1.sis" 2>mk.err || { echo "FAIL: mksis.py $1: $(cat mk.err)"; exit 1; }
	wellformed "$1.sis"
}
wellformed() {
	run "$SISIGN" info "$1"
	expect_rc 0 "info $1"
	check '! grep -q "FAILED" "$T/out"' "info $1: the data check passes"
	run python3 "$tools/sischeck.py" --strict "$1"
	expect_rc 0 "sischeck.py $1"
}
# signed NAME: NAME.sis signed (self-signed) into NAME-s.sis, well-formed
signed() {
	run "$SISIGN" sign -q --key self.key --cert self.crt -o "$1-s.sis" "$1.sis"
	expect_rc 0 "sign $1"
	wellformed "$1-s.sis"
}
# onefile NAME: a one-file list for a description
onefile() { printf '[{"target": "!:\\\\data\\\\%s.txt", "data": "%s\\n"}]' "$1" "$1"; }
# pkg NAME UID [TYPE [EMBEDDED-JSON]]: NAME.sis and its signed NAME-s.sis
pkg() {
	mk "$1" "{\"uid\": \"$2\", \"type\": \"${3:-SA}\", \"name\": \"$1\", \"files\": $(onefile "$1"), \"embedded\": [${4:-}]}"
	signed "$1"
}

# chk DESC STATUS 'RULE:SEV ...' 'ABSENT-RULE ...' -- check ARGS...
# `sisign check --json ARGS`: exit STATUS, every RULE with that severity,
# none of the ABSENT rules; then the text report: each RULE's ID is in it.
chk() {
	local desc=$1 want=$2 has=$3
	chk_json "$desc (json)" "$want" "$has" "$4" -- "${@:6}"
	shift 5
	run "$SISIGN" check "$@"
	expect_rc "$want" "$desc (text)"
	for r in $has; do
		expect_stdout_has " ${r%%:*} " "$desc (text)"
	done
}

# ---- IR-DEP-1: at most 7 levels below the top ----------------------------------------
# d0 is a lone package; dK embeds the signed d(K-1), so its deepest package
# lies K levels below the top.
prev=
for k in 0 1 2 3 4 5 6 7 8; do
	emb=
	[ -z "$prev" ] || emb="{\"sis\": \"$prev\"}"
	pkg d$k "$(printf '0xE00031%02X' $k)" SA "$emb"
	prev=d$k-s.sis
done
# What the parser sees: the nesting depth, every signature of the tree.
depth() { # FILE: the deepest controller's depth by `sisign info --json`
	"$SISIGN" info --json "$1" | python3 -c '
import json, sys
def deepest(c):
    return max([c["depth"]] + [deepest(e) for e in c.get("embedded") or []])
print(deepest(json.load(sys.stdin)["package"]))'
}
check '[ "$(depth d7-s.sis)" = 7 ]' "info --json: d7 nests 7 levels deep"
check '[ "$(depth d8-s.sis)" = 8 ]' "info --json: d8 nests 8 levels deep"
run "$SISIGN" verify d8-s.sis
expect_rc 10 "verify: every controller of d8 self-signed, none broken by the embedding"
chk "IR-DEP-1 keeps: 7 levels below the top" 0 "IR-SIG-5:warning" "IR-DEP-1 IR-SIG-3 IR-SIG-1" -- d7-s.sis
chk "IR-DEP-1 breaks: 8 levels below the top" 14 "IR-DEP-1:error" "IR-SIG-3 IR-SIG-1" -- d8-s.sis
run "$SISIGN" check --json d8-s.sis
python3 - "$T/out" <<'PY' || fail "IR-DEP-1: the JSON finding names the deepest package"
import json, sys
d = json.loads(open(sys.argv[1]).read())
f = [x for x in d['findings'] if x['rule'] == 'IR-DEP-1']
assert len(f) == 1 and f[0]['depth'] == 8 and f[0]['uid'] == '0xe0003100', f
assert 'KErrSISTooDeeplyEmbedded' in f[0]['message'] and f[0]['fix'], f
PY
checks=$((checks + 1))
run "$SISIGN" sign --key self.key --cert self.crt -o d8-again.sis d8.sis
expect_rc 0 "sign: IR-DEP-1 is a warning"
expect_stderr_has "warning: IR-DEP-1 (error)" "sign warns of IR-DEP-1"
run "$SISIGN" sign --strict --key self.key --cert self.crt -o d8-strict.sis d8.sis
expect_rc 14 "sign --strict: IR-DEP-1 refuses"
expect_absent d8-strict.sis "sign --strict writes nothing"

# ---- IR-TYPE-12: one UID under two parents, or two SA of one UID ---------------------
pkg leaf 0xE0003201
pkg mid 0xE0003202 SA '{"sis": "leaf-s.sis"}'
pkg two-parents 0xE0003200 SA '{"sis": "leaf-s.sis"}, {"sis": "mid-s.sis"}'
chk "IR-TYPE-12 breaks: one UID under two parents" 14 "IR-TYPE-12:error" "IR-SIG-3 IR-SIG-1" -- two-parents-s.sis
expect_stdout_has "under two parents" "IR-TYPE-12: which form"
pkg two-sa 0xE0003200 SA '{"sis": "leaf-s.sis"}, {"sis": "leaf-s.sis"}'
chk "IR-TYPE-12 breaks: two SA packages of one UID" 14 "IR-TYPE-12:error" "IR-SIG-3 IR-SIG-1" -- two-sa-s.sis
expect_stdout_has "as two SA packages" "IR-TYPE-12: which form"
# An SA and its SP under one parent: one UID twice, allowed (and the SP's
# base is embedded before it, so IR-TYPE-3 needs nothing installed).  Their
# names differ: an SP named as its planned SA base is KErrInvalidUpgrade
# (the installer's IsPlannedControllerL), a rule sisign does not check.
pkg leaf-sp 0xE0003201 SP
pkg sa-sp 0xE0003200 SA '{"sis": "leaf-s.sis"}, {"sis": "leaf-sp-s.sis"}'
chk "IR-TYPE-12 keeps: an SA and its SP under one parent" 0 "" "IR-TYPE-12 IR-TYPE-3" -- sa-sp-s.sis
pkg distinct 0xE0003200 SA '{"sis": "mid-s.sis"}, {"sis": "d1-s.sis"}'
chk "IR-TYPE-12 keeps: every UID once" 0 "IR-SIG-5:warning" "IR-TYPE-12" -- distinct-s.sis

# ---- IR-SIG-8: a stub that is not PA/PP needs AllowPackagePropagate ----------------------
printf 'AllowPackagePropagate = false\n' >noprop.ini
printf 'AllowPackagePropagate = true\n' >prop.ini
printf 'AllowUnsigned = false\n' >nokey.ini   # the key absent: the code default, false
stub() { # NAME TYPE: a stub with one file on one drive
	mk "$1" "{\"uid\": \"0xE0003300\", \"type\": \"$2\", \"stub\": true,
		\"files\": [{\"target\": \"e:\\\\data\\\\s.txt\", \"data\": \"on the card\\n\"}]}"
	signed "$1"
}
stub stub-sa SA
run "$SISIGN" info --json stub-sa-s.sis
python3 - "$T/out" <<'PY' || fail "info --json: the stub has no data unit, its file no data"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d['header']['data_units'] == 0, d['header']
assert [f['hash'] for f in d['package']['files']] == ['no-data'], d['package']['files']
assert not d['header']['data_crc']['present'], d['header']
PY
checks=$((checks + 1))
run "$SISIGN" info stub-sa-s.sis
expect_stdout_has "Data check:   ok (no file data to check: a stub or preinstalled package)" \
	"info: a stub's data check does not claim hashes it never compared"
chk "IR-SIG-8 breaks: an SA stub, AllowPackagePropagate false" 14 "IR-SIG-8:error" "IR-EXE-9" -- \
	--policy noprop.ini stub-sa-s.sis
chk "IR-SIG-8 breaks: an SA stub, a policy without the key" 14 "IR-SIG-8:error" "" -- --policy nokey.ini stub-sa-s.sis
chk "IR-SIG-8 keeps: an SA stub, the shipped policy" 0 "IR-SIG-5:warning" "IR-SIG-8 IR-EXE-9" -- stub-sa-s.sis
chk "IR-SIG-8 keeps: an SA stub, AllowPackagePropagate true" 0 "" "IR-SIG-8" -- --policy prop.ini stub-sa-s.sis
stub stub-sp SP
chk "IR-SIG-8 breaks: an SP stub" 14 "IR-SIG-8:error IR-TYPE-3:depends" "" -- --policy noprop.ini stub-sp-s.sis
stub stub-pa PA
chk "IR-SIG-8 keeps: a PA stub, AllowPackagePropagate false" 0 "" "IR-SIG-8 IR-EXE-9" -- --policy noprop.ini stub-pa-s.sis
chk "IR-SIG-8 keeps: a PA stub, the shipped policy" 0 "" "IR-SIG-8" -- stub-pa-s.sis
stub stub-pp PP
chk "IR-SIG-8 keeps: a PP stub, AllowPackagePropagate false" 15 "IR-TYPE-4:depends" "IR-SIG-8" -- \
	--policy noprop.ini stub-pp-s.sis
pkg full 0xE0003300
chk "IR-SIG-8 keeps: an SA package with its data" 0 "" "IR-SIG-8" -- --policy noprop.ini full-s.sis
# Not a stub: data units, but none for the embedded package's file.  Its
# data is missing, which the installer refuses (KErrCorrupt), stub or not.
printf '{"uid": "0xE0003301", "files": %s, "embedded": [{"uid": "0xE0003302", "data_index": 5, "files": %s}]}\n' \
	"$(onefile top)" "$(onefile lost)" >lost.json
python3 "$tools/mksis.py" lost.json lost.sis
run "$SISIGN" info lost.sis
expect_rc 4 "info: a package whose data unit is missing"
expect_stdout_has "DATA MISSING" "info: the file without data"
chk "IR-EXE-9 breaks: a missing data unit is no stub" 14 "IR-EXE-9:error" "IR-SIG-8" -- --cert self.crt lost.sis

# ---- the writer's layout against a real embedded package --------------------------------
real="${SISIGN_CORPUS:-}/sis/installationservices/swi/test/trevocation/sisInteg/armv5/ocsprevocation.sis"
if [ -f "$real" ]; then
	# a signed SA with one file embedding one signed SA with one file, as the real one
	pkg emb-child 0xE0003401
	pkg emb 0xE0003400 SA '{"sis": "emb-child-s.sis"}'
	python3 "$tools/mksis.py" --layout "$real" >real.layout
	python3 "$tools/mksis.py" --layout emb-s.sis >emb.layout
	check 'grep -q "^depth 1: " real.layout' "the corpus package has an embedded controller"
	check 'cmp -s real.layout emb.layout' "mksis lays out an embedded package as the corpus does:
$(diff real.layout emb.layout)"
else
	echo "note: no corpus, the layout comparison skipped"
fi

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
