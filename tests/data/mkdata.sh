#!/bin/bash
# Regenerate the golden outputs in tests/data/golden/ with a built sisign:
#   SISIGN=build/src/sisign tests/data/mkdata.sh
# or only make them in DIR (what test_golden.sh does), leaving SHA256SUMS:
#   SISIGN=build/src/sisign tests/data/mkdata.sh --out DIR
# Packing uses a fixed creation time and RSA PKCS#1 v1.5 signatures are
# deterministic, so the outputs are byte-stable: test_golden.sh compares
# their SHA-256 with SHA256SUMS.  Regenerate only for an intended change to
# what sisign writes, and say why in the commit.  (golden.key is a test-only
# key, made with: openssl genrsa -traditional 2048; golden.pem with
# openssl req -x509 -days 36500 -set_serial 1 -addext extendedKeyUsage=codeSigning;
# app.bin, an E32 header image and no real program, with: tests/tools/mke32.py
# app.bin --uid3 0xE0C0FFEE --caps ReadUserData,NetworkServices --pad 4844.)
set -euo pipefail
here=$(cd "$(dirname "$0")/golden" && pwd)
sisign=${SISIGN:?set SISIGN to the built sisign}
if [ "${1:-}" = --out ]; then
	tmp=${2:?--out DIR}
	update=0
else
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	update=1
fi
key=$tmp/golden-key.pem
cp "$here/golden.key" "$key"
chmod 600 "$key"
"$sisign" pack --uid 0xE0C0FFEE --name Golden --name Kultainen -l EN -l FI --vendor "sisign tests" \
	--version 1.2.3 --s60v3 --created 2026-01-01T00:00:00Z \
	-f "$here/app.bin=!:\\sys\\bin\\golden.exe,caps=ReadUserData+NetworkServices" \
	-f "$here/hello.txt=!:\\private\\E0C0FFEE\\hello.txt" -o "$tmp/golden.sis"
"$sisign" sign --key "$key" --cert "$here/golden.pem" -o "$tmp/golden_signed.sis" "$tmp/golden.sis"
rm -f "$key"
if [ "$update" = 1 ]; then
	(cd "$tmp" && sha256sum golden.sis golden_signed.sis) > "$here/SHA256SUMS"
	cat "$here/SHA256SUMS"
fi
