# Toolchain for building the examples on Linux: Windows x64 objects from clang-cl, no Windows
# SDK or MSVC libraries (the examples are freestanding). On Windows, leave it out: CMake finds
# clang-cl and its linker by itself. COMPILER overrides the compiler (default clang-cl-19).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
if(NOT COMPILER)
  set(COMPILER clang-cl-19)
endif()
set(CMAKE_C_COMPILER "${COMPILER}")
set(CMAKE_CXX_COMPILER "${COMPILER}")
set(CMAKE_C_COMPILER_TARGET x86_64-pc-windows-msvc)
set(CMAKE_CXX_COMPILER_TARGET x86_64-pc-windows-msvc)
find_program(CMAKE_LINKER NAMES lld-link-22 lld-link REQUIRED)
find_program(CMAKE_AR NAMES llvm-lib-22 llvm-lib REQUIRED)
find_program(CMAKE_MT NAMES llvm-mt-22 llvm-mt)
# No CRT to link a test executable against: check the compiler by building a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES COMPILER)
