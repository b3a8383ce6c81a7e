#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# remote-load.sh [CLIENTS [PACKAGES]] — CLIENTS (default 8) concurrent
# `sisign sign` batches of PACKAGES (default 300) each, through ONE
# p11-kit server socket to one throw-away SoftHSM token, as that many CI
# runners would sign.  Prints each client's wall time and exit status, the
# total throughput (signed packages per second, first start to last end)
# and the SoftHSM login races seen (see docs/performance.md "Remote token
# under load").  Not run in CI.  SISIGN=path/to/sisign (default: on PATH).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
clients=${1:-8}
n=${2:-300}
sisign=${SISIGN:-$(command -v sisign)}
module=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
client=${P11_KIT_CLIENT_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so}
work=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
export SISIGN_PIN=${SISIGN_PIN:-1234}

SISIGN=$sisign "$here/../softhsm-config/make-token.sh" "$work/hsm" bench > /dev/null
export SOFTHSM2_CONF=$work/hsm/softhsm2.conf
mkdir -p "$work/in"
head -c 65536 /dev/urandom > "$work/payload.bin"
for i in $(seq 1 "$n"); do
	"$sisign" pack --uid $((0xE0001000 + i)) --name "B$i" -f "$work/payload.bin=!:\\data\\b.bin" \
		-o "$work/in/b$i.sis"
done
. "$here/../tests/integration/lib/p11kit_server.sh"
p11kit_server_start "$work" "$module" 'pkcs11:token=bench' || { echo "p11-kit server did not start: $(cat "$work/server.err")" >&2; exit 1; }
server_pid=$P11KIT_SERVER_PID

echo "sisign: $sisign; $clients clients x $n packages (64 KiB payload) through $P11_KIT_SERVER_ADDRESS"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
for c in $(seq 1 "$clients"); do
	(
		s=$(date +%s.%N)
		set +e
		"$sisign" sign --module "$client" --key 'pkcs11:token=bench;object=sisign;type=private' \
			-r --out-dir "$work/out$c" -q "$work/in" > /dev/null 2> "$work/err$c" < /dev/null
		rc=$?
		echo "$rc $s $(date +%s.%N)" > "$work/time$c"
	) &
done
wait
t1=$(date +%s.%N)
done_total=0
races=0
for c in $(seq 1 "$clients"); do
	read -r rc s e < "$work/time$c"
	k=$(find "$work/out$c" -name '*.sis' 2>/dev/null | wc -l)
	done_total=$((done_total + k))
	grep -q 'CKR_GENERAL_ERROR).*not retried' "$work/err$c" && races=$((races + 1))
	printf 'client %d: exit %d, %d packages, %.1f s%s\n' "$c" "$rc" "$k" "$(echo "$e - $s" | bc)" \
		"$([ "$rc" -eq 0 ] || echo ": $(head -c 200 "$work/err$c")")"
done
wall=$(echo "$t1 - $t0" | bc)
printf 'total: %d of %d packages in %.1f s = %.1f packages/s; SoftHSM login races: %d\n' \
	"$done_total" $((clients * n)) "$wall" "$(echo "$done_total / $wall" | bc -l)" "$races"
good=$("$sisign" verify -r --json "$work"/out* 2>/dev/null | grep -c '"verdict":"self-signed"' || true)
echo "outputs that verify: $good of $done_total"
