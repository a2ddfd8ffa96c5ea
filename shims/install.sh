#!/usr/bin/env bash
# Creates a directory of compiler-named links to hotpatch-cl (clang-cl, clang, clang++) and a
# linker-named one (lld-link), to put first on PATH. Invoked under a compiler's name,
# hotpatch-cl runs the real compiler named by $HOTPATCH_COMPILER, else the next program of that
# name on PATH that is not hotpatch-cl itself. As lld-link it runs $HOTPATCH_LINKER (else the
# next lld-link on PATH) and then restores the S_HOTPATCHFUNC records in the PDB it wrote.
#
# Usage: shims/install.sh DIR [PATH/TO/hotpatch-cl]
#   without the second argument: hotpatch-cl on PATH, else this checkout's target/release or
#   target/debug build.
# On Windows there are no symlinks to rely on: copy hotpatch-cl.exe to DIR\clang-cl.exe,
# DIR\clang.exe, DIR\clang++.exe and DIR\lld-link.exe instead (shims/activate.ps1 -Install does it).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DIR [PATH/TO/hotpatch-cl]" >&2
  exit 2
fi
dir=$1
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -eq 2 ]; then
  bin=$2
elif command -v hotpatch-cl >/dev/null 2>&1; then
  bin=$(command -v hotpatch-cl)
elif [ -x "$repo/target/release/hotpatch-cl" ]; then
  bin="$repo/target/release/hotpatch-cl"
elif [ -x "$repo/target/debug/hotpatch-cl" ]; then
  bin="$repo/target/debug/hotpatch-cl"
else
  echo "install.sh: error: hotpatch-cl not found: build it (cargo build --release) or pass its path" >&2
  exit 1
fi
if [ ! -x "$bin" ]; then
  echo "install.sh: error: $bin is not an executable" >&2
  exit 1
fi
# Absolute target, so the links keep working wherever DIR is.
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
mkdir -p "$dir"
for name in clang-cl clang clang++ lld-link; do
  ln -sfn "$bin" "$dir/$name"
done
echo "install.sh: $dir/{clang-cl,clang,clang++,lld-link} -> $bin" >&2
