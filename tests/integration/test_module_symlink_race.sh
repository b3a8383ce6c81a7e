#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #10 item 1: a URI's module-path is checked and loaded as one file.
# An allowed directory (--allow-module) holds a symlink that a background
# loop keeps renaming between the mock module (inside the directory) and a
# library outside it whose constructor writes a marker file.  sisign keys
# runs on that symlink again and again; the outside library must never be
# loaded, so the marker must never appear.  (sisign used to check the
# directory and then open the name again, following the symlink to
# wherever it pointed by then.)  Before the race: the marker works, a
# static symlink out is refused, and a module replaced during its own load
# is caught.
# Env: SISIGN, MOCK_P11_MODULE; RACE_RUNS (default 500).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${MOCK_P11_MODULE:-}" ] || [ ! -r "$MOCK_P11_MODULE" ]; then echo "SKIP: \$MOCK_P11_MODULE not set"; exit 77; fi
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init modrace
RUNS=${RACE_RUNS:-500}
flipper=

stop_flipper() {
	if [ -n "$flipper" ]; then
		kill "$flipper" 2>/dev/null
		wait "$flipper" 2>/dev/null
		flipper=
	fi
}
trap 'stop_flipper; rm -rf "$T"' EXIT

mkdir -p "$T/allowed" "$T/outside"
cp "$MOCK_P11_MODULE" "$T/allowed/mock.so"
cat >"$T/evil.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void evil_ran(void)
{
	const char *m = getenv("EVIL_MARKER"), *from = getenv("SWAP_FROM"), *to = getenv("SWAP_TO");
	int fd = m ? open(m, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
	if (fd >= 0) {
		(void)write(fd, "x\n", 2);
		close(fd);
	}
	if (from && to)
		(void)rename(from, to);
}
EOF
"$CC" -shared -fPIC -o "$T/outside/evil.so" "$T/evil.c" || { echo "SKIP: cannot build a shared library"; exit 77; }
export EVIL_MARKER="$T/marker"
# A fixed key: the mock would otherwise generate one at every load.
openssl genrsa -out "$T/key.pem" 1024 2>/dev/null || { echo "FAIL: openssl genrsa"; exit 1; }
export MOCK_P11_KEY="$T/key.pem"
export MOCK_P11_LOG="$T/mock.log"
export SISIGN_PIN=1234 # the mock's user PIN
ALLOW=(--allow-module "$T/allowed")
URI="pkcs11:?module-path=$T/allowed/link"

# The marker works: loading the library as a trusted --module runs it.
run "$SISIGN" keys --module "$T/outside/evil.so"
check '[ -s "$T/marker" ]' "the constructor of evil.so writes the marker (exit $rc)"
rm -f "$T/marker"

# Still: a symlink in the allowed directory to the module beside it works...
ln -s mock.so "$T/allowed/link"
run "$SISIGN" keys "${ALLOW[@]}" "$URI"
expect_rc 0 "module-path through a symlink to an allowed module"
expect_stdout_has "mockkey" "keys lists the mock's objects"
# ...and one to the library outside is refused without loading it.
ln -sfn ../outside/evil.so "$T/allowed/link"
run "$SISIGN" keys "${ALLOW[@]}" "$URI"
expect_rc 6 "module-path through a symlink leading outside the allowed directories"
expect_stderr_has "outside the allowed module directories" "refusal names the reason"
expect_absent "$T/marker" "refused module was not loaded"

# A file replaced while it loads (its own constructor renames the mock
# over it) is caught by the check after dlopen.
cp "$T/outside/evil.so" "$T/allowed/swap.so"
cp "$T/allowed/mock.so" "$T/allowed/swap.new"
run env SWAP_FROM="$T/allowed/swap.new" SWAP_TO="$T/allowed/swap.so" EVIL_MARKER="$T/swap-marker" \
	"$SISIGN" keys "${ALLOW[@]}" "pkcs11:?module-path=$T/allowed/swap.so"
expect_rc 6 "module replaced during its own load"
expect_stderr_has "replaced while it was being loaded" "the replacement is named"

# The race: rename a fresh symlink over "link", alternating targets, a few
# hundred times a second (python3: no process per flip to slow the runs).
rm -f "$T/marker"
ln -sfn mock.so "$T/allowed/link"
python3 -c '
import os, sys, time
os.chdir(sys.argv[1])
while True:
	for target in ("mock.so", "../outside/evil.so"):
		os.symlink(target, "next")
		os.replace("next", "link")
		time.sleep(0.0015)
' "$T/allowed" &
flipper=$!
# Start once the loop runs (python3 may be slow to start on a busy machine).
for ((i = 0; i < 200; i++)); do
	[ "$(readlink "$T/allowed/link")" = ../outside/evil.so ] && break
	sleep 0.05
done
ok=0
refused=0
other=0
for ((i = 0; i < RUNS; i++)); do
	"$SISIGN" keys "${ALLOW[@]}" "$URI" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok=$((ok + 1))
	elif [ "$rc" -eq 6 ] && grep -q "outside the allowed module directories" "$T/err"; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
		cp "$T/err" "$T/other.err"
	fi
done
stop_flipper
loaded=0
[ -e "$T/marker" ] && loaded=$(wc -l <"$T/marker")
echo "$RUNS runs: $ok listed the mock, $refused refused, $other other; evil constructor ran $loaded times"
check '[ "$loaded" -eq 0 ]' "the library outside the allowed directory was loaded in $loaded of $RUNS runs"
check '[ "$other" -eq 0 ]' "$other runs ended neither listed nor refused (last: $(head -c 300 "$T/other.err" 2>/dev/null))"
# Both states were hit, so the race really ran.
check '[ "$ok" -gt 0 ] && [ "$refused" -gt 0 ]' "both link targets were seen (ok $ok, refused $refused)"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
