# SPDX-License-Identifier: Apache-2.0
# Sourced by the tests of `sisign check` after common.sh.
#
# chk_json DESC STATUS 'RULE:SEV ...' 'ABSENT-RULE ...' -- ARGS...
# Runs `sisign check --json ARGS`, expects exit STATUS, every RULE with that
# severity among the findings, and none of the ABSENT rules.  The findings
# it saw stay in $T/found, one RULE:SEV a line.
chk_json() {
	local desc=$1 want=$2 has=$3 hasnt=$4
	shift 5
	run "$SISIGN" check --json "$@"
	expect_rc "$want" "$desc"
	python3 - "$T/out" >"$T/found" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    for f in json.loads(line).get('findings') or []:
        print('%s:%s' % (f['rule'], f['severity']))
PY
	for r in $has; do
		checks=$((checks + 1))
		grep -qx -- "$r" "$T/found" || fail "$desc: no $r finding (found: $(tr '\n' ' ' <"$T/found"))"
	done
	for r in $hasnt; do
		checks=$((checks + 1))
		! grep -q -- "^$r:" "$T/found" || fail "$desc: unexpected $r finding"
	done
}
