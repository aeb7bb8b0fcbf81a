#!/usr/bin/env bash
# A short libFuzzer run of fuzz target pcap_reader, seeded with our own
# captures (pcaps/captures/); the pcaps/tests/fuzz/regressions/ inputs (crashes found, kept),
# when there are any, are replayed first. Not run by scripts/test.sh
# directly: `make pcaps-fuzz-smoke` (mk/pcaps.mk).
# usage: pcaps/tests/fuzz/smoke.sh BIN WORKDIR   (FUZZ_SMOKE_SECONDS)
set -uo pipefail
cd "$(dirname "$0")/../../.."
bin=$1; work=$2
seconds=${FUZZ_SMOKE_SECONDS:-20}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$work/corpus" "$work/artifacts"
if compgen -G "pcaps/tests/fuzz/regressions/*" >/dev/null; then
	"$bin" pcaps/tests/fuzz/regressions/* >"$work/replay.log" 2>&1 ||
		{ cat "$work/replay.log"; echo "pcaps-fuzz: regression FAILED"; exit 1; }
fi
# Seeds: our captures, each cut to at most 16 KiB (a prefix of a capture
# is a capture: libpcap stops at the cut).
for f in pcaps/captures/*.pcap pcaps/captures/*.pcapng; do
	head -c 16384 "$f" >"$work/corpus/$(basename "$f")"
done
"$bin" "$work/corpus" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
	-rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	>"$work/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -ne 0 ]; then
	tail -n 60 "$work/log"
	echo "pcaps-fuzz: pcap_reader FAILED; the input is in $work/artifacts/"
	exit 1
fi
echo "pcaps-fuzz: pcap_reader: ${execs:-?} runs in ${seconds}s"
