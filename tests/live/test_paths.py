#!/usr/bin/env python3
"""Live tests of the paths vigil gives opened files, under the real kernel.

Aliases: /etc/shadow opened as /proc/self/root/etc/shadow, by reopening
/proc/self/fd/N, and by open_by_handle_at (no path at all; root) must each
raise vigil's "Sensitive file read by an untrusted program" and the
official "Read sensitive file untrusted" with fd.name=/etc/shadow: the
name is the file the kernel opened (walked from the new fd), not the
caller's string.

Long paths: a file opened (relative to its directory) more than 4 KiB deep
under /etc must keep the root side of its path (fd.name startswith /etc/...)
with the documented cut mark, and evt.is_path_truncated / fd.name_truncated
must say so.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from livelib import Vigil, check, helper, main

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FALCO = os.environ.get("VIGIL_FALCO_RULES", os.path.join(SRC, "..", "shared", "falco-rules"))
VIGIL_RULES = os.path.join(SRC, "rules")
MARK_CUT = "/[truncated]"
RULE_SETS = (([os.path.join(FALCO, "falco_rules.yaml")], "Read sensitive file untrusted"),
             ([VIGIL_RULES], "Sensitive file read by an untrusted program"))


def run_rules(rules, action):
    v = Vigil(["run"] + sum([["-r", r] for r in rules], []))
    try:
        result = action()
        time.sleep(1.0)
    finally:
        rc = v.stop()
    check(rc == 0, "vigil run exit code %s: %s" % (rc, v.stderr()[-400:]))
    alerts = v.lines()
    v.close()
    return alerts, result


def child(code, *args, pass_fds=()):
    """A python child running code (its argv carries a marker to find its
    alerts by)."""
    r = subprocess.run([sys.executable, "-c", code] + list(args), capture_output=True, text=True,
                       timeout=60, pass_fds=pass_fds)
    check(r.returncode == 0, "child failed: %s %s" % (r.stdout, r.stderr))
    return r


def fields(a):
    return a.get("output_fields", {})


def expect_shadow_alerts(action, marker):
    """Both rule sets fire on action with fd.name=/etc/shadow, from the
    process whose command line holds marker."""
    for rules, want in RULE_SETS:
        alerts, _ = run_rules(rules, action)
        hit = [a for a in alerts if a.get("rule") == want and
               (marker in fields(a).get("proc.cmdline", "") or marker in a.get("output", ""))]
        check(hit, "%s did not fire for %s: %s" % (
            want, marker, [(a.get("rule"), fields(a).get("fd.name")) for a in alerts]))
        names = {fields(a).get("fd.name") for a in hit}
        check(names == {"/etc/shadow"}, "%s: fd.name %s, want /etc/shadow" % (want, names))


def test_proc_self_root_alias():
    marker = "vgroot" + uuid.uuid4().hex[:6]
    code = "import os,sys; fd=os.open('/proc/self/root/etc/shadow', os.O_RDONLY); os.read(fd,1)"
    expect_shadow_alerts(lambda: child(code, marker), marker)


def test_proc_self_fd_reopen():
    """The fd comes from the parent, opened before vigil starts: only the
    child's reopen through /proc/self/fd/N is seen."""
    marker = "vgfd" + uuid.uuid4().hex[:6]
    fd = os.open("/etc/shadow", os.O_RDONLY)
    try:
        code = ("import os,sys; fd=os.open('/proc/self/fd/%d', os.O_RDONLY); os.read(fd,1)" % fd)
        expect_shadow_alerts(lambda: child(code, marker, pass_fds=(fd,)), marker)
    finally:
        os.close(fd)


def test_open_by_handle_at():
    """Captured by the syscall program on every kernel (this host has no
    BPF-LSM), reported as openat, exactly once."""
    uring = helper("uring_ops")
    d = tempfile.mkdtemp(prefix="vigil-handle-")
    # a name of its own, to tell its alerts apart
    prog = os.path.join(d, "vgh" + uuid.uuid4().hex[:6])
    shutil.copy(uring, prog)
    def act():
        r = subprocess.run([prog, "handle", "/etc/shadow"], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, "open_by_handle_at failed: %s %s" % (r.stdout, r.stderr))
    try:
        expect_shadow_alerts(act, os.path.basename(prog))
        v = Vigil(["capture", "-s", "openat"])
        try:
            act()
            time.sleep(0.5)
        finally:
            v.stop()
        evs = v.lines()
        v.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    comm = os.path.basename(prog)[:15]
    mine = [e for e in evs if e.get("comm") == comm and
            e.get("decoded", {}).get("path") == "/etc/shadow"]
    check(len(mine) == 1, "%d openat events of /etc/shadow for one open_by_handle_at: %s" % (
        len(mine), mine))
    check(mine[0].get("flags", 0) & 0x20, "not flagged as a side door (VG_F_LSM): %s" % mine[0])


DEEP_CHILD = r"""
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
os.chdir(top)
for i in range(n):
    c = ("%03d" % i) + "d" * 197
    os.mkdir(c)
    os.chdir(c)
fd = os.open("vigil-deep-file", os.O_CREAT | os.O_WRONLY, 0o600)
os.write(fd, b"x")
os.close(fd)
"""


def test_deep_path_keeps_root():
    """A file written 5 KB deep under /etc, opened relative to its
    directory: the kernel walks the cwd, which is longer than a string."""
    top = tempfile.mkdtemp(prefix="vigil-deep-", dir="/etc")
    rule = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    rule.write("""- rule: deep write under etc
  desc: a write below %s, its path cut
  condition: evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name startswith %s/ and evt.is_path_truncated = true and fd.name_truncated = true
  output: deep name=%%fd.name
  priority: WARNING
""" % (top, top))
    rule.close()
    try:
        marker = "vgdeep" + uuid.uuid4().hex[:6]
        alerts, _ = run_rules([rule.name], lambda: child(DEEP_CHILD, top, "25", marker))
        check(len(alerts) == 1, "want one alert for the deep write, got %s" % (
            [(a.get("rule"), fields(a).get("fd.name", "")[:80]) for a in alerts]))
        name = fields(alerts[0]).get("fd.name", "")
        check(name.startswith(top + "/000ddd"), "fd.name lost its root: %s" % name[:120])
        check(MARK_CUT in name, "no cut mark in %s" % name[:120])
        check(name.endswith("/vigil-deep-file"), "fd.name lost its leaf: ...%s" % name[-120:])
        check(len(name) < 4096, "fd.name %d bytes" % len(name))

        shutil.rmtree(top)
        top = tempfile.mkdtemp(prefix="vigil-deep-", dir="/etc")
        v = Vigil(["capture", "-s", "openat"])
        try:
            child(DEEP_CHILD, top, "25", marker)
            time.sleep(0.5)
        finally:
            v.stop()
        evs = [e for e in v.lines() if e.get("decoded", {}).get("path", "").endswith(
            "/vigil-deep-file")]
        v.close()
        check(len(evs) == 1, "want one openat of the deep file, got %d" % len(evs))
        e = evs[0]
        check(e.get("flags", 0) & 0x80, "record not flagged VG_F_PATHCUT: %s" % e.get("flags"))
        check(e["decoded"]["path"].startswith(top + "/"), "path: %s" % e["decoded"]["path"][:100])
    finally:
        shutil.rmtree(top, ignore_errors=True)
        os.unlink(rule.name)
    check(not os.path.exists(top), "%s left behind" % top)


if __name__ == "__main__":
    main([test_proc_self_root_alias, test_proc_self_fd_reopen, test_open_by_handle_at,
          test_deep_path_keeps_root])
