#!/usr/bin/env bash
# Runs every file under fuzz/regressions/<target>/ once through the
# libFuzzer build of <target>; fails on the first target that crashes.
# usage: fuzz/replay.sh BIN_DIR TARGET...
set -uo pipefail
cd "$(dirname "$0")/.."
bin_dir=$1; shift
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "$@"; do
	mapfile -t files < <(find "fuzz/regressions/$t" -type f 2>/dev/null | sort)
	if [ ${#files[@]} -eq 0 ]; then
		echo "fuzz-replay: $t: no regression inputs"
		continue
	fi
	log=$(mktemp)
	if "$bin_dir/$t" "${files[@]}" >"$log" 2>&1; then
		echo "fuzz-replay: $t: ${#files[@]} inputs ok"
	else
		cat "$log"
		echo "fuzz-replay: $t: FAILED (the input is the last 'Running:' line above)"
		status=1
	fi
	rm -f "$log"
done
exit $status
