#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# ci_steps.py KIND FILE WORKSPACE LOG — run the shell steps of one CI
# example (docs/ci/) the way its CI system would, for
# tests/integration/test_ci_examples.sh.
#   KIND github   every `run:` block of every job, in order, each with
#                 bash --noprofile --norc -eo pipefail (Actions' bash); the
#                 env: maps of workflow, job and step with ${{ secrets.X }}
#                 taken from this process's environment; $GITHUB_ENV honoured;
#                 `uses:` steps skipped.
#        gitlab   before_script + script of every job in one bash -eo
#                 pipefail, each command printed first as the runner does
#                 (unexpanded), then after_script.
#        jenkins  every sh '''...''' block (Groovy escapes undone), run by
#                 its #! line, or with `sh -xe` as Jenkins does without one.
# Everything the steps print goes to LOG, as a CI log would show it.  Exit
# status: the first failing step's, 0 if all passed, 2 for an example this
# runner refuses (an expression it cannot evaluate, a Groovy string that
# interpolates, xtrace turned on).
import os
import re
import shlex
import subprocess
import sys
import tempfile

XTRACE = re.compile(r"set\s+-[a-zA-Z]*x|set\s+-o\s+xtrace|\bbash\s+-[a-zA-Z]*x\b|\bsh\s+-[a-zA-Z]*x\b")


class Refused(Exception):
    pass


def check_no_xtrace(text, where):
    for line in text.splitlines():
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else line
        if XTRACE.search(code):
            raise Refused("%s turns on xtrace (commands would be printed with secrets expanded): %s"
                          % (where, line.strip()))


def run_script(log, argv, script, env, cwd, label):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        log.write("==> %s\n" % label)
        log.flush()
        p = subprocess.run(argv + [path], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
        return p.returncode
    finally:
        os.unlink(path)


# ---- GitHub Actions --------------------------------------------------------

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def gh_eval(value, where):
    def one(m):
        e = m.group(1)
        k = re.fullmatch(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", e)
        if k:
            return os.environ.get(k.group(1), "")
        raise Refused("%s: expression ${{ %s }} is not evaluated by this runner" % (where, e))
    return EXPR.sub(one, str(value))


def run_github(doc, ws, log):
    env = dict(os.environ)
    genv = tempfile.NamedTemporaryFile("w", delete=False).name
    env["GITHUB_ENV"] = genv
    env["GITHUB_WORKSPACE"] = ws
    env.setdefault("RUNNER_TEMP", tempfile.gettempdir())
    env["CI"] = "true"
    base = {k: gh_eval(v, "env") for k, v in (doc.get("env") or {}).items()}
    try:
        for jname, job in (doc.get("jobs") or {}).items():
            jenv = dict(base)
            jenv.update({k: gh_eval(v, jname) for k, v in (job.get("env") or {}).items()})
            for i, step in enumerate(job.get("steps") or []):
                name = step.get("name") or step.get("uses") or "step %d" % (i + 1)
                if "run" not in step:
                    log.write("==> skipped (not a shell step): %s\n" % name)
                    continue
                if EXPR.search(step["run"]):
                    raise Refused("%s: ${{ }} inside run: (pass values through env:)" % name)
                check_no_xtrace(step["run"], name)
                shell = step.get("shell", job.get("defaults", {}).get("run", {}).get("shell", "bash"))
                if shell != "bash":
                    raise Refused("%s: shell %s is not emulated" % (name, shell))
                senv = dict(env)
                senv.update(jenv)
                senv.update({k: gh_eval(v, name) for k, v in (step.get("env") or {}).items()})
                rc = run_script(log, ["bash", "--noprofile", "--norc", "-eo", "pipefail"], step["run"],
                                senv, ws, name)
                if rc != 0:
                    log.write("==> %s failed: exit %d\n" % (name, rc))
                    return rc
                # $GITHUB_ENV: NAME=value lines carry over to later steps.
                with open(genv) as f:
                    for line in f:
                        if "=" in line:
                            k, v = line.rstrip("\n").split("=", 1)
                            env[k] = v
                open(genv, "w").close()
        return 0
    finally:
        os.unlink(genv)


# ---- GitLab CI -------------------------------------------------------------

def gl_lines(items):
    if items is None:
        return []
    if isinstance(items, str):
        return [items]
    return [str(x) for x in items]


def gl_script(cmds):
    # The runner echoes each command as written, then runs it; the first
    # failing command ends the script.
    out = ["set -eo pipefail"]
    for c in cmds:
        out.append("printf '%%s\\n' %s" % shlex.quote("$ " + c.rstrip("\n")))
        out.append(c.rstrip("\n"))
    return "\n".join(out) + "\n"


def run_gitlab(doc, ws, log):
    env = dict(os.environ)
    env["CI"] = "true"
    env["CI_PROJECT_DIR"] = ws
    env.update({k: str(v) for k, v in (doc.get("variables") or {}).items()})
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    if not jobs:
        raise Refused("no job with a script:")
    for jname, job in jobs.items():
        jenv = dict(env)
        jenv.update({k: str(v) for k, v in (job.get("variables") or {}).items()})
        main = gl_lines(doc.get("before_script") if "before_script" not in job else job["before_script"])
        main += gl_lines(job["script"])
        for c in main + gl_lines(job.get("after_script")):
            check_no_xtrace(c, jname)
        rc = run_script(log, ["bash", "--noprofile", "--norc"], gl_script(main), jenv, ws, jname)
        after = gl_lines(job.get("after_script"))
        if after:
            run_script(log, ["bash", "--noprofile", "--norc"], gl_script(after), jenv, ws, jname + " after_script")
        if rc != 0:
            log.write("==> %s failed: exit %d\n" % (jname, rc))
            return rc
    return 0


# ---- Jenkins ---------------------------------------------------------------

GROOVY_ESC = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "$": "$"}


def groovy_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "\n":  # line continuation inside a Groovy string
                i += 2
                continue
            if n in GROOVY_ESC:
                out.append(GROOVY_ESC[n])
                i += 2
                continue
        out.append(c)
        i += 1
    return "".join(out)


def run_jenkins(text, ws, log):
    if re.search(r"^\s*sh\s*\(?\s*(script\s*:\s*)?\"", text, re.M):
        raise Refused('a sh step with a double-quoted Groovy string: Groovy would interpolate secrets into it')
    blocks = re.findall(r"^\s*sh\s*\(?\s*(?:script\s*:\s*)?'''(.*?)'''", text, re.S | re.M)
    if not blocks:
        raise Refused("no sh '''...''' step found")
    env = dict(os.environ)
    env["WORKSPACE"] = ws
    env["CI"] = "true"
    for i, raw in enumerate(blocks):
        script = groovy_unescape(raw)
        label = "sh step %d" % (i + 1)
        check_no_xtrace(script, label)
        if script.startswith("#!"):
            argv = shlex.split(script.split("\n", 1)[0][2:])
        else:
            argv = ["sh", "-xe"]  # what Jenkins runs a script without #! with
        rc = run_script(log, argv, script, env, ws, label)
        if rc != 0:
            log.write("==> %s failed: exit %d\n" % (label, rc))
            return rc
    return 0


def main():
    if len(sys.argv) != 5:
        sys.stderr.write("usage: ci_steps.py github|gitlab|jenkins FILE WORKSPACE LOG\n")
        return 2
    kind, path, ws, logpath = sys.argv[1:]
    with open(path) as f:
        text = f.read()
    try:
        with open(logpath, "a") as log:
            if kind == "jenkins":
                return run_jenkins(text, ws, log)
            import yaml
            doc = yaml.safe_load(text)
            if kind == "github":
                return run_github(doc, ws, log)
            if kind == "gitlab":
                return run_gitlab(doc, ws, log)
    except Refused as e:
        sys.stderr.write("ci_steps.py: %s: %s\n" % (path, e))
        return 2
    sys.stderr.write("ci_steps.py: unknown kind %s\n" % kind)
    return 2


if __name__ == "__main__":
    sys.exit(main())
