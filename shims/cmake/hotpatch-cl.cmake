# CMake toolchain file: compile every C and C++ source through hotpatch-cl, with hot-patching
# of the functions listed in HOTPATCH_FUNCTIONS_FILE.
#
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=<hotpatch-cl>/shims/cmake/hotpatch-cl.cmake \
#         -DCMAKE_C_COMPILER=clang-cl-19 -DHOTPATCH_FUNCTIONS_FILE=hotpatch.txt
#
# Cache variables:
#   HOTPATCH_CL                        the wrapper (default: hotpatch-cl found on PATH). It becomes
#                                      CMAKE_<LANG>_COMPILER_LAUNCHER: CMake runs
#                                      `hotpatch-cl <real compiler> <args>`.
#   HOTPATCH_FUNCTIONS_FILE            the list of (mangled) function names, one a line; relative
#                                      paths are taken from the top source directory. Empty: the
#                                      wrapper passes every compile through untouched.
#   HOTPATCH_CHAINLOAD_TOOLCHAIN_FILE  a toolchain file of your own (cross compiling, sysroot…)
#                                      that this one includes first.
#
# With the list set, each compile gets -fms-secure-hotpatch-functions-file=<absolute path> and the
# patchable-prologue flag of its driver (/hotpatch for clang-cl, -fms-hotpatch for clang). The
# records are CodeView: build with /Z7 or /Zi (clang-cl) or -g -gcodeview (clang).
# The flags are added after project() (CMAKE_PROJECT_INCLUDE), once the driver kind is known.
include_guard(GLOBAL)

set(HOTPATCH_CHAINLOAD_TOOLCHAIN_FILE "" CACHE FILEPATH "Toolchain file included before hotpatch-cl's")
set(HOTPATCH_FUNCTIONS_FILE "" CACHE STRING "Functions to hot-patch, one mangled name a line (relative: to the top source directory)")
if(HOTPATCH_CHAINLOAD_TOOLCHAIN_FILE)
  include("${HOTPATCH_CHAINLOAD_TOOLCHAIN_FILE}")
endif()

if(NOT HOTPATCH_CL)
  find_program(HOTPATCH_CL NAMES hotpatch-cl DOC "The hotpatch-cl compiler wrapper")
endif()
if(NOT HOTPATCH_CL)
  message(FATAL_ERROR "hotpatch-cl not found: put it on PATH or set -DHOTPATCH_CL=/path/to/hotpatch-cl")
endif()
set(CMAKE_C_COMPILER_LAUNCHER "${HOTPATCH_CL}")
set(CMAKE_CXX_COMPILER_LAUNCHER "${HOTPATCH_CL}")

# try_compile projects read this file again: hand them the same settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES
  HOTPATCH_CL HOTPATCH_FUNCTIONS_FILE HOTPATCH_CHAINLOAD_TOOLCHAIN_FILE)

set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/hotpatch-cl-flags.cmake")
