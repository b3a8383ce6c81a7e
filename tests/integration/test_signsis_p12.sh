#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The signsis form existing batch scripts use (issue #12 item 8):
#   signsis -i FILE -c CERT.p12 -o OUTDIR -q
# one PKCS#12 file with key and certificate, the password from
# $SISIGN_PASS.  A small Python script loops over three packages calling
# signsis that way; then every output must verify.
# Env: SISIGN (the built CLI).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init signsis-p12
unset SISIGN_PASS SISIGN_PIN
cd "$T" || exit 1
mkdir bin
ln -s "$SISIGN" bin/signsis

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Batch Script Signer" \
	-addext extendedKeyUsage=codeSigning -keyout dev.key -out dev.crt 2>/dev/null
PW='batch-pw-42'
openssl pkcs12 -export -inkey dev.key -in dev.crt -passout "pass:$PW" -out CERT.p12
mkdir in
for n in 1 2 3; do
	printf 'payload %s\n' "$n" >"f$n.txt"
	run "$SISIGN" pack --uid "0xE000124$n" --name "App$n" --vendor V --created 2020-01-01 \
		-f "f$n.txt=!:\\data\\f$n.txt" -o "in/app$n.sis"
	expect_rc 0 "pack app$n"
done

# The batch script, as users have it: signsis on the PATH, the password in
# the environment, one call per package, output collected in a folder.
cat >sign_all.py <<'EOF'
import glob, os, subprocess, sys

failed = 0
for pkg in sorted(glob.glob("in/*.sis")):
    p = subprocess.run(["signsis", "-i", pkg, "-c", "CERT.p12", "-o", "signed", "-q"],
                       capture_output=True, text=True)
    if p.returncode != 0 or p.stdout or p.stderr:
        print("FAILED %s: exit %d, stdout %r, stderr %r" % (pkg, p.returncode, p.stdout, p.stderr))
        failed += 1
    else:
        print("signed " + pkg)
sys.exit(1 if failed else 0)
EOF
PATH=$T/bin:$PATH SISIGN_PASS=$PW run python3 sign_all.py
expect_rc 0 "python loop over three packages"
expect_no_stderr "python loop"
check '[ "$(grep -c "^signed " "$T/out")" -eq 3 ]' "three packages signed"
for n in 1 2 3; do
	run "$SISIGN" verify --trust dev.crt "signed/app$n.sis"
	expect_rc 0 "signed/app$n.sis verifies against the p12's certificate"
	run "$SISIGN" unsign -o "u$n.sis" "signed/app$n.sis"
	check 'cmp -s "u$n.sis" "in/app$n.sis"' "app$n: unsign gives the input back"
done

# Without -q one line per package names the output.
PATH=$T/bin:$PATH SISIGN_PASS=$PW run signsis -i in/app1.sis -c CERT.p12 -o loud
expect_rc 0 "without -q"
expect_stdout_has "loud/app1.sis" "without -q: the output is named"

# A wrong password: signsis's error status, nothing written, no directory.
PATH=$T/bin:$PATH SISIGN_PASS=nope run signsis -i in/app1.sis -c CERT.p12 -o wrongdir -q
expect_rc 1 "wrong password"
expect_stderr_has "CERT.p12: wrong password" "wrong password: names the file"
expect_absent wrongdir "wrong password: no output directory"
# Missing -o, and an output that would be the input itself.
PATH=$T/bin:$PATH SISIGN_PASS=$PW run signsis -i in/app1.sis -c CERT.p12 -q
expect_rc 4 "no -o"
PATH=$T/bin:$PATH SISIGN_PASS=$PW run signsis -i in/app1.sis -c CERT.p12 -o in -q
expect_rc 1 "-o the input's own directory"
run "$SISIGN" verify "in/app1.sis"
expect_rc 11 "the input is still unsigned"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
