#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check sisign's man pages against the programs' --help, both ways.

  check_man.py --sisign PROG --man DIR [--gtk PROG]

Every command `sisign help` lists (but help and version) must have its
page (sisign-COMMAND.1; signsis.1 and makekeys.1 for those two), and
sisign.1 must name it.  Every option a command's --help shows must be in
its page, and every option the page shows must be in that --help (so
hand-written prose cannot name an option that is gone).  sisign.1 may
name any command's options.  With --gtk, sisign-gtk.1 is checked against
`sisign-gtk --help-all` the same way.  Prints each problem; exit 1 if any.

This reads --help and the pages on its own terms (a broad pattern for
options in both), independently of scripts/clidocs.py which made them.
"""
import argparse
import os
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--?[A-Za-z?][A-Za-z0-9-]*)(?=$|[\s,.;:()\[\]|=\"'`])")


def helptext(prog, *args):
    env = dict(os.environ, LC_ALL="C.UTF-8", ASAN_OPTIONS="detect_leaks=0")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    p = subprocess.run([prog] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=env, check=False)
    if p.returncode != 0:
        sys.exit("check_man: %s %s: exit %d" % (prog, " ".join(args), p.returncode))
    return p.stdout.decode("utf-8")


def roff_text(path):
    """The words of a man(7) page, without macros and escapes."""
    out = []
    with open(path, encoding="utf-8") as f:
        src = f.read().replace("\\\n", "")
    for line in src.split("\n"):
        if line.startswith('.\\"') or line.startswith("'\\\""):
            continue
        if line.startswith("."):
            parts = line.split(None, 1)
            line = parts[1] if len(parts) > 1 else ""
        line = re.sub(r"\\\[u([0-9A-Fa-f]{4,6})\]", lambda m: chr(int(m.group(1), 16)), line)
        line = re.sub(r"\\f(\[[^]]*\]|.)", "", line)
        line = re.sub(r"\\\((aq)", "'", line)
        line = re.sub(r"\\\((dq)", '"', line)
        line = re.sub(r"\\\(..", " ", line)
        line = line.replace("\\-", "-").replace("\\&", "").replace("\\%", "").replace("\\e", "\\")
        out.append(line)
    return "\n".join(out)


def options(text):
    return set(OPT.findall(text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sisign", required=True)
    ap.add_argument("--man", required=True)
    ap.add_argument("--gtk")
    a = ap.parse_args()
    problems = []

    overview = helptext(a.sisign, "help")
    cmds = []
    on = False
    for line in overview.split("\n"):
        if line == "Commands:":
            on = True
        elif on:
            m = re.match(r"^  (\S+) ", line)
            if not m:
                break
            cmds.append(m.group(1))
    if len(cmds) < 5:
        sys.exit("check_man: 'sisign help' lists only %r" % cmds)

    every = options(overview) | options(helptext(a.sisign, "help", "exit-codes"))
    for c in cmds:
        if c in ("help", "version"):
            continue
        h = helptext(a.sisign, "help", c)
        hopts = options(h)
        every |= hopts
        page = c if c in ("signsis", "makekeys") else "sisign-" + c
        path = os.path.join(a.man, page + ".1")
        if not os.path.exists(path):
            problems.append("%s: no page for 'sisign %s'" % (path, c))
            continue
        mopts = options(roff_text(path))
        for o in sorted(hopts - mopts):
            problems.append("%s.1: lacks %s, which 'sisign help %s' shows" % (page, o, c))
        for o in sorted(mopts - hopts):
            problems.append("%s.1: shows %s, which 'sisign help %s' does not" % (page, o, c))

    path = os.path.join(a.man, "sisign.1")
    if not os.path.exists(path):
        problems.append("%s: missing" % path)
    else:
        text = roff_text(path)
        for c in cmds:
            if not re.search(r"\bsisign %s\b" % re.escape(c), text):
                problems.append("sisign.1: does not name the command %s" % c)
        for o in sorted(options(text) - every):
            problems.append("sisign.1: shows %s, which no command's help does" % o)

    if a.gtk:
        h = helptext(a.gtk, "--help-all")
        path = os.path.join(a.man, "sisign-gtk.1")
        if not os.path.exists(path):
            problems.append("%s: missing" % path)
        else:
            hopts, mopts = options(h), options(roff_text(path))
            for o in sorted(hopts - mopts):
                problems.append("sisign-gtk.1: lacks %s, which 'sisign-gtk --help-all' shows" % o)
            for o in sorted(mopts - hopts):
                problems.append("sisign-gtk.1: shows %s, which 'sisign-gtk --help-all' does not" % o)

    for p in problems:
        print("check_man: " + p)
    print("check_man: %d commands, %d problems" % (len(cmds), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
