#!/usr/bin/env bash
# The packaging tests (root): the Helm chart against a real kube-apiserver,
# the container image built with buildah and run in runc like the DaemonSet
# (alone, then in-cluster under the chart's RBAC), and the default rules'
# silence under a benign workload.
#   VIGIL_BIN    the vigil binary (default build/vigil)
#   VIGIL_BUILD  its build directory (live-test helpers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export VIGIL_BIN=${VIGIL_BIN:-$src/build/vigil}
export VIGIL_BUILD=${VIGIL_BUILD:-$(dirname "$VIGIL_BIN")}

echo "-- helm chart (tests/pkg/test_chart.sh)"
"$here/test_chart.sh"
echo "-- container image (tests/pkg/test_image.py)"
python3 "$here/test_image.py"
echo "-- the image, installed by the chart, against the API server (tests/pkg/test_incluster.py)"
python3 "$here/test_incluster.py"
echo "-- default rules under a benign workload (tests/pkg/test_benign.py)"
python3 "$here/test_benign.py"
