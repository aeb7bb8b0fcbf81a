#!/bin/sh
# Embeds the foundation's malformed and edge vectors (vectors/own/*.json,
# written by vectors/gen_own.py) into a C file (stdout) for the
# robustness tests of turn-security: name, expected decode result, kind
# and bytes (a C string of \xHH escapes, its length apart) of each, in
# the order given. Used by mk/conformance.mk.
set -eu
field() { # FILE KEY: the first "KEY": "value" of the file
	sed -n "s/^ *\"$2\": \"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}
echo '/* Generated from vectors/own by conformance/gen_vectors.sh: do not edit. */'
echo '#include <stddef.h>'
echo 'const char *const cf_builtin_vectors[][4] = {'
lens=
n=0
for f in "$@"; do
	name=$(field "$f" name)
	hex=$(field "$f" hex | tr -d ' ')
	[ -n "$name" ] && [ -n "$hex" ] || { echo "gen_vectors: $f: no name or hex" >&2; exit 1; }
	case $hex in *[!0-9a-fA-F]*) echo "gen_vectors: $f: bad hex" >&2; exit 1 ;; esac
	[ $((${#hex} % 2)) -eq 0 ] || { echo "gen_vectors: $f: odd hex length" >&2; exit 1; }
	kind=$(field "$f" kind)
	printf '\t{"%s", "%s", "%s",\n\t "%s"},\n' "$name" "$(field "$f" decode)" "${kind:-stun}" \
		"$(printf '%s' "$hex" | sed 's/../\\x&/g')"
	lens="$lens $((${#hex} / 2)),"
	n=$((n + 1))
done
echo '};'
echo "const size_t cf_builtin_vector_len[] = {$lens};"
echo "const size_t cf_builtin_vector_count = $n;"
