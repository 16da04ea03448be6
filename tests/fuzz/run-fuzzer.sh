#!/usr/bin/env bash
# A short libFuzzer run from the seed corpus: new inputs go to a scratch directory, so the
# committed seeds stay as they are. FUZZ_SECONDS sets the length (default 20).
set -euo pipefail
fuzzer=$1 seeds=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$seeds"
# libFuzzer reports a crash with exit status 77 by default, which meson reads as "skipped"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -artifact_prefix="${G_TEST_BUILDDIR:-.}/" -print_final_stats=1 "$scratch" "$seeds"
