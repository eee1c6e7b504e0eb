#!/usr/bin/env bash
# Installs the Debian 12 packages vigil needs to build, run and test.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
  libyaml-dev libcjson-dev libwebsockets-dev libssl-dev libre2-dev
  libcmocka-dev clang-format libclang-rt-14-dev liburing-dev
  runc busybox-static iproute2 python3 procps curl prometheus
  openssl unzip rsyslog rsyslog-openssl
  buildah debootstrap python3-yaml
  qemu-system-x86 cpio debian-archive-keyring
)

# Commands that another package may already provide (this machine's Node.js
# from NodeSource ships npm and conflicts with Debian's npm package).
CMDS=(npm:npm)

# rsyslog: tests/sinks/test_sinks.py runs rsyslogd itself with its own
# configuration (imuxsock on its own socket with SysSock.Use="off", its own
# ports, work directory and pid file); the packaged service is not used.
# Where installing it starts that service (a machine booted with systemd),
# it reads journald's forwarding socket and never takes /dev/log (journald's);
# without systemd, a policy-rc.d that forbids starting (Debian's container
# images) keeps it stopped, and if it did start it would only own /dev/log,
# which no test uses.

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for c in "${CMDS[@]}"; do
  command -v "${c%%:*}" >/dev/null 2>&1 || missing+=("${c#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: run as root to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
