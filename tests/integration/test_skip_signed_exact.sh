#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 11 item 3: --skip-signed skips only when the output is exactly the
# current input plus one last chain by this identity that verifies (or, for
# an input this identity signed already, exactly the input).  A leftover of
# an older input, an output whose last chain is another key's or is
# corrupt, is signed again and replaced atomically; an input whose own last
# signature is corrupt is refused, never skipped or copied.
# Env: SISIGN, SISIGN_SRCDIR.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3 cmp; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
. "$(dirname "$0")/lib/common.sh"
tu_init skip-exact
TOOLS=${SISIGN_SRCDIR:-$(dirname "$0")/../..}/tests/tools
unset SISIGN_PASS SISIGN_PIN

for k in a b; do
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$k.key" -out "$T/$k.pem" -days 30 \
		-subj "/CN=endorse $k" -addext extendedKeyUsage=codeSigning 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
done
A=(--key "$T/a.key" --cert "$T/a.pem")
B=(--key "$T/b.key" --cert "$T/b.pem")

# pack NAME TEXT OUT: an unsigned package whose stored file data holds TEXT
pack() {
	printf '%s\n' "$2" >"$T/f.txt"
	"$SISIGN" pack --uid 0xE0001111 --name "$1" --vendor V --version 1.0.0 --store \
		-f "$T/f.txt=!:\\data\\f.txt" -o "$3" || { echo "FAIL: pack $3"; exit 1; }
}
# status: the JSON status of the one record in $T/out
status() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["status"])' "$T/out"; }
ino() { stat -c %i "$1"; }
# signed_by FILE CERT: FILE verifies as trusted with CERT as the only root,
# and its last chain's signer is CERT's subject
signed_by() {
	"$SISIGN" verify --json --trust "$2" "$1" >"$T/v.json" 2>/dev/null || return 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["top"]["chains"][-1]["signer_subject"])' \
		"$T/v.json" | grep -qF "$(openssl x509 -in "$2" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
}
sign_skip() { run "$SISIGN" sign --skip-signed --json -q "$@"; }

mkdir "$T/in"
pack P "first version" "$T/in/p.sis"

# ---- a finished earlier run is skipped, its output left alone ------------------
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
expect_rc 0 "first run"
check '[ "$(status)" = done ]' "first run signs"
i0=$(ino "$T/o/p.sis")
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
expect_rc 0 "rerun"
check '[ "$(status)" = skipped ]' "rerun skips an output that is the input plus our chain"
check '[ "$(ino "$T/o/p.sis")" = "$i0" ]' "the skipped output is not rewritten"

# ---- an output left over from an older version of the input -----------------------
pack P "second version" "$T/in/p.sis"
sign_skip "${A[@]}" -r --out-dir "$T/o" --dry-run "$T/in"
check '[ "$(status)" = checked ]' "dry run: a stale output would be signed again, not skipped"
check '[ "$(ino "$T/o/p.sis")" = "$i0" ]' "dry run leaves the stale output"
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
expect_rc 0 "stale output"
check '[ "$(status)" = done ]' "a stale output is signed again"
check 'grep -q "second version" "$T/o/p.sis" && ! grep -q "first version" "$T/o/p.sis"' "the output holds the current input"
check 'signed_by "$T/o/p.sis" "$T/a.pem"' "and verifies, signed by A"
check '[ "$(ino "$T/o/p.sis")" != "$i0" ]' "replaced by a new file (rename), not rewritten in place"

# ---- an output whose last chain is ours but corrupt ------------------------------------
python3 "$TOOLS/sistamper.py" sig "$T/o/p.sis" "$T/tampered.sis" || exit 1
cp "$T/tampered.sis" "$T/o/p.sis"
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
expect_rc 0 "corrupt output"
check '[ "$(status)" = done ]' "an output whose last signature is corrupt is signed again"
check 'signed_by "$T/o/p.sis" "$T/a.pem"' "the new output verifies"

# ---- an output whose last chain is another key's ------------------------------------
"$SISIGN" sign "${B[@]}" -o "$T/o/p.sis" "$T/in/p.sis" || exit 1
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
check '[ "$(status)" = done ]' "an output signed by another key is signed again"
check 'signed_by "$T/o/p.sis" "$T/a.pem"' "now by A"
check 'python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))[\"top\"][\"chains\"]) == 1" "$T/v.json"' \
	"from the input, not on top of B's output"

# ---- an output that is the input plus our chain plus something else -----------------
"$SISIGN" sign "${A[@]}" -o "$T/ab.sis" "$T/in/p.sis" || exit 1
"$SISIGN" sign "${B[@]}" -o "$T/aba.sis" "$T/ab.sis" || exit 1
"$SISIGN" sign "${A[@]}" -o "$T/o/p.sis" "$T/aba.sis" || exit 1
sign_skip "${A[@]}" -r --out-dir "$T/o" "$T/in"
check '[ "$(status)" = done ]' "an output with more than one chain added is signed again"

# ---- an input whose own last signature (ours) is corrupt ---------------------------
mkdir "$T/in2"
python3 "$TOOLS/sistamper.py" sig "$T/ab.sis" "$T/in2/q.sis" || exit 1
sign_skip "${A[@]}" -r --out-dir "$T/o2" "$T/in2"
expect_rc 8 "input with a corrupt last signature (the batch's only file: its exit status)"
check '[ "$(status)" = error ]' "is refused, not skipped"
check 'grep -qF "sisign unsign --all" "$T/out"' "the error suggests unsign --all"
expect_absent "$T/o2/q.sis" "and not copied to --out-dir"
cp "$T/in2/q.sis" "$T/q_before.sis"
sign_skip "${A[@]}" --in-place "$T/in2/q.sis"
check '[ "$(status)" = error ]' "in place: refused too"
check 'cmp -s "$T/in2/q.sis" "$T/q_before.sis"' "in place: the input is unchanged"

# ---- an input signed by us already: copied exactly, then left alone ----------------
mkdir "$T/in3"
cp "$T/ab.sis" "$T/in3/r.sis"
sign_skip "${A[@]}" -r --out-dir "$T/o3" "$T/in3"
check '[ "$(status)" = skipped ]' "an input whose last chain is ours and verifies is skipped"
check 'cmp -s "$T/o3/r.sis" "$T/in3/r.sis"' "and copied unchanged"
i3=$(ino "$T/o3/r.sis")
sign_skip "${A[@]}" -r --out-dir "$T/o3" "$T/in3"
check '[ "$(status)" = skipped ] && [ "$(ino "$T/o3/r.sis")" = "$i3" ]' "rerun: the exact copy is kept"
cp "$T/aba.sis" "$T/o3/r.sis"
sign_skip "${A[@]}" -r --out-dir "$T/o3" "$T/in3"
check '[ "$(status)" = skipped ] && cmp -s "$T/o3/r.sis" "$T/in3/r.sis"' "a different output is replaced by the copy"

check '[ -z "$(find "$T/o" "$T/o3" -name "*.tmp*")" ]' "no temp files left"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
