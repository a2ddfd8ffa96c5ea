#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/seeds/ from the test fixtures, with the
# compilers the tests use (clang-cl-19, clang-cl-22, lld-link-22). Run from anywhere; the
# seeds are small on purpose (each a few KB, the PDB seed ~100 KB).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
fixtures="$fuzz/../tests/fixtures"
seeds="$fuzz/seeds"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Generated seeds are overwritten by name; inputs that fuzzing found stay.
# Compile copies by relative name in the scratch directory, so no seed names a path of this
# machine (the debug info records `.` as the build directory).
cp "$fixtures/ir-src/globals.c" "$fixtures/coff/hot.c" "$fixtures/coff/hot.cpp" "$work/"
cd "$work"
repro=(/Brepro /clang:-ffile-compilation-dir=.)
mkdir -p "$seeds"/{ir_rewrite,coff_inject,codeview_dump,pdb_fixup,rsp_split,driver_plan,changed_compare,coff_seal}

# IR: the first line is the function list (`#` first: mark-only), the rest the module.
ir() { # compiler target source list name
  "$1" --target="$2" /O2 /Z7 /GS- -Wno-ignored-attributes "${repro[@]}" /clang:-S \
    /clang:-emit-llvm -- "$3"
  { printf '%s\n' "$4"; cat "${3%.*}.ll"; } >"$seeds/ir_rewrite/$5"
}
ir clang-cl-19 x86_64-pc-windows-msvc globals.c 'f_direct,f_names,f_struct,f_phi,f_tls,f_alias,f_callback,f_ptrs,f_aggregate,f_static_local' globals-19-x64
ir clang-cl-22 aarch64-pc-windows-msvc globals.c '#f_direct,f_tls,f_plain' globals-22-arm64
ir clang-cl-19 i686-pc-windows-msvc hot.c 'bump,_std_add@8,@fast_add@8,vec_add@@8' hot-19-x86
ir clang-cl-22 x86_64-pc-windows-msvc hot.cpp '?get@S@@QEAAHH@Z,c_entry,?helper@@YAHH@Z' hotcpp-22-x64

# COFF objects: clang-cl-19 without records (x64, x86 with /Gy), clang-cl-22 with them (x64, ARM64).
cl() { # compiler target source out extra...
  local c="$1" t="$2" s="$3" o="$4"; shift 4
  "$c" --target="$t" /c /Z7 /O2 /GS- -Wno-ignored-attributes "${repro[@]}" "$@" /Fo"$o" -- "$s"
}
cl clang-cl-19 x86_64-pc-windows-msvc hot.c hot-19-x64.obj
cl clang-cl-19 i686-pc-windows-msvc hot.cpp hotcpp-19-x86.obj /Gy
cl clang-cl-22 x86_64-pc-windows-msvc hot.cpp hotcpp-22-x64.obj \
  '-fms-secure-hotpatch-functions-list=?get@S@@QEAAHH@Z,c_entry'
cl clang-cl-22 aarch64-pc-windows-msvc hot.c hot-22-arm64.obj \
  -fms-secure-hotpatch-functions-list=bump,untouched
for o in "$work"/*.obj; do
  cp "$o" "$seeds/coff_inject/"
  cp "$o" "$seeds/codeview_dump/"
done

# PDB: 4 bytes (little-endian length of the PDB), the PDB lld-link-22 wrote, then hot.obj.
cat >"$work/pdb.c" <<'C'
int counter;
static int s_total;
__declspec(noinline) static int helper(int a) { return a * s_total++; }
int bump(int a) { counter += a; return helper(a) + counter; }
int __stdcall mainCRTStartup(void) { return bump(3); }
C
clang-cl-22 /c /Z7 /O2 /GS- /Zl "${repro[@]}" -fms-secure-hotpatch-functions-list=bump,helper \
  /Fohot.obj -- pdb.c
lld-link-22 /debug /nodefaultlib /entry:mainCRTStartup /subsystem:console /Brepro \
  /pdbsourcepath:. /out:hot.exe hot.obj
python3 - "$work/hot.pdb" "$work/hot.obj" "$seeds/pdb_fixup/hot" <<'PY'
import struct, sys
pdb, obj = (open(p, "rb").read() for p in sys.argv[1:3])
open(sys.argv[3], "wb").write(struct.pack("<I", len(pdb)) + pdb + obj)
PY

# Response files: MSVC and GNU quoting, UTF-8 with a BOM, UTF-16 LE as MSBuild writes.
printf '%s\n' '/c /Z7 "/Fo C:\out dir\\" -DMSG="\"hi\"" a\\b.c "x""y" \\\\"q"' >"$seeds/rsp_split/windows"
printf '%s\n' "-c 'a b.c' -DX=\\\"1\\\" \"q\\\"uote\" back\\\\slash -o out.o" >"$seeds/rsp_split/gnu"
printf '\xef\xbb\xbf%s' '-fms-hotpatch-functions-file=hot.txt /O2' >"$seeds/rsp_split/utf8-bom"
printf '/c "a b.c" /Fofoo.obj' | iconv -f utf-8 -t utf-16le | { printf '\xff\xfe'; cat; } >"$seeds/rsp_split/utf16le"

# Command lines: first byte even = clang-cl, odd = GNU clang; arguments separated by NUL.
line() { # name kind args...
  local name="$1" kind="$2"; shift 2
  { printf "$kind"; printf '%s\0' "$@"; } >"$seeds/driver_plan/$name"
}
line cl-hot '\x00' /c /Z7 -O2 /hotpatch -fms-hotpatch-functions-file=hot.txt a.c b.cpp /Foout/
line cl-list '\x00' /c /Z7 /MP4 -fms-hotpatch-functions-list=bump,?f@S@@QEAAHH@Z /clang:-fms-hotpatch /Fea.exe a.c /link /debug
line cl-xclang '\x00' /c -Xclang -fms-hotpatch-allow-direct-list=g -fms-secure-hotpatch-functions-list=f /Fa /FA x.c
line gnu-hot '\x01' --target=x86_64-w64-windows-gnu -gcodeview -fms-hotpatch -O2 -fms-hotpatch-functions-list=bump -c a.c -o a.o
line gnu-link '\x01' -fms-hotpatch-functions-file hot.txt -fuse-ld=lld a.c b.c -o app.exe -MD -MF a.d
line gnu-pass '\x01' -E a.c -o -
# Object pairs for `hotpatch changed`: the rules fixture, base then patched, built with
# function sections by both drivers (x64). `damaged-names` is a fuzzer finding, kept as it is.
pair() { # name compiler flags...
  local name="$1" cc="$2" side; shift 2
  for side in base patched; do
    mkdir -p "$work/$side" && cp "$fixtures/changed/rules/$side/rules.c" "$work/$side/"
    case "$cc" in
      clang-cl*) (cd "$work/$side" && "$cc" "$@" "${repro[@]}" "/Fo../rules-$side.o" rules.c) ;;
      *) (cd "$work/$side" && "$cc" "$@" -ffile-compilation-dir=. -o "../rules-$side.o" rules.c) ;;
    esac
  done
  python3 - "$work/rules-base.o" "$work/rules-patched.o" "$seeds/changed_compare/$name" <<'PY'
import struct, sys
base, patched = (open(p, "rb").read() for p in sys.argv[1:3])
open(sys.argv[3], "wb").write(struct.pack("<I", len(base)) + base + patched)
PY
}
pair rules-x64 clang-cl-19 /c /O2 /Z7 /Gy /Brepro
pair rules-gnu-x64 clang-19 --target=x86_64-w64-windows-gnu -O2 -g -gcodeview -ffunction-sections -c
# `hotpatch seal` inputs: objects with a writable `__ref_` COMDAT (the rewrite's form, before
# the object step) beside a writable `.data` and a constant, for x64, x86 and ARM64 (the
# `.rdata` COMDAT of each `__ref_` comes out writable), and a GNU archive of two of them.
cat >"$work/seal.ll" <<'LL'
$__ref_g = comdat any
$__ref_h = comdat any
@g = global i32 1
@h = external global ptr
@k = constant [2 x i32] [i32 1, i32 2]
@__ref_g = linkonce externally_initialized global ptr @g, comdat, section ".rdata"
@__ref_h = linkonce externally_initialized global ptr @h, comdat, section ".rdata"
define i32 @f(i32 %i) {
  %p = load ptr, ptr @__ref_g
  %q = load ptr, ptr @__ref_h
  %v = load i32, ptr %p
  %w = load ptr, ptr %q
  %e = getelementptr [2 x i32], ptr @k, i32 0, i32 %i
  %x = load i32, ptr %e
  %y = ptrtoint ptr %w to i32
  %s = add i32 %v, %x
  %t = add i32 %s, %y
  ret i32 %t
}
LL
for t in x86_64-pc-windows-msvc:x64 i686-pc-windows-msvc:x86 aarch64-pc-windows-msvc:arm64; do
  clang-22 --target="${t%%:*}" -c -O2 -mno-incremental-linker-compatible -Wno-override-module seal.ll -o "$seeds/coff_seal/seal-${t##*:}.obj"
done
rm -f "$seeds/coff_seal/libseal.a"
llvm-ar-22 rcD "$seeds/coff_seal/libseal.a" "$seeds/coff_seal/seal-x64.obj" "$seeds/coff_seal/seal-arm64.obj"
echo "seeds written to $seeds"; du -sh "$seeds"
