#!/usr/bin/env python3
"""The default rules stay silent on a benign workload, under `vigil run`.

tests/pkg/benign.sh (packages, builds, web servers, cron-style jobs, kubectl
and helm against a real kube-apiserver) runs on the host in a cgroup of its
own, named like a container's (.../<64 hex>), and two busybox runc
containers play pods: a web server answering requests and a periodic job.
Every alert vigil raises for one of these (by container id, which every
default rule's output carries) fails the test; alerts for the rest of the
machine (other users of a shared machine) are printed, not counted.  At the
end the workload's cgroup reads /etc/shadow with cat, which must raise an
alert, so that a silent run means silence and not blindness.

Needs root, runc, busybox-static, the tools of tests/k8s/tools.sh.
  VIGIL_BIN     the vigil binary (default build/vigil)
  VIGIL_BENIGN_PARTS  parts of benign.sh to run (default all)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "live"))
import livelib  # noqa: E402
from livelib import Failure, check, free_port  # noqa: E402


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    raise Failure("no cgroup2 mount")


class Pod(livelib.Container):
    """A busybox runc container in the host's network namespace (so the host
    can reach its server on loopback), detached."""

    def start(self, argv):
        root = os.path.join(self.dir, "rootfs")
        for app in ("httpd", "date", "wc", "uptime", "ps", "df", "grep", "wget", "rm", "mkdir"):
            path = os.path.join(root, "bin", app)
            if not os.path.lexists(path):
                os.symlink("busybox", path)
        os.makedirs(os.path.join(root, "www"), exist_ok=True)
        with open(os.path.join(root, "www", "index.html"), "w") as f:
            f.write("<h1>pod</h1>\n")
        subprocess.run(["runc", "spec", "-b", self.dir], check=True)
        path = os.path.join(self.dir, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = argv
        cfg["root"]["readonly"] = False
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                      if n["type"] != "network"]
        cfg["linux"]["cgroupsPath"] = "/kubepods/besteffort/pod%s/%s" % (self.pod_uid, self.id)
        with open(path, "w") as f:
            json.dump(cfg, f)
        # detached: the container keeps its stdio, which must not be our pipe
        with open(os.path.join(self.dir, "runc.log"), "w+") as log:
            r = subprocess.run(["runc", "run", "-d", "-b", self.dir, self.name],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=30)
            log.seek(0)
            check(r.returncode == 0, "runc run %s: %s" % (self.name, log.read()))

    def wait_stopped(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = subprocess.run(["runc", "state", self.name], capture_output=True, text=True)
            if r.returncode != 0 or json.loads(r.stdout)["status"] == "stopped":
                return
            time.sleep(0.2)
        raise Failure("%s still running after %ss" % (self.name, timeout))


def main():
    if os.geteuid() != 0:
        sys.exit("the benign workload test needs root")
    parts = os.environ.get("VIGIL_BENIGN_PARTS", "").split()
    work = tempfile.mkdtemp(prefix="vigil-benign-")
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    cg_parent = os.path.join(cgroup2_root(), "vigil-benign-" + cid[:8])
    cg = os.path.join(cg_parent, cid)
    os.makedirs(cg)
    web, job = Pod(), Pod()
    ours = {cid[:12]: "host workload (benign.sh)", web.id[:12]: "web pod", job.id[:12]: "job pod"}
    vigil = livelib.Vigil(["run", "-r", os.path.join(SRC, "rules")])
    failed = False
    try:
        # pods first, so that they run while the host workload does
        port = free_port()
        web.start(["/bin/httpd", "-f", "-p", "127.0.0.1:%d" % port, "-h", "/www"])
        job.start(["/bin/sh", "-c", "for i in 1 2 3 4 5 6; do date >> /tmp/job.log; "
                   "ps > /dev/null; wc -l /tmp/job.log > /dev/null; sleep 1; done; "
                   "rm /tmp/job.log"])
        start = time.time()
        cmd = ("echo $$ > %s/cgroup.procs && exec bash %s %s %s" % (
            cg, os.path.join(HERE, "benign.sh"), work, " ".join(parts)))
        r = subprocess.run(["sh", "-c", cmd], timeout=900, stdin=subprocess.DEVNULL)
        check(r.returncode == 0, "the benign workload failed (%d)" % r.returncode)
        for _ in range(20):
            subprocess.run(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/" % port],
                           check=True)
        job.wait_stopped(30)
        print("workload ran in %.0f s" % (time.time() - start))
        # the control: the same cgroup does something the rules must see
        r = subprocess.run(["sh", "-c", "echo $$ > %s/cgroup.procs && exec cat /etc/shadow" % cg],
                           stdout=subprocess.DEVNULL)
        check(r.returncode == 0, "cat /etc/shadow failed")
        deadline = time.time() + 10
        control = None
        while time.time() < deadline and not control:
            time.sleep(0.2)
            for a in vigil.lines():
                if a["rule"] == "Sensitive file read by an untrusted program" and \
                        a["output_fields"].get("container.id") == cid[:12]:
                    control = a
        check(control, "the control alert (cat /etc/shadow in the workload's cgroup) did not "
              "come: vigil is not watching the workload")
        vigil.stop()
        noise, others = [], []
        for a in vigil.lines():
            if a == control:
                continue
            who = ours.get(a["output_fields"].get("container.id"))
            (noise if who else others).append((who, a))
        for _, a in others:
            print("not ours (ignored): %s: %s" % (a["rule"], a["output"][:300]))
        for who, a in noise:
            print("NOISE from the %s: %s: %s" % (who, a["rule"], a["output"][:500]))
        n = sum(1 for a in vigil.lines() if a.get("output_fields", {}).get(
            "container.id") == cid[:12])
        check(not noise, "%d alerts on the benign workload" % len(noise))
        print("0 alerts on the benign workload (control alert seen; %d alerts of the "
              "workload's cgroup in all, the control included)" % n)
    except (Failure, subprocess.SubprocessError) as e:
        failed = True
        print("FAIL: %s" % e)
        print("vigil stderr:\n" + vigil.stderr()[-3000:])
    finally:
        vigil.close()
        for p in (web, job):
            subprocess.run(["runc", "kill", p.name, "KILL"], capture_output=True)
            p.close()
        for d in (cg, cg_parent):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        shutil.rmtree(work, ignore_errors=True)
        for f in os.listdir("/var/log"):
            if f.startswith("vigil-benign.log"):
                os.unlink(os.path.join("/var/log", f))
    print("FAIL test_benign" if failed else "PASS test_benign")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
