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
    total = 0.0
    for ln in body.splitlines():
        if ln.startswith("#"):
            continue
        key, _, val = ln.rpartition(" ")
        if labels is None and (key == name or key.startswith(name + "{")):
            total += float(val)
        elif key == want:
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
        thr = metric(agent, "vigil_alerts_throttled_total", {"sink": "k8s_events"})
        check(thr >= 900, f"throttled count in metrics: {thr}")
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


def install_rbac():
    """The chart's ClusterRole, Role and bindings for the agent's service
    account (system:serviceaccount:vigil:vigil), rendered by helm."""
    if "vigil" not in kubectl("get", "namespaces", "-o", "name"):
        kubectl("create", "namespace", "vigil")
    p = subprocess.run(["helm", "template", "vigil", CHART, "--namespace", "vigil",
                        "--show-only", "templates/rbac.yaml"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise Failure("helm template: " + p.stderr)
    kubectl("apply", "-f", "-", input=p.stdout)


TESTS = [test_alert_carries_pod_metadata_and_becomes_event,
         test_events_of_unknown_container_wait_for_the_pod,
         test_host_process_event_on_node,
         test_namespaced_rule_scoping_status_and_rejection,
         test_hot_reload_loses_no_event,
         test_cluster_rules_accepted_and_rejected,
         test_thousand_alerts_one_event_series,
         test_missing_verb_reported_not_a_crash,
         test_api_server_outage]


if __name__ == "__main__":
    names = sys.argv[1:]
    install_rbac()
    apply_crds()
    livelib.main([t for t in TESTS if not names or t.__name__ in names])
