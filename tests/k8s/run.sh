#!/usr/bin/env bash
# The Kubernetes end-to-end stage: builds or finds the tools (tools.sh),
# runs the environment's smoke test, starts etcd + kube-apiserver
# (cluster.sh), runs tests/k8s/test_k8s.py against it with the k8sdrv
# driver, and stops the cluster also on failure.
#
#   tests/k8s/run.sh BUILD_DIR [TEST_NAME...]
#   VIGIL_K8S_KEEP=1 keeps the cluster directory (logs) afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [TEST...]}" && pwd)
shift
[[ -x $build/k8sdrv ]] || {
	echo "run.sh: $build/k8sdrv not built" >&2
	exit 1
}

"$here/tools.sh" >&2
"$here/smoke.sh"

dir=$(mktemp -d /tmp/vigil-k8s-e2e.XXXXXX)
cleanup() {
	local rc=$?
	"$here/cluster.sh" stop "$dir" >/dev/null 2>&1 || true
	if ((rc != 0)); then
		echo "--- last lines of $dir/kube-apiserver.log" >&2
		tail -n 20 "$dir/kube-apiserver.log" >&2 || true
	fi
	if [[ ${VIGIL_K8S_KEEP:-0} == 1 ]]; then
		echo "run.sh: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/cluster.sh" start "$dir"
# shellcheck disable=SC1091
. "$dir/env"
if (($# == 0)); then
	K8SDRV=$build/k8sdrv python3 "$here/test_k8s.py"
	# the agent itself in the cluster: real eBPF, runc containers, Events
	VIGIL_BIN=$build/vigil python3 "$here/test_agent.py"
else
	K8SDRV=$build/k8sdrv python3 "$here/test_k8s.py" "$@"
fi
