#!/usr/bin/env python3
"""The kernel's memory of the opens the prefilter dropped (docs/prefilter.md,
"Closes"), on the real kernel.

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


if __name__ == "__main__":
    main([test_dropped_opens_closes_are_dropped, test_fd_closed_unseen_then_reused_by_a_socket])
