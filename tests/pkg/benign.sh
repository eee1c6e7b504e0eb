#!/usr/bin/env bash
# A benign workload, the everyday activity of a node and its pods that the
# default rules must stay silent on (tests/pkg/test_benign.py runs it under
# `vigil run`).  Each part is real: dpkg and apt-get install and remove a
# package built here, a C project is configured and built with cmake, make
# and gcc (and its ASan test run, whose leak checker ptrace-attaches), two web
# servers answer requests, cron-style jobs run every second (logs appended,
# rotated with savelog, temp files expired, a backup tarred), and kubectl and
# helm talk to a real kube-apiserver.
#
#   tests/pkg/benign.sh WORKDIR [PART...]   parts: packages build web cron kube
#                                           (default all)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$1
shift
parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(packages build web cron kube)
mkdir -p "$work"
say() { echo "benign: $*" >&2; }

packages() {
	say "dpkg/apt-get: build, install, reinstall, remove, purge a package"
	local p=$work/deb/vigil-benign
	rm -rf "$work/deb"
	mkdir -p "$p/DEBIAN" "$p/usr/bin" "$p/etc/vigil-benign" "$p/usr/share/doc/vigil-benign"
	cat >"$p/DEBIAN/control" <<'EOF'
Package: vigil-benign
Version: 1.0
Architecture: all
Maintainer: vigil tests <tests@vigil.invalid>
Description: a package the benign workload installs and removes
EOF
	echo /etc/vigil-benign/benign.conf >"$p/DEBIAN/conffiles"
	cat >"$p/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
mkdir -p /var/lib/vigil-benign
echo installed > /var/lib/vigil-benign/state
[ -e /etc/vigil-benign/local.conf ] || echo "# local settings" > /etc/vigil-benign/local.conf
ldconfig
EOF
	cat >"$p/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then rm -rf /var/lib/vigil-benign /etc/vigil-benign; fi
EOF
	chmod 0755 "$p/DEBIAN/postinst" "$p/DEBIAN/postrm"
	printf '#!/bin/sh\necho benign\n' >"$p/usr/bin/vigil-benign"
	chmod 0755 "$p/usr/bin/vigil-benign"
	echo "setting = 1" >"$p/etc/vigil-benign/benign.conf"
	echo "test package" >"$p/usr/share/doc/vigil-benign/README"
	dpkg-deb --root-owner-group --build "$p" "$work/vigil-benign.deb" >/dev/null
	export DEBIAN_FRONTEND=noninteractive
	dpkg -i "$work/vigil-benign.deb" >/dev/null
	vigil-benign >/dev/null
	dpkg -r vigil-benign >/dev/null
	apt-get install -y -q "$work/vigil-benign.deb" >/dev/null 2>&1
	apt-get install -y -q --reinstall "$work/vigil-benign.deb" >/dev/null 2>&1
	dpkg -s vigil-benign >/dev/null
	dpkg -L vigil-benign >/dev/null
	apt-get purge -y -q vigil-benign >/dev/null 2>&1
	if dpkg-query -W -f='${Status}' vigil-benign 2>/dev/null | grep -q 'install ok installed'; then
		say "vigil-benign still installed"
		return 1
	fi
}

build() {
	say "build: cmake + make + gcc of a small project, its tests under ASan"
	local d=$work/proj
	rm -rf "$d"
	mkdir -p "$d/src"
	cat >"$d/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(benign C)
add_library(greet STATIC src/greet.c)
add_executable(hello src/main.c)
target_link_libraries(hello PRIVATE greet)
enable_testing()
add_test(NAME hello COMMAND hello)
EOF
	printf '#include <stdio.h>\nvoid greet(const char *w) { printf("hello %%s\\n", w); }\n' \
		>"$d/src/greet.c"
	printf 'void greet(const char *);\nint main(void) { greet("world"); return 0; }\n' \
		>"$d/src/main.c"
	cmake -S "$d" -B "$d/build" >/dev/null
	make -C "$d/build" -j2 >/dev/null
	"$d/build/hello" >/dev/null
	(cd "$d/build" && ctest >/dev/null)
	# a test binary under AddressSanitizer: LeakSanitizer stops the world
	# with ptrace at exit
	cat >"$d/src/asan.c" <<'EOF'
#include <pthread.h>
#include <stdlib.h>
static void *work(void *p) { return p; }
int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, work, NULL);
	pthread_join(t, NULL);
	char *p = malloc(16);
	free(p);
	return 0;
}
EOF
	gcc -g -fsanitize=address,undefined -o "$d/asan" "$d/src/asan.c" -lpthread
	ASAN_OPTIONS=detect_leaks=1 "$d/asan"
	# and this project: configure (git, pkg-config), BPF objects (clang,
	# bpftool), the agent (gcc), its version
	cmake -S "$src" -B "$d/vigil-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	make -C "$d/vigil-build" -j2 vigil >/dev/null
	"$d/vigil-build/vigil" version >/dev/null
}

web() {
	say "web: python3 http.server and busybox httpd answer requests"
	local d=$work/www port1 port2 pids=()
	mkdir -p "$d/sub"
	echo '<h1>benign</h1>' >"$d/index.html"
	head -c 100000 /dev/urandom >"$d/sub/blob.bin"
	port1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory "$d" "$port1" >/dev/null 2>&1 &
	pids+=($!)
	busybox httpd -f -p "127.0.0.1:$port2" -h "$d" &
	pids+=($!)
	local ok=0
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$port1/" >/dev/null && curl -sf "http://127.0.0.1:$port2/" >/dev/null &&
			ok=1 && break
		sleep 0.1
	done
	[[ $ok == 1 ]] || { kill "${pids[@]}"; say "web servers did not answer"; return 1; }
	for i in $(seq 20); do
		curl -sf "http://127.0.0.1:$port1/index.html?i=$i" >/dev/null
		curl -sf "http://127.0.0.1:$port2/sub/blob.bin" >/dev/null
		busybox wget -q -O /dev/null "http://127.0.0.1:$port2/index.html"
		curl -s -o /dev/null "http://127.0.0.1:$port1/missing-$i"
	done
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
}

cron() {
	say "cron: jobs every second (append, rotate with savelog, expire, back up, report)"
	local d=$work/cron.d log=/var/log/vigil-benign.log
	mkdir -p "$d" "$work/spool" "$work/backup"
	cat >"$d/10-append" <<EOF
#!/bin/sh
date >> $log
EOF
	cat >"$d/20-rotate" <<EOF
#!/bin/sh
savelog -q -c 3 $log
EOF
	cat >"$d/30-expire" <<EOF
#!/bin/sh
touch $work/spool/job-\$\$
find $work/spool -type f -mmin +60 -delete
ls $work/spool | wc -l > /dev/null
EOF
	cat >"$d/40-backup" <<EOF
#!/bin/sh
tar -C $work -czf $work/backup/www.tgz www 2>/dev/null || true
sha256sum $work/backup/www.tgz > $work/backup/SHA256SUMS 2>/dev/null || true
EOF
	cat >"$d/50-report" <<'EOF'
#!/bin/sh
uptime > /dev/null
df -h > /dev/null
ps -e > /dev/null
free > /dev/null
hostname > /dev/null
id root > /dev/null
EOF
	chmod 0755 "$d"/*
	for _ in 1 2 3 4 5; do
		run-parts "$d"
		sleep 1
	done
	# (the test removes the log afterwards: rm of logs is what a rule watches)
}

kube() {
	say "kube: kubectl and helm against a real kube-apiserver"
	local k=$work/k8s
	mkdir -p "$k"
	# up to 3 tries: cluster.sh's liveness check can race with the server's
	# exec on a busy machine
	local try
	for try in 1 2 3; do
		"$src/tests/k8s/cluster.sh" start "$k" >"$work/cluster.log" 2>&1 && break
		cat "$work/cluster.log" >&2
		[[ $try == 3 ]] && return 1
	done
	(
		set -e
		# shellcheck disable=SC1091
		. "$k/env"
		kubectl get namespaces >/dev/null
		kubectl create namespace benign >/dev/null
		kubectl -n benign create configmap settings --from-literal=a=1 >/dev/null
		kubectl -n benign get configmap settings -o yaml >/dev/null
		kubectl -n benign apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: node-1
  containers: [{name: web, image: nginx}]
EOF
		kubectl -n benign get pods -o wide >/dev/null
		kubectl -n benign describe pod web >/dev/null
		kubectl -n benign delete pod web --grace-period=0 --force >/dev/null 2>&1
		kubectl auth can-i list pods >/dev/null
		kubectl api-resources >/dev/null
		kubectl version >/dev/null
		helm list -A >/dev/null
	) || {
		"$src/tests/k8s/cluster.sh" stop "$k" >/dev/null 2>&1
		return 1
	}
	"$src/tests/k8s/cluster.sh" stop "$k" >/dev/null 2>&1
}

for part in "${parts[@]}"; do
	"$part"
done
say "done: ${parts[*]}"
