#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #13 part 1: signing refreshes the data CRC (SISDataChecksum), as
# Symbian's signsis does, and the controller CRC stays right.  Every corpus
# package that signs: both CRC fields of the output are what
# tests/tools/sischeck.py (written from sis-format.md, not from the
# library) computes, and nothing else changed: SISData and every byte after
# it are the input's, and the data CRC field is the input's but for its
# 2-byte value.  With SISIGN_BASE=path/to/an older sisign, its output for
# the same key must also differ from ours in the CRC values only.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
if [ -z "${SISIGN_CORPUS:-}" ] || [ ! -f "$SISIGN_CORPUS/MANIFEST.tsv" ]; then
	echo "SKIP: SISIGN_CORPUS absent: no corpus to sign"; exit 77
fi
CORPUS=$SISIGN_CORPUS
. "$(dirname "$0")/lib/common.sh"
tu_init sign-crc
unset SISIGN_PASS SISIGN_PIN
tools="$(cd "$(dirname "$0")/../tools" && pwd)"
cd "$T" || exit 1

tu_codesign_cert rsa "sisign test RSA"

# check.py LIST: for each line "IN OUT [BASE]", whether the output's CRC
# fields are right (sischeck.py's own CRC) and what differs between the
# input, our output and an older sisign's output.  One line per problem;
# "refreshed N" at the end: inputs whose data CRC was stale.
cat >check.py <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import sischeck

def layout(b):
    """offsets of the CRC values by type, and where SISData starts"""
    pos, crc = 24, {}
    while True:
        t, ln = struct.unpack_from('<II', b, pos)
        if t not in (34, 35):
            break
        crc[t] = pos + 8
        pos += 12
    ln = struct.unpack_from('<I', b, pos + 4)[0]  # the controller SISCompressed
    return crc, pos + 8 + ln + (4 - ln % 4) % 4

refreshed = 0
for line in open(sys.argv[2]):
    names = line.split()
    name = names[0].split('/sis/', 1)[-1]
    for w in sischeck.check_file(names[1], False).warnings:
        if 'CRC stored' in w:
            print('%s: output: %s' % (name, w))
    refreshed += any('data CRC stored' in w for w in sischeck.check_file(names[0], False).warnings)
    a, b = (open(n, 'rb').read() for n in names[:2])
    ca, da = layout(a)
    cb, db = layout(b)
    if sorted(ca) != sorted(cb):
        print('%s: CRC fields %s in the input, %s in the output' % (name, sorted(ca), sorted(cb)))
        continue
    if a[da:] != b[db:]:
        print('%s: SISData or what follows it differs from the input' % name)
    if 35 in ca and a[ca[35] - 8:ca[35]] + a[ca[35] + 2:ca[35] + 4] != b[cb[35] - 8:cb[35]] + b[cb[35] + 2:cb[35] + 4]:
        print('%s: data CRC field differs from the input outside its value' % name)
    if len(names) > 2:
        c = open(names[2], 'rb').read()
        cc, _ = layout(c)
        skip = set()
        for t in cb:
            skip |= {cb[t], cb[t] + 1}
        diff = [i for i in range(min(len(b), len(c))) if b[i] != c[i] and i not in skip]
        if len(c) != len(b) or cc != cb or diff:
            print('%s: %d bytes other than the CRC values differ from the older sisign output (lengths %d, %d)'
                  % (name, len(diff), len(b), len(c)))
print('refreshed %d' % refreshed)
PY

signed=0 identical_base=0 n=0
: >list
while IFS=$'\t' read -r path kind parses _ <&3; do
	[ "$kind" = sisx ] && [ "$parses" = yes ] || continue
	in="$CORPUS/sis/$path"
	[ -f "$in" ] || continue
	n=$((n + 1))
	# Packages sisign refuses to sign (bad chains, wrong hashes, damage)
	# have their own tests.
	"$SISIGN" sign -q --key rsa.key --cert rsa.crt -o "out$n.sis" "$in" >/dev/null 2>&1 || continue
	signed=$((signed + 1))
	if [ -n "${SISIGN_BASE:-}" ]; then
		"$SISIGN_BASE" sign -q --key rsa.key --cert rsa.crt -o "base$n.sis" "$in" >/dev/null 2>&1 ||
			fail "$path: the older sisign did not sign it"
		cmp -s "base$n.sis" "out$n.sis" && identical_base=$((identical_base + 1))
		echo "$in out$n.sis base$n.sis" >>list
	else
		echo "$in out$n.sis" >>list
	fi
done 3<"$CORPUS/MANIFEST.tsv" </dev/null
python3 check.py "$tools" list >check.out 2>&1
refreshed=$(sed -n 's/^refreshed //p' check.out)
grep -v '^refreshed ' check.out >problems
echo "$signed corpus packages signed; ${refreshed:-?} had a stale data CRC, now refreshed"
[ -n "${SISIGN_BASE:-}" ] && echo "$identical_base of them byte-identical to $SISIGN_BASE's output"
check '[ ! -s problems ]' "$(wc -l <problems) problems: $(head -5 problems)"
check '[ "$signed" -ge 90 ]' "only $signed corpus packages signed"
check '[ "${refreshed:-0}" -ge 1 ]' "no corpus package had a stale data CRC to refresh"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
