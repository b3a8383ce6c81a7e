#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PINs and passphrases (issue #10 items 2-5), with the mock PKCS#11 module
# (tests/mock/mock_p11.c: token "sisign mock", PIN 1234, key "mockkey"),
# whose call log counts C_Login.  Env: SISIGN, MOCK_P11_MODULE.
#   2  a PIN never reaches stdout, stderr, JSON or the audit log
#   3  --pin-fd / --pin-file / $SISIGN_PIN outrank the URI's pin-source and
#      pin-value
#   4  empty, NUL-holding or multi-line secrets are refused (exit 7 for a
#      PIN) before any C_Login
#   5  a process holding a PIN has no core limit, is not dumpable and no
#      longer shows $SISIGN_PIN in /proc/PID/environ
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${MOCK_P11_MODULE:-}" ] || [ ! -r "$MOCK_P11_MODULE" ]; then
	echo "SKIP: MOCK_P11_MODULE not set (run via ctest)"
	exit 77
fi
M=$MOCK_P11_MODULE
unset SISIGN_PIN SISIGN_PASS MOCK_P11_MODE

. "$(dirname "$0")/lib/common.sh"
tu_init pin-secrets
cd "$T" || exit 1
export MOCK_P11_LOG="$T/mock.log"
logins() { if [ -f "$MOCK_P11_LOG" ]; then grep -c '^login 1' "$MOCK_P11_LOG"; else echo 0; fi; }
reset_log() { rm -f "$MOCK_P11_LOG"; }

KEY='pkcs11:token=sisign%20mock;object=mockkey;type=private'
MARK=PinMark4711q
printf 'x\n' >f.txt
run "$SISIGN" pack --uid 0xE0001236 --name P --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"
no_marker() { # DESC FILES...
	local d=$1; shift
	checks=$((checks + 1))
	if grep -qaF -- "$MARK" "$T/out" "$T/err" "$@" 2>/dev/null; then fail "$d: the PIN $MARK was printed"; fi
}

# ---- 2: the PIN is never printed ------------------------------------------
reset_log
run "$SISIGN" sign --key "$KEY?pin-value=$MARK" --module "$M" -o o1.sis in.sis
expect_rc 7 "pin-value refused (exit 7, a PIN problem)"
expect_stderr_has "pin-value" "pin-value refusal says why"
no_marker "pin-value refusal"
check '[ "$(logins)" = 0 ]' "pin-value refusal: no C_Login"
run "$SISIGN" sign --key "$KEY?pin-value=$MARK" --allow-pin-in-uri --module "$M" -o o2.sis in.sis
expect_rc 7 "wrong pin-value"
expect_stderr_has "wrong PIN" "wrong pin-value"
no_marker "wrong pin-value"
run "$SISIGN" sign --key "pkcs11:token=nope;object=mockkey?pin-value=$MARK" --allow-pin-in-uri --module "$M" \
	-o o3.sis in.sis
expect_rc 6 "unknown token"
no_marker "unknown token"
printf '1234\n' >right.pin; chmod 600 right.pin
run "$SISIGN" sign --key "pkcs11:token=sisign%20mock;object=nope?pin-value=$MARK" --allow-pin-in-uri \
	--pin-file right.pin --module "$M" -o o4.sis in.sis
expect_rc 6 "no matching key"
no_marker "no matching key"
run "$SISIGN" keys --allow-pin-in-uri --module "$M" "pkcs11:token=sisign%20mock?pin-value=$MARK"
expect_rc 7 "keys with a wrong pin-value"
no_marker "keys with a wrong pin-value"
mkdir bin && cp in.sis bin/
run "$SISIGN" sign --key "$KEY?pin-value=$MARK" --allow-pin-in-uri --module "$M" --json \
	--audit-log audit.log -r --out-dir bout bin
check '[ "$rc" -ne 0 ]' "batch with a wrong pin-value fails"
no_marker "batch --json / --audit-log" audit.log
run "$SISIGN" sign --key "$KEY?pin-value=$MARK" --module "$M" --json --audit-log audit.log -r --out-dir bout bin
expect_rc 7 "batch: pin-value refused"
no_marker "batch: pin-value refused" audit.log

# ---- 3: explicit PIN sources outrank the URI -------------------------------
printf '9999\n' >wrong.pin; chmod 600 wrong.pin
reset_log
run env SISIGN_PIN=1234 "$SISIGN" sign --key "$KEY?pin-value=9999" --allow-pin-in-uri --module "$M" -o p1.sis in.sis
expect_rc 0 "\$SISIGN_PIN beats pin-value"
check '[ "$(logins)" = 1 ]' "\$SISIGN_PIN beats pin-value: one login"
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/wrong.pin" --pin-file right.pin --module "$M" -o p2.sis in.sis
expect_rc 0 "--pin-file beats pin-source"
"$SISIGN" sign --key "$KEY?pin-source=file:$T/wrong.pin" --pin-fd 3 --module "$M" -o p3.sis in.sis \
	3<right.pin >"$T/out" 2>"$T/err" </dev/null; rc=$?
expect_rc 0 "--pin-fd beats pin-source"
reset_log
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/right.pin" --module "$M" -o p4.sis in.sis
expect_rc 0 "pin-source alone"
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/wrong.pin" --module "$M" -o p5.sis in.sis
expect_rc 7 "a wrong pin-source alone is used (and fails once)"
check '[ "$(logins)" = 2 ]' "one login per run"

# ---- 4: malformed secrets never reach C_Login ------------------------------
bad_pin() { # DESC, then the sisign sign options
	local d=$1; shift
	reset_log
	"$SISIGN" sign --key "$KEY" --module "$M" -o bad.sis "$@" in.sis >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	expect_rc 7 "$d"
	check '[ "$(logins)" = 0 ]' "$d: no C_Login"
	expect_absent bad.sis "$d"
}
: >empty.pin; chmod 600 empty.pin
printf '1234\n5678\n' >two.pin; chmod 600 two.pin
printf '1234\0junk' >nul.pin; chmod 600 nul.pin
printf '\n' >nl.pin; chmod 600 nl.pin
bad_pin "empty --pin-file" --pin-file empty.pin
expect_stderr_has "empty" "empty --pin-file says why"
bad_pin "--pin-file with two lines" --pin-file two.pin
expect_stderr_has "more than one line" "two-line pin file says why"
bad_pin "--pin-file with a NUL" --pin-file nul.pin
expect_stderr_has "NUL" "NUL pin file says why"
bad_pin "--pin-file with only a newline" --pin-file nl.pin
reset_log
"$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o bad.sis in.sis 3</dev/null >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 7 "--pin-fd at end of file"
check '[ "$(logins)" = 0 ]' "--pin-fd at end of file: no C_Login"
reset_log
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/two.pin" --module "$M" -o bad.sis in.sis
expect_rc 7 "pin-source with two lines"
check '[ "$(logins)" = 0 ]' "pin-source with two lines: no C_Login"
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/empty.pin" --module "$M" -o bad.sis in.sis
expect_rc 7 "empty pin-source"
# A FIFO as pin-source is refused at once, not waited on.
mkfifo pin.fifo
reset_log
run timeout 10 "$SISIGN" sign --key "$KEY?pin-source=file:$T/pin.fifo" --module "$M" -o bad.sis in.sis
expect_rc 7 "pin-source naming a FIFO is refused without blocking"
expect_stderr_has "not a regular file" "pin-source FIFO says why"
check '[ "$(logins)" = 0 ]' "pin-source FIFO: no C_Login"
chmod 644 right.pin
run "$SISIGN" sign --key "$KEY?pin-source=file:$T/right.pin" --module "$M" -o bad.sis in.sis
expect_rc 7 "pin-source readable by others (exit 7, as for --pin-file)"
chmod 600 right.pin
# Passphrases follow the same rule (exit 5, a key problem).
if command -v openssl >/dev/null; then
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -aes-128-cbc -pass pass:secret -out enc.key 2>/dev/null
	openssl req -new -x509 -key enc.key -passin pass:secret -subj /CN=t -days 30 -out enc.crt 2>/dev/null
	printf 'secret\nsecret\n' >two.pass; chmod 600 two.pass
	run "$SISIGN" sign --key enc.key --cert enc.crt --pass-file two.pass -o bad.sis in.sis
	expect_rc 5 "two-line passphrase file"
	expect_stderr_has "more than one line" "two-line passphrase file says why"
	printf 'secret\n' >ok.pass; chmod 600 ok.pass
	run "$SISIGN" sign --key enc.key --cert enc.crt --pass-file ok.pass -o good.sis in.sis
	expect_rc 0 "one-line passphrase file"
fi

# ---- 5: a process holding a PIN ------------------------------------------
ulimit -S -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)" 2>/dev/null
env SISIGN_PIN=$MARK "$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o slow.sis in.sis \
	3< <(sleep 3; printf '1234\n') >"$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 1
check 'grep -q "^Max core file size *0 *0 " /proc/$pid/limits' "core dumps off while the PIN is read"
checks=$((checks + 1))
if grep -qaF "$MARK" /proc/$pid/environ 2>/dev/null; then fail "\$SISIGN_PIN still readable in /proc/PID/environ"; fi
if [ "$(id -u)" != 0 ]; then
	# A non-dumpable process's /proc files belong to root.
	check '[ "$(stat -c %u /proc/$pid/environ)" = 0 ]' "process not dumpable while it holds a PIN"
fi
wait $pid; rc=$?
expect_rc 0 "slow --pin-fd run"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
