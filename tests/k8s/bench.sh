#!/usr/bin/env bash
# Benchmark of the Kubernetes metadata cache (bench/k8s.c) against a real
# kube-apiserver: PODS pods on node bench-node (each with a containerID in its
# status) and OTHER pods elsewhere, then one agent's sync time, memory and
# requests, then AGENTS agents with different node names at steady state, all
# candidates for the status Lease (leader election requests counted apart).
#
#   tests/k8s/bench.sh BUILD_DIR [PODS] [OTHER] [AGENTS] [STEADY_S]
#   (defaults 5000 1000 100 60)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [PODS] [OTHER] [AGENTS] [STEADY_S]}" && pwd)
pods=${2:-5000}
other=${3:-1000}
agents=${4:-100}
steady=${5:-60}

dir=$(mktemp -d /tmp/vigil-k8s-bench.XXXXXX)
cleanup() {
	"$here/cluster.sh" stop "$dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/cluster.sh" start "$dir"
# shellcheck disable=SC1091
. "$dir/env"

python3 - "$pods" "$other" <<'EOF'
import concurrent.futures, json, os, secrets, ssl, sys, time, urllib.request
pods, other = int(sys.argv[1]), int(sys.argv[2])
d = os.environ["VIGIL_K8S_DIR"]
server = os.environ["VIGIL_K8S_SERVER"]
ctx = ssl.create_default_context(cafile=os.environ["VIGIL_K8S_CA"])
ctx.load_cert_chain(f"{d}/pki/admin.crt", f"{d}/pki/admin.key")

def call(method, path, body, ctype="application/json"):
    req = urllib.request.Request(server + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
        r.read()

call("POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})

def make(i):
    node = "bench-node" if i < pods else "other-node"
    name = f"p{i}"
    call("POST", "/api/v1/namespaces/bench/pods", {
        "metadata": {"name": name, "labels": {"app": f"a{i % 50}", "tier": "web"}},
        "spec": {"nodeName": node, "containers": [
            {"name": "app", "image": "registry.example:5000/team/app:1.0"}]}})
    call("PATCH", f"/api/v1/namespaces/bench/pods/{name}/status", {"status": {
        "containerStatuses": [{"name": "app", "image": "registry.example:5000/team/app:1.0",
                               "imageID": "", "ready": True, "restartCount": 0,
                               "containerID": "containerd://" + secrets.token_hex(32),
                               "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}},
         "application/merge-patch+json")

t0 = time.time()
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(make, range(pods + other)))
print(f"bench.sh: created {pods + other} pods in {time.time() - t0:.1f} s", file=sys.stderr)
EOF

echo "one agent, $pods pods on its node, $other elsewhere:"
"$build/bench_k8s" "$VIGIL_K8S_ADMIN_KUBECONFIG" bench-node 1 0
echo "$agents agents with different node names, ${steady}s steady state, all standing for the Lease:"
"$build/bench_k8s" "$VIGIL_K8S_ADMIN_KUBECONFIG" bench-node "$agents" "$steady" bench
