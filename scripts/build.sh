#!/usr/bin/env bash
# build.sh DIR: configures (once) and builds DIR. build-san gets
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
if [ ! -f "$dir/build.ninja" ]; then
  case "$dir" in
    build-san) meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false \
                 -Dbuildtype=debug >/dev/null ;;
    *) meson setup "$dir" >/dev/null ;;
  esac
fi
ninja -C "$dir" >/dev/null || ninja -C "$dir"
echo "build: $dir ok"
