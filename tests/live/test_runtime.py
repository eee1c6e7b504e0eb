#!/usr/bin/env python3
"""Live tests of container metadata read from the container runtime's own
files (agent/runtime/): real eBPF, real runc containers whose OCI bundles
carry containerd-style or CRI-O-style annotations, no Kubernetes cluster at
all.  The official Falco rules that read container.privileged and
container.mount.dest[...] fire on the privileged container with host
mounts and stay silent on the plain one, and both containers are attributed
to their pods (k8s.ns.name, k8s.pod.name) from the annotations alone."""
import json
import os
import tempfile
import time

from livelib import Container, Vigil, check, main

FALCO = os.environ.get("VIGIL_FALCO_RULES") or os.path.join(
    os.environ.get("VIGIL_SRC", os.path.join(os.path.dirname(__file__), "..", "..")),
    "..", "shared", "falco-rules")

RULES = """
- rule: Test container start metadata
  desc: the first process of a container, with what vigil knows of it
  condition: evt.type in (execve, execveat) and container.id != host and proc.vpid=1
  output: >
    start id=%container.id ns=%k8s.ns.name pod=%k8s.pod.name uid=%k8s.pod.uid name=%container.name
    image=%container.image.repository tag=%container.image.tag priv=%container.privileged
    proc=%container.mount.dest[/proc] type=%container.type user=%container.user
    full=%container.full_id
  priority: NOTICE
"""

PRIV_UID = "3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10"
PLAIN_UID = "7b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ALL_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
            "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYS_ADMIN",
            "CAP_SYS_PTRACE", "CAP_NET_ADMIN", "CAP_SYS_MODULE"]


def privileged_containerd(c):
    """A privileged container as containerd's CRI plugin writes it: all
    capabilities, nothing masked, /proc of the host bind-mounted."""
    def edit(spec):
        caps = spec["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = list(ALL_CAPS)
        spec["linux"]["maskedPaths"] = []
        spec["linux"]["readonlyPaths"] = []
        spec["mounts"].append({"destination": "/host/proc", "type": "bind", "source": "/proc",
                               "options": ["rbind", "rprivate", "ro"]})
        spec["annotations"] = {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.container-name": "debug",
            "io.kubernetes.cri.image-name": "docker.io/library/busybox:1.36",
            "io.kubernetes.cri.sandbox-name": "debug-node-x1",
            "io.kubernetes.cri.sandbox-namespace": "ops",
            "io.kubernetes.cri.sandbox-uid": c.pod_uid,
        }
    return edit


def plain_crio(c):
    """A plain container as CRI-O writes it: runc's default (masked) spec,
    the pod named in the Labels JSON string."""
    def edit(spec):
        labels = {"io.kubernetes.container.name": "web",
                  "io.kubernetes.pod.name": "web-6c9f7",
                  "io.kubernetes.pod.namespace": "shop",
                  "io.kubernetes.pod.uid": c.pod_uid}
        spec["annotations"] = {
            "io.kubernetes.cri-o.ContainerType": "container",
            "io.kubernetes.cri-o.ImageName": "quay.io/acme/web:2.1",
            "io.kubernetes.cri-o.Labels": json.dumps(labels),
        }
    return edit


def run_both(extra_cfg=""):
    """Runs the privileged and the plain container under `vigil run` with
    the official rules and the test rule; returns (alerts, priv, plain)."""
    priv, plain = Container(), Container()
    priv.pod_uid, plain.pod_uid = PRIV_UID, PLAIN_UID
    for c in (priv, plain):
        os.symlink("busybox", os.path.join(c.dir, "rootfs", "bin", "mount"))
    rules = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    rules.write(RULES)
    rules.close()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("metrics:\n  listen: 127.0.0.1:0\nkubernetes:\n  enabled: \"false\"\n" + extra_cfg)
    cfg.close()
    args = ["run", "-c", cfg.name]
    for f in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"):
        args += ["-r", os.path.join(FALCO, f)]
    args += ["-r", rules.name]
    v = Vigil(args)
    try:
        # mount inside each (the privileged one may, the plain one is
        # refused), with a marker per container in the command lines; the
        # containers live a second: their files are read while they run.
        # /bin/mount by path: busybox's sh runs a bare applet name through
        # /proc/self/exe (proc.name "exe")
        for c, mark, edit in ((priv, "privmark", privileged_containerd(priv)),
                              (plain, "plainmark", plain_crio(plain))):
            c.run(["/bin/sh", "-c", "/bin/mount -t tmpfs %s /tmp; /bin/echo %s; sleep 1" % (mark, mark)],
                  edit=edit)
        time.sleep(1.0)
    finally:
        rc = v.stop()
        os.unlink(rules.name)
        os.unlink(cfg.name)
        priv.close()
        plain.close()
    check(rc == 0, "vigil run exit code %s: %s" % (rc, v.stderr()[-400:]))
    return v.lines(), priv, plain, v.stderr()


def of(alerts, c, rule):
    """The alerts of rule about container c: by its id when the output has
    it, else by the marker in its command lines."""
    mark = "privmark" if c.pod_uid == PRIV_UID else "plainmark"

    def mine(a):
        f = a["output_fields"]
        if "container.id" in f:
            return f["container.id"] == c.id[:12]
        return mark in (f.get("proc.cmdline") or "")
    return [a for a in alerts if a["rule"] == rule and mine(a)]


def test_official_rules_follow_runtime_metadata():
    alerts, priv, plain, err = run_both()
    for rule in ("Launch Privileged Container", "Launch Sensitive Mount Container",
                 "Mount Launched in Privileged Container"):
        check(len(of(alerts, priv, rule)) >= 1,
              "%r did not fire on the privileged container: %s" % (rule, [
                  (a["rule"], a["output_fields"].get("proc.cmdline")) for a in alerts]))
        check(not of(alerts, plain, rule),
              "%r fired on the plain container: %s" % (rule, of(alerts, plain, rule)))


def test_pod_attributed_without_a_cluster():
    alerts, priv, plain, err = run_both()
    p = of(alerts, priv, "Test container start metadata")
    q = of(alerts, plain, "Test container start metadata")
    check(p and q, "start alerts: %s / %s" % (p, q))
    f, g = p[0]["output_fields"], q[0]["output_fields"]
    want_p = {"k8s.ns.name": "ops", "k8s.pod.name": "debug-node-x1", "k8s.pod.uid": PRIV_UID,
              "container.name": "debug", "container.image.repository": "docker.io/library/busybox",
              "container.image.tag": "1.36", "container.privileged": True,
              "container.mount.dest[/proc]": "/host/proc", "container.type": "runc",
              "container.user": "0", "container.full_id": priv.id}
    want_q = {"k8s.ns.name": "shop", "k8s.pod.name": "web-6c9f7", "k8s.pod.uid": PLAIN_UID,
              "container.name": "web", "container.image.repository": "quay.io/acme/web",
              "container.image.tag": "2.1", "container.privileged": False,
              "container.mount.dest[/proc]": "N/A", "container.type": "runc"}
    for want, got, who in ((want_p, f, "privileged"), (want_q, g, "plain")):
        for k, val in want.items():
            check(got.get(k) == val, "%s container: %s = %r, want %r (%s)" % (who, k, got.get(k), val, got))


def test_unknown_runtime_stays_unknown():
    """With the runtime's roots pointing nowhere, nothing is known: the
    sensitive-mount rule must not fire (mount fields read <NA>), the
    privileged rules neither, and the pod is only known by its uid."""
    empty = tempfile.mkdtemp(prefix="vigil-noroots-")
    extra = ("runtime:\n  runc_roots: [%s]\n  containerd_roots: []\n  crio_roots: []\n"
             "  hold_ms: 100\n" % empty)
    alerts, priv, plain, err = run_both(extra)
    os.rmdir(empty)
    for c in (priv, plain):
        for rule in ("Launch Privileged Container", "Launch Sensitive Mount Container",
                     "Mount Launched in Privileged Container"):
            check(not of(alerts, c, rule), "%r fired without metadata: %s" % (rule, of(alerts, c, rule)))
        s = of(alerts, c, "Test container start metadata")
        check(s, "start alerts: %s" % s)
        f = s[0]["output_fields"]
        check(f["container.mount.dest[/proc]"] == "<NA>", "mount.dest unknown: %s" % f)
        check(f["k8s.pod.name"] is None and f["container.privileged"] is None, "unknown: %s" % f)
        check(f["k8s.pod.uid"] == c.pod_uid, "pod uid from the cgroup: %s" % f)


if __name__ == "__main__":
    main([test_official_rules_follow_runtime_metadata, test_pod_attributed_without_a_cluster,
          test_unknown_runtime_stays_unknown])
