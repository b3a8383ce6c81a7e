# SPDX-License-Identifier: Apache-2.0
# The emulated-smartcard test (tests/integration/test_opensc_card.sh):
# pcscd -> vpcd -> virt_cacard (a CAC card over libcacard, its keys on a
# SoftHSM token) -> OpenSC's CAC driver -> opensc-pkcs11.so -> sisign.
# Included by tests/CMakeLists.txt.
#
# Two test-only programs are built here, never installed or linked into
# sisign:
# - virt_cacard, compiled from the read-only third-party tree into the
#   build tree, only when libcacard and GLib are found (Debian:
#   libcacard-dev, libglib2.0-dev); without them the test skips and says so;
# - tcp_nodelay.so, this project's LD_PRELOAD library that turns Nagle off
#   in pcscd (see the file for why).
# Both run inside processes that are not built with the sanitizers (pcscd
# cannot preload an ASan library), so the sanitizer flags are taken off them.
set(SISIGN_VIRT_CACARD_SRC ${PROJECT_SOURCE_DIR}/../shared/third_party/virt_cacard
  CACHE PATH "virt_cacard source tree (test-only smartcard emulator)")

function(sisign_without_sanitizers target)
  foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(opts ${target} ${prop})
    if(opts)
      list(FILTER opts EXCLUDE REGEX "sanitize")
      set_target_properties(${target} PROPERTIES ${prop} "${opts}")
    endif()
  endforeach()
endfunction()

add_library(sisign_tcp_nodelay MODULE ${CMAKE_CURRENT_SOURCE_DIR}/opensc/tcp_nodelay.c)
target_compile_options(sisign_tcp_nodelay PRIVATE ${SISIGN_WARNINGS})
target_link_libraries(sisign_tcp_nodelay PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(sisign_tcp_nodelay PROPERTIES PREFIX "" OUTPUT_NAME tcp_nodelay)
sisign_without_sanitizers(sisign_tcp_nodelay)

pkg_check_modules(CACARD IMPORTED_TARGET libcacard glib-2.0)
set(_opensc_env "SISIGN_TCP_NODELAY=$<TARGET_FILE:sisign_tcp_nodelay>")
if(CACARD_FOUND AND EXISTS ${SISIGN_VIRT_CACARD_SRC}/src/virt_cacard.c)
  add_executable(sisign_virt_cacard ${SISIGN_VIRT_CACARD_SRC}/src/virt_cacard.c
    ${SISIGN_VIRT_CACARD_SRC}/src/connection.c)
  target_link_libraries(sisign_virt_cacard PRIVATE PkgConfig::CACARD)
  # Third-party code: its own dialect, none of our warnings.
  set_target_properties(sisign_virt_cacard PROPERTIES OUTPUT_NAME virt_cacard
    C_EXTENSIONS ON RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/opensc)
  sisign_without_sanitizers(sisign_virt_cacard)
  list(APPEND _opensc_env "VIRT_CACARD=$<TARGET_FILE:sisign_virt_cacard>")
else()
  message(STATUS "virt_cacard not built (needs libcacard-dev, libglib2.0-dev and "
    "${SISIGN_VIRT_CACARD_SRC}): the emulated-smartcard test will skip")
endif()

if(TEST integration.test_opensc_card)
  set_property(TEST integration.test_opensc_card APPEND PROPERTY ENVIRONMENT ${_opensc_env})
  set_tests_properties(integration.test_opensc_card PROPERTIES TIMEOUT 180)
endif()
