#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The main job, end to end, on the embedded default: a throwaway SoftHSM
# token.  Installs what is missing, builds, makes the token (an RSA-2048 key
# generated on it by `sisign keygen --cert`), packs a demo package, signs it
# with the token key by its pkcs11: URI, verifies the signature against
# the token's certificate, and checks that a phone's installer would accept
# it (`sisign check`, exit 0).  The package's executable is a minimal E32
# image header made by tests/tools/mke32.py (SID 0xE0001234, so the
# package may write into \private\E0001234\; capabilities ReadUserData
# and WriteUserData, read from its header by pack): it installs, but it is
# no program that runs.
#
#   scripts/demo.sh [--no-deps]
# Output goes to build/demo/.  The token's PIN is random for this run and
# travels only in the environment (SISIGN_PIN), never on a command line.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build"
out="$build/demo"
jobs=${JOBS:-2}
deps=1
for arg in "$@"; do
	case "$arg" in
	--no-deps) deps=0 ;;
	-h|--help) sed -n '2,6p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

step() { printf '\n=== %s ===\n' "$*"; }

install_deps() {
	step "dependencies"
	[ "$deps" = 1 ] && scripts/deps.sh || true
}

build_sisign() {
	step "build"
	cmake -S "$root" -B "$build" >/dev/null
	cmake --build "$build" -j "$jobs" --target sisign_cli
	SISIGN="$build/src/sisign"
	[ -x "$SISIGN" ] || { echo "demo.sh: $SISIGN was not built" >&2; exit 1; }
}

make_payload() {
	step "payload"
	rm -rf "$out"
	mkdir -p "$out/payload"
	printf 'Hello from sisign\n' > "$out/payload/readme.txt"
	python3 tests/tools/mke32.py --sid 0xE0001234 --uid3 0xE0001234 --caps ReadUserData,WriteUserData \
		"$out/payload/demo.exe"
}

pack_demo() {
	step "pack"
	"$SISIGN" pack --uid 0xE0001234 --name Demo --vendor Acme --version 1.0.0 --s60v3 \
		-f "$out/payload/demo.exe=!:\\sys\\bin\\demo.exe" \
		-f "$out/payload/readme.txt=!:\\private\\E0001234\\readme.txt" \
		-o "$out/demo.sis"
	UNSIGNED="$out/demo.sis"
}

make_token() {
	step "throwaway SoftHSM token"
	export SISIGN_PIN
	SISIGN_PIN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	local lines
	lines=$(SISIGN="$SISIGN" softhsm-config/make-token.sh "$out/token" "sisign-demo")
	eval "$(printf '%s\n' "$lines" | grep '^export SOFTHSM2_CONF=')"
	KEY_URI=$(printf '%s\n' "$lines" | grep '^pkcs11:')
	echo "token ready; key: $KEY_URI"
	"$SISIGN" tokens
}

sign_demo() {
	step "sign with the token key"
	SIGNED="$out/demo_signed.sis"
	"$SISIGN" sign --key "$KEY_URI" -o "$SIGNED" "$UNSIGNED"
	echo "signed: $SIGNED"
}

verify_demo() {
	step "verify"
	"$SISIGN" export-cert -o "$out/token-cert.pem" "$KEY_URI"
	# exit 0 only when the signature verifies and chains to the trusted certificate
	"$SISIGN" verify --trust "$out/token-cert.pem" "$SIGNED"
}

check_demo() {
	step "would a phone install it? (sisign check)"
	# exit 0: it installs; the user is asked to accept a self-signed package
	# and to grant ReadUserData and WriteUserData (warnings)
	"$SISIGN" check "$SIGNED"
}

show_info() {
	step "info"
	"$SISIGN" info "$SIGNED"
}

install_deps
build_sisign
make_payload
make_token
pack_demo
sign_demo
verify_demo
check_demo
show_info
step "done: $SIGNED signed on the token, verified, and would install"
