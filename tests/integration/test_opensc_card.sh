#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A smartcard the way a USB-token user reaches it: pcscd, a reader driver,
# OpenSC's CAC card driver and opensc-pkcs11.so.  The card is virt_cacard
# (built by tests/opensc.cmake), an emulated US DoD CAC card whose keys
# live on a throw-away SoftHSM token; the reader is vsmartcard's vpcd.
# Checked, all through the card:
#   - `sisign tokens` and `sisign keys` show it;
#   - signing by the URI `sisign keys` printed; openssl verifies the
#     signature over the region an independent parser extracts, and the
#     signer certificate is the one on the card;
#   - a wrong PIN costs exactly one C_Login (counted by pkcs11-spy), fails,
#     writes nothing, and the right PIN works afterwards;
#   - a batch of 20 packages logs in once and all 20 verify.
# pcscd's socket path is fixed (/run/pcscd/pcscd.comm) and vpcd listens on
# TCP port 35963, so the script re-runs itself in private mount, network
# and PID namespaces (tmpfs on /run/pcscd, its own loopback): it never
# meets a system pcscd or a parallel run, and if it is killed the kernel
# takes its daemons with it.  Normally they are stopped by PID on exit.
# Exit 77 (skip) with a message when a package is missing or namespaces
# are not permitted.
# Env: SISIGN, VIRT_CACARD, SISIGN_TCP_NODELAY (tests/opensc.cmake).
set -u

skip() { echo "SKIP: $*"; exit 77; }

OPENSC_MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
SPY=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
SOFTHSM=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
VPCD=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
PCSCD=$(command -v pcscd || echo /usr/sbin/pcscd)     # sbin: not on a user's PATH
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${SISIGN_SRCDIR:-$(cd "$HERE/../.." && pwd)}

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	skip "\$SISIGN is not set to the built sisign"
fi

# ---- what is missing, by Debian package ----------------------------------------------
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2 ($1)"); }
need_file() { [ -r "$1" ] || missing+=("$2 ($1)"); }
[ -x "$PCSCD" ] || missing+=("pcscd ($PCSCD)")
need_file "$VPCD" vsmartcard-vpcd
need_file "$OPENSC_MODULE" opensc
need_file "$SPY" opensc
need_cmd opensc-tool opensc
need_cmd pkcs11-tool opensc
need_file "$SOFTHSM" softhsm2
need_cmd softhsm2-util softhsm2
need_cmd modutil libnss3-tools
need_cmd unshare util-linux
need_cmd ip iproute2
need_cmd python3 python3
need_cmd openssl openssl
if [ -z "${VIRT_CACARD:-}" ] || [ ! -x "$VIRT_CACARD" ]; then
	missing+=("libcacard-dev libglib2.0-dev (virt_cacard was not built; re-run cmake after installing)")
fi
if [ -z "${SISIGN_TCP_NODELAY:-}" ] || [ ! -r "$SISIGN_TCP_NODELAY" ]; then
	missing+=("the tcp_nodelay.so test library (run through ctest)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
	skip "the emulated-smartcard test needs: $(printf '%s; ' "${missing[@]}")scripts/deps.sh installs the packages"
fi

# ---- into private namespaces -----------------------------------------------------------
# --kill-child: if unshare is killed, so is the script, PID 1 of the new PID
# namespace, and with it every process inside.
if [ -z "${SISIGN_OPENSC_NS:-}" ]; then
	export SISIGN_OPENSC_NS=1
	ns=(--mount --net --pid --fork --mount-proc --kill-child)
	if unshare "${ns[@]}" true 2>/dev/null; then
		exec unshare "${ns[@]}" bash "$0" "$@"
	elif unshare --user --map-root-user "${ns[@]}" true 2>/dev/null; then
		exec unshare --user --map-root-user "${ns[@]}" bash "$0" "$@"
	fi
	skip "cannot make private mount, network and PID namespaces (unshare needs root or user namespaces)"
fi

if [ -d /run/pcscd ]; then
	mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
else
	mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/pcscd
fi || { echo "FAIL: cannot mount a private /run/pcscd"; exit 1; }
ip link set lo up || { echo "FAIL: cannot bring up the private loopback"; exit 1; }

. "$HERE/lib/common.sh"
. "$HERE/lib/openssl_check.sh"
tu_init opensc-card
start=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - start) / 1000000 )); }

PCSCD_PID=
CARD_PID=
# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 5 s.
stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	[ -n "$CARD_PID" ] && stop_pid "$CARD_PID"
	[ -n "$PCSCD_PID" ] && stop_pid "$PCSCD_PID"
	rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "FAIL: $*"
	for f in "$T"/pcscd.log "$T"/card.log "$T"/setup.log; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	exit 1
}
# wait_for SECONDS DESC COMMAND...: poll every 50 ms until COMMAND succeeds.
wait_for() {
	local secs=$1 desc=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	die "$desc: not after $secs s"
}

# ---- the card's content: a SoftHSM token seen through an NSS database ---------------
# libcacard takes only removable slots, hence slots.removable = true.  The
# CAC PIN is the token's user PIN (4 to 8 digits).
PIN=1234
WRONG=9999
unset SISIGN_PIN
mkdir -p "$T/hsm" "$T/card/db" "$T/readers"
sed -e "s|@TOKENDIR@|$T/hsm/tokens|" -e 's|^slots.removable.*|slots.removable = true|' \
	"$SRCDIR/softhsm-config/softhsm2.conf.in" > "$T/hsm/softhsm2.conf"
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
SISIGN_PIN=$PIN SOFTHSM2_MODULE=$SOFTHSM "$SRCDIR/softhsm-config/make-token.sh" "$T/hsm" sisign-cac \
	>"$T/setup.log" 2>&1 || die "make-token.sh"
# The certificate as SoftHSM holds it, read by OpenSC's own tool.
pkcs11-tool --module "$SOFTHSM" --token-label sisign-cac --read-object --type cert --id 01 \
	-o "$T/card-cert.der" >>"$T/setup.log" 2>&1 || die "reading the certificate back"
{
	modutil -create -dbdir "sql:$T/card/db" -force &&
	modutil -add SoftHSM -dbdir "sql:$T/card/db" -libfile "$SOFTHSM" -force
} >>"$T/setup.log" 2>&1 </dev/null || die "making the card's NSS database"

# OpenSC must not answer from a file cache: every run's card has the same
# serial number but a new key.
cat >"$T/opensc.conf" <<'EOF'
app default {
	framework pkcs15 {
		use_file_caching = no;
	}
}
EOF
export OPENSC_CONF=$T/opensc.conf

# ---- pcscd with only the vpcd reader, then the card ---------------------------------
cat >"$T/readers/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      $VPCD
CHANNELID    0x8C7B
EOF
LD_PRELOAD=$SISIGN_TCP_NODELAY "$PCSCD" -f -c "$T/readers" >"$T/pcscd.log" 2>&1 </dev/null &
PCSCD_PID=$!
# vpcd listening on 127.0.0.1:35963 (0x8C7B), state 0A = LISTEN
vpcd_listens() {
	kill -0 "$PCSCD_PID" 2>/dev/null || die "pcscd exited"
	grep -qE '^ *[0-9]+: [0-9A-F]+:8C7B [0-9A-F]+:0000 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
wait_for 10 "pcscd's vpcd reader listening" vpcd_listens
wait_for 10 "pcscd's socket" test -S /run/pcscd/pcscd.comm
(cd "$T/card" && exec "$VIRT_CACARD") >"$T/card.log" 2>&1 </dev/null &
CARD_PID=$!
card_present() {
	kill -0 "$CARD_PID" 2>/dev/null || die "virt_cacard exited"
	timeout 10 opensc-tool -l 2>/dev/null | grep -qE '^0 +Yes +'
}
wait_for 15 "the card in reader 0" card_present
echo "card ready after $(ms) ms"

calls() { grep -cE "^[0-9]+: $1\$" "$2"; }
# first_rv FUNCTION LOG: the return value name of the first such call.
first_rv() { sed -n "/^[0-9]*: $1\$/,/^Returned:/s/^Returned: *[0-9]* *//p" "$2" | head -n 1; }

# ---- sisign tokens / keys show the card -------------------------------------------------
# py_check DESC SCRIPT FILE: a Python assertion script over a JSON-lines
# file; it sees $URI and $OPENSC_MODULE in os.environ.
py_check() {
	checks=$((checks + 1))
	URI=${URI:-} OPENSC_MODULE=$OPENSC_MODULE python3 -c "$2" "$3" 2>"$T/pyerr" ||
		fail "$1: $(tail -n 1 "$T/pyerr")"
}
run timeout 30 "$SISIGN" tokens --module "$OPENSC_MODULE"
expect_rc 0 "tokens"
expect_no_stderr "tokens"
expect_stdout_has "sisign test (sisign-cac)" "tokens"
expect_stdout_has "Common Access Card" "tokens"
run timeout 30 "$SISIGN" tokens --json --module "$OPENSC_MODULE"
expect_rc 0 "tokens --json"
cp "$T/out" "$T/tokens.json"
py_check "tokens --json shows one CAC card" '
import json, os, sys
toks = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(toks) == 1, toks
t = toks[0]
assert t["label"] == "sisign test (sisign-cac)", t
assert t["manufacturer"] == "Common Access Card", t
assert t["model"] == "PKCS#15 emulated", t
assert t["module"] == os.environ["OPENSC_MODULE"], t
assert "login required" in t["flags"], t
' "$T/tokens.json"

# The URI a user would copy: the private key's "uri:" line in `sisign keys`.
run timeout 30 env SISIGN_PIN=$PIN "$SISIGN" keys --module "$OPENSC_MODULE"
expect_rc 0 "keys"
expect_no_stderr "keys"
expect_stdout_has 'label "CAC ID Certificate"' "keys"
expect_stdout_has "CN=sisign test (sisign-cac)" "keys"
URI=$(sed -n '/^private-key /,/^$/s/^ *uri: *\(pkcs11:.*\)$/\1/p' "$T/out")
run timeout 30 env SISIGN_PIN=$PIN "$SISIGN" keys --json --module "$OPENSC_MODULE"
expect_rc 0 "keys --json"
cp "$T/out" "$T/keys.json"
py_check "keys --json: one CAC key and its certificate, URI as printed" '
import json, os, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = [o for o in objs if o["kind"] == "private-key"]
certs = [o for o in objs if o["kind"] == "certificate"]
assert len(keys) == 1 and len(certs) == 1, objs
k, c = keys[0], certs[0]
assert k["label"] == "CAC ID Certificate" and k["id"] == "0001", k
assert k["key_type"] == "RSA" and k["key_bits"] == 2048, k
assert k["uri"] == os.environ["URI"], (k["uri"], os.environ["URI"])
assert k["paired_uri"] == c["uri"], (k, c)
assert c["subject"] == "CN=sisign test (sisign-cac)", c
' "$T/keys.json"
case "$URI" in
pkcs11:*type=private*) ;;
*) die "no private key URI in the output of sisign keys" ;;
esac

# ---- signing by that URI ---------------------------------------------------------------
printf 'card payload\n' >"$T/a.txt"
"$SISIGN" pack --uid 0xE0000C01 --name Card --vendor sisign -f "$T/a.txt=!:\\data\\a.txt" \
	-o "$T/a.sis" 2>>"$T/setup.log" || die "pack"

# same_signer FILE DESC: the chain's first certificate is the card's.
same_signer() {
	local d
	d=$(mktemp -d "$T/cert.XXXXXX")
	checks=$((checks + 1))
	python3 "$TOOLS/sischains.py" "$1" "$d" >/dev/null 2>&1 &&
		openssl x509 -inform DER -in "$d/certs0.der" -outform DER -out "$d/signer.der" 2>/dev/null &&
		cmp -s "$d/signer.der" "$T/card-cert.der" || fail "$2: signer certificate is not the card's"
}

run timeout 30 env SISIGN_PIN=$PIN "$SISIGN" sign --module "$OPENSC_MODULE" --key "$URI" -o "$T/a-signed.sis" "$T/a.sis"
expect_rc 0 "sign by the printed URI"
expect_no_stderr "sign by the printed URI"
check_chains "$T/a-signed.sis" 1 "card signature"
same_signer "$T/a-signed.sis" "card signature"
echo "one signature done after $(ms) ms"

# ---- a wrong PIN: one C_Login, a failure, nothing written; then the right PIN --------
export PKCS11SPY=$OPENSC_MODULE
export PKCS11SPY_OUTPUT=$T/spy-wrong.log
run timeout 30 "$SISIGN" sign --module "$SPY" --key "$URI" --pin-fd 3 -o "$T/wrong.sis" "$T/a.sis" 3<<<"$WRONG"
# This card answers a wrong PIN with status 69 85, which OpenSC reports as
# CKR_GENERAL_ERROR: a token (6) or PIN (7) failure, whatever the wording.
checks=$((checks + 1))
[ "$rc" -eq 6 ] || [ "$rc" -eq 7 ] || fail "wrong PIN: exit $rc, expected 6 or 7"
check '[ "$(calls C_Login "$PKCS11SPY_OUTPUT")" -eq 1 ]' "wrong PIN: exactly one C_Login"
check '[ "$(first_rv C_Login "$PKCS11SPY_OUTPUT")" != CKR_OK ]' "wrong PIN: the card refused the login"
check '[ "$(calls C_Sign "$PKCS11SPY_OUTPUT")" -eq 0 ]' "wrong PIN: no C_Sign"
expect_absent "$T/wrong.sis" "wrong PIN"
check '! grep -qF "$WRONG" "$T/err" "$T/out"' "wrong PIN: the PIN is not echoed"

install -m 0600 /dev/null "$T/pin"
printf '%s\n' "$PIN" >"$T/pin"
export PKCS11SPY_OUTPUT=$T/spy-right.log
run timeout 30 "$SISIGN" sign --module "$SPY" --key "$URI" --pin-file "$T/pin" -o "$T/right.sis" "$T/a.sis"
expect_rc 0 "right PIN after a wrong one"
expect_no_stderr "right PIN after a wrong one"
check '[ "$(calls C_Login "$PKCS11SPY_OUTPUT")" -eq 1 ]' "right PIN: exactly one C_Login"
check '[ "$(first_rv C_Login "$PKCS11SPY_OUTPUT")" = CKR_OK ]' "right PIN: login accepted"
check_chains "$T/right.sis" 1 "right PIN"
same_signer "$T/right.sis" "right PIN"

# ---- a batch of 20 with one login ------------------------------------------------------
N=20
mkdir "$T/in"
for ((i = 1; i <= N; i++)); do
	"$SISIGN" pack --uid $((0xE0000C10 + i)) --name "Card $i" --vendor sisign \
		-f "$T/a.txt=!:\\data\\c$i.txt" -o "$T/in/c$(printf %02d "$i").sis" 2>>"$T/setup.log" ||
		die "pack $i"
done
export PKCS11SPY_OUTPUT=$T/spy-batch.log
t0=$(ms)
run timeout 60 env SISIGN_PIN=$PIN "$SISIGN" sign --module "$SPY" --key "$URI" -r -q --out-dir "$T/out20" "$T/in"
echo "batch of $N signed in $(( $(ms) - t0 )) ms"
expect_rc 0 "batch of $N"
expect_no_stderr "batch of $N"
check '[ "$(calls C_Login "$PKCS11SPY_OUTPUT")" -eq 1 ]' "batch: exactly one C_Login"
check '[ "$(calls C_Sign "$PKCS11SPY_OUTPUT")" -eq $N ]' "batch: one C_Sign per package"
outs=("$T"/out20/*.sis)
check '[ "${#outs[@]}" -eq $N ]' "batch: $N outputs"
for f in "${outs[@]}"; do
	[ -e "$f" ] || continue
	check_chains "$f" 1 "batch: $(basename "$f")"
done
same_signer "${outs[0]}" "batch"

echo "whole run $(ms) ms; $checks checks, $failures failed"
[ "$failures" -eq 0 ]
