#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 1: `cmake --install BUILD --prefix P` and a DESTDIR staged
# install give working trees.  Every installed program runs from the prefix
# with no LD_LIBRARY_PATH (relative RUNPATH), signsis and makekeys are
# relative links inside the prefix's bin/, nothing lands outside the prefix,
# the headers, libsisign.pc and the CMake package are installed, and
# tests/install/sisign_example.c builds and runs against the installed
# library with pkg-config and with find_package(sisign).  The library's ABI
# name is checked too: SONAME libsisign.so.0, every exported symbol
# sisign_* in version node SISIGN_0.
#   SISIGN_BUILDDIR  the configured and built tree to install (default: build/)
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
B="${SISIGN_BUILDDIR:-$S/build}"
. "$S/tests/integration/lib/common.sh"
tu_init install

for tool in cc pkg-config readelf cmake; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$B/cmake_install.cmake" ] || { echo "SKIP: $B is not a configured build tree"; exit 77; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
[ -n "$version" ] || { echo "SKIP: no project version in $B/CMakeCache.txt"; exit 77; }

# Sanitizer runtimes must come first in a process, so an ordinary program
# cannot link the library of such a build.
if grep -Eq '^SISIGN_(SANITIZE|TSAN|FUZZ):BOOL=ON' "$B/CMakeCache.txt"; then
	echo "SKIP: $B is a sanitizer or fuzzing build; the install test runs in the normal build"
	exit 77
fi

# Run with nothing inherited that could find the library for it; the
# passphrase (PASS=... clean PROG) goes in the environment only.
clean() {
	if [ -n "${PASS:-}" ]; then
		env -u LD_LIBRARY_PATH -u LD_PRELOAD SISIGN_PASS="$PASS" "$@"
	else
		env -u LD_LIBRARY_PATH -u LD_PRELOAD -u SISIGN_PASS "$@"
	fi
}

# ---- install to a prefix ------------------------------------------------------------
P=$T/prefix
run cmake --install "$B" --prefix "$P"
expect_rc 0 "cmake --install --prefix"
lib=$(find "$P" -name libsisign.so.0 -print -quit)
check '[ -n "$lib" ]' "libsisign.so.0 installed under the prefix"
libdir=$(dirname "${lib:-$P/lib/x}")
check '[ -L "$libdir/libsisign.so" ] && [ "$(readlink "$libdir/libsisign.so")" = libsisign.so.0 ]' \
	"libsisign.so -> libsisign.so.0 (the link to build against)"

for h in "$S"/include/sisign/*.h; do
	check 'cmp -s "$h" "$P/include/sisign/$(basename "$h")"' "header $(basename "$h") installed"
done

for name in signsis makekeys; do
	check '[ -L "$P/bin/$name" ] && [ "$(readlink "$P/bin/$name")" = sisign ]' \
		"bin/$name is a relative link to sisign"
done

# The installed programs carry a RUNPATH relative to themselves and none
# into the build tree.
for prog in "$P"/bin/*; do
	[ -L "$prog" ] && continue
	rp=$(readelf -d "$prog" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
	check '[ "${rp#\$ORIGIN/}" != "$rp" ]' "$(basename "$prog"): RUNPATH '$rp' starts with \$ORIGIN/"
	check '[ "${rp#*"$B"}" = "$rp" ]' "$(basename "$prog"): no RUNPATH into the build tree"
done

# Every installed program runs from the prefix.
cd "$T" || exit 1
for prog in "$P"/bin/*; do
	case "$(basename "$prog")" in
	sisign)
		run clean "$prog" --version
		expect_rc 0 "installed sisign --version"
		expect_stdout_has "$version" "installed sisign --version"
		run clean "$prog" pack --uid 0xE0001234 --name Installed --vendor Acme --version 1.0.0 --s60v3 \
			-f "$S/LICENSE=!:\\private\\E0001234\\LICENSE.txt" -o "$T/pkg.sis"
		expect_rc 0 "installed sisign pack"
		;;
	makekeys)
		PASS=secret run clean "$prog" -cert -dname "CN=Install Test O=sisign" "$T/k.key" "$T/k.cer"
		expect_rc 0 "installed makekeys -cert"
		check '[ -s "$T/k.key" ] && [ -s "$T/k.cer" ]' "makekeys wrote the key and the certificate"
		;;
	signsis) ;;   # after makekeys, below
	sisign-gtk)
		# --help is answered before GTK opens a display.
		run clean "$prog" --help
		expect_rc 0 "installed sisign-gtk --help"
		expect_stdout_has "--module" "installed sisign-gtk --help"
		;;
	*) fail "$(basename "$prog") is installed but this test does not run it: add it" ;;
	esac
done
PASS=secret run clean "$P/bin/signsis" -s "$T/pkg.sis" "$T/signed.sis" "$T/k.cer" "$T/k.key"
expect_rc 0 "installed signsis -s with makekeys' key"
run clean "$P/bin/sisign" verify --trust "$T/k.cer" "$T/signed.sis"
expect_rc 0 "package signed by the installed signsis verifies trusted"

# ---- the library's ABI name --------------------------------------------------------
check 'readelf -d "$lib" | grep -q "(SONAME).*\[libsisign.so.0\]"' "SONAME is libsisign.so.0"
readelf --dyn-syms -W "$lib" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $4 != "SECTION" && $8 != "" { print $8 }' >"$T/syms"
check 'grep -q "^sisign_version@@SISIGN_0$" "$T/syms"' "sisign_version exported in SISIGN_0"
check '! grep -v -e "^sisign_[a-z0-9_]*@@SISIGN_0$" -e "^SISIGN_0$" "$T/syms" | grep -q .' \
	"only sisign_* symbols are exported, all in SISIGN_0: $(grep -v -e '^sisign_[a-z0-9_]*@@SISIGN_0$' -e '^SISIGN_0$' "$T/syms" | head -3 | tr '\n' ' ')"

# ---- an out-of-tree program, with pkg-config ----------------------------------------
ex=$S/tests/install/sisign_example.c
export PKG_CONFIG_PATH=$libdir/pkgconfig
run pkg-config --modversion libsisign
expect_rc 0 "pkg-config finds libsisign.pc"
expect_stdout_has "$version" "libsisign.pc version"
# -Wl,-rpath because pkg-config users install where the linker looks; here
# the prefix is a temp dir.
run cc -o "$T/ex_pc" "$ex" $(pkg-config --cflags --libs libsisign) -Wl,-rpath,"$(pkg-config --variable=libdir libsisign)"
expect_rc 0 "example builds with pkg-config"
run clean "$T/ex_pc" "$T/pkg.sis" "$T/signed.sis"
expect_rc 0 "pkg-config example runs"
expect_stdout_has "libsisign $version" "pkg-config example: library version"
expect_stdout_has "pkg.sis: uid=0xE0001234 name=Installed chains=0" "pkg-config example reads the package"
expect_stdout_has "signed.sis: uid=0xE0001234 name=Installed chains=1" "pkg-config example sees the chain"
run clean "$T/ex_pc" "$T/no-such.sis"
expect_rc 1 "pkg-config example: a missing package fails"
expect_stderr_has "no-such.sis" "pkg-config example names the missing package"

# ---- an out-of-tree program, with CMake's find_package(sisign) ----------------------
unset PKG_CONFIG_PATH
run cmake -S "$S/tests/install" -B "$T/cm" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release
expect_rc 0 "find_package(sisign) configures"
run cmake --build "$T/cm"
expect_rc 0 "example builds with find_package(sisign)"
run clean "$T/cm/sisign_example" "$T/signed.sis"
expect_rc 0 "CMake example runs"
expect_stdout_has "signed.sis: uid=0xE0001234 name=Installed chains=1" "CMake example reads the package"
# The version file refuses an incompatible request.
mkdir -p "$T/cm2"
cat >"$T/cm2/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(too_new LANGUAGES C)
find_package(sisign 1 REQUIRED)
CM
run cmake -S "$T/cm2" -B "$T/cm2/b" -DCMAKE_PREFIX_PATH="$P"
check '[ "$rc" -ne 0 ] && grep -q "with requested version \"1\"" "$T/err"' "find_package(sisign 1) is refused by version $version"

# ---- a DESTDIR staged install -------------------------------------------------------
# The prefix /opt/sisign-test is only a name inside the stage: nothing may
# appear outside $T/stage/opt/sisign-test, and the staged tree works where
# it is (its RUNPATH and libsisign.pc are relative).
D=$T/stage
existed=0; [ -e /opt/sisign-test ] && existed=1
DESTDIR=$D run cmake --install "$B" --prefix /opt/sisign-test
expect_rc 0 "DESTDIR install"
check '[ "$existed" = 1 ] || [ ! -e /opt/sisign-test ]' "DESTDIR install wrote nothing to /opt/sisign-test"
outside=$(find "$D" -mindepth 1 \( -path "$D/opt" -o -path "$D/opt/sisign-test" \) -prune -o -print | head -3)
check '[ -z "$outside" ]' "nothing staged outside the prefix (found: $outside)"
check '[ -L "$D/opt/sisign-test/bin/signsis" ] && [ "$(readlink "$D/opt/sisign-test/bin/signsis")" = sisign ]' \
	"staged bin/signsis -> sisign"
check '[ "$(ls "$D/opt/sisign-test/bin" | sort)" = "$(ls "$P/bin" | sort)" ]' "staged bin/ holds what the prefix's does"
run clean "$D/opt/sisign-test/bin/sisign" --version
expect_rc 0 "staged sisign runs where it was staged"
expect_stdout_has "$version" "staged sisign --version"
spc=$(find "$D" -name libsisign.pc -print -quit)
run env PKG_CONFIG_PATH="$(dirname "${spc:-$D/x}")" pkg-config --variable=libdir libsisign
check '[ "$(cd "$(cat "$T/out")" 2>/dev/null && pwd -P)" = "$(cd "$(dirname "$(find "$D" -name libsisign.so.0 -print -quit)")" && pwd -P)" ]' \
	"staged libsisign.pc points at the staged library"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
