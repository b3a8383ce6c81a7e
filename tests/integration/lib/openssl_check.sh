# SPDX-License-Identifier: Apache-2.0
# Shared by the signing tests: check every top-level chain of a package
# with plain openssl over the region of sis-format.md 7.1, extracted by an
# independent Python reader (tests/tools/sischains.py).  Needs $T, fail()
# and the python3/openssl commands.
TOOLS="${SISIGN_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/tests/tools"

# check_chains FILE WANT_COUNT DESC: every chain's signature verifies with
# openssl over exactly its region, using the first certificate's key.
check_chains() {
	local f=$1 want=$2 desc=$3 d n k
	d=$(mktemp -d "$T/chk.XXXXXX")
	checks=$((checks + 1))
	if ! n=$(python3 "$TOOLS/sischains.py" "$f" "$d" 2>"$d/pyerr"); then
		fail "$desc: independent parser failed: $(cat "$d/pyerr")"
		return
	fi
	[ "$n" -eq "$want" ] || fail "$desc: $n chains, expected $want"
	for ((k = 0; k < n; k++)); do
		checks=$((checks + 1))
		# The certificate blob is concatenated DER: openssl x509 reads the first.
		if ! openssl x509 -inform DER -in "$d/certs$k.der" -pubkey -noout >"$d/pub$k.pem" 2>/dev/null; then
			fail "$desc: chain $k: signer certificate unreadable"
			continue
		fi
		cp "$d/sig$k.bin" "$d/sigx$k.bin"
		if grep -q "^1.2.840.10040.4.3$" "$d/alg$k.txt"; then
			python3 "$TOOLS/derlen.py" "$d/sig$k.bin" "$d/sigx$k.bin"
		elif ! grep -q "^1.2.840.113549.1.1.5$" "$d/alg$k.txt"; then
			fail "$desc: chain $k: unexpected algorithm $(cat "$d/alg$k.txt")"
		fi
		openssl dgst -sha1 -verify "$d/pub$k.pem" -signature "$d/sigx$k.bin" "$d/region$k.bin" \
			>/dev/null 2>&1 || fail "$desc: chain $k: openssl does not verify the signature"
	done
}
