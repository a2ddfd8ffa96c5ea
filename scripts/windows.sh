#!/usr/bin/env bash
# The Windows build of hotpatch-cl, made and tested on Debian 12 (`make windows`,
# `make test-windows`).
#
#   scripts/windows.sh build   target/x86_64-pc-windows-gnu/release/{hotpatch-cl,hotpatch}.exe
#   scripts/windows.sh test    the tests built for Windows run under Wine, the Ctrl-C check,
#                              the parity check (hotpatch.exe under Wine writes the same
#                              bytes as the Linux build on real objects and PDBs), the tests
#                              with the real Windows compilers, CMake and Ninja (`real`), clippy
#   scripts/windows.sh tests-only [CARGO TEST ARGS]   the cargo tests under Wine alone
#   scripts/windows.sh ctrlc | parity | clippy        one of the other checks alone
#   scripts/windows.sh tools   fetch the real Windows tools (clang-cl 16/19/22, lld-link,
#                              llvm-lib, CMake, Ninja) into target/windows-tools
#   scripts/windows.sh real [TEST ARGS]   the tests with the real Windows tools under Wine
#
# How: Debian's second Rust (rustc-web/cargo-web 1.96, in /usr/bin) builds the standard
# library for x86_64-pc-windows-gnu from its source (rust-web-src) with cargo's -Zbuild-std
# (unstable, hence RUSTC_BOOTSTRAP=1); mingw-w64's gcc links. The tests run under Wine
# through scripts/windows/wine-run (a private prefix in target/wine). The tests use the
# release profile so that they share the one build of the standard library and the
# dependencies with `build`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
triple=x86_64-pc-windows-gnu

setup() {
  # tool-to-check  Debian package (only what `make test` does not already install)
  local need=(
    "/usr/bin/cargo cargo-web"
    "/usr/bin/rustc rustc-web"
    "/usr/bin/cargo-clippy rust-web-clippy"
    "/usr/src/rustc-1.96.0/library/Cargo.lock rust-web-src"
    "/usr/bin/x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64-win32"
    "/usr/x86_64-w64-mingw32/lib/libkernel32.a mingw-w64-x86-64-dev"
    "/usr/bin/flock util-linux"
    "/usr/bin/unzip unzip"
  )
  local missing=() pair
  for pair in "${need[@]}"; do
    set -- $pair
    [ -e "$1" ] || missing+=("$2")
  done
  command -v wine >/dev/null 2>&1 || missing+=(wine)
  # pip fetches the Windows tools' wheels (only `pip download`: nothing is installed).
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
  if [ ${#missing[@]} -gt 0 ]; then
    local pkgs sudo=""
    pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
    echo "windows: installing $pkgs" >&2
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    local rest=${pkgs/wine /}
    if [ -n "${rest// /}" ]; then
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $rest >/dev/null
    fi
    if [ "$rest" != "$pkgs" ]; then
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
    fi
  fi
}

# The real Windows tools the tests drive under Wine, from PyPI's Windows wheels (pinned, cached
# in target/windows-tools/wheels, nothing else downloaded): zig.exe of ziglang 0.11.0, 0.14.1
# and 0.17.1 holds clang 16.0.6, 19.1.7 and 22.1.8 for Windows with lld-link and llvm-lib;
# cmake.exe 4.4.5 and ninja.exe 1.13.2; and the Linux zig 0.14.1 (zig-linux-0.14.1) for
# `hotpatch-cl zig …` on Linux. Each Windows zig gets forwarders in zig-VERSION/bin
# (scripts/windows/forward.c): clang-cl.exe, lld-link.exe and llvm-lib.exe. About 350 MB of
# wheels and 1.5 GB unpacked.
tools_dir="$root/target/windows-tools"
zig_versions=(0.11.0 0.14.1 0.17.1)
tools() {
  local wheels="$tools_dir/wheels" spec file dir v
  mkdir -p "$wheels"
  for spec in ziglang==0.11.0 ziglang==0.14.1 ziglang==0.17.1 cmake==4.4.5 ninja==1.13.2; do
    file="${spec/==/-}-py3-none-win_amd64.whl"
    if [ ! -f "$wheels/$file" ]; then
      echo "windows: downloading $spec for win_amd64 from PyPI" >&2
      python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --platform win_amd64 --python-version 3.11 "$spec" -d "$wheels"
      [ -f "$wheels/$file" ] || { echo "windows: pip gave no $file" >&2; exit 1; }
    fi
    case $spec in
      ziglang*) dir="$tools_dir/zig-${spec#ziglang==}" ;;
      *) dir="$tools_dir/${spec%%==*}" ;;
    esac
    # Unpacked once; the stamp says the unzip finished.
    if [ ! -f "$dir/.unpacked" ] || [ "$wheels/$file" -nt "$dir/.unpacked" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      (cd "$dir" && unzip -q "$wheels/$file" -x '*.dist-info/*')
      touch "$dir/.unpacked"
    fi
  done
  # The Linux zig 0.14.1 (clang 19.1.7) too, for `hotpatch-cl zig …` on Linux.
  file=ziglang-0.14.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl
  if [ ! -f "$wheels/$file" ]; then
    echo "windows: downloading ziglang==0.14.1 for Linux from PyPI" >&2
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux_2_12_x86_64 --python-version 3.11 ziglang==0.14.1 -d "$wheels"
    [ -f "$wheels/$file" ] || { echo "windows: pip gave no $file" >&2; exit 1; }
  fi
  dir="$tools_dir/zig-linux-0.14.1"
  if [ ! -f "$dir/.unpacked" ] || [ "$wheels/$file" -nt "$dir/.unpacked" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && unzip -q "$wheels/$file" -x '*.dist-info/*')
    touch "$dir/.unpacked"
  fi
  local fwd="$root/scripts/windows/forward.c" tool sub
  for v in "${zig_versions[@]}"; do
    mkdir -p "$tools_dir/zig-$v/bin"
    for tool in "clang-cl:clang --driver-mode=cl" "lld-link:lld-link" "llvm-lib:lib"; do
      sub=${tool#*:}
      tool="$tools_dir/zig-$v/bin/${tool%%:*}.exe"
      if [ ! -f "$tool" ] || [ "$fwd" -nt "$tool" ]; then
        x86_64-w64-mingw32-gcc -municode -O2 -s -Wall -Werror -DSUBCOMMAND="L\"$sub\"" \
          -o "$tool" "$fwd"
      fi
    done
  done
}

# The Linux cargo (rustup's, usually) for the Linux half of the parity check.
linux_cargo=$(command -v cargo || true)
linux_path=$PATH
# Debian's Rust first: rustup's proxies in ~/.cargo/bin would otherwise answer for
# `cargo`, `rustc` and `cargo-clippy`, and rustup's toolchain has no Windows std.
export PATH="/usr/bin:$PATH"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/windows/wine-run"
cargo=(/usr/bin/cargo)
fx="$PWD/target/windows-fixtures"

# Real inputs for the Windows tests, made by the Linux compilers (the Windows build cannot
# run Linux programs under Wine): objects, IR and a PDB from tests/fixtures/coff/hot.c.
fixtures() {
  rm -rf "$fx" && mkdir -p "$fx"
  cp tests/fixtures/coff/hot.c "$fx/hot.c"
  (
    cd "$fx"
    clang-22 --target=x86_64-pc-windows-msvc -O2 -gcodeview -g -S -emit-llvm hot.c -o hot.ll
    clang-cl-22 /c /Z7 /O2 /GS- /hotpatch /Brepro /Fohot.obj hot.c
    clang-cl-22 /c /Z7 /O2 /GS- /hotpatch /Brepro -fms-secure-hotpatch-functions-list=bump,std_add \
      /Fonative.obj hot.c
    lld-link-22 /dll /noentry /nodefaultlib /debug /Brepro /out:native.dll native.obj >/dev/null
    printf 'bump\r\n_std_add@8\r\nstd_add\r\n' >hot.txt
  )
}

# The same command under Linux and under Wine must give the same bytes on stdout, the same
# output file and the same exit status. Prints "parity: N passed, M failed".
parity() {
  local win="$PWD/target/$triple/release"
  [ -n "$linux_cargo" ] || { echo "parity: no Linux cargo on PATH" >&2; exit 1; }
  # The Linux build `make test` made (target/debug), with the Linux toolchain.
  env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP PATH="$linux_path" \
    "$linux_cargo" build --locked --quiet --bins
  local lin_bin="$PWD/target/debug" passed=0 failed=0 w prep=""
  w=$(mktemp -d "$PWD/target/parity.XXXXXX")
  cp "$fx"/* "$w/"
  cd "$w"
  check() { # name output-file-or-- args...
    local name=$1 out=$2; shift 2
    local ls lw
    rm -f lin.out win.out lin.file win.file
    set +e
    eval "$prep"
    "$lin_bin/hotpatch" "$@" >lin.out 2>lin.err; ls=$?
    [ "$out" = -- ] || mv "$out" lin.file 2>/dev/null
    eval "$prep"
    "$OLDPWD/scripts/windows/wine-run" "$win/hotpatch.exe" "$@" >win.out 2>win.err; lw=$?
    [ "$out" = -- ] || mv "$out" win.file 2>/dev/null
    set -e
    # Wine's console layer turns "\n" into "\r\n" only for consoles, never for pipes.
    if [ "$ls" = "$lw" ] && cmp -s lin.out win.out &&
       { [ "$out" = -- ] || cmp -s lin.file win.file; }; then
      passed=$((passed + 1)); echo "parity: $name: same (exit $ls)"
    else
      failed=$((failed + 1)); echo "parity: $name: DIFFERENT (exit $ls vs $lw)"
      diff lin.out win.out | head -20 || true
      cat lin.err win.err | head -10
    fi
  }
  check "inject -o" patched.obj inject hot.obj -o patched.obj --functions=bump,helper --functions-file=hot.txt
  "$lin_bin/hotpatch" inject hot.obj -o patched.obj --functions=bump,helper --functions-file=hot.txt
  check "dump" -- dump patched.obj native.obj hot.obj
  check "dump --json" -- dump --json patched.obj native.obj
  check "dump of a PDB" -- dump native.pdb
  check "verify (OK)" -- verify --functions=bump patched.obj
  check "verify (problems)" -- verify --functions=bump,untouched,nosuch hot.obj
  check "rewrite" rewritten.ll rewrite hot.ll -o rewritten.ll --ms-hotpatch-functions-list=bump,helper
  check "rewrite to stdout" -- rewrite hot.ll --ms-hotpatch-functions-file=hot.txt
  prep="cp native.pdb fixed.pdb"  # fixup-pdb works in place
  check "fixup-pdb" fixed.pdb fixup-pdb fixed.pdb native.obj
  prep=""
  check "dump of a broken file" -- dump hot.c
  cd "$OLDPWD"
  rm -rf "$w"
  echo "parity: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# The Windows spelling of a Linux path (in the project's Wine prefix).
winpath() {
  WINEPREFIX="${HOTPATCH_WINEPREFIX:-$root/target/wine}" WINEDEBUG=-all winepath -w "$1"
}
# Ctrl-C under Wine: Wine turns a SIGINT into the console's CTRL_C_EVENT, which is what
# pressing Ctrl-C in a console sends (Wine cannot send console events to a process group, so
# the test in tests/it/windows.rs is for Windows itself). hotpatch-cl.exe runs with the
# Windows fake compiler asleep in the code step; SIGINT to the whole process group (the
# wrapper and the compiler, as a console's Ctrl-C reaches both) must end it with status 130,
# leaving no temporary directory in Wine's %TEMP% and no object.
ctrlc() {
  local win="$PWD/target/$triple/release" w temp pid status n
  temp="${HOTPATCH_WINEPREFIX:-$root/target/wine}/drive_c/users/$(id -un)/Temp"
  w=$(mktemp -d "$PWD/target/ctrlc.XXXXXX")
  cp "$win/fake-clang.exe" "$w/clang-cl.exe"
  cp "$fx/hot.c" "$w/a.c"
  scripts/windows/wine-run cmd /c exit 0
  rm -rf "$temp"/hotpatch-cl*
  local ir cl
  ir=$(winpath "$fx/hot.ll")
  cl=$(winpath "$w/clang-cl.exe")
  (
    cd "$w"
    FAKE_CLANG_SLEEP_MS=60000 FAKE_CLANG_IR="$ir" HOTPATCH_MODE=rewrite \
      exec setsid "$OLDPWD/scripts/windows/wine-run" "$win/hotpatch-cl.exe" \
      "$cl" /c /hotpatch -fms-hotpatch-functions-list=bump a.c
  ) </dev/null >"$w/out.txt" 2>&1 &
  pid=$!
  # Wait for the temporary directory: the compiler sleeps in the IR step.
  for n in $(seq 300); do
    compgen -G "$temp/hotpatch-cl*" >/dev/null && break
    sleep 0.1
  done
  compgen -G "$temp/hotpatch-cl*" >/dev/null || { echo "ctrl-c: the wrapper made no temporary directory" >&2; cat "$w/out.txt" >&2; exit 1; }
  sleep 0.5
  kill -INT -- "-$pid"
  set +e
  wait "$pid"; status=$?
  set -e
  local left
  left=$(compgen -G "$temp/hotpatch-cl*" || true)
  if [ "$status" = 130 ] && [ -z "$left" ] && [ ! -e "$w/a.obj" ]; then
    echo "ctrl-c: exit 130, no temporaries, no object"
    rm -rf "$w"
  else
    echo "ctrl-c: FAILED: exit $status, left: ${left:-nothing}, object: $(ls "$w")" >&2
    cat "$w/out.txt" >&2
    exit 1
  fi
}
# The tests with the real Windows tools (tests/it/windows_real.rs): a Linux test process
# starts the Windows programs under Wine and reads their outputs with llvm-readobj-22 and its
# kin; `make test` ignores them, this runs them (extra arguments go to the test harness).
real() {
  local start=$SECONDS
  tools
  echo "real: tools ready after $((SECONDS - start)) s, $(du -sh "$tools_dir" | cut -f1) in $tools_dir"
  "${cargo[@]}" build --release "${common[@]}" --bin hotpatch-cl --bin hotpatch
  scripts/windows/wine-run cmd /c exit 0
  [ -n "$linux_cargo" ] || { echo "real: no Linux cargo on PATH" >&2; exit 1; }
  env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP PATH="$linux_path" \
    "$linux_cargo" test --locked --test it -- --ignored windows_real:: "$@"
  echo "real: $((SECONDS - start)) s"
}

# `test` among the standard library's crates in every build, not only in `cargo test`: cargo
# makes each crate depend on all of them, so a build without it and the tests' build would
# compile every dependency twice (73 of 131 units differed; with it, 12 of 155 do, those
# whose features the dev-dependencies change).
common=(--locked --target "$triple" -Zbuild-std=std,panic_abort,test)

case "${1:-build}" in
  setup) setup ;;
  build)
    setup
    "${cargo[@]}" build --release "${common[@]}" --bin hotpatch-cl --bin hotpatch
    ls -l "target/$triple/release/hotpatch-cl.exe" "target/$triple/release/hotpatch.exe"
    ;;
  test | tests-only)
    setup
    step=$1
    shift
    fixtures
    # Creates the Wine prefix first (winepath would make one without the DLL stand-in).
    scripts/windows/wine-run cmd /c exit 0
    # The tests' stand-in compiler, built for Windows (the tests cannot start rustc under Wine).
    "${cargo[@]}" build --release "${common[@]}" --target-dir target \
      --manifest-path scripts/windows/fake-clang/Cargo.toml
    HOTPATCH_WINDOWS_FIXTURES=$(winpath "$fx") \
      HOTPATCH_FAKE_CLANG=$(winpath "$PWD/target/$triple/release/fake-clang.exe") \
      "${cargo[@]}" test --release "${common[@]}" "$@"
    if [ "$step" = test ]; then
      ctrlc
      parity
      real
      "${cargo[@]}" clippy --release "${common[@]}" --all-targets -- -D warnings
    fi
    ;;
  parity)
    setup
    fixtures
    parity
    ;;
  tools)
    setup
    tools
    ;;
  real)
    setup
    shift
    real "$@"
    ;;
  ctrlc)
    setup
    fixtures
    ctrlc
    ;;
  clippy)
    setup
    "${cargo[@]}" clippy --release "${common[@]}" --all-targets -- -D warnings
    ;;
  *) echo "usage: scripts/windows.sh [setup|build|test|tests-only [CARGO TEST ARGS]|tools|real [TEST ARGS]|ctrlc|parity|clippy]" >&2; exit 2 ;;
esac
