#!/usr/bin/env bash
# fuzz.sh SECONDS: builds the libFuzzer targets with clang and runs each one
# on its corpus for SECONDS. New inputs that reach new code are added to the
# corpus directory; a crash stops with the crashing input in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; }
done
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz >/dev/null
for t in build-fuzz/tests/fuzz_*; do
  [ -x "$t" ] || continue
  name=${t##*/fuzz_}
  case "$name" in replay_*) continue ;; esac
  echo "== fuzzing $name for ${secs}s"
  (cd build-fuzz && "../$t" -max_total_time="$secs" -artifact_prefix="./crash-$name-" \
    "../tests/fuzz/corpus/$name")
done
