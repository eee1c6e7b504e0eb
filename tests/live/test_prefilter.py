#!/usr/bin/env python3
"""The kernel-side prefilter (capture.prefilter: on) on the real kernel:
what it must never drop, and the memory of the opens it dropped
(docs/prefilter.md).

The predicate tests the path string the caller passed; fd.name is the file
the kernel opened.  A symlink or /proc/self/root makes them differ: an
attacker reading /etc/shadow through one must still be seen.

A rule set that reads sockets' fd table entries and no file's: opens are
dropped in the kernel, and so must be the closes of their fds, whichever
thread of the process closes them.  And the memory must never make the
kernel drop a close the state needs: an fd closed where vigil does not look
(close_range) and reused by a socket must have its close sent, or the
socket's entry stays in the state and a later file on that fd passes for a
socket (the adversary: a process hiding a file behind a stale entry, or
making one rule fire on the wrong object).
"""
import os
import re
import subprocess
import tempfile
import time
import urllib.request

from livelib import VIGIL, Vigil, check, main

SRC = os.environ.get("VIGIL_SRC", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

RULES = """
- rule: Socket mode changed
  desc: fchmod on what the fd table says is an IPv4 socket
  condition: evt.type = fchmod and fd.type = ipv4 and proc.name = vgattack
  output: socket mode changed (fd=%fd.num type=%fd.type name=%fd.name)
  priority: WARNING
"""


def setup():
    d = tempfile.mkdtemp(prefix="vigil-pffds-")
    helper = os.path.join(d, "vgattack")
    subprocess.run(["gcc", "-O1", "-o", helper, os.path.join(SRC, "tests", "live", "vgattack.c")],
                   check=True)
    target = os.path.join(d, "target")
    with open(target, "w") as f:
        f.write("x")
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    cfg = os.path.join(d, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: on\n")
    return helper, target, rules, cfg


def filtered(port, syscall):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    m = re.search(r'^vigil_events_filtered_total\{syscall="%s"\} (\S+)$' % syscall, text, re.M)
    return float(m.group(1)) if m else 0.0


def alerts(v, rule):
    return [a for a in v.lines() if a.get("rule") == rule]


def run_helper(helper, *args):
    r = subprocess.run([helper] + list(args), capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "vgattack %s: rc %d %s" % (" ".join(args), r.returncode, r.stderr))


def test_dropped_opens_closes_are_dropped():
    """2000 opens and closes in one thread, then 2000 opened in one thread
    and closed in another: every one of those closes is filtered in the
    kernel (the counter grows by at least 4000; before the kernel
    remembered dropped opens, closes were all sent)."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        c0, o0 = filtered(port, "close"), filtered(port, "openat")
        run_helper(helper, "fd-churn", target, "2000")
        run_helper(helper, "fd-threads", target, "2000")
        time.sleep(0.5)
        c1, o1 = filtered(port, "close"), filtered(port, "openat")
        check(o1 - o0 >= 4000, "opens filtered: %d (want >= 4000)" % (o1 - o0))
        check(c1 - c0 >= 4000, "closes filtered: %d of the 4000 whose open was dropped"
              % (c1 - c0))
    finally:
        v.close()


def test_fd_closed_unseen_then_reused_by_a_socket():
    """open (dropped) -> close_range (not captured) -> socket() on the same
    number (sent) -> close (must be sent) -> open of a file on the same
    number (dropped) -> fchmod: the state must not call that file a
    socket.  The control: fchmod on a real socket raises the rule."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        run_helper(helper, "sock-fchmod")
        for _ in range(20):
            run_helper(helper, "stale-fd", target)
        time.sleep(1)
    finally:
        v.stop()
    got = alerts(v, "Socket mode changed")
    check(len(got) == 1, "want exactly the control's alert, got %d: %s" % (
        len(got), [a.get("output") for a in got][:3]))
    check("type=ipv4" in got[0].get("output", ""), "control alert: %s" % got[0].get("output"))
    v.close()


ALIAS_RULES = """
- rule: Shadow read
  desc: test
  condition: evt.type in (open, openat) and evt.is_open_read = true and fd.name = /etc/shadow
  output: shadow read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
- rule: Credentials read
  desc: test
  condition: >
    evt.type in (open, openat) and evt.is_open_read = true and
    fd.filename in (credentials, token) and fd.directory endswith /keys
  output: credentials read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
"""


def test_aliases_are_not_dropped():
    """Prefix and name tests on the caller's string: an open of
    /etc/shadow through a symlink (/tmp/.../innocent) or /proc/self/root,
    and of .../keys/credentials through a symlink named otherwise, still
    alert with the prefilter on, with fd.name the real file; an open of an
    unrelated file is dropped in the kernel (before: the two aliases of
    /etc/shadow passed unseen)."""
    d = tempfile.mkdtemp(prefix="vigil-pfalias-")
    rules, cfg = os.path.join(d, "rules.yaml"), os.path.join(d, "vigil.yaml")
    with open(rules, "w") as f:
        f.write(ALIAS_RULES)
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: on\n")
    os.makedirs(os.path.join(d, "keys"))
    cred = os.path.join(d, "keys", "credentials")
    with open(cred, "w") as f:
        f.write("secret")
    other = os.path.join(d, "other")
    with open(other, "w") as f:
        f.write("x")
    os.symlink("/etc/shadow", os.path.join(d, "innocent"))
    os.symlink(cred, os.path.join(d, "notes"))
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        o0 = filtered(port, "openat")
        for p in ("/etc/shadow", os.path.join(d, "innocent"), "/proc/self/root/etc/shadow",
                  cred, os.path.join(d, "notes")):
            r = subprocess.run(["cat", p], capture_output=True, timeout=10)
            check(r.returncode == 0, "cat %s: %s" % (p, r.stderr))
        for _ in range(100):
            with open(other) as f:
                f.read()
        time.sleep(1)
        o1 = filtered(port, "openat")
    finally:
        v.stop()
    shadow = [a["output"] for a in alerts(v, "Shadow read")]
    creds = [a["output"] for a in alerts(v, "Credentials read")]
    v.close()
    for raw in ("/etc/shadow", os.path.join(d, "innocent"), "/proc/self/root/etc/shadow"):
        check(any("file=/etc/shadow raw=%s)" % raw in o for o in shadow),
              "no alert for /etc/shadow opened as %s: %s" % (raw, shadow))
    for raw in (cred, os.path.join(d, "notes")):
        check(any("file=%s raw=%s)" % (cred, raw) in o for o in creds),
              "no alert for %s opened as %s: %s" % (cred, raw, creds))
    check(o1 - o0 >= 100, "opens of an unrelated file filtered: %d (want >= 100)" % (o1 - o0))


def test_fchmod_names_its_file_with_opens_dropped():
    """The default rules, the prefilter on: the open of a file is dropped
    in the kernel, and an fchmod that sets its setuid bit still names it
    (fchmod carries its file's path from the kernel, VG_SC_FDFILE; before,
    the rule printed fd.name from the fd table and kept every open)."""
    d = tempfile.mkdtemp(prefix="vigil-pffchmod-")
    target = os.path.join(d, "planted")
    with open(target, "w") as f:
        f.write("#!/bin/sh\n")
    cfg = os.path.join(d, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\nrules_dirs: []\ncapture:\n  prefilter: on\n")
    v = Vigil(["run", "-c", cfg])
    try:
        port = v.metrics_port()
        o0 = filtered(port, "openat")
        r = subprocess.run(["python3", "-c", "import os,sys\nfd=os.open(sys.argv[1], os.O_RDONLY)\n"
                            "os.fchmod(fd, 0o4755)\nos.close(fd)", target],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "fchmod: %s" % r.stderr)
        time.sleep(1)
        o1 = filtered(port, "openat")
    finally:
        v.stop()
    got = [a["output"] for a in alerts(v, "Setuid or setgid bit set")]
    v.close()
    check(any("with fchmod (file=%s " % target in o for o in got),
          "no fchmod alert naming %s: %s" % (target, got))
    check(o1 > o0, "no open filtered in the kernel (%d -> %d)" % (o0, o1))


if __name__ == "__main__":
    main([test_dropped_opens_closes_are_dropped, test_fd_closed_unseen_then_reused_by_a_socket,
          test_aliases_are_not_dropped, test_fchmod_names_its_file_with_opens_dropped])
