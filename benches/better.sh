#!/usr/bin/env bash
# Benchmarks of the "better than clang 22" parts on SQLite's sqlite3.c:
# - `hotpatch rewrite` with EVERY defined function listed (the aggregate/TLS/opt-out scans run
#   on all bodies; compare with benches/ir-rewrite.sh, which lists 10);
# - `hotpatch verify` on clang 22's own object of the same build (all functions listed).
# Usage: benches/better.sh   (needs clang-19, clang-22, mingw-w64 headers, hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/sqlite-ir.sh
grep '^define' "$ll" | sed -E 's/.*@("?[^"(]+"?)\(.*/\1/' | tr -d '"' >"$work/all-lines.txt"
obj="$work/sqlite3-native.o"
[ -s "$obj" ] || clang-22 "${gnu[@]}" -c -fms-secure-hotpatch-functions-file="$work/all-lines.txt" \
  "$SQLITE_DIR/sqlite3.c" -o "$obj"
cargo build --release --quiet --bin hotpatch
bin=target/release/hotpatch
echo "functions listed: $(wc -l <"$work/all-lines.txt"), IR: $(($(stat -c %s "$ll") / 1000000)) MB, object: $(($(stat -c %s "$obj") / 1000)) kB"
hyperfine --style basic --warmup 1 --runs 10 \
  "$bin rewrite $ll -o $work/out-all.ll --ms-hotpatch-functions-file=$work/all-lines.txt"
# verify exits 1 here: clang 22 inlined a few listed functions away (it reports them).
hyperfine --style basic --warmup 1 --runs 10 -i \
  "$bin verify --functions-file $work/all-lines.txt $obj"
