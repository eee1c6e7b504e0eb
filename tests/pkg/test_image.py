#!/usr/bin/env python3
"""The container image, built and run the way the DaemonSet runs it.

1. The Dockerfile builds with buildah (runc, no daemon) from a Debian base
   image made locally with debootstrap (tests/pkg/baseimage.sh) and tagged
   with the Dockerfile's FROM name.
2. The image's size and the runtime stage's package list are printed; the
   image must stay under 100 MB and hold no shell.
3. `vigil version` runs in the image (a runc container on the image's
   filesystem) and prints this commit.
4. The agent runs from the image in a runc container shaped like the chart's
   DaemonSet: the host's /proc read-only at /host/proc, the host's cgroup2
   mount at /host/sys/fs/cgroup, /sys/kernel/btf, the image's own
   /etc/vigil/vigil.yaml; once in privileged mode (all capabilities, no
   masked paths) and once in the chart's least-privilege mode (exactly the
   capabilities of charts/vigil/values.yaml, the default masked and
   read-only paths).  /healthz, /readyz and /metrics answer on :8765 in the
   container's network namespace.  A shell started with a controlling terminal in a
   separate busybox runc container must raise "Interactive shell in a
   container" with that container's id, and a process seeded from the
   host's /proc must carry its host pid.

Needs root, buildah, runc, busybox-static (scripts/deps.sh).  Environment:
  VIGIL_IMAGE   tag to build (default localhost/vigil:test)
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "live"))
import livelib  # noqa: E402
from livelib import Failure, check  # noqa: E402

IMAGE = os.environ.get("VIGIL_IMAGE", "localhost/vigil:test")
MAX_IMAGE_BYTES = 100 * 1000 * 1000
CAP_NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]


def sh(*argv, **kw):
    r = subprocess.run(list(argv), capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise Failure("%s failed (%d): %s" % (" ".join(argv), r.returncode, r.stderr[-2000:]))
    return r.stdout


def all_caps():
    """Every capability this process may hand out (its bounding set): what a
    privileged container gets from its runtime.  Root on the test machines
    lacks CAP_SYS_RESOURCE."""
    with open("/proc/self/status") as f:
        bnd = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    return ["CAP_" + n for i, n in enumerate(CAP_NAMES) if bnd >> i & 1]


def chart_least_privilege_caps():
    """The capabilities the chart grants in least-privilege mode, read from
    the chart's values.yaml so that the test runs exactly those."""
    path = os.path.join(SRC, "charts", "vigil", "values.yaml")
    caps, inside = [], False
    with open(path) as f:
        for line in f:
            if re.match(r"^\s*leastPrivilegeCapabilities:", line):
                inside = True
                continue
            if inside:
                m = re.match(r"^\s*-\s*([A-Z_]+)", line)
                if m:
                    caps.append("CAP_" + m.group(1))
                elif line.strip() and not line.strip().startswith("#"):
                    break
    check(caps, "no leastPrivilegeCapabilities list in %s" % path)
    return caps


class Image:
    """The built image's filesystem, mounted through a buildah working container."""

    def __init__(self):
        self.ctr = sh("buildah", "from", "--pull-never", IMAGE).strip()
        self.root = sh("buildah", "mount", self.ctr).strip()

    def close(self):
        subprocess.run(["buildah", "umount", self.ctr], capture_output=True)
        subprocess.run(["buildah", "rm", self.ctr], capture_output=True)


class Bundle:
    """A runc bundle whose root is the image's filesystem (read-only)."""

    def __init__(self, image, name):
        self.dir = tempfile.mkdtemp(prefix="vigil-img-")
        self.name = name
        sh("runc", "spec", "-b", self.dir)
        with open(os.path.join(self.dir, "config.json")) as f:
            self.cfg = json.load(f)
        self.cfg["root"] = {"path": image.root, "readonly": True}
        self.cfg["process"]["terminal"] = False
        self.proc = None

    def write(self):
        with open(os.path.join(self.dir, "config.json"), "w") as f:
            json.dump(self.cfg, f, indent=1)

    def run(self, argv, timeout=30):
        self.cfg["process"]["args"] = argv
        self.write()
        r = subprocess.run(["runc", "run", "-b", self.dir, self.name], capture_output=True,
                           text=True, timeout=timeout)
        subprocess.run(["runc", "delete", "-f", self.name], capture_output=True)
        return r

    def start(self, argv):
        self.cfg["process"]["args"] = argv
        self.write()
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(["runc", "run", "-b", self.dir, self.name],
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)

    def stdout(self):
        with open(self.out.name, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err.name, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            subprocess.run(["runc", "kill", self.name, "TERM"], capture_output=True)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                subprocess.run(["runc", "kill", self.name, "KILL"], capture_output=True)
                self.proc.wait()
        subprocess.run(["runc", "delete", "-f", self.name], capture_output=True)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def daemonset_shape(b, privileged, caps):
    """What the chart's DaemonSet gives the agent container, for runc."""
    c = b.cfg
    c["hostname"] = "vigil-agent"
    c["process"]["env"] = ["PATH=/usr/bin", "NODE_NAME=node-under-test",
                           "POD_NAME=vigil-test", "POD_NAMESPACE=vigil"]
    c["process"]["capabilities"] = {k: list(caps) for k in
                                    ("bounding", "effective", "permitted")}
    c["process"]["capabilities"]["ambient"] = []
    c["process"]["noNewPrivileges"] = False
    binds = [("/proc", "/host/proc"), ("/sys/fs/cgroup", "/host/sys/fs/cgroup"),
             ("/sys/kernel/btf", "/sys/kernel/btf")]
    for src, dst in binds:
        c["mounts"].append({"destination": dst, "type": "bind", "source": src,
                            "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]})
    # pods are in cgroups like this one (kubelet's cgroupfs layout)
    # (container id abababababab: the test rules look for it)
    c["linux"]["cgroupsPath"] = "/kubepods/burstable/pod%s/%s" % (
        "0a0a0a0a-1111-2222-3333-444444444444", "ab" * 32)
    if privileged:
        c["linux"]["maskedPaths"] = []
        c["linux"]["readonlyPaths"] = []
        for m in c["mounts"]:
            if m["destination"] == "/sys":
                m["options"] = [o for o in m["options"] if o != "ro"]


def interactive_shell(ctr):
    """`sh` with a terminal in ctr, the way kubectl exec -it gets one: runc
    makes the pty and hands its master to us over --console-socket."""
    subprocess.run(["runc", "spec", "-b", ctr.dir], check=True)
    path = os.path.join(ctr.dir, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = True
    cfg["process"]["args"] = ["/bin/sh", "-c", "echo pwned; sleep 0.2"]
    cfg["root"]["readonly"] = False
    cfg["linux"]["cgroupsPath"] = "/kubepods/besteffort/pod%s/%s" % (ctr.pod_uid, ctr.id)
    with open(path, "w") as f:
        json.dump(cfg, f)
    sock_path = os.path.join(ctr.dir, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    got = {}

    def console():
        conn, _ = srv.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        got["out"] = b""
        try:
            while True:
                chunk = os.read(fds[0], 4096)
                if not chunk:
                    break
                got["out"] += chunk
        except OSError:  # EIO once the shell closes its side
            pass
        os.close(fds[0])
    t = threading.Thread(target=console, daemon=True)
    t.start()
    try:
        # detached: runc returns once the shell runs; the console thread
        # sees EOF when it exits
        r = subprocess.run(["runc", "run", "-d", "-b", ctr.dir, "--console-socket", sock_path,
                            ctr.name], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        t.join(20)
    finally:
        srv.close()
        subprocess.run(["runc", "delete", "-f", ctr.name], capture_output=True)
    check(r.returncode == 0, "shell container failed: %s" % r.stderr.decode(errors="replace"))
    check(b"pwned" in got.get("out", b""), "no output on the terminal: %r" % got)


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise Failure("timed out after %ss waiting for %s" % (timeout, what))


def alerts(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def build():
    sh(os.path.join(HERE, "baseimage.sh"))
    commit = sh("git", "-C", SRC, "rev-parse", "--short=12", "HEAD").strip()
    start = time.time()
    r = subprocess.run(["buildah", "bud", "--runtime", "runc", "--isolation", "oci",
                        "--network", "host", "--pull-never", "--layers",
                        "--build-arg", "VIGIL_COMMIT=" + commit, "-t", IMAGE,
                        "-f", os.path.join(SRC, "Dockerfile"), SRC],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure("buildah bud failed:\n" + (r.stdout + r.stderr)[-4000:])
    print("image %s built in %.0f s" % (IMAGE, time.time() - start))
    return commit


def check_contents(img, commit):
    du = int(sh("du", "-sb", img.root).split()[0])
    listed = sh("buildah", "images", "--format", "{{.Size}}", IMAGE).strip()
    print("image size: %s (buildah images), %d bytes of files" % (listed, du))
    check(du < MAX_IMAGE_BYTES, "image holds %d bytes, over %d" % (du, MAX_IMAGE_BYTES))
    with open(os.path.join(img.root, "usr/share/vigil/packages.txt")) as f:
        pkgs = f.read()
    print("runtime stage packages (from /usr/share/vigil/packages.txt, "
          "stanzas in /var/lib/dpkg/status.d):")
    for line in pkgs.splitlines():
        print("  " + line)
    for name in sorted(os.listdir(os.path.join(img.root, "var/lib/dpkg/status.d"))):
        check(re.search(r"^%s " % re.escape(name), pkgs, re.M),
              "status.d/%s not in packages.txt" % name)
    for shell in ("bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/bash", "bin/busybox",
                  "usr/bin/busybox", "bin/dash", "usr/bin/dash"):
        check(not os.path.lexists(os.path.join(img.root, shell)), "the image has /%s" % shell)
    for f in ("usr/bin/vigil", "etc/vigil/vigil.yaml", "etc/vigil/rules/vigil_rules.yaml"):
        check(os.path.isfile(os.path.join(img.root, f)), "the image lacks /%s" % f)
    with open(os.path.join(img.root, "etc/vigil/vigil.yaml")) as f:
        check("proc_root: /host/proc" in f.read(), "the image's config does not read /host/proc")


def test_version(img, commit):
    b = Bundle(img, "vigil-img-version")
    try:
        r = b.run(["/usr/bin/vigil", "version"])
        check(r.returncode == 0, "vigil version failed in the image: %s" % r.stderr)
        print("in the image: " + r.stdout.strip())
        check(re.match(r"^vigil \d+\.\d+\.\d+ \(commit %s\)$" % commit, r.stdout.strip()),
              "unexpected version output %r (commit %s)" % (r.stdout, commit))
    finally:
        b.close()


# Rules the test adds (mounted at /etc/vigil/rules.d, which the image's
# configuration loads after its defaults).
TEST_RULES = """
- rule: Test shadow read under a seeded parent
  desc: the parent started before vigil, so vigil knows it from /host/proc only
  condition: evt.type in (open, openat) and fd.name = /etc/shadow and proc.name = cat
  output: shadow read (parent_exe=%proc.pexepath parent=%proc.pname ppid=%proc.ppid container=%container.id)
  priority: NOTICE
- rule: Test vigil sees itself
  desc: vigil opens /host/proc files after its probes are attached; with its
    host pid known these never reach user space
  condition: evt.type in (open, openat) and proc.name = vigil and container.id = abababababab
  output: vigil saw itself (%fd.name)
  priority: NOTICE
"""


def least_privilege_caps(quiet=False):
    held = all_caps()
    want = chart_least_privilege_caps()
    missing = [c for c in want if c not in held]
    if missing and not quiet:
        # only memlock accounting needs SYS_RESOURCE, and vigil goes on
        # without it (kernels >= 5.11 charge BPF memory to the cgroup)
        print("least-privilege: %s not held by this test (root lacks it), granting %s"
              % (",".join(missing), ",".join(c for c in want if c in held)))
    return [c for c in want if c in held]


class Agent:
    """The image's vigil in a runc container shaped like the DaemonSet, with
    a busybox container started before it (its processes are seeded from
    /host/proc) that reads /etc/shadow when told to."""

    def __init__(self, img, privileged, caps):
        self.b = Bundle(img, "vigil-img-agent")
        self.old = livelib.Container()
        self.old.name = "vigil-img-old"
        self.rules = os.path.join(self.b.dir, "rules.d")
        os.makedirs(self.rules)
        with open(os.path.join(self.rules, "test.yaml"), "w") as f:
            f.write(TEST_RULES)
        daemonset_shape(self.b, privileged, caps)
        self.b.cfg["mounts"].append({"destination": "/etc/vigil/rules.d", "type": "bind",
                                     "source": self.rules, "options": ["rbind", "ro"]})

    def start_old(self):
        root = os.path.join(self.old.dir, "rootfs")
        with open(os.path.join(root, "etc", "shadow"), "w") as f:
            f.write("root:*:19000:0:99999:7:::\n")
        subprocess.run(["runc", "spec", "-b", self.old.dir], check=True)
        path = os.path.join(self.old.dir, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["/bin/sh", "-c",
                                  "while [ ! -e /tmp/go ]; do sleep 0.1; done; cat /etc/shadow; sleep 0.1"]
        cfg["root"]["readonly"] = False
        cfg["linux"]["cgroupsPath"] = "/kubepods/besteffort/pod%s/%s" % (self.old.pod_uid,
                                                                         self.old.id)
        with open(path, "w") as f:
            json.dump(cfg, f)
        # detached, its stdio must not be a pipe we wait on
        r = subprocess.run(["runc", "run", "-d", "-b", self.old.dir, self.old.name],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        check(r.returncode == 0, "runc run -d failed for the old container")
        return json.loads(sh("runc", "state", self.old.name))["pid"]

    def start(self):
        """Returns None once capturing, or vigil's stderr if it exited."""
        self.b.start(["/usr/bin/vigil", "run"])
        wait_for(lambda: "capture started" in self.b.stderr() or self.b.proc.poll() is not None,
                 60, "the agent to start")
        if self.b.proc.poll() is not None:
            return self.b.stderr()
        return None

    def wait_alert(self, pred, what):
        def found():
            for a in alerts(self.b.stdout()):
                if pred(a):
                    return a
            return None
        try:
            return wait_for(found, 20, what)
        except Failure as e:
            raise Failure("%s; agent stderr:\n%s\nagent stdout:\n%s" % (
                e, self.b.stderr()[-3000:], self.b.stdout()[-3000:]))

    def seeded_parent_alert(self):
        with open(os.path.join(self.old.dir, "rootfs", "tmp", "go"), "w"):
            pass
        cid = self.old.id[:12]
        return self.wait_alert(
            lambda a: a["rule"] == "Test shadow read under a seeded parent" and
            a["output_fields"].get("container.id", cid) == cid and
            "parent=sh" in a["output"], "the shadow read under the seeded shell")

    def close(self):
        self.b.close()
        subprocess.run(["runc", "delete", "-f", self.old.name], capture_output=True)
        self.old.close()


def probe_endpoints(ag, mode):
    """/healthz, /readyz and /metrics on :8765 inside the agent container's
    network namespace, the way the kubelet's probes and Prometheus reach it."""
    pid = json.loads(sh("runc", "state", ag.b.name))["pid"]

    def get(path):
        r = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid, "curl", "-s",
                            "-o", "-", "-w", "\n%{http_code}",
                            "http://127.0.0.1:8765" + path],
                           capture_output=True, text=True, timeout=10)
        body, _, code = r.stdout.rpartition("\n")
        return code, body
    wait_for(lambda: get("/readyz")[0] == "200", 20, "/readyz to answer 200 (%s)" % mode)
    code, _ = get("/healthz")
    check(code == "200", "/healthz: %s" % code)
    code, body = get("/metrics")
    check(code == "200" and "vigil_build_info{" in body,
          "/metrics: %s %s" % (code, body[:300]))
    print("%s: /healthz 200, /readyz 200, /metrics has vigil_build_info" % mode)


def test_agent(img, privileged):
    mode = "privileged" if privileged else "least-privilege"
    caps = all_caps() if privileged else least_privilege_caps()
    ag = Agent(img, privileged, caps)
    ctr = livelib.Container()
    try:
        old_pid = ag.start_old()
        err = ag.start()
        check(err is None, "%s agent exited: %s" % (mode, err))
        interactive_shell(ctr)
        cid = ctr.id[:12]
        a = ag.wait_alert(lambda a: a["rule"] == "Interactive shell in a container" and
                          a["output_fields"].get("container.id") == cid,
                          "the alert of the shell (%s)" % mode)
        print("%s: %s" % (mode, a["output"]))
        check(a["output_fields"].get("proc.name") == "sh", "proc.name: %r" % a)
        check(a["hostname"] == "node-under-test", "hostname from NODE_NAME: %r" % a)
        probe_endpoints(ag, mode)
        # a process that ran before vigil is known from /host/proc, by its
        # host pid and with what only ptrace access reveals (its exe)
        s = ag.seeded_parent_alert()
        print("%s: %s" % (mode, s["output"]))
        check(re.search(r"ppid=%d " % old_pid, s["output"]),
              "the seeded shell's host pid %d: %s" % (old_pid, s["output"]))
        check("parent_exe=/bin/busybox" in s["output"], "seeded exe: %s" % s["output"])
        check("container=%s)" % ag.old.id[:12] in s["output"],
              "container id %s: %s" % (ag.old.id[:12], s["output"]))
        # vigil's own host pid is found through /host/proc/self, so its own
        # syscalls are dropped in the kernel
        for x in alerts(ag.b.stdout()):
            check(x["rule"] != "Test vigil sees itself", "vigil saw itself: %r" % x)
        ag.b.stop()
        check(ag.b.proc.returncode == 0, "%s agent exited %s: %s" % (
            mode, ag.b.proc.returncode, ag.b.stderr()[-2000:]))
        check("capture stopped" in ag.b.stderr(), "no clean stop: %s" % ag.b.stderr()[-2000:])
    finally:
        ag.close()
        ctr.close()


def test_each_capability_needed(img):
    """Without any one of the least-privilege capabilities vigil fails (BPF,
    PERFMON) or loses what the capability is there for (SYS_PTRACE)."""
    full = least_privilege_caps(quiet=True)
    for cap in full:
        caps = [c for c in full if c != cap]
        ag = Agent(img, False, caps)
        try:
            ag.start_old()
            err = ag.start()
            if cap in ("CAP_BPF", "CAP_PERFMON"):
                check(err is not None, "vigil ran without %s" % cap)
                check("loading the BPF programs failed" in err or "cannot start capture" in err,
                      "unclear error without %s: %s" % (cap, err))
                print("without %s: %s" % (cap, [x for x in err.splitlines() if "BPF" in x][0]))
            elif cap == "CAP_SYS_PTRACE":
                check(err is None, "vigil failed without %s: %s" % (cap, err))
                s = ag.seeded_parent_alert()
                check("parent_exe=/bin/busybox" not in s["output"],
                      "the seeded exe was read without %s: %s" % (cap, s["output"]))
                print("without %s: %s" % (cap, s["output"]))
            else:
                raise Failure("no test says why %s is needed" % cap)
        finally:
            ag.close()


def main():
    if os.geteuid() != 0:
        sys.exit("the image test needs root")
    commit = build()
    img = Image()
    failed = 0
    try:
        for name, fn in (("contents", lambda: check_contents(img, commit)),
                         ("version", lambda: test_version(img, commit)),
                         ("agent_privileged", lambda: test_agent(img, True)),
                         ("agent_least_privilege", lambda: test_agent(img, False)),
                         ("each_capability_needed", lambda: test_each_capability_needed(img))):
            start = time.time()
            try:
                fn()
                print("PASS %-30s %.1fs" % (name, time.time() - start), flush=True)
            except Exception as e:
                failed += 1
                print("FAIL %-30s %s: %s" % (name, type(e).__name__, e), flush=True)
    finally:
        img.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
