#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #14 item 1 through p11-kit remoting: `--token-sessions 4` with
# p11-kit-client.so in front of `p11-kit server`, which serves each
# connection in a process of its own, one call at a time.  The server's
# module is tests/mock/delay_p11.c (forwarding to SoftHSM, each C_Sign
# delayed); its log counts signatures in flight across all the server's
# processes, every C_Initialize (one process, one connection) and every
# C_Login with its process.  Checks:
#   - 4 signatures in flight at once, every output verifies;
#   - as many successful logins as connections (4), one per connection;
#   - the PIN is read once: from --pin-fd (a second read would fail), and
#     from the terminal prompt (shown once);
#   - a wrong PIN: exactly one C_Login, exit 7, nothing written;
#   - a connection that breaks mid-batch stops the batch as a token failure
#     (exit 6), and what was written verifies.
# Env: SISIGN, DELAY_P11_SO (the built delay module), SOFTHSM2_MODULE,
# P11_KIT_CLIENT_MODULE.
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
CLIENT=${P11_KIT_CLIENT_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so}
[ -r "$SOFTHSM2_MODULE" ] || { echo "SKIP: SoftHSM module $SOFTHSM2_MODULE not found"; exit 77; }
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not found"; exit 77; }
command -v p11-kit >/dev/null || { echo "SKIP: p11-kit not found"; exit 77; }
[ -r "$CLIENT" ] || { echo "SKIP: $CLIENT not found"; exit 77; }
SRC=${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
unset SISIGN_PIN SISIGN_PASS

. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/p11kit_server.sh"
tu_init token-sessions-remote
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$T"' EXIT

SISIGN_PIN=1234 SISIGN=$SISIGN "$SRC/softhsm-config/make-token.sh" "$T/hsm" remote > /dev/null 2> "$T/err" ||
	{ echo "FAIL: make-token.sh: $(cat "$T/err")"; exit 1; }
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
URI='pkcs11:token=remote;object=sisign;type=private'
N=24
mkdir -p "$T/in"
echo "remote sessions payload" > "$T/src.txt"
for i in $(seq 1 $N); do
	"$SISIGN" pack --uid $((0xE0000600 + i)) --name "R$i" -f "$T/src.txt=!:\\data\\r.txt" \
		-o "$T/in/r$(printf %02d "$i").sis" || { echo "FAIL: pack"; exit 1; }
done

# The server's processes read these from the environment it starts with.
export DELAY_P11_LOG=$T/delay.log DELAY_P11_MS=100
if ! p11kit_server_start "$T" "$DELAY_P11_SO" 'pkcs11:token=remote'; then
	echo "FAIL: p11-kit server did not start: $(cat "$T/server.err")"
	exit 1
fi
server_pid=$P11KIT_SERVER_PID

fresh_log() { rm -f "$DELAY_P11_LOG" "$DELAY_P11_LOG.flight"; }
mlog() { cat "$DELAY_P11_LOG" 2>/dev/null; }
max_in_flight() { mlog | awk '$1 == "max" && $2 > m { m = $2 } END { print m + 0 }'; }
# connections: processes that initialised the module; logins: successful
# user logins, and the processes they were made in.
connections() { mlog | awk '$1 == "init" && $2 == 0 { print $3 }' | sort -u; }
login_pids() { mlog | awk '$1 == "login" && $2 == 1 && $3 == 0 { print $4 }' | sort; }
user_logins() { mlog | grep -c '^login 1 '; }
verified() { "$SISIGN" verify -r --json "$T/$1" 2>/dev/null | grep -c '"verdict":"self-signed"'; }
# sign_remote OUT ARGS...: a batch through p11-kit-client.so, PIN on fd 3
# ($PIN); rc in $rc.
PIN=1234
sign_remote() {
	local out=$1
	shift
	fresh_log
	"$SISIGN" sign --module "$CLIENT" --key "$URI" -r --out-dir "$T/$out" -q --pin-fd 3 "$@" "$T/in" \
		3< <(printf '%s\n' "$PIN") > "$T/out" 2> "$T/err" < /dev/null
	rc=$?
}

# ---- 4 sessions: 4 connections, 4 logins, 4 signatures in flight ---------------------------
sign_remote out4 --token-sessions 4
expect_rc 0 "--token-sessions 4 through p11-kit server"
expect_no_stderr "--token-sessions 4 through p11-kit server"
check '[ "$(max_in_flight)" -eq 4 ]' "4 in flight at once through p11-kit server (saw $(max_in_flight))"
check '[ "$(connections | wc -l)" -eq 4 ]' "4 connections (saw $(connections | wc -l))"
check '[ "$(user_logins)" -eq 4 ]' "4 user logins (saw $(user_logins))"
# one successful login in each connection, and none elsewhere
check '[ "$(login_pids)" = "$(connections)" ]' "one login per connection: logins in [$(login_pids | tr '\n' ' ')], connections [$(connections | tr '\n' ' ')]"
check '[ "$(mlog | grep -c "^sign 0 ")" -eq $N ]' "$N good signatures"
check '[ "$(verified out4)" -eq $N ]' "all $N outputs verify"

# ---- the default (1): one connection signs, one in flight (as before) ----------------------
sign_remote out1
expect_rc 0 "default batch through p11-kit server"
check '[ "$(max_in_flight)" -eq 1 ]' "default: 1 in flight (saw $(max_in_flight))"
check '[ "$(verified out1)" -eq $N ]' "default: all $N outputs verify"

# ---- the PIN from the terminal: one prompt -------------------------------------------------
if script -qec true /dev/null > /dev/null 2>&1; then
	fresh_log
	# The prompt reads the terminal that script(1) makes; the PIN is
	# typed once the prompt shows (turning echo off flushes what was typed
	# before it), or after 30 s.
	: > "$T/out"
	(for i in $(seq 1 300); do grep -q "PIN for token" "$T/out" && break; sleep 0.1; done
	 printf '%s\n' "$PIN") | SISIGN="$SISIGN" CLIENT="$CLIENT" URI="$URI" OUTD="$T/outp" IND="$T/in" \
		script -qec '"$SISIGN" sign --module "$CLIENT" --key "$URI" -r --out-dir "$OUTD" -q --token-sessions 4 "$IND"' \
		/dev/null > "$T/out" 2> "$T/err"
	rc=$?
	expect_rc 0 "--token-sessions 4 with the PIN prompt"
	check '[ "$(grep -o "PIN for token" "$T/out" | wc -l)" -eq 1 ]' "one PIN prompt (saw $(grep -o "PIN for token" "$T/out" | wc -l))"
	check '[ "$(user_logins)" -eq 4 ]' "prompt: 4 user logins (saw $(user_logins))"
	check '[ "$(verified outp)" -eq $N ]' "prompt: all $N outputs verify"
	check '! grep -q "$PIN" "$T/err"' "prompt: no PIN on stderr"
else
	echo "note: script(1) cannot make a terminal here; the prompt case is not run"
fi

# ---- a wrong PIN: one C_Login, never a second, exit 7 --------------------------------------
PIN=9999
sign_remote outbad --token-sessions 4
expect_rc 7 "wrong PIN with --token-sessions 4"
check '[ "$(user_logins)" -eq 1 ]' "wrong PIN: exactly one C_Login (saw $(user_logins))"
check 'mlog | grep -q "^login 1 160 "' "wrong PIN: the module answered CKR_PIN_INCORRECT"
expect_absent "$T/outbad" "wrong PIN"
expect_stderr_has "wrong PIN" "wrong PIN"
PIN=1234

# ---- a connection that breaks mid-batch: a token failure ------------------------------------
# 0.5 s per signature; once the first signatures are done, one of the
# server's per-connection processes (children of our server) is killed.
export DELAY_P11_MS=500
kill "$server_pid" 2>/dev/null
if ! p11kit_server_start "$T" "$DELAY_P11_SO" 'pkcs11:token=remote'; then
	echo "FAIL: p11-kit server did not start again: $(cat "$T/server.err")"
	exit 1
fi
server_pid=$P11KIT_SERVER_PID
fresh_log
"$SISIGN" sign --module "$CLIENT" --key "$URI" -r --out-dir "$T/outk" -q --pin-fd 3 --token-sessions 4 "$T/in" \
	3< <(printf '%s\n' "$PIN") > "$T/out" 2> "$T/err" < /dev/null &
spid=$!
for i in $(seq 1 200); do
	[ "$(mlog | grep -c '^sign 0 ')" -ge 4 ] && break
	sleep 0.05
done
victim=$(ps -o pid= --ppid "$server_pid" | head -n 1 | tr -d ' ')
[ -n "$victim" ] && kill -9 "$victim"
wait "$spid"
rc=$?
expect_rc 6 "a broken connection mid-batch"
check '[ -n "$victim" ]' "a server process to kill"
expect_stderr_has "token" "a broken connection mid-batch"
written=$(find "$T/outk" -name '*.sis' 2>/dev/null | wc -l)
check '[ "$written" -lt $N ]' "the batch stopped ($written of $N written)"
check '[ "$(verified outk)" -eq "$written" ]' "what was written verifies"
check '! find "$T/outk" -name "*.tmp*" 2>/dev/null | grep -q .' "no temp file left"

echo "$checks checks, $failures failures"
[ $failures -eq 0 ]
