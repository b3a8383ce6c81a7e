#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Batch signing with a key file: 50 packages in a nested tree, one corrupt.
# Partial exit 12, every good output verifies, the corrupt one has status
# error, inputs unchanged, --out-dir mirrors the tree, --skip-signed,
# --resign, --suffix, --files-from -, --in-place, --json, --audit-log,
# --dry-run (exit 13, nothing written, NOT SIGNED), unsign and verify
# batches.  Env: SISIGN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 sha256sum; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
unset SISIGN_PASS

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-batch.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() {
	echo "FAIL: $*"
	echo "  stdout: $(head -c 800 "$T/stdout")"
	echo "  stderr: $(head -c 800 "$T/err")"
	failures=$((failures + 1))
}
run() { "$@" >"$T/stdout" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { checks=$((checks + 1)); [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"; }
expect_stderr_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"; }
check() { checks=$((checks + 1)); "$@" || fail "check: $*"; }
# json_count FILE FIELD VALUE: lines whose FIELD equals VALUE
json_count() {
	python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    d=json.loads(l)
    if str(d.get(sys.argv[2])) == sys.argv[3]: n+=1
print(n)' "$@"
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 30 \
	-subj "/CN=sisign batch test" -addext extendedKeyUsage=codeSigning 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
K=(--key "$T/key.pem" --cert "$T/cert.pem")

# 50 packages: in/a/*.sis, in/b/c/*.sis, in/top*.sis
mkdir -p "$T/in/a" "$T/in/b/c"
for i in $(seq 1 50); do
	case $((i % 3)) in 0) d=a ;; 1) d=b/c ;; *) d=. ;; esac
	printf 'payload of package %03d\n' "$i" > "$T/src.txt"
	head -c 2000 /dev/zero | tr '\0' 'x' >> "$T/src.txt"
	"$SISIGN" pack --uid $((0xE0000200 + i)) --name "P$i" --store -f "$T/src.txt=!:\\data\\p.txt" \
		-o "$T/in/$d/p$(printf %03d "$i").sis" || { echo "FAIL: pack $i"; exit 1; }
done
BAD=$T/in/a/p003.sis
python3 - "$BAD" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'payload of package 003')
b[i] ^= 0x20
open(p, 'wb').write(b)
EOF
(cd "$T/in" && find . -type f | sort | xargs sha256sum) > "$T/in.sha256"
echo "not a sis file" > "$T/in/notes.txt"   # ignored by -r (not *.sis)

# ---- sign a tree into --out-dir: partial failure --------------------------------
run "$SISIGN" sign "${K[@]}" -r --out-dir "$T/out" --json -q "$T/in"
expect_rc 12 "batch with one corrupt package"
check [ "$(wc -l < "$T/stdout")" -eq 50 ]
cp "$T/stdout" "$T/run1.json"
check [ "$(json_count "$T/run1.json" status done)" -eq 49 ]
check [ "$(json_count "$T/run1.json" status error)" -eq 1 ]
python3 - "$T/run1.json" "$BAD" "$T" <<'EOF' || fail "JSON records"
import json, sys, hashlib
bad = sys.argv[2]
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["input"] == bad:
        assert d["status"] == "error" and d["exit"] == d["error"]["exit"] == 8, d
        assert d["output"] is None and d["output_sha256"] is None
        continue
    assert d["status"] == "done" and d["chains"] == 1, d
    assert len(d["signer_fingerprint"]) == 64
    assert hashlib.sha256(open(d["output"], "rb").read()).hexdigest() == d["output_sha256"], d
    assert d["output"].startswith(sys.argv[3] + "/out/"), d
    assert d["token_serial"] is None and d["key_id"] is None
EOF
check [ ! -e "$T/out/a/p003.sis" ]
check [ -f "$T/out/b/c/p001.sis" ]
check [ -f "$T/out/a/p006.sis" ]
check [ -f "$T/out/p002.sis" ]
check [ "$(find "$T/out" -type f | wc -l)" -eq 49 ]
check [ -z "$(find "$T/out" -name '*.tmp*')" ]
(cd "$T/in" && sha256sum -c --quiet "$T/in.sha256") >/dev/null 2>&1 || fail "inputs changed"
checks=$((checks + 1))

# without --json: the failure is reported on stderr, the summary counts it
run "$SISIGN" sign "${K[@]}" -r --out-dir "$T/out-b" "$T/in"
expect_rc 12 "batch (text)"
expect_stderr_has "p003.sis" "names the corrupt package"
expect_stderr_has "49 signed, 0 skipped, 1 failed" "summary"
checks=$((checks + 1))
[ "$(grep -c . "$T/err")" -eq 2 ] || fail "one error line plus the summary, no progress bar off a terminal"

# every good output verifies (a verify batch)
run "$SISIGN" verify -r --json "$T/out"
expect_rc 10 "verify batch of self-signed outputs"
check [ "$(json_count "$T/stdout" verdict self-signed)" -eq 49 ]

# ---- --skip-signed rerun: everything already done is skipped ----------------------
run "$SISIGN" sign "${K[@]}" -r --out-dir "$T/out" --skip-signed --json "$T/in"
expect_rc 12 "skip-signed rerun (the corrupt one still fails)"
check [ "$(json_count "$T/stdout" status skipped)" -eq 49 ]
check [ "$(json_count "$T/stdout" status done)" -eq 0 ]

# ---- --resign in place keeps one chain; plain sign adds a second ---------------------
run "$SISIGN" sign "${K[@]}" -r --in-place --resign --json "$T/out"
expect_rc 0 "resign in place"
check [ "$(json_count "$T/stdout" chains 1)" -eq 49 ]
run "$SISIGN" sign "${K[@]}" --in-place --json "$T/out/p002.sis" "$T/out/a/p006.sis"
expect_rc 0 "sign two files again"
check [ "$(json_count "$T/stdout" chains 2)" -eq 2 ]

# ---- unsign batch --------------------------------------------------------------------
run "$SISIGN" unsign --all -r --in-place --json "$T/out"
expect_rc 0 "unsign --all batch"
check [ "$(json_count "$T/stdout" chains 0)" -eq 49 ]

# ---- --suffix and --files-from - --------------------------------------------------------
printf '%s\n' "$T/in/p002.sis" "$T/in/a/p006.sis" > "$T/list"
"$SISIGN" sign "${K[@]}" --suffix _signed --files-from - < "$T/list" > "$T/stdout" 2> "$T/err"
rc=$?
expect_rc 0 "--suffix with --files-from -"
check [ -f "$T/in/p002_signed.sis" ]
check [ -f "$T/in/a/p006_signed.sis" ]
rm -f "$T/in/p002_signed.sis" "$T/in/a/p006_signed.sis"

# ---- audit log: appended, one JSON record per file per run ---------------------------------
run "$SISIGN" sign "${K[@]}" --out-dir "$T/out-audit" --audit-log "$T/audit.log" -q "$T/in/p002.sis" "$T/in/p005.sis"
expect_rc 0 "audit log run 1"
run "$SISIGN" sign "${K[@]}" --out-dir "$T/out-audit" --audit-log "$T/audit.log" -q --resign "$T/in/p002.sis" "$T/in/p005.sis"
expect_rc 0 "audit log run 2"
check [ "$(wc -l < "$T/audit.log")" -eq 8 ]   # a "writing" record before each rename, then "done"
check [ "$(json_count "$T/audit.log" status writing)" -eq 4 ]
check [ "$(json_count "$T/audit.log" status done)" -eq 4 ]
check [ "$(stat -c %a "$T/audit.log")" = 600 ]
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); assert d["user"] and d["time"] and d["signer_fingerprint"] and d["output_sha256"]' "$T/audit.log" ||
	fail "audit records complete"

# ---- --dry-run: checks everything, writes nothing, exits 13 ---------------------------------
run "$SISIGN" sign "${K[@]}" --dry-run --out-dir "$T/dry" "$T/in/p002.sis" "$T/in/a/p006.sis"
expect_rc 13 "dry run"
expect_stderr_has "NOT SIGNED" "dry run says so"
check [ ! -e "$T/dry" ] || [ -z "$(ls -A "$T/dry")" ]
run "$SISIGN" sign "${K[@]}" --dry-run -r --out-dir "$T/dry" "$T/in"
expect_rc 12 "dry run with a corrupt input"
expect_stderr_has "NOT SIGNED" "dry run with a corrupt input says so"
expect_stderr_has "p003.sis" "dry run names the corrupt input"
(cd "$T/in" && sha256sum -c --quiet "$T/in.sha256") >/dev/null 2>&1 || fail "inputs changed"
checks=$((checks + 1))

# ---- usage -----------------------------------------------------------------------------------
run "$SISIGN" sign "${K[@]}" "$T/in/p002.sis" "$T/in/p005.sis"
expect_rc 2 "several inputs without an output mode"
run "$SISIGN" sign "${K[@]}" --out-dir "$T/o" "$T/in"
expect_rc 2 "directory without -r"
run "$SISIGN" sign "${K[@]}" --out-dir "$T/o" --skip-signed --resign "$T/in/p002.sis"
expect_rc 2 "--skip-signed with --resign"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
