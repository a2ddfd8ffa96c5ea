# Sourced by the benchmarks that work on SQLite's IR (ir-rewrite.sh, better.sh): sets
#   inc   the mingw-w64 headers,  gnu   the GNU-mode flags (-O2, CodeView debug info),
#   work  the scratch directory ($BENCH_DIR or target/bench-ir),
#   ll    sqlite3.c's textual IR from clang-19, built once and kept in $work.
eval "$(scripts/fetch-sources.sh)"
inc=/usr/share/mingw-w64/include
[ -d "$inc" ] || { echo "missing $inc: apt-get install -y mingw-w64-x86-64-dev" >&2; exit 1; }
gnu=(--target=x86_64-w64-windows-gnu -isystem "$inc" -O2 -gcodeview -g)
work="${BENCH_DIR:-target/bench-ir}"
mkdir -p "$work"
ll="$work/sqlite3.ll"
[ -s "$ll" ] || clang-19 "${gnu[@]}" -S -emit-llvm "$SQLITE_DIR/sqlite3.c" -o "$ll"
