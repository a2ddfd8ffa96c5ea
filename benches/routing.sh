#!/usr/bin/env bash
# Exact routing on whole builds: `hotpatch-cl` (HOTPATCH_MODE=auto) against the plain compiler,
# measured as interleaved pairs (plain, wrapper, plain, wrapper, …) in the same run, so a busy
# machine slows both alike. Each case prints the median wall time of each side, the ratio of
# the medians and the ratio of the summed CPU time (user + sys).
#
#   lua-rebuild   Lua 5.4 (tests/e2e/lua/Makefile, GNU mode, -O2 -g -gcodeview, make -j2), every
#                 object remade (`make -B`) over the plain base build's objects, as make and
#                 CMake do when the hot-patch flags are added; list touching 3 files
#                 (luaH_getint, luaH_get in ltable.c, luaV_execute in lvm.c, luaX_token2str in
#                 llex.c). Goal <= 1.03.
#   lua-clean     the same list from a clean tree.
#   lua-35        a clean build with the 35 functions of tests/e2e/lua/hotpatch.txt (17 of 32
#                 files). Goal <= 1.25.
#   lua-35-22     the same with clang-22 (auto mode takes the rewrite on clang 21+ too).
#   sqlite        sqlite3.c alone, 10 listed functions: from a clean output (routing probe, then
#                 the pipeline) and over the plain object (the object at the output path sends
#                 it straight to the pipeline). Goal <= 1.08.
#   profile       where the time goes (not run by default).
#
# Usage: benches/routing.sh [CASE]...   (default: all; RUNS=N pairs, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
cargo build --release --locked --quiet --bin hotpatch-cl
W="$PWD/target/release/hotpatch-cl"
eval "$(scripts/fetch-sources.sh)"
out="$PWD/target/bench-routing"
mkdir -p "$out"
export HOTPATCH_MODE=auto
unset HOTPATCH_VERBOSE HOTPATCH_WERROR
printf 'luaH_getint\nluaH_get\nluaV_execute\nluaX_token2str\n' > "$out/three.txt"
mk="make -s -j2 -f tests/e2e/lua/Makefile LUA_DIR=$LUA_DIR"

# time_once CMD: runs CMD (output discarded) and prints "wall cpu" in seconds.
time_once() {
  local TIMEFORMAT='%3R %3U %3S' t
  t=$( { time bash -c "$1" >/dev/null 2>&1; } 2>&1 ) || { echo "failed: $1" >&2; exit 1; }
  awk '{ printf "%s %.3f\n", $1, $2 + $3 }' <<<"$t"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# pair NAME PREP_PLAIN PLAIN PREP_HOT HOT
pair() {
  local name=$1 prep_p=$2 plain=$3 prep_h=$4 hot=$5 i p h
  : > "$out/$name.plain"
  : > "$out/$name.hot"
  for ((i = 0; i < runs; i++)); do
    bash -c "$prep_p"
    p=$(time_once "$plain")
    bash -c "$prep_h"
    h=$(time_once "$hot")
    echo "$p" >> "$out/$name.plain"
    echo "$h" >> "$out/$name.hot"
  done
  local pw hw pc hc
  pw=$(cut -d' ' -f1 "$out/$name.plain" | median)
  hw=$(cut -d' ' -f1 "$out/$name.hot" | median)
  pc=$(awk '{ s += $2 } END { print s }' "$out/$name.plain")
  hc=$(awk '{ s += $2 } END { print s }' "$out/$name.hot")
  printf '| %s | %s s | %s s | **%.3f** | %.3f |\n' "$name" "$pw" "$hw" \
    "$(echo "$hw / $pw" | bc -l)" "$(echo "$hc / $pc" | bc -l)" | tee -a "$out/results.md"
}

lua-rebuild() {
  [ -f "$out/base/lua.exe" ] || $mk OUT="$out/base" CC=clang-19 >/dev/null
  pair lua-rebuild-3 \
    "rm -rf $out/p && cp -a $out/base $out/p" "$mk -B OUT=$out/p CC=clang-19" \
    "rm -rf $out/h && cp -a $out/base $out/h" \
    "$mk -B OUT=$out/h CC='$W clang-19' HOTPATCH_FILE=$out/three.txt"
}

lua-clean() {
  pair lua-clean-3 "rm -rf $out/p" "$mk OUT=$out/p CC=clang-19" \
    "rm -rf $out/h" "$mk OUT=$out/h CC='$W clang-19' HOTPATCH_FILE=$out/three.txt"
}

lua-35() {
  pair lua-clean-35 "rm -rf $out/p" "$mk OUT=$out/p CC=clang-19" \
    "rm -rf $out/h" "$mk OUT=$out/h CC='$W clang-19' HOTPATCH_FILE=tests/e2e/lua/hotpatch.txt"
}

lua-35-22() {
  pair lua-clean-35-clang22 "rm -rf $out/p" "$mk OUT=$out/p CC=clang-22" \
    "rm -rf $out/h" "$mk OUT=$out/h CC='$W clang-22' HOTPATCH_FILE=tests/e2e/lua/hotpatch.txt"
}

sqlite() {
  local fns="sqlite3_open,sqlite3_exec,sqlite3_prepare_v2,sqlite3_step,sqlite3_finalize,sqlite3_close,sqlite3_column_int,sqlite3_bind_int,sqlite3_errmsg,sqlite3_reset"
  local flags="--target=x86_64-w64-windows-gnu -isystem /usr/share/mingw-w64/include -O2 -g -gcodeview -fms-hotpatch -c $SQLITE_DIR/sqlite3.c"
  [ -f "$out/sqlite-base.o" ] || clang-19 $flags -o "$out/sqlite-base.o"
  pair sqlite-clean "rm -f $out/sp.o" "clang-19 $flags -o $out/sp.o" \
    "rm -f $out/sh.o" "$W clang-19 $flags -fms-hotpatch-functions-list=$fns -o $out/sh.o"
  pair sqlite-rebuild "cp $out/sqlite-base.o $out/sp.o" "clang-19 $flags -o $out/sp.o" \
    "cp $out/sqlite-base.o $out/sh.o" \
    "$W clang-19 $flags -fms-hotpatch-functions-list=$fns -o $out/sh.o"
}

# Where the time goes (one run each, CPU seconds user + sys): for every Lua source the plain
# compile, the routing probe, and whether a list defines one of its functions; for sqlite3.c
# the plain compile, the probe and the pipeline alone (HOTPATCH_MODE=rewrite).
profile() {
  local flags="--target=x86_64-w64-windows-gnu --sysroot=/usr -O2 -g -gcodeview -std=gnu99 -fms-hotpatch -I$LUA_DIR -c"
  local probe="-S -emit-llvm -g0 -Xclang -disable-llvm-passes"
  local tp=0 tq=0 t3=0 t35=0 f p q
  for f in "$LUA_DIR"/*.c; do
    case "$f" in */lua.c|*/luac.c|*/onelua.c) continue ;; esac
    p=$(time_once "clang-19 $flags $f -o $out/prof.o" | cut -d' ' -f2)
    q=$(time_once "clang-19 ${flags% -c} $probe $f -o $out/prof.ll" | cut -d' ' -f2)
    tp=$(echo "$tp + $p" | bc); tq=$(echo "$tq + $q" | bc)
    if grep -qE "^define .*@($(paste -sd'|' "$out/three.txt"))\(" "$out/prof.ll"; then t3=$(echo "$t3 + $p" | bc); fi
    if grep -qE "^define .*@($(paste -sd'|' tests/e2e/lua/hotpatch.txt))\(" "$out/prof.ll"; then t35=$(echo "$t35 + $p" | bc); fi
  done
  echo "lua: plain compiles ${tp} s CPU; probes ${tq} s ($(echo "100 * $tq / $tp" | bc) %); files defining a 3-list function ${t3} s ($(echo "100 * $t3 / $tp" | bc) %), a 35-list function ${t35} s ($(echo "100 * $t35 / $tp" | bc) %)" | tee -a "$out/results.md"
  local sf="--target=x86_64-w64-windows-gnu -isystem /usr/share/mingw-w64/include -O2 -g -gcodeview -fms-hotpatch"
  local fns="sqlite3_open,sqlite3_exec,sqlite3_prepare_v2,sqlite3_step,sqlite3_finalize,sqlite3_close,sqlite3_column_int,sqlite3_bind_int,sqlite3_errmsg,sqlite3_reset"
  p=$(time_once "clang-19 $sf -c $SQLITE_DIR/sqlite3.c -o $out/prof.o" | cut -d' ' -f2)
  q=$(time_once "clang-19 $sf $probe $SQLITE_DIR/sqlite3.c -o $out/prof.ll" | cut -d' ' -f2)
  local r
  r=$(time_once "HOTPATCH_MODE=rewrite $W clang-19 $sf -c $SQLITE_DIR/sqlite3.c -fms-hotpatch-functions-list=$fns -o $out/prof.o" | cut -d' ' -f2)
  echo "sqlite3.c: plain ${p} s CPU; probe ${q} s ($(echo "100 * $q / $p" | bc) %); pipeline alone ${r} s ($(echo "100 * $r / $p" | bc) %)" | tee -a "$out/results.md"
}

echo "| case ($runs pairs) | plain (median wall) | hotpatch-cl | wall ratio | CPU ratio |" | tee "$out/results.md"
echo "|---|---|---|---|---|" | tee -a "$out/results.md"
for c in "${@:-lua-rebuild lua-clean lua-35 lua-35-22 sqlite}"; do
  for w in $c; do "$w"; done
done
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/results.md"
