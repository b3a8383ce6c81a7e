#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 11 item 2: verify's overall verdict is the worst of every
# controller's (the device checks each embedded package on its own), in
# text, JSON and the exit status, single files and batches; and verify warns
# when the header's UID3 differs from the package UID, as info does.
# Env: SISIGN, SISIGN_SRCDIR, SISIGN_CORPUS (the embedded cases need it).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
. "$(dirname "$0")/lib/common.sh"
tu_init verify-embedded
TOOLS=${SISIGN_SRCDIR:-$(dirname "$0")/../..}/tests/tools
unset SISIGN_PASS SISIGN_PIN

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/a.key" -out "$T/a.pem" -days 30 \
	-subj "/CN=endorse A" -addext extendedKeyUsage=codeSigning 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
A=(--key "$T/a.key" --cert "$T/a.pem")

# ---- UID3 warning (no corpus needed) ---------------------------------------------
echo "payload" >"$T/f.txt"
"$SISIGN" pack --uid 0xE0001111 --name A --vendor V --version 1.0.0 -f "$T/f.txt=!:\\data\\f.txt" \
	-o "$T/p.sis" || { echo "FAIL: pack"; exit 1; }
"$SISIGN" sign "${A[@]}" -o "$T/p1.sis" "$T/p.sis" || { echo "FAIL: sign"; exit 1; }
python3 "$TOOLS/sistamper.py" uid3 "$T/p1.sis" "$T/uid3.sis" 0xE0002222 || { echo "FAIL: sistamper"; exit 1; }
run "$SISIGN" verify --trust "$T/a.pem" "$T/uid3.sis"
expect_rc 0 "a UID3 mismatch does not change the verdict"
expect_stdout_has "warning: header UID3 0xe0002222 differs from the package UID 0xe0001111" "text warns about UID3"
run "$SISIGN" verify --json --trust "$T/a.pem" "$T/uid3.sis"
expect_rc 0 "JSON: exit from the verdict"
check "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"uid3_matches\"] is False and any(\"UID3\" in w for w in d[\"warnings\"]), d' '$T/out'" \
	"JSON: uid3_matches false and a warning"
run "$SISIGN" verify --json --trust "$T/a.pem" "$T/p1.sis"
check "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"uid3_matches\"] is True and d[\"warnings\"] == [] and d[\"verdict_from\"] == {\"depth\": 0, \"uid\": \"0xe0001111\"}, d' '$T/out'" \
	"JSON: a matching UID3 gives no warning; the top level decides"

# ---- embedded packages (corpus) ------------------------------------------------------
C=${SISIGN_CORPUS:-/nonexistent}/sis/installationservices/swi/test
if [ ! -f "$C/tsishelper/data/test1.sis" ] || [ ! -f "$C/trevocation/sisInteg/armv5/ocsprevocation.sis" ]; then
	echo "note: corpus absent, embedded cases not run"
	echo "$checks checks, $failures failures"
	[ "$failures" -eq 0 ]
	exit
fi
# test1.sis: unsigned, with one unsigned embedded package (UID 0x10000002).
# ocsprevocation.sis: signed, its embedded package (0xa0000267) signed by a
# root not given here.  Each gets a top-level chain by A, trusted below.
"$SISIGN" sign "${A[@]}" -o "$T/emb_unsigned.sis" "$C/tsishelper/data/test1.sis" || { echo "FAIL: sign test1"; exit 1; }
"$SISIGN" sign "${A[@]}" -o "$T/emb_untrusted.sis" "$C/trevocation/sisInteg/armv5/ocsprevocation.sis" ||
	{ echo "FAIL: sign ocsprevocation"; exit 1; }

run "$SISIGN" verify --trust "$T/a.pem" "$T/emb_unsigned.sis"
expect_rc 11 "trusted top level, unsigned embedded package: unsigned"
expect_stdout_has "emb_unsigned.sis: unsigned (embedded package UID 0x10000002 is unsigned)" "text names the embedded package"
expect_stdout_has "top-level controller, UID 0x10000004: trusted" "the top level's own verdict stays"
expect_stdout_has "embedded controller, UID 0x10000002: unsigned" "the embedded one's verdict"

run "$SISIGN" verify --json --trust "$T/a.pem" "$T/emb_unsigned.sis"
expect_rc 11 "JSON: unsigned embedded package"
check "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"verdict\"] == \"unsigned\" and d[\"verdict_from\"] == {\"depth\": 1, \"uid\": \"0x10000002\"} and d[\"top\"][\"verdict\"] == \"trusted\" and d[\"top\"][\"embedded\"][0][\"verdict\"] == \"unsigned\", d' '$T/out'" \
	"JSON: overall unsigned, from the embedded controller"

run "$SISIGN" verify --trust "$T/a.pem" "$T/emb_untrusted.sis"
expect_rc 9 "trusted top level, untrusted embedded package: untrusted"
expect_stdout_has "emb_untrusted.sis: untrusted (embedded package UID 0xa0000267 is untrusted)" "text names it"

# Several files: the worst wins, and the batch engine agrees.
run "$SISIGN" verify --trust "$T/a.pem" "$T/p1.sis" "$T/emb_untrusted.sis"
expect_rc 9 "two files: the worst verdict"
mkdir "$T/dir"
cp "$T/emb_unsigned.sis" "$T/emb_untrusted.sis" "$T/p1.sis" "$T/dir/"
run "$SISIGN" verify --trust "$T/a.pem" -r --json -q "$T/dir"
expect_rc 11 "batch verify: the worst of the files"
check "python3 -c '
import json, sys
v = {d[\"input\"].rsplit(\"/\", 1)[1]: d[\"verdict\"] for d in map(json.loads, open(sys.argv[1]))}
assert v == {\"emb_unsigned.sis\": \"unsigned\", \"emb_untrusted.sis\": \"untrusted\", \"p1.sis\": \"trusted\"}, v
' '$T/out'" "batch verify: per-file verdicts count embedded packages"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
