#!/usr/bin/env bash
# Wrapper overhead on a real build: Lua 5.4 (tests/e2e/lua/Makefile, GNU mode, -O2 -gcodeview,
# make -j2) built by plain clang-19 and by `hotpatch-cl clang-19` with the 35 listed functions
# of tests/e2e/lua/hotpatch.txt. hyperfine when installed (apt-get install hyperfine), else one
# timed run each. Usage: benches/lua-build.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --locked --quiet --bins
eval "$(scripts/fetch-sources.sh)"
out=target/bench-lua
mk="make -s -j2 -f tests/e2e/lua/Makefile LUA_DIR=$LUA_DIR"
plain="rm -rf $out/plain && $mk OUT=$out/plain CC=clang-19"
hot="rm -rf $out/hot && $mk OUT=$out/hot CC='$PWD/target/release/hotpatch-cl clang-19' HOTPATCH_FILE=tests/e2e/lua/hotpatch.txt"
mkdir -p "$out"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --runs "$runs" -n plain "$plain" -n hot-patched "$hot"
else
  echo "plain:";       time bash -c "$plain"
  echo "hot-patched:"; time bash -c "$hot"
fi
