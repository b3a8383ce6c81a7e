#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fault injection (issue #11 item 13): strace makes each openat, write,
# fsync, linkat, renameat and read/pread64 of `sisign sign` that touches
# the test's files fail in turn — ENOSPC, EIO, and for reads a short read
# (end of file early) — for one file (-o), a batch (--out-dir) and
# --in-place, the last two with --audit-log.  After every run:
#   - a short read is reported as one (not as a bad key or package);
#   - the exit code is a documented one (0, 3 I/O, 4 bad package, 5 key or
#     certificate, 12 partial batch), non-zero unless the failed call is
#     one sisign deliberately does without (O_TMPFILE falls back to a
#     named temp; the directory scan for stale temps is best effort), 0
#     only with every output, 12 only with some — except that a failed
#     directory fsync after the renames (issue #14) fails the packages
#     renamed into it although their outputs exist;
#   - every input is unchanged (--in-place: unchanged or completely signed);
#   - every output that exists is complete (byte for byte the output of a
#     clean run: signing is deterministic) and no temp file is left;
#   - the audit log agrees with the outputs: every line a JSON record,
#     every output that exists has a record with its SHA-256, no "done"
#     record for an output that does not exist.
# Batches run with -j1 (jobs on the main thread): strace counts a syscall's
# occurrences per thread.  The reads of the input packages are many; a
# spread sample of 14 of them is taken per run kind (SISIGN_FI_ALL=1: all).
# SISIGN_FI_QUICK=1 (the sanitizer build, where each run is slow): one
# error per call, ENOSPC and EIO taking turns, and 6 input reads.
# Env: SISIGN.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 strace; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
if ! strace -qq -o /dev/null -e trace=openat -e inject=openat:error=ENOSPC:when=60000 true 2>/dev/null; then
	echo "SKIP: this strace has no syscall fault injection (-e inject=, strace >= 4.16)"
	exit 77
fi
unset SISIGN_PASS SISIGN_PIN

# LeakSanitizer cannot run under ptrace: no leak check in an ASan build
# while strace watches.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
. "$(dirname "$0")/lib/common.sh"
tu_init fault-injection
cd "$T" || exit 1

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 \
	-subj "/CN=sisign fault test" 2>/dev/null || { echo "SKIP: openssl req failed"; exit 77; }
mkdir src ref
for i in 1 2 3; do
	head -c $((2000 + 700 * i)) /dev/urandom >f.bin
	"$SISIGN" pack --uid $((0xE0000900 + i)) --name "F$i" --store -f 'f.bin=!:\data\f.bin' -o "src/p$i.sis" ||
		{ echo "FAIL: pack"; exit 1; }
	"$SISIGN" sign --key key.pem --cert cert.pem -o "ref/p$i.sis" "src/p$i.sis" || { echo "FAIL: reference signature"; exit 1; }
done

python3 - "$SISIGN" "$T" <<'EOF'
import hashlib, json, os, re, shutil, subprocess, sys

sisign, T = sys.argv[1], sys.argv[2]
W = os.path.join(T, "w")
KEY = ["--key", os.path.join(W, "key.pem"), "--cert", os.path.join(W, "cert.pem")]
ALL = os.environ.get("SISIGN_FI_ALL") == "1"
QUICK = os.environ.get("SISIGN_FI_QUICK") == "1" and not ALL
NREADS = 6 if QUICK else 14
SYSCALLS = ["openat", "write", "fsync", "linkat", "renameat", "renameat2", "rename", "read", "pread64"]
READS = ("read", "pread64")
DOCUMENTED = {0, 3, 4, 5, 12}

def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()

SRC = {n: sha(os.path.join(T, "src", n)) for n in os.listdir(os.path.join(T, "src"))}
REF = {n: sha(os.path.join(T, "ref", n)) for n in os.listdir(os.path.join(T, "ref"))}
NAMES = sorted(SRC)

def inp(n): return os.path.join(W, "in", n)
def outp(n): return os.path.join(W, "out", n)

SCENARIOS = {
    # one file through the single-file path (no batch engine)
    "single": (lambda: KEY + ["-o", outp("p1.sis"), inp("p1.sis")], ["p1.sis"], False, False),
    "batch": (lambda: KEY + ["-j1", "-q", "--out-dir", os.path.join(W, "out"), "--audit-log",
                             os.path.join(W, "audit.log")] + [inp(n) for n in NAMES], NAMES, True, False),
    "in-place": (lambda: KEY + ["-j1", "-q", "--in-place", "--audit-log", os.path.join(W, "audit.log")] +
                 [inp(n) for n in NAMES], NAMES, True, True),
}

def fresh():
    shutil.rmtree(W, ignore_errors=True)
    os.makedirs(os.path.join(W, "in"))
    os.makedirs(os.path.join(W, "out"))
    for n in NAMES:
        shutil.copy(os.path.join(T, "src", n), inp(n))
    for n in ("key.pem", "cert.pem"):
        shutil.copy(os.path.join(T, n), os.path.join(W, n))

checks = failures = runs = 0
codes = {}

def fail(what, why, rc, err):
    global failures
    failures += 1
    print("FAIL: %s: %s (exit %d)\n  stderr: %s" % (what, why, rc, err[:600].strip()))

def tolerated(line):
    """A failed call sisign does without, by design."""
    return line.startswith("openat(") and ("O_TMPFILE" in line or "O_DIRECTORY" in line)

def dir_sync(line):
    """A call of the directory sync after the renames: the packages renamed
    into that directory fail, although their outputs exist."""
    if line.startswith("openat(") and "O_DIRECTORY" in line:
        return True
    m = re.match(r"fsync\(\d+<([^>]*)>", line)
    return bool(m and os.path.isdir(m.group(1)))

def judge(what, scen, rc, err, line, fault):
    global checks
    _, names, audit, in_place = SCENARIOS[scen]
    checks += 1
    problems = []
    if rc not in DOCUMENTED:
        problems.append("exit code %d is not a documented one for this" % rc)
    # inputs and outputs
    present, missing = {}, []
    for n in names:
        h = sha(inp(n))
        if in_place:
            if h == REF[n]:
                present[inp(n)] = h
            elif h == SRC[n]:
                missing.append(n)
            else:
                problems.append("%s is neither the input nor its signed version" % n)
        else:
            if h != SRC[n]:
                problems.append("input %s changed" % n)
            if os.path.exists(outp(n)):
                o = sha(outp(n))
                if o != REF[n]:
                    problems.append("output %s is not complete" % n)
                present[outp(n)] = o
            else:
                missing.append(n)
    extra = [os.path.join(d, f) for d, _, fs in os.walk(W) for f in fs if ".tmp" in f]
    codes.setdefault(rc, 0)
    codes[rc] += 1
    if extra:
        problems.append("temp files left: %s" % extra)
    if rc == 0 and missing:
        problems.append("exit 0 but no output for %s" % missing)
    if rc == 12 and (not missing or not present) and not dir_sync(line):
        problems.append("exit 12 (partial) but %d of %d outputs" % (len(present), len(names)))
    if rc != 0 and not err.strip():
        problems.append("failed without a message")
    if fault == "retval=0" and rc != 0 and not re.search(r"shr[au]nk|truncated", err):
        problems.append("a read that came up short is not reported as one")
    if rc == 0 and not tolerated(line):
        problems.append("the failure went unnoticed")
    if audit:
        log = os.path.join(W, "audit.log")
        recs = []
        if os.path.exists(log):
            for l in open(log, "rb").read().split(b"\n"):
                if not l:
                    continue
                try:
                    recs.append(json.loads(l))
                except ValueError:
                    problems.append("audit log line is not JSON: %r" % l[:80])
        have = {}
        for r in recs:
            if r.get("output_sha256") and r["status"] in ("writing", "done"):
                have.setdefault(r["output"], set()).add(r["output_sha256"])
            if r["status"] == "done" and r["output"] not in present:
                problems.append("a done record for %s, which does not exist" % r["output"])
        for p, h in present.items():
            if h not in have.get(p, ()):
                problems.append("no audit record for %s" % p)
    if problems:
        fail(what, "; ".join(problems), rc, err)

def sample(idx):
    """Every occurrence, but of the many reads of the input packages a
    spread of NREADS (first and last included)."""
    many = [o for o in idx if o[1].startswith(READS) and os.path.join(W, "in") + "/" in o[1]]
    if ALL or len(many) <= NREADS:
        return idx
    step = (len(many) - 1) / (NREADS - 1.0)
    keep = {many[round(k * step)] for k in range(NREADS)}
    return [o for o in idx if o not in many or o in keep]

for scen, (argv, names, audit, in_place) in SCENARIOS.items():
    fresh()
    tr = os.path.join(T, "trace")
    subprocess.run(["strace", "-f", "-qq", "-y", "-o", tr, "-e", "trace=" + ",".join(SYSCALLS), sisign, "sign"] + argv(),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    count, targets = {}, {}
    for raw in open(tr):
        m = re.match(r"\d+\s+(\w+)\((.*)$", raw)
        if not m or m.group(1) not in SYSCALLS:
            continue
        name = m.group(1)
        count[name] = count.get(name, 0) + 1
        body = re.sub(r"AT_FDCWD<[^>]*>", "AT_FDCWD", m.group(1) + "(" + m.group(2))
        if W in body:
            targets.setdefault(name, []).append((count[name], body))
    for name, occ in sorted(targets.items()):
        faults = ["error=ENOSPC", "error=EIO"] + (["retval=0"] if name in READS else [])
        for k, (n, line) in enumerate(sample(occ)):
            for f in faults:
                if QUICK and f.startswith("error=") and f != faults[k % 2]:
                    continue
                fresh()
                p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + name,
                                    "-e", "inject=%s:%s:when=%d" % (name, f, n), sisign, "sign"] + argv(),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                runs += 1
                judge("%s: %s #%d %s [%s]" % (scen, name, n, f, line[:110]), scen, p.returncode,
                      p.stderr.decode(errors="replace"), line, f)
    print("%s: %s" % (scen, ", ".join("%s %d/%d" % (k, len(sample(v)), len(v)) for k, v in sorted(targets.items()))))

print("%d runs; exit codes: %s" % (runs, ", ".join("%d x%d" % kv for kv in sorted(codes.items()))))
print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
EOF
