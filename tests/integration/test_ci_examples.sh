#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The CI examples in docs/ci/ (issue #12 item 10) run: their shell steps are
# taken out of the GitHub Actions workflow (run:), the GitLab job (script:)
# and the Jenkinsfile (sh '''...''') by tests/tools/ci_steps.py and run as
# each CI system would, with the secrets in the environment.  Each example
# signs with a SoftHSM token from softhsm-config/make-token.sh and with a
# PKCS#12 file held in SISIGN_P12_B64 / SISIGN_PASS.  The outputs must
# verify and no secret value may appear anywhere in the job's log.
# Env: SISIGN, SISIGN_SRCDIR, SOFTHSM2_MODULE.
set -u

if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then
	echo "SKIP: \$SISIGN is not set to the built sisign"
	exit 77
fi
SRC=${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }
command -v softhsm2-util >/dev/null || { echo "SKIP: softhsm2-util not found (softhsm2)"; exit 77; }
[ -r "${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}" ] ||
	{ echo "SKIP: the SoftHSM module is missing"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed (scripts/deps.sh)"; exit 77; }

. "$(dirname "$0")/lib/common.sh"
tu_init ci-examples
unset SISIGN_PASS SISIGN_PIN SISIGN_SO_PIN SISIGN_P12_B64 SOFTHSM2_CONF
cd "$T" || exit 1

# sisign on the PATH, as an installed one would be.
mkdir bin
ln -s "$SISIGN" bin/sisign
export PATH="$T/bin:$PATH"

# The PKCS#12 secret: leaf and intermediate, under a test root.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=CI Test Root" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
	-keyout root.key -out root.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=CI Test Intermediate" -keyout int.key -out int.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >ca.ext
openssl x509 -req -sha256 -days 30 -in int.csr -CA root.crt -CAkey root.key -CAcreateserial -extfile ca.ext \
	-out int.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=CI Test Signer" -keyout leaf.key -out leaf.csr 2>/dev/null
printf 'extendedKeyUsage=codeSigning\n' >leaf.ext
openssl x509 -req -sha256 -days 30 -in leaf.csr -CA int.crt -CAkey int.key -CAcreateserial -extfile leaf.ext \
	-out leaf.crt 2>/dev/null
PASSV="ci-P12-pass-$$-Zq"
openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile int.crt -passout "pass:$PASSV" -out ci.p12
P12V=$(base64 -w0 ci.p12)
rm -f ci.p12 leaf.key
PINV="pin-$$-4711"
SOPINV="so-$$-86420"

printf 'x\n' >x.txt
for n in a b; do
	run "$SISIGN" pack --uid 0xE0001300 --name "CI $n" --vendor V --created 2020-01-01 -f 'x.txt=!:\data\x.txt' \
		-o "$n.sis"
	expect_rc 0 "pack $n"
done

# run_example KIND FILE: a fresh workspace (the checkout: softhsm-config/,
# dist/ with two packages), the example's steps with the secrets set, then
# the outputs and the log checked.
run_example() {
	local kind=$1 file=$2 ws="$T/ws-$1" log="$T/log-$1" f
	mkdir -p "$ws/dist" "$T/tmp-$kind"
	ln -s "$SRC/softhsm-config" "$ws/softhsm-config"
	cp a.sis b.sis "$ws/dist/"
	: >"$log"
	SISIGN_PIN=$PINV SISIGN_SO_PIN=$SOPINV SISIGN_P12_B64=$P12V SISIGN_PASS=$PASSV TMPDIR="$T/tmp-$kind" \
		RUNNER_TEMP="$T/tmp-$kind" run python3 "$SRC/tests/tools/ci_steps.py" "$kind" "$file" "$ws" "$log"
	expect_rc 0 "$kind: the example's steps run"
	[ "$rc" -eq 0 ] || sed 's/^/    | /' "$log" | tail -n 20
	for f in a b; do
		run "$SISIGN" verify --trust "$T/root.crt" "$ws/signed/p12/$f.sis"
		expect_rc 0 "$kind: $f signed with the PKCS#12 secret verifies against the root"
		run "$SISIGN" verify "$ws/signed/token/$f.sis"
		expect_rc 10 "$kind: $f signed on the token verifies (self-signed token certificate)"
		run "$SISIGN" info "$ws/signed/token/$f.sis"
		expect_stdout_has "sisign test (sisign-ci)" "$kind: $f: the token's certificate signed it"
	done
	for v in "$PASSV" "$PINV" "$SOPINV" "$P12V" "${P12V:100:40}"; do
		check '! grep -qF -- "$v" "$log"' "$kind: a secret value appears in the job's log"
	done
	check '[ -z "$(find "$ws" "$T/tmp-$kind" -name "*.p12" -print)" ]' "$kind: the decoded PKCS#12 file is left behind"
}

run_example github "$SRC/docs/ci/github-actions.yml"
run_example gitlab "$SRC/docs/ci/gitlab-ci.yml"
run_example jenkins "$SRC/docs/ci/Jenkinsfile"

# The log check can fail: a Jenkinsfile whose steps lack #!/bin/bash runs
# under Jenkins' default `sh -xe` (dash: no pipefail), and its xtrace shows
# the secrets.
sed -e "s|'''#!/bin/bash\$|'''|" -e 's|^set -euo pipefail$|set -eu|' -e 's|^set -uo pipefail$|set -u|' \
	"$SRC/docs/ci/Jenkinsfile" >leaky.Jenkinsfile
rm -rf "$T/ws-leak"
mkdir -p "$T/ws-leak/dist" "$T/tmp-leak"
ln -s "$SRC/softhsm-config" "$T/ws-leak/softhsm-config"
cp a.sis "$T/ws-leak/dist/"
SISIGN_PIN=$PINV SISIGN_SO_PIN=$SOPINV SISIGN_P12_B64=$P12V SISIGN_PASS=$PASSV TMPDIR="$T/tmp-leak" \
	run python3 "$SRC/tests/tools/ci_steps.py" jenkins leaky.Jenkinsfile "$T/ws-leak" "$T/log-leak"
cp "$T/log-leak" /tmp/p12-log-leak; check 'grep -qF -- "$P12V" "$T/log-leak"' "self-check: xtrace under sh -xe would have shown the secret"
# ... and a step that turns on xtrace itself is refused before it runs.
sed 's|^set -euo pipefail$|set -x|' "$SRC/docs/ci/Jenkinsfile" >xtrace.Jenkinsfile
run python3 "$SRC/tests/tools/ci_steps.py" jenkins xtrace.Jenkinsfile "$T/ws-leak" "$T/log-x"
expect_rc 2 "self-check: set -x is refused"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
