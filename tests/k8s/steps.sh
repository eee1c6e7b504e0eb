# steps.sh - numbered test steps for the shell end-to-end tests (sourced).
#
# The sourcing script sets `suite` (its name in messages) before calling these;
# `passed` counts the steps that passed and `step_name` names the current one.
passed=0
step_name="setup"

die() {
	echo "$suite: FAILED at step '$step_name': $*" >&2
	exit 1
}

# check NAME CMD...: run CMD; on failure show its output and stop.
check() {
	step_name=$1
	shift
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" | tail -n 20 >&2
		die "command failed: $*"
	fi
	passed=$((passed + 1))
	echo "ok $passed - $step_name"
	LAST=$out
}

# expect NAME WANT CMD...: run CMD and require WANT in its output.
expect() {
	local name=$1 want=$2
	shift 2
	check "$name" "$@"
	if [[ $LAST != *"$want"* ]]; then
		printf 'got: %s\n' "$LAST" | tail -n 20 >&2
		passed=$((passed - 1))
		die "expected '$want' in the output of: $*"
	fi
}
