# SPDX-License-Identifier: Apache-2.0
# sisign-gtk tests (issue #7).  Included by tests/CMakeLists.txt; only when
# the app is built (GTK 4 found).  The programs live in tests/gui/ so the
# generic tests/unit/test_*.c glob does not pick them up.
if(TARGET sisign_gui_core)
  # The app's logic without a display: GLib + libsisign only.
  add_executable(test_gui_model ${CMAKE_CURRENT_SOURCE_DIR}/gui/test_gui_model.c)
  target_compile_options(test_gui_model PRIVATE ${SISIGN_WARNINGS})
  target_link_libraries(test_gui_model PRIVATE sisign_gui_model)
  set_target_properties(test_gui_model PROPERTIES BUILD_RPATH "${PROJECT_BINARY_DIR}/src")
  add_test(NAME gui.test_gui_model COMMAND test_gui_model)
  # The PIN prompt part signs with the mock PKCS#11 module (pkcs11.cmake,
  # included after this file: the target is resolved at generate time).
  add_dependencies(test_gui_model sisign_mock_p11)
  set_tests_properties(gui.test_gui_model PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
    ENVIRONMENT "${SISIGN_TEST_ENV};MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")

  # The real window under Xvfb with the SoftHSM token (fixture from
  # pkcs11.cmake, token dir <build>/tests/softhsm); saves a screenshot.
  add_executable(test_gui_xvfb ${CMAKE_CURRENT_SOURCE_DIR}/gui/test_gui_xvfb.c)
  target_compile_options(test_gui_xvfb PRIVATE ${SISIGN_WARNINGS})
  target_link_libraries(test_gui_xvfb PRIVATE sisign_gui_core)
  set_target_properties(test_gui_xvfb PROPERTIES BUILD_RPATH "${PROJECT_BINARY_DIR}/src")
  add_test(NAME gui.test_gui_xvfb
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/gui/run-xvfb.sh $<TARGET_FILE:test_gui_xvfb>)
  add_dependencies(test_gui_xvfb sisign_mock_p11)
  set_tests_properties(gui.test_gui_xvfb PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
    FIXTURES_REQUIRED softhsm_token RESOURCE_LOCK softhsm_token
    ENVIRONMENT "${SISIGN_TEST_ENV};SOFTHSM2_CONF=${CMAKE_CURRENT_BINARY_DIR}/softhsm/softhsm2.conf;SISIGN_SCREENSHOT=${PROJECT_BINARY_DIR}/screenshots/sisign-gtk-signed.png;MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
  # `cmake --build build --target gui_screenshot`: run the Xvfb test (with
  # its token fixture) and copy the window it photographed over
  # docs/screenshot.png, the picture the README shows.
  add_custom_target(gui_screenshot
    COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${PROJECT_BINARY_DIR} -R "^gui[.]test_gui_xvfb$" --output-on-failure
    COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_BINARY_DIR}/screenshots/sisign-gtk-signed.png
      ${PROJECT_SOURCE_DIR}/docs/screenshot.png
    DEPENDS test_gui_xvfb sisign_cli sisign_mock_p11
    COMMENT "Refreshing docs/screenshot.png from the Xvfb test"
    VERBATIM)
  # Under the sanitizers GTK, GLib and fontconfig keep caches alive to exit,
  # which LeakSanitizer reports as leaks in their own code: leak checking is
  # off for the two GUI programs only; every other ASan and UBSan check stays.
  if(SISIGN_SANITIZE)
    set_property(TEST gui.test_gui_model gui.test_gui_xvfb APPEND PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0")
  endif()
endif()
