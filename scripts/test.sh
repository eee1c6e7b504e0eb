#!/usr/bin/env bash
# Runs vigil's whole test suite on a fresh Debian 12 machine, as root:
#   1. installs the Debian packages it needs (scripts/deps.sh)
#   2. builds and runs the unit tests, plain, under ASan+UBSan, and in a
#      Release (-O3) build; every #include against the stage graph
#      (tests/unit/check_layout.py) fails them
#   3. checks formatting, and that crds/*.yaml are what crds/gen.py generates
#   4. builds the libFuzzer targets with clang (without the BPF stages:
#      VIGIL_BPF=OFF) and runs each for a short time
#   5. checks that the official Falco rules load and compile unmodified, and
#      that their compiled conditions agree with the trees (bench_engine verify)
#   6. replays hand-written capture fixtures through real rule files
#   7. runs the live eBPF tests (root, real runc containers) on the plain build,
#      twice: with the kernel-side prefilter (the default) and without, the
#      syslog and program sinks against a real rsyslogd started on
#      loopback with its own configuration and real programs
#      (tests/sinks/test_sinks.py, driver tests/sinks/sinkdrv), then the kernel
#      matrix: Debian's 5.10, 6.1 and 6.12 cloud kernels
#      booted under qemu (TCG) run the same checks (tests/kernels/run.sh)
#   8. runs the Kubernetes end-to-end tests: tools.sh, cluster.sh (a real
#      etcd + kube-apiserver on loopback), k8s/ driven by tests/k8s/k8sdrv,
#      and `vigil run` in that cluster
#   9. packaging: the Helm chart against a real kube-apiserver, the image built
#      with buildah and run in runc as the DaemonSet would, the default rules
#      silent under a benign workload (tests/pkg/run.sh)
#  10. checks the CRDs and `vigil convert` against a real kube-apiserver
#  11. runs the agent-level benchmarks in their short mode (bench/load.py
#      --quick: they produce every figure; targets are not asserted)
# Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# the official Falco rules are test data kept outside the project
if [ -z "${VIGIL_FALCO_RULES:-}" ]; then
  for d in "$ROOT/../shared/falco-rules" /work/shared/falco-rules; do
    [ -f "$d/falco_rules.yaml" ] && { VIGIL_FALCO_RULES=$(cd "$d" && pwd); break; }
  done
fi
export VIGIL_FALCO_RULES=${VIGIL_FALCO_RULES:-$ROOT/../shared/falco-rules}

T0=$SECONDS
stage() { printf '\n==== %s ==== (%d s into the run)\n' "$*" $((SECONDS - T0)); }
# A stage that hangs fails within its limit, naming itself, instead of
# holding the run until CI's own deadline (which names nothing).  The
# limits are several times what each stage takes on a cold 2-core machine.
limit() {
  local s=$1 rc=0
  shift
  timeout -k 30 "$s" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "test.sh: timed out after ${s} s: $*" >&2
  fi
  return "$rc"
}

stage "dependencies"
limit 1800 scripts/deps.sh

stage "build (plain)"
scripts/build.sh build
stage "unit tests (plain)"
(cd build && ctest -L unit --output-on-failure -j2)

stage "build (ASan+UBSan)"
BUILD_TYPE=Debug scripts/build.sh build-asan -DVIGIL_SANITIZE=ON
stage "unit tests (ASan+UBSan)"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -L unit --output-on-failure -j2)

stage "build (Release, -O3)"
BUILD_TYPE=Release scripts/build.sh build-release
stage "unit tests (Release)"
(cd build-release && ctest -L unit --output-on-failure -j2)

stage "format"
cmake --build build --target check-format

stage "CRDs up to date with their generator (crds/gen.py --check)"
python3 -B crds/gen.py --check

stage "fuzzers (${FUZZ_SECONDS}s each)"
# the fuzzers link the engine stage only: no BPF objects, skeletons or
# capture code to build (and so the VIGIL_BPF=OFF build stays working)
CC=clang BUILD_TYPE=Debug scripts/build.sh build-fuzz -DVIGIL_FUZZ=ON -DVIGIL_BPF=OFF
shopt -s nullglob
fuzzers=(build-fuzz/fuzz_*)
if [ ${#fuzzers[@]} -eq 0 ]; then
  echo "no fuzz targets built" >&2
  exit 1
fi
for f in "${fuzzers[@]}"; do
  name=$(basename "$f")
  corpus=build-fuzz/corpus-$name
  mkdir -p "$corpus"
  seeds=tests/fuzz/seeds/${name#fuzz_}
  args=("$corpus")
  [ -d "$seeds" ] && args+=("$seeds")
  echo "-- $name"
  limit $((FUZZ_SECONDS + 300)) "$f" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=0 "${args[@]}" \
    >"build-fuzz/$name.log" 2>&1 || { tail -50 "build-fuzz/$name.log"; exit 1; }
  grep -E '^Done|#[0-9]+.*DONE' "build-fuzz/$name.log" | tail -1 || true
done

stage "official Falco rules load and compile unmodified"
FALCO=$VIGIL_FALCO_RULES
out=$(build/vigil validate "$FALCO/falco_rules.yaml" "$FALCO/falco-incubating_rules.yaml" \
  "$FALCO/falco-sandbox_rules.yaml")
echo "$out"
echo "$out" | grep -q '^93 rules (81 enabled, 12 disabled, 0 failed, 0 skipped).*; 0 errors' || {
  echo "the official Falco rules did not all load and compile" >&2
  exit 1
}

stage "compiled conditions and the engine's matching agree with their trees (all rules, generated trace)"
build/bench_engine 300000 verify | tail -2

stage "replay tests (capture fixtures through real rule files)"
limit 900 env VIGIL_BIN="$ROOT/build/vigil" VIGIL_FALCO_RULES="$FALCO" python3 tests/replay/run.py

stage "live tests (root, real eBPF)"
limit 2400 env VIGIL_BIN="$ROOT/build/vigil" VIGIL_BUILD="$ROOT/build" tests/live/run.sh

stage "live tests again with capture.prefilter: off (the same tests must pass both ways)"
limit 2400 env VIGIL_LIVE_PREFILTER=off VIGIL_BIN="$ROOT/build/vigil" VIGIL_BUILD="$ROOT/build" \
  tests/live/run.sh

stage "sinks: syslog against a real rsyslogd (unix, UDP, TCP, TLS, restart), the program sink"
# the test starts its own rsyslogd (its own configuration, socket and ports):
# the machine's rsyslog service and /dev/log are neither needed nor touched
limit 900 env VIGIL_BUILD="$ROOT/build" python3 tests/sinks/test_sinks.py

stage "kernel matrix (5.10, 6.1, 6.12 under qemu TCG)"
limit 2400 env VIGIL_FALCO_RULES="$FALCO" tests/kernels/run.sh build

stage "kubernetes end-to-end (real kube-apiserver + etcd)"
# run.sh stops the cluster it starts, also on failure
limit 2700 tests/k8s/run.sh build

stage "Kubernetes audit webhook: a real kube-apiserver's audit events through the official k8s_audit rules"
limit 900 env VIGIL_FALCO_RULES="$FALCO" python3 tests/k8s/test_audit.py "$ROOT/build"

stage "packaging (chart, image, benign workload)"
limit 1800 env VIGIL_BIN="$ROOT/build/vigil" VIGIL_BUILD="$ROOT/build" tests/pkg/run.sh

stage "Kubernetes: CRDs and vigil convert (real kube-apiserver)"
limit 900 env VIGIL_FALCO_RULES="$FALCO" tests/k8s/test_crds.sh "$ROOT/build"

stage "benchmarks still run (bench/load.py --quick, no thresholds)"
# it holds /tmp/vigil-bench.lock itself: one benchmark at a time on the machine
limit 900 bench/load.py --build "$ROOT/build" --quick
limit 600 env VIGIL_FALCO_RULES="$FALCO" flock /tmp/vigil-bench.lock build/bench_audit quick
limit 300 build/bench_reload 2000 2

stage "all tests passed"
