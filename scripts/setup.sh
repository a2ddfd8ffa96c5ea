#!/usr/bin/env bash
# Installs what hotpatch-cl's build, demo and tests need on Debian/Ubuntu, when missing.
# Safe to run repeatedly: it only calls apt-get when a tool is absent.
set -euo pipefail

# tool-to-check  Debian package
need=(
  "clang-19 clang-19"
  "clang-cl-19 clang-19"
  "clang-22 clang-22"
  "clang-cl-22 clang-22"
  "lld-link-22 lld-22"
  "llvm-readobj-22 llvm-22"
  "llvm-objdump-22 llvm-22"
  "llvm-pdbutil-22 llvm-22"
  "wine wine"
  "wineboot wine"
  "cmake cmake"
  "make make"
  "python3 python3"
  "ccache ccache"
  "sccache sccache"
  "distcc distcc"
  "distccd distcc"
  "x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64-win32"
  "/usr/x86_64-w64-mingw32/lib/libkernel32.a mingw-w64-x86-64-dev"
)
missing=()
for pair in "${need[@]}"; do
  set -- $pair
  if [ "${1#/}" != "$1" ]; then
    [ -e "$1" ] || missing+=("$2")   # a file, not a command
  else
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing $pkgs" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Wine's recommends (fonts, desktop integration, 32-bit parts) are not needed for console
  # tests and triple the download: install it on its own line without them.
  rest=$(echo "$pkgs" | tr ' ' '\n' | grep -vx 'wine' | tr '\n' ' ' || true)
  if [ -n "${rest// /}" ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $rest >/dev/null
  fi
  if echo "$pkgs" | tr ' ' '\n' | grep -qx wine; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null
  fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust from your distribution or rustup first" >&2
  exit 1
fi
