#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 6: the desktop app's identity.  One reverse-DNS app id
# names the GtkApplication (src/gui/main.c), the window icon, the desktop
# file, the AppStream metainfo and the icon; the metainfo passes
# `appstreamcli validate` and the desktop file `desktop-file-validate`
# (each skipped with a note when its tool is missing); and an install of
# the app's component puts the three files where desktop environments and
# software centres look (checked with `appstreamcli validate-tree`).
set -u
S="${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
B="${SISIGN_BUILDDIR:-$S/build}"
. "$S/tests/integration/lib/common.sh"
tu_init appid

id=io.github.sisign.SisignGtk
G=$S/src/gui
check '[ -f "$G/$id.desktop" ]' "src/gui/$id.desktop exists"
check '[ -f "$G/$id.metainfo.xml" ]' "src/gui/$id.metainfo.xml exists"
check '[ -f "$G/$id.svg" ]' "src/gui/$id.svg exists"
check '[ -z "$(ls "$G"/*.desktop "$G"/*.metainfo.xml "$G"/*.svg 2>/dev/null | grep -v "/$id\.")" ]' \
	"no desktop, metainfo or icon file under another name in src/gui"
check 'grep -q "gtk_application_new(\"$id\"" "$G/main.c"' "main.c registers the app as $id"
check 'grep -q "gtk_window_set_icon_name([^,]*, \"$id\")" "$G/app_window.c"' "the window's icon is $id"
check 'grep -qx "Icon=$id" "$G/$id.desktop"' "desktop file: Icon=$id"
check 'grep -qx "Exec=sisign-gtk %F" "$G/$id.desktop"' "desktop file runs sisign-gtk"
check 'grep -q "<id>$id</id>" "$G/$id.metainfo.xml"' "metainfo id is $id"
check 'grep -q "<launchable type=\"desktop-id\">$id.desktop</launchable>" "$G/$id.metainfo.xml"' \
	"metainfo launches $id.desktop"
check 'python3 -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(r.tag != \"{http://www.w3.org/2000/svg}svg\")" "$G/$id.svg"' \
	"the icon is an SVG document"

tools=0
if command -v appstreamcli >/dev/null; then
	tools=$((tools + 1))
	run appstreamcli validate --no-net "$G/$id.metainfo.xml"
	expect_rc 0 "appstreamcli validate $id.metainfo.xml"
else
	echo "note: appstreamcli not installed (package appstream): metainfo not validated"
fi
if command -v desktop-file-validate >/dev/null; then
	tools=$((tools + 1))
	run desktop-file-validate "$G/$id.desktop"
	expect_rc 0 "desktop-file-validate $id.desktop"
	check '! grep -q "error:" "$T/out" "$T/err"' "desktop-file-validate reports no error"
else
	echo "note: desktop-file-validate not installed (package desktop-file-utils): desktop file not validated"
fi

# The installed layout, when this build has the app.
if [ -f "$B/CMakeCache.txt" ] && [ -x "$B/src/gui/sisign-gtk" ]; then
	P=$T/prefix
	run cmake --install "$B" --prefix "$P" --component gui
	expect_rc 0 "install of the gui component"
	for f in "share/applications/$id.desktop" "share/metainfo/$id.metainfo.xml" \
		"share/icons/hicolor/scalable/apps/$id.svg" bin/sisign-gtk; do
		check '[ -f "$P/$f" ]' "installed $f"
	done
	if command -v appstreamcli >/dev/null; then
		run appstreamcli validate-tree --no-net "$P"
		expect_rc 0 "appstreamcli validate-tree of the installed app"
	fi
else
	echo "note: $B has no sisign-gtk (GTK 4 missing or -DSISIGN_BUILD_GUI=OFF): install layout not checked"
fi

echo "$checks checks, $failures failures ($tools validators)"
[ "$failures" -eq 0 ]
