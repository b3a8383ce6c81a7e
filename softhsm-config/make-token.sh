#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make-token.sh DIR [LABEL] — make a throw-away SoftHSM token for tests,
# demos and CI.  Writes DIR/softhsm2.conf and DIR/tokens/, initialises a
# token LABEL (default "sisign-test") with an RSA-2048 key (label and
# CKA_ID 01 as "sisign", "01") and a self-signed certificate under the same
# label and id, then prints
#     export SOFTHSM2_CONF=DIR/softhsm2.conf
#     pkcs11:token=LABEL;object=sisign;type=private   (the key URI)
# on standard output.  Calling it again with another LABEL adds a token.
#
# Environment:
#   SISIGN_PIN      user PIN (default for tests: 1234)
#   SISIGN_SO_PIN   SO PIN (default: 12345678)
#   SOFTHSM2_MODULE module path (default: Debian's libsofthsm2.so)
#   MAKE_TOKEN_KEY_LABEL / MAKE_TOKEN_KEY_ID  key label / hex id (sisign / 01)
#
#   SISIGN          the sisign program (default: `sisign` on PATH, if any)
#
# With sisign, the key pair is born on the token ("sisign keygen --cert":
# sensitive, never extractable, sign only) and the certificate is stored
# beside it.  Without sisign (e.g. before it is built) the old way remains:
# the key is made with openssl in a private temp dir, imported with
# pkcs11-tool, and the temp key shredded.
# Exit 77 when SoftHSM or the tools are missing (test "skip").
set -euo pipefail

dir=${1:?usage: make-token.sh DIR [LABEL]}
label=${2:-sisign-test}
pin=${SISIGN_PIN:-1234}
sopin=${SISIGN_SO_PIN:-12345678}
module=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
klabel=${MAKE_TOKEN_KEY_LABEL:-sisign}
kid=${MAKE_TOKEN_KEY_ID:-01}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

sisign=${SISIGN:-$(command -v sisign || true)}
if [ -n "$sisign" ] && [ ! -x "$sisign" ]; then
	echo "make-token.sh: SISIGN=$sisign is not executable" >&2
	exit 1
fi
if [ -n "$sisign" ]; then
	tools="softhsm2-util"
else
	tools="softhsm2-util pkcs11-tool openssl"
fi
for tool in $tools; do
	if ! command -v "$tool" >/dev/null; then
		echo "make-token.sh: $tool not found (install softhsm2 / opensc / openssl)" >&2
		exit 77
	fi
done
if [ ! -r "$module" ]; then
	echo "make-token.sh: SoftHSM module $module not found" >&2
	exit 77
fi

mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf
if [ ! -f "$conf" ]; then
	sed "s|@TOKENDIR@|$dir/tokens|" "$here/softhsm2.conf.in" > "$conf"
fi
export SOFTHSM2_CONF=$conf

# softhsm2-util reports the slot the new token landed in; use that slot,
# never the label, since two tokens may share one label.
out=$(softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$sopin")
slot=$(printf '%s\n' "$out" | sed -n 's/.*reassigned to slot \([0-9][0-9]*\).*/\1/p')
if [ -z "$slot" ]; then
	echo "make-token.sh: cannot tell which slot the token went to: $out" >&2
	exit 1
fi

if [ -n "$sisign" ]; then
	# slot-id, not the label alone: two tokens may share one label.
	SISIGN_PIN=$pin "$sisign" keygen --module "$module" --bits 2048 --label "$klabel" --id "$kid" \
		--cert --subject "/CN=sisign test ($label)" --digest sha256 --days 3650 \
		"pkcs11:token=$label;slot-id=$slot" >/dev/null
	echo "export SOFTHSM2_CONF=$conf"
	echo "pkcs11:token=$label;object=$klabel;type=private"
	exit 0
fi

tmp=$(mktemp -d)
trap 'shred -u "$tmp"/key.pem 2>/dev/null || true; rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
openssl req -new -x509 -key "$tmp/key.pem" -sha256 -days 3650 -subj "/CN=sisign test ($label)" \
	-out "$tmp/cert.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -outform DER -out "$tmp/key.der"
openssl pkey -in "$tmp/key.pem" -pubout -outform DER -out "$tmp/pub.der"
openssl x509 -in "$tmp/cert.pem" -outform DER -out "$tmp/cert.der"

p11w() {
	# pkcs11-tool takes the PIN only on its command line: acceptable for a
	# throw-away test token, never for a real one.
	pkcs11-tool --module "$module" --slot "$slot" --login --pin "$pin" "$@" >/dev/null
}
p11w --write-object "$tmp/key.der" --type privkey --id "$kid" --label "$klabel" --usage-sign
p11w --write-object "$tmp/pub.der" --type pubkey --id "$kid" --label "$klabel"
p11w --write-object "$tmp/cert.der" --type cert --id "$kid" --label "$klabel"
shred -u "$tmp/key.pem" "$tmp/key.der" 2>/dev/null || rm -f "$tmp/key.pem" "$tmp/key.der"

echo "export SOFTHSM2_CONF=$conf"
echo "pkcs11:token=$label;object=$klabel;type=private"
