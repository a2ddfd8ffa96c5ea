# Included after each project() by hotpatch-cl.cmake: adds the hot-patch flags, spelled for the
# driver CMake found (clang-cl or GNU-style clang). Not meant to be used on its own.
include_guard(GLOBAL)
# try_compile's projects (compiler checks) are left alone: their source directory is not the
# user's, and a check needs no hot-patching.
if(NOT HOTPATCH_FUNCTIONS_FILE OR CMAKE_PROJECT_NAME STREQUAL "CMAKE_TRY_COMPILE")
  return()
endif()
get_filename_component(_hotpatch_list "${HOTPATCH_FUNCTIONS_FILE}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
if(NOT EXISTS "${_hotpatch_list}")
  message(FATAL_ERROR "HOTPATCH_FUNCTIONS_FILE: ${_hotpatch_list} does not exist")
endif()
foreach(_hotpatch_lang C CXX)
  if(NOT CMAKE_${_hotpatch_lang}_COMPILER_LOADED)
    continue()
  endif()
  if(CMAKE_${_hotpatch_lang}_COMPILER_FRONTEND_VARIANT STREQUAL "MSVC")
    set(_hotpatch_prologue "/hotpatch")
  else()
    set(_hotpatch_prologue "-fms-hotpatch")
  endif()
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:${_hotpatch_lang}>:-fms-secure-hotpatch-functions-file=${_hotpatch_list}>"
    "$<$<COMPILE_LANGUAGE:${_hotpatch_lang}>:${_hotpatch_prologue}>")
endforeach()
unset(_hotpatch_list)
unset(_hotpatch_prologue)
