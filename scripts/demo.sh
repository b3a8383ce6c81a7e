#!/bin/bash
# The main job, end to end.  Each step is one function; later steps (token,
# signing, verification) slot in between pack and the summary.
#
#   scripts/demo.sh [--no-deps]
# Output goes to build/demo/.
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
	head -c 4096 /dev/urandom > "$out/payload/demo.exe"
}

pack_demo() {
	step "pack"
	"$SISIGN" pack --uid 0xE0001234 --name Demo --vendor Acme --version 1.0.0 --s60v3 \
		-f "$out/payload/demo.exe=!:\\sys\\bin\\demo.exe,caps=ReadUserData+WriteUserData" \
		-f "$out/payload/readme.txt=!:\\private\\E0001234\\readme.txt" \
		-o "$out/demo.sis"
	UNSIGNED="$out/demo.sis"
}

# TODO(token signing): make_token (softhsm-config/make-token.sh "$out/token"),
# sign_demo ($SISIGN sign --key 'pkcs11:...' -o "$out/demo_signed.sis" "$UNSIGNED")
# and verify_demo ($SISIGN verify --trust ...) go here.

show_info() {
	step "info"
	"$SISIGN" info "$UNSIGNED"
}

install_deps
build_sisign
make_payload
pack_demo
show_info
step "done: $UNSIGNED"
