#!/usr/bin/env python3
"""Live end-to-end tests of `vigil run`: real eBPF, real runc containers,
rules evaluated on live events, Falco-compatible JSON alerts on stdout."""
import json
import os
import subprocess
import tempfile
import time

from livelib import Container, Vigil, check, main

RULES = """
- list: test_shells
  items: [sh, bash, ash]
- macro: test_in_container
  condition: container.id != host
- rule: Test shell in container
  desc: a shell started inside a container
  condition: evt.type in (execve, execveat) and test_in_container and proc.name in (test_shells)
  output: shell in container (proc=%proc.name cmd=%proc.cmdline container=%container.id parent=%proc.pname)
  priority: WARNING
  tags: [test, container]
- rule: Test marker file opened
  desc: a file with a marker name is opened for writing
  condition: evt.type in (open, openat, openat2) and evt.is_open_write=true and fd.name endswith /vigil-run-marker
  output: marker written (file=%fd.name proc=%proc.name uid=%user.uid)
  priority: NOTICE
"""


def run_with_rules(action, extra=None):
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write(RULES)
    f.close()
    v = Vigil(["run", "-r", f.name] + (extra or []))
    try:
        action()
        time.sleep(0.5)
    finally:
        rc = v.stop()
        os.unlink(f.name)
    check(rc == 0, "vigil run exit code %s: %s" % (rc, v.stderr()[-400:]))
    return v.lines(), v.stderr()


def test_shell_in_container_alert():
    c = Container()
    try:
        alerts, err = run_with_rules(lambda: c.run(["/bin/sh", "-c", "/bin/echo hi"]))
    finally:
        c.close()
    mine = [a for a in alerts if a["rule"] == "Test shell in container"
            and a["output_fields"].get("container.id") == c.id[:12]]
    check(len(mine) == 1, "expected one alert for the container shell, got %d: %s" % (len(mine), alerts))
    a = mine[0]
    for k in ("time", "rule", "priority", "source", "hostname", "output", "output_fields", "tags"):
        check(k in a, "alert lacks %s" % k)
    check(a["priority"] == "Warning" and a["source"] == "syscall", "priority/source %s" % a)
    check(a["tags"] == ["test", "container"], "tags %s" % a["tags"])
    check(a["output_fields"]["proc.name"] == "sh", "proc.name %s" % a["output_fields"])
    check("shell in container (proc=sh" in a["output"], "output %s" % a["output"])
    check(a["time"].endswith("Z") and len(a["time"]) == 30, "time format %s" % a["time"])


def test_host_shell_is_not_alerted_and_file_rule_fires():
    d = tempfile.mkdtemp(prefix="vigil-run-")
    marker = os.path.join(d, "vigil-run-marker")

    def act():
        subprocess.run(["/bin/sh", "-c", "echo x > %s" % marker], check=True)

    alerts, _ = run_with_rules(act)
    shells = [a for a in alerts if a["rule"] == "Test shell in container"
              and a["output_fields"].get("container.id") == "host"]
    check(not shells, "a host shell was alerted as a container shell: %s" % shells)
    files = [a for a in alerts if a["rule"] == "Test marker file opened"]
    check(len(files) == 1, "marker alerts: %s" % files)
    check(files[0]["output_fields"]["fd.name"] == marker, "fd.name %s" % files[0]["output_fields"])
    check(files[0]["output_fields"]["user.uid"] == 0, "user.uid typed number: %s" % files[0]["output_fields"])
    os.unlink(marker)
    os.rmdir(d)


def test_bad_rules_file_is_reported():
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write("- rule: broken\n  desc: x\n  condition: proc.nme = sh\n  output: x\n  priority: INFO\n")
    f.close()
    r = subprocess.run([os.environ.get("VIGIL_BIN", "build/vigil"), "validate", f.name],
                       capture_output=True, text=True)
    os.unlink(f.name)
    check(r.returncode == 1, "validate exit code %d" % r.returncode)
    check("%s:3:14: error: unknown field 'proc.nme' (rule 'broken')" % f.name in r.stderr,
          "message: %s" % r.stderr)

def test_validate_prefilter():
    """validate --prefilter prints the kernel's predicate after the counts;
    without the option, only the counts; a broken file prints no
    predicate."""
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write("- rule: a\n  desc: x\n  condition: evt.type = openat and fd.name startswith /etc/"
            " and evt.rawres >= 0\n  output: x\n  priority: INFO\n")
    f.close()
    vigil = os.environ.get("VIGIL_BIN", "build/vigil")
    r = subprocess.run([vigil, "validate", "--prefilter", f.name], capture_output=True, text=True)
    plain = subprocess.run([vigil, "validate", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    check(r.returncode == 0, "validate --prefilter exit code %d: %s" % (r.returncode, r.stderr))
    lines = r.stdout.splitlines()
    check(lines[0].startswith("1 rules (1 enabled"), "counts first: %s" % r.stdout)
    check("openat: kept when one of 1 clause holds" in lines, "openat: %s" % r.stdout)
    check('  ret>=0, path starts with "/etc/"' in lines, "clause: %s" % r.stdout)
    check(lines[-1] == "closes: filtered (no rule reads the fd table)", "closes: %s" % r.stdout)
    check(plain.stdout == lines[0] + "\n", "without --prefilter: %s" % plain.stdout)
    g = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    g.write("- rule: broken\n  desc: x\n  condition: proc.nme = sh\n  output: x\n  priority: INFO\n")
    g.close()
    r = subprocess.run([vigil, "validate", "--prefilter", g.name], capture_output=True, text=True)
    os.unlink(g.name)
    check(r.returncode == 1 and "kept when" not in r.stdout, "broken: %s" % r.stdout)


def test_sighup_reloads_rule_files():
    """SIGHUP re-reads the rule files: a rule added to the file fires, a
    removed one stops, a broken edit keeps the running set."""
    d = tempfile.mkdtemp(prefix="vigil-hup-")
    rules = os.path.join(d, "rules.yaml")
    m1, m2 = os.path.join(d, "one-marker"), os.path.join(d, "two-marker")

    def rule(name, marker):
        return ("- rule: %s\n  desc: test\n  condition: evt.type in (open, openat) and "
                "evt.dir = < and fd.name = %s\n  output: opened %%fd.name\n"
                "  priority: NOTICE\n" % (name, marker))
    with open(rules, "w") as f:
        f.write(rule("HUP one", m1))
    v = Vigil(["run", "-r", rules])
    try:
        def touch(p):
            with open(p, "w"):
                pass

        def names():
            return [a["rule"] for a in v.lines()]

        def wait(cond, what):
            for _ in range(100):
                if cond():
                    return
                time.sleep(0.1)
            check(False, "timed out: %s; alerts %s; log %s" % (what, names(), v.stderr()[-500:]))
        touch(m1)
        touch(m2)
        wait(lambda: names().count("HUP one") == 1, "the first rule")
        with open(rules, "w") as f:
            f.write(rule("HUP two", m2))
        v.proc.send_signal(1)  # SIGHUP
        wait(lambda: "rules rebuilt" in v.stderr(), "the rebuild")
        time.sleep(0.5)
        touch(m1)
        touch(m2)
        wait(lambda: names().count("HUP two") == 1, "the new rule")
        time.sleep(0.3)
        check(names().count("HUP one") == 1, "the removed rule still fires: %s" % names())
        with open(rules, "w") as f:
            f.write("- rule: broken\n  condition: fd.nmae = x\n")
        v.proc.send_signal(1)
        wait(lambda: "keeping the rules in force" in v.stderr() and
             "rules.yaml:1:3: error" in v.stderr(), "the broken edit reported at its place")
        time.sleep(0.5)
        touch(m2)
        wait(lambda: names().count("HUP two") == 2, "the running set kept after a broken edit")
        check(v.proc.poll() is None, "vigil died on a broken rules file")
    finally:
        rc = v.stop()
        v.close()
        for p in (rules, m1, m2):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(d)
    check(rc == 0, "exit code %s" % rc)


if __name__ == "__main__":
    main([test_shell_in_container_alert, test_host_shell_is_not_alerted_and_file_rule_fires,
          test_bad_rules_file_is_reported, test_validate_prefilter,
          test_sighup_reloads_rule_files])
