#!/usr/bin/env bash
# Replays pcaps/tests/fuzz/regressions/* (inputs that once crashed fuzz
# target pcap_reader) through BIN, the libFuzzer build.
# usage: pcaps/tests/fuzz/replay.sh BIN
set -uo pipefail
cd "$(dirname "$0")/../../.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# pcap_reader's inputs sit at the top; a parser target's in a directory
# named after it (pcaps_TARGET beside BIN).
for d in pcaps/tests/fuzz/regressions/*/; do
	[ -d "$d" ] || continue
	t=$(basename "$d"); bin="$(dirname "$1")/pcaps_$t"
	mapfile -t f < <(find "$d" -type f | sort)
	[ ${#f[@]} -eq 0 ] && continue
	"$bin" "${f[@]}" >/dev/null 2>&1 || { echo "pcaps-fuzz-replay: $t FAILED"; exit 1; }
done
mapfile -t files < <(find pcaps/tests/fuzz/regressions -maxdepth 1 -type f | sort)
[ ${#files[@]} -eq 0 ] && { echo "pcaps-fuzz-replay: no inputs"; exit 0; }
"$1" "${files[@]}" >/tmp/pcaps-fuzz-replay.$$ 2>&1 || {
	cat /tmp/pcaps-fuzz-replay.$$; rm -f /tmp/pcaps-fuzz-replay.$$
	echo "pcaps-fuzz-replay: FAILED"; exit 1; }
rm -f /tmp/pcaps-fuzz-replay.$$
echo "pcaps-fuzz-replay: ${#files[@]} inputs ok"
