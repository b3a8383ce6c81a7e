#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-xvfb.sh PROGRAM — run a GTK test program on a throw-away X server
# (docs: ../shared/docs/gui-testing.md).  Exit 77 (skip) without xvfb-run.
command -v xvfb-run >/dev/null 2>&1 || { echo "skip: xvfb-run not installed"; exit 77; }
GSK_RENDERER=cairo
GDK_BACKEND=x11
NO_AT_BRIDGE=1
G_DEBUG=fatal-criticals
export GSK_RENDERER GDK_BACKEND NO_AT_BRIDGE G_DEBUG
if command -v dbus-run-session >/dev/null 2>&1; then
	exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$@"
fi
exec xvfb-run -a -s "-screen 0 1280x800x24" "$@"
