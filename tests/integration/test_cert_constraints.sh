#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 3, certificate side: `info` and `verify` show what a Symbian
# developer certificate limits a package to (install-rules.md §5): device IDs,
# SIDs, VIDs and capabilities, one line per certificate that carries them,
# an empty list as allowing none, capability bits >= 20 ignored, and a
# certificate whose extensions do not decode (wrong tag, overlong length,
# too many entries) named with the reason, exit status unchanged, nothing on
# stderr.  The certificates come from tests/tools/mkdevcert.sh, which this
# also exercises.
# Env: SISIGN, SISIGN_SRCDIR, SISIGN_CORPUS (optional: Symbian's devcert packages).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init cert-constraints
MK=${SISIGN_SRCDIR:-$(dirname "$0")/../..}/tests/tools/mkdevcert.sh
cd "$T" || exit 1
unset SISIGN_PASS SISIGN_PIN
cs=(--eku codeSigning)

# 5000 SIDs: past the 4096-entry cap.
many=$(seq -s, 1 5000)
{ bash "$MK" --ca root &&
	bash "$MK" --issuer root "${cs[@]}" leaf &&
	bash "$MK" --issuer root "${cs[@]}" --devices 004400013622431,354000000000001 --sids 0xE0001234,0xE0005678 \
		--vids 0x70000001 --caps ReadUserData+WriteUserData+Location all &&
	bash "$MK" --issuer root --ca --sids 0xE0001234,0xE0009999 ca-sids &&
	bash "$MK" --issuer ca-sids "${cs[@]}" --sids 0xE0001234,0xE0005678 under-ca &&
	bash "$MK" --issuer root "${cs[@]}" --sids "" --caps "" empty &&
	bash "$MK" --issuer root "${cs[@]}" --caps 20+25+31 highcaps &&
	bash "$MK" --issuer root "${cs[@]}" --ext 1.2.826.0.1.1796587.1.1.1.4=30030c0131 wrongtag &&
	bash "$MK" --issuer root "${cs[@]}" --ext 1.2.826.0.1.1796587.1.1.1.5=3005020101 overlong &&
	bash "$MK" --issuer root "${cs[@]}" --sids "$many" huge; } || { echo "FAIL: mkdevcert.sh"; exit 1; }

echo payload >f.txt
"$SISIGN" pack --uid 0xE0001234 --name C --vendor V --version 1.0.0 -f 'f.txt=!:\data\f.txt' -o p.sis ||
	{ echo "FAIL: pack"; exit 1; }
for c in leaf all under-ca empty highcaps wrongtag overlong huge; do
	"$SISIGN" sign --key $c.key --cert $c.chain.pem -o s-$c.sis p.sis || { echo "FAIL: sign with $c"; exit 1; }
done

# info: expect_limits FILE LINE...: the "Limits:" lines of FILE are exactly LINEs.
expect_limits() {
	local f=$1 want got
	shift
	want=$(printf '%s\n' "$@")
	run "$SISIGN" info "$f"
	expect_rc 0 "info $f"
	expect_no_stderr "info $f"
	got=$(grep 'Limits:' "$T/out" | sed 's/^ *//')
	checks=$((checks + 1))
	[ "$got" = "$want" ] || fail "info $f: Limits lines
got:  $got
want: $want"
}
P='Limits:     '
expect_limits s-leaf.sis ""
expect_limits s-all.sis "${P}signer certificate is limited to device IDs 004400013622431, 354000000000001; SIDs 0xe0001234, 0xe0005678; VIDs 0x70000001; capabilities ReadUserData+WriteUserData+Location"
expect_limits s-under-ca.sis "${P}signer certificate is limited to SIDs 0xe0001234, 0xe0005678" \
	"${P}certificate 2 is limited to SIDs 0xe0001234, 0xe0009999"
expect_limits s-empty.sis "${P}signer certificate is limited to SIDs none (an empty list allows none); capabilities none (an empty set grants none)"
expect_limits s-highcaps.sis "${P}signer certificate is limited to capabilities none (an empty set grants none)"
expect_limits s-wrongtag.sis "${P}signer certificate: constraint extensions do not decode, the device refuses the chain: SID list extension (1.2.826.0.1.1796587.1.1.1.4) does not decode: entry 1: element of the wrong tag"
expect_limits s-overlong.sis "${P}signer certificate: constraint extensions do not decode, the device refuses the chain: VID list extension (1.2.826.0.1.1796587.1.1.1.5) does not decode: length runs past the end of the extension"
expect_limits s-huge.sis "${P}signer certificate: constraint extensions do not decode, the device refuses the chain: SID list extension (1.2.826.0.1.1796587.1.1.1.4) does not decode: entry 4097: more than 4096 entries"

# Symbian's own developer-certificate test packages (when the corpus is
# there): every list empty, 03 00 as the capability set (the device's empty
# bit string, not a decoding failure); ten entries per list.
C=${SISIGN_CORPUS:-/nonexistent}/sis/secureswitools/swianalysistoolkit/test/tchainvalidity/data
if [ -f "$C/simple_emptydev_signed.sis" ] && [ -f "$C/simple_devallsigned.sis" ]; then
	N='none (an empty list allows none)'
	expect_limits "$C/simple_emptydev_signed.sis" "${P}signer certificate is limited to device IDs $N; SIDs $N; VIDs $N; capabilities none (an empty set grants none)"
	expect_limits "$C/simple_devallsigned.sis" "${P}signer certificate is limited to device IDs 11111111-222222-3-41, 11111111-222222-3-42, 11111111-222222-3-43, 11111111-222222-3-44, 11111111-222222-3-45, 11111111-222222-3-46, 11111111-222222-3-47, 11111111-222222-3-48, ... (10 in all); SIDs 0x11000001, 0x11000002, 0x11000003, 0x11000004, 0x11000005, 0x11000006, 0x11000007, 0x11000008, ... (10 in all); VIDs 0x70000001, 0x70000002, 0x70000003, 0x70000004, 0x70000005, 0x70000006, 0x70000007, 0x70000008, ... (10 in all); capabilities ReadUserData+WriteUserData+Location"
else
	echo "note: corpus absent, Symbian's developer-certificate packages not checked"
fi

# verify: the same lines, and the verdict does not change.
run "$SISIGN" verify s-under-ca.sis
expect_rc 10 "verify: self-signed chain (root not trusted)"
expect_stdout_has "limits:  signer certificate is limited to SIDs 0xe0001234, 0xe0005678" "verify: signer's limits"
expect_stdout_has "limits:  certificate 2 is limited to SIDs 0xe0001234, 0xe0009999" "verify: CA's limits"
run "$SISIGN" verify --trust root.pem s-all.sis
expect_rc 0 "verify: trusted"
expect_stdout_has "limits:  signer certificate is limited to device IDs 004400013622431" "verify: devices"
run "$SISIGN" verify --trust root.pem s-wrongtag.sis
expect_rc 0 "verify: the verdict is about the signature, not the extensions"
expect_stdout_has "does not decode: entry 1: element of the wrong tag" "verify: the reason"
run "$SISIGN" verify --trust root.pem s-leaf.sis
expect_rc 0 "verify: plain leaf"
checks=$((checks + 1))
grep -q 'limits:' "$T/out" && fail "verify: no limits line for a certificate without constraints"

# The helper's certificates: EKU as asked, extensions in DER as §5 says.
# ext OID: the hex dump of that extension's value in all.pem.
ext() { openssl asn1parse -in all.pem 2>/dev/null | grep -A1 ":$1\$" | sed -n 's/.*HEX DUMP\]://p'; }
checks=$((checks + 1))
[ "$(ext 1.2.826.0.1.1796587.1.1.1.6)" = 0304060001C0 ] || fail "mkdevcert: capability BIT STRING ($(ext 1.2.826.0.1.1796587.1.1.1.6))"
checks=$((checks + 1))
[ "$(ext 1.2.826.0.1.1796587.1.1.1.4)" = 300E020500E0001234020500E0005678 ] || fail "mkdevcert: SID list ($(ext 1.2.826.0.1.1796587.1.1.1.4))"
checks=$((checks + 1))
[ "$(ext 1.2.826.0.1.1796587.1.1.1.5)" = 3006020470000001 ] || fail "mkdevcert: VID list"
checks=$((checks + 1))
openssl x509 -in leaf.pem -noout -ext extendedKeyUsage 2>/dev/null | grep -q 'Code Signing' || fail "mkdevcert: EKU"
checks=$((checks + 1))
[ -z "$(openssl x509 -in root.pem -noout -ext extendedKeyUsage 2>/dev/null)" ] || fail "mkdevcert: no EKU by default"
checks=$((checks + 1))
[ "$(grep -c 'BEGIN CERTIFICATE' under-ca.chain.pem)" = 3 ] || fail "mkdevcert: chain file holds leaf, CA and root"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
