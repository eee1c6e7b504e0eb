#!/usr/bin/env python3
"""End-to-end tests of `vigil run` in a cluster: a real kube-apiserver, real
eBPF, real runc containers whose cgroup paths carry the ids patched into the
Pods' status.

Runs inside the environment of tests/k8s/run.sh (the variables of DIR/env),
as root.

    VIGIL_BIN=build/vigil python3 tests/k8s/test_agent.py [NAME...]
"""
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "live"))
import livelib  # noqa: E402
from livelib import Container, Failure, Vigil, check  # noqa: E402

ADMIN = os.environ["VIGIL_K8S_ADMIN_KUBECONFIG"]
RUN = secrets.token_hex(2)

RULES = """
- rule: Shell in test pod
  desc: a shell runs in a container (test rule)
  condition: evt.type in (execve, execveat) and evt.dir = < and proc.name = sh
    and container.id != host
  output: shell in %k8s.ns.name/%k8s.pod.name container=%container.name
    image=%container.image.repository:%container.image.tag app=%k8s.pod.label[app]
  priority: WARNING
  tags: [test]
"""


def kubectl(*args, input=None, check_rc=True):
    p = subprocess.run(["kubectl", "--kubeconfig", ADMIN] + list(args), input=input,
                       capture_output=True, text=True, timeout=120)
    if check_rc and p.returncode != 0:
        raise Failure(f"kubectl {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def fresh_ns(prefix, labels=None):
    ns = f"{prefix}-{secrets.token_hex(3)}"
    kubectl("create", "namespace", ns)
    if labels:
        kubectl("label", "namespace", ns, *[f"{k}={v}" for k, v in labels.items()])
    return ns


def make_pod(ns, name, node, labels):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": labels},
           "spec": {"nodeName": node,
                    "containers": [{"name": "app", "image": "registry.test:5000/team/web:1.2"}]}}
    kubectl("apply", "-f", "-", input=json.dumps(pod))
    return json.loads(kubectl("get", "pod", name, "-n", ns, "-o", "json"))["metadata"]["uid"]


def set_container(ns, name, cid):
    st = {"phase": "Running", "containerStatuses": [{
        "name": "app", "image": "registry.test:5000/team/web:1.2", "imageID": "",
        "ready": True, "restartCount": 0, "started": True,
        "containerID": f"containerd://{cid}",
        "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}}}]}
    kubectl("patch", "pod", name, "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": st}))


class Agent(Vigil):
    """`vigil run` against the test cluster as node `node`."""

    def __init__(self, node, rules=RULES, extra=""):
        self.tmp = tempfile.mkdtemp(prefix="vigil-k8s-agent-")
        rpath = os.path.join(self.tmp, "rules.yaml")
        with open(rpath, "w") as f:
            f.write(rules)
        cpath = os.path.join(self.tmp, "vigil.yaml")
        with open(cpath, "w") as f:
            f.write(f"""node_name: {node}
metrics:
  listen: 127.0.0.1:0
kubernetes:
  enabled: "true"
  kubeconfig: {ADMIN}
  events:
    min_priority: debug
{extra}""")
        super().__init__(["run", "-c", cpath, "-r", rpath])

    def wait_synced(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "synced" in self.stderr():
                return
            time.sleep(0.1)
        raise Failure("informers did not sync: " + self.stderr()[-800:])


def wait_for(fn, what, timeout=20):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.25)
    raise Failure(f"timed out waiting for {what} (last: {last})")


def alerts(agent, rule="Shell in test pod"):
    return [a for a in agent.lines() if a.get("rule") == rule]


def vigil_events(ns):
    out = json.loads(kubectl("get", "events.v1.events.k8s.io", "-n", ns, "-o", "json"))
    return [e for e in out["items"] if e.get("reportingController") == "vigil.dev/agent"]


def test_alert_carries_pod_metadata_and_becomes_event():
    node = f"node-{RUN}-a"
    ns = fresh_ns("va", {"team": "alpha"})
    c = Container()
    agent = None
    try:
        uid = make_pod(ns, "web", node, {"app": "shop"})
        set_container(ns, "web", c.id)
        agent = Agent(node)
        agent.wait_synced()
        c.run(["sh", "-c", "true"])
        a = wait_for(lambda: alerts(agent), "the alert on stdout")[0]
        check(a.get("k8s") == {"namespace": ns, "pod": "web", "uid": uid},
              f"k8s object of the alert: {a.get('k8s')}")
        of = a["output_fields"]
        check(of.get("k8s.ns.name") == ns and of.get("k8s.pod.name") == "web",
              f"output fields: {of}")
        check(of.get("container.name") == "app", f"container.name: {of}")
        check(of.get("container.image.repository") == "registry.test:5000/team/web" and
              of.get("container.image.tag") == "1.2", f"image fields: {of}")
        check(of.get("k8s.pod.label[app]") == "shop", f"pod label: {of}")
        check(f"shell in {ns}/web container=app" in a["output"], a["output"])
        ev = wait_for(lambda: vigil_events(ns), "a Kubernetes Event")
        check(len(ev) == 1, f"{len(ev)} events")
        e = ev[0]
        check(e["regarding"]["kind"] == "Pod" and e["regarding"]["name"] == "web" and
              e["regarding"].get("uid") == uid, f"regarding: {e['regarding']}")
        check(e["reason"] == "ShellInTestPod", e["reason"])
        check(e["type"] == "Warning" and e["action"] == "Detected", e)
        check(e["reportingInstance"] == node, e["reportingInstance"])
        check(e["note"].startswith(f"shell in {ns}/web"), e["note"])
        # kubectl describe pod shows it
        d = kubectl("describe", "pod", "web", "-n", ns)
        check("ShellInTestPod" in d, "describe pod does not show the event:\n" + d[-600:])
        # repeats of the rule on the same pod become a series of that Event
        c.run(["sh", "-c", "true"])
        c.run(["sh", "-c", "true"])
        wait_for(lambda: len(alerts(agent)) >= 3, "3 alerts")

        def series3():
            ev = vigil_events(ns)
            return len(ev) == 1 and (ev[0].get("series") or {}).get("count") == 3
        wait_for(series3, "series.count == 3 on the one Event")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c.close()


def test_events_of_unknown_container_wait_for_the_pod():
    """The container starts before its Pod shows the container id: its
    events are held and evaluated once the metadata arrives."""
    node = f"node-{RUN}-b"
    ns = fresh_ns("vb")
    c = Container()
    agent = None
    try:
        make_pod(ns, "late", node, {"app": "late"})
        agent = Agent(node, extra="  hold_ms: 8000\n")
        agent.wait_synced()
        t = threading.Timer(1.5, set_container, (ns, "late", c.id))
        t.start()
        c.run(["sh", "-c", "true"])
        t.join()
        a = wait_for(lambda: alerts(agent), "the held alert", timeout=15)[0]
        check(a.get("k8s", {}).get("pod") == "late", f"alert without metadata: {a}")
        check(a["output_fields"].get("k8s.ns.name") == ns, a["output_fields"])
        port = agent.metrics_port()
        import urllib.request
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        line = [ln for ln in body.splitlines()
                if ln.startswith('vigil_events_held_total{result="metadata"}')]
        check(line and float(line[0].split()[-1]) >= 1, "held metric: %s" % line)
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c.close()


def test_host_process_event_on_node():
    node = f"node-{RUN}-c"
    rules = """
- rule: Marker read on host
  desc: test
  condition: evt.type in (open, openat, openat2) and evt.dir = < and fd.name = %s
  output: marker opened by %%proc.name
  priority: NOTICE
""" % ("/tmp/vigil-k8s-marker-" + RUN)
    agent = None
    try:
        agent = Agent(node, rules=rules)
        agent.wait_synced()
        with open("/tmp/vigil-k8s-marker-" + RUN, "w") as f:
            f.write("x")
        wait_for(lambda: alerts(agent, "Marker read on host"), "the host alert")

        def node_event():
            ev = vigil_events("default")
            return [e for e in ev if e["regarding"].get("kind") == "Node" and
                    e["regarding"].get("name") == node]
        ev = wait_for(node_event, "an Event on the Node")
        check(ev[0]["reason"] == "MarkerReadOnHost", ev[0]["reason"])
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        try:
            os.unlink("/tmp/vigil-k8s-marker-" + RUN)
        except OSError:
            pass


TESTS = [test_alert_carries_pod_metadata_and_becomes_event,
         test_events_of_unknown_container_wait_for_the_pod,
         test_host_process_event_on_node]

if __name__ == "__main__":
    names = sys.argv[1:]
    livelib.main([t for t in TESTS if not names or t.__name__ in names])
