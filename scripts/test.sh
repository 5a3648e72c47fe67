#!/usr/bin/env bash
# The test command: installs, builds (normal and sanitizer builds), runs every
# test in both, and ends with one line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1
scripts/build.sh build || exit 1
scripts/build.sh build-san || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

status=0
for dir in build build-san; do
  echo "== tests in $dir"
  # the sanitizer build is slower: give its tests more time
  mult=1; [ "$dir" = build-san ] && mult=2
  meson test -C "$dir" --print-errorlogs --num-processes "$(nproc)" \
    --timeout-multiplier "$mult" || status=1
done

/usr/bin/python3 scripts/test_summary.py build/meson-logs/testlog.json \
  build-san/meson-logs/testlog.json || status=1
exit $status
