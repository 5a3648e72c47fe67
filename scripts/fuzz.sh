#!/usr/bin/env bash
# fuzz.sh SECONDS [TARGET]: builds the libFuzzer targets with clang and runs
# each one (or only TARGET) for SECONDS, seeded from tests/fuzz/corpus/NAME.
# New inputs go to build-fuzz/corpus-NAME (the repo corpus stays as it is);
# a crash stops with the crashing input in build-fuzz/: fix it, then keep
# that input in tests/fuzz/corpus/NAME so the replay test runs it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
only=${2:-}
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
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=${t##*/fuzz_}
  case "$name" in replay_* | *.p) continue ;; esac
  [ -z "$only" ] || [ "$only" = "$name" ] || continue
  echo "== fuzzing $name for ${secs}s"
  mkdir -p "build-fuzz/corpus-$name"
  (cd build-fuzz && "../$t" -max_total_time="$secs" -artifact_prefix="./crash-$name-" \
    "corpus-$name" "../tests/fuzz/corpus/$name")
done
