# Source this file (bash or zsh) to compile with hot-patching in the current shell:
#   source shims/activate.sh [REAL-COMPILER]     e.g.  source shims/activate.sh clang-cl-19
# It puts a directory of clang-cl/clang/clang++ links to hotpatch-cl first on PATH
# ($HOTPATCH_SHIM_DIR, default <checkout>/target/shims, created by shims/install.sh when
# missing), exports HOTPATCH_COMPILER when a real compiler is given, and defines the alias
# `hpcl` (hotpatch-cl in front of that compiler). `hotpatch_deactivate` undoes all of it.

if [ -n "${BASH_VERSION:-}" ]; then
  _hotpatch_here=${BASH_SOURCE[0]}
elif [ -n "${ZSH_VERSION:-}" ]; then
  eval '_hotpatch_here=${(%):-%x}'
else
  echo "activate.sh: source it from bash or zsh" >&2
  return 1 2>/dev/null || exit 1
fi
_hotpatch_repo=$(cd "$(dirname "$_hotpatch_here")/.." && pwd)
HOTPATCH_SHIM_DIR=${HOTPATCH_SHIM_DIR:-$_hotpatch_repo/target/shims}
if [ ! -e "$HOTPATCH_SHIM_DIR/clang-cl" ]; then
  "$_hotpatch_repo/shims/install.sh" "$HOTPATCH_SHIM_DIR" || return 1
fi
export HOTPATCH_SHIM_DIR
# The wrapper itself on PATH too, for `hotpatch-cl COMPILER …` and the alias.
_hotpatch_bin=$(dirname "$(readlink -f "$HOTPATCH_SHIM_DIR/clang-cl")")
if [ -z "${_HOTPATCH_OLD_PATH+set}" ]; then
  _HOTPATCH_OLD_PATH=$PATH
  _HOTPATCH_OLD_COMPILER=${HOTPATCH_COMPILER-}
fi
export PATH="$HOTPATCH_SHIM_DIR:$_hotpatch_bin:$_HOTPATCH_OLD_PATH"
if [ $# -ge 1 ] && [ -n "$1" ]; then
  export HOTPATCH_COMPILER=$1
fi
alias hpcl="hotpatch-cl ${HOTPATCH_COMPILER:-clang-cl}"
hotpatch_deactivate() {
  export PATH=$_HOTPATCH_OLD_PATH
  if [ -n "$_HOTPATCH_OLD_COMPILER" ]; then
    export HOTPATCH_COMPILER=$_HOTPATCH_OLD_COMPILER
  else
    unset HOTPATCH_COMPILER
  fi
  unalias hpcl 2>/dev/null
  unset _HOTPATCH_OLD_PATH _HOTPATCH_OLD_COMPILER HOTPATCH_SHIM_DIR
  unset -f hotpatch_deactivate
}
unset _hotpatch_here _hotpatch_repo _hotpatch_bin
