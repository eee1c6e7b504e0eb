#!/usr/bin/env python3
"""The image, installed by the chart, against a real kube-apiserver.

helm installs the chart (CRDs, RBAC, ServiceAccount, ConfigMap) into the test
cluster of tests/k8s/cluster.sh.  The image's vigil then runs in a runc
container the way the DaemonSet's pod would run on node "node-under-test":
the chart's rendered vigil.yaml, `run -c /etc/vigil/config/vigil.yaml`, the
Downward API variables, the in-cluster variables and a service-account
directory (the agent's token, the cluster CA, the namespace), the host's
/proc, cgroup tree and BTF read-only.  Its identity has exactly the chart's
ClusterRole and Role, nothing else.

A Pod bound to the node carries the id of a busybox runc container in its
status; a shell with a terminal in that container must give an alert that
names the pod, and a Kubernetes Event on it from vigil.dev/agent that the
command of the chart's NOTES finds; a ClusterRule gets its Accepted status
from the agent (elected through its Lease).  The API server must refuse the
agent nothing (no 401/403 in vigil_k8s_requests_total).

Needs root, buildah, runc, the tools of tests/k8s/tools.sh.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "live"))
import livelib  # noqa: E402
import test_image as ti  # noqa: E402
from livelib import Failure, check, free_port  # noqa: E402

NODE = "node-under-test"
NS = "vigil"  # the namespace and service account of cluster.sh's agent identity
CHART = os.path.join(SRC, "charts", "vigil")


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-incluster-")
        for attempt in range(3):  # cluster.sh can lose a start-up race
            r = subprocess.run([os.path.join(SRC, "tests", "k8s", "cluster.sh"), "start",
                                self.dir], capture_output=True, text=True)
            if r.returncode == 0:
                break
            print(r.stderr[-1500:], file=sys.stderr)
        else:
            raise Failure("the test API server did not start")
        self.env = dict(os.environ)
        out = subprocess.run(["bash", "-c", ". %s/env && env" % self.dir], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition("=")
            if k.startswith(("VIGIL_K8S_", "KUBECONFIG", "PATH")):
                self.env[k] = v

    def run(self, *argv, input=None):
        r = subprocess.run(list(argv), capture_output=True, text=True, env=self.env,
                           input=input, timeout=120)
        if r.returncode != 0:
            raise Failure("%s: %s" % (" ".join(argv), r.stderr[-2000:]))
        return r.stdout

    def close(self):
        subprocess.run([os.path.join(SRC, "tests", "k8s", "cluster.sh"), "stop", self.dir],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        sys.exit("needs root")
    ti.build()
    img = ti.Image()
    cl = Cluster()
    ag = None
    ctr = livelib.Container()
    failed = False
    try:
        k = lambda *a, **kw: cl.run("kubectl", *a, **kw)  # noqa: E731
        k("create", "namespace", NS)
        port = free_port()
        helm = cl.run("helm", "install", "vigil", CHART, "-n", NS,
                      "--set", "metrics.port=%d" % port,
                      "--set", "config.kubernetes.events.min_priority=notice")
        check("reportingComponent=vigil.dev/agent" in helm, "NOTES: " + helm)
        for crd in ("clusterrules", "rules", "rulelibraries"):
            k("wait", "--for", "condition=established", "crd/%s.vigil.dev" % crd)
        cfg_text = json.loads(k("get", "-n", NS, "configmap/vigil", "-o", "json"))[
            "data"]["vigil.yaml"]
        server = cl.env["VIGIL_K8S_SERVER"]
        host, sport = re.match(r"https://([^:]+):(\d+)", server).groups()

        # the pod whose container the shell runs in
        k("create", "namespace", "team-a")
        k("apply", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}},
            "spec": {"nodeName": NODE, "containers": [{"name": "app", "image": "web:1"}]}}))
        uid = json.loads(k("get", "pod", "web", "-n", "team-a", "-o", "json"))["metadata"]["uid"]
        ctr.pod_uid = uid
        k("patch", "pod", "web", "-n", "team-a", "--subresource=status", "--type=merge", "-p",
          json.dumps({"status": {"phase": "Running", "containerStatuses": [{
              "name": "app", "image": "web:1", "imageID": "", "ready": True,
              "restartCount": 0, "started": True, "containerID": "containerd://" + ctr.id,
              "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}}}]}}))

        # the DaemonSet's pod, for runc
        ag = ti.Agent(img, True, ti.all_caps())
        b = ag.b
        conf = os.path.join(b.dir, "config")
        sa = os.path.join(b.dir, "serviceaccount")
        os.makedirs(conf)
        os.makedirs(sa)
        with open(os.path.join(conf, "vigil.yaml"), "w") as f:
            f.write(cfg_text)
        shutil.copy(cl.env["VIGIL_K8S_AGENT_TOKEN_FILE"], os.path.join(sa, "token"))
        shutil.copy(cl.env["VIGIL_K8S_CA"], os.path.join(sa, "ca.crt"))
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write(NS)
        b.cfg["mounts"] += [
            {"destination": "/etc/vigil/config", "type": "bind", "source": conf,
             "options": ["rbind", "ro"]},
            {"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "type": "bind",
             "source": sa, "options": ["rbind", "ro"]}]
        # the API server listens on the host's loopback: share the host's network
        b.cfg["linux"]["namespaces"] = [n for n in b.cfg["linux"]["namespaces"]
                                        if n["type"] != "network"]
        b.cfg["process"]["env"] = ["PATH=/usr/bin", "NODE_NAME=" + NODE,
                                   "POD_NAME=vigil-abcde", "POD_NAMESPACE=" + NS,
                                   "KUBERNETES_SERVICE_HOST=" + host,
                                   "KUBERNETES_SERVICE_PORT=" + sport]
        b.start(["/usr/bin/vigil", "run", "-c", "/etc/vigil/config/vigil.yaml"])

        def ready():
            if b.proc.poll() is not None:
                raise Failure("the agent exited: " + b.stderr()[-3000:])
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "http://127.0.0.1:%d/readyz" % port], capture_output=True,
                               text=True)
            return r.stdout == "200"
        ti.wait_for(ready, 60, "/readyz (probes attached, rules loaded, informers synced)")
        print("agent ready under the chart's RBAC")

        ti.interactive_shell(ctr)
        a = ag.wait_alert(lambda a: a["rule"] == "Interactive shell in a container" and
                          a["output_fields"].get("container.id") == ctr.id[:12],
                          "the shell's alert")
        print("alert: " + a["output"][:300])
        check(a.get("k8s", {}).get("pod") == "web" and a["k8s"].get("namespace") == "team-a",
              "the alert does not name the pod: %r" % a)

        def event():
            out = k("get", "events", "-n", "team-a", "--field-selector",
                    "reportingComponent=vigil.dev/agent", "-o", "json")
            for e in json.loads(out)["items"]:
                if e["involvedObject"].get("name") == "web":
                    return e
            return None
        e = ti.wait_for(event, 30, "the Event on pod team-a/web")
        print("Event: %s %s %s: %s" % (e["type"], e["reason"], e["involvedObject"]["kind"],
                                       e["message"][:200]))
        check(e["type"] == "Warning" and e["involvedObject"]["kind"] == "Pod",
              "Event: %r" % e)
        out = k("get", "events.events.k8s.io", "-A", "--field-selector",
                "reportingController=vigil.dev/agent", "-o", "yaml")
        check("regarding:" in out and "name: web" in out, "events.k8s.io view: " + out[:500])

        # a ClusterRule: the elected agent writes its status (a PATCH of
        # the status subresource the chart allows)
        k("apply", "-f", "-", input=json.dumps({
            "apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
            "metadata": {"name": "incluster-test"},
            "spec": {"description": "test", "condition": "evt.type = execve and proc.name = nosuch",
                     "output": "x %proc.name", "priority": "Notice"}}))

        def accepted():
            o = json.loads(k("get", "clusterrule", "incluster-test", "-o", "json"))
            for c in o.get("status", {}).get("conditions", []):
                if c.get("type") == "Accepted":
                    return c
            return None
        c = ti.wait_for(accepted, 30, "the ClusterRule's Accepted condition")
        print("ClusterRule status written by the agent: Accepted=%s" % c.get("status"))
        check(c.get("status") == "True", "Accepted: %r" % c)

        # metrics, through the chart's port: every request the agent made
        # (lists, watches, Events) was allowed
        time.sleep(2)
        m = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics" % port],
                           capture_output=True, text=True).stdout
        check("vigil_build_info{" in m, "metrics: " + m[:300])
        reqs = [x for x in m.splitlines() if x.startswith("vigil_k8s_requests_total{")]
        print("API requests:\n  " + "\n  ".join(reqs))
        check(any('code="201"' in x and 'resource="events"' in x for x in reqs),
              "no Event created according to vigil_k8s_requests_total")
        check(any('verb="patch"' in x and 'clusterrules' in x and 'code="200"' in x
                  for x in reqs), "no status PATCH according to vigil_k8s_requests_total")
        refused = [x for x in reqs if re.search(r'code="40[13]"', x)]
        check(not refused, "the API server refused the agent: %s" % refused)
        leases = k("get", "leases", "-n", NS, "-o", "name")
        print("leases in %s: %s" % (NS, leases.strip() or "(none)"))
        b.stop()
        check(b.proc.returncode == 0, "agent exit %s: %s" % (b.proc.returncode, b.stderr()[-2000:]))
    except (Failure, subprocess.SubprocessError) as e:
        failed = True
        print("FAIL: %s" % e)
        if ag:
            print("agent stderr:\n" + ag.b.stderr()[-3000:])
    finally:
        if ag:
            ag.close()
        ctr.close()
        cl.close()
        img.close()
    print("FAIL test_incluster" if failed else "PASS test_incluster")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
