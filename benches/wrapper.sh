#!/usr/bin/env bash
# Wrapper benchmarks (hyperfine): what hot-patching through hotpatch-cl costs.
#   1. sqlite3.c, GNU mode (clang-19 --target=x86_64-w64-windows-gnu -O2 -g -gcodeview), 10
#      hot-patched functions: wrapper / plain compiler wall time (goal <= 1.08).
#   2. passthrough (no hot-patch flag): time added per invocation (goal <= 3 ms).
#   3. /MP over the Lua 5.4 sources with clang-cl-19: parallel vs serial (goal >= 1.7x on 2 cores).
# Usage: benches/wrapper.sh [sqlite|passthrough|mp]...   (default: all three)
# Results go to target/bench-wrapper/*.md (hyperfine markdown); copy them to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install -y hyperfine" >&2; exit 1; }
cargo build --release --quiet --bin hotpatch-cl
W="$PWD/target/release/hotpatch-cl"
eval "$(scripts/fetch-sources.sh)"
out="$PWD/target/bench-wrapper"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOTPATCH_MODE=auto
unset HOTPATCH_VERBOSE

sqlite() {
  local fns="sqlite3_open,sqlite3_exec,sqlite3_prepare_v2,sqlite3_step,sqlite3_finalize,sqlite3_close,sqlite3_column_int,sqlite3_bind_int,sqlite3_errmsg,sqlite3_reset"
  local flags=(--target=x86_64-w64-windows-gnu -isystem /usr/share/mingw-w64/include -O2 -g -gcodeview -fms-hotpatch -c "$SQLITE_DIR/sqlite3.c")
  hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out/sqlite.md" \
    -n plain "clang-19 ${flags[*]} -o $work/plain.o" \
    -n hotpatch-cl "$W clang-19 ${flags[*]} -fms-hotpatch-functions-list=$fns -o $work/hot.o"
}

passthrough() {
  printf 'int f(int x) { return x + 1; }\n' > "$work/tiny.c"
  hyperfine -N --warmup 5 --runs "${RUNS_PT:-60}" --export-markdown "$out/passthrough.md" \
    -n plain "clang-cl-19 /c /Fo$work/p.obj -- $work/tiny.c" \
    -n hotpatch-cl "$W clang-cl-19 /c /Fo$work/w.obj -- $work/tiny.c" \
    -n plain-version "clang-cl-19 --version" \
    -n hotpatch-cl-version "$W clang-cl-19 --version"
}

mp() {
  local srcs
  srcs=$(ls "$LUA_DIR"/*.c | grep -v -E '/(lua|luac|onelua)\.c$' | tr '\n' ' ')
  mkdir -p "$work/lua"
  # No MSVC headers here: clang-cl with a MinGW target finds the MinGW headers; there /O2
  # is ignored and /Z7 gives DWARF, hence the GNU spellings through /clang:.
  local flags="/c /Z7 /hotpatch /clang:-O2 /clang:-gcodeview --target=x86_64-w64-windows-gnu -fms-hotpatch-functions-list=lua_pushinteger,luaH_get,luaV_execute,luaD_call,lua_settop /Fo$work/lua/"
  hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-markdown "$out/mp.md" \
    -n serial "$W clang-cl-19 $flags /MP1 -- $srcs" \
    -n "/MP" "$W clang-cl-19 $flags /MP -- $srcs"
}

for what in "${@:-sqlite passthrough mp}"; do
  for w in $what; do "$w"; done
done
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
