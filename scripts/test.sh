#!/usr/bin/env bash
# Runs every test step of `make test` and ends with "N passed, N failed".
# cmocka binaries count their own tests; every other step counts as one.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# A hung step fails on its own instead of stalling the whole run.
step_timeout=${ICELAB_STEP_TIMEOUT:-600}

count_cmocka() { # name, command...
	local name=$1; shift
	timeout "$step_timeout" "$@" >"$log" 2>&1
	local rc=$?
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then failures+=("$name"); cat "$log"; fi
	echo "test: $name: $p passed, $f failed"
}

run_step() { # name, command...
	local name=$1; shift
	local rc=0
	timeout "$step_timeout" "$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1)); echo "test: $name: ok"
	elif [ "$rc" -eq 77 ]; then # skip (COMMON convention): neither passed nor failed, said loudly
		cat "$log"; echo "test: $name: SKIPPED"
	else
		failed=$((failed + 1)); failures+=("$name"); cat "$log"; echo "test: $name: FAILED"
	fi
}

for t in build/ref/*/tests/test_* build/sim/tests/test_* build/pcaps/tests/test_* build/conformance/tests/test_*; do
	[ -x "$t" ] || continue
	count_cmocka "unit $(basename "$t")" "$t"
done
run_step "vectors" build/vectors/vector_runner vectors
for t in build/asan/ref/*/tests/test_* build/asan/sim/tests/test_* build/asan/pcaps/tests/test_* build/asan/conformance/tests/test_*; do
	[ -x "$t" ] || continue
	count_cmocka "asan $(basename "$t")" "$t"
done
run_step "asan vectors" build/asan/vectors/vector_runner vectors
for t in */tests/*.sh */*/tests/*.sh; do
	[ -f "$t" ] || continue
	run_step "script $t" bash "$t"
done
for t in */tests/*.py */*/tests/*.py; do
	[ -f "$t" ] || continue
	run_step "script $t" python3 "$t"
done
run_step "fuzz regressions" make --no-print-directory fuzz-replay
run_step "fuzz smoke" make --no-print-directory fuzz-smoke
run_step "pcaps fuzz regressions" make --no-print-directory pcaps-fuzz-replay
run_step "pcaps fuzz smoke" make --no-print-directory pcaps-fuzz-smoke
run_step "sim fuzz smoke" make --no-print-directory sim-fuzz-smoke

if [ ${#failures[@]} -ne 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
