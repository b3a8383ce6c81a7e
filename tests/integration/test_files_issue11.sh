#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Inputs and outputs of sign/unsign (issue #11 items 5-8):
#   5  -r does not follow a directory symlink unless --follow-symlinks, and
#      never enters a directory inside itself ("a -> ." is walked once);
#      --files-from refuses a NUL byte, an over-long line; a FIFO input
#      fails at once; names of 255 bytes work in every output mode, and
#      the stale-temp cleaner knows the short temp names of long outputs
#      (and only its own);
#   6  --out-dir that maps an output onto its own input is refused;
#   7  two --in-place signers on one file keep both chains; --no-wait
#      fails (exit 3) on a locked file; --in-place on a symlink signs the
#      target and keeps the link;
#   8  outputs never get setuid/setgid/sticky; the umask applies.
# Env: SISIGN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 flock mkfifo timeout; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

. "$(dirname "$0")/lib/common.sh"
tu_init files-issue11
unset SISIGN_PASS SISIGN_PIN
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$T"' EXIT

cd "$T" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/CN=issue 11" \
	2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
K=(--key "$T/key.pem" --cert "$T/cert.pem")
printf 'x\n' > f.txt
run "$SISIGN" pack --uid 0xE0001237 --name n --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o p.sis
expect_rc 0 "pack"

# chains FILE: the number of top-level signature chains
chains() {
	"$SISIGN" verify --json "$1" 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["top"]["chains"]))' 2>/dev/null || echo none
}
# lines FILE: JSON lines in FILE
lines() { wc -l < "$1" | tr -d ' '; }

# ---- 5: directory symlinks ---------------------------------------------------
mkdir -p loop/real
cp p.sis loop/p.sis
cp p.sis loop/real/q.sis
ln -s . loop/a          # a cycle
ln -s real loop/b       # a second way to real/
run timeout -k 5 60 "$SISIGN" sign "${K[@]}" -r --in-place --json -q loop
expect_rc 0 "-r --in-place over a tree with 'a -> .'"
check '[ "$(lines out)" = 2 ]' "-r without --follow-symlinks: 2 jobs (p.sis, real/q.sis), got $(lines out)"
check '[ "$(chains loop/p.sis)" = 1 ] && [ "$(chains loop/real/q.sis)" = 1 ]' \
	"-r: one chain each, got $(chains loop/p.sis) and $(chains loop/real/q.sis)"
expect_stderr_has "loop/a: a symlink to a directory: not followed" "-r says what it skipped"

cp p.sis loop/p.sis
rm loop/real/q.sis
run timeout -k 5 60 "$SISIGN" sign "${K[@]}" -r --follow-symlinks --out-dir lout --json -q loop
expect_rc 0 "-r --follow-symlinks over a tree with 'a -> .'"
check '[ "$(lines out)" = 1 ]' "--follow-symlinks: 'a -> .' walked once, got $(lines out) jobs"
expect_stderr_has "loop/a: a directory already being walked (a cycle): skipped" "the cycle is named"
check '[ "$(chains lout/p.sis)" = 1 ]' "--follow-symlinks: one chain"

# ---- 5: --files-from caps ------------------------------------------------------
# NUL bytes, as from /dev/zero (here a bounded pipe of them, so that a
# regression cannot eat the machine's memory): refused at the first one.
timeout -k 5 60 bash -c 'head -c 50000000 /dev/zero | "$0" sign --key key.pem --cert cert.pem --in-place \
	--files-from -' "$SISIGN" >out 2>err
rc=$?
expect_rc 2 "--files-from with NUL bytes"
expect_stderr_has "line 1: a NUL byte" "--files-from NUL message"
python3 -c 'print("x" * 5000 + ".sis")' > long.list
run timeout -k 5 60 "$SISIGN" sign "${K[@]}" --in-place --files-from long.list
expect_rc 2 "--files-from with a 5004-byte line"
expect_stderr_has "line 1: longer than 4095 bytes" "--files-from long-line message"

# ---- 5: a FIFO input fails at once ---------------------------------------------
mkfifo pipe.sis
cp p.sis good.sis
run timeout -k 5 20 "$SISIGN" sign "${K[@]}" --in-place pipe.sis
expect_rc 2 "sign --in-place on a FIFO (124 = it blocked)"
expect_stderr_has "not a regular file" "FIFO message"
run timeout -k 5 20 "$SISIGN" sign "${K[@]}" -o pipe_out.sis pipe.sis
expect_rc 2 "sign -o on a FIFO (124 = it blocked)"
run timeout -k 5 20 "$SISIGN" verify pipe.sis
expect_rc 2 "verify on a FIFO (124 = it blocked)"
run timeout -k 5 20 "$SISIGN" sign "${K[@]}" --out-dir fout -q pipe.sis good.sis
expect_rc 12 "a batch with a FIFO among its inputs (124 = it blocked)"
check '[ "$(chains fout/good.sis)" = 1 ]' "the regular input of that batch was signed"

# ---- 5: names up to NAME_MAX ---------------------------------------------------
n251=$(python3 -c 'print("a" * 251)')
L=$n251.sis                     # 255 bytes
L2=$(python3 -c 'print("b" * 251)').sis
S249=$(python3 -c 'print("c" * 249)')
mkdir -p long
cp p.sis "long/$L"
cp p.sis "long/$S249.sis"
run "$SISIGN" sign "${K[@]}" --in-place "long/$L"
expect_rc 0 "--in-place, 255-byte name"
check '[ "$(chains "long/$L")" = 1 ]' "--in-place, 255-byte name: signed"
run "$SISIGN" sign "${K[@]}" -o "long/$L2" "long/$L"
expect_rc 0 "-o, 255-byte names"
check '[ "$(chains "long/$L2")" = 2 ]' "-o, 255-byte name: signed"
run "$SISIGN" sign "${K[@]}" --out-dir longout -q "long/$L"
expect_rc 0 "--out-dir, 255-byte name"
check '[ "$(chains "longout/long/$L")" = 2 ]' "--out-dir, 255-byte name: signed"
run "$SISIGN" sign "${K[@]}" --suffix _s -q "long/$S249.sis"
expect_rc 0 "--suffix giving a 255-byte name"
check '[ "$(chains "long/${S249}_s.sis")" = 1 ]' "--suffix, 255-byte name: signed"
run "$SISIGN" unsign --in-place "long/$L"
expect_rc 0 "unsign --in-place, 255-byte name"
check '! ls -A long | grep -q tmp' "no temp file left in long/"

# The cleaner: a stale short-named temp of a long output is removed; one
# of another name (not one of this batch's outputs) is kept.
stem=$(python3 -c '
import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print(".sisign-%08x" % h)' "$L")
echo stale > "longout/long/$stem.tmpSta1e0"
echo other > "longout/long/.sisign-00000000.tmpOther"
touch -d '1 hour ago' "longout/long/$stem.tmpSta1e0" "longout/long/.sisign-00000000.tmpOther"
run "$SISIGN" sign "${K[@]}" --out-dir longout --skip-signed -q "long/$L"
expect_rc 0 "a rerun over the long output"
expect_absent "longout/long/$stem.tmpSta1e0" "the stale temp of the long output"
check '[ -e "longout/long/.sisign-00000000.tmpOther" ]' "a short temp of another output is kept"

# ---- 6: --out-dir onto its own input -------------------------------------------
mkdir -p six
cp p.sis six/p.sis
sum0=$(sha256sum < six/p.sis)
run sh -c "cd six && exec \"\$0\" sign --key ../key.pem --cert ../cert.pem --out-dir . p.sis" "$SISIGN"
expect_rc 2 "--out-dir . over its own input"
expect_stderr_has "is the input file" "--out-dir . message"
check '[ "$(sha256sum < six/p.sis)" = "$sum0" ]' "--out-dir .: the input is untouched"
run "$SISIGN" sign "${K[@]}" -r --out-dir six six
expect_rc 2 "-r --out-dir T T"
check '[ "$(sha256sum < six/p.sis)" = "$sum0" ]' "-r --out-dir T T: the input is untouched"
ln six/p.sis six/hard.sis
run "$SISIGN" sign "${K[@]}" --in-place six/p.sis six/hard.sis
expect_rc 2 "--in-place with two names of one file"
check '[ "$(sha256sum < six/p.sis)" = "$sum0" ]' "two names of one file: untouched"

# ---- 7: two --in-place signers on one file --------------------------------------
lost=0
for i in $(seq 1 10); do
	cp p.sis race.sis
	"$SISIGN" sign "${K[@]}" --in-place race.sis 2>>race.err &
	"$SISIGN" sign "${K[@]}" --in-place race.sis 2>>race.err
	wait
	[ "$(chains race.sis)" = 2 ] || lost=$((lost + 1))
done
check '[ $lost -eq 0 ]' "two concurrent --in-place signers: a chain lost in $lost of 10 runs"
check '[ ! -s race.err ]' "concurrent signers: no errors ($(head -c 300 race.err))"

# --no-wait against a held lock; waiting without it.
cp p.sis held.sis
(exec 9<held.sis && flock -x 9 && exec sleep 300) >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 100); do
	flock -n -x held.sis true 2>/dev/null || break
	sleep 0.05
done
run timeout -k 5 20 "$SISIGN" sign "${K[@]}" --in-place --no-wait held.sis
expect_rc 3 "--no-wait on a locked file"
expect_stderr_has "locked by another process" "--no-wait message"
check '[ "$(chains held.sis)" = 0 ]' "--no-wait: the file is untouched"
cp p.sis free.sis
run timeout -k 5 20 "$SISIGN" sign "${K[@]}" --in-place --no-wait --json held.sis free.sis
expect_rc 12 "--no-wait batch with one locked file"
check '[ "$(grep -c "\"status\":\"error\"" out)" = 1 ]' "--no-wait batch: the locked file has status error"
(sleep 1; kill "$holder") &
run timeout -k 5 60 "$SISIGN" sign "${K[@]}" --in-place held.sis
expect_rc 0 "--in-place waits for the lock"
check '[ "$(chains held.sis)" = 1 ]' "after waiting: signed"
holder=

# --in-place on a symlink: the target is signed, the link stays.
cp p.sis target.sis
ln -s target.sis link.sis
run "$SISIGN" sign "${K[@]}" --in-place link.sis
expect_rc 0 "--in-place on a symlink"
check '[ -L link.sis ] && [ "$(readlink link.sis)" = target.sis ]' "--in-place: the symlink is kept"
check '[ "$(chains target.sis)" = 1 ]' "--in-place on a symlink: the target is signed"
mkdir -p lk
cp p.sis lk/t.sis
ln -s t.sis lk/l.sis
run "$SISIGN" sign "${K[@]}" --in-place lk/l.sis lk/other.sis
check '[ -L lk/l.sis ] && [ "$(chains lk/t.sis)" = 1 ]' "batch --in-place on a symlink: target signed, link kept"

# ---- 8: permissions ------------------------------------------------------------
cp p.sis suid.sis
chmod 4755 suid.sis
run "$SISIGN" sign "${K[@]}" --in-place suid.sis
expect_rc 0 "--in-place on a setuid file"
check '[ "$(stat -c %a suid.sis)" = 755 ]' "--in-place drops setuid: mode $(stat -c %a suid.sis)"
cp p.sis suid2.sis
chmod 6755 suid2.sis
mkdir -p sgid
cp p.sis sgid/s.sis
chmod 2775 sgid/s.sis
run sh -c 'umask 077 && exec "$@"' sh "$SISIGN" sign "${K[@]}" -o m_o.sis suid2.sis
expect_rc 0 "-o under umask 077"
check '[ "$(stat -c %a m_o.sis)" = 700 ]' "-o: input's bits less the umask, no setuid: $(stat -c %a m_o.sis)"
run sh -c 'umask 077 && exec "$@"' sh "$SISIGN" sign "${K[@]}" --out-dir m_dir -q suid2.sis
expect_rc 0 "--out-dir under umask 077"
check '[ "$(stat -c %a m_dir/suid2.sis)" = 600 ]' "--out-dir: 0644 less the umask: $(stat -c %a m_dir/suid2.sis)"
run sh -c 'umask 027 && exec "$@"' sh "$SISIGN" sign "${K[@]}" --suffix _s -q sgid/s.sis
expect_rc 0 "--suffix under umask 027"
check '[ "$(stat -c %a sgid/s_s.sis)" = 750 ]' "--suffix: input's bits less the umask, no setgid: $(stat -c %a sgid/s_s.sis)"
chmod 2775 sgid/s_s.sis
run sh -c 'umask 022 && exec "$@"' sh "$SISIGN" unsign --in-place sgid/s_s.sis
expect_rc 0 "unsign --in-place on a setgid file"
check '[ "$(stat -c %a sgid/s_s.sis)" = 775 ]' "unsign --in-place drops setgid: $(stat -c %a sgid/s_s.sis)"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
