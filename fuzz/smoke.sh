#!/usr/bin/env bash
# A short libFuzzer run per target, seeded with the vectors' corpus, the
# committed seeds and the regressions; part of `make test`.
# usage: fuzz/smoke.sh BUILD_DIR TARGET...   (FUZZ_SMOKE_SECONDS, FUZZ_SMOKE_RUNS)
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1; shift
seconds=${FUZZ_SMOKE_SECONDS:-20}
runs=${FUZZ_SMOKE_RUNS:-3000000}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "$@"; do
	work=$build/smoke/$t
	artifacts=$build/artifacts/$t/
	mkdir -p "$work/corpus" "$artifacts" "$build/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t"
	# Streams need room for several frames; the others stay at libFuzzer's
	# default of 4096 bytes.
	max_len=4096
	[ "$t" = stun_stream ] && max_len=16384
	log=$work/log
	start=$(date +%s)
	"$build/libfuzzer/$t" "$work/corpus" "$build/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" \
		-max_total_time="$seconds" -runs="$runs" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -dict="fuzz/dict/$t.dict" -artifact_prefix="$artifacts" \
		-print_final_stats=1 >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		echo "fuzz-smoke: $t: FAILED after ${took}s; the input is in $artifacts"
		echo "  keep it: cp $artifacts<crash-file> fuzz/regressions/$t/<what-it-does>.bin"
		status=1
		continue
	fi
	echo "fuzz-smoke: $t: ${execs:-?} runs in ${took}s (${rate:-?} exec/s, ${cov:-cov: ?})"
done
exit $status
