#!/usr/bin/env bash
# Every file with a translatable string must be listed in po/POTFILES.in, and every listed file must
# exist; otherwise its strings silently never reach translators.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

listed=$(grep -v '^#' po/POTFILES.in | sed '/^\s*$/d' | sort -u)
wanted=$( (grep -rlE '\b(N_|_|C_|NC_|g_dngettext|ngettext)\s*\(' --include='*.c' src || true;
           grep -rl 'translatable="yes"' --include='*.ui' src || true;
           ls data/*.desktop.in data/*.metainfo.xml.in data/*.gschema.xml 2>/dev/null || true) | sort -u)

echo "1..2"
missing=$(comm -13 <(echo "$listed") <(echo "$wanted"))
stale=$(comm -23 <(echo "$listed") <(echo "$wanted"))
if [ -z "$missing" ]; then echo "ok 1 every translatable file is in po/POTFILES.in"
else echo "not ok 1 missing from po/POTFILES.in:"; echo "$missing" | sed 's/^/#   /'; fi
if [ -z "$stale" ]; then echo "ok 2 every file in po/POTFILES.in has translatable strings"
else echo "not ok 2 listed in po/POTFILES.in without translatable strings:"; echo "$stale" | sed 's/^/#   /'; fi
[ -z "$missing$stale" ]
