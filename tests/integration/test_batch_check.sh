#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 3: a batch `sisign sign` (several inputs, --out-dir,
# --suffix, --in-place, --json, --dry-run) runs the install rules of
# `sisign check` on every package it signs, as one package does: the
# findings are printed as warnings naming the file and the rule, carried by
# the JSON records (install_check), and with --strict exactly the packages
# the installer would refuse fail (exit 14 in their record, nothing written
# for them) while the others are signed; the run exits 12 (some signed) or
# 14 (none).  Packages are made with `sisign pack` and tests/tools/mke32.py.
# Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PIN SISIGN_PASS
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
. "$(dirname "$0")/lib/common.sh"
tu_init batch-check
cd "$T" || exit 1

tu_codesign_cert self "batch check"
K=(--key self.key --cert self.crt)
printf 'batch check data\n' >f.txt
python3 "$tools/mke32.py" --sid 0xE0001234 app.exe || { echo "FAIL: mke32.py"; exit 1; }
pack() { # OUT UID FILE-SPEC...
	local out=$1 uid=$2
	shift 2
	local args=()
	for f in "$@"; do args+=(-f "$f"); done
	"$SISIGN" pack -q --store --uid "$uid" --name X --vendor V --created 2020-01-01 "${args[@]}" -o "$out" ||
		{ echo "FAIL: pack $out"; exit 1; }
}
# cage.sis writes into \private\E0001234\ and has no EXE with that SID
# (IR-CAGE-2: the installer refuses it); ok1/ok2 would install.
mkdir in
pack in/cage.sis 0xE0001234 'f.txt=!:\private\E0001234\f.txt'
pack in/ok1.sis 0xE0001234 'f.txt=!:\private\E0001234\f.txt' 'app.exe=!:\sys\bin\app.exe'
pack in/ok2.sis 0xE0001235 'f.txt=!:\data\f.txt'
ins=(in/ok1.sis in/cage.sis in/ok2.sis)

# ---- without --strict: warnings, everything written --------------------------------------------
run "$SISIGN" sign "${K[@]}" -q --out-dir o1 "${ins[@]}"
expect_rc 0 "batch: findings are warnings"
expect_stderr_has 'in/cage.sis: warning: IR-CAGE-2 (error): !:\private\E0001234\f.txt: would fail with' \
	"batch names the file and the rule"
expect_stderr_has "in/cage.sis: the installer would refuse the signed package; see 'sisign check'" \
	"batch says the package would be refused"
check '! grep -q "ok[12].sis: warning" "$T/err"' "no warning for the packages that install"
for n in ok1 cage ok2; do check "[ -s o1/in/$n.sis ]" "batch wrote $n"; done
run "$SISIGN" check o1/in/cage.sis
expect_rc 14 "the written package is the one check refuses"

# -v also shows the prompts (warning severity), as one package does
run "$SISIGN" sign "${K[@]}" -v --suffix _v in/ok2.sis in/ok1.sis
expect_rc 0 "batch -v"
expect_stderr_has "in/ok2.sis: warning: IR-SIG-5 (warning)" "batch -v shows the prompts"

# ---- --strict: exactly the refused package fails ---------------------------------------------------
run "$SISIGN" sign "${K[@]}" -q --strict --out-dir o2 "${ins[@]}"
expect_rc 12 "batch --strict: one refused, others signed"
expect_stderr_has 'in/cage.sis: error: IR-CAGE-2 (error): !:\private\E0001234\f.txt' "--strict names the rule"
expect_stderr_has "in/cage.sis: the installer would refuse the signed package (IR-CAGE-2): nothing written" \
	"--strict says nothing was written"
expect_absent o2/in/cage.sis "--strict wrote nothing for the refused package"
check '[ -s o2/in/ok1.sis ] && [ -s o2/in/ok2.sis ]' "--strict signed the others"
check '[ "$(ls -A o2/in | wc -l)" -eq 2 ]' "--strict left no temp file"
run "$SISIGN" check o2/in/ok1.sis o2/in/ok2.sis
expect_rc 0 "the packages --strict wrote would install"

cp in/cage.sis cage2.sis
run "$SISIGN" sign "${K[@]}" -q --strict --out-dir o3 in/cage.sis cage2.sis
expect_rc 14 "batch --strict: every package refused"
check '[ ! -e o3/in/cage.sis ] && [ ! -e o3/cage2.sis ]' "nothing written when all are refused"

# in place: the refused input is left as it was
cp -r in ip
cp ip/cage.sis cage.orig
run "$SISIGN" sign "${K[@]}" -q --strict --in-place ip/ok2.sis ip/cage.sis
expect_rc 12 "--in-place --strict"
check 'cmp -s ip/cage.sis cage.orig' "--in-place --strict leaves the refused input unchanged"
run "$SISIGN" verify ip/ok2.sis
expect_rc 10 "--in-place --strict signed the other"

# ---- JSON ---------------------------------------------------------------------------------------------
run "$SISIGN" sign "${K[@]}" -q --strict --json --out-dir o4 "${ins[@]}"
expect_rc 12 "batch --strict --json"
checks=$((checks + 1))
python3 - "$T/out" <<'PY' || fail "JSON records carry the findings"
import json, sys
recs = {r["input"]: r for r in map(json.loads, open(sys.argv[1]))}
assert set(recs) == {"in/ok1.sis", "in/cage.sis", "in/ok2.sis"}, recs.keys()
c = recs["in/cage.sis"]
assert (c["status"], c["exit"], c["output"]) == ("error", 14, None), c
assert c["error"]["exit"] == 14, c
assert c["install_check"]["verdict"] == "would_not_install", c
errs = [f for f in c["install_check"]["findings"] if f["severity"] == "error"]
assert [(f["rule"], f["file"]) for f in errs] == [("IR-CAGE-2", "!:\\private\\E0001234\\f.txt")], errs
for n in ("in/ok1.sis", "in/ok2.sis"):
    r = recs[n]
    assert (r["status"], r["exit"], r["install_check"]["verdict"]) == ("done", 0, "installs"), r
    assert all(f["severity"] == "warning" for f in r["install_check"]["findings"]), r
PY
# The audit log holds the same records (and no "writing" record for the refused one)
run "$SISIGN" sign "${K[@]}" -q --strict --audit-log audit.jsonl --out-dir o5 "${ins[@]}"
expect_rc 12 "batch --strict --audit-log"
checks=$((checks + 1))
python3 - audit.jsonl <<'PY' || fail "audit log records the findings"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
cage = [r for r in recs if r.get("input") == "in/cage.sis"]
assert [r["status"] for r in cage] == ["error"], cage
assert cage[0]["install_check"]["verdict"] == "would_not_install", cage
PY

# ---- --dry-run: the rules as each package would be signed -------------------------------------------
ls -A in >before.ls
run "$SISIGN" sign "${K[@]}" -q --strict --dry-run --json "${ins[@]}"
expect_rc 12 "dry run --strict: one would be refused"
checks=$((checks + 1))
python3 - "$T/out" <<'PY' || fail "dry run: findings"
import json, sys
recs = {r["input"]: r for r in map(json.loads, open(sys.argv[1]))}
assert (recs["in/cage.sis"]["status"], recs["in/cage.sis"]["exit"]) == ("error", 14), recs["in/cage.sis"]
assert recs["in/ok1.sis"]["status"] == "checked" and recs["in/ok1.sis"]["install_check"]["verdict"] == "installs"
PY
check 'ls -A in | cmp -s - before.ls' "dry run wrote nothing"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
