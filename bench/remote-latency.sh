#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# remote-latency.sh [--quick] — a batch against a token whose every signature
# takes a fixed extra delay, as on a network HSM (issue #14 item 1).
#
# Makes a throw-away SoftHSM token (softhsm-config/make-token.sh) and small
# packages, and signs them with `sisign sign -r --out-dir` through the
# delaying module tests/mock/delay_p11.c (DELAY_P11_MS per C_Sign) with
# --token-sessions N for N = 1, 4 and 8: first loading the module directly,
# then through `p11-kit server` in front of it (p11-kit-client.so).
#
# Each configuration runs twice, with P and 2P packages (P = 200).  The
# rate is P / (time of 2P - time of P): the packages of the second run's
# extra half, without the start-up both runs share (module load, token
# login, key lookup: about 0.4 s here, as long as 20 rounds of
# 20 ms signatures).  The time of the P-package run is printed too, and so is the
# rate with no delay at all at the largest N: the ceiling the local work
# (parsing, hashing, writing, fsyncs) and SoftHSM's own signing set on this
# machine, which no number of sessions can pass.
#
# Output, one line per measurement, fields separated by TABs:
#     name  value  baseline  ratio  goal
# baseline = N / delay (what N signatures in flight at once allow); goal:
# ratio >= 0.8.  "-" where a field does not apply.  Rows per run also
# give the most signatures the module saw in flight at once (its
# DELAY_P11_LOG, counted across all of p11-kit server's per-connection
# processes), against N, and the connections (processes that initialised
# the module) and successful user logins it saw: one each directly; through
# p11-kit server N each, as sisign opens one connection per session (2 at
# N = 1: sisign's second connection, for its own raw calls, logs in too).
#
# --quick: 6 and 12 packages, 5 ms, for ctest (checks that it runs; the
# numbers mean little).
#
# Environment: SISIGN (default BUILD/src/sisign), DELAY_P11_SO (default
# BUILD/tests/delay_p11.so), BUILD = SISIGN_BUILDDIR or ../build beside this
# script; SOFTHSM2_MODULE; P11_KIT_CLIENT_MODULE; REMOTE_PACKAGES (P),
# REMOTE_DELAY_MS, REMOTE_SESSIONS ("1 4 8").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quick=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	*) echo "usage: remote-latency.sh [--quick]" >&2; exit 2 ;;
	esac
done
build=${SISIGN_BUILDDIR:-$here/../build}
sisign=${SISIGN:-$build/src/sisign}
delay_so=${DELAY_P11_SO:-$build/tests/delay_p11.so}
client=${P11_KIT_CLIENT_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so}
export SOFTHSM2_MODULE=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
if [ $quick -eq 1 ]; then
	packages=${REMOTE_PACKAGES:-6}
	delay=${REMOTE_DELAY_MS:-5}
else
	packages=${REMOTE_PACKAGES:-200}
	delay=${REMOTE_DELAY_MS:-20}
fi
sessions=${REMOTE_SESSIONS:-1 4 8}
# The module reads it where it runs: in sisign, or in the p11-kit server's
# per-connection process (started below with this environment).
export DELAY_P11_MS=$delay
for f in "$sisign" "$delay_so" "$SOFTHSM2_MODULE"; do
	[ -r "$f" ] || { echo "remote-latency.sh: $f not found (set SISIGN, DELAY_P11_SO, SOFTHSM2_MODULE)" >&2; exit 77; }
done
# p11-kit server runs from / once it is a daemon: a relative module path
# (SISIGN_BUILDDIR=build-rel) would not load there.
delay_so=$(realpath "$delay_so")

work=$(mktemp -d)
export DELAY_P11_LOG=$work/delay.log
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export SISIGN_PIN=${SISIGN_PIN:-1234}
SISIGN=$sisign "$here/../softhsm-config/make-token.sh" "$work/hsm" remote > /dev/null
export SOFTHSM2_CONF=$work/hsm/softhsm2.conf
key='pkcs11:token=remote;object=sisign;type=private'

# P packages in in1/, 2P in in2/ (4 KiB of text each, deflated).
mkdir -p "$work/in1" "$work/in2"
head -c 4096 "$here/../LICENSE" > "$work/payload.txt"
for i in $(seq 1 $((2 * packages))); do
	"$sisign" pack --uid $((0xE0002000 + i)) --name "R$i" -f "$work/payload.txt=!:\\data\\r.txt" \
		-o "$work/in2/r$i.sis"
	[ "$i" -le "$packages" ] && cp "$work/in2/r$i.sis" "$work/in1/"
done

now() { date +%s.%N; }
# calc EXPR: awk's arithmetic (no bc needed); gt A B: is A > B.
calc() { awk "BEGIN { v = ($1); printf \"%.6f\n\", v }"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
# sign_dir MODULE N IN [DELAY]: seconds taken; every output must verify.
sign_dir() {
	local module=$1 n=$2 in=$3 ms=${4:-$delay} out t0 t1 good count
	out=$work/out
	rm -rf "$out" "$DELAY_P11_LOG" "$DELAY_P11_LOG.flight"
	t0=$(now)
	if ! DELAY_P11_MS=$ms "$sisign" sign --module "$module" --key "$key" -r --out-dir "$out" --token-sessions "$n" -q "$in" \
		> /dev/null 2> "$work/err" < /dev/null; then
		echo "remote-latency.sh: sisign sign failed: $(head -c 500 "$work/err")" >&2
		return 1
	fi
	t1=$(now)
	count=$(find "$in" -name '*.sis' | wc -l)
	good=$("$sisign" verify -r --json "$out" 2> /dev/null | grep -c '"verdict":"self-signed"' || true)
	if [ "$good" -ne "$count" ]; then
		echo "remote-latency.sh: only $good of $count outputs verify" >&2
		return 1
	fi
	calc "$t1 - $t0"
}
# measure LABEL MODULE: the rows of one way to the token.
measure() {
	local label=$1 module=$2 n t1 t2 rate base
	for n in $sessions; do
		t1=$(sign_dir "$module" "$n" "$work/in1")
		t2=$(sign_dir "$module" "$n" "$work/in2")
		base=$(calc "$n * 1000 / $delay")
		if gt "$t2" "$t1"; then
			rate=$(calc "$packages / ($t2 - $t1)")
			printf '%s, N=%d: packages/s vs N/%d ms\t%.1f\t%.1f\t%.2f\t>= 0.80\n' "$label" "$n" "$delay" \
				"$rate" "$base" "$(calc "$rate / $base")"
		else
			# (only with a handful of packages: noise larger than the work)
			printf '%s, N=%d: packages/s vs N/%d ms\t-\t%.1f\t-\t>= 0.80\n' "$label" "$n" "$delay" "$base"
		fi
		printf '%s, N=%d: %d packages, start-up included (s)\t%.2f\t-\t-\t-\n' "$label" "$n" "$packages" "$t1"
		printf '%s, N=%d: most signatures in flight at once (module log)\t%d\t%d\t-\t-\n' "$label" "$n" \
			"$(awk '$1 == "max" && $2 > m { m = $2 } END { print m + 0 }' "$DELAY_P11_LOG" 2> /dev/null || echo 0)" "$n"
		printf '%s, N=%d: connections / user logins (module log)\t%s\t-\t-\t-\n' "$label" "$n" \
			"$(awk '$1 == "init" && $2 == 0 { c[$3] = 1 } $1 == "login" && $2 == 1 && $3 == 0 { l++ }
				END { printf "%d / %d", length(c), l }' "$DELAY_P11_LOG" 2> /dev/null || echo '?')"
	done
}

echo "# remote-latency.sh: $packages / $((2 * packages)) packages, $delay ms per signature, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "delay module, direct" "$delay_so"
n=${sessions##* }
t1=$(sign_dir "$delay_so" "$n" "$work/in1" 0)
t2=$(sign_dir "$delay_so" "$n" "$work/in2" 0)
if gt "$t2" "$t1"; then
	printf 'no delay (local work + SoftHSM only), N=%d: packages/s\t%.1f\t-\t-\t-\n' "$n" \
		"$(calc "$packages / ($t2 - $t1)")"
fi

if ! command -v p11-kit > /dev/null || [ ! -r "$client" ]; then
	echo "# p11-kit server rows skipped: p11-kit or $client not found"
	exit 0
fi
. "$here/../tests/integration/lib/p11kit_server.sh"
if ! p11kit_server_start "$work" "$delay_so" 'pkcs11:token=remote'; then
	echo "remote-latency.sh: p11-kit server did not start: $(cat "$work/server.err")" >&2
	exit 1
fi
server_pid=$P11KIT_SERVER_PID
measure "delay module behind p11-kit server" "$client"
