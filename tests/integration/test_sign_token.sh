#!/bin/bash
# Signing with a key on a SoftHSM token (fixture softhsm_token: token
# "sisign-test" with key "sisign", id 01 and its certificate; two tokens
# labelled "sisign-dup").  Env: SISIGN, SOFTHSM2_CONF, SOFTHSM2_MODULE,
# SISIGN_PIN (1234).  The new signature is checked with plain openssl.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
if [ -z "${SOFTHSM2_CONF:-}" ] || [ ! -r "$SOFTHSM2_CONF" ]; then
	echo "SKIP: no SoftHSM token (SOFTHSM2_CONF unset or unreadable; run via ctest with the softhsm_token fixture)"
	exit 77
fi
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -r "$M" ] || { echo "SKIP: SoftHSM module $M not found"; exit 77; }
for tool in openssl python3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
PIN=${SISIGN_PIN:-1234}
unset SISIGN_PASS

T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-sign-token.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
checks=0
fail() {
	echo "FAIL: $*"
	echo "  stdout: $(head -c 800 "$T/out")"
	echo "  stderr: $(head -c 800 "$T/err")"
	failures=$((failures + 1))
}
run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { checks=$((checks + 1)); [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"; }
expect_no_stderr() { checks=$((checks + 1)); [ ! -s "$T/err" ] || fail "$1: stderr not empty"; }
expect_stderr_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"; }
expect_stdout_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/out" || fail "$2: stdout lacks '$1'"; }
expect_absent() { checks=$((checks + 1)); [ ! -e "$1" ] || fail "$2: $1 exists"; }

cat >"$T/chains.py" <<'EOF'
import struct, sys, zlib
# chains.py FILE OUTDIR: writes region<k>.bin, sig<k>.bin, alg<k>.txt,
# certs<k>.der for each top-level chain k; prints the chain count.
def field(buf, off):
    t, l = struct.unpack_from('<II', buf, off)
    hl = 8
    if l & 0x80000000:
        hi, = struct.unpack_from('<I', buf, off + 8)
        l = (l & 0x7fffffff) | (hi << 31)
        hl = 12
    return t, off + hl, l, off + hl + l + (-(hl + l)) % 4
def fields(buf, start, end):
    off = start
    while off < end:
        t, v, l, nxt = field(buf, off)
        yield off, t, v, l
        off = nxt
data = open(sys.argv[1], 'rb').read()
outdir = sys.argv[2]
assert struct.unpack_from('<I', data, 0)[0] == 0x10201A7A
t, v, l, _ = field(data, 16)
assert t == 12
ctrl = None
for _, ft, fv, fl in fields(data, v, v + l):
    if ft == 3 and ctrl is None:       # the first SISCompressed is the controller
        alg, size = struct.unpack_from('<IQ', data, fv)
        raw = data[fv + 12:fv + fl]
        ctrl = zlib.decompress(raw) if alg == 1 else raw
        assert len(ctrl) == size
t, bv, bl, _ = field(ctrl, 0)
assert t == 13
B = ctrl[bv:bv + bl]
k = 0
for off, ft, fv, fl in fields(B, 0, len(B)):
    if ft != 39:
        continue
    open('%s/region%d.bin' % (outdir, k), 'wb').write(B[:off])   # §7.1
    inner = list(fields(B, fv, fv + fl))
    _, at, av, al = inner[0]
    assert at == 2 and struct.unpack_from('<I', B, av)[0] == 36
    elen, = struct.unpack_from('<I', B, av + 4)
    sig = list(fields(B, av + 8, av + 8 + elen))
    _, algt, algv, _ = sig[0]
    assert algt == 38
    st, sv, sl, _ = field(B, algv)
    open('%s/alg%d.txt' % (outdir, k), 'w').write(B[sv:sv + sl].decode('utf-16-le') + '\n')
    _, blt, blv, bll = sig[1]
    assert blt == 37
    open('%s/sig%d.bin' % (outdir, k), 'wb').write(B[blv:blv + bll])
    _, ct, cv, cl = inner[1]
    assert ct == 22
    bt, bv2, bl2, _ = field(B, cv)
    assert bt == 37
    open('%s/certs%d.der' % (outdir, k), 'wb').write(B[bv2:bv2 + bl2])
    k += 1
print(k)
EOF

cat >"$T/derlen.py" <<'EOF'
import sys
# derlen.py IN OUT: copy only the DER SEQUENCE at the start of IN (drops the
# zero padding signsis leaves after a DSA signature, sis-format.md §7.2).
d = open(sys.argv[1], 'rb').read()
assert d[0] == 0x30
if d[1] < 0x80:
    n = 2 + d[1]
else:
    k = d[1] & 0x7f
    n = 2 + k + int.from_bytes(d[2:2 + k], 'big')
open(sys.argv[2], 'wb').write(d[:n])
EOF

# check_chains FILE WANT_COUNT DESC: every chain's signature verifies with
# openssl over exactly its region, using the first certificate's key.
check_chains() {
	local f=$1 want=$2 desc=$3 d n k
	d=$(mktemp -d "$T/chk.XXXXXX")
	checks=$((checks + 1))
	if ! n=$(python3 "$T/chains.py" "$f" "$d" 2>"$d/pyerr"); then
		fail "$desc: independent parser failed: $(cat "$d/pyerr")"
		return
	fi
	[ "$n" -eq "$want" ] || fail "$desc: $n chains, expected $want"
	for ((k = 0; k < n; k++)); do
		checks=$((checks + 1))
		# The certificate blob is concatenated DER: openssl x509 reads the first.
		if ! openssl x509 -inform DER -in "$d/certs$k.der" -pubkey -noout >"$d/pub$k.pem" 2>/dev/null; then
			fail "$desc: chain $k: signer certificate unreadable"
			continue
		fi
		cp "$d/sig$k.bin" "$d/sigx$k.bin"
		if grep -q "^1.2.840.10040.4.3$" "$d/alg$k.txt"; then
			python3 "$T/derlen.py" "$d/sig$k.bin" "$d/sigx$k.bin"
		elif ! grep -q "^1.2.840.113549.1.1.5$" "$d/alg$k.txt"; then
			fail "$desc: chain $k: unexpected algorithm $(cat "$d/alg$k.txt")"
		fi
		openssl dgst -sha1 -verify "$d/pub$k.pem" -signature "$d/sigx$k.bin" "$d/region$k.bin" \
			>/dev/null 2>&1 || fail "$desc: chain $k: openssl does not verify the signature"
	done
}


cd "$T" || exit 1
KEY='pkcs11:token=sisign-test;object=sisign;type=private'
printf 'token\n' >f.txt
run "$SISIGN" pack --uid 0xE0001236 --name Tok --vendor V --created 2020-01-01 -f 'f.txt=!:\data\f.txt' -o in.sis
expect_rc 0 "pack"
before=$(sha256sum <in.sis)

# Sign with the token key and the token's certificate; PIN from SISIGN_PIN.
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" -o tok.sis in.sis
expect_rc 0 "sign with token key"
expect_no_stderr "sign with token key"
check_chains tok.sis 1 "token signature"
run "$SISIGN" verify tok.sis
expect_rc 10 "token-signed package verifies (self-signed token certificate)"
expect_stdout_has "signature ok" "token verify"
run "$SISIGN" unsign -o tok-u.sis tok.sis
expect_rc 0 "unsign token signature"
checks=$((checks + 1))
cmp -s in.sis tok-u.sis || fail "token sign+unsign not byte-identical"

# PIN through --pin-file (0600) and --pin-fd; a 0644 pin file is refused.
printf '%s\n' "$PIN" >pin.txt
chmod 600 pin.txt
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-file pin.txt -o tok2.sis in.sis
expect_rc 0 "--pin-file 0600"
check_chains tok2.sis 1 "--pin-file"
env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o tok3.sis in.sis 3<pin.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 0 "--pin-fd"
chmod 644 pin.txt
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY" --module "$M" --pin-file pin.txt -o tok4.sis in.sis
expect_rc 7 "--pin-file 0644 refused"
expect_stderr_has "pin.txt" "--pin-file 0644 names the file"
expect_absent tok4.sis "--pin-file 0644"

# Wrong PIN → EXIT_PIN, nothing written; the token still works after it.
run env SISIGN_PIN=99999999 "$SISIGN" sign --key "$KEY" --module "$M" -o bad.sis in.sis
expect_rc 7 "wrong PIN"
expect_absent bad.sis "wrong PIN"
# --pin-fd beats SISIGN_PIN
printf '99999999\n' >badpin.txt
SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" --pin-fd 3 -o bad.sis in.sis 3<badpin.txt >"$T/out" 2>"$T/err" </dev/null
rc=$?
expect_rc 7 "--pin-fd takes precedence over SISIGN_PIN"
expect_absent bad.sis "--pin-fd precedence"
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" -o after.sis in.sis
expect_rc 0 "right PIN after wrong ones"
check_chains after.sis 1 "after wrong PIN"

# PIN in the URI: refused unless --allow-pin-in-uri.
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY?pin-value=$PIN" --module "$M" -o uri.sis in.sis
expect_rc 6 "pin-value in URI refused by default"
expect_absent uri.sis "pin-value refused"
run env -u SISIGN_PIN "$SISIGN" sign --key "$KEY?pin-value=$PIN" --allow-pin-in-uri --module "$M" -o uri.sis in.sis
expect_rc 0 "pin-value with --allow-pin-in-uri"

# Key/cert mismatch: --cert another certificate → EXIT_KEY, no output.
openssl req -new -x509 -newkey rsa:2048 -nodes -keyout other.key -subj "/CN=other" -days 30 -out other.crt 2>/dev/null
mkdir neg
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key "$KEY" --module "$M" --cert other.crt -o neg/x.sis in.sis
expect_rc 5 "token key with a foreign --cert"
expect_absent neg/x.sis "key/cert mismatch"
checks=$((checks + 1))
[ -z "$(ls -A neg)" ] || fail "key/cert mismatch left files: $(ls -A neg)"

# Ambiguous label → EXIT_TOKEN, both candidates listed, no output.
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key 'pkcs11:token=sisign-dup;object=sisign' --module "$M" -o neg/d.sis in.sis
expect_rc 6 "ambiguous token label"
checks=$((checks + 1))
[ "$(grep -o 'serial=[0-9a-f]*;token=sisign-dup' "$T/err" | sort -u | wc -l)" -eq 2 ] ||
	fail "ambiguous token: both candidates are not listed"
expect_absent neg/d.sis "ambiguous"
run env SISIGN_PIN="$PIN" "$SISIGN" sign --key 'pkcs11:token=no-such-token;object=sisign' --module "$M" -o neg/n.sis in.sis
expect_rc 6 "unknown token"
expect_absent neg/n.sis "unknown token"

checks=$((checks + 1))
[ "$(sha256sum <in.sis)" = "$before" ] || fail "input changed"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
