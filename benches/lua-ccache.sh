#!/usr/bin/env bash
# ccache and hotpatch-cl on a real build: warm rebuilds of Lua 5.4 (tests/e2e/lua/Makefile, GNU
# mode, -O2 -gcodeview, make -j2, the 35 listed functions of tests/e2e/lua/hotpatch.txt) where
# every compile is already in the cache, three ways, measured in the same run:
#   plain       CC="ccache clang-19"                        (no hot-patching)
#   launcher    CC="hotpatch-cl clang-19", HOTPATCH_LAUNCHER=ccache   (ccache behind the wrapper)
#   in-front    CC="ccache <dir>/clang", <dir>/clang -> hotpatch-cl  (ccache in front of it)
# Each has its own cache directory, filled by one cold build first; each timed run removes the
# objects, so make recompiles everything from the cache. hyperfine when installed, else one
# timed run each. Usage: benches/lua-ccache.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --locked --quiet --bins
eval "$(scripts/fetch-sources.sh)"
out=$PWD/target/bench-lua-ccache
rm -rf "$out" && mkdir -p "$out/shim"
ln -s "$PWD/target/release/hotpatch-cl" "$out/shim/clang"
list=$PWD/tests/e2e/lua/hotpatch.txt
mk="make -s -j2 -f tests/e2e/lua/Makefile LUA_DIR=$LUA_DIR"
export CCACHE_CONFIGPATH=$out/ccache.conf   # no user configuration
plain="rm -rf $out/plain && CCACHE_DIR=$out/cc-plain $mk OUT=$out/plain CC='ccache clang-19'"
launcher="rm -rf $out/launcher && CCACHE_DIR=$out/cc-launcher HOTPATCH_LAUNCHER=ccache $mk OUT=$out/launcher CC='$PWD/target/release/hotpatch-cl clang-19' HOTPATCH_FILE=$list"
front="rm -rf $out/front && CCACHE_DIR=$out/cc-front HOTPATCH_COMPILER=clang-19 $mk OUT=$out/front CC='ccache $out/shim/clang' HOTPATCH_FILE=$list"
for cmd in "$plain" "$launcher" "$front"; do bash -c "$cmd"; done   # cold: fills each cache
# One warm run each with ccache's counters: what the cache served.
for n in plain launcher front; do
  CCACHE_DIR=$out/cc-$n ccache -z >/dev/null
  bash -c "${!n}"
  echo "$n, warm: $(CCACHE_DIR=$out/cc-$n ccache --print-stats |
    grep -E '^(direct_cache_hit|preprocessed_cache_hit|cache_miss|unsupported_source_language|called_for_link)\s' |
    tr '\t\n' '= ')"
done
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --runs "$runs" -n plain "$plain" -n launcher "$launcher" -n in-front "$front"
else
  for n in plain launcher front; do echo "$n:"; time bash -c "${!n}"; done
fi
