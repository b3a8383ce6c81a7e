# SPDX-License-Identifier: Apache-2.0
# Compiler warnings, sanitizers and fuzzing flags.
include(CheckCCompilerFlag)

set(SISIGN_WARNINGS "")
foreach(flag -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes
             -Wmissing-prototypes -Wimplicit-fallthrough -Wvla -Wpointer-arith)
  string(MAKE_C_IDENTIFIER "HAVE${flag}" _var)
  check_c_compiler_flag(${flag} ${_var})
  if(${_var})
    list(APPEND SISIGN_WARNINGS ${flag})
  endif()
endforeach()
if(SISIGN_WERROR)
  list(APPEND SISIGN_WARNINGS -Werror)
endif()

# -Wconversion is for the library only: it is where a silent truncation of a
# 63-bit SIS length would matter.
check_c_compiler_flag(-Wconversion HAVE_WCONVERSION)
set(SISIGN_LIB_WARNINGS ${SISIGN_WARNINGS})
if(HAVE_WCONVERSION)
  list(APPEND SISIGN_LIB_WARNINGS -Wconversion -Wno-sign-conversion)
endif()

add_compile_definitions(_FILE_OFFSET_BITS=64 _GNU_SOURCE)

if(SISIGN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# ThreadSanitizer for the threaded paths (batch workers, parallel verify);
# scripts/test.sh runs the threaded tests under it.  TSan cannot share a
# process with ASan, so the two options exclude each other.
if(SISIGN_TSAN)
  if(SISIGN_SANITIZE OR SISIGN_FUZZ)
    message(FATAL_ERROR "SISIGN_TSAN cannot be combined with SISIGN_SANITIZE or SISIGN_FUZZ")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

if(SISIGN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SISIGN_FUZZ needs clang (CC=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
