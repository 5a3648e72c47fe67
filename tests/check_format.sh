#!/bin/sh
# Every tracked C file must match .clang-format (run `make format` to fix).
cd "$(dirname "$0")/.." || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || { echo "no C files found (not a git checkout?)"; exit 1; }
if clang-format --dry-run --Werror $files; then
  echo "1 passed, 0 failed"
else
  echo "0 passed, 1 failed: run 'make format'"
  exit 1
fi
