#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 11 item 1: sign never adds a chain to a package whose existing
# chains the device refuses (a signature that does not verify, an MD2/MD5
# "fake" chain): exit 8 naming the chain and suggesting unsign --all, before
# any passphrase is asked for; in a batch the file's status is "error" with
# that message, and --dry-run reports it the same way.  Nothing is written.
# Env: SISIGN, SISIGN_SRCDIR, SISIGN_CORPUS (optional: the MD2 package).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
. "$(dirname "$0")/lib/common.sh"
tu_init bad-chains
TOOLS=${SISIGN_SRCDIR:-$(dirname "$0")/../..}/tests/tools
unset SISIGN_PASS SISIGN_PIN

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/a.key" -out "$T/a.pem" -days 30 \
	-subj "/CN=endorse A" -addext extendedKeyUsage=codeSigning 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
openssl pkey -in "$T/a.key" -aes256 -passout pass:secret -out "$T/a_enc.key" 2>/dev/null || exit 1
A=(--key "$T/a.key" --cert "$T/a.pem")

echo "payload" >"$T/f.txt"
"$SISIGN" pack --uid 0xE0001111 --name A --vendor V --version 1.0.0 -f "$T/f.txt=!:\\data\\f.txt" \
	-o "$T/p.sis" || { echo "FAIL: pack"; exit 1; }
"$SISIGN" sign "${A[@]}" -o "$T/p1.sis" "$T/p.sis" || { echo "FAIL: first signature"; exit 1; }
python3 "$TOOLS/sistamper.py" sig "$T/p1.sis" "$T/bad.sis" || { echo "FAIL: sistamper"; exit 1; }
run "$SISIGN" verify "$T/bad.sis"
expect_rc 8 "the tampered package verifies as invalid (test premise)"

# ---- one package --------------------------------------------------------------
run "$SISIGN" sign "${A[@]}" -o "$T/out.sis" "$T/bad.sis"
expect_rc 8 "sign a package with a bad chain"
expect_stderr_has "signature chain 1 of 1 in the top-level controller" "names the bad chain"
expect_stderr_has 'signer "CN=endorse A"' "names its signer"
expect_stderr_has "signature does not verify" "says why"
expect_stderr_has "sisign unsign --all" "suggests unsign --all"
expect_absent "$T/out.sis" "no output for a refused package"

# Refused before the passphrase is asked for: with no passphrase source and
# no terminal, asking would fail with exit 5.
run "$SISIGN" sign --key "$T/a_enc.key" --cert "$T/a.pem" -o "$T/out.sis" "$T/bad.sis"
expect_rc 8 "refused before any passphrase prompt"
expect_absent "$T/out.sis" "no output (encrypted key)"

# A bad chain under a good one is refused just the same.
python3 "$TOOLS/sistamper.py" sig "$T/p1.sis" "$T/bad_first.sis" 1 || exit 1
"$SISIGN" unsign --all -o "$T/clean.sis" "$T/bad.sis" || { echo "FAIL: unsign --all"; exit 1; }
run "$SISIGN" sign "${A[@]}" -o "$T/out.sis" "$T/clean.sis"
expect_rc 0 "after unsign --all the package signs"
run "$SISIGN" verify --trust "$T/a.pem" "$T/out.sis"
expect_rc 0 "and verifies"

# --resign replaces our own last chain, corrupt or not.
run "$SISIGN" sign "${A[@]}" --resign --suffix _re --json -q "$T/bad.sis"
expect_rc 0 "--resign replaces a corrupt last chain of ours"
run "$SISIGN" verify --trust "$T/a.pem" "$T/bad_re.sis"
expect_rc 0 "the resigned package verifies"
rm -f "$T/bad_re.sis"

# ---- batch and dry run ---------------------------------------------------------
mkdir "$T/in"
cp "$T/p.sis" "$T/in/good.sis"
cp "$T/bad.sis" "$T/in/bad.sis"
for dry in "" --dry-run; do
	run "$SISIGN" sign "${A[@]}" -r --out-dir "$T/o" --json -q $dry "$T/in"
	expect_rc 12 "batch ${dry:-signing}: one package refused"
	check "python3 - '$T/out' '$T/in/bad.sis' '${dry:+checked}' <<'EOF'
import json, sys
recs = {d['input']: d for d in map(json.loads, open(sys.argv[1]))}
bad = recs[sys.argv[2]]
assert bad['status'] == 'error', bad
assert 'chain 1 of 1 in the top-level controller' in bad['error']['message'], bad
assert 'sisign unsign --all' in bad['error']['message'], bad
good = [d for k, d in recs.items() if k != sys.argv[2]][0]
assert good['status'] == (sys.argv[3] or 'done'), good
EOF" "batch ${dry:-signing}: JSON status error with the message"
	expect_absent "$T/o/bad.sis" "batch ${dry:-signing}: no output for the refused package"
done

# ---- the corpus's MD2 "fake" chain ------------------------------------------------
MD2=${SISIGN_CORPUS:-/nonexistent}/sis/installationservices/swi/test/tsisfile/data/files/unsupported_signature_fake_rsa_sha1_md2.sis
if [ -f "$MD2" ]; then
	run "$SISIGN" sign "${A[@]}" -o "$T/md2.sis" "$MD2"
	expect_rc 8 "sign the MD2 fake-chain package"
	expect_stderr_has "is not one the device accepts" "says the algorithm is refused"
	expect_stderr_has "sisign unsign --all" "suggests unsign --all (MD2)"
	expect_absent "$T/md2.sis" "no output (MD2)"
else
	echo "note: corpus absent, MD2 case not run"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
