#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packages made by `sisign pack` must satisfy the independent checker
# tests/tools/sischeck.py --strict (written from sis-format.md, not from the
# library); the checker itself is pinned to the worked numbers of
# sis-format.md sec. 2 / 5.14 and accepts known-good corpus files.
set -uo pipefail

: "${SISIGN:?SISIGN must name the CLI}"
: "${SISIGN_SRCDIR:?}"
checker="$SISIGN_SRCDIR/tests/tools/sischeck.py"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
[ -x "$SISIGN" ] || { echo "SKIP: $SISIGN not built"; exit 77; }

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The checker's own arithmetic against the worked examples.
python3 - "$checker" <<'PY' || fail "sischeck.py arithmetic"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("sischeck", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
assert m.crc16(b"123456789") == 0x31C3, hex(m.crc16(b"123456789"))
assert m.uid_checksum(0x10201A7A, 0, 0x11112001) == 0x9C2AFA0B
assert m.uid_checksum(0x10201A7A, 0, 0xE0000001) == 0x65F2F81B
b = bytes.fromhex("7A1A2010000000000120 1111".replace(" ", ""))
assert m.crc16(b[0::2]) == 0xFA0B and m.crc16(b[1::2]) == 0x9C2A
assert m.pad4(190) == 2 and m.pad4(4) == 0
PY

# pack NAME ARGS...: run sisign pack, expect success, empty stderr, and a
# package the checker accepts in strict mode.
pack() {
	local name=$1
	shift
	if ! "$SISIGN" pack "$@" -o "$tmp/$name.sis" 2>"$tmp/$name.err"; then
		fail "$name: sisign pack failed: $(cat "$tmp/$name.err")"
		return
	fi
	[ -s "$tmp/$name.err" ] && fail "$name: stderr not empty: $(cat "$tmp/$name.err")"
	[ -s "$tmp/$name.sis" ] || { fail "$name: no output"; return; }
	python3 "$checker" --strict "$tmp/$name.sis" >/dev/null 2>"$tmp/$name.chk" ||
		fail "$name: sischeck.py rejects it: $(cat "$tmp/$name.chk")"
}

mkdir -p "$tmp/in"
: > "$tmp/in/empty.txt"
printf 'x' > "$tmp/in/one.bin"
yes 'compressible line of text for the zlib path' | head -c 200000 > "$tmp/in/text.txt"
head -c 150000 /dev/urandom > "$tmp/in/random.bin"
# \sys\bin\ takes E32 images only: a header (no real program) and 64 random bytes
python3 "$SISIGN_SRCDIR/tests/tools/mke32.py" "$tmp/in/x.exe" --caps ReadUserData,WriteUserData --random-pad 64

base=(--uid 0xE0001234 --name Demo --vendor Acme --version 1.0.0)
pack minimal "${base[@]}" -f "$tmp/in/x.exe=!:\\sys\\bin\\x.exe"
pack several "${base[@]}" \
	-f "$tmp/in/x.exe=!:\\sys\\bin\\x.exe,caps=ReadUserData+WriteUserData" \
	-f "$tmp/in/text.txt=!:\\private\\E0001234\\text.txt" \
	-f "$tmp/in/random.bin=!:\\private\\E0001234\\random.bin" \
	-f "$tmp/in/empty.txt=!:\\private\\E0001234\\empty.txt" \
	-f "$tmp/in/one.bin=!:\\private\\E0001234\\one.bin"
pack s60v3 "${base[@]}" --s60v3 -f "$tmp/in/x.exe=!:\\sys\\bin\\x.exe"
pack languages --uid 0xE0001235 --language EN --language FI --name Demo --name Demoa \
	--vendor Acme --version 2.3.4 --s60v3 -f "$tmp/in/text.txt=!:\\data\\t.txt"
pack stored "${base[@]}" --store -f "$tmp/in/text.txt=!:\\data\\t.txt" -f "$tmp/in/empty.txt=!:\\data\\e.txt"
pack nofiles "${base[@]}"

# 2. Known-good corpus files (CRCs there may be stale: not strict).
if [ -n "${SISIGN_CORPUS:-}" ] && [ -d "$SISIGN_CORPUS/sis" ]; then
	s="$SISIGN_CORPUS/sis/installationservices/swi/test"
	for f in "$s/trevocation/data/winscw/test_02.sis" "$s/trevocation/sisInteg/armv5/ocsprevocation.sis" \
		"$SISIGN_CORPUS/sis/secureswitools/swisistools/test/tsignsis/data/simple.sis"; do
		python3 "$checker" -q "$f" 2>/dev/null || fail "sischeck.py rejects known-good $f"
	done
	# ...and rejects the one whose stored SHA-1 is wrong.
	python3 "$checker" -q "$SISIGN_CORPUS/sis/secureswitools/swisistools/test/tsignsis/data/eshell_hybrid.sis" \
		2>/dev/null && fail "sischeck.py accepts eshell_hybrid.sis (bad SHA-1)"
else
	echo "note: corpus not found, corpus checks skipped"
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all packages well-formed"
