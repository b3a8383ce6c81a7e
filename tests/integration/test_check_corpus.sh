#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `sisign check` against interpretsis (Symbian's PC port of the installer,
# SYMBIAN-TOOLS.tsv) over every corpus package, for the rules both
# implement (install-rules.md §11):
#   - every data-caging refusal of interpretsis (exit 252) must be an
#     IR-CAGE-* error of sisign check;
#   - a package interpretsis installs (exit 0) must get no error for a rule
#     interpretsis implements (IR-CAGE-2/3/4) -- other rules (signatures,
#     capabilities, protected ranges, E32 headers) interpretsis skips;
#   - a missing base package (235) and a PP package (254 "Invalid package
#     type (PP)") must be IR-TYPE-3 / IR-TYPE-4 "depends" findings.
# Allowed disagreements, printed with their reason:
#   - the package's \sys\bin\ files are not E32 images (Windows PE emulator
#     builds): sisign reports IR-EXE-1, so it knows no SID of theirs and their
#     \private\<SID>\ files fail IR-CAGE-2 too; interpretsis reads a SID from
#     them anyway.  A phone refuses such a package (IR-EXE-1).
#   - sisign reads the package as damaged (exit 4), so no rule is checked:
#     corruptedlengthfield.sis and panic47.sis, which the device refuses
#     too (corpus README), and TS_00001__TC_05463 (an array element that
#     overruns its container).
# The corpus holds no data-caging refusal (no exit 252): the refusals
# install-rules.md §12 confirmed by running interpretsis are rebuilt by hand
# in test_check.sh (\private\<SID>\ without its EXE, FN under \resource).
# Env: SISIGN, SISIGN_CORPUS (absent: skip).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${SISIGN_CORPUS:-}" ] || [ ! -f "$SISIGN_CORPUS/SYMBIAN-TOOLS.tsv" ]; then
	echo "SKIP: SISIGN_CORPUS absent: no corpus"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
. "$(dirname "$0")/lib/common.sh"
tu_init check-corpus
C=$SISIGN_CORPUS

tail -n +2 "$C/SYMBIAN-TOOLS.tsv" | cut -f1 | sed "s|^|$C/sis/|" >"$T/list"
mapfile -t files <"$T/list"
# One process for all: one JSON line per input, in order.
"$SISIGN" check -q --json --at 2008-06-01 "${files[@]}" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 14 ] || [ "$rc" -eq 12 ] || [ "$rc" -eq 15 ] || { echo "FAIL: check exited $rc"; exit 1; }
python3 - "$C/SYMBIAN-TOOLS.tsv" "$T/out" <<'PY'
import json, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1])][1:]
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(recs), (len(rows), len(recs))
CAGE = ('IR-CAGE-1', 'IR-CAGE-2', 'IR-CAGE-3', 'IR-CAGE-4')
bad, allowed, agree = [], [], {'252': 0, '0': 0, '235': 0, '254': 0}
for row, rec in zip(rows, recs):
    path, irc, msg = row[0], row[3], row[4] if len(row) > 4 else ''
    name = path.rsplit('/', 1)[-1]
    assert rec['input'].endswith(path), (rec['input'], path)
    fs = rec.get('findings') or []
    errs = [f for f in fs if f['severity'] == 'error']
    cage = [f for f in errs if f['rule'] in CAGE]
    if irc == '252':
        if cage:
            agree['252'] += 1
        else:
            bad.append((name, irc, 'no IR-CAGE error', rec['exit']))
    elif irc == '0':
        if rec['exit'] == 4:
            allowed.append((name, irc, 'exit 4', 'sisign reads it as damaged, so no rule can be checked'))
            continue
        if not cage:
            agree['0'] += 1
            continue
        pe = [f for f in errs if f['rule'] == 'IR-EXE-1']
        if pe and all(f['rule'] == 'IR-CAGE-2' for f in cage):
            allowed.append((name, irc, 'IR-CAGE-2 after IR-EXE-1', 'its \\sys\\bin files are not E32 images'))
        else:
            bad.append((name, irc, ' '.join(f['rule'] for f in cage), rec['exit']))
    elif irc == '235':
        if any(f['rule'] == 'IR-TYPE-3' and f['severity'] == 'depends' for f in fs):
            agree['235'] += 1
        else:
            bad.append((name, irc, 'no IR-TYPE-3 depends', rec['exit']))
    elif irc == '254' and '(PP)' in msg:
        if any(f['rule'] == 'IR-TYPE-4' and f['severity'] == 'depends' for f in fs):
            agree['254'] += 1
        else:
            bad.append((name, irc, 'no IR-TYPE-4 depends', rec['exit']))
print('agreements: %d data-caging refusals (252) found, %d installs (0) without a caging error, '
      '%d missing bases (235), %d PP packages (254)' % (agree['252'], agree['0'], agree['235'], agree['254']))
print('allowed disagreements: %d' % len(allowed))
for a in allowed:
    print('  %-40s interpretsis %-3s sisign %s: %s' % a)
print('disagreements: %d' % len(bad))
for b in bad:
    print('  %-40s interpretsis %-3s sisign %s (exit %s)' % b)
sys.exit(1 if bad else 0)
PY
