#!/usr/bin/env python3
"""`vigil run` in audit-only mode (capture.enabled: false): the audit webhook
receiver alone, as the chart's one-per-cluster audit Deployment runs it.
No BPF is loaded (no bpf fd in the process), /readyz waits for the rules and
the receiver but not for probes, an EventList posted to the receiver fires
the official k8s_audit rule at once (the run loop wakes on a queued batch),
and the mode refuses to start with nothing to watch.  Needs no root (runs
as whoever starts it; the live suite runs it as root).

  VIGIL_BIN=build/vigil python3 tests/live/test_audit_only.py
"""
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
VIGIL = os.environ.get("VIGIL_BIN", os.path.join(HERE, "..", "..", "build", "vigil"))
RULES = os.environ.get("VIGIL_FALCO_RULES",
                       os.path.join(HERE, "..", "..", "..", "shared", "falco-rules"))
K8S_RULES = os.path.join(RULES, "k8saudit", "k8s_audit_rules.yaml")
TOKEN = "audit-only-token"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pki(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-keyout",
                    f"{d}/rx.key", "-out", f"{d}/rx.crt", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    with open(f"{d}/token", "w") as f:
        f.write(TOKEN + "\n")


def http(url, ctx=None, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def privileged_pod_event(n):
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": f"id-{n}", "stage": "ResponseComplete",
            "requestURI": "/api/v1/namespaces/shop/pods", "verb": "create",
            "user": {"username": "mallory", "groups": ["system:authenticated"]},
            "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.30.0",
            "objectRef": {"resource": "pods", "namespace": "shop", "name": f"p{n}",
                          "apiVersion": "v1"},
            "responseStatus": {"metadata": {}, "code": 201},
            "requestObject": {"kind": "Pod", "apiVersion": "v1",
                              "metadata": {"name": f"p{n}", "namespace": "shop"},
                              "spec": {"containers": [
                                  {"name": "c", "image": "busybox",
                                   "securityContext": {"privileged": True}}]}},
            "responseObject": {"kind": "Pod", "apiVersion": "v1",
                               "metadata": {"name": f"p{n}", "namespace": "shop"}},
            "requestReceivedTimestamp": "2026-01-01T00:00:00.000000Z",
            "stageTimestamp": "2026-01-01T00:00:00.100000Z"}


def bpf_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "bpf" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                n += 1
        except OSError:
            pass
    return n


def main():
    d = tempfile.mkdtemp(prefix="vigil-audit-only-")
    pki(d)
    port, mport = free_port(), free_port()
    alerts = f"{d}/alerts.json"
    base = f"""kubernetes:
  enabled: "false"
outputs:
  stdout:
    enabled: false
  file:
    enabled: true
    path: {alerts}
metrics:
  listen: 127.0.0.1:{mport}
"""
    # nothing to watch: refused with a clear error
    with open(f"{d}/none.yaml", "w") as f:
        f.write(base + "capture:\n  enabled: false\n")
    r = subprocess.run([VIGIL, "run", "-c", f"{d}/none.yaml", "-r", K8S_RULES],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "nothing to watch" in r.stderr,
          f"capture and audit off: rc {r.returncode} {r.stderr!r}")

    with open(f"{d}/vigil.yaml", "w") as f:
        f.write(base + f"""capture:
  enabled: false
audit:
  enabled: true
  listen: 127.0.0.1:{port}
  tls_cert: {d}/rx.crt
  tls_key: {d}/rx.key
  token_file: {d}/token
""")
    log = open(f"{d}/vigil.log", "w")
    v = subprocess.Popen([VIGIL, "run", "-c", f"{d}/vigil.yaml", "-r", K8S_RULES],
                         stdout=log, stderr=log)
    try:
        status, body = 0, ""
        for _ in range(100):
            try:
                status, body = http(f"http://127.0.0.1:{mport}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        check(status == 200, f"/readyz {status} {body!r}")
        check("probes" not in body and "capture" not in body, f"/readyz says {body!r}")
        check(bpf_fds(v.pid) == 0, f"audit-only vigil holds {bpf_fds(v.pid)} bpf fds")

        ctx = ssl.create_default_context(cafile=f"{d}/rx.crt")
        hdr = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                           "items": [privileged_pod_event(i) for i in range(3)]}).encode()
        t0 = time.time()
        status, _ = http(f"https://127.0.0.1:{port}/k8s-audit", ctx, body, hdr)
        check(status == 200, f"POST: {status}")
        got = []
        # each event: the privileged pod, and mallory is not in the official
        # rules' list of allowed users (Disallowed K8s User)
        while time.time() - t0 < 5 and len(got) < 6:
            if os.path.exists(alerts):
                got = [json.loads(x) for x in open(alerts)]
            time.sleep(0.02)
        latency = time.time() - t0
        rules = [a["rule"] for a in got]
        check(rules.count("Create Privileged Pod") == 3 and
              set(rules) == {"Create Privileged Pod", "Disallowed K8s User"} and
              len(rules) == 6, f"alerts {rules}")
        check(all(a["source"] == "k8s_audit" for a in got), "source")
        check(latency < 1.0, f"alerts took {latency:.2f} s")
        print(f"6 alerts {latency * 1000:.0f} ms after the POST")
        _, m = http(f"http://127.0.0.1:{mport}/metrics")
        check('vigil_audit_events_total{result="evaluated"} 3' in m, "evaluated metric")
        check(v.poll() is None, "vigil exited")
    finally:
        v.terminate()
        try:
            rc = v.wait(30)
        except subprocess.TimeoutExpired:
            v.kill()
            rc = "killed"
    check(rc == 0, f"vigil run exit code {rc}")
    if failures:
        print("logs in", d)
        print(open(f"{d}/vigil.log").read()[-2000:])
        return 1
    print("test_audit_only.py: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
