#!/usr/bin/env python3
"""End-to-end tests of k8s/ (and agent/kube/k8smeta) against a real kube-apiserver.

Runs inside an environment set up by tests/k8s/run.sh (cluster.sh start; the
variables of DIR/env).  Every test drives the library through the k8sdrv
driver and checks the exact outcome with kubectl.

    K8SDRV=build/k8sdrv VIGIL_K8S_DIR=... python3 tests/k8s/test_k8s.py [NAME...]
"""
import json
import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DRV = os.environ.get("K8SDRV", "build/k8sdrv")
DIR = os.environ["VIGIL_K8S_DIR"]
ADMIN = os.environ["VIGIL_K8S_ADMIN_KUBECONFIG"]
AGENT_USER = os.environ["VIGIL_K8S_AGENT_USER"]
CLUSTER = os.path.join(HERE, "cluster.sh")
# node names unique to this run, so that a reused cluster holds no strangers
RUN = secrets.token_hex(2)


def N(name):
    return f"{name}-{RUN}"


def kubectl(*args, input=None, check=True, kubeconfig=None):
    cmd = ["kubectl", "--kubeconfig", kubeconfig or ADMIN] + list(args)
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def kjson(*args):
    return json.loads(kubectl(*args, "-o", "json"))


def fresh_ns(prefix, labels=None):
    ns = f"{prefix}-{secrets.token_hex(3)}"
    kubectl("create", "namespace", ns)
    if labels:
        kubectl("label", "namespace", ns, *[f"{k}={v}" for k, v in labels.items()])
    return ns


def make_pod(ns, name, node, labels=None, image="registry.example:5000/team/web:1.2"):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": name}},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}],
                 "initContainers": [{"name": "init", "image": "busybox@sha256:" + "ab" * 32}]},
    }
    kubectl("apply", "-f", "-", input=json.dumps(pod))


def set_status(ns, name, cid, init_cid=None):
    st = {"phase": "Running", "containerStatuses": [{
        "name": "app", "image": "registry.example:5000/team/web:1.2", "imageID": "",
        "ready": True, "restartCount": 0, "started": True,
        "containerID": f"containerd://{cid}",
        "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}}}]}
    if init_cid:
        st["initContainerStatuses"] = [{
            "name": "init", "image": "busybox", "imageID": "", "ready": True,
            "restartCount": 0, "containerID": f"cri-o://{init_cid}",
            "state": {"terminated": {"exitCode": 0}}}]
    kubectl("patch", "pod", name, "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": st}))


def del_pod(ns, name):
    kubectl("delete", "pod", name, "-n", ns, "--grace-period=0", "--force", "--wait=false")


class Drv:
    """A k8sdrv process: JSON lines out, commands in."""

    def __init__(self, *args, kubeconfig=None):
        self.p = subprocess.Popen([DRV, "-k", kubeconfig or ADMIN] + list(args),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.q = queue.Queue()
        self.lines = []
        self.killed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({"ev": "bad", "line": line})
        self.q.put(None)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def wait(self, pred, timeout=30, what="a line"):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; seen: "
                                     f"{json.dumps(self.lines[-15:])[:3000]}")
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                raise AssertionError(f"driver exited ({self.p.wait()}) waiting for {what}: "
                                     f"{self.p.stderr.read()[-2000:]}")
            self.lines.append(ev)
            if pred(ev):
                return ev

    def request(self, cmd, ev, timeout=30):
        self.send(cmd)
        return self.wait(lambda e: e.get("ev") == ev, timeout, ev)

    def seen(self, pred):
        return [e for e in self.lines if pred(e)]

    def close(self):
        try:
            self.send("quit")
            self.p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("the driver did not stop within 20 s")
        # a clean exit: under ASan this also means no leak and no memory error
        if not self.killed and self.p.returncode != 0:
            raise AssertionError(f"driver exit {self.p.returncode}: "
                                 f"{self.p.stderr.read()[-3000:]}")
        return self.p.returncode


def pod_keys(ns_list, node=None):
    keys = []
    for ns in ns_list:
        for p in kjson("get", "pods", "-n", ns)["items"]:
            if node is None or p["spec"].get("nodeName") == node:
                keys.append(f"{ns}/{p['metadata']['name']}")
    return sorted(keys)


def dump_keys(d, ns_list):
    dump = d.request("dump", "dump")
    return sorted(k for k in dump["keys"] if k.split("/")[0] in ns_list), dump


def wait_consistent(d, ns_list, node, timeout=30):
    """The informer's cache equals what kubectl lists (for these namespaces)."""
    end = time.time() + timeout
    while True:
        want = pod_keys(ns_list, node)
        got, dump = dump_keys(d, ns_list)
        if got == want:
            return dump
        if time.time() > end:
            raise AssertionError(f"cache {got} != kubectl {want}")
        time.sleep(0.5)


def bind_agent(name, rules):
    """A ClusterRole with these rules bound to the agent's user."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name}, "rules": rules}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": name},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                             "name": AGENT_USER}]}
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                  "items": [role, binding]}))


def unbind_agent(name):
    kubectl("delete", "clusterrolebinding", name, "--ignore-not-found")
    kubectl("delete", "clusterrole", name, "--ignore-not-found")


READ_PODS = [{"apiGroups": [""], "resources": ["pods", "namespaces"],
              "verbs": ["get", "list", "watch"]}]

# --- tests -----------------------------------------------------------------------


def test_informer_add_update_delete():
    ns = fresh_ns("inf")
    make_pod(ns, "a", N("node-1"))
    make_pod(ns, "elsewhere", N("node-2"))
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-1"), "-n", "1")
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        assert d.seen(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/a"), "a not listed"
        assert not d.seen(lambda e: e.get("key") == f"{ns}/elsewhere"), "other node's pod seen"
        make_pod(ns, "b", N("node-1"))
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/b", what="add b")
        kubectl("label", "pod", "a", "-n", ns, "tier=gold")
        ev = d.wait(lambda e: e["ev"] == "update" and e["key"] == f"{ns}/a", what="update a")
        assert ev["labels"].get("tier") == "gold", ev
        del_pod(ns, "b")
        d.wait(lambda e: e["ev"] == "delete" and e["key"] == f"{ns}/b", what="delete b")
        dump = wait_consistent(d, [ns], N("node-1"))
        assert dump["lists"] == 1 and dump["errors"] == 0, dump
    finally:
        d.close()


def test_informer_cache_keys_only():
    """cache_keys_only: the callbacks see whole objects, the cache keeps keys."""
    ns = fresh_ns("keys")
    make_pod(ns, "a", N("node-keys"))
    make_pod(ns, "b", N("node-keys"))
    full = Drv("watch", "-f", "spec.nodeName=" + N("node-keys"))
    # one object per page: the add callbacks run page by page
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-keys"), "-K", "-n", "1")
    try:
        full.wait(lambda e: e["ev"] == "synced", what="synced (whole cache)")
        ev = d.wait(lambda e: e["ev"] == "synced", what="synced")
        assert ev["objects"] == 2, ev
        adds = d.seen(lambda e: e["ev"] == "add")
        assert sorted(e["key"] for e in adds) == [f"{ns}/a", f"{ns}/b"], adds
        assert all(e["has_spec"] for e in adds), adds
        kubectl("label", "pod", "a", "-n", ns, "tier=gold")
        ev = d.wait(lambda e: e["ev"] == "update" and e["key"] == f"{ns}/a", what="update a")
        assert ev["labels"].get("tier") == "gold" and ev["has_spec"], ev
        assert ev["old_has_spec"] is False, ev
        del_pod(ns, "b")
        d.wait(lambda e: e["ev"] == "delete" and e["key"] == f"{ns}/b", what="delete b")
        dump = wait_consistent(d, [ns], N("node-keys"))
        assert dump["cached_extra"] == 0 and dump["objects"] >= 1, dump
        # the same informer without the option caches whole objects
        assert full.request("dump", "dump")["cached_extra"] >= 1
    finally:
        d.close()
        full.close()


def test_paging():
    ns = fresh_ns("page")
    for i in range(7):
        make_pod(ns, f"p{i}", N("node-page"))
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-page"), "-n", "2")
    try:
        ev = d.wait(lambda e: e["ev"] == "synced", what="synced")
        assert ev["objects"] == 7, ev
        assert len(d.seen(lambda e: e["ev"] == "add")) == 7
    finally:
        d.close()


def test_watch_timeout_rewatch():
    ns = fresh_ns("rewatch")
    make_pod(ns, "a", N("node-rw"))
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-rw"), "-t", "2")
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        time.sleep(7)
        make_pod(ns, "late", N("node-rw"))
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/late", what="add after re-watch")
        dump = wait_consistent(d, [ns], N("node-rw"))
        # watches that ended after 2 s were re-established from the last
        # resourceVersion, without a relist
        assert dump["restarts"] >= 3, dump
        assert dump["lists"] == 1 and dump["relists"] == 0 and dump["errors"] == 0, dump
    finally:
        d.close()


WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.vigil.test}
spec:
  group: e2e.vigil.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def ensure_crd():
    kubectl("apply", "-f", "-", input=WIDGET_CRD)
    kubectl("wait", "--for", "condition=established", "crd/widgets.e2e.vigil.test",
            "--timeout=60s")


def widget(ns, name):
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "e2e.vigil.test/v1", "kind": "Widget",
        "metadata": {"name": name, "namespace": ns}, "spec": {"size": 1}}))


def test_410_relist():
    ensure_crd()
    ns = fresh_ns("expired")
    for i in range(3):
        widget(ns, f"w{i}")
    # resourceVersion 1 predates this resource's watch cache: 410 Expired
    d = Drv("watch", "-p", "/apis/e2e.vigil.test/v1/widgets", "-r", "widgets", "-R", "1", "-E")
    try:
        err = d.wait(lambda e: e["ev"] == "raw" and e["type"] == "ERROR", what="ERROR event")
        assert err["status"]["code"] == 410, err
        d.wait(lambda e: e["ev"] == "synced", what="synced after relist")
        dump = d.request("dump", "dump")
        got = sorted(k for k in dump["keys"] if k.startswith(ns + "/"))
        assert got == [f"{ns}/w0", f"{ns}/w1", f"{ns}/w2"], got
        widget(ns, "w3")
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/w3", what="add after relist")
    finally:
        d.close()


def test_resource_version_too_large():
    ns = fresh_ns("toolarge")
    make_pod(ns, "a", N("node-tl"))
    # a watch from a version the server has not reached stays silent; the
    # informer checks the version (504 ResourceVersionTooLarge) and relists
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-tl"), "-R", "99999999", "-t", "5")
    try:
        ev = d.wait(lambda e: e["ev"] == "synced", timeout=40, what="synced after too large")
        assert ev["objects"] == 1, ev
        wait_consistent(d, [ns], N("node-tl"))
        make_pod(ns, "b", N("node-tl"))
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/b", what="add b")
    finally:
        d.close()


def test_metadata_only_namespaces():
    ns = fresh_ns("meta", {"team": "blue"})
    d = Drv("watch", "-p", "/api/v1/namespaces", "-r", "namespaces", "-m")
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        ev = d.seen(lambda e: e["ev"] == "add" and e["key"] == ns)[0]
        assert ev["kind"] == "PartialObjectMetadata" and not ev["has_spec"], ev
        assert ev["labels"]["team"] == "blue", ev
        kubectl("label", "namespace", ns, "team=red", "--overwrite")
        ev = d.wait(lambda e: e["ev"] == "update" and e["key"] == ns, what="ns update")
        assert ev["labels"]["team"] == "red" and ev["kind"] == "PartialObjectMetadata", ev
    finally:
        d.close()


def test_server_restart():
    ns = fresh_ns("restart")
    make_pod(ns, "a", N("node-rs"))
    make_pod(ns, "b", N("node-rs"))
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-rs"), "-t", "100")
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        subprocess.run([CLUSTER, "apiserver-down", DIR], check=True, capture_output=True)
        d.wait(lambda e: e["ev"] == "error" and e["code"] == 0, timeout=30,
               what="a connection error while the server is down")
        time.sleep(3)
        subprocess.run([CLUSTER, "apiserver-up", DIR], check=True, capture_output=True)
        make_pod(ns, "c", N("node-rs"))
        del_pod(ns, "a")
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/c", timeout=60,
               what="add after restart")
        d.wait(lambda e: e["ev"] == "delete" and e["key"] == f"{ns}/a", timeout=60,
               what="delete after restart")
        wait_consistent(d, [ns], N("node-rs"))
    finally:
        d.close()


def test_idle_timeout_dead_connection():
    ns = fresh_ns("idle")
    make_pod(ns, "a", N("node-id"))
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-id"), "-t", "100", "-i", "3")
    pid = int(open(os.path.join(DIR, "kube-apiserver.pid")).read())
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        time.sleep(1.5)  # the watch is established
        # a server that stops answering but keeps the connection open
        os.kill(pid, 19)  # SIGSTOP
        try:
            ev = d.wait(lambda e: e["ev"] == "error", timeout=15, what="idle timeout")
            assert "no data from the API server for 3 s" in ev["message"], ev
        finally:
            os.kill(pid, 18)  # SIGCONT
        make_pod(ns, "b", N("node-id"))
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/b", timeout=60,
               what="add after the dead connection")
        wait_consistent(d, [ns], N("node-id"))
    finally:
        d.close()


def agent_kubeconfig(token_file):
    """The agent's kubeconfig, reading its token from token_file."""
    kc = open(os.environ["VIGIL_K8S_AGENT_KUBECONFIG"]).read()
    kc = re.sub(r"(\n\s+)token: .*", r"\1tokenFile: " + token_file, kc)
    path = os.path.join(DIR, "agent-tokenfile.kubeconfig")
    with open(path, "w") as f:
        f.write(kc)
    return path


def test_forbidden_then_granted():
    unbind_agent("e2e-reader")
    ns = fresh_ns("rbac")
    make_pod(ns, "a", N("node-rb"))
    d = Drv("-H", "watch", "-f", "spec.nodeName=" + N("node-rb"),
            kubeconfig=os.environ["VIGIL_K8S_AGENT_KUBECONFIG"])
    try:
        ev = d.wait(lambda e: e["ev"] == "error", what="403")
        # the request hook saw it, labelled for vigil_k8s_requests_total
        assert d.seen(lambda e: e["ev"] == "request" and e["verb"] == "list"
                      and e["resource"] == "pods" and e["code"] == 403)
        assert ev["code"] == 403 and ev["reason"] == "Forbidden", ev
        assert f'User "{AGENT_USER}" cannot list resource "pods"' in ev["message"], ev
        bind_agent("e2e-reader", READ_PODS)
        d.wait(lambda e: e["ev"] == "synced", timeout=60, what="synced once granted")
        wait_consistent(d, [ns], N("node-rb"))
        assert d.seen(lambda e: e["ev"] == "request" and e["verb"] == "list"
                      and e["resource"] == "pods" and e["code"] == 200)
    finally:
        d.close()
        unbind_agent("e2e-reader")


def test_401_token_rotation():
    bind_agent("e2e-reader", READ_PODS)
    ns = fresh_ns("token")
    make_pod(ns, "a", N("node-tk"))
    tokens = os.path.join(DIR, "pki", "tokens.csv")
    old_line = open(tokens).read()
    old_token = old_line.split(",")[0]
    tf = os.path.join(DIR, "rotating.token")
    with open(tf, "w") as f:
        f.write(old_token + "\n")
    d = Drv("watch", "-f", "spec.nodeName=" + N("node-tk"), "-t", "100", kubeconfig=agent_kubeconfig(tf))
    try:
        d.wait(lambda e: e["ev"] == "synced", what="synced")
        # the server now accepts only a new token: the agent's gets 401
        new_token = secrets.token_hex(32)
        with open(tokens, "w") as f:
            f.write(old_line.replace(old_token, new_token))
        subprocess.run([CLUSTER, "restart-apiserver", DIR], check=True, capture_output=True)
        d.wait(lambda e: e["ev"] == "error" and e["code"] == 401, timeout=60, what="401")
        # the token file is rotated: re-read at once after a 401, not a minute later
        with open(tf, "w") as f:
            f.write(new_token + "\n")
        t0 = time.time()
        make_pod(ns, "b", N("node-tk"))
        d.wait(lambda e: e["ev"] == "add" and e["key"] == f"{ns}/b", timeout=45,
               what="add with the rotated token")
        assert time.time() - t0 < 45
        wait_consistent(d, [ns], N("node-tk"))
    finally:
        d.close()
        with open(tokens, "w") as f:
            f.write(old_line)
        subprocess.run([CLUSTER, "restart-apiserver", DIR], check=True, capture_output=True)
        unbind_agent("e2e-reader")


def test_tls_other_ca_rejected():
    other = os.path.join(DIR, "other-ca")
    os.makedirs(other, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    f"{other}/ca.key", "-out", f"{other}/ca.crt", "-days", "1", "-subj",
                    "/CN=not-the-cluster-ca"], check=True, capture_output=True)
    kc = open(ADMIN).read()
    kc = re.sub(r"certificate-authority-data: .*", f"certificate-authority: {other}/ca.crt", kc)
    path = os.path.join(DIR, "other-ca.kubeconfig")
    with open(path, "w") as f:
        f.write(kc)
    # the OS store may hold anything: a CA it knows must not be trusted either
    env = dict(os.environ, SSL_CERT_FILE=os.environ["VIGIL_K8S_CA"])
    p = subprocess.run([DRV, "-k", path, "get", "/version"], capture_output=True, text=True,
                       env=env, timeout=60)
    out = json.loads(p.stdout)
    assert p.returncode != 0 and out["status"] == 0, out
    assert "TLS handshake" in out["message"] and f"{other}/ca.crt" in out["message"], out
    p = subprocess.run([DRV, "-k", ADMIN, "get", "/version"], capture_output=True, text=True,
                       timeout=60)
    assert json.loads(p.stdout)["status"] == 200, p.stdout
    # insecure-skip-tls-verify, when set explicitly, skips verification
    kc = re.sub(r"certificate-authority: .*", "insecure-skip-tls-verify: true", kc)
    with open(path, "w") as f:
        f.write(kc)
    p = subprocess.run([DRV, "-k", path, "get", "/version"], capture_output=True, text=True,
                       timeout=60)
    assert json.loads(p.stdout)["status"] == 200, p.stdout


def test_meta_container_lookup():
    ns = fresh_ns("kmeta", {"team": "blue"})
    cid = secrets.token_hex(32)
    init_cid = secrets.token_hex(32)
    make_pod(ns, "web", N("node-m"), labels={"app": "web"})
    set_status(ns, "web", cid, init_cid)
    d = Drv("meta", "-N", N("node-m"))
    try:
        d.wait(lambda e: e["ev"] == "publish" and e["synced"], what="synced")
        ev = d.request(f"lookup {cid[:12]}", "lookup")
        assert ev["found"], ev
        uid = kjson("get", "pod", "web", "-n", ns)["metadata"]["uid"]
        assert (ev["pod"], ev["ns"], ev["uid"], ev["container"]) == ("web", ns, uid, "app"), ev
        assert (ev["repo"], ev["tag"]) == ("registry.example:5000/team/web", "1.2"), ev
        assert ev["pod_labels"] == {"app": "web"}, ev
        assert ev["ns_labels"]["team"] == "blue", ev
        assert ev["start_ts"] == 1767323045 * 10**9, ev
        ev = d.request(f"lookup {init_cid[:12]}", "lookup")
        assert ev["found"] and ev["container"] == "init" and ev["tag"] == "", ev
        # namespace labels change live
        kubectl("label", "namespace", ns, "team=red", "--overwrite")
        end = time.time() + 20
        while d.request(f"lookup {cid[:12]}", "lookup")["ns_labels"].get("team") != "red":
            assert time.time() < end, "namespace label change not seen"
            time.sleep(0.3)
        del_pod(ns, "web")
        end = time.time() + 20
        while d.request(f"lookup {cid[:12]}", "lookup")["found"]:
            assert time.time() < end, "deleted pod still found"
            time.sleep(0.3)
    finally:
        d.close()


def test_meta_reader_while_pods_change():
    """The capture thread's reads stay valid while snapshots are replaced
    under it (run with the ASan driver, this catches a freed snapshot)."""
    ns = fresh_ns("kmhammer")
    cid = secrets.token_hex(32)
    make_pod(ns, "web", N("node-h"))
    set_status(ns, "web", cid)
    for i in range(5):
        make_pod(ns, f"other{i}", N("node-h"))
    d = Drv("meta", "-N", N("node-h"))
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            kubectl("label", "pod", "web", "-n", ns, f"round={i}", "--overwrite")
            kubectl("label", "namespace", ns, f"round={i}", "--overwrite")
            i += 1

    t = threading.Thread(target=churn)
    try:
        d.wait(lambda e: e["ev"] == "publish" and e["synced"], what="synced")
        t.start()
        ev = d.request(f"hammer 8 {cid[:12]}", "hammer", timeout=30)
        assert ev["loops"] > 1000 and ev["found"] == ev["loops"], ev
        assert ev["gens"] >= 5, ev  # snapshots were replaced under the reader
        print(f"    {ev['loops']} sync+lookup in 8 s across {ev['gens']} snapshots "
              f"({8e9 / ev['loops']:.0f} ns each)")
    finally:
        stop.set()
        if t.is_alive():
            t.join()
        d.close()


def vigil_events(ns):
    items = kjson("get", "events.v1.events.k8s.io", "-n", ns)["items"]
    return [e for e in items if e.get("reportingController") == "vigil.dev/agent"]


def test_events_series_and_throttling():
    ns = fresh_ns("events")
    make_pod(ns, "web", N("node-ev"))
    uid = kjson("get", "pod", "web", "-n", ns)["metadata"]["uid"]
    note = "A shell was spawned in a container (user=root shell=sh cmd=sh -c ls) " + "é" * 600
    d = Drv("events", "-N", N("node-ev"))
    try:
        line = {"rule": "Terminal shell in container", "note": note, "kind": "Pod", "ns": ns,
                "name": "web", "uid": uid, "n": 1000}
        t0 = time.time()
        d.send(json.dumps(line))
        end = time.time() + 30
        while True:
            evs = vigil_events(ns)
            if evs and evs[0].get("series", {}).get("count") == 1000:
                break
            assert time.time() < end, f"series did not reach 1000: {json.dumps(evs)[:1500]}"
            time.sleep(0.5)
        assert len(evs) == 1, f"{len(evs)} Events for one rule on one pod"
        e = evs[0]
        assert e["type"] == "Warning" and e["reason"] == "TerminalShellInContainer", e
        assert e["action"] == "Detected" and e["reportingInstance"] == N("node-ev"), e
        assert e["regarding"] == {"apiVersion": "v1", "kind": "Pod", "namespace": ns,
                                  "name": "web", "uid": uid}, e["regarding"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["eventTime"]), e
        assert re.fullmatch(r"web\.[0-9a-f]+\.[0-9a-f]{8}", e["metadata"]["name"]), e["metadata"]
        assert re.fullmatch(r".*\.\d{6}Z", e["series"]["lastObservedTime"]), e["series"]
        nb = len(e["note"].encode())
        assert 1020 <= nb <= 1024 and e["note"].startswith("A shell was spawned"), nb
        for k in ("deprecatedCount", "deprecatedSource", "deprecatedFirstTimestamp"):
            assert not e.get(k), (k, e.get(k))  # unset (the server may show {})
        st = d.request("stats", "stats")
        writes = st["created"] + st["patched"]
        assert st["emitted"] == 1000 and writes <= 10, st
        assert st["throttled"] >= 990 and st["dropped"] == 0 and st["failed"] == 0, st
        print(f"    1000 alerts at once -> {writes} API writes, {st['throttled']} throttled, "
              f"series complete in {time.time() - t0:.1f} s")
        # spread over 6 s: the series grows through PATCHes, bounded by the buckets
        line["n"] = 1
        line["rule"] = "Read sensitive file untrusted"
        for _ in range(60):
            d.send(json.dumps(line))
            time.sleep(0.1)
        end = time.time() + 30
        while True:
            evs = [x for x in vigil_events(ns) if x["reason"] == "ReadSensitiveFileUntrusted"]
            if evs and evs[0].get("series", {}).get("count") == 60:
                break
            assert time.time() < end, f"series did not reach 60: {json.dumps(evs)[:1500]}"
            time.sleep(0.5)
        st2 = d.request("stats", "stats")
        w2 = st2["created"] + st2["patched"] - writes
        assert 2 <= w2 <= 10 and st2["patched"] >= 1, st2
        assert st2["throttled"] - st["throttled"] >= 50 and st2["dropped"] == 0, st2
        print(f"    60 alerts in 6 s -> {w2} API writes")
        # a host event goes to the Node, in namespace default
        d.send(json.dumps({"rule": "Write below etc", "note": "host write", "kind": "Node",
                           "name": N("node-ev")}))
        end = time.time() + 20
        while True:
            node_evs = [x for x in vigil_events("default")
                        if x["regarding"].get("name") == N("node-ev")]
            if node_evs:
                break
            assert time.time() < end, "no Node event"
            time.sleep(0.5)
        assert node_evs[0]["regarding"]["kind"] == "Node", node_evs[0]
        assert node_evs[0]["reason"] == "WriteBelowEtc", node_evs[0]
        # kubectl describe pod shows it
        assert "TerminalShellInContainer" in kubectl("describe", "pod", "web", "-n", ns)
    finally:
        d.close()


def test_events_forbidden_counted():
    unbind_agent("e2e-events")
    ns = fresh_ns("evforbid")
    d = Drv("events", "-N", N("node-x"), kubeconfig=os.environ["VIGIL_K8S_AGENT_KUBECONFIG"])
    try:
        d.send(json.dumps({"rule": "R", "note": "n", "kind": "Pod", "ns": ns, "name": "p",
                           "n": 3}))
        end = time.time() + 20
        while True:
            st = d.request("stats", "stats")
            if st["failed"] == 3:
                break
            assert time.time() < end, st
            time.sleep(0.3)
        assert "403" in st["last_error"] and "cannot create resource" in st["last_error"], st
        assert vigil_events(ns) == []
    finally:
        d.close()


def test_events_fair_shares():
    """Namespace A's Rules fill the namespaces' queue (4 series, writes held
    back by a slow per-object bucket): namespace B's Rule still gets its
    Event at once (A gives up a never-written series), and so does a
    ClusterRule's; one Rule holds at most -S series."""
    ns_a, ns_b, ns_c = fresh_ns("fsa"), fresh_ns("fsb"), fresh_ns("fsc")
    d = Drv("events", "-N", N("node-fs"), "-q", "4", "-o", "0.01", "-b", "1", "-S", "3")
    try:
        for i in range(20):
            d.send(json.dumps({"rule": f"Flood {i}", "note": "n", "kind": "Pod", "ns": ns_a,
                               "name": "pa", "okind": "Rule", "ons": ns_a,
                               "oname": f"flood-{i}"}))
        end = time.time() + 10
        while True:
            st = d.request("stats", "stats")
            if st["dropped"] + st["pending"] + st["created"] == 20:
                break
            assert time.time() < end, st
            time.sleep(0.1)
        # one more: the queue is full (a written series is not pending again
        # for 100 s at 0.01 writes/s)
        d.send(json.dumps({"rule": "Flood 20", "note": "n", "kind": "Pod", "ns": ns_a,
                           "name": "pa", "okind": "Rule", "ons": ns_a, "oname": "flood-20"}))
        while True:
            st = d.request("stats", "stats")
            if st["dropped"] + st["pending"] + st["created"] == 21:
                break
            assert time.time() < end, st
            time.sleep(0.1)
        assert st["pending"] == 4 and st["dropped"] >= 15, st
        t0 = time.time()
        d.send(json.dumps({"rule": "Team B", "note": "n", "kind": "Pod", "ns": ns_b,
                           "name": "pb", "okind": "Rule", "ons": ns_b, "oname": "b"}))
        d.send(json.dumps({"rule": "Admin", "note": "n", "kind": "Pod", "ns": ns_a,
                           "name": "pa2", "okind": "ClusterRule", "oname": "admin"}))
        while not (vigil_events(ns_b) and
                   [e for e in vigil_events(ns_a) if e["reason"] == "Admin"]):
            assert time.time() - t0 < 2, (vigil_events(ns_b), d.request("stats", "stats"))
            time.sleep(0.1)
        st1 = d.request("stats", "stats")
        assert st1["dropped"] == st["dropped"] + 1, (st, st1)  # the one A gave up for B
        st = st1
        # one Rule on 10 Pods: 3 series, the rest dropped.  One at a time,
        # each written or dropped before the next: namespace C then never
        # needs more than the one free slot of the queue, so what limits
        # it is the per-Rule cap alone (sent at once, C's third series
        # could also find C's fair share full, and be dropped for that)
        end = time.time() + 20
        st2 = st
        for i in range(10):
            d.send(json.dumps({"rule": "Wide", "note": "n", "kind": "Pod", "ns": ns_c,
                               "name": f"p{i}", "okind": "Rule", "ons": ns_c, "oname": "wide"}))
            prev = st2
            while True:  # the first three written, the others dropped
                st2 = d.request("stats", "stats")
                if (len(vigil_events(ns_c)) == i + 1 if i < 3
                        else st2["dropped"] == prev["dropped"] + 1):
                    break
                assert time.time() < end, (i, st, st2)
                time.sleep(0.05)
        st2 = d.request("stats", "stats")
        assert st2["dropped"] - st["dropped"] == 7 and st2["created"] - st["created"] == 3, (
            st, st2)
        time.sleep(1)
        assert len(vigil_events(ns_c)) == 3, vigil_events(ns_c)
    finally:
        d.close()


def test_events_survive_outage():
    ns = fresh_ns("evoutage")
    make_pod(ns, "web", N("node-eo"))
    d = Drv("events", "-N", N("node-eo"))
    try:
        subprocess.run([CLUSTER, "apiserver-down", DIR], check=True, capture_output=True)
        try:
            # alerts while the API server is away are queued and retried
            d.send(json.dumps({"rule": "Outage rule", "note": "during outage", "kind": "Pod",
                               "ns": ns, "name": "web", "n": 3}))
            time.sleep(8)
            st = d.request("stats", "stats")
            assert st["retries"] >= 1 and st["created"] == 0 and st["failed"] == 0, st
        finally:
            subprocess.run([CLUSTER, "apiserver-up", DIR], check=True, capture_output=True)
        end = time.time() + 90
        while True:
            evs = [x for x in vigil_events(ns) if x["reason"] == "OutageRule"]
            if evs:
                break
            assert time.time() < end, d.request("stats", "stats")
            time.sleep(1)
        assert evs[0]["series"]["count"] == 3, evs[0]
        st = d.request("stats", "stats")
        assert st["created"] == 1 and st["dropped"] == 0 and st["failed"] == 0, st
    finally:
        d.close()


def test_lease_election():
    ns = fresh_ns("lease")
    a = Drv("lease", "-n", ns, "-l", "writer", "-I", "node-a", "-d", "4", "-r", "1")
    try:
        a.wait(lambda e: e["ev"] == "leader" and e["leader"], what="a leads")
        b = Drv("lease", "-n", ns, "-l", "writer", "-I", "node-b", "-d", "4", "-r", "1")
        try:
            time.sleep(6)
            assert not b.seen(lambda e: e["ev"] == "leader" and e["leader"]), "two leaders"
            lease = kjson("get", "lease", "writer", "-n", ns)
            assert lease["spec"]["holderIdentity"] == "node-a", lease
            # a leader that dies without releasing: b takes over after the duration
            a.killed = True
            a.p.kill()
            a.p.wait()
            t0 = time.time()
            b.wait(lambda e: e["ev"] == "leader" and e["leader"], timeout=20, what="b leads")
            took = time.time() - t0
            assert 3 <= took <= 12, took
            lease = kjson("get", "lease", "writer", "-n", ns)
            assert lease["spec"]["holderIdentity"] == "node-b", lease
            assert lease["spec"]["leaseTransitions"] == 1, lease
        finally:
            b.close()
        # b released on exit: the holder is cleared
        lease = kjson("get", "lease", "writer", "-n", ns)
        assert not lease["spec"].get("holderIdentity"), lease
    finally:
        a.close()


def test_status_patch():
    ensure_crd()
    ns = fresh_ns("status")
    widget(ns, "w")
    p = subprocess.run([DRV, "-k", ADMIN, "status",
                        f"/apis/e2e.vigil.test/v1/namespaces/{ns}/widgets/w", "widgets",
                        json.dumps({"observedGeneration": 1, "conditions": [
                            {"type": "Accepted", "status": "True", "reason": "Compiled",
                             "message": "ok",
                             "lastTransitionTime": "2026-01-01T00:00:00Z"}]})],
                       capture_output=True, text=True, timeout=60)
    assert json.loads(p.stdout)["status"] == 200, p.stdout
    w = kjson("get", "widget.e2e.vigil.test", "w", "-n", ns)
    assert w["status"]["conditions"][0]["type"] == "Accepted", w
    assert w["status"]["observedGeneration"] == 1 and w["spec"] == {"size": 1}, w


def test_protocol_details_fake_server():
    """What a real server will not do on demand: 429 with Retry-After, watch
    events cut into tiny HTTP chunks, a relist that is itself expired.  A
    scripted HTTP server on loopback answers the informer's requests."""
    import http.server
    import random
    import urllib.parse

    pod = lambda name, rv, **labels: {"kind": "Pod", "apiVersion": "v1", "metadata": {
        "name": name, "namespace": "fake", "resourceVersion": rv, "labels": labels}}
    log = []
    t_start = time.time()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send_json(self, code, obj, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def chunked(self, lines, cut):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = "".join(json.dumps(x) + "\n" for x in lines).encode()
            i = 0
            while i < len(data):
                n = cut(i)
                part = data[i:i + n]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                i += n
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            n = len(log)
            log.append((time.time() - t_start, q))
            if n == 0:  # the first list: too many requests
                return self.send_json(429, {"kind": "Status", "code": 429,
                                            "reason": "TooManyRequests",
                                            "message": "slow down"}, [("Retry-After", "2")])
            if n == 1:
                return self.send_json(200, {"kind": "PodList", "metadata": {
                    "resourceVersion": "10"}, "items": [pod("a", "5")]})
            if n == 2:  # watch: every event split into 1..3 byte chunks
                rnd = random.Random(7)
                return self.chunked([
                    {"type": "ADDED", "object": pod("b", "11")},
                    {"type": "MODIFIED", "object": pod("a", "12", tier="gold")},
                    {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {
                        "resourceVersion": "15"}}},
                    {"type": "DELETED", "object": pod("b", "16")},
                ], lambda i: rnd.randint(1, 3))
            if n == 3:  # re-watch from 16: expired
                return self.chunked([{"type": "ERROR", "object": {
                    "kind": "Status", "code": 410, "reason": "Expired",
                    "message": "too old resource version: 16 (20)"}}], lambda i: 7)
            if n == 4:  # relist from 16 (NotOlderThan): expired too
                return self.send_json(410, {"kind": "Status", "code": 410, "reason": "Expired",
                                            "message": "too old"})
            if n == 5:  # relist from scratch
                return self.send_json(200, {"kind": "PodList", "metadata": {
                    "resourceVersion": "30"}, "items": [pod("a", "12", tier="gold"),
                                                        pod("c", "29")]})
            time.sleep(3)  # later watches: quiet (the driver may be gone by then)
            try:
                return self.chunked([], lambda i: 1)
            except (BrokenPipeError, ConnectionResetError):
                return None

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    kc = os.path.join(DIR, "fake.kubeconfig")
    with open(kc, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
current-context: fake
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{srv.server_port}"}}}}]
contexts: [{{name: fake, context: {{cluster: fake}}}}]
""")
    d = Drv("watch", "-t", "300", kubeconfig=kc)
    try:
        err = d.wait(lambda e: e["ev"] == "error", what="429")
        assert err["code"] == 429 and err["message"] == "slow down", err
        d.wait(lambda e: e["ev"] == "synced", timeout=10, what="synced")
        d.wait(lambda e: e["ev"] == "delete" and e["key"] == "fake/b", what="delete b")
        d.wait(lambda e: e["ev"] == "synced" and e["relists"] == 1, timeout=15,
               what="the relist")
        dump = d.request("dump", "dump")
        assert dump["keys"] == ["fake/a", "fake/c"], dump
        evs = [(e["ev"], e.get("key")) for e in d.lines if e["ev"] in ("add", "update",
                                                                        "delete")]
        assert evs == [("add", "fake/a"), ("add", "fake/b"), ("update", "fake/a"),
                       ("delete", "fake/b"), ("add", "fake/c")], evs
        upd = [e for e in d.lines if e["ev"] == "update"][0]
        assert upd["labels"] == {"tier": "gold"}, upd
        end = time.time() + 10
        while len(log) < 7:  # the watch after the relist
            assert time.time() < end, log
            time.sleep(0.1)
        # Retry-After: 2 s between the 429 and the next list
        assert 1.9 <= log[1][0] - log[0][0] <= 4, log[:2]
        assert log[2][1].get("watch") == "1" and log[2][1]["resourceVersion"] == "10", log[2]
        assert log[2][1]["allowWatchBookmarks"] == "true", log[2]
        assert log[2][1]["timeoutSeconds"] == "300", log[2]  # -t 300
        # re-watch from the last version seen (the DELETED event's)
        assert log[3][1]["resourceVersion"] == "16" and log[3][1].get("watch") == "1", log[3]
        # 410: relist from that version, then from scratch
        assert log[4][1].get("resourceVersion") == "16", log[4]
        assert log[4][1].get("resourceVersionMatch") == "NotOlderThan", log[4]
        assert "resourceVersion" not in log[5][1] and "watch" not in log[5][1], log[5]
        assert log[6][1]["resourceVersion"] == "30", log[6]
    finally:
        d.close()
        srv.shutdown()


TESTS = [
    test_protocol_details_fake_server,
    test_informer_add_update_delete,
    test_informer_cache_keys_only,
    test_paging,
    test_watch_timeout_rewatch,
    test_410_relist,
    test_resource_version_too_large,
    test_metadata_only_namespaces,
    test_meta_container_lookup,
    test_meta_reader_while_pods_change,
    test_forbidden_then_granted,
    test_tls_other_ca_rejected,
    test_events_series_and_throttling,
    test_events_forbidden_counted,
    test_lease_election,
    test_events_fair_shares,
    test_status_patch,
    test_idle_timeout_dead_connection,
    test_server_restart,
    test_events_survive_outage,
    test_401_token_rotation,
]


def main():
    only = set(sys.argv[1:])
    failed = 0
    ran = 0
    for t in TESTS:
        if only and t.__name__ not in only:
            continue
        ran += 1
        t0 = time.time()
        try:
            t()
            print(f"ok {ran} - {t.__name__} ({time.time() - t0:.1f} s)", flush=True)
        except Exception:
            failed += 1
            print(f"not ok {ran} - {t.__name__} ({time.time() - t0:.1f} s)", flush=True)
            traceback.print_exc()
    print(f"k8s e2e: {ran - failed} passed, {failed} failed")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
