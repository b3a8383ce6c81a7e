#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 3: `sisign check` against hand-made packages, one that
# breaks each rule and one that keeps it (docs/check.md), its exit statuses
# (0 would install, 14 would not, 15 depends on the phone), the JSON
# record, `sign` warnings and `sign --strict`.  Executables come from
# tests/tools/mke32.py, developer certificates from openssl with the
# Symbian constraint extensions (install-rules.md §5) as raw DER.
# Env: SISIGN.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PIN SISIGN_PASS
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
S_SRC="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/check.sh"
tu_init check
cd "$T" || exit 1

# ---- certificates ---------------------------------------------------------------
cat >x.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[cs]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = codeSigning
[srv]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
[noeku]
basicConstraints = critical,CA:FALSE
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
[dsid]
extendedKeyUsage = codeSigning
1.2.826.0.1.1796587.1.1.1.4 = DER:3006020410001234
[dvid]
extendedKeyUsage = codeSigning
1.2.826.0.1.1796587.1.1.1.5 = DER:3006020470000001
[dcaps]
extendedKeyUsage = codeSigning
1.2.826.0.1.1796587.1.1.1.6 = DER:0303000001
[ddev]
extendedKeyUsage = codeSigning
1.2.826.0.1.1796587.1.1.1.1 = DER:30070C053132333435
CNF
selfcert() { # NAME SECTION
	openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -subj "/CN=check $1" -days 30 -config x.cnf \
		-extensions $2 -out $1.crt 2>/dev/null
}
selfcert self cs
selfcert srv srv
selfcert noeku noeku
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=check CA" -days 30 -config x.cnf \
	-extensions ca -out ca.crt 2>/dev/null
leafcert() { # NAME SECTION
	openssl req -new -newkey rsa:2048 -nodes -keyout $1.key -subj "/CN=check $1" -config x.cnf -out $1.csr 2>/dev/null
	openssl x509 -req -in $1.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile x.cnf \
		-extensions $2 -out $1.crt 2>/dev/null
}
for n in leaf:cs dsid:dsid dvid:dvid dcaps:dcaps ddev:ddev; do leafcert ${n%%:*} ${n#*:}; done
for f in self srv noeku ca leaf dsid dvid dcaps ddev; do
	[ -s $f.crt ] || { echo "FAIL: openssl could not make $f.crt"; exit 1; }
done

# ---- files ---------------------------------------------------------------------
printf 'check test data\n' >f.txt
printf 'more test data\n' >g.txt
e32() { python3 "$tools/mke32.py" "$@" || { echo "FAIL: mke32.py $*"; exit 1; }; }
e32 --sid 0xE0001234 app.exe
e32 --sid 0xE0001234 --caps ReadUserData capr.exe
e32 --sid 0xE0001234 --caps WriteUserData capw.exe
e32 --sid 0xE0001234 --caps TCB captcb.exe
e32 --sid 0xE0001235 app2.exe
e32 --sid 0xE0001234 dup.exe
e32 --sid 0x10001234 prot.exe
e32 --sid 0x10005555 prot2.exe
e32 --sid 0xE0001234 --vid 0x70000001 vid.exe
e32 --sid 0xE0001234 --vid 0x70000002 vid2.exe
e32 --sid 0xE0001234 --bad-checksum badhdr.exe
e32 --sid 0xE0001234 --flags 0x02100000 vfp.exe
e32 --kind dll --sid 0x10001234 lib.dll

# pack NAME UID [pack options...] -- quietly; a failure to pack is a test failure
pack() {
	local out=$1 uid=$2
	shift 2
	"$SISIGN" pack -q --store --uid "$uid" --name X --vendor V --created 2020-01-01 "$@" -o "$out" 2>pack.err ||
		{ echo "FAIL: pack $out: $(cat pack.err)"; failures=$((failures + 1)); }
}

# chk DESC STATUS 'RULE:SEV ...' 'ABSENT-RULE ...' -- check ARGS...: chk_json
# (lib/check.sh).
chk() { chk_json "$@"; }

S=(--cert self.crt)
# ---- signature and trust (§1) ----------------------------------------------------
pack ok.sis 0xE0001234 -f 'f.txt=!:\data\f.txt'
chk "IR-SIG-1 breaks: unsigned" 14 "IR-SIG-1:error" "" -- ok.sis
printf 'AllowUnsigned = true\n' >allowunsigned.ini
chk "IR-SIG-1 keeps: AllowUnsigned true asks the user" 0 "IR-SIG-1:warning" "" -- --policy allowunsigned.ini ok.sis
chk "IR-SIG-5: self-signed asks the user" 0 "IR-SIG-5:warning" "IR-SIG-1" -- "${S[@]}" ok.sis
chk "IR-SIG-5 keeps: a named trusted root" 0 "" "IR-SIG-5 IR-SIG-1" -- "${S[@]}" --trusted-root self.crt ok.sis
"$SISIGN" sign -q --key self.key --cert self.crt -o signed.sis ok.sis 2>/dev/null
chk "own chain: self-signed" 0 "IR-SIG-5:warning" "IR-SIG-3" -- signed.sis
python3 "$tools/sistamper.py" sig signed.sis badsig.sis
chk "IR-SIG-3 breaks: a signature that does not verify" 14 "IR-SIG-3:error" "" -- badsig.sis
chk "IR-EKU-1 breaks: EKU without code signing" 14 "IR-EKU-1:error" "" -- --cert srv.crt ok.sis
chk "IR-EKU-2 keeps: no EKU at all" 0 "" "IR-EKU-2 IR-EKU-1" -- --cert noeku.crt ok.sis
printf 'MandateCodeSigningExtension = true\n' >mandate.ini
chk "IR-EKU-2 breaks: no EKU, policy mandates it" 14 "IR-EKU-2:error" "" -- --cert noeku.crt --policy mandate.ini ok.sis
printf 'MandatePolicies = true\nOid = 1.2.3.4.5.6\n' >mandpol.ini
chk "IR-EKU-3 breaks: a mandated policy OID missing" 14 "IR-EKU-3:error" "" -- "${S[@]}" --policy mandpol.ini ok.sis
chk "IR-SIG-4 breaks: certificate not yet valid at --at" 14 "IR-SIG-4:error" "" -- "${S[@]}" --at 2001-01-01 ok.sis
chk "certstore: a chain below a root not in the package" 0 "IR-SIG-5:warning" "" -- --cert leaf.crt ok.sis
chk "IR-SIG-6: developer certificate warning" 0 "IR-SIG-6:warning" "" -- --cert dsid.crt ok.sis

# ---- package UID (§2) -----------------------------------------------------------------
pack prot.sis 0x10001234 -f 'f.txt=!:\data\f.txt'
chk "IR-UID-1 breaks: protected UID, self-signed" 14 "IR-UID-1:error" "" -- "${S[@]}" prot.sis
chk "IR-UID-1 depends: protected UID, chain to an unknown root" 15 "IR-UID-1:depends" "" -- --cert leaf.crt prot.sis
chk "IR-UID-1 keeps: protected UID, trusted root" 0 "" "IR-UID-1" -- --cert leaf.crt --trusted-root ca.crt prot.sis
chk "IR-UID-1 keeps: unprotected UID" 0 "" "IR-UID-1" -- "${S[@]}" ok.sis
pack prot2.sis 0x10005555 -f 'f.txt=!:\data\f.txt'
chk "IR-UID-2 breaks: protected UID not in the SID list" 14 "IR-UID-2:error" "" -- --cert dsid.crt --trusted-root ca.crt prot2.sis
chk "IR-UID-2 keeps: protected UID in the SID list" 0 "" "IR-UID-2 IR-UID-1" -- --cert dsid.crt --trusted-root ca.crt prot.sis
chk "IR-DEV-1 depends: a device-ID list" 15 "IR-DEV-1:depends" "" -- --cert ddev.crt ok.sis
chk "IR-DEV-1 keeps: no device-ID list" 0 "" "IR-DEV-1" -- --cert leaf.crt ok.sis

# ---- paths (§6.1) ---------------------------------------------------------------------
pack p1.sis 0xE0001234 -f 'f.txt=data\f.txt'
chk "IR-PATH-1 breaks: no drive" 14 "IR-PATH-1:error" "" -- "${S[@]}" p1.sis
chk "IR-PATH-1 keeps" 0 "" "IR-PATH-1 IR-PATH-2 IR-PATH-3 IR-PATH-4" -- "${S[@]}" ok.sis
pack p2.sis 0xE0001234 -f 'f.txt=!:\data\..\f.txt'
chk "IR-PATH-2 breaks: ..\\" 14 "IR-PATH-2:error" "" -- "${S[@]}" p2.sis
pack p3.sis 0xE0001234 -f 'f.txt=c:\resource\swicertstore\dat\f.txt'
chk "IR-PATH-3 breaks: the certstore" 14 "IR-PATH-3:error" "" -- "${S[@]}" p3.sis
cp app.exe 'ä.exe'
pack p4.sis 0xE0001234 -f 'ä.exe=!:\sys\bin\ä.exe'
chk "IR-PATH-4 breaks: non-ASCII name in \\sys\\bin" 14 "IR-PATH-4:error" "" -- "${S[@]}" p4.sis
pack p7.sis 0xE0001234 --type PA -f 'f.txt=c:\data\f.txt' -f 'g.txt=e:\data\g.txt'
chk "IR-PATH-7 breaks: a PA package on two drives" 14 "IR-PATH-7:error" "" -- "${S[@]}" p7.sis
pack p7ok.sis 0xE0001234 --type PA -f 'f.txt=e:\data\f.txt' -f 'g.txt=e:\data\g.txt'
chk "IR-PATH-7 keeps: one drive" 0 "" "IR-PATH-7" -- "${S[@]}" p7ok.sis

# ---- data caging (§6.2) -----------------------------------------------------------------
pack c1.sis 0xE0001234 -f 'f.txt=!:\private\x.txt'
chk "IR-CAGE-1 breaks: no SID after \\private\\" 14 "IR-CAGE-1:error" "" -- "${S[@]}" c1.sis
pack c2.sis 0xE0001234 -f 'f.txt=!:\private\E0001234\f.txt'
chk "IR-CAGE-2 breaks: no EXE with that SID" 14 "IR-CAGE-2:error" "" -- "${S[@]}" c2.sis
pack c2imp.sis 0xE0001234 -f 'f.txt=!:\private\E0001234\import\f.txt'
chk "IR-CAGE-2 keeps: the import directory" 0 "" "IR-CAGE-2" -- "${S[@]}" c2imp.sis
pack c2own.sis 0xE0001234 -f 'f.txt=!:\private\E0001234\f.txt' -f 'app.exe=!:\sys\bin\app.exe'
chk "IR-CAGE-2 keeps: the package's own EXE" 0 "" "IR-CAGE-2 IR-EXE-1" -- "${S[@]}" c2own.sis
pack c2dll.sis 0xE0001234 -f 'f.txt=!:\private\10001234\f.txt' -f 'lib.dll=!:\sys\bin\lib.dll'
chk "IR-CAGE-2 breaks: a DLL's SID owns no cage" 14 "IR-CAGE-2:error" "IR-EXE-8" -- "${S[@]}" c2dll.sis
pack c2sp.sis 0xE0001234 --type SP -f 'f.txt=!:\private\E0001234\f.txt'
chk "IR-CAGE-2 depends: an SP's base may own the SID" 15 "IR-CAGE-2:depends IR-TYPE-3:depends" "" -- "${S[@]}" c2sp.sis
pack c3.sis 0xE0001234 -f 'f.txt=!:\sys\data\f.txt'
chk "IR-CAGE-3 breaks: a \\sys subdirectory" 14 "IR-CAGE-3:error" "" -- "${S[@]}" c3.sis
pack c3fn.sis 0xE0001234 -f 'f.txt=!:\resource\f.txt' -f 'app.exe=!:\sys\bin\app.exe'
python3 "$tools/sispatch.py" fn c3fn.sis c3fnx.sis app.exe
chk "IR-CAGE-3 breaks: FN in \\sys\\bin" 14 "IR-CAGE-3:error" "" -- "${S[@]}" c3fnx.sis
chk "IR-CAGE-3/4 keep: install in \\sys\\bin and \\resource" 0 "" "IR-CAGE-3 IR-CAGE-4" -- "${S[@]}" c3fn.sis
python3 "$tools/sispatch.py" fn c3fn.sis c4fn.sis f.txt
chk "IR-CAGE-4 breaks: FN in \\resource" 14 "IR-CAGE-4:error" "" -- "${S[@]}" c4fn.sis

# ---- executables (§3) --------------------------------------------------------------------
pack e1.sis 0xE0001234 -f 'f.txt=!:\sys\bin\f.txt' 
chk "IR-EXE-1 breaks: a text file in \\sys\\bin" 14 "IR-EXE-1:error" "" -- "${S[@]}" e1.sis
pack e2.sis 0xE0001234 -f 'badhdr.exe=!:\sys\bin\badhdr.exe'
chk "IR-EXE-2 breaks: bad UID checksum" 14 "IR-EXE-2:error" "" -- "${S[@]}" e2.sis
pack e3.sis 0xE0001234 -f 'vfp.exe=!:\sys\bin\vfp.exe'
chk "IR-EXE-3 depends: VFPv2" 15 "IR-EXE-3:depends" "" -- "${S[@]}" e3.sis
pack e4.sis 0xE0001234 -f 'capr.exe=!:\sys\bin\capr.exe'
chk "IR-EXE-4 keeps: caps as in the header" 0 "IR-CAP-3:warning" "IR-EXE-4" -- "${S[@]}" e4.sis
python3 "$tools/sispatch.py" data+hash e4.sis e4x.sis capr.exe 0x88 00000000
chk "IR-EXE-4 breaks: header patched after packing" 14 "IR-EXE-4:error" "" -- "${S[@]}" e4x.sis
pack e5.sis 0xE0001234 -f 'vid.exe=!:\sys\bin\vid.exe'
pack e5x.sis 0xE0001234 -f 'vid2.exe=!:\sys\bin\vid2.exe'
chk "IR-EXE-5 keeps: VID in the list" 0 "" "IR-EXE-5 IR-EXE-6" -- --cert dvid.crt --trusted-root ca.crt e5.sis
chk "IR-EXE-5 breaks: VID not in the list" 14 "IR-EXE-5:error" "" -- --cert dvid.crt --trusted-root ca.crt e5x.sis
chk "IR-EXE-6 breaks: VID, self-signed" 14 "IR-EXE-6:error" "" -- "${S[@]}" e5.sis
chk "IR-EXE-6 keeps: VID 0" 0 "" "IR-EXE-6" -- "${S[@]}" c2own.sis
pack e7.sis 0xE0001234 -f 'prot.exe=!:\sys\bin\prot.exe'
pack e7x.sis 0xE0001234 -f 'prot2.exe=!:\sys\bin\prot2.exe'
chk "IR-EXE-7 keeps: SID in the list" 0 "" "IR-EXE-7 IR-EXE-8" -- --cert dsid.crt --trusted-root ca.crt e7.sis
chk "IR-EXE-7 breaks: SID not in the list" 14 "IR-EXE-7:error" "" -- --cert dsid.crt --trusted-root ca.crt e7x.sis
chk "IR-EXE-8 breaks: protected SID, self-signed" 14 "IR-EXE-8:error" "" -- "${S[@]}" e7.sis
chk "IR-EXE-8 depends: protected SID, unknown root" 15 "IR-EXE-8:depends" "" -- --cert leaf.crt e7.sis
python3 "$tools/sispatch.py" data c2own.sis e9.sis app.exe 0x90 41
chk "IR-EXE-9 breaks: data does not match its hash" 14 "IR-EXE-9:error" "" -- "${S[@]}" e9.sis
chk "IR-EXE-9 keeps" 0 "" "IR-EXE-9" -- "${S[@]}" c2own.sis
pack sid4.sis 0xE0001234 -f 'app.exe=!:\sys\bin\app.exe' -f 'dup.exe=!:\sys\bin\dup.exe'
chk "IR-SID-4 breaks: two EXEs, one SID" 14 "IR-SID-4:error" "" -- "${S[@]}" sid4.sis
pack sid4ok.sis 0xE0001234 -f 'app.exe=!:\sys\bin\app.exe' -f 'app2.exe=!:\sys\bin\app2.exe'
chk "IR-SID-4 keeps: two SIDs" 0 "" "IR-SID-4" -- "${S[@]}" sid4ok.sis

# ---- capabilities (§4) ----------------------------------------------------------------------
pack cap1.sis 0xE0001234 -f 'captcb.exe=!:\sys\bin\captcb.exe'
chk "IR-CAP-1 breaks: TCB, self-signed" 14 "IR-CAP-1:error" "" -- "${S[@]}" cap1.sis
chk "IR-CAP-1 depends: TCB, unknown root" 15 "IR-CAP-1:depends" "" -- --cert leaf.crt cap1.sis
chk "IR-CAP-1 keeps: TCB, a root that grants it" 0 "" "IR-CAP-1 IR-CAP-3" -- --cert leaf.crt --trusted-root ca.crt=TCB cap1.sis
chk "IR-CAP-1 breaks: a root that grants other capabilities" 14 "IR-CAP-1:error" "" -- --cert leaf.crt --trusted-root ca.crt=AllFiles,DRM cap1.sis
pack upsdir.sis 0xE0001234 -f 'f.txt=!:\private\10283558\import\f.txt'
chk "IR-CAP-1 breaks: UPS policy directory adds AllFiles (IR-CAGE-6)" 14 "IR-CAP-1:error" "" -- "${S[@]}" upsdir.sis
printf 'AllowGrantUserCapabilities = false\nUserCapabilities = ReadUserData\n' >nogrant.ini
chk "IR-CAP-2 breaks: the policy lets nobody grant" 14 "IR-CAP-2:error" "" -- "${S[@]}" --policy nogrant.ini e4.sis
chk "IR-CAP-2 keeps: shipped policy" 0 "IR-CAP-3:warning" "IR-CAP-2" -- "${S[@]}" e4.sis
printf 'UserCapabilities = ReadUserData TCB\n' >usertcb.ini
chk "IR-CAP-4: TCB never user-grantable" 14 "IR-CAP-1:error" "" -- "${S[@]}" --policy usertcb.ini cap1.sis
pack cap3.sis 0xE0001234 -f 'capw.exe=!:\sys\bin\capw.exe'
chk "IR-CAP-3 breaks: outside the developer certificate's set" 14 "IR-CAP-3:error" "" -- --cert dcaps.crt cap3.sis
chk "IR-CAP-3 keeps (asks): inside the set" 0 "IR-CAP-3:warning" "" -- --cert dcaps.crt e4.sis

# ---- types --------------------------------------------------------------------------------------
pack t3.sis 0xE0001234 --type PU -f 'f.txt=!:\data\f.txt'
chk "IR-TYPE-3 depends: PU needs its base" 15 "IR-TYPE-3:depends" "" -- "${S[@]}" t3.sis
pack t4.sis 0xE0001234 --type PP -f 'f.txt=e:\data\f.txt'
chk "IR-TYPE-4 depends: PP needs its base" 15 "IR-TYPE-4:depends" "" -- "${S[@]}" t4.sis
chk "IR-TYPE-3/4 keep: SA" 0 "" "IR-TYPE-3 IR-TYPE-4" -- "${S[@]}" ok.sis

# ---- output and statuses ---------------------------------------------------------------------
run "$SISIGN" check "${S[@]}" c2.sis
expect_rc 14 "text: would not install"
expect_stdout_has "would not install" "text verdict"
expect_stdout_has "error    IR-CAGE-2" "text finding"
expect_stdout_has "fix: include the EXE with that SID" "text fix"
run "$SISIGN" check --cert leaf.crt prot.sis
expect_rc 15 "text: depends"
expect_stdout_has "depends on: CS" "text lists the device state"
run "$SISIGN" check "${S[@]}" ok.sis c2.sis prot.sis
expect_rc 14 "several: would-not beats the rest"
run "$SISIGN" check "${S[@]}" c2.sis c2.sis
check '[ "$(grep -c "the rules: " "$T/err")" -eq 1 ]' "several with findings: the pointer to the rules printed once, not per package"
run "$SISIGN" check --cert leaf.crt ok.sis prot.sis
expect_rc 15 "several: depends beats would install"
run "$SISIGN" check "${S[@]}" ok.sis missing.sis
expect_rc 12 "several: one unreadable"
run "$SISIGN" check "${S[@]}" f.txt
expect_rc 4 "not a package"
run "$SISIGN" check --cert f.txt ok.sis
expect_rc 5 "unreadable certificate"
run "$SISIGN" check --policy missing.ini ok.sis
expect_rc 3 "missing policy file"
printf 'AllowUnsigned\n' >corrupt.ini
run "$SISIGN" check --policy corrupt.ini ok.sis
expect_rc 4 "corrupt policy file (KErrPolicyFileCorrupt)"
run "$SISIGN" check --trusted-root ca.crt=NoSuchCap ok.sis
expect_rc 2 "unknown capability"
run "$SISIGN" check --json --cert leaf.crt prot.sis
python3 - "$T/out" <<'PY' || fail "JSON record"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d['command'] == 'check' and d['exit'] == 15 and d['verdict'] == 'depends', d
assert d['trust'] == 'certstore' and d['depends_on'] == ['CS'], d
f = [x for x in d['findings'] if x['rule'] == 'IR-UID-1'][0]
assert f['severity'] == 'depends' and f['needs'] == 'CS' and f['uid'] == '0x10001234' and f['fix'], f
PY
checks=$((checks + 1))

# ---- sign: warnings, --strict ------------------------------------------------------------------
run "$SISIGN" sign --key self.key --cert self.crt -o c2s.sis c2.sis
expect_rc 0 "sign: findings are warnings"
expect_stderr_has "warning: IR-CAGE-2 (error)" "sign warns"
check '[ -s c2s.sis ]' "sign wrote its output"
run "$SISIGN" sign --strict --key self.key --cert self.crt -o c2t.sis c2.sis
expect_rc 14 "sign --strict: would not install"
expect_stderr_has "error: IR-CAGE-2" "sign --strict names the rule"
expect_absent c2t.sis "sign --strict writes nothing"
run "$SISIGN" sign --strict --key self.key --cert self.crt -o c2owns.sis c2own.sis
expect_rc 0 "sign --strict: a package that installs"
check '[ -s c2owns.sis ]' "sign --strict wrote it"
run "$SISIGN" check c2owns.sis
expect_rc 0 "check of the signed output"

# ---- help, README and docs/check.md explain every rule --------------------------------------
run "$SISIGN" help check
expect_rc 0 "help check"
expect_stdout_has "docs/check.md" "help check links the doc"
awk '/^Rules/{f=1;next} /^Not checked/{f=0} f' "$T/out" >rules.txt
check '[ "$(wc -l <rules.txt)" -ge 30 ]' "help check lists the rules"
while read -r id text; do
	checks=$((checks + 1))
	grep -qxF -- "- \`$id\` $text" "$S_SRC/README.md" || fail "README.md lacks the line for $id as help says it"
	checks=$((checks + 1))
	grep -qF -- "**$id**" "$S_SRC/docs/check.md" || fail "docs/check.md does not explain $id"
done <rules.txt
check 'grep -qF "(docs/check.md)" "$S_SRC/README.md"' "README links docs/check.md"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
