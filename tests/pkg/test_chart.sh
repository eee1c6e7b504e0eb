#!/usr/bin/env bash
# The Helm chart against a real kube-apiserver (tests/k8s/cluster.sh) with the
# real helm and kubectl (tests/k8s/tools.sh):
#   - helm lint --strict, in both security modes and with every optional part on
#   - the packaged chart carries exactly the top-level crds/ files
#   - the rendered vigil.yaml is accepted by vigil's own configuration loader
#   - helm template | kubectl apply --dry-run=server, both modes (+ ServiceMonitor
#     against a stand-in of its CRD)
#   - helm install creates the DaemonSet (shaped as documented), the RBAC, the
#     CRDs, the ConfigMaps and the metrics Service
#   - the agent's service account can do exactly what the agent does:
#     `kubectl auth can-i --list` beyond what every authenticated user may is
#     exactly the expected set, and the same calls made for real with the
#     agent's token succeed, while neighbours of them are refused
#   - the Events commands of NOTES.txt find an Event the agent's identity wrote
#   - the audit receiver (audit.enabled): refused without a certificate or
#     authentication, its vigil.yaml runs vigil in audit-only mode with the
#     files where the pod mounts them (the receiver answers, /readyz 200), the
#     Deployment and Service accepted by the server and shaped as documented
#     (not privileged, non-root, no host paths)
#   - helm upgrade (to least privilege, with custom rules and the audit
#     receiver) and helm uninstall
# Stops the server at the end, also on failure.
#   VIGIL_BIN  the vigil binary (default build/vigil)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
chart=$src/charts/vigil
vigil=${VIGIL_BIN:-$src/build/vigil}
tmp=$(mktemp -d /tmp/vigil-chart.XXXXXX)
ns=vigil # the namespace and service account cluster.sh's agent identity has
rel=vigil
passed=0

cleanup() {
	"$src/tests/k8s/cluster.sh" stop "$tmp/k8s" >/dev/null 2>&1 || true
	if [[ -z ${VIGIL_KEEP:-} ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() {
	passed=$((passed + 1))
	echo "ok $passed - $*"
}
# helm prints an INFO line for the crds symlink; keep real errors
quiet_helm() { helm "$@" 2> >(grep -v 'found symbolic link' >&2); }

[[ -x $vigil ]] || fail "no vigil binary at $vigil (scripts/build.sh build)"
mkdir -p "$tmp/k8s"
# up to 3 tries: cluster.sh's liveness check can race with the server's exec
# on a busy machine ("exited during start-up" with an empty log)
for try in 1 2 3; do
	"$src/tests/k8s/cluster.sh" start "$tmp/k8s" >"$tmp/cluster.log" 2>&1 && break
	cat "$tmp/cluster.log" >&2
	[[ $try == 3 ]] && fail "the test API server did not start"
done
# shellcheck disable=SC1091
. "$tmp/k8s/env"
agent=(kubectl --kubeconfig="$VIGIL_K8S_AGENT_KUBECONFIG")
# a merge PATCH the way the agent sends it (kubectl patch would GET first)
agent_patch() { # PATH JSON
	local code
	code=$(curl -sS -o "$tmp/patch.out" -w '%{http_code}' --cacert "$VIGIL_K8S_CA" \
		-H "Authorization: Bearer $(cat "$VIGIL_K8S_AGENT_TOKEN_FILE")" \
		-H 'Content-Type: application/merge-patch+json' -X PATCH \
		--data "$2" "$VIGIL_K8S_SERVER$1")
	[[ $code == 200 ]] || { echo "PATCH $1: $code $(cat "$tmp/patch.out")" >&2; return 1; }
}
echo "# helm $(helm version --template '{{.Version}}'), kubectl $(kubectl version --client -o json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"

# --- static checks -----------------------------------------------------------
all_on=(--set metrics.serviceMonitor.enabled=true --set-string 'customRules.a\.yaml=- list: x
  items: [a]' --set 'extraVolumes[0].name=alerts' --set 'extraVolumes[0].hostPath.path=/var/log/vigil'
	--set 'extraVolumeMounts[0].name=alerts' --set 'extraVolumeMounts[0].mountPath=/var/log/vigil'
	--set config.outputs.file.enabled=true)
audit_on=(--set audit.enabled=true --set audit.tls.secretName=vigil-audit-tls
	--set audit.clientCA.secretName=vigil-audit-tls --set audit.token.secretName=vigil-audit-token
	--set-string 'audit.rules.k8s\.yaml=- list: y
  items: [b]
- rule: chart audit test
  desc: a rule of source k8s_audit the chart test loads (vigil does not start with none)
  condition: ka.verb = create and ka.target.resource in (y)
  output: created %ka.target.resource
  priority: NOTICE
  source: k8s_audit')
all_on+=("${audit_on[@]}" --set audit.service.type=NodePort
	--set 'audit.extraVolumes[0].name=alerts' --set 'audit.extraVolumes[0].emptyDir.medium=Memory'
	--set 'audit.extraVolumeMounts[0].name=alerts' --set 'audit.extraVolumeMounts[0].mountPath=/var/log/vigil')
for mode in privileged leastPrivilege; do
	quiet_helm lint --strict "$chart" --set securityMode=$mode >"$tmp/lint" ||
		{ cat "$tmp/lint"; fail "helm lint --strict ($mode)"; }
	quiet_helm lint --strict "$chart" --set securityMode=$mode "${all_on[@]}" >"$tmp/lint" ||
		{ cat "$tmp/lint"; fail "helm lint --strict ($mode, all options)"; }
done
ok "helm lint --strict (privileged, leastPrivilege, with ServiceMonitor, customRules and the audit receiver)"

if quiet_helm template t "$chart" --set securityMode=bogus >/dev/null 2>"$tmp/err"; then
	fail "securityMode=bogus rendered"
fi
grep -q 'securityMode: "bogus" is neither' "$tmp/err" || fail "unclear error: $(cat "$tmp/err")"
ok "an unknown securityMode is refused with a message naming it"

if quiet_helm template t "$chart" --set audit.enabled=true >/dev/null 2>"$tmp/err"; then
	fail "audit.enabled without a certificate rendered"
fi
grep -q 'audit.tls.secretName: the audit receiver serves HTTPS only' "$tmp/err" ||
	fail "unclear error: $(cat "$tmp/err")"
if quiet_helm template t "$chart" --set audit.enabled=true --set audit.tls.secretName=x \
	>/dev/null 2>"$tmp/err"; then
	fail "audit.enabled without authentication rendered"
fi
grep -q 'audit.clientCA.secretName and/or audit.token.secretName' "$tmp/err" ||
	fail "unclear error: $(cat "$tmp/err")"
ok "the audit receiver is refused without a certificate or a way to authenticate the API server"

python3 - "$chart/values.yaml" "$chart/README.md" <<'EOF' || fail "values not documented"
import re, sys, yaml
values = yaml.safe_load(open(sys.argv[1]))
documented = set(re.findall(r"^\| `([^`]+)` \|", open(sys.argv[2]).read(), re.M))
def leaves(d, prefix=""):
    for k, v in d.items():
        path = prefix + k
        if isinstance(v, dict) and v:
            yield from leaves(v, path + ".")
        else:
            yield path
missing = [p for p in leaves(values) if p not in documented]
if missing:
    sys.exit("charts/vigil/README.md does not document: " + ", ".join(missing))
EOF
ok "every key of values.yaml is documented in the chart's README"

quiet_helm package "$chart" -d "$tmp/pkg" >/dev/null
tar -C "$tmp/pkg" -xzf "$tmp"/pkg/vigil-*.tgz
(cd "$src/crds" && ls ./*.yaml) >"$tmp/crds.top"
(cd "$tmp/pkg/vigil/crds" && ls ./*.yaml) >"$tmp/crds.chart"
[[ -s $tmp/crds.top ]] || fail "no CRDs in crds/"
diff -u "$tmp/crds.top" "$tmp/crds.chart" || fail "the packaged chart's crds/ differ from crds/"
for f in "$src"/crds/*.yaml; do
	cmp -s "$f" "$tmp/pkg/vigil/crds/$(basename "$f")" || fail "$(basename "$f") differs in the chart"
done
ok "the packaged chart carries exactly crds/ ($(wc -l <"$tmp/crds.top") CRDs, byte-identical)"

quiet_helm template $rel "$chart" -n $ns --show-only templates/configmap.yaml |
	python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["metadata"]["name"].endswith("vigil") and "vigil.yaml" in d.get("data", {}):
        open(sys.argv[1], "w").write(d["data"]["vigil.yaml"])
' "$tmp/vigil.yaml"
grep -q '^proc_root: /host/proc' "$tmp/vigil.yaml" || fail "rendered config: $(cat "$tmp/vigil.yaml")"
# replay loads the configuration first: exit 2 is a configuration error,
# exit 1 the (missing) capture file that comes after
set +e
"$vigil" replay -c "$tmp/vigil.yaml" "$tmp/no-such-capture" >/dev/null 2>"$tmp/err"
rc=$?
set -e
if [[ $rc != 1 ]] || ! grep -q no-such-capture "$tmp/err"; then
	fail "vigil refused the chart's configuration (rc $rc): $(cat "$tmp/err")"
fi
ok "vigil accepts the configuration the chart renders"

# the audit receiver's vigil.yaml, with the Secrets' files where the pod
# mounts them (paths moved under $tmp), run as it is: audit-only, answering
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=audit-ca \
	-keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=rx -keyout "$tmp/rx.key" \
	-out "$tmp/rx.csr" 2>/dev/null
openssl x509 -req -in "$tmp/rx.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 1 \
	-extfile <(echo subjectAltName=IP:127.0.0.1) -out "$tmp/rx.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kube-apiserver \
	-keyout "$tmp/api.key" -out "$tmp/api.csr" 2>/dev/null
openssl x509 -req -in "$tmp/api.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -days 1 \
	-extfile <(echo extendedKeyUsage=clientAuth) -out "$tmp/api.crt" 2>/dev/null
mkdir -p "$tmp/audit/tls" "$tmp/audit/client-ca" "$tmp/audit/token" "$tmp/audit/rules.d"
cp "$tmp/rx.crt" "$tmp/audit/tls/tls.crt"
cp "$tmp/rx.key" "$tmp/audit/tls/tls.key"
cp "$tmp/ca.crt" "$tmp/audit/client-ca/ca.crt"
echo chart-token >"$tmp/audit/token/token"
quiet_helm template $rel "$chart" -n $ns "${audit_on[@]}" --show-only templates/audit.yaml >"$tmp/audit.yaml"
python3 - "$tmp" "$vigil" <<'EOF' || fail "the audit receiver's configuration does not run"
import json, socket, ssl, subprocess, sys, time, urllib.request, yaml
tmp, vigil = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(tmp + "/audit.yaml")) if d]
cm = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
conf = yaml.safe_load(cm["vigil-audit"]["data"]["vigil.yaml"])
def need(cond, what):
    if not cond:
        sys.exit("audit config: " + what + ": " + json.dumps(conf))
need(conf["capture"] == {"enabled": False}, "audit-only mode")
need(conf["rules_dirs"] == ["/etc/vigil/audit/rules.d"], "its rules directory")
a = conf["audit"]
need(a["enabled"] is True and a["listen"] == "0.0.0.0:9765", "the receiver on 9765")
for k, v in (("tls_cert", "tls/tls.crt"), ("tls_key", "tls/tls.key"),
             ("client_ca", "client-ca/ca.crt"), ("token_file", "token/token")):
    need(a[k] == "/etc/vigil/audit/" + v, k)
open(tmp + "/audit/rules.d/k8s.yaml", "w").write(cm["vigil-audit-rules"]["data"]["k8s.yaml"])
ports = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1]); s.close()
text = cm["vigil-audit"]["data"]["vigil.yaml"].replace("/etc/vigil/audit/", tmp + "/audit/")
text = text.replace("0.0.0.0:9765", "127.0.0.1:%d" % ports[0])
text = text.replace("0.0.0.0:8765", "127.0.0.1:%d" % ports[1])
open(tmp + "/audit-run.yaml", "w").write(text + 'kubernetes:\n  enabled: "false"\n')
log = open(tmp + "/audit-run.log", "w")
v = subprocess.Popen([vigil, "run", "-c", tmp + "/audit-run.yaml"], stdout=log, stderr=log)
try:
    ready = None
    for _ in range(100):
        try:
            ready = urllib.request.urlopen("http://127.0.0.1:%d/readyz" % ports[1], timeout=2).status
            break
        except OSError:
            time.sleep(0.1)
    need(ready == 200, "/readyz: %s (%s)" % (ready, open(tmp + "/audit-run.log").read()))
    ctx = ssl.create_default_context(cafile=tmp + "/ca.crt")
    ctx.load_cert_chain(tmp + "/api.crt", tmp + "/api.key")
    body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": []}).encode()
    req = urllib.request.Request("https://127.0.0.1:%d/k8s-audit" % ports[0], data=body,
                                 headers={"Authorization": "Bearer chart-token"})
    need(urllib.request.urlopen(req, context=ctx, timeout=5).status == 200, "POST")
    need(v.poll() is None, "vigil exited")
finally:
    v.terminate()
    v.wait(30)
EOF
ok "the audit receiver's rendered vigil.yaml runs vigil audit-only with the pod's files: /readyz 200, a POST with the client certificate and token answered 200"

# --- against the API server ------------------------------------------------
kubectl create namespace $ns >/dev/null
# a stand-in for the Prometheus Operator's CRD, so the ServiceMonitor is checked too
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
kubectl wait --for condition=established crd/servicemonitors.monitoring.coreos.com >/dev/null
for mode in privileged leastPrivilege; do
	quiet_helm template $rel "$chart" -n $ns --include-crds --set securityMode=$mode \
		"${all_on[@]}" >"$tmp/rendered-$mode.yaml"
	kubectl apply --dry-run=server -n $ns -f "$tmp/rendered-$mode.yaml" >"$tmp/dry" 2>&1 ||
		{ cat "$tmp/dry"; fail "kubectl apply --dry-run=server refused the $mode chart"; }
	grep -q 'daemonset.apps/vigil created (server dry run)' "$tmp/dry" ||
		{ cat "$tmp/dry"; fail "dry run did not cover the DaemonSet"; }
	grep -q 'servicemonitor.monitoring.coreos.com/vigil created (server dry run)' "$tmp/dry" ||
		{ cat "$tmp/dry"; fail "dry run did not cover the ServiceMonitor"; }
	for o in deployment.apps/vigil-audit service/vigil-audit configmap/vigil-audit-rules; do
		grep -q "$o created (server dry run)" "$tmp/dry" ||
			{ cat "$tmp/dry"; fail "dry run did not cover $o"; }
	done
done
ok "helm template | kubectl apply --dry-run=server accepted (both modes, all options, the audit receiver)"

quiet_helm install $rel "$chart" -n $ns >"$tmp/install" ||
	{ cat "$tmp/install"; fail "helm install"; }
grep -q 'reportingComponent=vigil.dev/agent' "$tmp/install" || fail "NOTES: $(cat "$tmp/install")"
for o in daemonset/vigil serviceaccount/vigil configmap/vigil configmap/vigil-rules \
	service/vigil-metrics role.rbac.authorization.k8s.io/vigil rolebinding.rbac.authorization.k8s.io/vigil; do
	kubectl get -n $ns "$o" >/dev/null || fail "helm install did not create $o"
done
for o in clusterrole/vigil clusterrolebinding/vigil crd/clusterrules.vigil.dev \
	crd/rules.vigil.dev crd/rulelibraries.vigil.dev; do
	kubectl get "$o" >/dev/null || fail "helm install did not create $o"
done
ok "helm install created the DaemonSet, ServiceAccount, RBAC, CRDs, ConfigMaps and Service"

kubectl get -n $ns daemonset/vigil -o json >"$tmp/ds.json"
python3 - "$tmp/ds.json" <<'EOF' || fail "the DaemonSet is not shaped as documented"
import json, sys
ds = json.load(open(sys.argv[1]))
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
def need(cond, what):
    if not cond:
        sys.exit("DaemonSet: " + what)
need(not spec.get("hostPID"), "hostPID must be off")
vols = {v["name"]: v for v in spec["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
for path, host in (("/host/proc", "/proc"), ("/host/sys/fs/cgroup", "/sys/fs/cgroup"),
                   ("/sys/kernel/btf", "/sys/kernel/btf")):
    m = mounts.get(path)
    need(m and m.get("readOnly"), path + " mounted read-only")
    need(vols[m["name"]]["hostPath"]["path"] == host, path + " from the host's " + host)
# the container runtime's state, read-only at the host's paths; never all of
# /run/containerd (its containerd.sock)
for path in ("/run/containerd/io.containerd.runtime.v2.task",
             "/run/containers/storage/overlay-containers", "/run/runc", "/run/containerd/runc"):
    m = mounts.get(path)
    need(m and m.get("readOnly"), path + " mounted read-only")
    need(vols[m["name"]]["hostPath"]["path"] == path, path + " from the host's " + path)
need("/run/containerd" not in mounts, "/run/containerd itself must not be mounted")
env = {e["name"]: e for e in c["env"]}
for name, field in (("NODE_NAME", "spec.nodeName"), ("POD_NAME", "metadata.name"),
                    ("POD_NAMESPACE", "metadata.namespace")):
    need(env[name]["valueFrom"]["fieldRef"]["fieldPath"] == field, name + " from " + field)
need(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness /healthz")
need(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness /readyz")
need(c["ports"][0]["containerPort"] == 8765, "port 8765")
need(c["resources"]["requests"] and c["resources"]["limits"], "requests and limits")
need({"operator": "Exists"} in spec["tolerations"], "tolerates every taint")
need(spec["priorityClassName"] == "system-node-critical", "priorityClassName")
need(ds["spec"]["updateStrategy"]["type"] == "RollingUpdate", "updateStrategy")
need(c["securityContext"].get("privileged") is True, "privileged by default")
need(c["securityContext"].get("readOnlyRootFilesystem") is True, "read-only root")
need(c["args"] == ["run", "-c", "/etc/vigil/config/vigil.yaml"], "args")
need(spec["serviceAccountName"] == "vigil", "service account")
EOF
ok "the DaemonSet: host /proc, cgroup, btf read-only, no hostPID, Downward API env, probes, resources, tolerations, priority, privileged"

# --- RBAC: exactly what the agent uses ---------------------------------------
rights() { # the can-i --list rows of USER in NS, normalized
	kubectl auth can-i --list --as="$1" -n "$2" | tail -n +2 | awk '{$1=$1; print}' | sort -u
}
for where in $ns default; do
	comm -23 <(rights "$VIGIL_K8S_AGENT_USER" "$where") \
		<(rights system:serviceaccount:$ns:nobody "$where") >"$tmp/granted-$where"
done
cat >"$tmp/want-$ns" <<'EOF'
clusterrules.vigil.dev [] [] [get list watch]
clusterrules.vigil.dev/status [] [] [patch]
events.events.k8s.io [] [] [create patch]
leases.coordination.k8s.io [] [] [get create update]
namespaces [] [] [get list watch]
nodes [] [] [get]
pods [] [] [get list watch]
rulelibraries.vigil.dev [] [] [get list watch]
rulelibraries.vigil.dev/status [] [] [patch]
rules.vigil.dev [] [] [get list watch]
rules.vigil.dev/status [] [] [patch]
EOF
grep -v '^leases' "$tmp/want-$ns" >"$tmp/want-default"
for where in $ns default; do
	sort -o "$tmp/want-$where" "$tmp/want-$where"
	diff -u "$tmp/want-$where" "$tmp/granted-$where" ||
		fail "the agent's rights in namespace $where are not exactly the expected set"
done
ok "kubectl auth can-i --list: exactly the agent's needs (leases only in $ns)"

# --- RBAC for teams: the aggregated roles, used by real tenant users ---------
[[ $(kubectl get clusterrole vigil-rules-edit \
	-o jsonpath='{.metadata.labels.rbac\.authorization\.k8s\.io/aggregate-to-admin}{.metadata.labels.rbac\.authorization\.k8s\.io/aggregate-to-edit}') == truetrue ]] ||
	fail "vigil-rules-edit is not aggregated to admin and edit"
[[ $(kubectl get clusterrole vigil-rules-view \
	-o jsonpath='{.metadata.labels.rbac\.authorization\.k8s\.io/aggregate-to-view}') == true ]] ||
	fail "vigil-rules-view is not aggregated to view"
for t in team-a team-b; do kubectl create namespace $t >/dev/null; done
# tenant-a edits Rules in team-a, tenant-b only views them there
kubectl create rolebinding ta-rules -n team-a --clusterrole=vigil-rules-edit --user=tenant-a >/dev/null
kubectl create rolebinding tb-rules -n team-a --clusterrole=vigil-rules-view --user=tenant-b >/dev/null
ta=(kubectl --kubeconfig="$VIGIL_K8S_DIR/tenant-a.kubeconfig")
tb=(kubectl --kubeconfig="$VIGIL_K8S_DIR/tenant-b.kubeconfig")
rule_yaml() { # NS
	printf 'apiVersion: vigil.dev/v1alpha1\nkind: Rule\nmetadata: {name: t, namespace: %s}\nspec: {description: d, condition: evt.type = execve, output: o, priority: Notice}\n' "$1"
}
rule_yaml team-a | "${ta[@]}" apply -f - >/dev/null || fail "tenant-a cannot create a Rule in team-a"
"${ta[@]}" get rules -n team-a t >/dev/null || fail "tenant-a cannot read its Rule"
"${ta[@]}" delete rule -n team-a t >/dev/null || fail "tenant-a cannot delete its Rule"
rule_yaml team-a | "${ta[@]}" apply -f - >/dev/null || fail "tenant-a cannot create the Rule again"
refused() { # WHAT CMD...: the command must fail with Forbidden
	local what=$1
	shift
	if "$@" >"$tmp/refused" 2>&1; then fail "$what was allowed"; fi
	grep -q Forbidden "$tmp/refused" || fail "$what: not Forbidden: $(cat "$tmp/refused")"
}
refused "tenant-a creating a Rule in team-b" sh -c "$(printf '%q ' "${ta[@]}") apply -f - <<'Y'
$(rule_yaml team-b)
Y"
refused "tenant-a listing ClusterRules" "${ta[@]}" get clusterrules
refused "tenant-a reading RuleLibraries" "${ta[@]}" get rulelibraries
refused "tenant-a writing its Rule's status" "${ta[@]}" patch rule t -n team-a --subresource=status \
	--type=merge -p '{"status":{"observedGeneration":9}}'
refused "tenant-a reading Events of team-b" "${ta[@]}" get events -n team-b
"${tb[@]}" get rules -n team-a t >/dev/null || fail "tenant-b (view) cannot read team-a's Rules"
refused "tenant-b (view) changing a Rule" "${tb[@]}" delete rule -n team-a t
refused "tenant-b listing Rules of team-b" "${tb[@]}" get rules -n team-b
kubectl delete namespace team-a team-b --wait=false >/dev/null
ok "team roles: rules-edit (aggregated to admin/edit) manages its namespace's Rules only, rules-view (to view) reads them; no ClusterRules, libraries, status or other namespaces"

# the same rights used for real with the agent's own token
for path in /api/v1/pods /api/v1/namespaces /apis/vigil.dev/v1alpha1/clusterrules \
	/apis/vigil.dev/v1alpha1/rules /apis/vigil.dev/v1alpha1/rulelibraries; do
	for q in "" "?watch=1&timeoutSeconds=1&allowWatchBookmarks=true"; do
		# 429: a new CRD's watch cache is still initializing; retry
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$VIGIL_K8S_CA" \
				-H "Authorization: Bearer $(cat "$VIGIL_K8S_AGENT_TOKEN_FILE")" \
				"$VIGIL_K8S_SERVER$path$q")
			[[ $code == 429 ]] || break
			sleep 1
		done
		[[ $code == 200 ]] || fail "agent: GET $path$q: $code"
	done
done
"${agent[@]}" get pods -n $ns >/dev/null 2>&1 || fail "agent: kubectl get pods"
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: vigil.dev/v1alpha1
kind: ClusterRule
metadata:
  name: chart-test
spec:
  description: d
  condition: evt.type = execve
  output: o
  priority: Notice
EOF
agent_patch /apis/vigil.dev/v1alpha1/clusterrules/chart-test/status \
	'{"status":{"observedGeneration":1}}' || fail "agent: patch ClusterRule status"
[[ $(kubectl get clusterrule chart-test -o jsonpath='{.status.observedGeneration}') == 1 ]] ||
	fail "the status patch did not land"
if agent_patch /apis/vigil.dev/v1alpha1/clusterrules/chart-test '{"spec":{"priority":"Debug"}}' \
	2>/dev/null; then fail "agent could change a ClusterRule's spec"; fi
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
cat >"$tmp/event.yaml" <<EOF
apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: node-under-test.$(printf '%x' "$(date +%s%N)")
  namespace: default
eventTime: "$now"
regarding: {apiVersion: v1, kind: Node, name: node-under-test}
type: Warning
reason: ChartTest
note: written with the agent's identity
action: Detected
reportingController: vigil.dev/agent
reportingInstance: node-under-test
EOF
"${agent[@]}" create -f "$tmp/event.yaml" >/dev/null || fail "agent: create an Event"
evname=$(awk '/name: node-under-test\./{print $2}' "$tmp/event.yaml")
agent_patch "/apis/events.k8s.io/v1/namespaces/default/events/$evname" \
	"{\"series\":{\"count\":2,\"lastObservedTime\":\"$now\"}}" ||
	fail "agent: patch an Event's series"
if "${agent[@]}" delete events.events.k8s.io -n default "$evname" >/dev/null 2>&1; then
	fail "agent could delete an Event"
fi
kubectl get events -A --field-selector reportingComponent=vigil.dev/agent | grep -q ChartTest ||
	fail "NOTES' kubectl get events command does not find the agent's Event"
kubectl get events.events.k8s.io -A --field-selector reportingController=vigil.dev/agent \
	-o yaml | grep -q 'reason: ChartTest' || fail "NOTES' events.k8s.io command"
cat >"$tmp/lease.yaml" <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: vigil-status-writer}
spec: {holderIdentity: node-under-test, leaseDurationSeconds: 15}
EOF
"${agent[@]}" create -n $ns -f "$tmp/lease.yaml" >/dev/null || fail "agent: create its Lease"
"${agent[@]}" get -n $ns lease vigil-status-writer -o yaml >"$tmp/lease-got.yaml" ||
	fail "agent: get its Lease"
sed -i 's/holderIdentity: node-under-test/holderIdentity: node-2/' "$tmp/lease-got.yaml"
"${agent[@]}" replace -f "$tmp/lease-got.yaml" >/dev/null || fail "agent: update its Lease"
if "${agent[@]}" create -n default -f "$tmp/lease.yaml" >/dev/null 2>&1; then
	fail "agent could create a Lease outside its namespace"
fi
for denied in "get secrets -A" "get configmaps -n $ns" "get nodes" "delete pod x -n default" \
	"get daemonsets -n $ns" "get events -n default"; do
	# shellcheck disable=SC2086 # the words are the command
	if "${agent[@]}" $denied >/dev/null 2>&1; then fail "agent may: kubectl $denied"; fi
done
ok "the agent's token: list/watch pods, namespaces and rules, patch rule status, create/patch Events, get/create/update its Lease; refused beyond"

# --- upgrade, uninstall ------------------------------------------------------
kubectl -n $ns create secret generic vigil-audit-tls --type=kubernetes.io/tls \
	--from-file=tls.crt="$tmp/rx.crt" --from-file=tls.key="$tmp/rx.key" \
	--from-file=ca.crt="$tmp/ca.crt" >/dev/null
kubectl -n $ns create secret generic vigil-audit-token --from-literal=token=chart-token >/dev/null
quiet_helm upgrade $rel "$chart" -n $ns --set securityMode=leastPrivilege \
	--set audit.enabled=true --set audit.tls.secretName=vigil-audit-tls \
	--set audit.clientCA.secretName=vigil-audit-tls --set audit.token.secretName=vigil-audit-token \
	--set-string 'customRules.team\.yaml=- list: vigil_allowed_outbound_ports
  items: [5432]
  override:
    items: append' >/dev/null || fail "helm upgrade"
[[ $(helm status $rel -n $ns -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') == 2 ]] ||
	fail "the release is not at revision 2"
kubectl get -n $ns daemonset/vigil -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["spec"]["template"]["spec"]["containers"][0]["securityContext"]
assert not c.get("privileged"), c
assert c["capabilities"] == {"drop": ["ALL"], "add": ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"]}, c
assert c["allowPrivilegeEscalation"] is False, c
' || fail "the upgraded DaemonSet is not least-privilege"
kubectl get -n $ns configmap/vigil-rules -o jsonpath='{.data.team\.yaml}' |
	grep -q 'items: \[5432\]' || fail "customRules not in the rules ConfigMap"
kubectl get -n $ns configmap/vigil-rules -o jsonpath='{.data.team\.yaml}' >"$tmp/team.yaml"
"$vigil" validate "$src/rules" "$tmp/team.yaml" >/dev/null || fail "the custom rules do not load"
ok "helm upgrade: least privilege (BPF, PERFMON, SYS_RESOURCE, SYS_PTRACE only), custom rules"

kubectl get -n $ns deployment/vigil-audit -o json >"$tmp/audit-deploy.json" ||
	fail "helm upgrade did not create the audit Deployment"
kubectl get -n $ns service/vigil-audit -o json >"$tmp/audit-svc.json" ||
	fail "helm upgrade did not create the audit Service"
kubectl get -n $ns daemonset/vigil -o json >"$tmp/ds2.json"
python3 - "$tmp" <<'EOF' || fail "the audit Deployment is not shaped as documented"
import json, sys
tmp = sys.argv[1]
d = json.load(open(tmp + "/audit-deploy.json"))
svc = json.load(open(tmp + "/audit-svc.json"))
ds = json.load(open(tmp + "/ds2.json"))
def need(cond, what):
    if not cond:
        sys.exit("audit: " + what)
spec = d["spec"]["template"]["spec"]
c = spec["containers"][0]
need(d["spec"]["replicas"] == 1, "one replica")
need(not any("hostPath" in v for v in spec["volumes"]), "no host path")
need(not spec.get("hostPID") and not spec.get("hostNetwork"), "no host namespaces")
need(spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65534,
     "non-root")
sc = c["securityContext"]
need(sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False and
     sc["capabilities"] == {"drop": ["ALL"]} and sc["readOnlyRootFilesystem"] is True,
     "unprivileged container: %s" % sc)
secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
need(secrets == {"vigil-audit-tls", "vigil-audit-token"}, "its Secrets: %s" % secrets)
need(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness /readyz")
need({p["name"]: p["containerPort"] for p in c["ports"]} == {"audit": 9765, "metrics": 8765}, "ports")
sel = d["spec"]["selector"]["matchLabels"]
need(svc["spec"]["selector"] == sel, "the Service selects the receiver")
need([p["port"] for p in svc["spec"]["ports"]] == [9765, 8765], "Service ports")
dsel = ds["spec"]["selector"]["matchLabels"]
labels = d["spec"]["template"]["metadata"]["labels"]
need(not all(labels.get(k) == v for k, v in dsel.items()), "the DaemonSet's selector takes it")
EOF
ok "the audit receiver: a Deployment (not privileged, non-root, no host path, its Secrets) and a Service of its own"

quiet_helm uninstall $rel -n $ns >/dev/null || fail "helm uninstall"
for o in "-n $ns daemonset/vigil" "-n $ns service/vigil-metrics" "-n $ns configmap/vigil" \
	"-n $ns deployment/vigil-audit" "-n $ns service/vigil-audit" "-n $ns configmap/vigil-audit" \
	"clusterrole/vigil" "clusterrolebinding/vigil" "-n $ns role/vigil" "-n $ns serviceaccount/vigil"; do
	# shellcheck disable=SC2086
	if kubectl get $o >/dev/null 2>&1; then fail "helm uninstall left $o"; fi
done
# Helm never deletes CRDs (their objects would go with them)
kubectl get crd/clusterrules.vigil.dev >/dev/null || fail "the CRDs went with the release"
ok "helm uninstall removed the release's objects (the CRDs stay, as Helm does)"
echo "chart: $passed checks passed"
