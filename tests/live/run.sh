#!/usr/bin/env bash
# Live tests: real eBPF on this kernel, real runc containers.  Root only.
# VIGIL_BIN points at the vigil binary to test (default build/vigil).
set -euo pipefail
cd "$(dirname "$0")"
export VIGIL_BIN=${VIGIL_BIN:-$(pwd)/../../build/vigil}
export VIGIL_SRC=${VIGIL_SRC:-$(cd ../.. && pwd)}
rc=0
for t in test_*.py; do
  echo "-- $t"
  python3 "$t" || rc=1
done
exit $rc
