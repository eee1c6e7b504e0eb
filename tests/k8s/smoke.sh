#!/usr/bin/env bash
# Smoke test of the Kubernetes test environment: builds or finds the tools,
# starts etcd + kube-apiserver in a temporary directory, and checks what the
# end-to-end tests rely on: namespaces, a Pod bound to a node whose
# containerStatuses a test patches, the agent's token identity under RBAC, a
# CRD, Helm against the server, and a restart that keeps the data. Stops
# everything at the end, also on failure. Exits non-zero on the first failure
# with a message naming the step.
#
#   tests/k8s/smoke.sh
#   VIGIL_K8S_KEEP=1 tests/k8s/smoke.sh   keep the temporary directory (logs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cluster=$here/cluster.sh
suite=smoke
# shellcheck source=steps.sh
. "$here/steps.sh"

now_ms() { date +%s%3N; }

tmp=$(mktemp -d /tmp/vigil-k8s-smoke.XXXXXX)
cleanup() {
	local rc=$?
	"$cluster" stop "$tmp" >/dev/null 2>&1 || true
	if ((rc != 0)); then
		for f in "$tmp"/etcd.log "$tmp"/kube-apiserver.log; do
			[[ -s $f ]] || continue
			echo "--- last lines of $f" >&2
			tail -n 15 "$f" >&2
		done
	fi
	if [[ ${VIGIL_K8S_KEEP:-0} == 1 ]]; then
		echo "smoke: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	if ((rc != 0)); then
		echo "smoke: $passed passed, 1 failed"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step_name="tools"
t=$(now_ms)
"$here/tools.sh" >&2 || die "tools.sh failed"
tools_ms=$(($(now_ms) - t))

step_name="cluster start"
t=$(now_ms)
"$cluster" start "$tmp" || die "cluster.sh start failed"
start_ms=$(($(now_ms) - t))
# shellcheck disable=SC1091
. "$tmp/env"

ns=smoke-$(openssl rand -hex 3)
cid=$(openssl rand -hex 32)

expect "kubectl get ns lists the system namespaces" kube-system kubectl get ns
expect "create namespace $ns" created kubectl create namespace "$ns"

check "create a Pod bound to a node (no scheduler, no kubelet)" kubectl apply -n "$ns" -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  nodeName: node-1
  containers:
  - name: app
    image: registry.example/web:1.0
EOF

check "patch status.containerStatuses through the status subresource" \
	kubectl patch pod web -n "$ns" --subresource=status --type=merge -p "$(
		cat <<EOF
{"status":{"phase":"Running","containerStatuses":[{"name":"app",
 "image":"registry.example/web:1.0","imageID":"","ready":true,"restartCount":0,
 "started":true,"containerID":"containerd://$cid",
 "state":{"running":{"startedAt":"2020-01-01T00:00:00Z"}}}]}}
EOF
	)"
expect "read back the containerID and nodeName" "containerd://$cid node-1" \
	kubectl get pod web -n "$ns" \
	-o 'jsonpath={.status.containerStatuses[0].containerID} {.spec.nodeName}'

expect "the agent's token authenticates as its service-account user" \
	"$VIGIL_K8S_AGENT_USER" kubectl --kubeconfig="$VIGIL_K8S_AGENT_KUBECONFIG" auth whoami
expect "the agent's groups come from the token file" "system:serviceaccounts:vigil" \
	kubectl --kubeconfig="$VIGIL_K8S_AGENT_KUBECONFIG" auth whoami -o 'jsonpath={.status.userInfo.groups}'
step_name="the agent has no permission before a role is bound"
if kubectl --kubeconfig="$VIGIL_K8S_AGENT_KUBECONFIG" get pods -n "$ns" >/dev/null 2>&1; then
	die "the agent could list pods without any role"
fi
passed=$((passed + 1))
echo "ok $passed - $step_name"
check "bind a pod-reader ClusterRole to the agent's user" kubectl apply -f - <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: smoke-pod-reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: smoke-pod-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: smoke-pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$VIGIL_K8S_AGENT_USER"}
EOF
expect "kubectl auth can-i --as the agent (list pods: yes)" yes \
	kubectl auth can-i list pods --as="$VIGIL_K8S_AGENT_USER" -n "$ns"
step_name="kubectl auth can-i --as the agent (delete pods: no)"
if out=$(kubectl auth can-i delete pods --as="$VIGIL_K8S_AGENT_USER" -n "$ns" 2>&1) ||
	[[ $out != no* ]]; then
	die "expected 'no', got: $out"
fi
passed=$((passed + 1))
echo "ok $passed - $step_name"
expect "the agent lists pods with its token" web \
	kubectl --kubeconfig="$VIGIL_K8S_AGENT_KUBECONFIG" get pods -n "$ns" -o name

check "create a CRD" kubectl apply -f - <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.vigil.test
spec:
  group: smoke.vigil.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
EOF
check "the CRD becomes established" \
	kubectl wait --for condition=established crd/widgets.smoke.vigil.test --timeout=60s
check "create a Widget" kubectl apply -n "$ns" -f - <<'EOF'
apiVersion: smoke.vigil.test/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
EOF
step_name="the CRD's schema rejects an invalid Widget"
if out=$(printf 'apiVersion: smoke.vigil.test/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 99}\n' |
	kubectl apply -n "$ns" -f - 2>&1); then
	die "an out-of-range Widget was accepted"
fi
[[ $out == *"spec.size"* ]] || die "expected a validation error on spec.size, got: $out"
passed=$((passed + 1))
echo "ok $passed - $step_name"
expect "read the Widget back by short name" 3 kubectl get wdg w1 -n "$ns" -o 'jsonpath={.spec.size}'

expect "helm version" "$HELM_VERSION" helm version --template '{{.Version}}'
chart=$tmp/chart
mkdir -p "$chart/templates"
printf 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n' >"$chart/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: smoke-{{ .Release.Name }}}\ndata: {k: v}\n' \
	>"$chart/templates/cm.yaml"
check "helm install against the API server" helm install rel "$chart" -n "$ns"
expect "the release's object exists" smoke-rel kubectl get cm -n "$ns" -o name
check "helm uninstall" helm uninstall rel -n "$ns"

step_name="restart-apiserver"
t=$(now_ms)
"$cluster" restart-apiserver "$tmp" || die "cluster.sh restart-apiserver failed"
restart_ms=$(($(now_ms) - t))
expect "objects survive a restart" "containerd://$cid" \
	kubectl get pod web -n "$ns" -o 'jsonpath={.status.containerStatuses[0].containerID}'

check "force-delete the Pod" kubectl delete pod web -n "$ns" --grace-period=0 --force --wait=false

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$(<"$tmp/$1.pid")/status"; }
api_rss=$(rss_kb kube-apiserver)
etcd_rss=$(rss_kb etcd)
api_pid=$(<"$tmp/kube-apiserver.pid")
etcd_pid=$(<"$tmp/etcd.pid")

step_name="cluster stop"
"$cluster" stop "$tmp" || die "cluster.sh stop failed"
# A stopped server may stay a zombie until init reaps it: that counts as gone.
gone() { [[ ! -e /proc/$1 || $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
for p in "$api_pid" "$etcd_pid"; do
	for ((i = 0; i < 50; i++)); do
		gone "$p" && break
		sleep 0.1
	done
	gone "$p" || die "process $p still runs after stop"
done
passed=$((passed + 1))
echo "ok $passed - $step_name leaves no process behind"

echo "timings: tools.sh ${tools_ms} ms, cluster start ${start_ms} ms, restart-apiserver ${restart_ms} ms"
echo "memory (RSS): kube-apiserver $((api_rss / 1024)) MiB, etcd $((etcd_rss / 1024)) MiB"
echo "smoke: $passed passed, 0 failed"
