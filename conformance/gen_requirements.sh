#!/bin/sh
# Embeds conformance/requirements/*.req into a C file (stdout) as
# cf_builtin_req_files: {file name, text}. Used by mk/conformance.mk.
set -eu
echo '/* Generated from conformance/requirements: do not edit. */'
echo '#include <stddef.h>'
echo 'const char *const cf_builtin_req_files[][2] = {'
n=0
for f in "$@"; do
	printf '\t{"%s",\n' "$(basename "$f")"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
	n=$((n + 1))
done
echo '};'
echo "const size_t cf_builtin_req_file_count = $n;"
