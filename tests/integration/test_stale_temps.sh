#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The batch's stale-temp cleaner (issue #10 item 13) removes only temps
# that cannot be live.  Beside the output signed/a.sis:
#   a.sis.tmpL1ve00  an hour old but flock-held by another process (as a
#                    writing sisign holds its temp): kept;
#   a.sis.tmpFutur0  changed "in the future" (recently, for the cleaner):
#                    kept;
#   a.sis.tmpSta1e0  an hour old, unlocked: removed.
# Once the holder is gone, the next batch removes its temp too.  And the
# writer itself holds the lock: the rename probe (tests/tools/rename_probe.c)
# finds every temp locked at the moment it is renamed into place.
# Env: SISIGN, SISIGN_RENAME_PROBE.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${SISIGN_RENAME_PROBE:-}" ] || [ ! -f "$SISIGN_RENAME_PROBE" ]; then
	echo "SKIP: \$SISIGN_RENAME_PROBE is not set to the built rename_probe.so"
	exit 77
fi
for tool in openssl flock; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

. "$(dirname "$0")/lib/common.sh"
tu_init stale-temps
unset SISIGN_PASS SISIGN_PIN
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$T"' EXIT

cd "$T" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/CN=stale temps" \
	2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
K=(--key "$T/key.pem" --cert "$T/cert.pem")
mkdir pkgs signed
printf 'x\n' > f.txt
for n in a b; do
	run "$SISIGN" pack --uid 0xE0001237 --name $n --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' \
		-o pkgs/$n.sis
	expect_rc 0 "pack $n"
done

echo live > signed/a.sis.tmpL1ve00
echo stale > signed/a.sis.tmpSta1e0
echo future > signed/a.sis.tmpFutur0
touch -d '1 hour ago' signed/a.sis.tmpL1ve00 signed/a.sis.tmpSta1e0
touch -d '1 hour' signed/a.sis.tmpFutur0
# The holder: a separate process with its own exclusive flock on the temp.
(exec 9<signed/a.sis.tmpL1ve00 && flock -x 9 && exec sleep 300) >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 100); do
	flock -n -x signed/a.sis.tmpL1ve00 true 2>/dev/null || break
	sleep 0.05
done
check '! flock -n -x signed/a.sis.tmpL1ve00 true' "the holder has its lock"

mkdir probe
run env "LD_PRELOAD=$SISIGN_RENAME_PROBE" "SISIGN_PROBE_DIR=$T/probe" \
	"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$SISIGN" sign "${K[@]}" -r --out-dir signed -q pkgs
expect_rc 0 "batch sign"
check '[ -f signed/a.sis ] && [ -f signed/b.sis ]' "both outputs written"
check '[ -e signed/a.sis.tmpL1ve00 ]' "a temp another process holds locked is kept"
check '[ "$(cat signed/a.sis.tmpL1ve00 2>/dev/null)" = live ]' "the live temp is untouched"
check '[ -e signed/a.sis.tmpFutur0 ]' "a recently changed temp is kept"
check '[ ! -e signed/a.sis.tmpSta1e0 ]' "an old unlocked temp is removed"
check '[ "$(grep -c . probe/lock 2>/dev/null)" = 2 ]' "the probe saw both outputs renamed"
check '[ "$(grep -vc "^held$" probe/lock 2>/dev/null)" = 0 ]' \
	"the writer held its temp locked until the rename: $(tr '\n' ' ' < probe/lock 2>/dev/null)"

# The holder ends (a killed writer's lock dies with it): the next batch
# over these outputs cleans its temp up.
kill "$holder"
wait "$holder" 2>/dev/null
holder=
run "$SISIGN" sign "${K[@]}" -r --out-dir signed --skip-signed -q pkgs
expect_rc 0 "rerun"
check '[ ! -e signed/a.sis.tmpL1ve00 ]' "the temp is removed once nobody holds it"
check '[ -e signed/a.sis.tmpFutur0 ]' "the future-dated temp is still kept"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
