#!/usr/bin/env bash
# End-to-end test of vigil's CustomResourceDefinitions (crds/) and
# `vigil convert` against a real kube-apiserver + etcd (tests/k8s/cluster.sh):
#  - the three CRDs are established, `kubectl explain` shows their descriptions;
#  - valid Rule / ClusterRule / RuleLibrary objects are accepted;
#  - invalid ones are rejected by the API server with the expected message
#    (bad priority, too long string, missing condition, unknown field,
#    CEL rules, duplicate names);
#  - `kubectl get vr,vcr` shows Priority, Enabled, Accepted and Age, and the
#    status subresource carries the Accepted condition;
#  - `vigil convert` of the three official Falco files passes
#    `kubectl apply --dry-run=server`, and the objects read back from the
#    server compile in vigil to the same 93 rules (81 enabled).
# Everything started is stopped at the end, also on failure.
#
#   tests/k8s/test_crds.sh [BUILD_DIR]     (default: build; needs vigil and test_convert)
#   VIGIL_K8S_KEEP=1 ...                   keep the temporary directory
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=$here/cluster.sh
build=$(cd "${1:-$root/build}" && pwd)
vigil=$build/vigil
helper=$build/test_convert
falco=${VIGIL_FALCO_RULES:-}
if [[ -z $falco ]]; then
	for d in "$root/../shared/falco-rules" /work/shared/falco-rules; do
		[[ -f $d/falco_rules.yaml ]] && { falco=$(cd "$d" && pwd); break; }
	done
fi
suite=test_crds
# shellcheck source=steps.sh
. "$here/steps.sh"

# reject NAME WANT YAML: kubectl apply of YAML must fail with WANT in its output.
reject() {
	step_name=$1
	local want=$2 yaml=$3 out
	if out=$(printf '%s\n' "$yaml" | kubectl apply -f - 2>&1); then
		printf 'got: %s\n' "$out" >&2
		die "the API server accepted an invalid object"
	fi
	if [[ $out != *"$want"* ]]; then
		printf 'got: %s\n' "$out" | tail -n 20 >&2
		die "expected '$want' in the error"
	fi
	passed=$((passed + 1))
	echo "ok $passed - $step_name"
}

# retry SECONDS WANT CMD...: until CMD prints WANT (OpenAPI publishing lags).
retry() {
	local secs=$1 want=$2 i out=""
	shift 2
	for ((i = 0; i < secs * 2; i++)); do
		out=$("$@" 2>&1) || true
		[[ $out == *"$want"* ]] && { LAST=$out; return 0; }
		sleep 0.5
	done
	LAST=$out
	return 1
}

[[ -x $vigil && -x $helper ]] || die "build $build first (vigil, test_convert)"
[[ -f $falco/falco_rules.yaml ]] || die "the official Falco rules are not found (VIGIL_FALCO_RULES)"

tmp=$(mktemp -d /tmp/vigil-k8s-crds.XXXXXX)
cleanup() {
	local rc=$?
	"$cluster" stop "$tmp" >/dev/null 2>&1 || true
	if ((rc != 0)) && [[ -s $tmp/kube-apiserver.log ]]; then
		echo "--- last lines of $tmp/kube-apiserver.log" >&2
		tail -n 15 "$tmp/kube-apiserver.log" >&2
	fi
	if [[ ${VIGIL_K8S_KEEP:-0} == 1 ]]; then
		echo "test_crds: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	((rc == 0)) || echo "test_crds: $passed passed, 1 failed"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step_name="tools"
"$here/tools.sh" >&2 || die "tools.sh failed"
step_name="cluster start"
# (kube-apiserver sometimes exits at once during start-up on these machines,
# with nothing in its log: one more try, said out loud)
if ! "$cluster" start "$tmp" >&2; then
	echo "test_crds: cluster.sh start failed; trying once more" >&2
	"$cluster" start "$tmp" >&2 || die "cluster.sh start failed twice"
fi
# shellcheck disable=SC1091
. "$tmp/env"

# --- the CRDs ---------------------------------------------------------------
expect "apply crds/" "rules.vigil.dev created" kubectl apply -f "$root/crds/"
check "CRDs established" kubectl wait --for condition=established --timeout=60s \
	crd/clusterrules.vigil.dev crd/rules.vigil.dev crd/rulelibraries.vigil.dev
expect "short names and category" "vrl" kubectl api-resources --api-group=vigil.dev
[[ $LAST == *"vcr"*ClusterRule* && $LAST == *" vr "*Rule* ]] || die "short names: $LAST"
expect "kubectl get vigil (category)" "No resources found" kubectl get vigil -A

step_name="kubectl explain vr.spec shows descriptions"
retry 60 "When the rule fires" kubectl explain vr.spec || die "explain: $LAST"
[[ $LAST == *"Only pods whose labels match"* && $LAST == *"priority"*"-required-"* ]] ||
	die "explain vr.spec: $LAST"
passed=$((passed + 1))
echo "ok $passed - $step_name"
expect "kubectl explain vcr.spec.hostProcesses" "Also evaluate processes outside pods" \
	kubectl explain vcr.spec.hostProcesses
expect "kubectl explain vrl.spec.macros" "Shared macros" kubectl explain vrl.spec.macros

# --- valid objects ------------------------------------------------------------
ns=crds-$(openssl rand -hex 3)
expect "create namespace" created kubectl create namespace "$ns"
expect "a valid Rule" created kubectl apply -f - <<EOF
apiVersion: vigil.dev/v1alpha1
kind: Rule
metadata: {name: no-curl, namespace: $ns}
spec:
  description: curl in a web pod
  condition: evt.type = execve and proc.name = curl and not trusted
  output: "curl in %k8s.pod.name: %proc.cmdline"
  priority: warning
  tags: [network, T1105]
  macros:
  - {name: trusted, condition: proc.pname = init}
  lists:
  - {name: tools, items: [curl, wget]}
  exceptions:
  - name: known
    fields: [proc.pname, proc.cmdline]
    comps: [in, startswith]
    values: [[bash, "curl -s http://health"]]
  podSelector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: In, values: [frontend]}
    - {key: canary, operator: DoesNotExist}
EOF
expect "a valid ClusterRule" created kubectl apply -f - <<EOF
apiVersion: vigil.dev/v1alpha1
kind: ClusterRule
metadata: {name: shell-in-prod}
spec:
  rule: Shell in a production pod
  condition: spawned_process and proc.name in (shell_binaries)
  output: shell %proc.name
  priority: Critical
  enabled: false
  hostProcesses: true
  namespaceSelector:
    matchExpressions:
    - {key: env, operator: NotIn, values: [dev, test]}
    - {key: team, operator: Exists}
EOF
expect "a valid RuleLibrary" created kubectl apply -f - <<EOF
apiVersion: vigil.dev/v1alpha1
kind: RuleLibrary
metadata: {name: base}
spec:
  macros:
  - {name: spawned_process, condition: evt.type in (execve, execveat)}
  lists:
  - {name: shell_binaries, items: [bash, sh, zsh]}
EOF
expect "a minimal ClusterRule" created kubectl apply -f - <<EOF
apiVersion: vigil.dev/v1alpha1
kind: ClusterRule
metadata: {name: minimal}
spec: {condition: evt.type = ptrace, output: ptrace, priority: INFO}
EOF
expect "defaults applied (enabled: true, hostProcesses: false)" "true/false" \
	kubectl get vcr minimal -o 'jsonpath={.spec.enabled}/{.spec.hostProcesses}'

# --- invalid objects: rejected by the API server --------------------------------
rule() { # rule SPEC_LINES...: a Rule manifest in $ns
	printf 'apiVersion: vigil.dev/v1alpha1\nkind: Rule\nmetadata: {name: bad, namespace: %s}\nspec:\n' "$ns"
	printf '  %s\n' "$@"
}
reject "bad priority" 'spec.priority: Unsupported value: "Loud"' \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Loud')"
long=$(head -c 40000 /dev/zero | tr '\0' a)
reject "too long condition" "spec.condition: Too long: may not be more than 32768" \
	"$(rule "condition: $long" 'output: "o"' 'priority: Debug')"
reject "too long tag" "spec.tags[0]: Too long: may not be more than 128" \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' "tags: [${long:0:200}]")"
reject "missing condition" "spec.condition: Required value" \
	"$(rule 'output: "o"' 'priority: Debug')"
reject "a Rule has no hostProcesses" 'unknown field "spec.hostProcesses"' \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' 'hostProcesses: true')"
reject "a Rule has no namespaceSelector" 'unknown field "spec.namespaceSelector"' \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'namespaceSelector: {matchLabels: {team: a}}')"
reject "comps: one per field (CEL)" "comps must have one operator per field" \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'exceptions: [{name: e, fields: [proc.name, fd.name], comps: [in], values: [[a, b]]}]')"
reject "tuples: one value per field (CEL)" "each tuple of values must have one value per field" \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'exceptions: [{name: e, fields: [proc.name, fd.name], values: [[a]]}]')"
reject "duplicate macro names" "Duplicate value" \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'macros: [{name: m, condition: a}, {name: m, condition: b}]')"
reject "In needs values (CEL)" "In and NotIn need values" \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'podSelector: {matchExpressions: [{key: app, operator: In}]}')"
reject "bad operator" 'Unsupported value: "Matches"' \
	"$(rule 'condition: evt.type = execve' 'output: "o"' 'priority: Debug' \
		'podSelector: {matchExpressions: [{key: app, operator: Matches, values: [x]}]}')"
reject "an empty RuleLibrary (CEL)" "a RuleLibrary needs macros or lists" \
	"$(printf 'apiVersion: vigil.dev/v1alpha1\nkind: RuleLibrary\nmetadata: {name: empty}\nspec: {description: x}\n')"

# --- printer columns and status -----------------------------------------------------
check "status subresource: Accepted" kubectl patch vr no-curl -n "$ns" --subresource=status \
	--type=merge -p '{"status":{"observedGeneration":1,"conditions":[{"type":"Accepted",
	"status":"True","reason":"Compiled","message":"","observedGeneration":1,
	"lastTransitionTime":"2026-01-01T00:00:00Z"}]}}'
expect "kubectl get vr,vcr: columns" "PRIORITY" kubectl get vr,vcr -A
header=$(printf '%s\n' "$LAST" | grep -m1 NAME)
for col in PRIORITY ENABLED ACCEPTED AGE; do
	[[ $header == *"$col"* ]] || die "column $col missing: $header"
done
printf '%s\n' "$LAST" | grep -Eq "no-curl +warning +true +True " || die "Rule row: $LAST"
printf '%s\n' "$LAST" | grep -Eq "shell-in-prod +Critical +false " || die "ClusterRule row: $LAST"
check "a spec update" kubectl patch vr no-curl -n "$ns" --type=merge -p '{"spec":{"priority":"Error"}}'
expect "a spec update bumps generation, leaves status (subresource)" "2 1 True" \
	kubectl get vr no-curl -n "$ns" \
	-o 'jsonpath={.metadata.generation} {.status.observedGeneration} {.status.conditions[0].status}'
check "a status update" kubectl patch vr no-curl -n "$ns" --subresource=status --type=merge \
	-p '{"status":{"observedGeneration":2}}'
expect "a status update leaves generation" "2 2" kubectl get vr no-curl -n "$ns" \
	-o 'jsonpath={.metadata.generation} {.status.observedGeneration}'

# --- vigil convert of the official Falco rules -------------------------------------------
check "delete the cluster-scoped test objects" kubectl delete vcr shell-in-prod minimal --wait=true
check "delete the test library" kubectl delete vrl base --wait=true
files=("$falco/falco_rules.yaml" "$falco/falco-incubating_rules.yaml" "$falco/falco-sandbox_rules.yaml")
convert() { "$vigil" convert "${files[@]}" >"$tmp/falco.yaml"; }
check "vigil convert of the three Falco files" convert
n=$(grep -c '^kind: ClusterRule' "$tmp/falco.yaml")
((n == 93)) || die "convert wrote $n ClusterRules, not 93"
expect "kubectl apply --dry-run=server of the converted objects" \
	'clusterrule.vigil.dev/read-sensitive-file-untrusted created (server dry run)' \
	kubectl apply --dry-run=server -f "$tmp/falco.yaml"
dry=$(printf '%s\n' "$LAST" | grep -c 'created (server dry run)')
((dry == 94)) || die "dry run created $dry objects, not 94"
check "kubectl apply of the converted objects" kubectl apply -f "$tmp/falco.yaml"
read_back() { kubectl get vrl,vcr -o json >"$tmp/objs.json"; }
check "read them back" read_back
expect "kubectl get vcr lists them" "read-sensitive-file-untrusted" kubectl get vcr
expect "they compile in vigil to the same 93 rules (81 enabled)" \
	"objects=94 accepted=94 rejected=0 rules=93 enabled=81" "$helper" --compile "$tmp/objs.json"

echo "test_crds: all $passed passed"
