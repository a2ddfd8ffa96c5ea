#!/usr/bin/env bash
# Benchmark of `hotpatch inject`: 10 S_HOTPATCHFUNC records into the ~5 MB CodeView object of
# SQLite's amalgamation, measured with hyperfine, next to the compile that produced the object
# (measured in the same run, so the ratio holds on whatever machine runs this).
# Usage: benches/inject.sh            (numbers go to docs/PERFORMANCE.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/fetch-sources.sh)"
inc=/usr/share/mingw-w64/include
[ -d "$inc" ] || { echo "missing $inc: apt-get install -y mingw-w64-x86-64-dev" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "missing hyperfine: apt-get install -y hyperfine" >&2; exit 1; }
cargo build --release --quiet --bin hotpatch
bin=$PWD/target/release/hotpatch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compile="clang-19 --target=x86_64-w64-windows-gnu -isystem $inc -O2 -gcodeview -g -c $SQLITE_DIR/sqlite3.c -o $work/sqlite3.obj"
fns=sqlite3_open_v2,sqlite3_prepare_v2,sqlite3_step,sqlite3_finalize,sqlite3_close,sqlite3_exec,sqlite3_malloc,sqlite3_free,sqlite3_column_int,sqlite3_bind_int
hyperfine --runs 1 --export-json "$work/compile.json" "$compile"
ls -l "$work/sqlite3.obj"
# The CLI as a build uses it: read, inject, write a sibling temporary, rename.
hyperfine -N --warmup 3 --runs 30 --export-json "$work/inject.json" \
  "$bin inject $work/sqlite3.obj -o $work/out.obj --functions=$fns"
# The same with the files on tmpfs: the part that is not the disk.
shm=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$shm"' EXIT
cp "$work/sqlite3.obj" "$shm/"
hyperfine -N --warmup 3 --runs 30 "$bin inject $shm/sqlite3.obj -o $shm/out.obj --functions=$fns"
# The injection alone, in process (no process start, no file I/O).
cargo bench --quiet --bench inject_inproc -- "$work/sqlite3.obj" "$fns"
"$bin" dump "$work/out.obj" | head -14
python3 - "$work/compile.json" "$work/inject.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["results"][0]["mean"]
r = json.load(open(sys.argv[2]))["results"][0]
print(f"compile {c:.2f} s; inject mean {r['mean']*1e3:.2f} ms (min {r['min']*1e3:.2f}, max {r['max']*1e3:.2f}); "
      f"inject/compile = {r['mean']/c*100:.3f} %")
PY
