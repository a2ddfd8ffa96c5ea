#!/usr/bin/env bash
# The README's first command (`make demo`): build hotpatch-cl, compile the bundled examples
# with hot-patching through clang-cl 19 (which has no native support), and show what the
# objects carry: S_HOTPATCHFUNC records and __ref_ pointers in read-only .rdata.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked --bins --quiet
bin=target/release
out=target/demo
rm -rf "$out" && mkdir -p "$out"

compile() { # example source
  local ex=$1 src=$2
  echo "\$ hotpatch-cl clang-cl-19 /c /Z7 -O2 /GS- /hotpatch -fms-hotpatch-functions-file=examples/$ex/hotpatch.txt /Fo$out/$ex.obj -- examples/$ex/$src"
  "$bin/hotpatch-cl" clang-cl-19 /c /Z7 -O2 /GS- /hotpatch \
    "-fms-hotpatch-functions-file=examples/$ex/hotpatch.txt" "/Fo$out/$ex.obj" -- "$PWD/examples/$ex/$src"
}
compile c-counter counter.c
compile cpp-shapes shapes.cpp
echo
echo "\$ hotpatch dump $out/c-counter.obj $out/cpp-shapes.obj"
"$bin/hotpatch" dump "$out/c-counter.obj" "$out/cpp-shapes.obj"
echo
echo "The same records as native clang-cl 22 (llvm-readobj-22 --codeview):"
llvm-readobj-22 --codeview "$out/c-counter.obj" "$out/cpp-shapes.obj" | grep -A3 'S_HOTPATCHFUNC' | grep -E 'Function|Name' | sed 's/^ */  /'
