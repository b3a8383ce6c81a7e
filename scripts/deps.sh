#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install what sisign needs on Debian 12 (bookworm).  Idempotent: when every
# package is already installed it does nothing (no apt-get update), so
# reruns are fast.  Runs apt-get as root, or through sudo.
#
#   scripts/deps.sh [--no-gui] [--bench]
#     --no-gui: skip GTK 4 and the X server for GUI tests
#     --bench:  also what bench/run-bench.sh needs to draw its charts (gnuplot);
#               CI's bench.smoke (run-bench.sh --quick) draws none
set -euo pipefail

gui=1
bench=0
for arg in "$@"; do
	case "$arg" in
	--no-gui) gui=0 ;;
	--bench) bench=1 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

packages=(
	build-essential cmake pkg-config git ca-certificates
	clang libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes for clang
	cppcheck                            # static analysis step of scripts/test.sh
	libssl-dev openssl zlib1g-dev
	libp11-dev libp11-kit-dev p11-kit p11-kit-modules
	softhsm2 opensc
	python3                             # also makes the man pages from --help (scripts/clidocs.py)
	python3-yaml                        # tests/integration/test_ci_examples.sh reads the CI examples
	python3-jsonschema                  # tests/integration/test_json_schema.sh checks --json against docs/json-schema.json
	mandoc groff-base                   # tests/integration/test_man_pages.sh lints the pages
	bash-completion zsh fish            # tests/integration/test_completion.sh drives the completions
	strace                              # tests/integration/test_fault_injection.sh, test_audit_log.sh, test_sign_onepass.sh
	dpkg-dev lintian                    # test_deb.sh: build the .deb packages (CPack), lint them
	appstream desktop-file-utils        # test_app_identity.sh: validate the metainfo and desktop file
	# tests/integration/test_opensc_card.sh: a card through pcscd and OpenSC,
	# emulated by virt_cacard (built from ../shared/third_party/virt_cacard)
	pcscd vsmartcard-vpcd libnss3-tools iproute2
	libcacard-dev libglib2.0-dev libnss3-dev
)
if [ "$gui" = 1 ]; then
	packages+=(libgtk-4-dev xvfb xauth dbus dbus-x11)
fi
if [ "$bench" = 1 ]; then
	packages+=(gnuplot-nox)             # bench/run-bench.sh: docs/perf-*.png
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case "$status" in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#packages[@]} packages are installed"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "deps.sh: missing packages (${missing[*]}) and not root, no sudo" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
