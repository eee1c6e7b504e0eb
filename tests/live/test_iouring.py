#!/usr/bin/env python3
"""Live tests of io_uring capture: operations a ring performs with no open or
connect syscall (helper uring_ops, liburing), under the real kernel.

Where the kernel lets vigil's BPF-LSM programs run (feature bpf_lsm = 1),
an io_uring open of /etc/shadow must raise the official "Read sensitive
file untrusted" and vigil's own sensitive-read rule, an io_uring connect
and an io_uring open in a runc container under a kubepods cgroup must be
captured with their path, process and container, and evt.via must say
io_uring.  Where it does not (no bpf in lsm=, or the kernel refuses
trampoline programs, as the CI host's does), the capture must say so and
why, and those tests are SKIPPED (counted apart, never as passes): the
kernel matrix proves the same in its 6.1 and 6.12 guests
(tests/kernels/run.sh, tests/kernels/init: uring_* checks).  In both
cases: an ordinary open gives exactly one event, and io_uring_setup raises
"io_uring ring set up by an unexpected program" (not for a program of
vigil_io_uring_users).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

from livelib import Container, Vigil, VIGIL, check, helper, main, skip

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FALCO = os.environ.get("VIGIL_FALCO_RULES", os.path.join(SRC, "..", "shared", "falco-rules"))
VIGIL_RULES = os.path.join(SRC, "rules")


def lsm_feature():
    """(on, line) from vigil version --features."""
    out = subprocess.run([VIGIL, "version", "--features"], capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("feature bpf_lsm ")]
    check(line, "no bpf_lsm feature line: %s" % out)
    return line[0].startswith("feature bpf_lsm 1"), line[0]


def need_lsm():
    """Skips the test where the LSM programs cannot run here (after checking
    that the capture says why)."""
    on, line = lsm_feature()
    if not on:
        check("without: " in line and len(line.split("without: ", 1)[1]) > 20,
              "bpf_lsm off without a reason: %s" % line)
        why = line.split("without: ", 1)[1].split(": opens, connects", 1)[0]
        skip("no BPF-LSM on this kernel (%s); proven in the kernel matrix's 6.1 and 6.12 "
             "guests (tests/kernels/run.sh)" % why)


def run_rules(rules, action):
    v = Vigil(["run"] + sum([["-r", r] for r in rules], []))
    try:
        result = action()
        time.sleep(1.0)
    finally:
        rc = v.stop()
    check(rc == 0, "vigil run exit code %s: %s" % (rc, v.stderr()[-400:]))
    return v.lines(), v.stderr(), result


def capture(syscalls, action):
    v = Vigil(["capture", "-s", syscalls])
    try:
        result = action()
        time.sleep(0.5)
    finally:
        v.stop()
    return v.lines(), v.stderr(), result


def run_helper(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "%s failed: %s %s" % (args, r.stdout, r.stderr))
    return r


def test_fallback_is_reported():
    """The capture says whether the LSM programs run, in the log and the
    features; capture.lsm: on fails at start-up when they cannot."""
    on, line = lsm_feature()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("capture:\n  lsm: on\nmetrics:\n  listen: 127.0.0.1:0\n")
    cfg.close()
    try:
        r = subprocess.run([VIGIL, "run", "-c", cfg.name, "-d", "1"], capture_output=True,
                           text=True, timeout=60)
    finally:
        os.unlink(cfg.name)
    if on:
        check(r.returncode == 0, "capture.lsm: on failed with bpf_lsm: %s" % r.stderr[-300:])
    else:
        check(r.returncode != 0 and "capture.lsm is on" in r.stderr,
              "capture.lsm: on started without the LSM programs: %s" % r.stderr[-300:])
    v = Vigil(["run", "-r", VIGIL_RULES])
    try:
        err = v.stderr()
    finally:
        v.stop()
    check(("bpf_lsm=%d" % on) in err, "the start-up log does not say bpf_lsm=%d: %s" % (on, err[-400:]))
    if not on:
        check("lacks bpf_lsm" in err, "no warning about the missing LSM programs: %s" % err[-400:])


def test_io_uring_setup_rule():
    uring = helper("uring_ops")
    d = tempfile.mkdtemp(prefix="vigil-iou-")
    benign = os.path.join(d, "fio")  # a name of vigil_io_uring_users
    shutil.copy(uring, benign)
    try:
        alerts, _, _ = run_rules([VIGIL_RULES], lambda: (run_helper(uring, "setup"),
                                                          run_helper(benign, "setup")))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    mine = [a for a in alerts if a["rule"] == "io_uring ring set up by an unexpected program"]
    cmd = lambda a: a["output_fields"].get("proc.cmdline", "")
    check(any(cmd(a).startswith("uring_ops ") for a in mine),
          "no io_uring alert for uring_ops: %s" % mine)
    check(not any(cmd(a).startswith("fio ") for a in mine),
          "a listed io_uring user was alerted: %s" % mine)


def test_ordinary_open_is_one_event():
    """The LSM file_open hook must stay silent inside open/openat."""
    path = "/tmp/vigil-iou-once-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    def act():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    try:
        evs, _, _ = capture("openat,open", act)
    finally:
        os.unlink(path)
    mine = [e for e in evs if e.get("decoded", {}).get("path") == path]
    check(len(mine) == 1, "%d events for one open of %s: %s" % (len(mine), path, mine))


def test_io_uring_open_shadow_alerts():
    need_lsm()
    uring = helper("uring_ops")
    for rules, want in (([os.path.join(FALCO, "falco_rules.yaml")], "Read sensitive file untrusted"),
                        ([VIGIL_RULES], "Sensitive file read by an untrusted program")):
        alerts, _, _ = run_rules(rules, lambda: run_helper(uring, "open", "/etc/shadow"))
        hit = [a for a in alerts if a["rule"] == want]
        check(hit, "%s did not fire on an io_uring open: %s" % (want, [a["rule"] for a in alerts]))
        f = hit[0]["output_fields"]
        check(f.get("fd.name") == "/etc/shadow", "fd.name %s" % f.get("fd.name"))
        check(f.get("proc.name") == "uring_ops", "proc.name %s" % f.get("proc.name"))
    evs, _, _ = capture("openat", lambda: run_helper(uring, "open", "/etc/shadow"))
    mine = [e for e in evs if e.get("decoded", {}).get("path") == "/etc/shadow" and
            e.get("comm") == "uring_ops"]
    check(len(mine) == 1, "%d io_uring openat events: %s" % (len(mine), mine))
    check(mine[0].get("flags", 0) & 0x10, "not flagged io_uring: %s" % mine[0])


def test_io_uring_connect():
    need_lsm()
    uring = helper("uring_ops")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    try:
        evs, _, _ = capture("connect", lambda: run_helper(uring, "connect", str(port)))
    finally:
        srv.close()
    mine = [e for e in evs if e.get("comm") == "uring_ops" and e.get("type") == "connect"]
    check(len(mine) == 1, "%d io_uring connect events: %s" % (len(mine), mine))
    check(str(port) in str(mine[0]), "the port %d is not in %s" % (port, mine[0]))


def test_io_uring_open_in_container():
    need_lsm()
    c = Container()
    shutil.copy(helper("uring_ops"), os.path.join(c.dir, "rootfs", "bin", "uring_ops"))
    marker = "/etc/vigil-iou-%d" % os.getpid()
    with open(os.path.join(c.dir, "rootfs") + marker, "w") as f:
        f.write("x\n")
    try:
        evs, _, _ = capture("openat", lambda: c.run(["/bin/uring_ops", "open", marker]))
    finally:
        c.close()
    mine = [e for e in evs if e.get("decoded", {}).get("path") == marker]
    check(len(mine) == 1, "%d events for the container's io_uring open: %s" % (len(mine), mine))
    check(mine[0].get("decoded", {}).get("container_id") == c.id[:12] or c.id[:12] in str(mine[0]),
          "container id %s not in %s" % (c.id[:12], mine[0]))


if __name__ == "__main__":
    main([test_fallback_is_reported, test_io_uring_setup_rule, test_ordinary_open_is_one_event,
          test_io_uring_open_shadow_alerts, test_io_uring_connect, test_io_uring_open_in_container])
