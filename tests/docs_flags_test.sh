#!/usr/bin/env bash
# Every long flag a program's --help lists is documented in its man page, and
# every flag the man page documents exists in --help.
#   docs_flags_test.sh BINARY MANPAGE
set -euo pipefail
bin=$1 man=$2
help=$("$bin" --help | grep -oE -- '--[a-z][a-z_-]*' | sort -u)
doc=$(sed 's/\\-/-/g' "$man" | grep -oE -- '--[a-z][a-z_-]*' | sort -u)
missing=$(comm -23 <(echo "$help") <(echo "$doc"))
extra=$(comm -13 <(echo "$help") <(echo "$doc"))
[[ -z $missing ]] || { echo "$man does not document: $missing"; exit 1; }
[[ -z $extra ]] || { echo "$man documents flags $bin lacks: $extra"; exit 1; }
echo "$(basename "$bin"): $(echo "$help" | wc -l) flags documented"
