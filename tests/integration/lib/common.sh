# SPDX-License-Identifier: Apache-2.0
# Shared by the CLI integration tests (sourced).  Sets up a private temp
# dir $T removed on exit, and the assertion helpers: run a command with its
# output in $T/out and $T/err and its status in $rc, then expect_* on them.
# Counters: $checks and $failures; finish with tu_done.
#   tu_init NAME            make $T ("sisign-NAME.XXXXXX" under $TMPDIR)
#   TU_STDERR_ICASE=1       before sourcing: expect_stderr_has ignores case
#   tu_codesign_cert NAME CN  in the current dir: cs.cnf (sections v3cs, a
#                           code-signing leaf, and v3ca) and a self-signed
#                           RSA-2048 code-signing certificate NAME.crt with
#                           its key NAME.key; exits the test if openssl fails
tu_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/sisign-$1.XXXXXX") || exit 1
	trap 'rm -rf "$T"' EXIT
}
failures=0
checks=0
fail() {
	echo "FAIL: $*"
	echo "  stdout: $(head -c 800 "$T/out" 2>/dev/null)"
	echo "  stderr: $(head -c 800 "$T/err" 2>/dev/null)"
	failures=$((failures + 1))
}
run() { "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
expect_rc() { checks=$((checks + 1)); [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"; }
expect_no_stderr() { checks=$((checks + 1)); [ ! -s "$T/err" ] || fail "$1: stderr not empty"; }
expect_stderr_has() {
	checks=$((checks + 1))
	grep -qF${TU_STDERR_ICASE:+i} -- "$1" "$T/err" || fail "$2: stderr lacks '$1'"
}
expect_stdout_has() { checks=$((checks + 1)); grep -qF -- "$1" "$T/out" || fail "$2: stdout lacks '$1'"; }
expect_absent() { checks=$((checks + 1)); [ ! -e "$1" ] || fail "$2: $1 exists"; }
# check 'SHELL-CONDITION' DESC
check() { checks=$((checks + 1)); if ! eval "$1"; then fail "$2"; fi; }
tu_codesign_cert() {
	cat >cs.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[v3cs]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[v3ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
CNF
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null
	openssl req -new -x509 -key "$1.key" -sha256 -days 365 -subj "/CN=$2" -config cs.cnf \
		-extensions v3cs -out "$1.crt" 2>/dev/null
	[ -s "$1.crt" ] || { echo "FAIL: could not make a certificate with openssl"; exit 1; }
}
