#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 4: the Debian packages sisign, libsisign0, libsisign-dev
# and sisign-gtk (CPack DEB, cmake/SisignPackaging.cmake).  Builds them the
# way a maintainer would (prefix /usr, dpkg-buildflags, in the build tree's
# deb-build/, kept so a rerun only rebuilds what changed), then checks:
#   - the package names, their Depends (every library a packaged ELF file
#     needs is provided by a package named in Depends; the programs depend
#     on libsisign0 of exactly this version) and which files each one holds;
#   - each package's /usr/share/doc/PKG/copyright names Apache-2.0 and
#     /usr/share/common-licenses/Apache-2.0;
#   - `dpkg -i` of all packages into an empty root (dpkg's database there
#     is a copy of this system's, so dependencies are checked against the
#     system, whose libraries the programs then use): sisign --version and
#     a signing run from that root; sisign alone is refused for lack of
#     libsisign0; a purge leaves no file behind;
#   - lintian, where installed, reports no error and no warning.
#   SISIGN_BUILDDIR  the build tree to put deb-build/ in (default: build/)
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
B="${SISIGN_BUILDDIR:-$S/build}"
. "$S/tests/integration/lib/common.sh"
tu_init deb

for tool in dpkg dpkg-deb dpkg-shlibdeps dpkg-buildflags readelf cmake cpack; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (package dpkg-dev)"; exit 77; }
done
if [ -f "$B/CMakeCache.txt" ] && grep -Eq '^SISIGN_(SANITIZE|TSAN|FUZZ):BOOL=ON' "$B/CMakeCache.txt"; then
	echo "SKIP: $B is a sanitizer or fuzzing build; the packages are built and tested from the normal build"
	exit 77
fi
mkdir -p "$B" || exit 1

# ---- build the packages ------------------------------------------------------------
DB=$B/deb-build
version=$(sed -n 's/^project(sisign VERSION \([0-9.]*\).*/\1/p' "$S/CMakeLists.txt")-1
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
export CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
export LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
log=$T/build.log
if ! { cmake -S "$S" -B "$DB" -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr \
	-DSISIGN_PACKAGE_DEBIAN=ON -DSISIGN_BUILD_TESTS=OFF &&
	cmake --build "$DB" -j "${JOBS:-2}" &&
	(cd "$DB" && cpack -G DEB -B "$T/debs"); } >"$log" 2>&1; then
	echo "FAIL: building the packages failed:"
	tail -40 "$log"
	exit 1
fi
unset CFLAGS LDFLAGS DEB_BUILD_MAINT_OPTIONS
gui=0
[ -x "$DB/src/gui/sisign-gtk" ] && gui=1
pkgs="sisign libsisign0 libsisign-dev"
[ "$gui" = 1 ] && pkgs="$pkgs sisign-gtk"
[ "$gui" = 1 ] || echo "note: GTK 4 not found, so no sisign-gtk package to check"

deb() { echo "$T/debs/${1}_${version}_${arch}.deb"; }
for p in $pkgs; do
	check '[ -f "$(deb "$p")" ]' "package $(basename "$(deb "$p")") built"
done
check '[ "$(ls "$T/debs"/*.deb | wc -l)" -eq "$(echo $pkgs | wc -w)" ]' "exactly the packages $pkgs: $(ls "$T/debs")"

# ---- control fields ------------------------------------------------------------------
field() { dpkg-deb -f "$(deb "$1")" "$2" 2>/dev/null; }
has_dep() { field "$1" Depends | tr ',' '\n' | sed 's/^ *//' | grep -qxF -- "$2"; }
for p in sisign libsisign-dev $([ "$gui" = 1 ] && echo sisign-gtk); do
	check 'has_dep "$p" "libsisign0 (= $version)"' "$p depends on libsisign0 (= $version): $(field "$p" Depends)"
done
check '[ "$(field libsisign0 Section)" = libs ] && [ "$(field libsisign-dev Section)" = libdevel ]' \
	"sections libs and libdevel"
dpkg-deb --ctrl-tarfile "$(deb libsisign0)" | tar -xO ./shlibs >"$T/shlibs" 2>/dev/null
check 'grep -qx "libsisign 0 libsisign0 (>= $version)" "$T/shlibs"' "libsisign0 has a shlibs file: $(cat "$T/shlibs")"
for p in $pkgs; do
	d=$(field "$p" Description | head -1)
	check '[ -n "$d" ] && [ "$(field "$p" Description | wc -l)" -gt 1 ]' "$p has a synopsis and a long description"
done

# ---- contents ------------------------------------------------------------------------
for p in $pkgs; do
	dpkg-deb -c "$(deb "$p")" | awk '{ print $6 $7 $8 }' | sed 's|^\./|/|' >"$T/$p.list"
done
holds() { grep -qx -- "$2" "$T/$1.list"; }
L=/usr/lib/$ma
lib_real=libsisign.so.${version%-1}
check 'holds sisign /usr/bin/sisign' "sisign holds /usr/bin/sisign"
check 'holds sisign "/usr/bin/signsis->sisign" && holds sisign "/usr/bin/makekeys->sisign"' \
	"sisign holds the signsis and makekeys links"
check 'holds libsisign0 "$L/$lib_real" && holds libsisign0 "$L/libsisign.so.0->$lib_real"' \
	"libsisign0 holds $L/$lib_real and the SONAME link"
check '! grep -q -e "^/usr/include" -e "libsisign\.so->" -e "/usr/bin/" "$T/libsisign0.list"' \
	"libsisign0 holds only the run-time library"
check 'holds libsisign-dev "$L/libsisign.so->libsisign.so.0"' "libsisign-dev holds the libsisign.so link"
check 'holds libsisign-dev "$L/pkgconfig/libsisign.pc"' "libsisign-dev holds libsisign.pc"
check 'holds libsisign-dev "$L/cmake/sisign/sisignConfig.cmake" && holds libsisign-dev "$L/cmake/sisign/sisignConfigVersion.cmake" && holds libsisign-dev "$L/cmake/sisign/sisignTargets.cmake"' \
	"libsisign-dev holds the CMake package"
for h in "$S"/include/sisign/*.h; do
	check 'holds libsisign-dev "/usr/include/sisign/$(basename "$h")"' "libsisign-dev holds $(basename "$h")"
done
if [ "$gui" = 1 ]; then
	id=io.github.sisign.SisignGtk
	for f in /usr/bin/sisign-gtk "/usr/share/applications/$id.desktop" "/usr/share/metainfo/$id.metainfo.xml" \
		"/usr/share/icons/hicolor/scalable/apps/$id.svg"; do
		check 'holds sisign-gtk "$f"' "sisign-gtk holds $f"
	done
fi
for p in $pkgs; do
	check 'holds "$p" "/usr/share/doc/$p/copyright" && holds "$p" "/usr/share/doc/$p/changelog.Debian.gz"' \
		"$p holds /usr/share/doc/$p/copyright and changelog.Debian.gz"
done
dups=$(cat "$T"/*.list | grep -v '/$' | sort | uniq -d | head -3)
check '[ -z "$dups" ]' "no file is in two packages: $dups"

# ---- dpkg -i into an empty root ------------------------------------------------------
# dpkg's database in the root is a copy of this system's, so Depends are
# checked against what is installed here; maintainer scripts would run
# chrooted into the root, so the packages must not need any.
newroot() {
	mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/var/lib/dpkg/triggers"
	cp /var/lib/dpkg/status "$1/var/lib/dpkg/status"
	: >"$1/var/lib/dpkg/available"
}
R=$T/root
newroot "$R"
DPKG=(dpkg --root="$R" --force-not-root --log=/dev/null)
all_debs=()
for p in $pkgs; do all_debs+=("$(deb "$p")"); done
run "${DPKG[@]}" -i "${all_debs[@]}"
expect_rc 0 "dpkg -i of every package into an empty root"
for p in $pkgs; do
	check '"${DPKG[@]}" -s "$p" 2>/dev/null | grep -qx "Status: install ok installed"' "$p is installed in the root"
done
for f in "$R"/var/lib/dpkg/info/*.{preinst,postinst,prerm,postrm}; do
	[ -e "$f" ] && fail "maintainer script $(basename "$f"): the packages should need none"
done

# The programs have no RUNPATH (Debian policy); the loader finds the
# root's libsisign through LD_LIBRARY_PATH and everything else on the
# system.
for prog in "$R"/usr/bin/sisign "$R"/usr/bin/sisign-gtk "$R$L/$lib_real"; do
	[ -e "$prog" ] || continue
	check '! readelf -d "$prog" | grep -q -e "(RUNPATH)" -e "(RPATH)"' "$(basename "$prog") has no RUNPATH"
done
inroot() { env LD_LIBRARY_PATH="$R$L" "$@"; }
run inroot ldd "$R/usr/bin/sisign"
check 'grep -q "libsisign.so.0 => $R$L/libsisign.so.0" "$T/out"' "the root's sisign loads the root's libsisign"
cd "$T" || exit 1
run inroot "$R/usr/bin/sisign" --version
expect_rc 0 "sisign --version in the root"
expect_stdout_has "${version%-1}" "sisign --version in the root"
run inroot "$R/usr/bin/sisign" pack --uid 0xE0001234 --name Deb --vendor Acme --version 1.0.0 --s60v3 \
	-f "$S/LICENSE=!:\\data\\Deb\\LICENSE.txt" -o "$T/pkg.sis"
expect_rc 0 "sisign pack in the root"
SISIGN_PASS=secret run inroot "$R/usr/bin/makekeys" -cert -dname "CN=Deb Test O=sisign" "$T/k.key" "$T/k.cer"
expect_rc 0 "makekeys (the link) in the root"
SISIGN_PASS=secret run inroot "$R/usr/bin/sisign" sign --key "$T/k.key" --cert "$T/k.cer" -o "$T/signed.sis" "$T/pkg.sis"
expect_rc 0 "sisign sign in the root"
expect_no_stderr "sisign sign in the root"
run inroot "$R/usr/bin/sisign" verify --trust "$T/k.cer" "$T/signed.sis"
expect_rc 0 "the root's signature verifies trusted"
if [ "$gui" = 1 ]; then
	run inroot "$R/usr/bin/sisign-gtk" --help
	expect_rc 0 "sisign-gtk --help in the root"
fi

run "${DPKG[@]}" --purge $pkgs
expect_rc 0 "dpkg --purge of every package"
left=$(find "$R" -path "$R/var" -prune -o ! -type d -print | head -3)
check '[ -z "$left" ]' "the purge left no file behind: $left"

# Depends works: sisign alone is refused.
R2=$T/root2
newroot "$R2"
run dpkg --root="$R2" --force-not-root --log=/dev/null -i "$(deb sisign)"
check '[ "$rc" -ne 0 ] && grep -q "libsisign0" "$T/err" "$T/out"' "dpkg -i of sisign without libsisign0 is refused"

# ---- lintian -------------------------------------------------------------------------
# Overrides, each with its reason, ship in the packages
# (packaging/debian/lintian-overrides).  Man pages are issue #12 item 2:
# until the packages hold any, lintian's no-manual-page is not counted;
# from then on every program must have its page.
if command -v lintian >/dev/null; then
	suppress=()
	cat "$T"/*.list | grep -q '^/usr/share/man/' || suppress=(--suppress-tags no-manual-page)
	run lintian --fail-on error,warning --tag-display-limit 0 "${suppress[@]}" "${all_debs[@]}"
	expect_rc 0 "lintian: no error, no warning"
	grep -v "running with root privileges" "$T/out" "$T/err"
else
	echo "note: lintian not installed (package lintian): packages not linted"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
