#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Make sisign's man pages and shell completions from the programs' own help.

The one source of every option is the --help text the programs print
(`sisign help`, `sisign help COMMAND`, `sisign help exit-codes`,
`sisign-gtk --help`); this script runs the built programs at build time and
turns that text into man(7) pages and bash, zsh and fish completion files, so
neither can drift from --help.  Hand-written prose that --help does not
carry (examples, environment, files) lives in man/PAGE.extra as roff and is
appended after the generated DESCRIPTION; completion logic that is not a
list of options lives in completions/*.in.

  clidocs.py man --sisign PROG [--gtk PROG] --extra DIR --out DIR [--version V]
  clidocs.py completion --sisign PROG --template FILE --shell bash|zsh|fish --out FILE

The pages' date is $SOURCE_DATE_EPOCH (reproducible builds), else today.
"""
import argparse
import datetime
import os
import re
import subprocess
import textwrap
import sys

# ---- reading the help ------------------------------------------------------


def run_help(prog, *args):
    env = dict(os.environ)
    # Help must not depend on the caller's locale, and a sanitizer build
    # must not fail the build over leak reports at exit.
    env.update(LC_ALL="C.UTF-8", ASAN_OPTIONS="detect_leaks=0")
    # The GTK app's --help needs no display; keep it from trying one.
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    p = subprocess.run([prog] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, stdin=subprocess.DEVNULL, check=False)
    if p.returncode != 0:
        sys.exit("clidocs: '%s %s' exited %d: %s" % (prog, " ".join(args), p.returncode,
                                                    p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout.decode("utf-8")


def list_commands(sisign):
    """[(name, summary)] from `sisign help`'s "Commands:" list."""
    out, on = [], False
    for line in run_help(sisign, "help").splitlines():
        if line == "Commands:":
            on = True
            continue
        if on:
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if not m:
                break
            out.append((m.group(1), m.group(2)))
    if not out:
        sys.exit("clidocs: no commands in 'sisign help'")
    return out


def command_help(sisign, name):
    """(usage, summary, body lines) of `sisign help NAME`."""
    lines = run_help(sisign, "help", name).split("\n")
    m = re.match(r"^usage: sisign %s ?(.*)$" % re.escape(name), lines[0])
    if not m or len(lines) < 3 or lines[1] != "":
        sys.exit("clidocs: unexpected 'sisign help %s' layout" % name)
    summary = lines[2].rstrip(".")
    body = lines[4:] if len(lines) > 4 else []
    return m.group(1), summary, body


# ---- help text structure ---------------------------------------------------
# A body is a list of blocks: ("para", [lines]), ("head", text),
# ("item", term, [desc lines]), ("bullet", [lines]), ("pre", [lines]).

OPT_LINE = re.compile(r"^( +)(-[^\s-]|--[A-Za-z0-9])")
BULLET = re.compile(r"^( +)- \S")


def indent(line):
    return len(line) - len(line.lstrip(" "))


def split_term(line, desc_col):
    """Split an item line into (term, description or "")."""
    ind = indent(line)
    if desc_col and desc_col < len(line) and line[desc_col - 1] == " " and line[desc_col] != " " \
            and desc_col > ind:
        return line[ind:desc_col].rstrip(), line[desc_col:].strip()
    m = re.match(r"^(\S.*?)(?: {2,}(\S.*))?$", line[ind:])
    return m.group(1).rstrip(), (m.group(2) or "").strip()


def parse_body(lines):
    blocks = []
    i, n = 0, len(lines)
    block_col = 0  # the description column of the items just above
    while i < n:
        line = lines[i].rstrip()
        if not line:
            block_col = 0
            i += 1
            continue
        nxt = lines[i + 1].rstrip() if i + 1 < n else ""
        if indent(line) == 0:
            # A one-line paragraph ending in ':' before items is a heading.
            prev_blank = i == 0 or not lines[i - 1].strip()
            if prev_blank and line.endswith(":") and len(line) <= 40 and nxt and indent(nxt) > 0:
                blocks.append(("head", line[:-1]))
                i += 1
                continue
            para = []
            while i < n and lines[i].strip() and indent(lines[i]) == 0:
                para.append(lines[i].rstrip())
                i += 1
            blocks.append(("para", para))
            continue
        ind = indent(line)
        if BULLET.match(line):
            text = [line.strip()[2:]]
            i += 1
            while i < n and lines[i].strip() and indent(lines[i]) > ind and not BULLET.match(lines[i]):
                text.append(lines[i].strip())
                i += 1
            blocks.append(("bullet", text))
            continue
        deeper = nxt and indent(nxt) > ind
        if OPT_LINE.match(line) or deeper:
            # The description column: where the next, deeper line starts,
            # unless that line is an option of its own.
            term, desc = split_term(line, 0)
            if not desc and block_col:
                # "--allow-module DIR a directory...": the term filled the
                # column; the description starts where the item above's did.
                term, desc = split_term(line, block_col)
            desc_col = len(line) - len(line[ind + len(term):].lstrip()) if desc else 0
            if deeper and not (OPT_LINE.match(nxt) and desc_col and indent(nxt) < desc_col):
                desc_col = indent(nxt)
                term, desc = split_term(line, desc_col)
            i += 1
            # A term that ends in ',' with no description goes on in the
            # next option line at the same indentation.
            while not desc and term.endswith(",") and i < n and OPT_LINE.match(lines[i]) \
                    and indent(lines[i]) == ind:
                nl = lines[i].rstrip()
                nn = lines[i + 1].rstrip() if i + 1 < n else ""
                more, desc = split_term(nl, indent(nn) if nn and indent(nn) > ind else 0)
                term += " " + more
                i += 1
            text = [desc] if desc else []
            while i < n and lines[i].strip() and indent(lines[i]) > ind and \
                    not (OPT_LINE.match(lines[i]) and indent(lines[i]) < (desc_col or 1 << 30)):
                text.append(lines[i].strip())
                i += 1
            blocks.append(("item", term, text))
            block_col = desc_col
            continue
        pre = []
        while i < n and lines[i].strip() and indent(lines[i]) > 0 and not OPT_LINE.match(lines[i]) \
                and not BULLET.match(lines[i]):
            pre.append(lines[i].rstrip())
            i += 1
        if not pre:  # cannot happen: a guard against looping forever
            pre.append(line)
            i += 1
        blocks.append(("pre", pre))
    return blocks


# ---- roff ------------------------------------------------------------------


def not_request(r):
    """A text line that starts with . or ' would be read as a roff request."""
    return "\\&" + r if r.startswith((".", "'")) else r


def esc(s):
    """Escape text for a roff text line (not a request line)."""
    s = s.replace("\\", "\\e")
    # Every dash of an option is a minus (\-): it renders and copies as
    # ASCII '-', and a line never breaks inside "--in-place".  Other
    # dashes that start a word ("-" for stdin) too; hyphens inside words
    # stay hyphens.
    s = re.sub(r"(?<![A-Za-z0-9-])--?[A-Za-z0-9?][A-Za-z0-9-]*", lambda m: m.group(0).replace("-", "\\-"), s)
    s = re.sub(r"(?<![A-Za-z0-9\\])-", r"\\-", s)
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    return not_request(s)


def inline(s):
    """Escape prose, with `code` in bold."""
    parts = re.split(r"`([^`]+)`", s)
    out = []
    for k, p in enumerate(parts):
        if k % 2:
            out.append("\\fB" + esc(p).lstrip("\\&") + "\\fR")
        else:
            out.append(esc(p))
    return not_request("".join(out))


def term_roff(term):
    """An option term: options bold, placeholders in upper case italic."""
    out = []
    for tok in re.split(r"(\s+|,|\||\[|\]|=|\(|\))", term):
        if not tok:
            continue
        if re.match(r"^--?[A-Za-z0-9?]", tok):
            out.append("\\fB" + esc(tok) + "\\fR")
        elif re.match(r"^[A-Z][A-Z0-9_.:=<>-]*\.*$", tok):
            out.append("\\fI" + esc(tok) + "\\fR")
        else:
            out.append(esc(tok))
    return not_request("".join(out))


def blocks_roff(blocks):
    out = []
    for b in blocks:
        kind = b[0]
        if kind == "head":
            out += [".SS " + esc(b[1]).replace('"', "\\(dq")]
        elif kind == "para":
            out += [".PP"] + [inline(l) for l in b[1]]
        elif kind == "bullet":
            out += [".IP \\(bu 2"] + [inline(l) for l in b[1]]
        elif kind == "item":
            out += [".TP", term_roff(b[1])] + [inline(l) for l in b[2]]
            if not b[2]:
                out.append("\\&")
        elif kind == "pre":
            base = min(indent(l) for l in b[1])
            out += [".PP", ".RS 4", ".nf"] + [esc(l[base:]) for l in b[1]] + [".fi", ".RE"]
    return out


def tidy(lines):
    """Drop a paragraph macro that would do nothing (right after a
    section or subsection heading, or before another one)."""
    out = []
    for l in lines:
        if l == ".PP" and out and (out[-1].startswith(".SH") or out[-1].startswith(".SS") or out[-1] == ".PP"):
            continue
        if (l.startswith(".SH") or l.startswith(".SS")) and out and out[-1] == ".PP":
            out.pop()
        out.append(l)
    # Text lines of at most 80 bytes (mandoc's style check); a .TP tag
    # must stay on one line.
    wrapped = []
    for k, l in enumerate(out):
        if len(l) <= 80 or l.startswith("."):
            wrapped.append(l)
            continue
        if k and out[k - 1] == ".TP":
            tag = textwrap.wrap(l, 78, break_long_words=False, break_on_hyphens=False)
            wrapped += [w + " \\" for w in tag[:-1]] + tag[-1:]
            continue
        for w in textwrap.wrap(l, 80, break_long_words=False, break_on_hyphens=False):
            wrapped.append("\\&" + w if w[0] in ".'" else w)
    return wrapped


def page_date():
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde and sde.isdigit():
        d = datetime.datetime.fromtimestamp(int(sde), datetime.timezone.utc)
    else:
        d = datetime.datetime.now(datetime.timezone.utc)
    return d.strftime("%Y-%m-%d")


def th(name, version):
    return ['.\\" Generated by scripts/clidocs.py from the program\'s --help and man/%s.extra;' % name,
            '.\\" edit those, not this file.',
            '.TH %s 1 %s "sisign %s" "User Commands"' % (name.upper(), page_date(), version),
            ".nh", ".ad l"]


def read_extra(extra_dir, name):
    p = os.path.join(extra_dir, name + ".extra")
    if not os.path.exists(p):
        return []
    with open(p, encoding="utf-8") as f:
        return [l for l in f.read().split("\n") if l and not l.startswith('.\\" SPDX')]


def see_also(self_name, texts, pages, always=("sisign",)):
    """SEE ALSO: sisign(1) and every page of ours the text names."""
    refs = []
    joined = "\n".join(texts)
    for p in list(always) + sorted(pages):
        if p == self_name or p in refs:
            continue
        cmd = p[len("sisign-"):] if p.startswith("sisign-") else None
        if p in always or re.search(r"\b%s\b" % re.escape(p), joined) or \
                (cmd and re.search(r"sisign (help )?%s\b" % re.escape(cmd), joined)):
            refs.append(p)
    out = [".SH SEE ALSO"]
    for k, r in enumerate(refs):
        # \% keeps a name like sisign-export-cert from breaking at a hyphen.
        out.append(".BR \\%%%s (1)%s" % (esc(r), "," if k + 1 < len(refs) else ""))
    return out


def synopsis_roff(prog, usage):
    return [".SH SYNOPSIS", ".B " + prog] + ([term_roff(usage)] if usage else [])


def page_name(cmd):
    # signsis and makekeys are programs of their own (links to sisign).
    return cmd if cmd in ("signsis", "makekeys") else "sisign-" + cmd


def make_man(a):
    cmds = [(c, s) for c, s in list_commands(a.sisign) if c not in ("help", "version")]
    pages = {page_name(c) for c, _ in cmds} | ({"sisign-gtk"} if a.gtk else set())
    os.makedirs(a.out, exist_ok=True)
    written = []

    def write(name, lines):
        lines = tidy(lines)
        path = os.path.join(a.out, name + ".1")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
        written.append(name)

    # One page per command, from `sisign help COMMAND`.
    for c, _ in cmds:
        name = page_name(c)
        usage, summary, body = command_help(a.sisign, c)
        extra = read_extra(a.extra, name)
        prog = c if c in ("signsis", "makekeys") else "sisign " + c
        lines = th(name, a.version)
        lines += [".SH NAME", "%s \\- %s" % (name, esc(summary))]
        lines += synopsis_roff(prog, usage)
        if c in ("signsis", "makekeys"):
            lines += [".br", ".B sisign %s" % c] + ([term_roff(usage)] if usage else [])
        blocks = parse_body(body)
        lines += [".SH DESCRIPTION"]
        if not blocks or blocks[0][0] != "para":
            lines += [".PP", inline(summary[0].upper() + summary[1:] + ".")]
        lines += blocks_roff(blocks)
        lines += extra
        lines += see_also(name, body + extra, pages)
        write(name, lines)

    # sisign(1): the overview, every command, the exit statuses.
    overview = run_help(a.sisign, "help").split("\n")
    exits = run_help(a.sisign, "help", "exit-codes").split("\n")
    extra = read_extra(a.extra, "sisign")
    tagline = next((l for l in overview if l and not l.startswith(" ") and not l.startswith("usage")), "")
    lines = th("sisign", a.version)
    lines += [".SH NAME", "sisign \\- " + esc(tagline[0].lower() + tagline[1:].rstrip("."))]
    lines += [".SH SYNOPSIS"]
    for k, l in enumerate(overview[:overview.index("")]):
        m = re.match(r"^(?:usage:)?\s*sisign ?(.*)$", l)
        if m:
            lines += ([".br"] if k else []) + [".B sisign", term_roff(m.group(1))]
    lines += [".SH DESCRIPTION", ".PP", inline(tagline)]
    tail = overview[overview.index("Commands:") + 1:]
    tail = [l for l in tail if not re.match(r"^  \S", l)]
    lines += blocks_roff(parse_body(tail))
    lines += [".SH COMMANDS"]
    for c, s in list_commands(a.sisign):
        lines += [".TP", "\\fBsisign %s\\fR" % esc(c), inline(s) + ("." if not s.endswith(".") else "")]
        if c not in ("help", "version"):
            lines += ["See", ".BR \\%%%s (1)." % esc(page_name(c))]
    lines += [".SH EXIT STATUS"]
    rows, rest = [], []
    for l in exits[1:]:
        m = re.match(r"^\s+(\d+)\s+([A-Z_]+)\s+(.*)$", l)
        if m and not rest:
            rows.append(m.groups())
        else:
            rest.append(l)
    for code, nm, text in rows:
        lines += [".TP", "\\fB%s\\fR %s" % (code, nm), inline(text)]
    lines += blocks_roff(parse_body(rest))
    lines += extra
    lines += see_also("sisign", [], pages, always=tuple(sorted(pages)))
    write("sisign", lines)

    # sisign-gtk(1), from GLib's --help layout.
    if a.gtk:
        text = run_help(a.gtk, "--help-all").split("\n")
        if text[0].strip() != "Usage:":
            sys.exit("clidocs: unexpected 'sisign-gtk --help' layout")
        usage = text[1].strip()
        body = text[2:]
        extra = read_extra(a.extra, "sisign-gtk")
        summary = next((l for l in body if l.strip()), "").strip()
        m = re.match(r"^sisign-gtk ?(.*)$", usage)
        lines = th("sisign-gtk", a.version)
        lines += [".SH NAME", "sisign-gtk \\- " + esc(summary[0].lower() + summary[1:].rstrip("."))]
        lines += synopsis_roff("sisign-gtk", m.group(1) if m else usage)
        lines += [".SH DESCRIPTION"] + blocks_roff(parse_body(body))
        lines += extra
        lines += see_also("sisign-gtk", body + extra, pages)
        write("sisign-gtk", lines)

    # Pages from an earlier run whose command is gone must not be installed.
    for f in os.listdir(a.out):
        if f.endswith(".1") and f[:-2] not in written:
            os.remove(os.path.join(a.out, f))


# ---- completions -----------------------------------------------------------

# What an option's argument is, for completion: by option name first,
# then by the placeholder --help shows.
KIND_BY_NAME = {
    "--key": "key", "--cert": "cert", "--chain": "cert", "--trust": "certdir",
    "--module": "module", "--out-dir": "dir", "--allow-module": "dir",
    "--files-from": "file", "--audit-log": "file", "--pin-file": "file", "--pass-file": "file",
    "--output": "file", "--out": "file", "--file": "file",
}
OPT_TOKEN = re.compile(r"(?<![\w`'-])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z?])(?=$|[\s,.;:()\]|=\[])")
# makekeys' own options are words after one dash ("-cert", "-dname").
WORD_OPT = re.compile(r"(?<![\w`'-])(-[A-Za-z][A-Za-z0-9]+)(?=$|[\s,.;:()\]|=\[])")


def item_options(term):
    """[(option, placeholder or None)] of one item term such as
    "-k, --key KEY" or "--pass-fd N, --pass-file FILE"."""
    out = []
    for part in re.split(r",\s*", term):
        m = re.match(r"^(--?[A-Za-z0-9?][A-Za-z0-9-]*)(?:[ =](\S.*))?$", part.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    # "-k, --key KEY": the short form takes the same argument.
    arg = next((p for _, p in out if p), None)
    return [(o, p if p else (arg if arg and len(o) == 2 and o != "-?" else None)) for o, p in out]


def arg_kind(opt, placeholder):
    if not placeholder:
        return "none"
    if opt in KIND_BY_NAME:
        return KIND_BY_NAME[opt]
    p = placeholder.strip("[]")
    if re.match(r"^[a-z0-9]+(\|[a-z0-9]+)+$", p):
        return "choice:" + p.replace("|", " ")
    if p in ("DIR",):
        return "dir"
    if p in ("FILE", "F", "OUT", "OUTPUT", "PATH") or "FILE" in p or "=" in p:
        return "file"
    return "word"


def command_options(sisign):
    """{command: [(option, kind, description)]}.  Options come from the
    items of a command's help, then its usage line ("-len N": N is the
    placeholder), then its prose ("-r, --files-from ... as for sign"); a
    long option named only in prose takes its kind from where another
    command lists it.  Prose that names another program's option ("as
    signsis -u") does not count."""
    cmd_list = list_commands(sisign)
    cmds = [c for c, _ in cmd_list]
    names = "|".join(re.escape(c) for c in cmds + ["sisign"])
    table, kinds, descs = {}, {}, {}
    for c in cmds:
        usage, summary, body = command_help(sisign, c)
        found = {}
        for b in parse_body(body):
            if b[0] != "item":
                continue
            desc = " ".join(b[2]).split(". ")[0].split("; ")[0]
            opts = item_options(b[1])
            # "-k, --key KEY": the short form is the long one's twin.
            long_kind = next((arg_kind(o, p) for o, p in opts if o.startswith("--") and p), None)
            for o, p in opts:
                k = long_kind if (len(o) == 2 and long_kind) else arg_kind(o, p)
                found.setdefault(o, (k, desc))
                if o.startswith("--"):
                    if k != "none":
                        kinds.setdefault(o, k)
                    descs.setdefault(o, desc)
        for m in re.finditer(r'(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)[ =]"?([A-Z][A-Z0-9_]*)\b', usage):
            found.setdefault(m.group(1), (arg_kind(m.group(1), m.group(2)), ""))
        # Single-dash words count where the syntax is shown: the usage line
        # and item terms (prose says "e.g. -sv" for bundled letters).
        for t in [usage] + [b[1] for b in parse_body(body) if b[0] == "item"]:
            for m in WORD_OPT.finditer(t):
                found.setdefault(m.group(1), (None, ""))
        text = re.sub(r"`[^`]*`", "", usage + "\n" + "\n".join(body))
        text = re.sub(r"\b(?:%s)((?:\s+-+[A-Za-z0-9?][A-Za-z0-9-]*)+)" % names, "", text)
        for m in OPT_TOKEN.finditer(text):
            found.setdefault(m.group(1), (None, ""))
        table[c] = found
    out = {}
    for c in cmds:
        opts = []
        own_syntax = c in ("signsis", "makekeys")
        for o, (k, d) in sorted(table[c].items(), key=lambda x: (x[0].lstrip("-").lower(), x[0])):
            if k is None:
                borrow = o.startswith("--") and not own_syntax
                k = kinds.get(o, "none") if borrow else "none"
                d = descs.get(o, "") if borrow else ""
            opts.append((o, k, d))
        if "--help" not in table[c] and not own_syntax:
            opts.append(("--help", "none", "show this command's options"))
        out[c] = opts
    return cmds, out


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def make_completion(a):
    cmds, table = command_options(a.sisign)
    data = []
    if a.shell in ("bash", "zsh"):
        data.append("_sisign_commands=(%s)" % " ".join(cmds))
        for c in cmds:
            var = c.replace("-", "_")
            data.append("_sisign_opts_%s=(%s)" % (var, " ".join(sh_quote(o) for o, _, _ in table[c])))
            data.append("_sisign_kinds_%s=(%s)" % (var, " ".join(sh_quote("%s=%s" % (o, k))
                                                                 for o, k, _ in table[c] if k != "none")))
        if a.shell == "zsh":
            for c in cmds:
                var = c.replace("-", "_")
                data.append("_sisign_descs_%s=(%s)" % (var, " ".join(
                    sh_quote("%s:%s" % (o.replace(":", "\\:"), d))
                    for o, _, d in table[c])))
    elif a.shell == "fish":
        for c, s in list_commands(a.sisign):
            data.append("complete -c sisign -n __sisign_no_command -f -a %s -d %s" % (sh_quote(c), sh_quote(s)))
        for c in cmds:
            for o, k, d in table[c]:
                if o == "-?":
                    continue
                flag = ("-l " + sh_quote(o[2:])) if o.startswith("--") else \
                    (("-o " + sh_quote(o[1:])) if len(o) > 2 else ("-s " + sh_quote(o[1:])))
                rest = flag
                if k == "none":
                    rest += " -f"
                elif k.startswith("choice:"):
                    rest += " -x -a %s" % sh_quote(k[len("choice:"):])
                elif k == "word":
                    rest += " -x"
                elif k == "key":
                    rest += " -r -F -a '(__sisign_key_uris)'"
                elif k == "dir":
                    rest += " -x -a '(__fish_complete_directories)'"
                else:
                    rest += " -r -F"
                if d:
                    rest += " -d %s" % sh_quote(d[:70])
                data.append("complete -c sisign -n '__sisign_command_is %s' %s" % (c, rest))
                # signsis and makekeys are also programs of their own.
                if c in ("signsis", "makekeys"):
                    data.append("complete -c %s %s" % (c, rest))
    else:
        sys.exit("clidocs: unknown shell " + a.shell)
    with open(a.template, encoding="utf-8") as f:
        tpl = f.read()
    if "@GENERATED@" not in tpl:
        sys.exit("clidocs: %s has no @GENERATED@ line" % a.template)
    text = tpl.replace("@GENERATED@", "\n".join(data))
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, a.out)


def main():
    ap = argparse.ArgumentParser(description="sisign man pages and completions from --help")
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("man")
    m.add_argument("--sisign", required=True)
    m.add_argument("--gtk")
    m.add_argument("--extra", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--version", default="")
    c = sub.add_parser("completion")
    c.add_argument("--sisign", required=True)
    c.add_argument("--template", required=True)
    c.add_argument("--shell", required=True, choices=("bash", "zsh", "fish"))
    c.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.what == "man":
        make_man(a)
    else:
        make_completion(a)


if __name__ == "__main__":
    main()
