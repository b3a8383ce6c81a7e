#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sisign sign / unsign / verify with key files.  Every new signature is
# checked independently: a small Python SIS reader (below, no sisign code)
# extracts the signed region, signature and certificates of each chain per
# sis-format.md §7.1/§7.3, and plain `openssl dgst -sha1 -verify` checks it.
# Env: SISIGN (the built CLI), SISIGN_CORPUS (optional: corpus parts skip).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

TU_STDERR_ICASE=1
. "$(dirname "$0")/lib/common.sh"
tu_init sign-file
unset SISIGN_PASS SISIGN_PIN

# No temp files (anything but the listed names) in a directory.
expect_dir_only() { # DIR DESC NAME...
	local d=$1 desc=$2 extra
	shift 2
	checks=$((checks + 1))
	extra=$(cd "$d" && ls -A | grep -vxF -f <(printf '%s\n' "$@") || true)
	[ -z "$extra" ] || fail "$desc: stray files in $d: $extra"
}

# ---- independent checker ---------------------------------------------------

. "$(dirname "$0")/lib/openssl_check.sh"

# pubkey_of KEY / pubkey_of_cert CERT: for pairing checks.
pubkey_of() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pubkey_of_cert() { openssl x509 -in "$1" -pubkey -noout 2>/dev/null; }

# ---- fresh keys --------------------------------------------------------------

cd "$T" || exit 1
cat >"$T/cs.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[v3cs]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
EOF
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl req -new -x509 -key rsa.key -sha256 -days 365 -subj "/CN=sisign test RSA" -config cs.cnf \
	-extensions v3cs -out rsa.crt 2>/dev/null
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa2048.param 2>/dev/null
openssl genpkey -paramfile dsa2048.param -out dsa2048.key 2>/dev/null
openssl req -new -x509 -key dsa2048.key -sha256 -days 365 -subj "/CN=sisign test DSA2048" -config cs.cnf \
	-extensions v3cs -out dsa2048.crt 2>/dev/null
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160 \
	-out dsa1024.param 2>/dev/null
openssl genpkey -paramfile dsa1024.param -out dsa1024.key 2>/dev/null
openssl req -new -x509 -key dsa1024.key -sha1 -days 365 -subj "/CN=sisign test DSA1024" -config cs.cnf \
	-extensions v3cs -out dsa1024.crt 2>/dev/null
openssl pkcs8 -topk8 -in rsa.key -v2 aes-256-cbc -passout pass:s3cret-pass -out rsa-enc.p8 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
for f in rsa.crt dsa2048.crt dsa1024.crt rsa-enc.p8 other.key; do
	[ -s "$f" ] || { echo "FAIL: could not make $f with openssl"; exit 1; }
done

printf 'hello symbian\n' >payload.txt
head -c 5000 /dev/urandom >payload.bin
run "$SISIGN" pack --uid 0xE0001234 --name "Sign test" --vendor "sisign" --created 2020-01-01 \
	-f 'payload.txt=!:\data\hello.txt' -f 'payload.bin=!:\data\rnd.bin' -o pkg.sis
expect_rc 0 "pack"
chmod 640 pkg.sis
sum_pkg=$(sha256sum <pkg.sis)

# ---- sign with fresh keys, check with openssl ----------------------------------

for kind in rsa dsa2048 dsa1024; do
	mkdir -p "o-$kind"
	run "$SISIGN" sign --key $kind.key --cert $kind.crt -o "o-$kind/s.sis" pkg.sis
	expect_rc 0 "sign $kind"
	if [ "$kind" = rsa ]; then
		expect_no_stderr "sign $kind"
	fi
	check_chains "o-$kind/s.sis" 1 "sign $kind"
	checks=$((checks + 1))
	[ "$(stat -c %a "o-$kind/s.sis")" = 640 ] || fail "sign $kind: output mode $(stat -c %a "o-$kind/s.sis"), expected input's 640"
	run "$SISIGN" verify "o-$kind/s.sis"
	expect_rc 10 "verify $kind without trust (self-signed)"
	expect_stdout_has "self-signed" "verify $kind without trust"
	run "$SISIGN" verify --trust $kind.crt "o-$kind/s.sis"
	expect_rc 0 "verify $kind --trust own cert"
	expect_stdout_has ": trusted" "verify $kind --trust"
	run "$SISIGN" unsign -o "o-$kind/u.sis" "o-$kind/s.sis"
	expect_rc 0 "unsign $kind"
	checks=$((checks + 1))
	cmp -s pkg.sis "o-$kind/u.sis" || fail "unsign $kind: not byte-identical to the packed original"
done
checks=$((checks + 1))
[ "$(sha256sum <pkg.sis)" = "$sum_pkg" ] || fail "input changed by signing"

# Encrypted PKCS#8: SISIGN_PASS, --pass-file, --pass-fd, wrong passphrase.
run env SISIGN_PASS=s3cret-pass "$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt -o enc1.sis pkg.sis
expect_rc 0 "encrypted key via SISIGN_PASS"
check_chains enc1.sis 1 "encrypted key via SISIGN_PASS"
printf 's3cret-pass\n' >pass.txt
chmod 600 pass.txt
run "$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt --pass-file pass.txt -o enc2.sis pkg.sis
expect_rc 0 "encrypted key via --pass-file"
check_chains enc2.sis 1 "encrypted key via --pass-file"
"$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt --pass-fd 3 -o enc3.sis pkg.sis 3<pass.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 0 "encrypted key via --pass-fd"
check_chains enc3.sis 1 "encrypted key via --pass-fd"
chmod 644 pass.txt
run "$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt --pass-file pass.txt -o enc4.sis pkg.sis
expect_rc 5 "--pass-file readable by others"
expect_absent enc4.sis "--pass-file readable by others"
run env SISIGN_PASS=wrong "$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt -o enc5.sis pkg.sis
expect_rc 5 "wrong passphrase"
expect_absent enc5.sis "wrong passphrase"
# --pass-fd wins over SISIGN_PASS
printf 'wrong\n' >badpass.txt
SISIGN_PASS=s3cret-pass "$SISIGN" sign --key rsa-enc.p8 --cert rsa.crt --pass-fd 3 -o enc6.sis pkg.sis 3<badpass.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 5 "--pass-fd takes precedence over SISIGN_PASS"
expect_absent enc6.sis "--pass-fd precedence"

# Multi-chain: sign twice (RSA then DSA): both chains verify with openssl.
run "$SISIGN" sign --key dsa2048.key --cert dsa2048.crt -o multi.sis o-rsa/s.sis
expect_rc 0 "second chain"
check_chains multi.sis 2 "two chains"
run "$SISIGN" verify --trust rsa.crt --trust dsa2048.crt multi.sis
expect_rc 0 "verify two chains trusted"
run "$SISIGN" unsign -o multi-u.sis multi.sis
expect_rc 0 "unsign last of two"
checks=$((checks + 1))
cmp -s multi-u.sis o-rsa/s.sis || fail "removing the last chain does not give back the one-chain file"
run "$SISIGN" unsign --all -o multi-all.sis multi.sis
expect_rc 0 "unsign --all"
checks=$((checks + 1))
cmp -s multi-all.sis pkg.sis || fail "unsign --all does not give back the unsigned file"
run "$SISIGN" unsign -o nothing.sis pkg.sis
expect_rc 1 "unsign an unsigned package"
expect_stderr_has "not signed" "unsign unsigned"
expect_absent nothing.sis "unsign unsigned"

# ---- command line rules ----------------------------------------------------------

run "$SISIGN" sign --key rsa.key --cert rsa.crt pkg.sis
expect_rc 2 "neither -o nor --in-place"
run "$SISIGN" sign --key rsa.key --cert rsa.crt -o x.sis --in-place pkg.sis
expect_rc 2 "-o and --in-place"
run "$SISIGN" sign --key rsa.key --cert rsa.crt -o pkg.sis pkg.sis
expect_rc 2 "-o IN without --in-place"
run "$SISIGN" sign --key rsa.key --cert rsa.crt -o ./pkg.sis pkg.sis
expect_rc 2 "-o ./IN (same file) without --in-place"
run "$SISIGN" sign --key rsa.key -o x.sis pkg.sis
expect_rc 2 "key file without --cert"
cp pkg.sis inplace.sis
chmod 604 inplace.sis
run "$SISIGN" sign --key rsa.key --cert rsa.crt --in-place inplace.sis
expect_rc 0 "--in-place"
check_chains inplace.sis 1 "--in-place"
checks=$((checks + 1))
[ "$(stat -c %a inplace.sis)" = 604 ] || fail "--in-place changed the mode to $(stat -c %a inplace.sis)"

# ---- failures leave nothing behind ---------------------------------------------------

mkdir neg
run "$SISIGN" sign --key other.key --cert rsa.crt -o neg/out.sis pkg.sis
expect_rc 5 "wrong key/cert pair"
expect_stderr_has "does not belong" "wrong key/cert pair"
expect_absent neg/out.sis "wrong key/cert pair"
expect_dir_only neg "wrong key/cert pair"
openssl req -new -x509 -key rsa.key -days 1 -subj "/CN=expired" -set_serial 7 \
	-not_before 20000101000000Z -not_after 20010101000000Z -out expired.crt 2>/dev/null ||
	openssl x509 -in rsa.crt -signkey rsa.key -days -1 -out expired.crt 2>/dev/null
if [ -s expired.crt ]; then
	run "$SISIGN" sign --key rsa.key --cert expired.crt -o neg/out.sis pkg.sis
	expect_rc 5 "expired certificate"
	expect_absent neg/out.sis "expired certificate"
	run "$SISIGN" sign --key rsa.key --cert expired.crt --allow-expired -o neg/exp.sis pkg.sis
	expect_rc 0 "expired certificate with --allow-expired"
	expect_stderr_has "warning:" "expired certificate with --allow-expired"
	check_chains neg/exp.sis 1 "--allow-expired"
	rm -f neg/exp.sis
fi
run "$SISIGN" sign --key nonexistent.key --cert rsa.crt -o neg/out.sis pkg.sis
expect_rc 3 "missing key file (I/O)"
expect_absent neg/out.sis "missing key file"
expect_dir_only neg "after negative cases"

# ---- corpus ----------------------------------------------------------------------

if [ -z "${SISIGN_CORPUS:-}" ] || [ ! -d "$SISIGN_CORPUS/sis" ]; then
	echo "note: SISIGN_CORPUS absent: corpus part skipped"
else
	C=$SISIGN_CORPUS
	CA=$C/certs/test/tsisfile/data/signedsis/Root5CA
	RK=$C/certs/signedsis/Root5CA/cert_chain_rsa_len1/rsa1.key
	RC=$CA/cert_chain_rsa_len1/chain_rsa_len1.cert.pem
	DK=$C/certs/signedsis/Root5CA/cert_chain_dsa_len1/dsa1.key
	DC=$CA/cert_chain_dsa_len1/chain_dsa_len1.cert.pem
	checks=$((checks + 1))
	[ "$(pubkey_of "$RK")" = "$(pubkey_of_cert "$RC")" ] || fail "corpus RSA key/cert do not pair (openssl)"
	checks=$((checks + 1))
	[ "$(pubkey_of "$DK")" = "$(pubkey_of_cert "$DC")" ] || fail "corpus DSA key/cert do not pair (openssl)"
	D=$C/sis/secureswitools/swianalysistoolkit/test
	for f in tchainvalidity/data/unsigned.sis tinstallfilestatus/data/testfor2exes_unsigned.sis; do
		name=$(basename "$f" .sis)
		before=$(sha256sum <"$D/$f")
		for kt in R D; do
			if [ $kt = R ]; then k=$RK c=$RC; else k=$DK c=$DC; fi
			run "$SISIGN" sign --key "$k" --cert "$c" -o "c-$name-$kt.sis" "$D/$f"
			expect_rc 5 "corpus $name ($kt): expired certificate without --allow-expired"
			expect_absent "c-$name-$kt.sis" "corpus $name expired"
			run "$SISIGN" sign --key "$k" --cert "$c" --allow-expired -o "c-$name-$kt.sis" "$D/$f"
			expect_rc 0 "corpus $name ($kt): sign"
			check_chains "c-$name-$kt.sis" 1 "corpus $name ($kt)"
			run "$SISIGN" verify --trust "$CA/ca.pem" --at 2008-06-01T00:00:00Z "c-$name-$kt.sis"
			expect_rc 0 "corpus $name ($kt): trusted under Root5CA at 2008-06-01"
			run "$SISIGN" unsign -o "c-$name-$kt-u.sis" "c-$name-$kt.sis"
			expect_rc 0 "corpus $name ($kt): unsign"
			checks=$((checks + 1))
			if ! cmp -s "$D/$f" "c-$name-$kt-u.sis"; then
				fail "corpus $name ($kt): sign+unsign is not byte-identical: $(cmp -l "$D/$f" "c-$name-$kt-u.sis" 2>&1 | head -5 | tr '\n' ' ') sizes $(stat -c %s "$D/$f") $(stat -c %s "c-$name-$kt-u.sis")"
			fi
		done
		checks=$((checks + 1))
		[ "$(sha256sum <"$D/$f")" = "$before" ] || fail "corpus $name: input changed"
	done

	# An already-signed corpus package gets a second chain; both verify.
	S1=$D/tchainvalidity/data/onechain.sis
	run "$SISIGN" sign --key "$RK" --cert "$RC" --allow-expired -o c-two.sis "$S1"
	expect_rc 0 "sign already-signed corpus file"
	check_chains c-two.sis 2 "already-signed corpus file + one chain"
	run "$SISIGN" unsign -o c-two-u.sis c-two.sis
	expect_rc 0 "unsign the added chain"
	checks=$((checks + 1))
	cmp -s "$S1" c-two-u.sis || fail "already-signed corpus file: sign+unsign not byte-identical"

	# Refusals: hash mismatch, ROM stub / non-SIS, corrupt.
	TS=$C/sis/secureswitools/swisistools/test/tsignsis/data
	for f in eshell_hybrid.sis nonsisfile.sis corrupted.sis; do
		before=$(sha256sum <"$TS/$f")
		run "$SISIGN" sign --key "$RK" --cert "$RC" --allow-expired -o neg/$f "$TS/$f"
		case $f in
		eshell_hybrid.sis) expect_rc 8 "$f: hash mismatch refused"
			expect_stderr_has "SHA-1 does not match" "$f" ;;
		*) checks=$((checks + 1))
			[ "$rc" -eq 4 ] || fail "$f: exit $rc, expected 4 (not a signable package)" ;;
		esac
		checks=$((checks + 1))
		# The file hashes are checked as the signed package is written,
		# after the key is loaded: its own warnings (expired, weak) may
		# come first, then the one error line.
		[ "$(grep -vc ': warning: ' "$T/err")" -eq 1 ] || fail "$f: error is not one clear line"
		expect_absent neg/$f "$f"
		checks=$((checks + 1))
		[ "$(sha256sum <"$TS/$f")" = "$before" ] || fail "$f: input changed"
	done
	expect_dir_only neg "corpus refusals"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
