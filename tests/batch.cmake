# SPDX-License-Identifier: Apache-2.0
# Batch tests (issue #6): the token batch needs the SoftHSM fixture; the
# benchmark runs only as a quick smoke pass (it must run and print its
# table; timings are not checked).  Included by tests/CMakeLists.txt.
# (This file is included before pkcs11.cmake, so the fixture's paths are
# spelled out here rather than taken from SISIGN_P11_TEST_ENV.)
if(TEST integration.test_batch_token)
  set_property(TEST integration.test_batch_token APPEND PROPERTY ENVIRONMENT
    "SOFTHSM2_CONF=${CMAKE_CURRENT_BINARY_DIR}/softhsm/softhsm2.conf" "SISIGN_PIN=1234")
  set_tests_properties(integration.test_batch_token PROPERTIES
    FIXTURES_REQUIRED softhsm_token RESOURCE_LOCK softhsm_token)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/bench/CMakeLists.txt)
  add_test(NAME bench.smoke COMMAND bash -c
    "BENCH='$<TARGET_FILE:sisign_bench>' '${PROJECT_SOURCE_DIR}/bench/run-bench.sh' --quick | tee /dev/stderr | grep -q '^scaling: .*peak RSS'")
  set_tests_properties(bench.smoke PROPERTIES TIMEOUT 300 ENVIRONMENT "${SISIGN_TEST_ENV}")
endif()
# Issue #11 item 9: the audit log (login records against the mock module).
if(TEST integration.test_audit_log)
  set_property(TEST integration.test_audit_log APPEND PROPERTY ENVIRONMENT
    "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
endif()
# Issue #11 item 13: each run is several times slower under the
# sanitizers; there one error per call is injected (plain build: both).
if(TEST integration.test_fault_injection AND SISIGN_SANITIZE)
  set_property(TEST integration.test_fault_injection APPEND PROPERTY ENVIRONMENT "SISIGN_FI_QUICK=1")
endif()
