#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #14 item 2: a batch syncs each output directory once for a group of
# renames, and reports a package only after its directory is synced.  strace
# makes every fsync of one output directory fail (EIO); then:
#   - the packages renamed into that directory are reported as errors
#     (JSON "error", the message says the directory sync failed), never
#     "done", and the audit log has no "done" record for them;
#   - the packages of the other directory are done;
#   - the exit status is 12 (partial);
#   - every output that exists is complete, and no temp file is left.
# The same with --in-place (the inputs are replaced, but not reported
# done) and with one worker per core (-j2); and without a fault every
# package is done, with one directory fsync per directory, not one per
# package.
# Env: SISIGN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 strace; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
if ! strace -qq -o /dev/null -P /tmp -e trace=fsync -e inject=fsync:error=EIO true 2>/dev/null; then
	echo "SKIP: this strace has no syscall fault injection (-e inject=, strace >= 4.16)"
	exit 77
fi
unset SISIGN_PASS SISIGN_PIN
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
. "$(dirname "$0")/lib/common.sh"
tu_init batch-dirsync
cd "$T" || exit 1

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 \
	-subj "/CN=sisign dirsync test" 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
mkdir -p src/a src/b
for i in 1 2 3 4 5; do
	d=a
	[ $i -gt 3 ] && d=b
	head -c $((1500 + 300 * i)) /dev/urandom >f.bin
	"$SISIGN" pack --uid $((0xE0000A00 + i)) --name "D$i" -f 'f.bin=!:\data\f.bin' -o "src/$d/p$i.sis" ||
		{ echo "FAIL: pack"; exit 1; }
done

# judge.py MODE: MODE "outdir" or "inplace"; reads $T/out (JSON lines),
# $T/audit.log, and the files.
cat >judge.py <<'EOF'
import hashlib, json, os, sys
mode, T = sys.argv[1], sys.argv[2]
bad = []
recs = [json.loads(l) for l in open(os.path.join(T, "out")) if l.strip()]
audit = [json.loads(l) for l in open(os.path.join(T, "audit.log")) if l.strip()]
src = lambda p: os.path.join(T, "src", p)
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
seen = set()
for r in recs:
    inp = r["input"]
    d = os.path.basename(os.path.dirname(inp))
    seen.add(inp)
    if d == "a":
        if r["status"] != "error":
            bad.append("%s: status %s, want error (its directory's fsync failed)" % (inp, r["status"]))
        elif "syncing its directory failed" not in r["error"]["message"]:
            bad.append("%s: error message %r does not say the directory sync failed" % (inp, r["error"]["message"]))
        if any(a.get("status") == "done" and a.get("input") == inp for a in audit):
            bad.append("%s: a done audit record although its directory was not synced" % inp)
    elif r["status"] != "done":
        bad.append("%s: status %s, want done" % (inp, r["status"]))
if len(seen) != 5:
    bad.append("%d JSON records for 5 packages" % len(seen))
# every output that exists is complete: it verifies (checked by the caller)
# and no temp file is left
for dp, _, fs in os.walk(T):
    for f in fs:
        if ".tmp" in f:
            bad.append("temp file left: %s" % os.path.join(dp, f))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF

# inject DIR ARGS...: sign with every fsync of DIR failing with EIO
inject() {
	local dir=$1
	shift
	rm -f audit.log
	run strace -f -qq -o /dev/null -P "$dir" -e trace=fsync -e inject=fsync:error=EIO \
		"$SISIGN" sign -r --json --audit-log audit.log --key key.pem --cert cert.pem "$@"
}

verify_all() {
	local f
	for f in "$@"; do
		"$SISIGN" verify -q "$f" >/dev/null 2>&1
		local v=$?
		# self-signed (10) is what a complete output of this key gives
		check "[ $v -eq 10 ]" "$f does not verify as a complete signed package (exit $v)"
	done
}

for jobs in 1 2; do
	rm -rf in dst
	cp -r src in
	inject "$T/dst/a" -j$jobs --out-dir dst in
	expect_rc 12 "-j$jobs --out-dir, fsync of dst/a fails"
	check "python3 judge.py outdir '$T'" "-j$jobs --out-dir: records"
	check "[ -f dst/b/p4.sis ] && [ -f dst/b/p5.sis ]" "-j$jobs: outputs of b missing"
	verify_all dst/*/*.sis
	check "cmp -s src/a/p1.sis in/a/p1.sis" "-j$jobs: an input changed"

	rm -rf in
	cp -r src in
	inject "$T/in/a" -j$jobs --in-place in
	expect_rc 12 "-j$jobs --in-place, fsync of in/a fails"
	check "python3 judge.py inplace '$T'" "-j$jobs --in-place: records"
	verify_all in/*/*.sis
done

# No fault: all done, and the directory is synced once per group, not per
# package (-j1: one group of 5).
rm -rf in dst
cp -r src in
run strace -f -qq -o "$T/trace" -y -e trace=fsync "$SISIGN" sign -r -j1 --key key.pem --cert cert.pem --out-dir dst in
expect_rc 0 "no fault"
n=$(grep -c "fsync([0-9]*<$T/dst/a>)" "$T/trace")
check "[ $n -eq 1 ]" "dst/a synced $n times for 3 packages, want once"
verify_all dst/*/*.sis

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
