#!/usr/bin/env bash
# cppcheck finds nothing in our C (src, tests, bench), each file checked with the flags it is
# built with (the build's compile_commands.json). __COVERITY__ is GLib's switch for static
# analysers: it marks g_assert*'s failure paths noreturn, so a pointer asserted non-NULL is known
# to be one.
# Skips, with the reason, where cppcheck is not installed.
set -u
src=${1:?usage: cppcheck.sh SOURCE-ROOT BUILD-DIR}
build=${2:?usage: cppcheck.sh SOURCE-ROOT BUILD-DIR}
command -v cppcheck >/dev/null || { echo "1..0 # SKIP cppcheck is not installed"; exit 0; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "1..1"
# the generated protobuf-c headers test the library's version, from a header not parsed here
cppcheck --quiet --project="$build/compile_commands.json" -D__COVERITY__ \
    --enable=warning,style,performance,portability --suppress=missingIncludeSystem \
    --inline-suppr --std=c11 -j "$(nproc)" -DPROTOBUF_C_VERSION_NUMBER=1004001 \
    -i "$build" -i "$src/tests/interop/node_modules" --error-exitcode=1 >"$out" 2>&1
status=$?
if [ "$status" -eq 0 ] && ! grep -qE "^[^ ]+:[0-9]+:[0-9]+: " "$out"; then
    echo "ok 1 no findings"
else
    echo "not ok 1 cppcheck's findings:"
    sed 's/^/# /' "$out" | head -100
    exit 1
fi
