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
echo "Compared with native clang-cl 22 on the same sources (llvm-readobj-22 --codeview):"
records() { llvm-readobj-22 --codeview "$1" | grep -A3 'S_HOTPATCHFUNC' | grep -E 'Function:|Name:'; }
refs() { llvm-objdump-22 -t "$1" | grep -o '__ref_[^ ]*$' | grep -v '^__ref_.*default' | sort; }
for ex in c-counter:counter.c cpp-shapes:shapes.cpp; do
  name=${ex%%:*} src=${ex#*:}
  clang-cl-22 /c /Z7 -O2 /GS- /hotpatch "-fms-secure-hotpatch-functions-file=examples/$name/hotpatch.txt" \
    "/Fo$out/$name.native.obj" -- "$PWD/examples/$name/$src"
  if [ "$(records "$out/$name.obj")" = "$(records "$out/$name.native.obj")" ] &&
     [ "$(refs "$out/$name.obj")" = "$(refs "$out/$name.native.obj")" ]; then
    echo "  $name: same S_HOTPATCHFUNC records and __ref_ symbols as clang-cl-22"
  else
    echo "  $name: DIFFERENT from clang-cl-22:"; diff <(records "$out/$name.obj") <(records "$out/$name.native.obj") || true
    exit 1
  fi
done
