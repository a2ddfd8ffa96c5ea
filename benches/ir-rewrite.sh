#!/usr/bin/env bash
# Benchmark of `hotpatch rewrite` on the IR of sqlite3.c (-O2, CodeView debug info, ~36 MB)
# with 10 listed functions that touch globals. Reports throughput (MB/s), peak RSS against
# the input size, and the ratio to `clang-19 -c` of the same IR, measured in the same run.
# Usage: benches/ir-rewrite.sh   (needs clang-19, mingw-w64 headers, hyperfine, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/sqlite-ir.sh
cargo build --release --quiet --bin hotpatch
bin=target/release/hotpatch
# Ten functions that are defined in the IR at -O2 and read or write globals.
list=sqlite3_initialize,sqlite3_config,sqlite3_status64,sqlite3_soft_heap_limit64,sqlite3_vfs_find,sqlite3_vfs_register,sqlite3_auto_extension,sqlite3_reset_auto_extension,sqlite3_memory_used,sqlite3_shutdown
size=$(stat -c %s "$ll")
"$bin" rewrite "$ll" -o "$work/out.ll" -v --ms-hotpatch-functions-list=$list 2>"$work/report.txt"
marked=$(grep -c '^hotpatch: marked' "$work/report.txt")
redirected=$(grep -c '^hotpatch: redirected' "$work/report.txt")
hyperfine --style basic --warmup 2 --runs 15 --export-json "$work/rewrite.json" \
  "$bin rewrite $ll -o $work/out.ll --ms-hotpatch-functions-list=$list" >/dev/null
hyperfine --style basic --warmup 1 --runs 3 --export-json "$work/clang.json" \
  "clang-19 --target=x86_64-w64-windows-gnu -c -O2 $ll -o $work/sqlite3.o" >/dev/null 2>&1
rss_kb=$(/usr/bin/time -f %M "$bin" rewrite "$ll" -o "$work/out.ll" --ms-hotpatch-functions-list=$list 2>&1 >/dev/null | tail -1)
python3 - "$size" "$marked" "$redirected" "$rss_kb" "$work/rewrite.json" "$work/clang.json" <<'PY'
import json, sys
size, marked, redirected, rss_kb = map(int, sys.argv[1:5])
rw = json.load(open(sys.argv[5]))["results"][0]
cl = json.load(open(sys.argv[6]))["results"][0]
mb = size / 1e6
print(f"input: {mb:.1f} MB, {marked} functions marked, {redirected} (function, global) redirects")
print(f"hotpatch rewrite: median {rw['median']*1000:.1f} ms (min {rw['min']*1000:.1f}) -> {mb/rw['median']:.0f} MB/s")
print(f"peak RSS: {rss_kb/1024:.1f} MiB = {rss_kb*1024/size:.2f} x input")
print(f"clang-19 -c -O2 of the same IR: median {cl['median']:.2f} s -> rewrite is {100*rw['median']/cl['median']:.2f}% of it")
PY
