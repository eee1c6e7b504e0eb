#!/usr/bin/env bash
# A real Kubernetes API server on loopback for end-to-end tests: etcd and
# kube-apiserver only (no kubelet, scheduler or controller-manager), with a
# throw-away PKI. Binaries come from tools.sh (built once, cached).
#
#   cluster.sh start DIR               PKI, etcd, kube-apiserver; waits for /readyz;
#                                      writes DIR/admin.kubeconfig,
#                                      DIR/agent.kubeconfig and DIR/env
#   cluster.sh stop DIR                kills both, removes the etcd data and pid files
#                                      (logs, PKI and kubeconfigs stay for inspection)
#   cluster.sh restart-apiserver DIR [DOWNTIME_SECONDS]
#                                      apiserver-down, sleep, apiserver-up
#   cluster.sh apiserver-down DIR      stops kube-apiserver and etcd, keeps the data
#   cluster.sh apiserver-up DIR        starts them again on the same ports and data
#   cluster.sh status DIR              exit 0 when both run and /readyz answers
#
# After start, `. DIR/env` sets KUBECONFIG (admin, system:masters), PATH (kubectl
# and helm first) and VIGIL_K8S_* (server URL, CA file, the agent's kubeconfig
# and token file). The agent's identity is the static-token user
# system:serviceaccount:vigil:vigil in groups system:serviceaccounts and
# system:serviceaccounts:vigil; it has no permissions until a test binds a role.
# Tenants (VIGIL_K8S_TENANTS: tenant-a, tenant-b) are static-token users in no
# group with kubeconfigs DIR/tenant-a.kubeconfig...; no permissions either.
#
# Logs: DIR/etcd.log, DIR/kube-apiserver.log. Environment:
#   VIGIL_K8S_READY_TIMEOUT  seconds to wait for each server (default 90)
#   VIGIL_K8S_APISERVER_ARGS more kube-apiserver flags, space-separated
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ready_timeout=${VIGIL_K8S_READY_TIMEOUT:-90}

AGENT_NS=vigil
AGENT_SA=vigil
AGENT_USER=system:serviceaccount:$AGENT_NS:$AGENT_SA
TENANTS="tenant-a tenant-b"

log() { echo "cluster.sh: $*" >&2; }
die() {
	echo "cluster.sh: error: $*" >&2
	exit 1
}

usage() {
	sed -n '6,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- processes ---------------------------------------------------------

# alive NAME: true when DIR/NAME.pid names a running process that is ours
# (its command line is the cached binary and mentions DIR), so that a stale
# pid file never makes us signal an unrelated process that reused the pid.
alive() {
	local pidf=$dir/$1.pid pid
	[[ -s $pidf ]] || return 1
	pid=$(<"$pidf")
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/" || return 1
}

# starting NAME: the process launch() started still runs (not a zombie).
# While a server starts, alive() can be false for a live process: on a loaded
# machine its command line may still be launch()'s or empty after launch()
# stopped waiting; the pid was written by launch() a moment ago, so it
# cannot be a stale one here.
starting() {
	local pidf=$dir/$1.pid pid st
	[[ -s $pidf ]] || return 1
	pid=$(<"$pidf")
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# kill_proc NAME: SIGTERM, up to 15 s for a clean exit, then SIGKILL.
kill_proc() {
	local name=$1 pid i
	if alive "$name"; then
		pid=$(<"$dir/$name.pid")
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do
			[[ -e /proc/$pid ]] || break
			# A zombie child of ours counts as gone.
			[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
			sleep 0.1
		done
		if [[ -e /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
			log "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$dir/$name.pid"
}

# launch NAME BINARY ARGS...: run detached in a session of its own (so a ^C
# aimed at the caller does not reach it, and stop is the one way to end it),
# output to DIR/NAME.log, pid to DIR/NAME.pid.
launch() {
	local name=$1
	shift
	{
		echo "=== $(date -u +%FT%TZ) start: $*"
	} >>"$dir/$name.log"
	# A background job of a non-interactive shell is no process-group
	# leader, so setsid(1) calls setsid() without forking: $! is the server.
	setsid "$@" </dev/null >>"$dir/$name.log" 2>&1 &
	local pid=$! i
	echo "$pid" >"$dir/$name.pid"
	# Until the child has exec'd, its command line is this script's (which
	# need not mention DIR/); and /proc/PID/exe switches to the server before
	# the kernel has set up the new command line (empty for a moment while the
	# binary loads).  Wait for the command line alive() checks, not the exe.
	for ((i = 0; i < 200; i++)); do
		[[ -e /proc/$pid ]] || break
		alive "$name" && break
		sleep 0.05
	done
}

# fail_with_log NAME MESSAGE: the message and the end of the server's log.
fail_with_log() {
	log "error: $2; last lines of $dir/$1.log:"
	tail -n 25 "$dir/$1.log" >&2 || true
	exit 1
}

# wait_url NAME URL EXPECT [CURL ARGS...]: poll until URL's body is EXPECT.
wait_url() {
	local name=$1 url=$2 expect=$3 t0=$SECONDS body
	shift 3
	while :; do
		starting "$name" || fail_with_log "$name" "$name exited during start-up"
		body=$(curl -fsS --max-time 2 "$@" "$url" 2>/dev/null) || body=
		[[ $body == *"$expect"* ]] && return 0
		((SECONDS - t0 < ready_timeout)) ||
			fail_with_log "$name" "$name not ready at $url after $ready_timeout s"
		sleep 0.2
	done
}

# --- ports ---------------------------------------------------------------

# pick_port: a TCP port no socket on this machine uses, below the kernel's
# ephemeral range so that outgoing connections do not take it meanwhile.
taken_ports=" "
pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ $taken_ports == *" $p "* ]] && continue
		if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; then
			taken_ports+="$p "
			echo "$p"
			return 0
		fi
	done
	die "no free loopback port found"
}

port_free() { [[ -z $(ss -Htln "( sport = :$1 )" 2>/dev/null) ]]; }

# --- PKI -----------------------------------------------------------------

# sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
sign() {
	local name=$1 subj=$2 ext=$3 pki=$dir/pki
	openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" \
		-subj "$subj" -out "$pki/$name.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$pki/$name.ext"
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 30 -sha256 -extfile "$pki/$name.ext" \
		-out "$pki/$name.crt" 2>/dev/null
	rm -f "$pki/$name.csr" "$pki/$name.ext"
}

make_pki() {
	local pki=$dir/pki
	rm -rf "$pki"
	mkdir -p "$pki"
	chmod 0700 "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" \
		-days 30 -sha256 -subj "/CN=vigil-test-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	sign apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
	sign admin "/O=system:masters/CN=vigil-test-admin" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
	openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
	openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
	# Static tokens: token,user,uid,"group,group". kube-apiserver reads the
	# file once at start; a test may rewrite it and restart-apiserver.
	local token
	token=$(openssl rand -hex 32)
	printf '%s\n' "$token" >"$dir/agent.token"
	printf '%s,%s,%s,"system:serviceaccounts,system:serviceaccounts:%s"\n' \
		"$token" "$AGENT_USER" "vigil-test-agent" "$AGENT_NS" >"$pki/tokens.csv"
	# Tenants: plain users in no group, with no permission until a test
	# binds a role to them in a namespace (tests of the tenancy model).
	local t
	for t in $TENANTS; do
		token=$(openssl rand -hex 32)
		printf '%s\n' "$token" >"$dir/$t.token"
		printf '%s,%s,%s\n' "$token" "$t" "vigil-test-$t" >>"$pki/tokens.csv"
	done
}

# --- servers -------------------------------------------------------------

start_etcd() {
	if ! port_free "$ETCD_CLIENT_PORT" || ! port_free "$ETCD_PEER_PORT"; then
		die "etcd ports $ETCD_CLIENT_PORT/$ETCD_PEER_PORT are in use"
	fi
	local c=http://127.0.0.1:$ETCD_CLIENT_PORT p=http://127.0.0.1:$ETCD_PEER_PORT
	launch etcd "$ETCD" --name=vigil-test --data-dir="$dir/etcd-data" \
		--listen-client-urls="$c" --advertise-client-urls="$c" \
		--listen-peer-urls="$p" --initial-advertise-peer-urls="$p" \
		--initial-cluster="vigil-test=$p" --initial-cluster-state=new \
		--unsafe-no-fsync --log-level=warn
	wait_url etcd "$c/health" '"health":"true"'
}

start_apiserver() {
	port_free "$APISERVER_PORT" || die "kube-apiserver port $APISERVER_PORT is in use"
	local pki=$dir/pki extra=()
	# more flags from the caller (the audit webhook test), split on spaces
	read -r -a extra <<<"${VIGIL_K8S_APISERVER_ARGS:-}"
	launch kube-apiserver "$KUBE_APISERVER" \
		--etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
		--secure-port="$APISERVER_PORT" \
		--endpoint-reconciler-type=none \
		--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
		--client-ca-file="$pki/ca.crt" \
		--token-auth-file="$pki/tokens.csv" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$pki/sa.pub" \
		--service-account-signing-key-file="$pki/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		--authorization-mode=RBAC \
		--disable-admission-plugins=ServiceAccount \
		--allow-privileged=true \
		--profiling=false "${extra[@]}"
	wait_url kube-apiserver "$SERVER/readyz" ok --cacert "$pki/ca.crt"
}

write_config() {
	cat >"$dir/cluster.conf" <<EOF
ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
EOF
}

load_config() {
	[[ -s $dir/cluster.conf ]] || die "$dir has no cluster (no cluster.conf): run start first"
	# shellcheck disable=SC1091
	. "$dir/cluster.conf"
	SERVER=https://127.0.0.1:$APISERVER_PORT
}

write_kubeconfigs() {
	local k pki=$dir/pki
	rm -f "$dir/admin.kubeconfig" "$dir/agent.kubeconfig"
	for k in admin agent; do
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" set-cluster vigil-test \
			--server="$SERVER" --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
	done
	"$KUBECTL" config --kubeconfig="$dir/admin.kubeconfig" set-credentials admin \
		--client-certificate="$pki/admin.crt" --client-key="$pki/admin.key" \
		--embed-certs=true >/dev/null
	"$KUBECTL" config --kubeconfig="$dir/agent.kubeconfig" set-credentials "$AGENT_SA" \
		--token="$(<"$dir/agent.token")" >/dev/null
	"$KUBECTL" config --kubeconfig="$dir/admin.kubeconfig" set-context vigil-test \
		--cluster=vigil-test --user=admin >/dev/null
	"$KUBECTL" config --kubeconfig="$dir/agent.kubeconfig" set-context vigil-test \
		--cluster=vigil-test --user="$AGENT_SA" --namespace="$AGENT_NS" >/dev/null
	for k in admin agent; do
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" use-context vigil-test >/dev/null
	done
	chmod 0600 "$dir/admin.kubeconfig" "$dir/agent.kubeconfig"
	for k in $TENANTS; do
		[[ -s $dir/$k.token ]] || continue
		rm -f "$dir/$k.kubeconfig"
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" set-cluster vigil-test \
			--server="$SERVER" --certificate-authority="$pki/ca.crt" --embed-certs=true >/dev/null
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" set-credentials "$k" \
			--token="$(<"$dir/$k.token")" >/dev/null
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" set-context vigil-test \
			--cluster=vigil-test --user="$k" >/dev/null
		"$KUBECTL" config --kubeconfig="$dir/$k.kubeconfig" use-context vigil-test >/dev/null
		chmod 0600 "$dir/$k.kubeconfig"
	done

	mkdir -p "$dir/bin"
	ln -sf "$KUBECTL" "$dir/bin/kubectl"
	ln -sf "$HELM" "$dir/bin/helm"
	{
		printf 'export VIGIL_K8S_DIR=%q\n' "$dir"
		printf 'export KUBECONFIG=%q\n' "$dir/admin.kubeconfig"
		printf 'export VIGIL_K8S_SERVER=%q\n' "$SERVER"
		printf 'export VIGIL_K8S_CA=%q\n' "$pki/ca.crt"
		printf 'export VIGIL_K8S_ADMIN_KUBECONFIG=%q\n' "$dir/admin.kubeconfig"
		printf 'export VIGIL_K8S_AGENT_KUBECONFIG=%q\n' "$dir/agent.kubeconfig"
		printf 'export VIGIL_K8S_AGENT_TOKEN_FILE=%q\n' "$dir/agent.token"
		printf 'export VIGIL_K8S_AGENT_USER=%q\n' "$AGENT_USER"
		# tenants: user NAME, kubeconfig DIR/NAME.kubeconfig
		printf 'export VIGIL_K8S_TENANTS=%q\n' "$TENANTS"
		printf 'export VIGIL_K8S_ETCD=%q\n' "http://127.0.0.1:$ETCD_CLIENT_PORT"
		printf 'export KUBECTL=%q HELM=%q ETCD=%q KUBE_APISERVER=%q\n' \
			"$KUBECTL" "$HELM" "$ETCD" "$KUBE_APISERVER"
		printf 'export K8S_VERSION=%q ETCD_VERSION=%q HELM_VERSION=%q\n' \
			"$K8S_VERSION" "$ETCD_VERSION" "$HELM_VERSION"
		# shellcheck disable=SC2016 # $PATH expands when env is sourced
		printf 'export PATH=%q:"$PATH"\n' "$dir/bin"
	} >"$dir/env"
}

stop_all() {
	kill_proc kube-apiserver
	kill_proc etcd
}

tools() {
	local out
	out=$("$here/tools.sh" --env) || die "tools.sh failed"
	eval "$out"
}

# --- commands ------------------------------------------------------------

cmd_start() {
	local t0=$SECONDS
	if alive etcd || alive kube-apiserver; then
		die "a cluster already runs in $dir: stop it first"
	fi
	tools
	for t in openssl curl ss setsid; do
		command -v "$t" >/dev/null || die "$t not found"
	done
	rm -rf "$dir/etcd-data"
	make_pki
	ETCD_CLIENT_PORT=$(pick_port)
	taken_ports+="$ETCD_CLIENT_PORT "
	ETCD_PEER_PORT=$(pick_port)
	taken_ports+="$ETCD_PEER_PORT "
	APISERVER_PORT=$(pick_port)
	SERVER=https://127.0.0.1:$APISERVER_PORT
	write_config
	# From here on a failure must not leave servers behind.
	trap 'rc=$?; if ((rc != 0)); then log "start failed: stopping what was started"; stop_all; fi' EXIT
	trap 'exit 130' INT TERM
	start_etcd
	start_apiserver
	write_kubeconfigs
	trap - EXIT INT TERM
	log "ready in $((SECONDS - t0)) s: $SERVER (etcd :$ETCD_CLIENT_PORT); . $dir/env"
}

cmd_stop() {
	stop_all
	rm -rf "$dir/etcd-data"
	log "stopped"
}

cmd_down() {
	load_config
	stop_all
	log "kube-apiserver and etcd stopped (data kept)"
}

cmd_up() {
	load_config
	if alive etcd || alive kube-apiserver; then
		die "kube-apiserver or etcd still runs in $dir: apiserver-down first"
	fi
	[[ -d $dir/etcd-data ]] || die "$dir has no etcd data: run start"
	tools
	local t0=$SECONDS
	trap 'rc=$?; if ((rc != 0)); then log "apiserver-up failed: stopping what was started"; stop_all; fi' EXIT
	trap 'exit 130' INT TERM
	# etcd ignores the --initial-cluster* flags when the data dir holds a member.
	start_etcd
	start_apiserver
	trap - EXIT INT TERM
	log "kube-apiserver and etcd up again in $((SECONDS - t0)) s: $SERVER"
}

cmd_status() {
	load_config
	alive etcd || die "etcd does not run"
	alive kube-apiserver || die "kube-apiserver does not run"
	curl -fsS --max-time 5 --cacert "$dir/pki/ca.crt" "$SERVER/readyz" >/dev/null ||
		die "kube-apiserver does not answer /readyz"
	echo "running: $SERVER etcd pid $(<"$dir/etcd.pid") kube-apiserver pid $(<"$dir/kube-apiserver.pid")"
}

[[ $# -ge 2 ]] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
apiserver-down) cmd_down ;;
apiserver-up) cmd_up ;;
restart-apiserver)
	downtime=${3:-0}
	[[ $downtime =~ ^[0-9]+$ ]] || die "DOWNTIME_SECONDS must be a whole number"
	cmd_down
	sleep "$downtime"
	cmd_up
	;;
status) cmd_status ;;
*) usage ;;
esac
