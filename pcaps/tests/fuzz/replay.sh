#!/usr/bin/env bash
# Replays pcaps/tests/fuzz/regressions/* (inputs that once crashed fuzz
# target pcap_reader) through BIN, the libFuzzer build.
# usage: pcaps/tests/fuzz/replay.sh BIN
set -uo pipefail
cd "$(dirname "$0")/../../.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mapfile -t files < <(find pcaps/tests/fuzz/regressions -type f | sort)
[ ${#files[@]} -eq 0 ] && { echo "pcaps-fuzz-replay: no inputs"; exit 0; }
"$1" "${files[@]}" >/tmp/pcaps-fuzz-replay.$$ 2>&1 || {
	cat /tmp/pcaps-fuzz-replay.$$; rm -f /tmp/pcaps-fuzz-replay.$$
	echo "pcaps-fuzz-replay: FAILED"; exit 1; }
rm -f /tmp/pcaps-fuzz-replay.$$
echo "pcaps-fuzz-replay: ${#files[@]} inputs ok"
