#!/usr/bin/env bash
# Benchmark of `hotpatch changed` on SQLite's sqlite3.c: the base object and a patched one
# (two functions fixed: sqlite3_libversion_number's value and one of sqlite3ErrStr's
# messages), both from clang-19 in GNU mode with -ffunction-sections -O2 and CodeView debug
# info; times the comparison (release build) and, in the same run, the compile of one object.
# Usage: benches/changed.sh   (needs clang-19, mingw-w64 headers, hyperfine)
#        HOTPATCH_BIN=path/to/hotpatch benches/changed.sh   (time that binary, build nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/sqlite-ir.sh
flags=("${gnu[@]}" -ffunction-sections -c)
patched_c="$work/sqlite3-patched.c"
sed -e 's/SQLITE_API int sqlite3_libversion_number(void){ return SQLITE_VERSION_NUMBER; }/SQLITE_API int sqlite3_libversion_number(void){ return SQLITE_VERSION_NUMBER + 1; }/' \
    -e 's|/\* SQLITE_BUSY        \*/ "database is locked",|/* SQLITE_BUSY        */ "database is busy",|' \
    "$SQLITE_DIR/sqlite3.c" >"$patched_c"
cmp -s "$SQLITE_DIR/sqlite3.c" "$patched_c" && { echo "the patch did not apply" >&2; exit 1; }
mkdir -p "$work/changed-base" "$work/changed-patched"
base="$work/changed-base/sqlite3.o"
patched="$work/changed-patched/sqlite3.o"
[ -s "$base" ] || clang-19 "${flags[@]}" -I"$SQLITE_DIR" "$SQLITE_DIR/sqlite3.c" -o "$base"
[ -s "$patched" ] || clang-19 "${flags[@]}" -I"$SQLITE_DIR" "$patched_c" -o "$patched"
bin="${HOTPATCH_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet --bin hotpatch
  bin=target/release/hotpatch
fi
echo "objects: base $(($(stat -c %s "$base") / 1000)) kB, patched $(($(stat -c %s "$patched") / 1000)) kB"
echo "list:"; "$bin" changed "$base" "$patched"
hyperfine --style basic --warmup 2 --runs 20 -N "$bin changed $base $patched"
# The reference in the same run: compiling one of the two objects.
hyperfine --style basic --runs 1 "clang-19 ${flags[*]} -I$SQLITE_DIR $SQLITE_DIR/sqlite3.c -o $work/changed-ref.o"
