#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CLI basics: dispatch, help, version, exit codes, and pack → info round trip.
# Env: SISIGN (the built CLI), SISIGN_CORPUS (optional).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-cli-basic.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*"
	echo "  stdout: $(head -c 600 "$T/out")"
	echo "  stderr: $(head -c 600 "$T/err")"
	failures=$((failures + 1))
}

# run CMD...: sets $rc, output in $T/out and $T/err
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

expect_rc() { # expect_rc WANT DESCRIPTION
	checks=$((checks + 1))
	[ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"
}
expect_no_stderr() {
	checks=$((checks + 1))
	[ ! -s "$T/err" ] || fail "$1: stderr not empty"
}
expect_stdout_has() {
	checks=$((checks + 1))
	grep -qF -- "$1" "$T/out" || fail "$2: stdout lacks '$1'"
}
expect_stderr_has() {
	checks=$((checks + 1))
	grep -qiF -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"
}
expect_one_line_stderr() {
	checks=$((checks + 1))
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$1: stderr is not exactly one line"
}

# ---- dispatch, help, version --------------------------------------------------

run "$SISIGN" --version
expect_rc 0 "--version"
expect_no_stderr "--version"
checks=$((checks + 1))
grep -qE '^sisign [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" && [ "$(wc -l <"$T/out")" -eq 1 ] ||
	fail "--version prints 'sisign X.Y.Z'"
cp "$T/out" "$T/version1"
run "$SISIGN" version
expect_rc 0 "version"
expect_no_stderr "version"
checks=$((checks + 1))
cmp -s "$T/out" "$T/version1" || fail "version and --version differ"

run "$SISIGN" help
expect_rc 0 "help"
expect_no_stderr "help"
expect_stdout_has "info" "help"
expect_stdout_has "pack" "help"

run "$SISIGN" help info
expect_rc 0 "help info"
expect_no_stderr "help info"
checks=$((checks + 1))
head -1 "$T/out" | grep -q '^usage: sisign info ' || fail "help info starts with its usage line"
expect_stdout_has "--json" "help info"
cp "$T/out" "$T/help_info"
run "$SISIGN" info --help
expect_rc 0 "info --help"
expect_no_stderr "info --help"
checks=$((checks + 1))
cmp -s "$T/out" "$T/help_info" || fail "'info --help' differs from 'help info'"
run "$SISIGN" pack --uid 1 --help
expect_rc 0 "pack --help after another option"
expect_stdout_has "LOCAL=TARGET" "pack --help"

run "$SISIGN" help exit-codes
expect_rc 0 "help exit-codes"
expect_no_stderr "help exit-codes"
for code in "0  OK" "2  USAGE" "3  IO" "4  BAD_INPUT" "8  INVALID" "130  INTERRUPTED"; do
	expect_stdout_has "$code" "help exit-codes"
done

run "$SISIGN" frobnicate
expect_rc 2 "unknown command"
expect_stderr_has "frobnicate" "unknown command"
expect_stderr_has "sisign: " "unknown command"
expect_one_line_stderr "unknown command"
checks=$((checks + 1))
[ ! -s "$T/out" ] || fail "unknown command writes nothing to stdout"

run "$SISIGN"
expect_rc 2 "no arguments"
run "$SISIGN" help frobnicate
expect_rc 2 "help for an unknown command"
run "$SISIGN" info --bogus x.sis
expect_rc 2 "unknown option"
expect_stderr_has "--bogus" "unknown option"
run "$SISIGN" info
expect_rc 2 "info without a file"

# ---- pack ------------------------------------------------------------------------

mkdir "$T/src"
printf 'hello world\n' >"$T/src/a.txt"
# an E32 image header (no real program), 3000 bytes in all
python3 "$(dirname "$0")/../tools/mke32.py" "$T/src/b.exe" --caps ReadUserData,WriteUserData --pad 2844
PKG="$T/hello.sis"

run "$SISIGN" pack --uid 0xE0001234 --name "Hello" --name "Hei" -l EN -l FI \
	--vendor "Acme" --version 1.2.3 --s60v3 --created 2008-06-01 \
	-f "$T/src/a.txt=!:\\data\\a.txt" \
	-f "$T/src/b.exe=!:\\sys\\bin\\b.exe,caps=ReadUserData+WriteUserData" \
	-o "$PKG"
expect_rc 0 "pack"
expect_no_stderr "pack"
checks=$((checks + 1))
[ ! -s "$T/out" ] || fail "pack prints nothing on success"
checks=$((checks + 1))
[ -s "$PKG" ] || fail "pack wrote $PKG"

run "$SISIGN" info "$PKG"
expect_rc 0 "info"
expect_no_stderr "info"
expect_stdout_has "UID:          0xe0001234" "info"
expect_stdout_has "Version:      1.2.3" "info"
expect_stdout_has "Hello [English]" "info"
expect_stdout_has "Hei [Finnish]" "info"
expect_stdout_has "Vendor:       Acme" "info"
expect_stdout_has "0x101f7961 S60 3rd Edition" "info"
expect_stdout_has '!:\sys\bin\b.exe' "info"
expect_stdout_has '!:\data\a.txt' "info"
expect_stdout_has "capabilities ReadUserData+WriteUserData" "info"
expect_stdout_has "Created:      2008-06-01T00:00:00Z" "info"
expect_stdout_has "Signatures:   none (unsigned)" "info"
expect_stdout_has "Data check:   ok" "info"
checks=$((checks + 1))
[ "$(grep -c 'hash ok' "$T/out")" -eq 2 ] || fail "info: both files hash ok"

run "$SISIGN" info --json "$PKG"
expect_rc 0 "info --json"
expect_no_stderr "info --json"
checks=$((checks + 1))
python3 - "$T/out" "$PKG" <<'PY' || fail "info --json fields"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["input"] == sys.argv[2], d["input"]
assert d["schema"] == 1 and d["command"] == "info" and d["status"] == "done" and d["exit"] == 0 and d["error"] is None, d
assert d["kind"] == "sisx"
h = d["header"]
assert h["uid3"] == "0xe0001234" and h["uid_checksum_ok"] is True and h["uid3_matches"] is True
assert h["controller_crc"]["ok"] is True and h["data_crc"]["ok"] is True
p = d["package"]
assert p["uid"] == "0xe0001234"
assert p["version"] == "1.2.3"
assert p["vendor"] == "Acme"
assert [n["name"] for n in p["names"]] == ["Hello", "Hei"]
assert [n["language_name"] for n in p["names"]] == ["English", "Finnish"]
assert [l["code"] for l in p["languages"]] == [1, 9]
assert p["install_type"] == "SA"
assert p["created"] == "2008-06-01T00:00:00Z"
assert p["targets"][0]["uid"] == "0x101f7961"
assert p["targets"][0]["platform"] == "S60 3rd Edition"
files = {f["target"]: f for f in p["files"]}
assert set(files) == {"!:\\data\\a.txt", "!:\\sys\\bin\\b.exe"}, files.keys()
a = files["!:\\data\\a.txt"]
b = files["!:\\sys\\bin\\b.exe"]
assert a["size"] == 12 and a["capabilities"] == [] and a["hash"] == "ok"
assert a["sha1"] == "22596363b3de40b06f981fb85d82312e8c0ed511", a["sha1"]
assert b["size"] == 3000 and b["capabilities"] == ["ReadUserData", "WriteUserData"]
assert b["hash"] == "ok" and b["conditional"] is False
assert p["signature_chains"] == [] and p["embedded"] == []
assert d["data_check"] == "ok" and d["data_check_error"] is None
PY

# --store, then break a stored byte: info still describes it, exit 8
run "$SISIGN" pack --uid 0xE0001235 --name Stored --store -f "$T/src/a.txt=!:\\data\\a.txt" -o "$T/stored.sis"
expect_rc 0 "pack --store"
expect_no_stderr "pack --store"
checks=$((checks + 1))
python3 - "$T/stored.sis" <<'PY' || fail "tamper with the stored data"
import sys
p = sys.argv[1]
b = open(p, "rb").read()
assert b.count(b"hello world\n") == 1
open(p, "wb").write(b.replace(b"hello world\n", b"jello world\n"))
PY
run "$SISIGN" info "$T/tampered-does-not-exist.sis"
expect_rc 3 "info on a missing file"
run "$SISIGN" info "$T/stored.sis"
expect_rc 8 "info on a hash mismatch"
expect_stdout_has "HASH MISMATCH" "hash mismatch"
expect_stdout_has "Data check:   FAILED" "hash mismatch"
expect_stderr_has "stored.sis" "hash mismatch"
expect_one_line_stderr "hash mismatch"
run "$SISIGN" info --json "$T/stored.sis"
expect_rc 8 "info --json on a hash mismatch"
checks=$((checks + 1))
python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["package"]["files"][0]["hash"] == "mismatch"
assert d["data_check"] == "failed" and d["data_check_error"]
assert d["status"] == "error" and d["exit"] == d["error"]["exit"] == 8, d
' "$T/out" || fail "info --json reports the mismatch"
run "$SISIGN" info --no-check "$T/stored.sis"
expect_rc 0 "info --no-check"
expect_no_stderr "info --no-check"
expect_stdout_has "skipped" "info --no-check"

# pack argument errors: exit 2, naming the offending argument
run "$SISIGN" pack --name X -o "$T/x.sis"
expect_rc 2 "pack without --uid"
expect_stderr_has "--uid" "pack without --uid"
run "$SISIGN" pack --uid 0xZZ --name X -o "$T/x.sis"
expect_rc 2 "pack with a bad UID"
expect_stderr_has "0xZZ" "pack with a bad UID"
run "$SISIGN" pack --uid 0xE0001234 -o "$T/x.sis"
expect_rc 2 "pack without --name"
expect_stderr_has "--name" "pack without --name"
run "$SISIGN" pack --uid 0xE0001234 --name X -f "$T/src/nope.txt=!:\\a.txt" -o "$T/x.sis"
expect_rc 2 "pack with a missing file"
expect_stderr_has "nope.txt" "pack with a missing file"
run "$SISIGN" pack --uid 0xE0001234 --name X -f "$T/src=!:\\a.txt" -o "$T/x.sis"
expect_rc 2 "pack with a directory"
expect_stderr_has "not a regular file" "pack with a directory"
run "$SISIGN" pack --uid 0xE0001234 --name X -f "$T/src/a.txt" -o "$T/x.sis"
expect_rc 2 "pack -f without a target"
run "$SISIGN" pack --uid 0xE0001234 --name X -f "$T/src/a.txt=!:\\a.txt,caps=NoSuchCap" -o "$T/x.sis"
expect_rc 2 "pack with an unknown capability"
expect_stderr_has "NoSuchCap" "pack with an unknown capability"
run "$SISIGN" pack --uid 0xE0001234 --name X --language Klingon -o "$T/x.sis"
expect_rc 2 "pack with an unknown language"
expect_stderr_has "Klingon" "pack with an unknown language"
run "$SISIGN" pack --uid 0xE0001234 --name A --name B --name C -l EN -l FI -o "$T/x.sis"
expect_rc 2 "pack with more names than languages"
checks=$((checks + 1))
[ ! -e "$T/x.sis" ] || fail "a failed pack left no output"

# ---- bad input ----------------------------------------------------------------------

printf 'this is not a SIS package at all, just some text\n' >"$T/notsis.sis"
run "$SISIGN" info "$T/notsis.sis"
expect_rc 4 "info on a non-SIS file"
expect_stderr_has "sisign: $T/notsis.sis: " "info on a non-SIS file"
expect_one_line_stderr "info on a non-SIS file"

# several files: the good one is still described; one failed and one went
# through, so 12 (PARTIAL, `sisign help exit-codes`)
run "$SISIGN" info "$T/notsis.sis" "$PKG"
expect_rc 12 "info on a bad and a good file"
expect_stdout_has "UID:          0xe0001234" "info on a bad and a good file"
run "$SISIGN" info --json "$T/notsis.sis" "$PKG"
expect_rc 12 "info --json on a bad and a good file"
checks=$((checks + 1))
python3 -c '
import json, sys
ls = open(sys.argv[1]).read().splitlines()
assert len(ls) == 2
a, b = map(json.loads, ls)
assert a["error"]["message"] and b["package"]["uid"] == "0xe0001234"
assert a["status"] == "error" and a["exit"] == a["error"]["exit"] == 4 and "package" not in a, a
assert b["status"] == "done" and b["exit"] == 0, b
' "$T/out" || fail "info --json gives one line per input"

# ---- multi-call hook ------------------------------------------------------------------

ln -s "$SISIGN" "$T/signsis"
if "$SISIGN" help signsis >/dev/null 2>&1; then
	echo "note: signsis command present; multi-call hook not checked here"
else
	run "$T/signsis"
	expect_rc 2 "signsis link without the command"
	expect_stderr_has "signsis: this build of sisign has no 'signsis' command" "signsis link"
fi

# ---- corpus -----------------------------------------------------------------------------

LEGACY="${SISIGN_CORPUS:-}/sis/installationservices/swi/test/tsisfile/data/files/legacy.sis"
if [ -n "${SISIGN_CORPUS:-}" ] && [ -f "$LEGACY" ]; then
	run "$SISIGN" info "$LEGACY"
	expect_rc 4 "info on a legacy (pre-v9) file"
	expect_stderr_has "legacy.sis: " "legacy file"
	expect_one_line_stderr "legacy file"
	checks=$((checks + 1))
	grep -qiE 'pre-v9|legacy' "$T/err" || fail "legacy file: message says pre-v9/legacy"
else
	echo "note: corpus not found (SISIGN_CORPUS=${SISIGN_CORPUS:-unset}); legacy-file check skipped"
fi

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
