#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #14 item 1: `--token-sessions N` keeps N signatures in flight on one
# token login.  The batch signs through tests/mock/delay_p11.c, which
# forwards to SoftHSM, delays each C_Sign and logs what it saw: the most
# signatures in flight at once, every C_Login, every C_Sign.  Checks: the
# module forwards correctly (every output verifies); N = 4 has exactly 4
# signatures in flight at some point, N = 1 never more than 1, both with ONE
# C_Login; the deprecated --parallel-token means as many as -j; a bad N is a
# usage error that writes nothing.  No timing is asserted (the delay only
# makes the overlap certain).
# Env: SISIGN, DELAY_P11_SO (the built delay module), SOFTHSM2_MODULE.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${DELAY_P11_SO:-}" ] || [ ! -r "$DELAY_P11_SO" ]; then
	echo "SKIP: \$DELAY_P11_SO is not set to the built delay module (run via ctest)"
	exit 77
fi
export SOFTHSM2_MODULE=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r "$SOFTHSM2_MODULE" ] || { echo "SKIP: SoftHSM module $SOFTHSM2_MODULE not found"; exit 77; }
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not found"; exit 77; }
SRC=${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SISIGN_PIN=1234

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-token-sessions.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() {
	echo "FAIL: $*"
	echo "  stderr: $(head -c 800 "$T/err")"
	failures=$((failures + 1))
}
check() { checks=$((checks + 1)); "$@" || fail "check: $*"; }

SISIGN=$SISIGN "$SRC/softhsm-config/make-token.sh" "$T/hsm" sessions > /dev/null 2> "$T/err" ||
	{ echo "FAIL: make-token.sh: $(cat "$T/err")"; exit 1; }
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
URI='pkcs11:token=sessions;object=sisign;type=private'
N=12
mkdir -p "$T/in"
echo "sessions payload" > "$T/src.txt"
for i in $(seq 1 $N); do
	"$SISIGN" pack --uid $((0xE0000500 + i)) --name "S$i" -f "$T/src.txt=!:\\data\\s.txt" \
		-o "$T/in/s$(printf %02d "$i").sis" || { echo "FAIL: pack"; exit 1; }
done

export DELAY_P11_LOG=$T/delay.log
# sign_batch OUT DELAY-MS ARGS...: rc in $rc, the module's log fresh.
sign_batch() {
	local out=$1 ms=$2
	shift 2
	rm -f "$DELAY_P11_LOG"
	DELAY_P11_MS=$ms "$SISIGN" sign --module "$DELAY_P11_SO" --key "$URI" -r --out-dir "$T/$out" -q "$@" "$T/in" \
		> /dev/null 2> "$T/err" < /dev/null
	rc=$?
}
mlog() { cat "$DELAY_P11_LOG" 2>/dev/null; }
max_in_flight() { mlog | awk '$1 == "max" && $2 > m { m = $2 } END { print m + 0 }'; }
user_logins() { mlog | grep -c '^login 1 '; }
good_signs() { mlog | grep -c '^sign 0 '; }
verified() { "$SISIGN" verify -r --json "$T/$1" 2>/dev/null | grep -c '"verdict":"self-signed"'; }

# ---- N = 1 (the default, and given): one signature at a time --------------------------
sign_batch out1 50
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "default batch exit $rc"
check [ "$(max_in_flight)" -eq 1 ]
check [ "$(user_logins)" -eq 1 ]
check [ "$(good_signs)" -eq $N ]
check [ "$(verified out1)" -eq $N ]

sign_batch out1b 50 --token-sessions 1 -j 4
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "--token-sessions 1 exit $rc"
check [ "$(max_in_flight)" -eq 1 ]
check [ "$(user_logins)" -eq 1 ]
check [ "$(verified out1b)" -eq $N ]

# ---- N = 4: four in flight, one login, every signature good ----------------------------------
sign_batch out4 400 --token-sessions 4
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "--token-sessions 4 exit $rc"
check [ "$(max_in_flight)" -eq 4 ]
check [ "$(user_logins)" -eq 1 ]
check [ "$(good_signs)" -eq $N ]
check [ "$(find "$T/out4" -name '*.sis' | wc -l)" -eq $N ]
check [ "$(verified out4)" -eq $N ]
# -j 1 (jobs in the main thread) still gets its 4 workers
sign_batch out4j 400 --token-sessions 4 -j 1
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "--token-sessions 4 -j 1 exit $rc"
check [ "$(max_in_flight)" -eq 4 ]
check [ "$(user_logins)" -eq 1 ]
check [ "$(verified out4j)" -eq $N ]

# ---- the deprecated --parallel-token: as many as workers ------------------------------------
sign_batch outp 400 --parallel-token -j 3
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "--parallel-token -j 3 exit $rc"
check [ "$(max_in_flight)" -eq 3 ]
check [ "$(user_logins)" -eq 1 ]
check [ "$(verified outp)" -eq $N ]

# ---- a bad N: usage error, no login, nothing written ----------------------------------------
for bad in 0 17 -1 4x '' 99999999999999999999; do
	sign_batch bad 0 --token-sessions "$bad"
	checks=$((checks + 1))
	[ $rc -eq 2 ] || fail "--token-sessions '$bad': exit $rc, expected 2"
	check grep -q -- '--token-sessions wants a number' "$T/err"
	check [ ! -e "$T/bad" ]
	check [ ! -e "$DELAY_P11_LOG" ]
done
# verify has no signatures to spread
"$SISIGN" verify --token-sessions 4 "$T/out1/s01.sis" > /dev/null 2> "$T/err"
rc=$?
checks=$((checks + 1))
[ $rc -eq 2 ] || fail "verify --token-sessions: exit $rc, expected 2"

echo "$checks checks, $failures failures"
[ $failures -eq 0 ]
