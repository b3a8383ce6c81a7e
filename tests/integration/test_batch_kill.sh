#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# "Nothing lost": a batch of a few hundred packages is killed (SIGKILL, then
# SIGINT in a second run) after some outputs exist.  Every output present
# must be complete (it verifies), no temp file may remain, inputs are
# unchanged, SIGINT exits 130, and a rerun with --skip-signed finishes the
# job.  Env: SISIGN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 sha256sum; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PASS

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-batch-kill.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { checks=$((checks + 1)); "$@" || fail "check: $*"; }
N=300

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 30 \
	-subj "/CN=sisign kill test" 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
K=(--key "$T/key.pem" --cert "$T/cert.pem")

# Packages of ~1 MiB (stored) so a batch takes long enough to be caught
# in the middle.
mkdir -p "$T/in/x" "$T/in/y"
head -c $((1024 * 1024)) /dev/urandom > "$T/src.bin"
"$SISIGN" pack --uid 0xE0000300 --name K --store -f "$T/src.bin=!:\\data\\k.bin" -o "$T/proto.sis" ||
	{ echo "FAIL: pack"; exit 1; }
for i in $(seq 1 $N); do
	cp "$T/proto.sis" "$T/in/$([ $((i % 2)) = 0 ] && echo x || echo y)/k$(printf %03d "$i").sis"
done
(cd "$T/in" && find . -type f | sort | xargs sha256sum) > "$T/in.sha256"

count_out() { find "$T/out" -name '*.sis' 2>/dev/null | wc -l; }

# wait_for N PID: until N outputs exist (or the batch ended)
wait_for() {
	for _ in $(seq 1 600); do
		[ "$(count_out)" -ge "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# all outputs present are complete: each verifies (self-signed, 1 chain)
check_outputs() { # check_outputs WHAT
	local n
	n=$(count_out)
	if [ "$n" -gt 0 ]; then
		"$SISIGN" verify -r --json "$T/out" > "$T/verify.json" 2> "$T/verify.err"
		checks=$((checks + 1))
		python3 - "$T/verify.json" "$n" <<'EOF' || fail "$1: an output is not complete: $(head -c 400 "$T/verify.err")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == int(sys.argv[2]), (len(recs), sys.argv[2])
for d in recs:
    assert d["status"] == "done" and d["verdict"] == "self-signed" and d["chains"] == 1, d
EOF
	fi
	(cd "$T/in" && sha256sum -c --quiet "$T/in.sha256") >/dev/null 2>&1 || fail "$1: inputs changed"
	checks=$((checks + 1))
}

# ---- SIGKILL --------------------------------------------------------------------------------
"$SISIGN" sign "${K[@]}" -j 2 -r --out-dir "$T/out" -q "$T/in" > /dev/null 2>&1 &
pid=$!
wait_for 20 $pid || fail "the batch ended before 20 outputs existed"
kill -9 $pid
wait $pid 2>/dev/null
n_kill=$(count_out)
echo "SIGKILL after $n_kill of $N outputs"
check [ "$n_kill" -lt "$N" ]
leftover=$(find "$T/out" -name '*.tmp*')
# Outputs are unnamed O_TMPFILEs until complete; only a kill between the
# final link and rename (microseconds) could leave a named temp, which the
# rerun must then remove.
[ -z "$leftover" ] || echo "note: temp file left by SIGKILL at commit: $leftover"
check_outputs "after SIGKILL"

# rerun with --skip-signed finishes the job
"$SISIGN" sign "${K[@]}" -r --out-dir "$T/out" --skip-signed --json "$T/in" > "$T/rerun.json" 2> "$T/rerun.err"
rc=$?
checks=$((checks + 1))
[ $rc -eq 0 ] || fail "rerun exit $rc: $(head -c 400 "$T/rerun.err")"
check [ "$(count_out)" -eq $N ]
check [ -z "$(find "$T/out" -name '*.tmp*')" ]
checks=$((checks + 1))
python3 - "$T/rerun.json" "$n_kill" "$N" <<'EOF' || fail "rerun skipped what was done and signed the rest"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
skipped = sum(d["status"] == "skipped" for d in recs)
done = sum(d["status"] == "done" for d in recs)
assert len(recs) == int(sys.argv[3]) and skipped == int(sys.argv[2]) and skipped + done == int(sys.argv[3]), (skipped, done)
EOF
check_outputs "after rerun"

# ---- SIGINT: in-flight files finish, exit 130 -------------------------------------------------
rm -rf "$T/out"
"$SISIGN" sign "${K[@]}" -j 2 -r --out-dir "$T/out" -q "$T/in" > /dev/null 2> "$T/int.err" &
pid=$!
wait_for 20 $pid || fail "the batch ended before 20 outputs existed (SIGINT run)"
kill -INT $pid
wait $pid
rc=$?
checks=$((checks + 1))
[ $rc -eq 130 ] || fail "SIGINT: exit $rc, expected 130"
checks=$((checks + 1))
grep -q "interrupted" "$T/int.err" || fail "SIGINT: no 'interrupted' message: $(cat "$T/int.err")"
n_int=$(count_out)
echo "SIGINT after $n_int of $N outputs"
check [ "$n_int" -lt "$N" ]
check [ -z "$(find "$T/out" -name '*.tmp*')" ]
check_outputs "after SIGINT"
"$SISIGN" sign "${K[@]}" -r --out-dir "$T/out" --skip-signed -q "$T/in" > /dev/null 2>&1
rc=$?
check [ $rc -eq 0 ]
check [ "$(count_out)" -eq $N ]
check_outputs "after SIGINT rerun"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
