#!/usr/bin/env bash
# Live tests: real eBPF on this kernel, real runc containers.  Root only.
# VIGIL_BIN points at the vigil binary to test (default build/vigil).
set -euo pipefail
cd "$(dirname "$0")"
export VIGIL_BIN=${VIGIL_BIN:-$(pwd)/../../build/vigil}
export VIGIL_SRC=${VIGIL_SRC:-$(cd ../.. && pwd)}
rc=0
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in test_*.py; do
  echo "-- $t"
  # a file that hangs is one failure, not the end of the whole run
  timeout -k 30 1200 python3 "$t" | tee "$out" || rc=1
  # each file ends with "N passed, N failed, N skipped"; a file that
  # stopped before it counts as one failure
  if [[ $(tail -1 "$out") =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + BASH_REMATCH[3]))
  else
    failed=$((failed + 1))
  fi
done
echo "== live: $passed passed, $failed failed, $skipped skipped"
exit $rc
