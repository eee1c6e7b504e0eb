"""Shared tooling for vigil's live tests (root, real eBPF, real runc).

A test starts `vigil capture` (or `vigil run`) as a child process, waits
until the probes are attached, performs actions, stops vigil and asserts
on the JSON lines it printed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

VIGIL = os.environ.get("VIGIL_BIN", "build/vigil")
BUILD = os.environ.get("VIGIL_BUILD", os.path.dirname(VIGIL))
READY_MARK = "capture started"


class Failure(Exception):
    pass


class Skipped(Exception):
    """The test cannot run on this machine (the reason says why, and where
    the feature is proven instead); counted apart, never as a pass."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def skip(reason):
    raise Skipped(reason)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Vigil:
    """vigil as a child process; .lines() gives the parsed JSON it printed."""

    def __init__(self, args, ready_timeout=30):
        self.out = tempfile.NamedTemporaryFile(prefix="vigil-out-", delete=False)
        self.err = tempfile.NamedTemporaryFile(prefix="vigil-err-", delete=False)
        self.cfg = None
        if args and args[0] == "run" and "-c" not in args:
            # the default metrics port may be taken on a shared machine
            self.cfg = tempfile.NamedTemporaryFile("w", prefix="vigil-cfg-", suffix=".yaml",
                                                   delete=False)
            self.cfg.write("metrics:\n  listen: 127.0.0.1:0\n")
            # VIGIL_LIVE_PREFILTER=on|off: the suite under capture.prefilter
            # (run it both ways: the same tests must pass)
            pf = os.environ.get("VIGIL_LIVE_PREFILTER")
            if pf:
                self.cfg.write("capture:\n  prefilter: %s\n" % pf)
            self.cfg.close()
            args = args[:1] + ["-c", self.cfg.name] + args[1:]
        env = dict(os.environ, VIGIL_LOG_LEVEL="info")
        self.proc = subprocess.Popen([VIGIL] + args, stdout=self.out, stderr=self.err, env=env)
        deadline = time.time() + ready_timeout
        while time.time() < deadline:
            if READY_MARK in self.stderr():
                return
            if self.proc.poll() is not None:
                raise Failure("vigil exited early (%s): %s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        self.stop()
        raise Failure("vigil not ready after %ss: %s" % (ready_timeout, self.stderr()))

    def stderr(self):
        with open(self.err.name, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGINT, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("vigil did not stop within %ss" % timeout)
        return self.proc.returncode

    def lines(self):
        out = []
        with open(self.out.name, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
        return out

    def metrics_port(self):
        """The port `vigil run` serves metrics on (from its log)."""
        m = re.search(r"metrics on \S+ \(port (\d+)\)", self.stderr())
        check(m, "no metrics port in the log: %s" % self.stderr()[-400:])
        return int(m.group(1))

    def close(self):
        self.stop()
        for f in [self.out, self.err] + ([self.cfg] if self.cfg else []):
            try:
                os.unlink(f.name)
            except OSError:
                pass


def helper(name):
    path = os.path.join(BUILD, name)
    check(os.access(path, os.X_OK), "helper %s not built at %s" % (name, path))
    return path


class Container:
    """A runc container from a busybox rootfs, in a kubelet-shaped cgroup:
    /kubepods/besteffort/pod<uid>/<64-hex id>."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-runc-")
        self.id = uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex
        self.pod_uid = str(uuid.uuid4())
        self.name = "vigil-" + self.id[:12]
        root = os.path.join(self.dir, "rootfs")
        os.makedirs(os.path.join(root, "bin"))
        for d in ("proc", "dev", "sys", "tmp", "etc"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        busybox = shutil.which("busybox") or "/bin/busybox"
        shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
        for app in ("sh", "cat", "ls", "echo", "sleep", "id", "true", "touch"):
            os.symlink("busybox", os.path.join(root, "bin", app))
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")

    def run(self, argv, timeout=30, edit=None):
        """Runs argv in a fresh container and waits for it; returns stdout.
        edit(spec), when given, changes the OCI spec (a dict) before the run."""
        subprocess.run(["runc", "spec", "-b", self.dir], check=True)
        cfg_path = os.path.join(self.dir, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = argv
        cfg["root"]["readonly"] = False
        cfg["linux"]["cgroupsPath"] = "/kubepods/besteffort/pod%s/%s" % (self.pod_uid, self.id)
        if edit:
            edit(cfg)
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        r = subprocess.run(["runc", "run", "-b", self.dir, self.name], capture_output=True,
                           timeout=timeout, text=True)
        subprocess.run(["runc", "delete", "-f", self.name], capture_output=True)
        os.unlink(cfg_path)
        check(r.returncode == 0, "runc run failed (%d): %s" % (r.returncode, r.stderr))
        return r.stdout

    def close(self):
        subprocess.run(["runc", "delete", "-f", self.name], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def main(tests):
    """Runs test functions in order; prints PASS, FAIL or SKIP (a test that
    called skip()) for each and the three counts; exits non-zero on a
    failure.  Names on the command line run only those tests (one while
    debugging)."""
    if os.geteuid() != 0:
        print("live tests need root", file=sys.stderr)
        sys.exit(1)
    only = set(sys.argv[1:])
    unknown = only - {t.__name__ for t in tests}
    if unknown:
        print("no such test: %s" % " ".join(sorted(unknown)), file=sys.stderr)
        sys.exit(2)
    if only:
        tests = [t for t in tests if t.__name__ in only]
    failed = skipped = 0
    for t in tests:
        start = time.time()
        try:
            t()
            print("PASS %-40s %.1fs" % (t.__name__, time.time() - start), flush=True)
        except Skipped as e:
            skipped += 1
            print("SKIP %-40s %s" % (t.__name__, e), flush=True)
        except Exception as e:  # a test's own assertion or anything unexpected
            failed += 1
            print("FAIL %-40s %s: %s" % (t.__name__, type(e).__name__, e), flush=True)
    print("%d passed, %d failed, %d skipped" % (len(tests) - failed - skipped, failed, skipped))
    sys.exit(1 if failed else 0)
