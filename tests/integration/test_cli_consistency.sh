#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One CLI, consistent everywhere (issue #12, item 11): options after
# operands, -o with batch options, '-' as standard input/output (never a
# terminal), "did you mean", verify's per-file verdicts, the progress bar at
# 80 columns through a pty, -q/-v on every command, `keys` beside an
# uninitialised SoftHSM slot, and --out-dir made only after login.
# Env: SISIGN (the built CLI); SOFTHSM2_MODULE (optional: token parts skip).
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
for tool in openssl python3 cmp; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"
tu_init cli-consistency
unset SISIGN_PASS SISIGN_PIN COLUMNS
cd "$T" || exit 1

# ptyrun.py COLS OUTFILE CMD...: run CMD with stdin, stdout and stderr on a pty
# of COLS columns; everything it wrote goes to OUTFILE; exits with CMD's
# status.
cat >ptyrun.py <<'EOF'
import fcntl, os, pty, struct, sys, termios
cols, outfile, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 24, cols, 0, 0))
    os.execvp(argv[0], argv)
data = b''
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, st = os.waitpid(pid, 0)
open(outfile, 'wb').write(data)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128)
EOF

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.key 2>/dev/null
openssl req -new -x509 -key k.key -sha256 -days 30 -subj "/CN=sisign cli test" -out k.crt 2>/dev/null
[ -s k.crt ] || { echo "FAIL: could not make a key with openssl"; exit 1; }
printf 'hello\n' >h.txt
# Options before operands: this must work on any version.
"$SISIGN" pack --uid 0xE0001234 --name T --vendor V --created 2020-01-01 -f 'h.txt=!:\data\h.txt' -o a.sis \
	>/dev/null 2>&1 || { echo "FAIL: pack"; exit 1; }

# ---- options after operands (GNU permutation) ------------------------------------
run "$SISIGN" sign a.sis -o p.sis --key k.key --cert k.crt
expect_rc 0 "sign with options after the input"
expect_no_stderr "sign with options after the input"
check '[ -s p.sis ]' "sign with options after the input: output written"
run "$SISIGN" verify p.sis --trust k.crt
expect_rc 0 "verify FILE --trust"
run "$SISIGN" unsign p.sis -o pu.sis
expect_rc 0 "unsign IN -o OUT"
check 'cmp -s pu.sis a.sis' "unsign IN -o OUT gives the input back"
run "$SISIGN" info a.sis --json
expect_rc 0 "info FILE --json"
check 'head -c1 "$T/out" | grep -q "{"' "info FILE --json prints JSON"
cp a.sis ./-x.sis
run "$SISIGN" sign -o dd.sis --key k.key --cert k.crt -- -x.sis
expect_rc 0 "sign: '--' ends the options, so -x.sis is an input"
check '[ -s dd.sis ]' "sign -- -x.sis: output written"

# ---- -o with --json, --dry-run, --audit-log, --progress ---------------------------
run "$SISIGN" sign --key k.key --cert k.crt --json -o j.sis a.sis
expect_rc 0 "sign --json -o OUT IN"
check '[ -s j.sis ]' "sign --json -o: output written"
check 'grep -q "\"output\":\"j.sis\"" "$T/out"' "sign --json -o: the JSON record names the output"
run "$SISIGN" sign --key k.key --cert k.crt --dry-run -o dry.sis a.sis
expect_rc 13 "sign --dry-run -o OUT IN"
expect_absent dry.sis "sign --dry-run -o"
run "$SISIGN" sign --key k.key --cert k.crt --audit-log audit.jsonl -o al.sis a.sis
expect_rc 0 "sign --audit-log -o OUT IN"
check '[ -s al.sis ] && grep -q "\"output\":\"al.sis\"" audit.jsonl' "sign --audit-log -o: output and its record"
run "$SISIGN" sign --key k.key --cert k.crt --progress -o pr.sis a.sis
expect_rc 0 "sign --progress -o OUT IN"
check '[ -s pr.sis ]' "sign --progress -o: output written"
run "$SISIGN" unsign --json -o uj.sis j.sis
expect_rc 0 "unsign --json -o OUT IN"
check 'cmp -s uj.sis a.sis' "unsign --json -o: the input back"
mkdir -p two && cp a.sis two/x.sis && cp a.sis two/y.sis
run "$SISIGN" sign --key k.key --cert k.crt --json -o both.sis two/x.sis two/y.sis
expect_rc 2 "sign --json -o with two inputs"
expect_stderr_has "-o names one output" "sign --json -o with two inputs"

# ---- '-' is standard input and output ------------------------------------------
"$SISIGN" sign --key k.key --cert k.crt -o - a.sis >s1.sis 2>"$T/err"
rc=$?
expect_rc 0 "sign -o - IN"
expect_absent ./- "sign -o -: no file named '-'"
run "$SISIGN" verify --trust k.crt s1.sis
expect_rc 0 "sign -o -: standard output holds the signed package"
"$SISIGN" sign --key k.key --cert k.crt -o s2.sis - <a.sis >"$T/out" 2>"$T/err"
rc=$?
expect_rc 0 "sign -o OUT - (standard input)"
run "$SISIGN" verify --trust k.crt s2.sis
expect_rc 0 "sign from standard input: output verifies"
"$SISIGN" unsign -o - - <s1.sis >u1.sis 2>"$T/err"
rc=$?
expect_rc 0 "unsign -o - -"
check 'cmp -s u1.sis a.sis' "unsign through a pipe gives the input back"
"$SISIGN" info - <s1.sis >"$T/out" 2>"$T/err"
rc=$?
expect_rc 0 "info -"
expect_stdout_has "Name:" "info - describes the package"
"$SISIGN" verify --trust k.crt - <s1.sis >"$T/out" 2>"$T/err"
rc=$?
expect_rc 0 "verify -"
expect_stdout_has "-: trusted" "verify - gives a verdict"
"$SISIGN" pack --uid 0xE0001234 --name T --vendor V --created 2020-01-01 -f 'h.txt=!:\data\h.txt' -o - \
	>pk.sis 2>"$T/err"
rc=$?
expect_rc 0 "pack -o -"
check 'cmp -s pk.sis a.sis' "pack -o - writes the same package as pack -o FILE"
printf 'not a package' >bad.sis
"$SISIGN" sign --key k.key --cert k.crt -o - bad.sis >bad.out 2>"$T/err"
rc=$?
expect_rc 4 "sign -o - of a bad package"
check '[ ! -s bad.out ]' "sign -o -: nothing on standard output after a failure"
run "$SISIGN" sign --key k.key --cert k.crt --in-place -
expect_rc 2 "sign --in-place -"
# Binary never to a terminal; never read from one.
python3 ptyrun.py 80 tty.out "$SISIGN" sign --key k.key --cert k.crt -o - a.sis
rc=$?
expect_rc 2 "sign -o - with standard output a terminal"
check 'grep -q "terminal" tty.out && ! grep -q "SISX\|^.\{0,3\}z" tty.out' "sign -o - to a terminal: refused, says why"
python3 ptyrun.py 80 tty2.out "$SISIGN" unsign -o - s1.sis
rc=$?
expect_rc 2 "unsign -o - with standard output a terminal"
python3 ptyrun.py 80 tty3.out "$SISIGN" pack --uid 0xE0001234 --name T --vendor V -f 'h.txt=!:\data\h.txt' -o -
rc=$?
expect_rc 2 "pack -o - with standard output a terminal"
python3 ptyrun.py 80 tty4.out "$SISIGN" info -
rc=$?
expect_rc 2 "info - with standard input a terminal"

# ---- did you mean ----------------------------------------------------------------
run "$SISIGN" sgin a.sis
expect_rc 2 "mistyped command"
expect_stderr_has "did you mean 'sign'" "mistyped command gets a suggestion"
run "$SISIGN" verfiy a.sis
expect_stderr_has "did you mean 'verify'" "mistyped command (swap) gets a suggestion"
run "$SISIGN" sign --jsno --key k.key --cert k.crt -o x.sis a.sis
expect_rc 2 "mistyped long option"
expect_stderr_has "did you mean '--json'" "mistyped long option gets a suggestion"
run "$SISIGN" verify --turst k.crt a.sis
expect_stderr_has "did you mean '--trust'" "verify: mistyped --trust"
run "$SISIGN" info --jsn a.sis
expect_stderr_has "did you mean '--json'" "info: mistyped --json"
run "$SISIGN" sign --zzzzzzzz a.sis
expect_rc 2 "unknown option, nothing close"
check '! grep -q "did you mean" "$T/err"' "no suggestion when nothing is close"

# ---- verify -r: a verdict line per file -------------------------------------------
mkdir -p vd
cp a.sis vd/a.sis
cp s1.sis vd/s.sis
run "$SISIGN" verify --trust k.crt -r vd
expect_rc 11 "verify -r (worst verdict: unsigned)"
expect_stdout_has "vd/a.sis: unsigned" "verify -r: a line for the unsigned package"
expect_stdout_has "vd/s.sis: trusted" "verify -r: a line for the trusted package"
expect_stderr_has "2 verified" "verify -r: the summary too"
run "$SISIGN" verify vd
expect_rc 2 "verify DIR without -r"
expect_stderr_has "use -r to verify" "verify DIR: the message names verify"
check '! grep -q "to sign" "$T/err"' "verify DIR: does not talk about signing"
run "$SISIGN" unsign --out-dir uo vd
expect_stderr_has "use -r to unsign" "unsign DIR: the message names unsign"

# ---- the progress bar at 80 columns ------------------------------------------------
mkdir -p many
for i in $(seq 1 40); do cp a.sis many/p$i.sis; done
python3 ptyrun.py 80 prog.out "$SISIGN" sign -j1 --key k.key --cert k.crt --out-dir prog-out -r many
rc=$?
expect_rc 0 "sign -r with a progress bar on an 80-column pty"
checks=$((checks + 1))
python3 - prog.out 80 <<'EOF' || fail "progress bar at 80 columns (see above)"
import re, sys
data = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').replace('\r\n', '\n')
cols = int(sys.argv[2])
bars = 0
for line in data.split('\n'):
    for seg in line.split('\r'):
        text = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', seg)
        if len(text) > cols - 1:
            print('line of %d columns: %r' % (len(text), text))
            sys.exit(1)
        if 'files' in text and '/' in text:
            bars += 1
# Each redraw starts with \r (in place), none with a new line.
redraws = len(re.findall(r'\r\[', data)) + len(re.findall(r'\r\d+/\d+ files', data))
if bars == 0 or redraws != bars:
    print('%d bar updates, %d redrawn in place' % (bars, redraws))
    sys.exit(1)
if re.search(r'files[^\n]*\n\[', data):
    print('a bar update on a new line')
    sys.exit(1)
EOF
# Without a terminal, --progress takes $COLUMNS.
rm -rf prog-out2
COLUMNS=50 "$SISIGN" sign -j1 --progress --key k.key --cert k.crt --out-dir prog-out2 -r many >"$T/out" 2>prog2.err
rc=$?
expect_rc 0 "sign --progress, COLUMNS=50"
check 'python3 -c "
import re,sys
d=open(\"prog2.err\").read()
segs=[re.sub(r\"\x1b\[[0-9;]*[A-Za-z]\",\"\",s) for l in d.split(\"\n\") for s in l.split(\"\r\")]
sys.exit(0 if all(len(s)<=49 for s in segs if \"files\" in s and \"of\" not in s) and any(\"files\" in s for s in segs) else 1)"' \
	"--progress with COLUMNS=50: bar within 49 columns"

# ---- -q and -v on every command ---------------------------------------------------
cmds=$("$SISIGN" help | awk '/^Commands:/{f=1; next} f && /^  [a-z]/{print $1} /^$/{if (f) exit}')
check '[ -n "$cmds" ]' "sisign help lists commands"
for c in $cmds; do
	case $c in signsis | makekeys | help | version) continue ;; esac
	run "$SISIGN" "$c" --help
	expect_stdout_has "-q, --quiet" "$c --help documents -q"
	expect_stdout_has "-v, --verbose" "$c --help documents -v"
	run "$SISIGN" "$c" --verbose --quiet -q -v --bogus-zz
	expect_rc 2 "$c: -q/-v accepted, the bogus option refused"
	expect_stderr_has "'--bogus-zz'" "$c: only the bogus option is refused"
done
run "$SISIGN" sign -v --key k.key --cert k.crt -o v.sis a.sis
expect_rc 0 "sign -v"
expect_stderr_has "key: k.key" "sign -v names the key"
expect_stderr_has "certificate: k.crt" "sign -v names the certificate"
expect_stderr_has "wrote v.sis" "sign -v names the output"
run "$SISIGN" sign -q --key k.key --cert k.crt --out-dir qd -r many
expect_rc 0 "sign -q, a batch"
expect_no_stderr "sign -q: no summary"
run "$SISIGN" verify -v a.sis
expect_stderr_has "reading a.sis" "verify -v"
run "$SISIGN" info -q a.sis
expect_rc 0 "info -q"
expect_no_stderr "info -q"

# ---- --out-dir only after validation ----------------------------------------------
run "$SISIGN" sign --out-dir od1 --key k.key --cert k.crt vd
expect_rc 2 "sign --out-dir with a directory but no -r"
expect_absent od1 "--out-dir not created before a usage error"
run "$SISIGN" sign --out-dir od2 --key missing.key --cert k.crt a.sis s1.sis
check '[ "$rc" -ne 0 ]' "sign --out-dir with a missing key fails"
expect_absent od2 "--out-dir not created before the key is loaded"

# ---- SoftHSM: keys with no URI; --out-dir and a wrong PIN ---------------------------
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
MT="$here/../../softhsm-config/make-token.sh"
if [ -r "$M" ] && command -v softhsm2-util >/dev/null && [ -r "$MT" ]; then
	if SISIGN="$SISIGN" SOFTHSM2_MODULE="$M" SISIGN_PIN=1234 bash "$MT" "$T/tok" >tok.out 2>tok.err; then
		export SOFTHSM2_CONF="$T/tok/softhsm2.conf"
		# SoftHSM also offers an empty, uninitialised slot: "pkcs11:" alone
		# matched it too.
		run env SISIGN_PIN=1234 "$SISIGN" keys --module "$M"
		expect_rc 0 "keys with no URI beside an uninitialised slot"
		expect_stdout_has 'label "sisign"' "keys with no URI lists the token's key"
		run env SISIGN_PIN=1234 "$SISIGN" sign --module "$M" --key 'pkcs11:object=sisign;type=private' -o tk.sis a.sis
		expect_rc 0 "sign with a URI naming only the object"
		printf '9999\n' >bad.pin
		chmod 600 bad.pin
		run "$SISIGN" sign --out-dir od3 --module "$M" --pin-file bad.pin \
			--key 'pkcs11:token=sisign-test;object=sisign;type=private' a.sis s1.sis
		expect_rc 7 "sign --out-dir with a wrong PIN"
		expect_absent od3 "--out-dir not created before a wrong PIN is reported"
		run env SISIGN_PIN=1234 "$SISIGN" sign --out-dir od4 --module "$M" \
			--key 'pkcs11:token=sisign-test;object=sisign;type=private' a.sis s1.sis
		expect_rc 0 "sign --out-dir with the right PIN"
		check '[ -s od4/a.sis ] && [ -s od4/s1.sis ]' "--out-dir created and filled after login"
	else
		echo "note: make-token.sh failed; token checks skipped: $(head -c 300 tok.err)"
	fi
else
	echo "note: SoftHSM not installed; token checks skipped"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
