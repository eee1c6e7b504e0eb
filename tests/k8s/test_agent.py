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
import re
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
# the agent runs as its service account, with exactly the chart's RBAC
AGENT_KUBECONFIG = os.environ["VIGIL_K8S_AGENT_KUBECONFIG"]
CHART = os.path.join(HERE, "..", "..", "charts", "vigil")
RUN = secrets.token_hex(2)

RULES = """
- rule: Shell in test pod
  desc: a shell runs in a container (test rule)
  condition: evt.type in (execve, execveat) and evt.dir = < and proc.name = sh
    and container.id != host
  output: shell in %k8s.ns.name/%k8s.pod.name container=%container.name proc=%proc.name
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

    def __init__(self, node, rules=RULES, extra="", events="    min_priority: debug\n"):
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
  kubeconfig: {AGENT_KUBECONFIG}
  namespace: vigil
  events:
{events}{extra}""")
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
        import urllib.request
        r = urllib.request.urlopen(f"http://127.0.0.1:{agent.metrics_port()}/readyz", timeout=5)
        check(r.status == 200, f"/readyz after the informers synced: {r.status}")
        t0 = time.time()
        c.run(["sh", "-c", "true"])
        ev = wait_for(lambda: vigil_events(ns), "a Kubernetes Event", timeout=10)
        took = time.time() - t0
        check(took <= 2.0, f"the Event took {took:.2f} s to show (over 2 s)")
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
        check(e["note"].startswith(f"shell in {ns}/web") and "proc=sh" in e["note"], e["note"])
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
    # the Node, as the kubelet registers it: Events about the node carry its
    # uid, which is what `kubectl describe node` looks them up by
    apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
    node_uid = json.loads(kubectl("get", "node", node, "-o", "json"))["metadata"]["uid"]
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
        check(ev[0]["regarding"].get("uid") == node_uid,
              f"regarding.uid {ev[0]['regarding'].get('uid')!r}, the Node's is {node_uid}")
        desc = kubectl("describe", "node", node)
        check("MarkerReadOnHost" in desc.split("Events:")[-1],
              "kubectl describe node does not list the Event:\n" + desc[-800:])
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        try:
            os.unlink("/tmp/vigil-k8s-marker-" + RUN)
        except OSError:
            pass


CRDS = os.path.join(HERE, "..", "..", "crds")


def apply_crds():
    for f in sorted(os.listdir(CRDS)):
        if f.endswith(".yaml"):
            kubectl("apply", "--server-side", "-f", os.path.join(CRDS, f))
    kubectl("wait", "--for", "condition=established", "--timeout=60s",
            "crd/clusterrules.vigil.dev", "crd/rules.vigil.dev", "crd/rulelibraries.vigil.dev")


def apply(obj):
    kubectl("apply", "-f", "-", input=json.dumps(obj))


def accepted(kind, name, ns=None):
    args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
    o = json.loads(kubectl(*args))
    st = o.get("status") or {}
    conds = [c for c in st.get("conditions", []) if c.get("type") == "Accepted"]
    if st.get("observedGeneration") != o["metadata"]["generation"] or not conds:
        return None
    return conds[0]


def test_namespaced_rule_scoping_status_and_rejection():
    node = f"node-{RUN}-d"
    apply_crds()
    ns_a = fresh_ns("vra")
    ns_b = fresh_ns("vrb")
    ca, cb = Container(), Container()
    agent = None
    try:
        make_pod(ns_a, "pa", node, {"app": "x"})
        make_pod(ns_b, "pb", node, {"app": "x"})
        set_container(ns_a, "pa", ca.id)
        set_container(ns_b, "pb", cb.id)
        # a namespaced Rule of team A, and a broken one
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
               "metadata": {"name": "ls-run", "namespace": ns_a},
               "spec": {"rule": "Team A ls", "description": "ls runs",
                        "condition": "evt.type in (execve, execveat) and evt.dir = < "
                                     "and proc.name = ls",
                        "output": "ls in %k8s.ns.name/%k8s.pod.name", "priority": "Warning"}})
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
               "metadata": {"name": "broken", "namespace": ns_a},
               "spec": {"description": "typo", "condition": "proc.nmae = ls",
                        "output": "x", "priority": "Notice"}})
        agent = Agent(node, extra="  leader_election: true\n")
        agent.wait_synced()
        ok = wait_for(lambda: accepted("vr", "ls-run", ns_a), "status of ls-run")
        check(ok["status"] == "True", f"ls-run status: {ok}")
        bad = wait_for(lambda: accepted("vr", "broken", ns_a), "status of broken")
        check(bad["status"] == "False" and "spec.condition" in bad["message"] and
              "proc.nmae" in bad["message"], f"broken status: {bad}")

        def warning():
            ev = vigil_events(ns_a)
            return [e for e in ev if e["regarding"].get("name") == "broken" and
                    e["regarding"].get("kind") == "Rule"]
        w = wait_for(warning, "a Warning Event on the rejected Rule")
        check(w[0]["type"] == "Warning" and "proc.nmae" in w[0]["note"], w[0])
        ca.run(["ls", "/"])
        cb.run(["ls", "/"])
        a = wait_for(lambda: alerts(agent, "Team A ls"), "the namespaced rule's alert")
        time.sleep(1.0)
        a = alerts(agent, "Team A ls")
        check(len(a) == 1 and a[0]["k8s"]["namespace"] == ns_a,
              f"the Rule of {ns_a} fired for: {[x.get('k8s') for x in a]}")
        # the host never matches a namespaced Rule
        subprocess.run(["ls", "/"], capture_output=True)
        time.sleep(0.5)
        check(len(alerts(agent, "Team A ls")) == 1, "a namespaced Rule fired on the host")
        # kubectl get shows priority / accepted columns
        out = kubectl("get", "vr", "-n", ns_a)
        check("ls-run" in out and "Warning" in out and "True" in out, out)
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        ca.close()
        cb.close()


def test_hot_reload_loses_no_event():
    """A generator opens marker files at a steady pace while rules are added,
    changed and deleted 50 times: the ClusterRule that matches every open
    (changed again and again) alerts each exactly once; a second rule that
    comes and goes alerts only while it is in force."""
    node = f"node-{RUN}-e"
    marker = f"/tmp/vigil-reload-{RUN}"
    name, extra = f"reload-{RUN}", f"reload-extra-{RUN}"

    def rule(nm, rname, gen):
        return {"apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
                "metadata": {"name": nm},
                "spec": {"rule": rname, "description": f"version {gen}",
                         "condition": f"evt.type in (open, openat, openat2) and evt.dir = < "
                                      f"and fd.name startswith {marker}",
                         "output": f"marker %fd.name v{gen}", "priority": "Notice",
                         "hostProcesses": True}}
    apply(rule(name, "Reload marker", 0))
    agent = None
    n = 600
    try:
        agent = Agent(node, rules="[]\n", events="    enabled: false\n")
        agent.wait_synced()
        wait_for(lambda: "loaded" in agent.stderr(), "rules loaded")
        done = threading.Event()

        def opener():
            for i in range(n):
                with open(f"{marker}-{i}", "w"):
                    pass
                time.sleep(0.012)
            done.set()
        t = threading.Thread(target=opener)
        t.start()
        ops = 0
        while ops < 50:
            k = ops % 3
            if k == 0:
                apply(rule(name, "Reload marker", ops))           # change
            elif k == 1:
                apply(rule(extra, "Reload extra", ops))           # add
            else:
                kubectl("delete", "clusterrule", extra, "--wait=false")  # delete
            ops += 1
            time.sleep(0.1)
        t.join()
        check(done.is_set(), "the generator did not finish")
        wait_for(lambda: len(alerts(agent, "Reload marker")) >= n, f"{n} alerts", timeout=30)
        time.sleep(1.5)
        got = [a["output_fields"]["fd.name"] for a in alerts(agent, "Reload marker")]
        want = [f"{marker}-{i}" for i in range(n)]
        check(sorted(got) == sorted(want),
              f"{len(got)} alerts for {n} events; missing {sorted(set(want) - set(got))[:5]}, "
              f"duplicated {len(got) - len(set(got))}")
        versions = {a["output"].rsplit(" ", 1)[-1] for a in alerts(agent, "Reload marker")}
        check(len(versions) >= 5, f"the rule was not swapped during the run: {versions}")
        extra_alerts = alerts(agent, "Reload extra")
        check(0 < len(extra_alerts) < n, f"the coming and going rule alerted "
              f"{len(extra_alerts)} times for {n} events")
        check(len({a["output_fields"]["fd.name"] for a in extra_alerts}) == len(extra_alerts),
              "the coming and going rule alerted twice for one event")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        kubectl("delete", "clusterrule", name, extra, "--ignore-not-found")
        for i in range(n):
            try:
                os.unlink(f"{marker}-{i}")
            except OSError:
                pass


def metric(agent, name, labels=None):
    """The value of one series on the agent's /metrics (0 when absent)."""
    import urllib.request
    body = urllib.request.urlopen(
        f"http://127.0.0.1:{agent.metrics_port()}/metrics", timeout=10).read().decode()
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                   if labels else "")
    del want
    total = 0.0
    for ln in body.splitlines():
        if ln.startswith("#"):
            continue
        key, _, val = ln.rpartition(" ")
        if key != name and not key.startswith(name + "{"):
            continue
        # the series whose labels include the ones given (others summed)
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', key[len(name):]))
        if all(have.get(k) == v for k, v in (labels or {}).items()):
            total += float(val)
    return total


def test_cluster_rules_accepted_and_rejected():
    """kubectl get vcr shows ACCEPTED True/False; a rejected ClusterRule
    (unknown field, syntax error) does not stop the others."""
    node = f"node-{RUN}-f"
    marker = f"/tmp/vigil-vcr-{RUN}"
    good, badf, bads = f"good-{RUN}", f"badfield-{RUN}", f"badsyntax-{RUN}"

    def vcr(name, cond):
        return {"apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
                "metadata": {"name": name},
                "spec": {"rule": name, "description": "test", "condition": cond,
                         "output": "opened %fd.name", "priority": "Notice",
                         "hostProcesses": True}}
    apply(vcr(good, f"evt.type in (open, openat) and evt.dir = < and fd.name = {marker}"))
    apply(vcr(badf, "evt.type = open and fd.nmae = /x"))
    apply(vcr(bads, "evt.type = open and (fd.name = /x"))
    agent = None
    try:
        agent = Agent(node, rules="[]\n")
        agent.wait_synced()
        g = wait_for(lambda: accepted("vcr", good), "status of the good ClusterRule")
        f = wait_for(lambda: accepted("vcr", badf), "status of the bad-field ClusterRule")
        x = wait_for(lambda: accepted("vcr", bads), "status of the bad-syntax ClusterRule")
        check(g["status"] == "True", g)
        check(f["status"] == "False" and "fd.nmae" in f["message"], f)
        check(x["status"] == "False" and "spec.condition" in x["message"], x)
        out = kubectl("get", "vcr", good, badf, bads)
        lines = {ln.split()[0]: ln for ln in out.splitlines()[1:]}
        check("True" in lines[good] and "False" in lines[badf] and "False" in lines[bads], out)
        with open(marker, "w"):
            pass
        wait_for(lambda: alerts(agent, good), "the good rule still fires")
        check(metric(agent, "vigil_rules_loaded", {"kind": "ClusterRule", "state": "rejected"})
              >= 2, "rejected ClusterRules not in vigil_rules_loaded")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        kubectl("delete", "vcr", good, badf, bads, "--ignore-not-found")
        try:
            os.unlink(marker)
        except OSError:
            pass


def test_thousand_alerts_one_event_series():
    node = f"node-{RUN}-g"
    ns = fresh_ns("vg")
    c = Container()
    rules = """
- rule: True in test pod
  desc: test
  condition: evt.type in (execve, execveat) and evt.dir = < and proc.name = true
    and container.id != host
  output: true ran in %k8s.pod.name
  priority: NOTICE
"""
    agent = None
    try:
        make_pod(ns, "burst", node, {"app": "burst"})
        set_container(ns, "burst", c.id)
        agent = Agent(node, rules=rules, events="    min_priority: notice\n")
        agent.wait_synced()
        c.run(["sh", "-c", "i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done"],
              timeout=120)
        wait_for(lambda: len(alerts(agent, "True in test pod")) >= 1000, "1000 alerts",
                 timeout=60)

        def series_1000():
            ev = vigil_events(ns)
            return len(ev) == 1 and (ev[0].get("series") or {}).get("count") == 1000 and ev
        ev = wait_for(series_1000, "one Event with series.count 1000", timeout=60)
        check(ev[0]["reason"] == "TrueInTestPod", ev[0]["reason"])
        writes = (metric(agent, "vigil_k8s_requests_total",
                         {"verb": "create", "resource": "events", "code": "201"}) +
                  metric(agent, "vigil_k8s_requests_total",
                         {"verb": "patch", "resource": "events", "code": "200"}))
        check(1 <= writes <= 20, f"{writes} Event writes for 1000 alerts")
        # the writer's throttled count reaches the metric on the next
        # once-a-second tick
        thr = wait_for(lambda: (metric(agent, "vigil_alerts_throttled_total",
                                       {"sink": "k8s_events"}) >= 900),
                       "throttled count >= 900 in metrics", timeout=5)
        check(thr, "throttled count in metrics")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c.close()


def test_missing_verb_reported_not_a_crash():
    """Without create on events the agent says so and keeps detecting."""
    node = f"node-{RUN}-h"
    marker = f"/tmp/vigil-rbac-{RUN}"
    rules = """
- rule: RBAC marker
  desc: test
  condition: evt.type in (open, openat) and evt.dir = < and fd.name = %s
  output: opened %%fd.name
  priority: WARNING
""" % marker
    role = json.loads(kubectl("get", "clusterrole", "vigil", "-o", "json"))
    cut = dict(role)
    cut["rules"] = [r for r in role["rules"] if "events.k8s.io" not in r.get("apiGroups", [])]
    for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        cut["metadata"].pop(k, None)
    kubectl("replace", "-f", "-", input=json.dumps(cut))
    agent = None
    try:
        agent = Agent(node, rules=rules)
        agent.wait_synced()
        with open(marker, "w"):
            pass
        wait_for(lambda: alerts(agent, "RBAC marker"), "the alert on stdout")
        wait_for(lambda: "could not be written as Events" in agent.stderr() and
                 "forbidden" in agent.stderr().lower(), "a clear 403 message", timeout=60)
        check(agent.proc.poll() is None, "the agent died")
        with open(marker, "w"):
            pass
        wait_for(lambda: len(alerts(agent, "RBAC marker")) >= 2, "detection goes on")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        install_rbac()
        try:
            os.unlink(marker)
        except OSError:
            pass


def test_api_server_outage():
    """The API server stops for 30 s: detection goes on, the agent reconnects
    and picks up a Rule applied right after the restart; Events from the
    outage are delivered or counted."""
    node = f"node-{RUN}-i"
    ns = fresh_ns("vo")
    c = Container()
    marker = f"/tmp/vigil-outage-{RUN}"
    rules = """
- rule: Outage marker
  desc: test
  condition: evt.type in (open, openat) and evt.dir = < and fd.name startswith %s
  output: opened %%fd.name
  priority: WARNING
""" % marker
    agent = None
    kdir = os.environ["VIGIL_K8S_DIR"]
    cluster = os.path.join(HERE, "cluster.sh")
    try:
        make_pod(ns, "late-rule", node, {"app": "o"})
        set_container(ns, "late-rule", c.id)
        agent = Agent(node, rules=rules)
        agent.wait_synced()
        subprocess.run([cluster, "apiserver-down", kdir], check=True, capture_output=True)
        down = time.time()
        for i in range(3):
            with open(f"{marker}-{i}", "w"):
                pass
            time.sleep(1)
        wait_for(lambda: len(alerts(agent, "Outage marker")) >= 3, "detection while down")
        time.sleep(max(0, 30 - (time.time() - down)))
        subprocess.run([cluster, "apiserver-up", kdir], check=True, capture_output=True)
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
               "metadata": {"name": "after-outage", "namespace": ns},
               "spec": {"rule": "After outage", "description": "applied after the restart",
                        "condition": "evt.type in (execve, execveat) and evt.dir = < "
                                     "and proc.name = ls",
                        "output": "ls in %k8s.pod.name", "priority": "Warning"}})
        ok = wait_for(lambda: accepted("vr", "after-outage", ns), "status after the outage",
                      timeout=90)
        check(ok["status"] == "True", ok)
        c.run(["ls", "/"])
        wait_for(lambda: alerts(agent, "After outage"), "the new Rule fires", timeout=30)

        def outage_events_accounted():
            ev = [e for e in vigil_events("default")
                  if e["regarding"].get("name") == node and e["reason"] == "OutageMarker"]
            if ev:
                return ev
            return metric(agent, "vigil_alerts_failed_total", {"sink": "k8s_events"}) >= 1
        wait_for(outage_events_accounted, "outage Events delivered or counted", timeout=90)
        check(agent.stop() == 0, "exit code")
    finally:
        if subprocess.run([cluster, "status", kdir], capture_output=True).returncode != 0:
            subprocess.run([cluster, "apiserver-up", kdir], capture_output=True)
        if agent:
            agent.close()
        c.close()
        for i in range(3):
            try:
                os.unlink(f"{marker}-{i}")
            except OSError:
                pass


def held_metric(agent, result):
    return metric(agent, "vigil_events_held_total", {"result": result})


def test_pod_status_late_first_process_alerted():
    """A container runs before its Pod's containerStatuses list it: the
    pod uid of its cgroup path names a Pod in the cache, so its first
    process waits for the status (here 5 s late, past hold_ms) and is
    alerted with the whole metadata; a Pod whose status never comes gets
    its alert at pod_hold_ms, attributed by pod uid, never as a host
    process."""
    node = f"node-{RUN}-late"
    ns = fresh_ns("vlate")
    c1, c2 = Container(), Container()
    agent = None
    try:
        c1.pod_uid = make_pod(ns, "late5", node, {"app": "late"})
        c2.pod_uid = make_pod(ns, "never", node, {"app": "never"})
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
               "metadata": {"name": f"never-{RUN}"},
               "spec": {"rule": f"never-{RUN}", "description": "pods labelled app=never",
                        "condition": "evt.type in (execve, execveat) and evt.dir = < "
                                     "and proc.name = sh",
                        "output": "shell in %k8s.ns.name/%k8s.pod.name",
                        "priority": "Warning",
                        "podSelector": {"matchLabels": {"app": "never"}}}})
        agent = Agent(node, extra="  pod_hold_ms: 12000\n")
        agent.wait_synced()
        t = threading.Timer(5.0, set_container, (ns, "late5", c1.id))
        t.start()
        t0 = time.time()
        c1.run(["sh", "-c", "true"])
        t.join()
        a = wait_for(lambda: [x for x in alerts(agent)
                              if x.get("k8s", {}).get("pod") == "late5"],
                     "the late pod's alert", timeout=20)[0]
        took = time.time() - t0
        of = a["output_fields"]
        check(of.get("k8s.ns.name") == ns and of.get("container.name") == "app",
              f"late alert without the status's metadata: {of}")
        check(took >= 4.5, f"released before the status came ({took:.1f} s)")
        check(held_metric(agent, "metadata") >= 1, "held metric (metadata)")
        # the status never comes: released at pod_hold_ms, by pod uid
        t0 = time.time()
        c2.run(["sh", "-c", "true"])
        a = wait_for(lambda: [x for x in alerts(agent)
                              if x["output_fields"].get("k8s.pod.name") == "never"],
                     "the alert of the pod without status", timeout=30)[0]
        of = a["output_fields"]
        check(of.get("k8s.ns.name") == ns and of.get("k8s.pod.label[app]") == "never",
              f"pod-uid attribution: {of}")
        check(held_metric(agent, "pod_timeout") >= 1, "held metric (pod_timeout)")
        # the ClusterRule for its pods fires (a host process never matches it)
        cr = wait_for(lambda: alerts(agent, f"never-{RUN}"), "the ClusterRule's alert")
        check(cr[0]["output"].endswith(f"shell in {ns}/never"), cr[0]["output"])
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c1.close()
        c2.close()
        kubectl("delete", "clusterrule", f"never-{RUN}", "--ignore-not-found", check_rc=False)


def tenant(ns, user):
    """A real user (authorized by RBAC, impersonated by the admin) with only
    the rights a namespace admin gets on Rules in ns."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "rule-author", "namespace": ns},
            "rules": [{"apiGroups": ["vigil.dev"], "resources": ["rules"],
                       "verbs": ["get", "list", "watch", "create", "update", "patch",
                                 "delete"]},
                      {"apiGroups": ["vigil.dev"], "resources": ["rules/status"],
                       "verbs": ["get"]}]}
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "rule-author", "namespace": ns},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                      "name": "rule-author"},
          "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                        "name": user}]}
    apply(role)
    apply(rb)
    no = kubectl("auth", "can-i", "--as", user, "get", "rulelibraries.vigil.dev",
                 check_rc=False).strip()
    check(no == "no", f"the tenant can read RuleLibraries: {no}")
    no = kubectl("auth", "can-i", "--as", user, "create", "clusterrules.vigil.dev",
                 check_rc=False).strip()
    check(no == "no", f"the tenant can create ClusterRules: {no}")


def as_tenant_apply(user, obj):
    kubectl("--as", user, "apply", "-f", "-", input=json.dumps(obj))


def tenant_rule(ns, name, cond, output, prio="Warning"):
    return {"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"rule": name, "description": "tenant rule", "condition": cond,
                     "output": output, "priority": prio}}


def condition(kind, name, ns, ctype):
    o = json.loads(kubectl("get", kind, name, "-n", ns, "-o", "json"))
    st = o.get("status") or {}
    c = [x for x in st.get("conditions", []) if x.get("type") == ctype]
    return (c[0] if c else None), st


ANCESTOR_FIELDS = ["proc.pname", "proc.pcmdline", "proc.ppid", "proc.aname[2]",
                   "proc.aname[3]", "proc.apid[2]", "proc.apid[3]", "proc.acmdline[2]",
                   "proc.acmdline[3]", "proc.aexepath[2]", "proc.aexepath[3]", "proc.aname[4]",
                   "proc.sname", "proc.vpgid.name"]


def test_tenant_rules_confined_errors_limits():
    """Tenants as users with only namespaced rights: a Rule's ancestor
    fields stop at the container (`<NA>` for host ancestors) where the
    ClusterRule twin sees them; a Rule using a cluster library's list with
    a type error gets a message without the library's items; a Rule past
    tenancy.max_rules_per_namespace is Accepted=False LimitExceeded."""
    node = f"node-{RUN}-ten"
    apply_crds()
    ns = fresh_ns("vten")
    user = f"alice-{RUN}"
    c = Container()
    agent = None
    try:
        tenant(ns, user)
        make_pod(ns, "tp", node, {"app": "t"})
        set_container(ns, "tp", c.id)
        out = " ".join(f"{f}=%{f}" for f in ANCESTOR_FIELDS)
        cond = "evt.type in (execve, execveat) and evt.dir = < and proc.name = lsx"
        as_tenant_apply(user, tenant_rule(ns, "anc", cond, "tenant " + out))
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
               "metadata": {"name": f"anc-{RUN}"},
               "spec": {"rule": f"anc-{RUN}", "description": "admin twin",
                        "condition": cond, "output": "admin " + out,
                        "priority": "Warning"}})
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "RuleLibrary",
               "metadata": {"name": f"lib-{RUN}"},
               "spec": {"lists": [{"name": f"secret_ports_{RUN}",
                                   "items": ["22", "topsecret_item"]}]}})
        as_tenant_apply(user, tenant_rule(
            ns, "uses-lib", f"evt.type = connect and fd.sport in (secret_ports_{RUN})", "x"))
        for n in ("z1", "z2", "z3"):
            as_tenant_apply(user, tenant_rule(ns, n, "evt.type = kill", "x"))
        agent = Agent(node, extra="  leader_election: true\ntenancy:\n"
                                  "  max_rules_per_namespace: 4\n")
        agent.wait_synced()
        ok = wait_for(lambda: accepted("vr", "anc", ns), "status of anc")
        check(ok["status"] == "True", f"anc: {ok}")
        bad = wait_for(lambda: accepted("vr", "uses-lib", ns), "status of uses-lib")
        check(bad["status"] == "False" and "topsecret" not in bad["message"] and
              "spec.condition" in bad["message"], f"uses-lib status: {bad}")
        # in name order: anc, uses-lib (rejected: not in force), z1, z2, z3
        lim = wait_for(lambda: accepted("vr", "z3", ns), "status of z3")
        check(lim["status"] == "False" and lim["reason"] == "LimitExceeded" and
              "tenancy.max_rules_per_namespace" in lim["message"], f"z3 status: {lim}")
        check(accepted("vr", "z2", ns)["status"] == "True", "z2 not accepted")
        # a tree: runc (host) > sh (container init) > wrap > lsx, scripts so
        # that each is a real execve (busybox runs its applets in-process)
        for name, body in (("wrap", "/bin/lsx; true"), ("lsx", "ls / >/dev/null; true")):
            path = os.path.join(c.dir, "rootfs", "bin", name)
            with open(path, "w") as f:
                f.write("#!/bin/sh\n" + body + "\n")
            os.chmod(path, 0o755)
        c.run(["sh", "-c", "/bin/wrap; true"])
        t = wait_for(lambda: [a for a in agent.lines() if a.get("rule") == "anc"],
                     "the tenant rule's alert")[0]
        adm = wait_for(lambda: [a for a in agent.lines() if a.get("rule") == f"anc-{RUN}"],
                       "the ClusterRule's alert")[0]
        tf, af = t["output_fields"], adm["output_fields"]
        check(tf.get("proc.pname") == "wrap" and tf.get("proc.aname[2]") == "sh",
              f"container ancestors hidden from the tenant: {tf}")
        check(af.get("proc.aname[3]") and tf.get("proc.aname[3]") is None,
              f"aname[3] (the host's runc): admin {af.get('proc.aname[3]')!r}, "
              f"tenant {tf.get('proc.aname[3]')!r}")
        host = [f for f in ANCESTOR_FIELDS if af.get(f) not in (None, "<NA>") and
                af.get(f) != tf.get(f)]
        check(host, f"the ClusterRule saw no host ancestor: {af}")
        for f in host:
            check(tf.get(f) in ("<NA>", None, "0", ""),
                  f"the tenant's {f} shows host data: {tf.get(f)!r} (admin: {af.get(f)!r})")
        check("runc" not in t["output"], f"host data in the tenant's output: {t['output']}")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c.close()
        kubectl("delete", "clusterrule", f"anc-{RUN}", "--ignore-not-found", check_rc=False)
        kubectl("delete", "rulelibrary", f"lib-{RUN}", "--ignore-not-found", check_rc=False)


def test_tenant_rule_throttled_cost_in_status_and_metrics():
    """A namespace whose Rules spend more than
    tenancy.namespace_cpu_ms_per_second: Throttled=True and the cost in
    the Rule's status, per-object series in the metrics, gone with the
    object."""
    node = f"node-{RUN}-thr"
    apply_crds()
    ns = fresh_ns("vthr")
    user = f"bob-{RUN}"
    c = Container()
    agent = None
    try:
        tenant(ns, user)
        make_pod(ns, "busy", node, {"app": "busy"})
        set_container(ns, "busy", c.id)
        terms = " or ".join(f'fd.name contains "/nonexistent-{i}/"' for i in range(150))
        as_tenant_apply(user, tenant_rule(
            ns, "heavy", f"evt.type in (open, openat, openat2) and ({terms})", "x"))
        agent = Agent(node, extra="  leader_election: true\ntenancy:\n"
                                  "  namespace_cpu_ms_per_second: 1\n")
        agent.wait_synced()
        wait_for(lambda: accepted("vr", "heavy", ns), "status of heavy")
        c.run(["sh", "-c", "i=0; while [ $i -lt 60000 ]; do : < /etc/passwd; "
                           "i=$((i+1)); done"], timeout=120)
        labels = {"kind": "Rule", "namespace": ns, "name": "heavy"}
        wait_for(lambda: metric(agent, "vigil_rule_object_throttled_total", labels) > 0,
                 "throttled events in the metrics", timeout=20)
        check(metric(agent, "vigil_rule_object_events_total", labels) > 0, "events metric")
        check(metric(agent, "vigil_rule_object_cpu_nanoseconds_total", labels) > 0,
              "cpu metric")

        def throttled():
            cnd, st = condition("vr", "heavy", ns, "Throttled")
            return (cnd, st) if cnd and cnd["status"] == "True" else None
        cnd, st = wait_for(throttled, "Throttled=True in the status", timeout=20)
        check(cnd["reason"] == "BudgetExceeded" and ns in cnd["message"], cnd)
        cost = st.get("cost") or {}
        check(cost.get("node") == node and cost.get("eventsEvaluated", 0) > 0 and
              cost.get("cpuNanoseconds", 0) > 0 and cost.get("eventsThrottled", 0) > 0,
              f"status.cost: {cost}")
        acc, _ = condition("vr", "heavy", ns, "Accepted")
        check(acc and acc["status"] == "True", f"Accepted kept next to Throttled: {acc}")
        # the tenant can read its Rule's status
        kubectl("--as", user, "get", "rules.vigil.dev", "heavy", "-n", ns)
        # the object goes: so do its series
        kubectl("--as", user, "delete", "rules.vigil.dev", "heavy", "-n", ns)
        wait_for(lambda: metric(agent, "vigil_rule_object_events_total", labels) == 0 and
                 f'namespace="{ns}"' not in agent_metrics(agent),
                 "the series removed with the object", timeout=20)
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        c.close()


def agent_metrics(agent):
    import urllib.request
    return urllib.request.urlopen(
        f"http://127.0.0.1:{agent.metrics_port()}/metrics", timeout=10).read().decode()


TENANT_DIR = os.environ.get("VIGIL_K8S_DIR", "")


def tenant_kubectl(tenant, *args, input=None):
    """kubectl as a tenant user (a static token, only what RoleBindings give)."""
    return subprocess.run(["kubectl", "--kubeconfig",
                           os.path.join(TENANT_DIR, tenant + ".kubeconfig")] + list(args),
                          input=input, capture_output=True, text=True, timeout=120)


def team_rule(ns, name, rule, proc):
    return {"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"rule": rule, "description": "team rule",
                     "condition": "evt.type in (execve, execveat) and evt.dir = < "
                                  f"and proc.name = {proc}",
                     "output": f"team {name}: %proc.name in %k8s.pod.name",
                     "priority": "Warning"}}


def test_tenant_cannot_starve_or_impersonate_cluster_rules():
    """Team A, a real user with only the chart's rules-edit role in its
    namespace, floods Events from 30 Rules firing on every ls in its pod
    (Events queue 2), and names one of its Rules like the admin's
    ClusterRule.  The ClusterRule's alert on team B's pod still becomes an
    Event within 2 s; the team's look-alike gets its own Event series,
    identified by its Rule, apart from the ClusterRule's on the same pod;
    every alert that did not become an Event is counted as failed by reason
    and namespace; no two Events of one syscall share a name (no 409)."""
    node = f"node-{RUN}-t"
    ns_a = fresh_ns("tena")
    ns_b = fresh_ns("tenb")
    ca, cb = Container(), Container()
    agent = None
    stop_flood = threading.Event()
    flood = None
    try:
        make_pod(ns_a, "pa", node, {"app": "a"})
        make_pod(ns_b, "pb", node, {"app": "b"})
        set_container(ns_a, "pa", ca.id)
        set_container(ns_b, "pb", cb.id)
        kubectl("create", "rolebinding", "team-a-rules", "-n", ns_a,
                "--clusterrole=vigil-rules-edit", "--user=tenant-a")
        # tenant-a is a tenant, not an admin: no ClusterRule, no other namespace
        p = tenant_kubectl("tenant-a", "apply", "-f", "-",
                           input=json.dumps(team_rule(ns_b, "x", "X", "ls")))
        check(p.returncode != 0 and "Forbidden" in p.stderr,
              f"tenant-a wrote a Rule in {ns_b}: {p.stdout} {p.stderr}")
        p = tenant_kubectl("tenant-a", "get", "clusterrules")
        check(p.returncode != 0 and "Forbidden" in p.stderr, "tenant-a read ClusterRules")
        objs = [team_rule(ns_a, f"flood-{i}", f"Flood {i}", "ls") for i in range(30)]
        objs.append(team_rule(ns_a, "lookalike", "Cluster cat watch", "cat"))
        p = tenant_kubectl("tenant-a", "apply", "-f", "-",
                           input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
        check(p.returncode == 0, "tenant-a could not write its Rules: " + p.stderr)
        apply({"apiVersion": "vigil.dev/v1alpha1", "kind": "ClusterRule",
               "metadata": {"name": f"cat-watch-{RUN}"},
               "spec": {"rule": "Cluster cat watch", "description": "admin rule",
                        "condition": "evt.type in (execve, execveat) and evt.dir = < "
                                     "and proc.name = cat and container.id != host",
                        "output": "admin: cat in %k8s.ns.name/%k8s.pod.name",
                        "priority": "Warning"}})
        agent = Agent(node, extra="    queue_length: 2\n")
        agent.wait_synced()
        wait_for(lambda: accepted("vr", "lookalike", ns_a), "the look-alike Rule accepted")
        wait_for(lambda: accepted("vcr", f"cat-watch-{RUN}"), "the ClusterRule accepted")
        wait_for(lambda: accepted("vr", "flood-29", ns_a), "the flood Rules accepted")

        # the team's look-alike fires first on its own pod, then the
        # ClusterRule on the same pod (one exec matches both)
        ca.run(["cat", "/dev/null"])
        # the flood: 30 alerts per ls, on and on
        ca.run(["ls", "/"])
        wait_for(lambda: len(alerts(agent, "Flood 0")) >= 1, "the flood's alerts")

        def keep_flooding():
            while not stop_flood.is_set():
                ca.run(["ls", "/"])
        flood = threading.Thread(target=keep_flooding, daemon=True)
        flood.start()
        time.sleep(1.0)
        failed_a = metric(agent, "vigil_alert_failures_total",
                          {"sink": "k8s_events", "namespace": ns_a})
        check(failed_a >= 1, f"the flood's lost Events are not counted for {ns_a}")

        # the ClusterRule on team B's pod, while team A floods
        cb.run(["cat", "/dev/null"])
        t0 = time.time()

        def cluster_event():
            return [e for e in vigil_events(ns_b) if e["reason"] == "ClusterCatWatch"]
        ev = wait_for(cluster_event, "the ClusterRule's Event in " + ns_b, timeout=10)
        took = time.time() - t0
        check(took <= 2.0, f"the ClusterRule's Event took {took:.1f} s under the flood")
        check(ev[0]["related"]["kind"] == "ClusterRule" and
              ev[0]["related"]["name"] == f"cat-watch-{RUN}", ev[0].get("related"))
        check(ev[0]["metadata"]["annotations"]["vigil.dev/rule-object"] ==
              f"ClusterRule/cat-watch-{RUN}", ev[0]["metadata"])
        stop_flood.set()
        flood.join(timeout=60)

        # on team A's pod: two Events, one per object, the admin's with its text
        def both():
            ev = [e for e in vigil_events(ns_a) if e["reason"] == "ClusterCatWatch"]
            return len(ev) >= 2 and ev
        ev = wait_for(both, "two ClusterCatWatch Events in " + ns_a, timeout=20)
        by_kind = {e["related"]["kind"]: e for e in ev}
        check(set(by_kind) == {"Rule", "ClusterRule"} and len(ev) == 2,
              [(e["related"], e["note"]) for e in ev])
        check(by_kind["ClusterRule"]["note"].startswith("admin: cat in"),
              by_kind["ClusterRule"]["note"])
        check(by_kind["Rule"]["note"].startswith("team lookalike") and
              by_kind["Rule"]["related"]["namespace"] == ns_a and
              by_kind["Rule"]["metadata"]["labels"]["vigil.dev/rule-kind"] == "Rule",
              by_kind["Rule"])
        # the JSON alerts say which object raised them
        objs = sorted((a["k8s"]["namespace"], a["rule_object"]["kind"], a["rule_object"]["name"])
                      for a in alerts(agent, "Cluster cat watch"))
        check(objs == sorted([(ns_a, "Rule", "lookalike"),
                              (ns_a, "ClusterRule", f"cat-watch-{RUN}"),
                              (ns_b, "ClusterRule", f"cat-watch-{RUN}")]), objs)
        check(all(a["rule_object"]["generation"] >= 1
                  for a in alerts(agent, "Cluster cat watch")), "generation")
        m_cluster = metric(agent, "vigil_rule_matches_total",
                           {"rule": "Cluster cat watch", "object_kind": "ClusterRule"})
        m_team = metric(agent, "vigil_rule_matches_total",
                        {"rule": "Cluster cat watch", "object_kind": "Rule",
                         "object_namespace": ns_a, "object_name": "lookalike"})
        check(m_cluster == 2 and m_team == 1, f"matches: cluster {m_cluster}, team {m_team}")
        # 30 rules on one exec of one pod: 30 names, no 409 and retry
        conflicts = metric(agent, "vigil_k8s_requests_total",
                           {"resource": "events", "code": "409"})
        check(conflicts == 0, f"{conflicts} Event creates refused with 409")
        names = [e["metadata"]["name"] for e in vigil_events(ns_a)]
        check(len(names) == len(set(names)), names)
        # what did not become an Event is failed, not sent, and said so at the end
        lost = metric(agent, "vigil_alert_failures_total", {"sink": "k8s_events"})
        check(lost >= failed_a, f"{lost} < {failed_a}")
        check(metric(agent, "vigil_alert_failures_total",
                     {"sink": "k8s_events", "namespace": ""}) == 0,
              "a cluster-scope alert was lost")
        sent = metric(agent, "vigil_alerts_sent_total", {"sink": "k8s_events"})
        total = sum(len(alerts(agent, r)) for r in
                    ["Cluster cat watch"] + [f"Flood {i}" for i in range(30)])
        check(sent + lost <= total, f"sent {sent} + failed {lost} > {total} alerts")
        check(agent.stop() == 0, "exit code")
        m = re.search(r"stopped after \d+ alerts \(\d+ deliveries, (\d+) failed\)",
                      agent.stderr())
        check(m and int(m.group(1)) >= lost, "the summary: " + agent.stderr()[-600:])
        check("could not be written as Events" in agent.stderr(), "the drops were not logged")
    finally:
        stop_flood.set()
        if flood:
            flood.join(timeout=60)
        if agent:
            agent.close()
        ca.close()
        cb.close()
        kubectl("delete", "clusterrule", f"cat-watch-{RUN}", "--ignore-not-found")


def install_rbac():
    """The chart's ClusterRole, Role and bindings for the agent's service
    account (system:serviceaccount:vigil:vigil), rendered by helm."""
    if "vigil" not in kubectl("get", "namespaces", "-o", "name"):
        kubectl("create", "namespace", "vigil")
    p = subprocess.run(["helm", "template", "vigil", CHART, "--namespace", "vigil",
                        "--show-only", "templates/rbac.yaml",
                        "--show-only", "templates/rbac-tenants.yaml"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise Failure("helm template: " + p.stderr)
    kubectl("apply", "-f", "-", input=p.stdout)


def open_counts(agent):
    """(sent, filtered in the kernel) openat events so far."""
    import urllib.request
    text = urllib.request.urlopen(
        f"http://127.0.0.1:{agent.metrics_port()}/metrics", timeout=10).read().decode()

    def one(name):
        m = re.search(r'^%s\{syscall="openat"\} (\S+)$' % name, text, re.M)
        return float(m.group(1)) if m else 0.0
    return one("vigil_events_total"), one("vigil_events_filtered_total")


def opens_rule(ns, rule, mark):
    return {"apiVersion": "vigil.dev/v1alpha1", "kind": "Rule",
            "metadata": {"name": "opens", "namespace": ns},
            "spec": {"rule": rule, "description": "a read of the marked file",
                     "condition": f"evt.type in (open, openat) and fd.name startswith /tmp/{mark}",
                     "output": "team open %fd.name in %k8s.ns.name", "priority": "Warning"}}


def test_namespaced_rule_widens_the_kernel_filter_only_for_its_namespace():
    """The kernel's prefilter with namespaced Rules about opens: each Rule's
    clauses are tested for the tasks of its own namespace's pods only.
    3000 opens of A's marked path by the host and by a pod of another
    namespace are dropped in the kernel (each was sent before: the Rule
    widened the predicate for every task); A's pod alerts on each of its
    opens.  Then the other namespace, B, gets a Rule of its own (another
    path) while its pod runs: its opens after the Rule alert.  With both
    namespaces' Rules loaded, A's pod's opens of B's path, B's pod's of A's
    and the host's of B's are dropped in the kernel too (each was sent
    when a namespace with Rules got every namespace's clauses), and each
    Rule still alerts on its own pod's opens, not on the other's."""
    node = f"node-{RUN}-n"
    apply_crds()
    ns_a, ns_b = fresh_ns("vna"), fresh_ns("vnb")
    ca, cb = Container(), Container()
    mark = "vgt-" + secrets.token_hex(3)
    mark_b = "vgu-" + secrets.token_hex(3)
    host_paths = [os.path.join("/tmp", m) for m in (mark, mark_b)]
    agent = None

    def loop(m, n):
        return (f"sleep 1; i=0; while [ $i -lt {n} ]; do read x < /tmp/{m}; "
                f"i=$((i+1)); done")

    def pod_opens(c, m, who):
        s0, f0 = open_counts(agent)
        c.run(["sh", "-c", loop(m, 3000)])
        time.sleep(1.0)
        s1, f1 = open_counts(agent)
        check(f1 - f0 >= 2900 and s1 - s0 < 1000,
              f"{who}'s 3000 opens of /tmp/{m}: {f1 - f0:.0f} filtered, {s1 - s0:.0f} sent")

    def host_opens(m):
        s0, f0 = open_counts(agent)
        for _ in range(3000):
            with open(os.path.join("/tmp", m)) as f:
                f.read()
        time.sleep(1.0)
        s1, f1 = open_counts(agent)
        check(f1 - f0 >= 3000 and s1 - s0 < 1000,
              f"the host's 3000 opens of /tmp/{m}: {f1 - f0:.0f} filtered, {s1 - s0:.0f} sent")

    try:
        for c in (ca, cb):
            for m in (mark, mark_b):
                with open(os.path.join(c.dir, "rootfs", "tmp", m), "w") as f:
                    f.write("x")
        for hp in host_paths:
            with open(hp, "w") as f:
                f.write("x")
        make_pod(ns_a, "pa", node, {"app": "x"})
        make_pod(ns_b, "pb", node, {"app": "x"})
        set_container(ns_a, "pa", ca.id)
        set_container(ns_b, "pb", cb.id)
        apply(opens_rule(ns_a, "Team A open", mark))
        agent = Agent(node)
        agent.wait_synced()
        ok = wait_for(lambda: accepted("vr", "opens", ns_a), "status of the Rule of A")
        check(ok["status"] == "True", f"Rule of A: {ok}")
        time.sleep(1.0)
        host_opens(mark)
        pod_opens(cb, mark, f"the pod of {ns_b}")
        ca.run(["sh", "-c", loop(mark, 20)])
        got = wait_for(lambda: len(alerts(agent, "Team A open")) >= 20 and
                       alerts(agent, "Team A open"), "the Rule of A's 20 alerts")
        check(len(got) == 20 and all(a["k8s"]["namespace"] == ns_a for a in got),
              f"Team A open: {len(got)} alerts")
        # B's pod runs, is placed while B has no Rule, then B gets one
        slow = (f"sleep 2; i=0; while [ $i -lt 60 ]; do read x < /tmp/{mark_b}; "
                f"i=$((i+1)); sleep 0.25; done")
        th = threading.Thread(target=cb.run, args=(["sh", "-c", slow],), kwargs={"timeout": 60})
        th.start()
        time.sleep(4.0)
        apply(opens_rule(ns_b, "Team B open", mark_b))
        ok = wait_for(lambda: accepted("vr", "opens", ns_b), "status of the Rule of B")
        check(ok["status"] == "True", f"Rule of B: {ok}")
        th.join(60)
        b = alerts(agent, "Team B open")
        check(len(b) >= 5 and all(a["k8s"]["namespace"] == ns_b for a in b),
              f"opens of {ns_b}'s running pod after its Rule: {len(b)} alerts")
        # both namespaces have Rules: neither's widens the other's pods
        pod_opens(ca, mark_b, f"the pod of {ns_a}")
        pod_opens(cb, mark, f"the pod of {ns_b}")
        host_opens(mark_b)
        nb = len(alerts(agent, "Team B open"))
        ca.run(["sh", "-c", loop(mark, 20)])
        cb.run(["sh", "-c", loop(mark_b, 20)])
        wait_for(lambda: len(alerts(agent, "Team A open")) >= 40 and
                 len(alerts(agent, "Team B open")) >= nb + 20, "each Rule's 20 more alerts")
        time.sleep(1.0)
        a_all, b_all = alerts(agent, "Team A open"), alerts(agent, "Team B open")
        check(len(a_all) == 40 and all(a["k8s"]["namespace"] == ns_a for a in a_all),
              f"Team A open: {len(a_all)} alerts")
        check(len(b_all) == nb + 20 and all(a["k8s"]["namespace"] == ns_b for a in b_all),
              f"Team B open: {len(b_all)} alerts, {nb} before")
        check(agent.stop() == 0, "exit code")
    finally:
        if agent:
            agent.close()
        ca.close()
        cb.close()
        for hp in host_paths:
            if os.path.exists(hp):
                os.unlink(hp)


TESTS = [test_alert_carries_pod_metadata_and_becomes_event,
         test_events_of_unknown_container_wait_for_the_pod,
         test_host_process_event_on_node,
         test_namespaced_rule_scoping_status_and_rejection,
         test_hot_reload_loses_no_event,
         test_cluster_rules_accepted_and_rejected,
         test_thousand_alerts_one_event_series,
         test_missing_verb_reported_not_a_crash,
         test_api_server_outage,
         test_pod_status_late_first_process_alerted,
         test_tenant_rules_confined_errors_limits,
         test_tenant_rule_throttled_cost_in_status_and_metrics,
         test_tenant_cannot_starve_or_impersonate_cluster_rules,
         test_namespaced_rule_widens_the_kernel_filter_only_for_its_namespace]


if __name__ == "__main__":
    names = sys.argv[1:]
    install_rbac()
    apply_crds()
    livelib.main([t for t in TESTS if not names or t.__name__ in names])
