#!/usr/bin/env python3
"""Replay tests: hand-written capture fixtures through real rule files.

Each fixture tests/replay/<set>/<name>.jsonl starts with comment lines:
    # rules: falco            (which rule set: falco = the three official
    #                           files from ../shared/falco-rules, vigil = rules/)
    # expect: Rule name       (one line per rule that must fire; none = no alert)
    # skipped: 7              (optional, one per line: a bad line that replay
                                must skip and name by its number; without
                                any, replay must skip none)
The test runs `vigil replay` and asserts that exactly the expected rules fire
(each at least once, and no other rule), so it fails both on a missed
detection and on noise.
"""
import json
import os
import subprocess
import tempfile
import sys

SRC = os.environ.get("VIGIL_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VIGIL = os.environ.get("VIGIL_BIN", os.path.join(SRC, "build", "vigil"))
FALCO = os.environ.get("VIGIL_FALCO_RULES", os.path.join(SRC, "..", "shared", "falco-rules"))
FALCO_FILES = ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"]


def rules_args(kind):
    if kind == "falco":
        files = [os.path.join(FALCO, f) for f in FALCO_FILES]
        for f in files:
            if not os.path.exists(f):
                sys.exit("missing %s (set VIGIL_FALCO_RULES)" % f)
    elif kind == "vigil":
        files = [os.path.join(SRC, "rules")]
    else:
        sys.exit("unknown rule set %r" % kind)
    args = []
    for f in files:
        args += ["-r", f]
    return args


PREFILTER_CFG = {}  # False/True: a configuration with capture.prefilter off/on


def replay(kind, path, prefilter):
    args = [VIGIL, "replay", "-c", PREFILTER_CFG[prefilter]] + rules_args(kind) + [path]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def run_one(path):
    kind, expect, skipped = None, set(), []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("# rules:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("# expect:"):
                expect.add(line.split(":", 1)[1].strip())
            elif line.startswith("# skipped:"):
                skipped.append(int(line.split(":", 1)[1]))
    if not kind:
        return "no '# rules:' line"
    r = replay(kind, path, False)
    if r.returncode != 0:
        return "vigil replay exit %d: %s" % (r.returncode, r.stderr.strip()[-800:])
    for n in skipped:
        if "%s:%d:" % (path, n) not in r.stderr or "(line skipped)" not in r.stderr:
            return "line %d not reported as skipped: %s" % (n, r.stderr.strip()[-800:])
    if "; %d bad lines skipped" % len(skipped) not in r.stderr:
        return "the summary does not say %d bad lines: %s" % (len(skipped), r.stderr.strip()[-800:])
    fired = set()
    for line in r.stdout.splitlines():
        if line.strip():
            alert = json.loads(line)
            fired.add(alert["rule"])
    if fired != expect:
        return "fired %s, expected %s" % (sorted(fired), sorted(expect))
    # the kernel-side prefilter (capture.prefilter: on, run in user space
    # by replay) must not change a single alert
    p = replay(kind, path, True)
    if p.returncode != 0:
        return "vigil replay (prefilter on) exit %d: %s" % (p.returncode, p.stderr.strip()[-800:])
    if p.stdout != r.stdout:
        return "alerts differ with capture.prefilter: on:\n%s\nvs off:\n%s" % (p.stdout[-2000:], r.stdout[-2000:])
    return None


def main():
    base = os.path.dirname(os.path.abspath(__file__))
    for on in (False, True):
        fd, PREFILTER_CFG[on] = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write("capture:\n  prefilter: %s\n" % ("on" if on else "off"))
    fixtures = sorted(os.path.join(d, f) for d, _, fs in os.walk(base) for f in fs if f.endswith(".jsonl"))
    if not fixtures:
        sys.exit("no fixtures found")
    failed = 0
    for p in fixtures:
        err = run_one(p)
        name = os.path.relpath(p, base)
        print("%s %s%s" % ("FAIL" if err else "PASS", name, ": " + err if err else ""), flush=True)
        failed += bool(err)
    for p in PREFILTER_CFG.values():
        os.unlink(p)
    print("%d passed, %d failed" % (len(fixtures) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
