#!/usr/bin/env bash
# hotpatch-cl.exe under Wine in front of the Windows clang-cl 19.1.7 (zig.exe of ziglang
# 0.14.1, from `scripts/windows.sh tools`), timed by hyperfine:
#   passthrough  a one-line source, no hot-patch flag: clang-cl.exe alone against
#                hotpatch-cl.exe clang-cl.exe (what the wrapper adds to every compile); the
#                wrapper's own start (--version) and Wine's cost of any program (cmd /c exit 0)
#   lvm          Lua 5.4's lvm.c, -O2 with CodeView and /hotpatch: the plain compile against
#                hotpatch-cl.exe with 5 of its functions hot-patched (HOTPATCH_MODE=auto:
#                the IR step, the rewrite, code generation and the record injection)
# Every command goes through scripts/windows/wine-run (the project's prefix, target/wine), with
# the wineserver kept running for the whole script so no run pays for starting it.
# Usage: benches/windows-wine.sh [passthrough|lvm]...   (default: both); RUNS=N.
# Results: target/bench-windows/*.md (hyperfine markdown); copy them to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install -y hyperfine" >&2; exit 1; }
scripts/windows.sh tools
[ -f target/x86_64-pc-windows-gnu/release/hotpatch-cl.exe ] || scripts/windows.sh build
eval "$(scripts/fetch-sources.sh)"
R="$PWD/scripts/windows/wine-run"
HP="$PWD/target/x86_64-pc-windows-gnu/release/hotpatch-cl.exe"
Z="$PWD/target/windows-tools/zig-0.14.1"
CL="Z:$Z/bin/clang-cl.exe"
out="$PWD/target/bench-windows"
mkdir -p "$out"
work=$(mktemp -d "$PWD/target/bench-windows.XXXXXX")
export WINEPREFIX="${HOTPATCH_WINEPREFIX:-$PWD/target/wine}" WINEDEBUG=-all
"$R" cmd /c exit 0
wineserver -p 2>/dev/null || true  # already running: it stays while the runs follow one another
trap 'wineserver -k || true; rm -rf "$work"' EXIT
export HOTPATCH_MODE=auto
unset HOTPATCH_VERBOSE

passthrough() {
  printf 'int f(int x) { return x + 1; }\n' >"$work/tiny.c"
  hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-markdown "$out/passthrough.md" \
    -n clang-cl.exe "$R $CL /c /FoZ:$work/p.obj -- Z:$work/tiny.c" \
    -n "hotpatch-cl.exe clang-cl.exe" "$R $HP $CL /c /FoZ:$work/w.obj -- Z:$work/tiny.c" \
    -n "hotpatch-cl.exe --version" "$R $HP --version" \
    -n "cmd /c exit 0" "$R cmd /c exit 0"
}

lvm() {
  # No MSVC headers here: the MinGW target with zig's own headers (clang's and mingw-w64's),
  # hence the GNU spellings of -O2 and CodeView through /clang:.
  local flags="/c /Z7 /GS- /hotpatch --target=x86_64-w64-windows-gnu /clang:-O2 /clang:-gcodeview /clang:-isystemZ:$Z/ziglang/lib/include /clang:-isystemZ:$Z/ziglang/lib/libc/include/any-windows-any"
  local fns="luaV_execute,luaV_concat,luaV_equalobj,luaV_lessthan,luaV_finishset"
  hyperfine -N --warmup 1 --runs "${RUNS:-10}" --export-markdown "$out/lvm.md" \
    -n plain "$R $CL $flags /FoZ:$work/plain.obj -- Z:$LUA_DIR/lvm.c" \
    -n hotpatch-cl.exe "$R $HP $CL $flags -fms-hotpatch-functions-list=$fns /FoZ:$work/hot.obj -- Z:$LUA_DIR/lvm.c"
  # The records are there (the Linux reader).
  llvm-readobj-22 --codeview "$work/hot.obj" | grep -c 'S_HOTPATCHFUNC' | sed 's/^/records in hot.obj: /'
}

for what in "${@:-passthrough lvm}"; do
  for w in $what; do "$w"; done
done
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
