#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 11: one JSON schema for sign, unsign, verify, info and check
# (docs/json.md).  Every --json line of single files, batches and failures
# (a file that is not a package, a hash mismatch, a wrong key, an unsigned
# package, a missing file) is validated against docs/json-schema.json, and
# the values are checked: "schema" is 1, the error's exit is the record's,
# one input's record carries the process's exit status, a batch's records
# give the process's exit status by the rules of `sisign help exit-codes`.
# Env: SISIGN.  Needs python3-jsonschema (scripts/deps.sh).
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema not installed"; exit 77; }
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
SCHEMA=$S/docs/json-schema.json
[ -r "$SCHEMA" ] || { echo "FAIL: $SCHEMA missing"; exit 1; }
. "$(dirname "$0")/lib/common.sh"
tu_init json-schema
cd "$T" || exit 1
unset SISIGN_PASS SISIGN_PIN

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj "/CN=json test" \
	2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem 2>/dev/null || exit 1
K=(--key key.pem --cert cert.pem)
printf 'hello world\n' >a.txt
for n in 1 2 3; do
	"$SISIGN" pack --uid 0xE000123$n --name "J$n" --store -f 'a.txt=!:\data\a.txt' -o p$n.sis || exit 1
done
echo "not a package" >junk.sis
python3 - p3.sis mismatch.sis <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b.replace(b"hello world\n", b"jello world\n"))
PY

# jrun RC LINES DESC ARGS...: run ARGS, expect exit RC and LINES JSON lines on
# stdout, each valid; with LINES 1 the record's exit is RC.  Keeps the output
# as $T/last.json for jcheck.
jrun() {
	local want=$1 lines=$2 desc=$3
	shift 3
	run "$@"
	expect_rc "$want" "$desc"
	cp "$T/out" "$T/last.json"
	checks=$((checks + 1))
	python3 - "$SCHEMA" "$T/last.json" "$rc" "$lines" <<'PY' || fail "$desc: JSON"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
recs = []
for n, line in enumerate(open(sys.argv[2], encoding="utf-8").read().splitlines(), 1):
    d = json.loads(line)
    errs = sorted(v.iter_errors(d), key=lambda e: list(e.path))
    for e in errs:
        print("line %d: %s at %s" % (n, e.message, list(e.path)))
    assert not errs, line
    assert d["schema"] == 1
    if d["error"] is not None:
        assert d["error"]["exit"] == d["exit"], d
    recs.append(d)
rc, want = int(sys.argv[3]), int(sys.argv[4])
assert len(recs) == want, (len(recs), want)
if want == 1:
    assert recs[0]["exit"] == rc, (recs[0]["exit"], rc)
elif rc not in (6, 13, 130):
    # the tally of `sisign help exit-codes`
    failed = [d["exit"] for d in recs if d["status"] in ("error", "not_started")]
    through = [d["exit"] for d in recs if d["status"] not in ("error", "not_started")]
    rank = {0: 0, 10: 1, 9: 2, 11: 3, 8: 4}
    if failed and through:
        exp = 12
    elif failed:
        exp = max(failed)
    else:
        exp = max(through, key=lambda x: rank[x])
    assert exp == rc, (exp, rc, recs)
PY
}
# jcheck DESC PYTHON: an assertion over recs (the records of the last jrun;
# d is the first).  A batch writes them as the files finish: match by input.
jcheck() {
	checks=$((checks + 1))
	python3 -c 'import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = recs[0]
exec(sys.argv[2])' "$T/last.json" "$2" || fail "$1"
}

# ---- info ----------------------------------------------------------------------
jrun 0 1 "info, one package" "$SISIGN" info --json p1.sis
jcheck "info: envelope" 'assert (d["command"], d["input"], d["status"], d["error"]) == ("info", "p1.sis", "done", None), d
assert d["package"]["uid"] == "0xe0001231" and d["data_check"] == "ok"'
jrun 4 1 "info, not a package" "$SISIGN" info --json junk.sis
jcheck "info: bad package" 'assert d["status"] == "error" and d["exit"] == 4 and d["error"]["offset"] == 0, d
assert "package" not in d and d["error"]["message"] and d["error"]["name"], d'
jrun 3 1 "info, missing file" "$SISIGN" info --json missing.sis
jcheck "info: missing" 'assert d["status"] == "error" and d["error"]["exit"] == 3, d'
jrun 8 1 "info, hash mismatch" "$SISIGN" info --json mismatch.sis
jcheck "info: mismatch still described" 'assert d["status"] == "error" and d["exit"] == 8 and d["data_check"] == "failed", d
assert d["package"]["files"][0]["hash"] == "mismatch"'
jrun 12 3 "info, three files" "$SISIGN" info --json junk.sis p1.sis mismatch.sis
jcheck "info: line N is input N (one file at a time)" 'assert [r["input"] for r in recs] == ["junk.sis", "p1.sis", "mismatch.sis"]'
# executables: an E32 header image and a text file in \sys\bin\ (tests/tools/mke32.py)
python3 "$S/tests/tools/mke32.py" x.exe --caps ReadUserData --vid 0x70000001 || exit 1
"$SISIGN" pack --uid 0xE0001239 --name X -f 'x.exe=!:\sys\bin\x.exe' -f 'a.txt=!:\sys\bin\a.txt' \
	-f 'a.txt=!:\data\a.txt' -o exe.sis 2>/dev/null || exit 1
jrun 0 1 "info, executables" "$SISIGN" info --json exe.sis
jcheck "info: executable objects" 'f = d["package"]["files"]
assert f[0]["executable"]["kind"] == "exe" and f[0]["executable"]["vid"] == "0x70000001", f[0]
assert f[1]["executable"]["kind"] == "none" and f[1]["executable"]["problems"], f[1]
assert f[2]["executable"] is None, f[2]'

# ---- sign ------------------------------------------------------------------------
jrun 0 1 "sign, one package" "$SISIGN" sign "${K[@]}" --json --out-dir o1 p1.sis
jcheck "sign: one" 'import hashlib
assert (d["command"], d["status"], d["exit"], d["chains"]) == ("sign", "done", 0, 1), d
assert d["output"] == "o1/p1.sis" and d["output_sha256"] == hashlib.sha256(open("o1/p1.sis", "rb").read()).hexdigest()
assert d["signer_fingerprint"] and d["token_serial"] is None and d["key_id"] is None'
jrun 12 4 "sign, batch with failures" "$SISIGN" sign "${K[@]}" --json -q --out-dir o2 p1.sis junk.sis mismatch.sis p2.sis
jcheck "sign: batch statuses" 'st = {r["input"]: (r["status"], r["exit"]) for r in recs}
assert st == {"p1.sis": ("done", 0), "junk.sis": ("error", 4), "mismatch.sis": ("error", 8), "p2.sis": ("done", 0)}, st'
jrun 4 1 "sign, not a package" "$SISIGN" sign "${K[@]}" --json -q --out-dir o3 junk.sis
jrun 5 2 "sign, wrong key" "$SISIGN" sign --key other.pem --cert cert.pem --json -q --out-dir o4 p1.sis p2.sis
jcheck "sign: wrong key, every input has its line" 'assert [(r["input"], r["status"], r["exit"]) for r in recs] == [("p1.sis", "error", 5), ("p2.sis", "error", 5)], recs
assert all(r["error"]["message"] for r in recs), recs'
check '[ ! -e o4/p1.sis ]' "sign, wrong key: nothing written"
jrun 13 2 "sign, dry run" "$SISIGN" sign "${K[@]}" --json -q --dry-run p1.sis p2.sis
jcheck "sign: dry run" 'assert all(r["status"] == "checked" and r["exit"] == 13 for r in recs), recs'
jrun 0 2 "sign, skip-signed" "$SISIGN" sign "${K[@]}" --json -q --skip-signed --out-dir o2 p1.sis p2.sis
jcheck "sign: skipped" 'assert [r["status"] for r in recs] == ["skipped", "skipped"], recs'
# install rules in a batch: a package writing into \private\<SID>\ with no EXE of that SID
"$SISIGN" pack --uid 0xE0001239 --name J9 --store -f 'a.txt=!:\private\E0001239\a.txt' -o cage.sis || exit 1
jrun 12 2 "sign --strict, batch" "$SISIGN" sign "${K[@]}" --json -q --strict --out-dir o5 p1.sis cage.sis
jcheck "sign --strict: install_check" 'st = {r["input"]: (r["status"], r["exit"], r["install_check"]["verdict"], [f["rule"] for f in r["install_check"]["findings"] if f["severity"] == "error"]) for r in recs}
assert st == {"p1.sis": ("done", 0, "installs", []), "cage.sis": ("error", 14, "would_not_install", ["IR-CAGE-2"])}, st'
jrun 0 2 "sign, batch: findings as warnings" "$SISIGN" sign "${K[@]}" --json -q --out-dir o6 p1.sis cage.sis
jcheck "sign: install_check without --strict" 'st = {r["input"]: (r["status"], r["install_check"]["verdict"]) for r in recs}
assert st == {"p1.sis": ("done", "installs"), "cage.sis": ("done", "would_not_install")}, st'

jrun 0 1 "info, a signed package" "$SISIGN" info --json o1/p1.sis
jcheck "info: the certificate" 'c = d["package"]["signature_chains"][0]["certificates"][0]
assert (c["subject"], c["self_issued"], len(c["sha256"])) == ("CN=json test", True, 64), c'

# ---- developer-certificate constraints (info and verify) ------------------------
MK=$S/tests/tools/mkdevcert.sh
{ bash "$MK" --ca dcroot && bash "$MK" --issuer dcroot --eku codeSigning --devices 354000000000001 \
	--sids 0xE0001234 --vids 0x70000001 --caps ReadUserData+WriteUserData dcleaf &&
	bash "$MK" --issuer dcroot --ext 1.2.826.0.1.1796587.1.1.1.6=030100 dcbad; } || { echo "FAIL: mkdevcert.sh"; exit 1; }
"$SISIGN" sign --key dcleaf.key --cert dcleaf.chain.pem -o dc.sis p1.sis || { echo "FAIL: sign dc"; exit 1; }
"$SISIGN" sign --key dcbad.key --cert dcbad.chain.pem -o dcbad.sis p1.sis || { echo "FAIL: sign dcbad"; exit 1; }
DC='{"device_ids": ["354000000000001"], "sids": ["0xe0001234"], "vids": ["0x70000001"],
	"capabilities": ["ReadUserData", "WriteUserData"], "error": None}'
jrun 0 1 "info, a developer certificate" "$SISIGN" info --json dc.sis
jcheck "info: constraints of each certificate" 'c = d["package"]["signature_chains"][0]["certificates"]
assert [x["constraints"] for x in c] == ['"$DC"', None], c'
jrun 10 1 "verify, a developer certificate" "$SISIGN" verify --json dc.sis
jcheck "verify: constraints of each certificate" 'assert d["top"]["chains"][0]["constraints"] == ['"$DC"', None], d'
jrun 0 1 "info, constraints that do not decode" "$SISIGN" info --json dcbad.sis
jcheck "info: the reason" 'c = d["package"]["signature_chains"][0]["certificates"][0]["constraints"]
assert "capability set" in c["error"] and "unused-bits" in c["error"], c
assert (c["device_ids"], c["sids"], c["vids"], c["capabilities"]) == (None, None, None, None), c'

# ---- verify ------------------------------------------------------------------------
jrun 11 1 "verify, unsigned" "$SISIGN" verify --json p1.sis
jcheck "verify: unsigned" 'assert (d["status"], d["verdict"], d["chains"], d["exit"]) == ("done", "unsigned", 0, 11), d
assert d["top"]["chains"] == []'
jrun 10 1 "verify, self-signed" "$SISIGN" verify --json o1/p1.sis
jcheck "verify: signed" 'assert (d["verdict"], d["exit"], d["top"]["chains"][0]["signer_subject"]) == ("self-signed", 10, "CN=json test"), d'
jrun 4 1 "verify, not a package" "$SISIGN" verify --json junk.sis
jcheck "verify: error" 'assert (d["status"], d["verdict"], d["chains"], d["exit"]) == ("error", None, None, 4), d'
jrun 12 3 "verify, batch" "$SISIGN" verify --json -q --jobs 1 o1/p1.sis junk.sis p2.sis
jcheck "verify: batch records" 'st = {r["input"]: (r["verdict"], r["exit"]) for r in recs}
assert st == {"o1/p1.sis": ("self-signed", 10), "junk.sis": (None, 4), "p2.sis": ("unsigned", 11)}, st'
mkdir -p tree && cp o1/p1.sis p2.sis tree/
jrun 11 2 "verify -r, all verdicts" "$SISIGN" verify -r --json -q tree

# ---- check -------------------------------------------------------------------------
jrun 14 1 "check, unsigned" "$SISIGN" check --json p1.sis
jcheck "check: would not install" 'assert (d["status"], d["verdict"], d["trust"], d["exit"]) == ("done", "would_not_install", "unsigned", 14), d
assert d["findings"][0]["rule"] == "IR-SIG-1" and d["findings"][0]["severity"] == "error", d'
jrun 0 1 "check, self-signed" "$SISIGN" check --json o1/p1.sis
jcheck "check: installs" 'assert (d["verdict"], d["trust"], d["exit"], d["depends_on"]) == ("installs", "self-signed", 0, []), d'
jrun 4 1 "check, not a package" "$SISIGN" check --json junk.sis
jcheck "check: error" 'assert (d["status"], d["verdict"], d["findings"], d["exit"]) == ("error", None, [], 4), d'
jrun 12 2 "check, two files" "$SISIGN" check --json -q o1/p1.sis junk.sis

# ---- unsign ------------------------------------------------------------------------
jrun 0 1 "unsign, one package" "$SISIGN" unsign --json --out-dir u1 o1/p1.sis
jcheck "unsign: done" 'assert (d["command"], d["status"], d["chains"], d["signer_fingerprint"]) == ("unsign", "done", 0, None), d'
jrun 12 2 "unsign, unsigned in a batch" "$SISIGN" unsign --json -q --out-dir u2 o1/p1.sis p2.sis
jcheck "unsign: unsigned input" 'st = {r["input"]: (r["status"], r["exit"]) for r in recs}
assert st == {"o1/p1.sis": ("done", 0), "p2.sis": ("error", 11)}, st'

# ---- the audit log uses the same records --------------------------------------------
jrun 0 1 "sign with an audit log" "$SISIGN" sign "${K[@]}" --json -q --audit-log audit.log --out-dir o5 p3.sis
cp audit.log "$T/out"
checks=$((checks + 1))
python3 - "$SCHEMA" audit.log <<'PY' || fail "audit log records"
import json, sys
import jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
recs = [json.loads(l) for l in open(sys.argv[2])]
for d in recs:
    v.validate(d)
assert [(r["status"], r["exit"]) for r in recs] == [("writing", None), ("done", 0)], recs
assert all(r["user"] and r["host"] is not None for r in recs)
PY

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
