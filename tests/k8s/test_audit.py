#!/usr/bin/env python3
"""End to end: a real kube-apiserver (cluster.sh) sends its audit events to
`vigil run`'s audit webhook receiver, and the official k8s_audit rules
($VIGIL_FALCO_RULES/k8saudit/k8s_audit_rules.yaml, unmodified) fire on real
requests.  The API server runs with the recommended audit policy of the test
data and a webhook kubeconfig that authenticates it to vigil with a client
certificate and a bearer token.  Then the receiver refuses a wrong client
certificate, a wrong token, a body over its limit and malformed JSON, and
keeps serving.

vigil runs in audit-only mode (capture.enabled: false), as the chart's audit
Deployment does: no BPF; root is needed for the cluster (cluster.sh).

  test_audit.py BUILD_DIR
"""
import calendar
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
VIGIL = os.path.join(BUILD, "vigil")
RULES = os.environ.get("VIGIL_FALCO_RULES",
                       os.path.join(HERE, "..", "..", "..", "shared", "falco-rules"))
K8SAUDIT = os.path.join(RULES, "k8saudit")


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pki(d):
    """The receiver's CA, its server certificate, the API server's client
    certificate, and a client certificate from another CA."""
    def ca(name):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.crt", "-subj", f"/CN={name}",
           "-addext", "basicConstraints=critical,CA:TRUE")

    def cert(name, ca_name, ext):
        sh("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
           f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={name}")
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext)
        sh("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{ca_name}.crt",
           "-CAkey", f"{d}/{ca_name}.key", "-CAcreateserial", "-days", "2", "-extfile",
           f"{d}/{name}.ext", "-out", f"{d}/{name}.crt")
    ca("audit-ca")
    ca("other-ca")
    cert("receiver", "audit-ca",
         "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    cert("apiserver", "audit-ca", "extendedKeyUsage=clientAuth\n")
    cert("intruder", "other-ca", "extendedKeyUsage=clientAuth\n")
    with open(f"{d}/token", "w") as f:
        f.write("s3cret-audit-token\n")


def post(port, d, body, cert="apiserver", token="s3cret-audit-token", path="/k8s-audit"):
    ctx = ssl.create_default_context(cafile=f"{d}/audit-ca.crt")
    if cert:
        ctx.load_cert_chain(f"{d}/{cert}.crt", f"{d}/{cert}.key")
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=body, method="POST")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# Alerts the official rules legitimately raise on this test's traffic
# besides the attacks it makes, each with why; anything else that fires is
# a failure (noise, or a field evaluated wrong).
ADMIN = "vigil-test-admin"  # cluster.sh's admin (O=system:masters)
BOOTSTRAP = {  # rule -> why, for system:apiserver before the test's first request
    # the API server creates its default RBAC at start: every built-in
    # ClusterRole/Role/binding is a creation the audit-trail rules log...
    "K8s ClusterRole Created": "audit trail of every ClusterRole creation",
    "K8s ClusterRoleBinding Created": "audit trail of every ClusterRoleBinding creation",
    "K8s Role Created": "audit trail of every Role creation",
    "K8s RoleBinding Created": "audit trail of every RoleBinding creation",
    # ...of roles named system:* (the rule flags any change to them)...
    "System ClusterRole Modified/Deleted": "creating the built-in system:* roles is a change to them",
    # ...that really hold wildcards (cluster-admin), writes and pods/exec (edit)...
    "ClusterRole With Wildcard Created": "built-in roles with '*' (cluster-admin, controllers)",
    "ClusterRole With Write Privileges Created": "built-in roles with write verbs",
    "ClusterRole With Pod Exec Created": "system:aggregate-to-edit grants pods/exec",
    # ...and binds cluster-admin to system:masters
    "Attach to cluster-admin Role": "the built-in binding cluster-admin -> system:masters",
    # the built-in namespaces, configmaps and the kubernetes Service
    "K8s Namespace Created": "default, kube-system, kube-public, kube-node-lease",
    "Create Disallowed Namespace": "kube-node-lease is not in the rules' allowed list",
    "K8s ConfigMap Created": "the API server's own configmaps in kube-system",
    "K8s Service Created": "the kubernetes Service",
}
AFTERMATH = {  # rule -> the object the test's own attack created, whose creation is logged
    "K8s Namespace Created": "shop",
    "Create Disallowed Namespace": "shop",  # not in allowed_namespaces
    "K8s ConfigMap Created": "creds",
    "K8s ClusterRoleBinding Created": "mallory-admin",
}


def legitimate(a, t_first):
    of = a.get("output_fields", {})
    user, target = of.get("ka.user.name"), of.get("ka.target.name")
    when = calendar.timegm(time.strptime(a["time"][:19], "%Y-%m-%dT%H:%M:%S"))
    if user == "system:apiserver" and a["rule"] in BOOTSTRAP and when < t_first:
        return BOOTSTRAP[a["rule"]]
    if user == ADMIN and a["rule"] == "Disallowed K8s User":
        return "the test's admin is not in the rules' allowed_k8s_users: each request"
    if user == ADMIN and AFTERMATH.get(a["rule"]) == target:
        return "the audit trail of an object the test created"
    return None


def events_on_objects(d, cdir, k, failures):
    """A second receiver, audit-only with Kubernetes on: the alerts of audit
    events become Kubernetes Events regarding the object acted upon (the
    Pod exec'd into, the ClusterRoleBinding created), accepted by the real
    API server.  Fed directly, as the API server feeds the first one."""
    port, mport = free_port(), free_port()
    with open(f"{d}/vigil2.yaml", "w") as f:
        f.write(f"""node_name: audit-receiver
kubernetes:
  enabled: "true"
  kubeconfig: {cdir}/admin.kubeconfig
  rules: false
  leader_election: false
capture:
  enabled: false
outputs:
  stdout:
    enabled: false
metrics:
  listen: 127.0.0.1:{mport}
audit:
  enabled: true
  listen: 127.0.0.1:{port}
  tls_cert: {d}/receiver.crt
  tls_key: {d}/receiver.key
  token_file: {d}/token
""")
    log = open(f"{d}/vigil2.log", "w")
    v = subprocess.Popen([VIGIL, "run", "-c", f"{d}/vigil2.yaml", "-r",
                          f"{K8SAUDIT}/k8s_audit_rules.yaml"], stdout=log, stderr=log)
    try:
        for _ in range(150):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{mport}/readyz").status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            failures.append("the second receiver never got ready")
            return
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        common = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "sourceIPs": ["10.0.0.7"],
                  "requestReceivedTimestamp": ts, "stageTimestamp": ts,
                  "userAgent": "kubectl/v1.34.4"}
        exec_ev = dict(common, level="Request", auditID="e1", stage="ResponseStarted",
                       verb="create", user={"username": "dev", "groups": ["devs"]},
                       requestURI="/api/v1/namespaces/shop/pods/priv/exec?command=sh",
                       objectRef={"resource": "pods", "namespace": "shop", "name": "priv",
                                  "subresource": "exec", "apiVersion": "v1"},
                       responseStatus={"metadata": {}, "code": 101})
        crb_ev = dict(common, level="RequestResponse", auditID="e2", stage="ResponseComplete",
                      verb="create", user={"username": "mallory", "groups": ["devs"]},
                      requestURI="/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                      objectRef={"resource": "clusterrolebindings",
                                 "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"},
                      responseStatus={"metadata": {}, "code": 201},
                      requestObject={"kind": "ClusterRoleBinding",
                                     "metadata": {"name": "mallory-admin"},
                                     "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
                                     "subjects": [{"kind": "User", "name": "mallory"}]},
                      responseObject={"kind": "ClusterRoleBinding",
                                      "metadata": {"name": "mallory-admin"}})
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                           "items": [exec_ev, crb_ev]}).encode()
        code = post(port, d, body, cert=None)
        if code != 200:
            failures.append(f"second receiver: POST {code}")
            return
        want = {("Pod", "v1", "shop", "priv", "Attach/Exec to pod"),
                ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", None, "mallory-admin",
                 "Cluster Role Binding to cluster-admin role")}
        got = set()
        deadline = time.time() + 20
        while time.time() < deadline and not want <= got:
            out = k("get", "events.events.k8s.io", "-A", "-o", "json").stdout
            for e in json.loads(out)["items"]:
                if e.get("reportingController") != "vigil.dev/agent":
                    continue
                r = e["regarding"]
                for w in want:
                    if (r.get("kind"), r.get("apiVersion"), r.get("namespace"),
                            r.get("name")) == w[:4] and w[4] in e.get("note", ""):
                        got.add(w)
            time.sleep(0.5)
        for w in sorted(want - got, key=str):
            failures.append(f"no Event regarding {w[0]} {w[3]} with '{w[4]}'")
    finally:
        v.terminate()
        try:
            v.wait(30)
        except subprocess.TimeoutExpired:
            v.kill()


def main():
    if os.geteuid() != 0:
        print("test_audit.py: needs root (cluster.sh)", file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix="vigil-audit-")
    cdir = os.path.join(d, "cluster")
    os.makedirs(cdir)
    pki(d)
    port, mport = free_port(), free_port()
    alerts = os.path.join(d, "alerts.json")
    with open(f"{d}/vigil.yaml", "w") as f:
        f.write(f"""kubernetes:
  enabled: "false"
capture:
  enabled: false
outputs:
  stdout:
    enabled: false
  file:
    enabled: true
    path: {alerts}
metrics:
  listen: 127.0.0.1:{mport}
audit:
  enabled: true
  listen: 127.0.0.1:{port}
  tls_cert: {d}/receiver.crt
  tls_key: {d}/receiver.key
  client_ca: {d}/audit-ca.crt
  token_file: {d}/token
  max_body_bytes: 1048576
""")
    with open(f"{d}/webhook.kubeconfig", "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: vigil
  cluster:
    server: https://127.0.0.1:{port}/k8s-audit
    certificate-authority: {d}/audit-ca.crt
users:
- name: apiserver
  user:
    client-certificate: {d}/apiserver.crt
    client-key: {d}/apiserver.key
    token: s3cret-audit-token
contexts:
- name: default
  context: {{cluster: vigil, user: apiserver}}
current-context: default
""")
    vlog = open(f"{d}/vigil.log", "w")
    vigil = subprocess.Popen([VIGIL, "run", "-c", f"{d}/vigil.yaml", "-r",
                              f"{K8SAUDIT}/k8s_audit_rules.yaml"], stdout=vlog, stderr=vlog)
    env = dict(os.environ)
    env["VIGIL_K8S_APISERVER_ARGS"] = " ".join([
        f"--audit-policy-file={K8SAUDIT}/audit-policy.yaml",
        f"--audit-webhook-config-file={d}/webhook.kubeconfig",
        "--audit-webhook-batch-max-wait=1s",
    ])
    failures = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("vigil's audit receiver did not start; see " + d)
        sh(os.path.join(HERE, "cluster.sh"), "start", cdir, env=env)
        kenv = dict(os.environ, KUBECONFIG=f"{cdir}/admin.kubeconfig")
        kubectl = os.path.join(cdir, "bin", "kubectl")

        def k(*a, inp=None, check=True):
            return subprocess.run([kubectl, *a], input=inp, text=True, capture_output=True,
                                  env=kenv, check=check)
        t_first = time.time()  # the test's first request: what came before is bootstrap
        k("create", "namespace", "shop")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "priv", "namespace": "shop"},
               "spec": {"containers": [{"name": "c", "image": "busybox",
                                        "securityContext": {"privileged": True}}]}}
        k("apply", "-f", "-", inp=json.dumps(pod))
        pod["metadata"]["name"] = "etc"
        pod["spec"] = {"containers": [{"name": "c", "image": "busybox"}],
                       "volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]}
        k("apply", "-f", "-", inp=json.dumps(pod))
        k("create", "clusterrolebinding", "mallory-admin", "--clusterrole=cluster-admin",
          "--user=mallory")
        k("create", "configmap", "creds", "-n", "shop",
          "--from-literal=aws_access_key_id=AKIAEXAMPLE")
        k("exec", "-n", "shop", "priv", "--", "true", check=False)  # no kubelet: refused
        # anonymous: /version is readable by system:unauthenticated
        ctx = ssl.create_default_context(cafile=f"{cdir}/pki/ca.crt")
        server = open(f"{cdir}/cluster.conf").read().split("APISERVER_PORT=")[1].split()[0]
        urllib.request.urlopen(f"https://127.0.0.1:{server}/version", context=ctx).read()

        want = {"Create Privileged Pod", "Create Sensitive Mount Pod",
                "Attach to cluster-admin Role",
                "Create/Modify Configmap With Private Credentials",
                "Anonymous Request Allowed", "Attach/Exec Pod"}
        fired = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            fired = {}
            if os.path.exists(alerts):
                for line in open(alerts):
                    a = json.loads(line)
                    fired.setdefault(a["rule"], []).append(a)
            if want <= set(fired):
                break
            time.sleep(0.5)
        print("fired:", {r: len(v) for r, v in fired.items()})
        for r in sorted(want - set(fired)):
            failures.append(f"rule '{r}' did not fire")
        for r, v in fired.items():
            for a in v:
                if a["source"] != "k8s_audit":
                    failures.append(f"{r}: source {a['source']}")
        execs = fired.get("Attach/Exec Pod", [])
        for a in execs:  # kubectl tries a WebSocket (GET), then SPDY (POST): one or two
            of = a.get("output_fields", {})
            if (of.get("ka.target.name"), of.get("ka.target.subresource"),
                    of.get("ka.uri.param[command]")) != ("priv", "exec", "true"):
                failures.append(f"Attach/Exec Pod: {of}")
        # everything else that fired is one of the documented cases below
        for r, v in fired.items():
            for a in v:
                user = a.get("output_fields", {}).get("ka.user.name")
                if r in want and user in (ADMIN, "system:anonymous"):
                    continue
                why = legitimate(a, t_first)
                if not why:
                    failures.append(f"unexpected alert: {r}: {a['output']}")
        priv = fired.get("Create Privileged Pod", [{}])[0]
        if priv and priv.get("output_fields", {}).get("ka.resp.name") != "priv":
            failures.append(f"Create Privileged Pod: {priv.get('output_fields')}")
        # benign reads, once the rest is in: only the official rule about
        # users outside its allowed list (the test's admin is one) may fire
        time.sleep(3)
        before = sum(1 for _ in open(alerts))
        k("get", "pods", "-A")
        k("get", "configmaps", "-n", "shop")
        k("get", "pod", "-n", "shop", "priv", "-o", "yaml")
        time.sleep(4)
        after = [json.loads(x)["rule"] for x in open(alerts)][before:]
        print("benign reads fired:", after)
        if set(after) - {"Disallowed K8s User"}:
            failures.append(f"benign reads fired {sorted(set(after))}")
        if len(after) < 3:  # the events came in: the users rule saw them
            failures.append(f"benign reads not seen: {after}")

        # the receiver refuses, counts, and keeps serving
        ok = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                         "items": []}).encode()
        checks = [
            ("wrong client certificate", lambda: post(port, d, ok, cert="intruder"), 403),
            ("no client certificate", lambda: post(port, d, ok, cert=None), 403),
            ("wrong token", lambda: post(port, d, ok, token="nope"), 401),
            ("body over the limit", lambda: post(port, d, b"{" + b" " * 2000000 + b"}"), 413),
            ("malformed JSON", lambda: post(port, d, b'{"kind": "EventList",'), 400),
            ("not an EventList", lambda: post(port, d, b'{"kind": "Pod"}'), 400),
            ("wrong path", lambda: post(port, d, ok, path="/x"), 404),
            ("still serving", lambda: post(port, d, ok), 200),
        ]
        for name, fn, want_code in checks:
            try:
                got = fn()
            except (ssl.SSLError, ConnectionError, urllib.error.URLError) as e:
                got = "tls"
                del e
            if got != want_code:
                failures.append(f"{name}: got {got}, want {want_code}")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics").read().decode()
        for res, least in [("forbidden", 2), ("unauthorized", 1), ("too_large", 1),
                           ("malformed", 2), ("not_found", 1), ("ok", 2)]:
            line = [x for x in metrics.splitlines()
                    if x.startswith(f'vigil_audit_requests_total{{result="{res}"}}')]
            if not line or float(line[0].split()[-1]) < least:
                failures.append(f"metric result={res}: {line}")
        if vigil.poll() is not None:
            failures.append("vigil exited")
        events_on_objects(d, cdir, k, failures)
    finally:
        subprocess.run([os.path.join(HERE, "cluster.sh"), "stop", cdir], capture_output=True)
        vigil.terminate()
        try:
            vigil.wait(30)
        except subprocess.TimeoutExpired:
            vigil.kill()
    for f in failures:
        print("FAIL:", f)
    if failures:
        print("logs in", d)
        return 1
    print("test_audit.py: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
