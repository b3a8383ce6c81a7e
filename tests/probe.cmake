# SPDX-License-Identifier: Apache-2.0
# tests/tools/rename_probe.c: an LD_PRELOAD library that records, at the
# moment an output is renamed into place, the process's command line and
# whether the temp file is locked (tests/integration/test_signsis_secrets.sh,
# test_stale_temps.sh).  Built without sanitizers: it is preloaded ahead of
# everything, and the tests tell ASan not to insist on coming first.
add_library(rename_probe MODULE ${CMAKE_CURRENT_SOURCE_DIR}/tools/rename_probe.c)
target_compile_options(rename_probe PRIVATE ${SISIGN_WARNINGS} -fno-sanitize=all)
target_link_options(rename_probe PRIVATE -fno-sanitize=all)
target_link_libraries(rename_probe PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(rename_probe PROPERTIES PREFIX "")

foreach(t integration.test_signsis_secrets integration.test_stale_temps)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SISIGN_RENAME_PROBE=$<TARGET_FILE:rename_probe>")
  endif()
endforeach()
