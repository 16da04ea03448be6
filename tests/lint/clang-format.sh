#!/usr/bin/env bash
# Every C file of ours is as clang-format (the .clang-format at the root) writes it.
# Skips, with the reason, where clang-format is not installed.
set -u
src=${1:?usage: clang-format.sh SOURCE-ROOT}
command -v clang-format >/dev/null || { echo "1..0 # SKIP clang-format is not installed"; exit 0; }
cd "$src" || exit 1
mapfile -t files < <(find src tests bench -name '*.[ch]' -not -path '*/node_modules/*' | sort)
echo "1..1"
if out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
    echo "ok 1 ${#files[@]} files formatted"
else
    echo "not ok 1 files differ from clang-format's output:"
    printf '%s\n' "$out" | grep -E "error:" | cut -d: -f1 | sort | uniq -c | sed 's/^/# /'
    exit 1
fi
