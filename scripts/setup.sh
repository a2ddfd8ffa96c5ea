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
)
missing=()
for pair in "${need[@]}"; do
  set -- $pair
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing $pkgs" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install Rust from your distribution or rustup first" >&2
  exit 1
fi
