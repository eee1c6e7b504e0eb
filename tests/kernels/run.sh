#!/usr/bin/env bash
# The kernel matrix: boots Debian's packaged cloud kernels under
# qemu-system-x86_64 -accel tcg (KVM is not usable here) from an initramfs
# holding busybox, vigil, its libraries, kmx_container, pfnsdrv and the
# rules, and asserts what each guest's /init (tests/kernels/init) reports
# on the serial console: the BPF programs load, `vigil capture` sees exec,
# open and connect with paths and the container id, `vigil run` raises the
# expected alerts with the default rules and with the official
# falco_rules.yaml, the prefilter's predicates per namespace hold
# (tests/live/pfnsdrv.c).
# Where the kernel runs the bpf LSM (6.1, 6.12: LSM_SUITES) the same for
# opens and connects made through io_uring and open_by_handle_at, which no
# syscall reports (bpf/lsm.bpf.h; this CI host's kernel refuses BPF-LSM
# programs, so this is where they are proven); where it does not (5.10),
# the fallback to syscalls alone.  One guest (VIGIL_KMATRIX_BENCH, default
# bookworm) also measures what the LSM file_open hook costs an open+close
# (bench_capture --lsm; a ratio, TCG's absolute times mean nothing).
#
#   tests/kernels/run.sh [BUILD_DIR]      (as root; default build/)
#
# Kernels: bullseye's 5.10, bookworm's 6.1, bookworm-backports' 6.12
# (tests/kernels/fetch.sh; VIGIL_KMATRIX_SUITES to choose).  Two guests run
# at once (1 GiB, one vCPU each).  A boot whose /init never reported (TCG
# sometimes oopses the 6.12 kernel before /init) is retried up to
# VIGIL_KMATRIX_BOOTS times (default 4); a guest that never reports is then
# a failure, never a pass.  The host's own kernel is covered by
# tests/live; its verifier figures are printed here too.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=$(cd "${1:-build}" && pwd)
BOOTS=${VIGIL_KMATRIX_BOOTS:-4}
GUEST_TIMEOUT=${VIGIL_KMATRIX_TIMEOUT:-420}
read -r -a SUITES <<<"${VIGIL_KMATRIX_SUITES:-bullseye bookworm bookworm-backports}"
FALCO=${VIGIL_FALCO_RULES:-$ROOT/../shared/falco-rules}
WORK=$BUILD/kmatrix
rm -rf "$WORK" && mkdir -p "$WORK/stage"

die() { echo "kmatrix: $*" >&2; exit 1; }
[ -f "$FALCO/falco_rules.yaml" ] || die "no falco_rules.yaml in $FALCO (set VIGIL_FALCO_RULES)"
for t in qemu-system-x86_64 cpio gzip; do command -v $t >/dev/null || die "$t missing (scripts/deps.sh)"; done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
  die "/bin/busybox is not busybox-static"
for b in vigil kmx_container kmx_uring_ops bench_capture pfnsdrv; do
  [ -x "$BUILD/$b" ] || die "build $BUILD first (vigil, kmx_container, kmx_uring_ops, bench_capture, pfnsdrv)"
done
BENCH_SUITE=${VIGIL_KMATRIX_BENCH:-bookworm}
# the suites whose kernels run the bpf LSM (Debian lists bpf in its default
# lsm= from bookworm on); each suite must be listed in one or the other
LSM_SUITES=" bookworm bookworm-backports "
NOLSM_SUITES=" bullseye "
for s in "${SUITES[@]}"; do
  [[ $LSM_SUITES == *" $s "* || $NOLSM_SUITES == *" $s "* ]] ||
    die "suite $s: say in run.sh whether its kernel runs the bpf LSM (LSM_SUITES)"
done

# --- the kernels -----------------------------------------------------------
mapfile -t KERNELS < <(tests/kernels/fetch.sh "${SUITES[@]}")
[ ${#KERNELS[@]} -eq ${#SUITES[@]} ] || die "not every kernel could be fetched"

# --- the initramfs -----------------------------------------------------------
S=$WORK/stage
mkdir -p "$S"/{bin,etc,falco,proc,sys,dev,tmp}
cp /bin/busybox "$S/bin/busybox"
cp "$BUILD/vigil" "$BUILD/kmx_container" "$BUILD/bench_capture" "$BUILD/pfnsdrv" "$S/bin/"
# static, under the name the live tests' helper has (the rules see it)
cp "$BUILD/kmx_uring_ops" "$S/bin/uring_ops"
# vigil's, bench_capture's and pfnsdrv's shared libraries and the dynamic
# loader, at their own paths
for b in vigil bench_capture pfnsdrv; do ldd "$BUILD/$b"; done | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  mkdir -p "$S$(dirname "$lib")"
  cp -L "$lib" "$S$lib"
done
cp tests/kernels/init "$S/init"
cp "$FALCO/falco_rules.yaml" "$S/falco/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$S/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$S/etc/group"
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$S/etc/shadow"
chmod 640 "$S/etc/shadow"
(cd "$S" && find . | cpio -o -H newc --quiet) | gzip -1 >"$WORK/initrd.gz"
echo "kmatrix: initramfs $(du -h "$WORK/initrd.gz" | cut -f1)"

# --- one guest: boot, retry boots whose /init never reported ---------------
EXPECT=(load variant capture_exec capture_open capture_connect capture_caps
  "alert_default: Interactive shell in a container"
  "alert_default: Sensitive file read by an untrusted program"
  readyz_detail metric_features prefilter_namespaces
  "alert_falco: Terminal shell in container"
  "alert_falco: Read sensitive file untrusted")
# with the bpf LSM: io_uring open (alerts, evt.via, exactly one record),
# connect and open in the container; open_by_handle_at; one record for an
# ordinary open
EXPECT_LSM=(lsm_active uring_capture_open uring_capture_connect uring_capture_container
  handle_capture_open ordinary_open_once
  "uring_alert_default: Sensitive file read by an untrusted program"
  "uring_alert_falco: Read sensitive file untrusted"
  uring_evt_via syscall_evt_via)
# without it: the fallback said, in the features and the log; capture.lsm
# on refused
EXPECT_NOLSM=(lsm_fallback lsm_on_refused lsm_fallback_log)

guest() { # SUITE PACKAGE VERSION DIR -> $WORK/SUITE.{log,result}
  local suite=$1 dir=$4 n log res=$WORK/$1.result extra= shift=auto
  # the benchmark's guest: a fixed instruction rate (2 ns of guest time per
  # instruction), so that its timings count instructions, whatever else
  # the host is doing (with shift=auto they follow the host's load)
  [ "$suite" = "$BENCH_SUITE" ] && extra=" vgk.bench" shift=${VIGIL_KMATRIX_SHIFT:-1}
  for ((n = 1; n <= BOOTS; n++)); do
    log=$WORK/$suite.boot$n.log
    # -icount: TCG then counts instructions for its clocks instead of racing
    # them against the host's time; without it 6.12 oopsed with corrupted
    # EFLAGS in about one boot in four (7 of 11 in an earlier session), with
    # it 16 of 16 boots on this machine were clean
    timeout "$GUEST_TIMEOUT" qemu-system-x86_64 -accel tcg -icount shift=$shift,sleep=off \
      -m 1024 -smp 1 -no-reboot \
      -display none -monitor none -serial "file:$log" \
      -kernel "$dir/vmlinuz" -initrd "$WORK/initrd.gz" \
      -append "console=ttyS0 panic=-1 oops=panic loglevel=4$extra" >/dev/null 2>&1 || true
    # the console uses CRLF
    sed -i 's/\r$//' "$log"
    if grep -q '^VGK: init$' "$log"; then
      cp "$log" "$WORK/$suite.log"
      if grep -q '^VGK: done ' "$log"; then
        echo "reported boot=$n" >"$res"
        return
      fi
      # /init ran but stopped short: a kernel crash is retried like a
      # boot failure (and counted), anything else is vigil's failure (a
      # panic only because /init itself exited is /init's)
      if { grep -qE 'Oops|general protection fault|BUG: ' "$log" ||
        { grep -q 'Kernel panic' "$log" && ! grep -q 'Attempted to kill init' "$log"; }; } && ((n < BOOTS)); then
        echo "kmatrix: $suite: the kernel crashed after /init (boot $n), retrying" >&2
        continue
      fi
      echo "incomplete boot=$n" >"$res"
      return
    fi
    echo "kmatrix: $suite: /init never reported (boot $n of $BOOTS: $(grep -m1 -E 'Kernel panic|Oops|BUG: ' "$log" || echo 'no panic line')), retrying" >&2
  done
  echo "noboot boot=$BOOTS" >"$res"
}

start=$(date +%s)
pids=()
for ((i = 0; i < ${#KERNELS[@]}; i++)); do
  read -r suite pkg ver dir <<<"${KERNELS[$i]}"
  echo "kmatrix: booting $pkg $ver ($suite)"
  guest "$suite" "$pkg" "$ver" "$dir" &
  pids+=($!)
  # two guests at a time
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

# --- assert ----------------------------------------------------------------
failed=0
for k in "${KERNELS[@]}"; do
  read -r suite pkg ver dir <<<"$k"
  res=$(cat "$WORK/$suite.result")
  log=$WORK/$suite.log
  echo
  echo "== $pkg $ver ($suite): $res"
  if [[ $res != reported* ]]; then
    echo "FAIL: the guest did not report (console: $WORK/$suite.boot*.log)"
    [ -f "$log" ] && tail -30 "$log"
    failed=1
    continue
  fi
  grep -E '^VGK: (kernel|info|verifier|bench)' "$log" | sed 's/^VGK: /  /'
  want=("${EXPECT[@]}")
  if [[ $LSM_SUITES == *" $suite "* ]]; then want+=("${EXPECT_LSM[@]}"); else want+=("${EXPECT_NOLSM[@]}"); fi
  [ "$suite" = "$BENCH_SUITE" ] && want+=(bench_lsm)
  bad=0
  for e in "${want[@]}"; do
    grep -qxF "VGK: ok $e" "$log" || { echo "FAIL: $e: $(grep -F "VGK: fail $e" "$log" | head -1 || true)"; bad=1; }
  done
  if grep -q '^VGK: fail' "$log"; then grep '^VGK: fail' "$log"; bad=1; fi
  grep -q '^VGK: done [0-9]* 0$' "$log" || bad=1
  if ((bad)); then
    failed=1
    echo "-- console tail:"; tail -40 "$log"
  else
    echo "PASS: $(grep -c '^VGK: ok' "$log") checks"
  fi
done

echo
echo "== host $(uname -r)"
"$BUILD/vigil" version --features | sed -n 's/^program /  verifier /p;s/^feature /  feature /p'
echo "kmatrix: $(($(date +%s) - start)) s for ${#KERNELS[@]} guests"
((failed == 0)) || die "kernel matrix failed"
echo "kmatrix: all kernels passed"
