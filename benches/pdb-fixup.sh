#!/bin/sh
# PDB fix-up time against the lld-link time that produced the PDB, measured in one run, and
# link mode (`hotpatch-cl lld-link-22 …`: link + in-process fix-up) against plain lld-link-22.
# Input: Lua 5.4 (all library sources, 32 objects) compiled by native clang-cl-22 with
# 30 hot-patched functions, linked as a DLL without a CRT (/force:unresolved).
# Needs: clang-cl-22, lld-link-22, hyperfine, mingw-w64-x86-64-dev (for libc headers).
# Usage: benches/pdb-fixup.sh   (from the repository root)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
eval "$("$root/scripts/fetch-sources.sh")"
cargo build --release --quiet --bin hotpatch --bin hotpatch-cl --manifest-path "$root/Cargo.toml"
hotpatch="$root/target/release/hotpatch"
hotpatch_cl="$root/target/release/hotpatch-cl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
list='luaH_get,luaH_getint,luaH_getshortstr,luaH_getstr,luaH_set,luaH_newkey,luaV_execute,luaV_equalobj,luaV_lessthan,luaV_concat,luaV_finishget,luaD_call,luaD_precall,luaD_poscall,luaS_new,luaS_newlstr,luaC_step,luaC_fullgc,lua_pushinteger,lua_pushstring,lua_gettable,lua_settop,lua_rawget,luaL_checkinteger,luaL_tolstring,str_format,str_find_aux,luaO_pushvfstring,luaF_close,luaE_extendCI'
for f in "$LUA_DIR"/*.c; do
  case $(basename "$f") in lua.c|luac.c) continue ;; esac
  # mingw's headers in MSVC mode: take their GNU spellings (attributes after declarators).
  clang-cl-22 /c /Z7 -O2 /GS- -I/usr/share/mingw-w64/include -D__GNUC__=4 -D__GNUC_MINOR__=8 -D_UCRT \
    "-fms-secure-hotpatch-functions-list=$list" -- "$f"
done
objs=$(ls *.obj | tr '\n' ' ')
link="lld-link-22 /debug /dll /noentry /nodefaultlib /force:unresolved /out:lua.dll $objs"
$link >/dev/null 2>&1 || true
cp lua.pdb lua.orig.pdb
echo "objects: $(ls *.obj | wc -l), PDB: $(wc -c < lua.orig.pdb) bytes"
"$hotpatch" fixup-pdb lua.pdb
hyperfine -N --warmup 3 --runs 40 --export-markdown link.md --ignore-failure "$link"
hyperfine -N --warmup 3 --runs 40 --export-markdown fixup.md \
  --prepare "cp lua.orig.pdb lua.pdb" "$hotpatch fixup-pdb lua.pdb"
# Link mode: each run links afresh (a new PDB full of blank S_SKIPs) and fixes it up.
hyperfine -N --warmup 3 --runs 40 --export-markdown linkmode.md --ignore-failure \
  "$link" "$hotpatch_cl $link"
"$hotpatch_cl" $link >/dev/null 2>&1 || true
"$hotpatch" dump lua.pdb | sed -n 2p
cat link.md fixup.md linkmode.md
# hyperfine runs one command's batch after the other; on a shared machine the load changes in
# between. Interleaved pairs (plain, wrapped) see the same load: median and minimum of each.
: > plain.txt; : > wrapped.txt
for _ in $(seq 60); do
  t0=$(date +%s%N); $link >/dev/null 2>&1 || true; t1=$(date +%s%N)
  "$hotpatch_cl" $link >/dev/null 2>&1 || true; t2=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 )) >> plain.txt; echo $(( (t2 - t1) / 1000 )) >> wrapped.txt
done
stat() { sort -n "$1" | awk '{v[NR]=$1} END {printf "median %.1f ms, min %.1f ms", v[int((NR+1)/2)]/1000, v[1]/1000}'; }
echo "interleaved, 60 pairs: lld-link-22 $(stat plain.txt); hotpatch-cl lld-link-22 $(stat wrapped.txt)"
