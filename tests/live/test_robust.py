#!/usr/bin/env python3
"""Live tests of `vigil run` when things go wrong: SIGTERM stops it within
outputs.drain_timeout_ms even when stdout is a pipe nobody reads or a rule
compile is running, and alerts left behind are counted; the start fails
closed on broken rule sources; a broken SIGHUP reload is counted; the
metrics listener takes a host name."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from livelib import READY_MARK, VIGIL, Vigil, check, main

FALCO = os.environ.get("VIGIL_FALCO_RULES",
                       os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "../../../shared/falco-rules"))
FALCO_FILES = ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def http_get(port, path, host="127.0.0.1"):
    """(status, body) of a GET on the agent's endpoint."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host, port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(port, name, labels):
    """The sum of name's series carrying every label in labels."""
    total = 0.0
    for line in http_get(port, "/metrics")[1].splitlines():
        if line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        series, _, rest = key.partition("{")
        have = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if series == name and all(have.get(k) == v for k, v in labels.items()):
            total += float(val)
    return total


def wait_for(what, cond, timeout=20, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    check(False, "timed out waiting for %s%s" % (what, ("; log: " + log()[-600:]) if log else ""))


def marker_rule(d, name="Robust marker opened"):
    return ("- rule: %s\n  desc: test\n  condition: evt.type in (open, openat) and evt.dir = < "
            "and fd.name startswith %s/mark\n  output: opened %%fd.name by %%proc.name "
            "(%s)\n  priority: NOTICE\n" % (name, d, "x" * 300))


def opener(d):
    """A process opening marker files in d as fast as it can."""
    return subprocess.Popen(["python3", "-c",
                             "import os,sys\nd=sys.argv[1]\ni=0\nwhile True:\n"
                             "  open(os.path.join(d,'mark-%d'%(i%200)),'w').close()\n  i+=1\n", d])


def wait_ready(proc, errpath, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(errpath, errors="replace") as f:
            text = f.read()
        if READY_MARK in text:
            return text
        check(proc.poll() is None, "vigil exited early (%s): %s" % (proc.returncode, text[-600:]))
        time.sleep(0.05)
    check(False, "vigil not ready")


def log_port(text):
    m = re.search(r"metrics on \S+ \(port (\d+)\)", text)
    check(m, "no metrics port in the log: %s" % text[-400:])
    return int(m.group(1))


# ---- a syscall flood does not hold off the periodic work --------------------

def test_flood_does_not_hold_off_periodic_work():
    """An attacker keeps the ring buffer from ever emptying (an open/close
    loop, faster than vigil reads).  vigil must still do its periodic work
    while the flood lasts: announce the kernel's drops (log line and
    'events dropped' alert) within seconds.  Before: one ring batch lasted
    as long as the flood, and the drops were said only after it ended, with
    the held alerts, metadata and metrics that wait on the same work."""
    d = tempfile.mkdtemp(prefix="vigil-flood-")
    helper = os.path.join(d, "vgattack")
    subprocess.run(["gcc", "-O1", "-o", helper,
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "vgattack.c")],
                   check=True)
    target = os.path.join(d, "target")
    write(target, "x")
    rules, cfg, err = (os.path.join(d, n) for n in ("rules.yaml", "vigil.yaml", "stderr"))
    # every open of the flood alerts: vigil reads slower than one CPU
    # writes, and a big ring that never empties (a small one does, whenever
    # the flood is off its CPU for a few ms)
    write(rules, marker_rule(d).replace("/mark", "/target"))
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\ncapture:\n  ringbuf_bytes: 67108864\n")
    errf = open(err, "w")  # millions of alerts: stdout is not kept
    proc = subprocess.Popen([VIGIL, "run", "-c", cfg, "-r", rules],
                            stdout=subprocess.DEVNULL, stderr=errf,
                            env=dict(os.environ, VIGIL_LOG_LEVEL="info"))
    floods = []
    try:
        port = log_port(wait_ready(proc, err))
        secs = 40
        t0 = time.time()
        floods = [subprocess.Popen([helper, "flood", target, str(secs)])]
        wait_for("kernel drops under the flood",
                 lambda: metric(port, "vigil_events_dropped_total", {}) > 0, timeout=15)

        def announced():
            with open(err) as f:
                return "kernel ring buffer full" in f.read()
        wait_for("the drops announced while the flood lasts", announced, timeout=15,
                 log=lambda: open(err).read())
        took = time.time() - t0
        check(all(f.poll() is None for f in floods) and took < secs - 5,
              "the flood ended before the drops were announced (%.1f s)" % took)
    finally:
        for f in floods:
            f.kill()
            f.wait()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errf.close()


# ---- SIGTERM within the drain deadline -------------------------------------

def test_sigterm_with_stdout_unread():
    """stdout is a pipe nobody reads: the stdout sink is stuck in its write,
    its queue fills.  SIGTERM must stop vigil within drain_timeout_ms and a
    little, and count what it could not deliver (before: it never exited)."""
    drain_ms = 2000
    d = tempfile.mkdtemp(prefix="vigil-unread-")
    rules, cfg, err = (os.path.join(d, n) for n in ("rules.yaml", "vigil.yaml", "stderr"))
    write(rules, marker_rule(d))
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\noutputs:\n  queue_length: 2000\n"
               "  drain_timeout_ms: %d\n" % drain_ms)
    errf = open(err, "w")
    proc = subprocess.Popen([VIGIL, "run", "-c", cfg, "-r", rules], stdout=subprocess.PIPE,
                            stderr=errf, env=dict(os.environ, VIGIL_LOG_LEVEL="info"))
    load = None
    try:
        port = log_port(wait_ready(proc, err))
        load = opener(d)

        def log():
            with open(err, errors="replace") as f:
                return f.read()
        # the pipe (64 KiB) and the sink's buffer are full, then its queue
        wait_for("the stdout queue to overflow", lambda: metric(
            port, "vigil_events_dropped_total", {"stage": "alert_queue"}) > 0,
            timeout=30, log=log)
        check(metric(port, "vigil_alert_failures_total", {"sink": "stdout", "reason": "queue_full"})
              > 0, "the queue's drops not counted with their reason")
        time.sleep(0.5)
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(drain_ms / 1000 + 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            check(False, "vigil did not stop %.0f s after SIGTERM: %s" % (
                time.time() - t0, log()[-600:]))
        took = time.time() - t0
        load.kill()
        load.wait()
        text = log()
        check(took < drain_ms / 1000 + 2, "took %.1f s to stop (drain %d ms)" % (took, drain_ms))
        check(rc == 0, "exit code %s: %s" % (rc, text[-400:]))
        m = re.search(r"(\d+) alerts not delivered at shutdown", text)
        check(m and int(m.group(1)) > 0, "no count of undelivered alerts: %s" % text[-600:])
        lost = int(m.group(1))
        m = re.search(r"stopped after (\d+) alerts \((\d+) deliveries, (\d+) failed\)", text)
        check(m, "no summary: %s" % text[-400:])
        matched, sent, failed = (int(x) for x in m.groups())
        check(failed >= lost, "failed %d < lost %d" % (failed, lost))
        # every alert is either delivered or counted (plus the internal
        # alerts about the drops, which are not rule matches)
        check(sent + failed >= matched, "matched %d, sent %d, failed %d" % (matched, sent, failed))
        # whole lines (one may be cut at the deadline: counted as failed)
        lines = proc.stdout.read().count(b"\n")
        check(0 < lines <= sent, "%d lines in the pipe, %d sent" % (lines, sent))
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()
        subprocess.run(["rm", "-rf", d])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_with_stderr_unread():
    """stderr is a pipe nobody reads (4 KiB, full from the start): a log
    line must not block the agent.  It starts and alerts, SIGTERM stops it
    within drain_timeout_ms and 2 s, and the lines it could not write are
    counted (before: the main thread blocked in the logger's first write,
    vigil never got ready and never exited)."""
    import fcntl
    drain_ms = 2000
    d = tempfile.mkdtemp(prefix="vigil-errunread-")
    rules, cfg = (os.path.join(d, n) for n in ("rules.yaml", "vigil.yaml"))
    port = free_port()
    write(rules, marker_rule(d))
    write(cfg, "metrics:\n  listen: 127.0.0.1:%d\noutputs:\n  drain_timeout_ms: %d\n"
          % (port, drain_ms))
    rfd, wfd = os.pipe()
    fcntl.fcntl(wfd, 1031, 4096)  # F_SETPIPE_SZ: one page
    # full before vigil starts: its first log line finds no room
    filler = b"2026-01-01T00:00:00.000000000Z vigil info: filler" + b"." * 13 + b"\n"
    os.set_blocking(wfd, False)
    try:
        while True:
            os.write(wfd, filler)
    except BlockingIOError:
        pass
    os.set_blocking(wfd, True)
    proc = subprocess.Popen([VIGIL, "run", "-c", cfg, "-r", rules],
                            stdout=subprocess.DEVNULL, stderr=wfd,
                            env=dict(os.environ, VIGIL_LOG_LEVEL="debug"))
    os.close(wfd)
    load = None
    try:
        def ready():
            try:
                return http_get(port, "/readyz")[0] == 200
            except OSError:
                return False
        wait_for("vigil ready with its stderr full", ready, timeout=60)
        load = opener(d)
        wait_for("alerts", lambda: metric(port, "vigil_rule_matches_total", {}) > 100)
        wait_for("dropped log lines counted",
                 lambda: metric(port, "vigil_log_lines_dropped_total", {}) > 0, timeout=30)
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(drain_ms / 1000 + 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            check(False, "vigil did not stop %.0f s after SIGTERM" % (time.time() - t0))
        took = time.time() - t0
        check(took < drain_ms / 1000 + 2, "took %.1f s to stop (drain %d ms)" % (took, drain_ms))
        check(rc == 0, "exit code %s" % rc)
        # what reached the pipe is whole lines
        os.set_blocking(rfd, False)
        data = b""
        try:
            while True:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    break
                data += chunk
        except BlockingIOError:
            pass
        check(data and data.endswith(b"\n"), "stderr: %r" % data[-200:])
        for line in data.splitlines():
            check(re.match(rb"\d{4}-\d\d-\d\dT\S+Z vigil (error|warning|info|debug): ", line),
                  "a cut or mixed line on stderr: %r" % line[:200])
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(rfd)
        subprocess.run(["rm", "-rf", d])


PER_FILE = 25  # copies of the official rules per file: under the loader's 16 MiB


def big_rules(dirpath, start, end):
    """Into dirpath: the three official Falco files (links, with start 0),
    then copies start..end-1 of their rules under other names, PER_FILE
    copies a file: ordinary rules, many of them, so that compiling takes
    seconds (no expansion bomb)."""
    import yaml
    rules = []
    for i, name in enumerate(FALCO_FILES):
        if start == 0:
            os.symlink(os.path.abspath(os.path.join(FALCO, name)),
                       os.path.join(dirpath, "%02d-%s" % (i, name)))
        with open(os.path.join(FALCO, name)) as f:
            rules += [r for r in yaml.safe_load(f)
                      if "rule" in r and "condition" in r and "output" in r]
    for first in range(start, end, PER_FILE):
        with open(os.path.join(dirpath, "50-copies-%04d.yaml" % (first // PER_FILE)), "w") as o:
            for n in range(first, min(first + PER_FILE, end)):
                for r in rules:
                    o.write("- rule: %s\n  desc: copy\n  condition: %s\n  output: %s\n"
                            "  priority: %s\n" % (json.dumps("%s copy %d" % (r["rule"], n)),
                                                   json.dumps(r["condition"]),
                                                   json.dumps(r["output"]),
                                                   r.get("priority", "NOTICE")))


BIG = {}


def big_set(want_s=4.5, max_copies=1500):
    """(the big set's files, how long `vigil validate` takes on them): as
    many copies as make the compile last about want_s on this machine (at
    most max_copies), made once for the tests that need it; removed at
    exit."""
    if not BIG:
        import atexit
        d = tempfile.mkdtemp(prefix="vigil-big-")
        atexit.register(subprocess.run, ["rm", "-rf", d])
        copies, took = 0, 0.0
        goal = 200
        while True:
            big_rules(d, copies, goal)
            copies = goal
            paths = sorted(os.path.join(d, n) for n in os.listdir(d))
            t0 = time.time()
            r = subprocess.run([VIGIL, "validate"] + paths, capture_output=True, text=True)
            took = time.time() - t0
            check(r.returncode == 0, "the big set does not load: %s" % r.stderr[-400:])
            if took >= want_s * 0.8 or copies >= max_copies:
                break
            goal = min(max_copies, -(-int(copies * want_s / max(took, 0.1)) // PER_FILE) *
                       PER_FILE)
        BIG.update(paths=paths, compile_s=took, copies=copies)
    check(BIG["compile_s"] > 3.5, "the big set (%d copies) compiles in %.1f s: too fast to "
          "test" % (BIG["copies"], BIG["compile_s"]))
    return BIG["paths"], BIG["compile_s"]


def test_sigterm_during_slow_reload():
    """SIGHUP starts a compile of a big rule set; SIGTERM during it stops
    vigil at once (before: it waited for the compile to end)."""
    drain_ms = 500
    paths, compile_s = big_set()
    top = tempfile.mkdtemp(prefix="vigil-slow-")
    rules = os.path.join(top, "rules")
    os.mkdir(rules)
    write(os.path.join(rules, "99-test.yaml"), marker_rule(top))
    cfg = os.path.join(top, "vigil.yaml")
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\noutputs:\n  drain_timeout_ms: %d\n" % drain_ms)
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        for p in paths:
            os.symlink(p, os.path.join(rules, os.path.basename(p)))
        v.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)  # the debounce (0.2 s), then the compile runs
        check(v.proc.poll() is None, "vigil exited: %s" % v.stderr()[-400:])
        check("rules rebuilt" not in v.stderr(), "the compile ended already")
        t0 = time.time()
        v.proc.send_signal(signal.SIGTERM)
        try:
            rc = v.proc.wait(compile_s * 3 + 10)
        except subprocess.TimeoutExpired:
            check(False, "vigil did not stop after SIGTERM")
        took = time.time() - t0
        check(took < drain_ms / 1000 + 2,
              "took %.1f s to stop (drain %d ms, the compile takes %.1f s)" %
              (took, drain_ms, compile_s))
        check(rc == 0, "exit code %s: %s" % (rc, v.stderr()[-400:]))
        check("capture stopped" in v.stderr(), "no orderly stop: %s" % v.stderr()[-400:])
    finally:
        v.close()
        subprocess.run(["rm", "-rf", top])


def test_sigterm_during_first_compile():
    """SIGTERM while the start compiles a big rule set: vigil stops at once
    (before: it compiled to the end, then stopped)."""
    drain_ms = 500
    paths, compile_s = big_set()
    d = tempfile.mkdtemp(prefix="vigil-first-")
    cfg, err = os.path.join(d, "vigil.yaml"), os.path.join(d, "stderr")
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\noutputs:\n  drain_timeout_ms: %d\n" % drain_ms)
    args = []
    for p in paths:
        args += ["-r", p]
    errf = open(err, "w")
    proc = subprocess.Popen([VIGIL, "run", "-c", cfg] + args, stdout=subprocess.DEVNULL,
                            stderr=errf, env=dict(os.environ, VIGIL_LOG_LEVEL="info"))

    def log():
        with open(err, errors="replace") as f:
            return f.read()
    try:
        wait_for("the probes (the compile comes next)", lambda: "capture on kernel" in log(),
                 timeout=30, log=log)
        time.sleep(1.0)
        check(proc.poll() is None, "vigil exited: %s" % log()[-400:])
        check(READY_MARK not in log() and "loaded" not in log(), "the compile ended already")
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(compile_s * 3 + 10)
        except subprocess.TimeoutExpired:
            check(False, "vigil did not stop after SIGTERM")
        took = time.time() - t0
        check(took < drain_ms / 1000 + 2,
              "took %.1f s to stop (drain %d ms, the compile takes %.1f s)" %
              (took, drain_ms, compile_s))
        check(rc == 0, "exit code %s: %s" % (rc, log()[-400:]))
        check("stopped before the rules were loaded" in log(), "log: %s" % log()[-400:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()
        subprocess.run(["rm", "-rf", d])


# ---- the start fails closed ----------------------------------------------

def run_fails(args, want, cfg_extra=""):
    d = tempfile.mkdtemp(prefix="vigil-closed-")
    cfg = os.path.join(d, "vigil.yaml")
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\n" + cfg_extra)
    try:
        r = subprocess.run([VIGIL, "run", "-c", cfg] + args, capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, VIGIL_LOG_LEVEL="info"))
    finally:
        subprocess.run(["rm", "-rf", d])
    check(r.returncode != 0, "vigil run started (%d) with %s: %s" % (r.returncode, args,
                                                                     r.stderr[-400:]))
    check(READY_MARK not in r.stderr, "the capture started: %s" % r.stderr[-400:])
    for w in want:
        check(w in r.stderr, "%r not in: %s" % (w, r.stderr[-600:]))
    return r.stderr


def test_start_refuses_broken_rule_files():
    """A YAML error, a NUL byte, an unknown key, a path that does not exist:
    vigil run exits non-zero with the place (before: it ran with 0 rules and
    /readyz said 200)."""
    d = tempfile.mkdtemp(prefix="vigil-broken-")
    try:
        good = os.path.join(d, "good.yaml")
        write(good, marker_rule(d))
        cases = {
            "yaml.yaml": ("- rule: a\n  desc: [x\n", ["yaml.yaml:3:1: error: invalid YAML"]),
            "nul.yaml": ("- rule: a\n  desc: x\n  condition: evt.type = open\n  output: x\n"
                         "  priority: INFO\n\0\n", ["nul.yaml:", "control characters"]),
            "unknown.yaml": ("- rule: a\n  desc: x\n  condition: evt.type = open\n  output: x\n"
                             "  priority: INFO\n  bogus: 1\n",
                             ["unknown.yaml:6:3: error: unknown key 'bogus'"]),
        }
        for name, (text, want) in cases.items():
            p = os.path.join(d, name)
            with open(p, "w", newline="") as f:
                f.write(text)
            run_fails(["-r", good, "-r", p], want + ["not starting"])
        missing = os.path.join(d, "nowhere.yaml")
        run_fails(["-r", good, "-r", missing], [missing, "No such file or directory"])
        # rules_dirs: one entry that exists, one that does not
        run_fails([], [missing, "No such file or directory"],
                  "rules_dirs: [%s, %s]\n" % (good, missing))
    finally:
        subprocess.run(["rm", "-rf", d])


def test_start_refuses_no_rules():
    """No enabled rule and no rule objects to wait for: nothing to detect,
    vigil refuses to start."""
    d = tempfile.mkdtemp(prefix="vigil-none-")
    try:
        off = os.path.join(d, "off.yaml")
        write(off, marker_rule(d) + "  enabled: false\n")
        run_fails(["-r", off], ["no enabled rule in the command line", "not starting"])
        empty = os.path.join(d, "empty")
        os.mkdir(empty)
        run_fails(["-r", empty], ["no enabled rule"])
    finally:
        subprocess.run(["rm", "-rf", d])


def test_broken_sighup_is_counted():
    """SIGHUP with a broken file: the old rules keep running and ready,
    vigil_rules_reloads_total{result="failure"} counts it; fixed, success."""
    d = tempfile.mkdtemp(prefix="vigil-hupfail-")
    rules = os.path.join(d, "rules.yaml")
    write(rules, marker_rule(d, "Old rule"))
    v = Vigil(["run", "-r", rules])
    try:
        port = v.metrics_port()
        check(http_get(port, "/readyz")[0] == 200, "not ready at start")
        write(rules, "- rule: broken\n  condition: fd.nmae = x\n")
        v.proc.send_signal(signal.SIGHUP)
        wait_for("the failed reload counted", lambda: metric(
            port, "vigil_rules_reloads_total", {"result": "failure"}) == 1, log=v.stderr)
        check(http_get(port, "/readyz")[0] == 200, "not ready after a failed reload")
        open(os.path.join(d, "mark-1"), "w").close()
        wait_for("the old rule still firing", lambda: any(
            a["rule"] == "Old rule" for a in v.lines()), log=v.stderr)
        write(rules, marker_rule(d, "New rule"))
        v.proc.send_signal(signal.SIGHUP)
        wait_for("the good reload counted", lambda: metric(
            port, "vigil_rules_reloads_total", {"result": "success"}) == 1, log=v.stderr)
        check(metric(port, "vigil_rules_reloads_total", {"result": "failure"}) == 1,
              "failure counted again")
        check(v.stop() == 0, "exit code")
    finally:
        v.close()
        subprocess.run(["rm", "-rf", d])


def test_metrics_listen_host_name():
    """metrics.listen: "localhost:PORT" listens there, and the log says on
    which address (before: taken for an interface name, nothing listened
    while the log said it did)."""
    from livelib import free_port
    d = tempfile.mkdtemp(prefix="vigil-listen-")
    rules, cfg = os.path.join(d, "rules.yaml"), os.path.join(d, "vigil.yaml")
    write(rules, marker_rule(d))
    port = free_port()
    write(cfg, 'metrics:\n  listen: "localhost:%d"\n' % port)
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        m = re.search(r"metrics on (\S+) \(port (\d+)\)", v.stderr())
        check(m, "no metrics line: %s" % v.stderr()[-400:])
        check(m.group(1) in ("127.0.0.1:%d" % port, "[::1]:%d" % port),
              "says it listens on %s" % m.group(1))
        host = "127.0.0.1" if m.group(1).startswith("127.") else "[::1]"
        status, body = http_get(port, "/healthz", host=host)
        check(status == 200 and body == "ok\n", "healthz %s %r" % (status, body))
        status, body = http_get(port, "/readyz", host=host)
        check(status == 200, "readyz %s %r" % (status, body))
        s = socket.create_connection(("localhost", port), timeout=5)
        s.close()
    finally:
        v.close()
        subprocess.run(["rm", "-rf", d])


def test_record_file_is_private():
    """vigil record writes every process's environment: the file is 0600 and
    a new one, whatever was planted at the path (a world-readable file held
    open, a symbolic link to another file)."""
    d = tempfile.mkdtemp(prefix="vigil-rec-")
    os.chmod(d, 0o1777)  # like /tmp
    out = os.path.join(d, "rec.jsonl")
    try:
        planted = os.open(out, os.O_RDWR | os.O_CREAT, 0o666)
        os.fchmod(planted, 0o666)
        old = os.umask(0)
        try:
            r = subprocess.run([VIGIL, "record", "-o", out, "-d", "1", "-s", "openat"],
                               capture_output=True, text=True, timeout=60)
        finally:
            os.umask(old)
        check(r.returncode == 0, "record exit %d: %s" % (r.returncode, r.stderr[-400:]))
        st = os.stat(out)
        check(st.st_mode & 0o7777 == 0o600, "mode %o" % (st.st_mode & 0o7777))
        check(st.st_size > 0 and '"vigil_capture"' in open(out).readline(), "no header")
        check(os.pread(planted, 64, 0) == b"", "the planted file got the recording")
        os.close(planted)
        os.unlink(out)
        victim = os.path.join(d, "victim")
        write(victim, "keep\n")
        os.symlink(victim, out)
        r = subprocess.run([VIGIL, "record", "-o", out, "-d", "1"], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode != 0 and "symbolic link" in r.stderr, "record through a link: %d %s"
              % (r.returncode, r.stderr[-300:]))
        check(open(victim).read() == "keep\n", "the link's target was written")
    finally:
        subprocess.run(["rm", "-rf", d])


# ---- regex comparisons not decided are counted -------------------------------

def test_regex_undecided_counted():
    """A value over the regex matcher's 8 KiB cap is not matched: the
    comparison counts as true, and vigil_regex_undecided_total says how
    often.  No syscall field renders that long; an audit event's user name
    can: posted to the audit receiver of vigil run."""
    import ssl
    d = tempfile.mkdtemp(prefix="vigil-regex-")
    rules, cfg, err = (os.path.join(d, n) for n in ("rules.yaml", "vigil.yaml", "stderr"))
    crt, key, tok = (os.path.join(d, n) for n in ("c.pem", "k.pem", "token"))
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost"], capture_output=True, text=True)
    check(r.returncode == 0, "openssl: %s" % r.stderr[-300:])
    write(tok, "t0ken\n")
    write(rules, marker_rule(d) +
          "- rule: Long user\n  desc: test\n  source: k8s_audit\n"
          "  condition: ka.user.name regex \"^zz+$\"\n  output: long user\n"
          "  priority: NOTICE\n")
    write(cfg, "metrics:\n  listen: 127.0.0.1:0\naudit:\n  enabled: true\n"
               "  listen: 127.0.0.1:0\n  tls_cert: %s\n  tls_key: %s\n  token_file: %s\n"
               % (crt, key, tok))
    errf = open(err, "w")
    proc = subprocess.Popen([VIGIL, "run", "-c", cfg, "-r", rules], stdout=subprocess.PIPE,
                            stderr=errf, env=dict(os.environ, VIGIL_LOG_LEVEL="info"))
    try:
        text = wait_ready(proc, err)
        port = log_port(text)
        m = re.search(r"audit webhook receiver on port (\d+)", text)
        check(m, "no audit port in the log: %s" % text[-400:])
        aport = int(m.group(1))
        check(metric(port, "vigil_regex_undecided_total", {}) == 0, "undecided before any")

        def post(user):
            body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                               "items": [{"kind": "Event", "apiVersion": "audit.k8s.io/v1",
                                          "level": "Metadata", "auditID": "a1",
                                          "stage": "ResponseComplete", "verb": "get",
                                          "requestURI": "/api/v1/pods",
                                          "user": {"username": user}}]}).encode()
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", aport), timeout=10) as raw:
                with ctx.wrap_socket(raw) as c:
                    c.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer t0ken\r\nContent-Type: application/json"
                              b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                              % len(body) + body)
                    answer = c.recv(4096)
            check(answer.startswith(b"HTTP/1.1 200"), "audit POST: %r" % answer[:200])
        post("short-user")  # decided: no match, nothing counted
        time.sleep(1)
        check(metric(port, "vigil_regex_undecided_total", {}) == 0, "a short value counted")
        post("a" * 9000)  # over the cap: not decided, counted (and the rule fires)
        wait_for("vigil_regex_undecided_total to move",
                 lambda: metric(port, "vigil_regex_undecided_total", {}) == 1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        out = proc.stdout.read().decode(errors="replace")
        check('"rule":"Long user"' in out, "the rule did not fire: %s"
              % out[-400:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main([test_sigterm_with_stdout_unread, test_sigterm_with_stderr_unread,
          test_sigterm_during_slow_reload,
          test_sigterm_during_first_compile,
          test_start_refuses_broken_rule_files, test_start_refuses_no_rules,
          test_broken_sighup_is_counted, test_metrics_listen_host_name,
          test_record_file_is_private, test_regex_undecided_counted,
          test_flood_does_not_hold_off_periodic_work])
