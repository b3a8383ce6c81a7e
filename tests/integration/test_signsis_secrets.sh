#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# signsis and what other users can reach (issue #10 item 12):
#  - a passphrase given as an argument is wiped from the process's command
#    line once read: /proc/PID/cmdline, recorded by the rename probe
#    (tests/tools/rename_probe.c) at the moment the output is renamed into
#    place, must not contain it;
#  - -o -p writes Chain/certN.pem without following a symbolic link, either
#    at Chain/certN.pem or at Chain itself: it refuses, and the link's
#    target is untouched.
# Env: SISIGN (the built CLI), SISIGN_RENAME_PROBE (the probe library).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${SISIGN_RENAME_PROBE:-}" ] || [ ! -f "$SISIGN_RENAME_PROBE" ]; then
	echo "SKIP: \$SISIGN_RENAME_PROBE is not set to the built rename_probe.so"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init signsis-secrets
unset SISIGN_PASS SISIGN_PIN

cd "$T" || exit 1
ln -s "$SISIGN" signsis
SS=$T/signsis
PW=Pr0be-Secret-4711
# The probe is preloaded ahead of an ASan runtime in sanitizer builds.
probe_env=(env "LD_PRELOAD=$SISIGN_RENAME_PROBE" "SISIGN_PROBE_DIR=$T/probe"
	"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl req -new -x509 -key rsa.key -sha256 -days 365 -subj "/CN=signsis secrets/O=sisign" -out rsa.crt 2>/dev/null
openssl pkey -in rsa.key -aes256 -passout "pass:$PW" -out rsa-enc.key 2>/dev/null
printf 'x\n' >f.txt
run "$SISIGN" pack --uid 0xE0001236 --name SS --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"

# ---- 12a: the passphrase argument leaves the command line -------------------
for how in link sub; do
	rm -rf probe out.sis
	mkdir probe
	if [ $how = link ]; then
		run "${probe_env[@]}" "$SS" in.sis out.sis rsa.crt rsa-enc.key "$PW"
	else
		run "${probe_env[@]}" "$SISIGN" signsis in.sis out.sis rsa.crt rsa-enc.key "$PW"
	fi
	expect_rc 0 "$how: sign with a passphrase argument"
	expect_stderr_has "passphrase given on the command line" "$how: warning"
	check '[ -s probe/cmdline ]' "$how: the probe saw the output renamed into place"
	check 'grep -qF "in.sis out.sis rsa.crt rsa-enc.key" probe/cmdline' \
		"$how: recorded command line is this run's: $(cat probe/cmdline 2>/dev/null)"
	check '! grep -qF "$PW" probe/cmdline' \
		"$how: passphrase still in /proc/PID/cmdline while signing: $(cat probe/cmdline 2>/dev/null)"
	run "$SISIGN" verify --trust rsa.crt out.sis
	expect_rc 0 "$how: the output verifies"
done
# too long for the copy: a usage error, nothing written
run "$SS" in.sis long.sis rsa.crt rsa-enc.key "$(head -c 1100 /dev/zero | tr '\0' p)"
expect_rc 4 "over-long passphrase"
expect_stderr_has "passphrase is too long" "over-long passphrase"
expect_absent long.sis "over-long passphrase"

# ---- 12b: Chain/certN.pem never written through a symbolic link -------------
run "$SS" -op out.sis
expect_rc 0 "-op"
check '[ -f Chain/cert1.pem ] && [ ! -L Chain/cert1.pem ]' "-op writes a regular Chain/cert1.pem"
check 'cmp -s <(openssl x509 -in Chain/cert1.pem -outform DER 2>/dev/null) <(openssl x509 -in rsa.crt -outform DER)' \
	"Chain/cert1.pem is the signer certificate"
check '[ -z "$(find Chain -name "*.tmp*")" ]' "no temp file left in Chain"
# a second run replaces the regular file (as signsis did)
echo old > Chain/cert1.pem
run "$SS" -op out.sis
expect_rc 0 "-op over an existing file"
check 'grep -q "BEGIN CERTIFICATE" Chain/cert1.pem' "-op replaced the existing Chain/cert1.pem"

# a planted link at Chain/cert1.pem
echo "victim data" > victim
rm Chain/cert1.pem
ln -s "$T/victim" Chain/cert1.pem
run "$SS" -op out.sis
expect_rc 1 "-op with Chain/cert1.pem a symlink"
expect_stderr_has "Chain/cert1.pem: cert1.pem is a symbolic link, not a regular file; not replacing it" \
	"-op symlinked file: clear message"
check '[ "$(cat victim)" = "victim data" ]' "the symlink's target is untouched"
check '[ -L Chain/cert1.pem ]' "the planted link is left as it was"
expect_stdout_has "Certificate:" "-op still prints the report"

# Chain itself a link to another directory
rm -rf Chain
mkdir elsewhere
ln -s "$T/elsewhere" Chain
run "$SS" -op out.sis
expect_rc 1 "-op with Chain a symlink"
expect_stderr_has "Chain: is a symbolic link or not a directory; not writing into it" "-op symlinked Chain: message"
check '[ -z "$(ls -A elsewhere)" ]' "nothing was written through the Chain link"
# and Chain a regular file
rm Chain
echo x > Chain
run "$SS" -op out.sis
expect_rc 1 "-op with Chain a file"
expect_stderr_has "Chain: is a symbolic link or not a directory" "-op Chain a file: message"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
