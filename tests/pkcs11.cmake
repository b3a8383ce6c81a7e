# SPDX-License-Identifier: Apache-2.0
# PKCS#11 tests: the mock module, a SoftHSM token fixture, and the token
# unit tests' environment.  Included by tests/CMakeLists.txt.

add_library(sisign_mock_p11 MODULE ${CMAKE_CURRENT_SOURCE_DIR}/mock/mock_p11.c)
target_link_libraries(sisign_mock_p11 PRIVATE OpenSSL::Crypto PkgConfig::P11KIT)
set_target_properties(sisign_mock_p11 PROPERTIES PREFIX "" OUTPUT_NAME mock_p11 C_VISIBILITY_PRESET hidden)
# Issue #14 item 1: a module that forwards to SoftHSM and delays every
# signature (a network HSM); used by test_token_sessions and
# bench/remote-latency.sh.
add_library(sisign_delay_p11 MODULE ${CMAKE_CURRENT_SOURCE_DIR}/mock/delay_p11.c)
target_compile_options(sisign_delay_p11 PRIVATE ${SISIGN_WARNINGS})
target_link_libraries(sisign_delay_p11 PRIVATE PkgConfig::P11KIT Threads::Threads ${CMAKE_DL_LIBS})
set_target_properties(sisign_delay_p11 PROPERTIES PREFIX "" OUTPUT_NAME delay_p11 C_VISIBILITY_PRESET hidden)
# Never instrumented: `p11-kit server`, an uninstrumented program, loads it
# too, and a module that needs the ASan/TSan runtime cannot be loaded there
# (the client then sees CKR_DEVICE_ERROR).  The code it forwards to is
# SoftHSM's, which is not instrumented either.
if(SISIGN_SANITIZE OR SISIGN_TSAN)
  target_compile_options(sisign_delay_p11 PRIVATE -fno-sanitize=all)
  target_link_options(sisign_delay_p11 PRIVATE -fno-sanitize=all)
endif()

set(SISIGN_P11_TOKENDIR ${CMAKE_CURRENT_BINARY_DIR}/softhsm)

# Fixture "softhsm_token": a fresh SoftHSM dir with two tokens —
# "sisign-test" (key "sisign", id 01, with certificate) and two tokens that
# share the label "sisign-dup" — made by softhsm-config/make-token.sh.
# Exit 77 (skip) when SoftHSM is absent; tests requiring the fixture are
# then skipped by CTest too.
add_test(NAME pkcs11.softhsm_setup
  COMMAND bash -c "rm -rf '${SISIGN_P11_TOKENDIR}' && \
    '${PROJECT_SOURCE_DIR}/softhsm-config/make-token.sh' '${SISIGN_P11_TOKENDIR}' sisign-test >/dev/null && \
    '${PROJECT_SOURCE_DIR}/softhsm-config/make-token.sh' '${SISIGN_P11_TOKENDIR}' sisign-dup >/dev/null && \
    '${PROJECT_SOURCE_DIR}/softhsm-config/make-token.sh' '${SISIGN_P11_TOKENDIR}' sisign-dup >/dev/null")
set_tests_properties(pkcs11.softhsm_setup PROPERTIES
  FIXTURES_SETUP softhsm_token SKIP_RETURN_CODE 77 ENVIRONMENT "SISIGN_PIN=1234" TIMEOUT 120)
add_test(NAME pkcs11.softhsm_cleanup COMMAND ${CMAKE_COMMAND} -E rm -rf ${SISIGN_P11_TOKENDIR})
set_tests_properties(pkcs11.softhsm_cleanup PROPERTIES FIXTURES_CLEANUP softhsm_token)

set(SISIGN_P11_TEST_ENV
  "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>"
  "SISIGN_P11_TOKENDIR=${SISIGN_P11_TOKENDIR}"
  "SOFTHSM2_CONF=${SISIGN_P11_TOKENDIR}/softhsm2.conf"
  "SISIGN_PIN=1234")

# The token unit tests: the mock one needs only the mock module; the SoftHSM
# one needs the fixture.  (tests/CMakeLists.txt created the targets.)
if(TARGET test_token_mock)
  add_dependencies(test_token_mock sisign_mock_p11)
  set_property(TEST unit.test_token_mock APPEND PROPERTY ENVIRONMENT ${SISIGN_P11_TEST_ENV})
endif()
if(TARGET test_token_softhsm)
  set_property(TEST unit.test_token_softhsm APPEND PROPERTY ENVIRONMENT ${SISIGN_P11_TEST_ENV})
  set_tests_properties(unit.test_token_softhsm PROPERTIES FIXTURES_REQUIRED softhsm_token RESOURCE_LOCK softhsm_token)
endif()
if(TEST integration.test_softhsm_token)
  set_property(TEST integration.test_softhsm_token APPEND PROPERTY ENVIRONMENT ${SISIGN_P11_TEST_ENV})
  set_tests_properties(integration.test_softhsm_token PROPERTIES FIXTURES_REQUIRED softhsm_token RESOURCE_LOCK softhsm_token)
endif()
# PIN and passphrase handling through the CLI, against the mock module.
if(TEST integration.test_pin_secrets)
  set_property(TEST integration.test_pin_secrets APPEND PROPERTY ENVIRONMENT
    "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
endif()
# CLI against the mock module (token faults, CKA_ALWAYS_AUTHENTICATE keys).
if(TEST integration.test_token_faults)
  set_property(TEST integration.test_token_faults APPEND PROPERTY ENVIRONMENT ${SISIGN_P11_TEST_ENV})
endif()
# Issue #10 item 1: a module-path symlink flipped during loading (mock
# module, and a library the test compiles).
if(TEST integration.test_module_symlink_race)
  set_property(TEST integration.test_module_symlink_race APPEND PROPERTY ENVIRONMENT
    "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
  set_tests_properties(integration.test_module_symlink_race PROPERTIES TIMEOUT 300)
  # Each run is ~10x slower under the sanitizers: there the test checks
  # memory errors on fewer runs; the plain build runs all 500.
  if(SISIGN_SANITIZE)
    set_property(TEST integration.test_module_symlink_race APPEND PROPERTY ENVIRONMENT "RACE_RUNS=60")
  endif()
endif()
# Issue #14 item 1: --token-sessions through the delaying module (its own
# SoftHSM token, so no fixture).
if(TEST integration.test_token_sessions)
  set_property(TEST integration.test_token_sessions APPEND PROPERTY ENVIRONMENT
    "DELAY_P11_SO=$<TARGET_FILE:sisign_delay_p11>")
endif()
# ... and through p11-kit server (p11-kit-client.so): N connections.
if(TEST integration.test_token_sessions_remote)
  set_property(TEST integration.test_token_sessions_remote APPEND PROPERTY ENVIRONMENT
    "DELAY_P11_SO=$<TARGET_FILE:sisign_delay_p11>")
  set_tests_properties(integration.test_token_sessions_remote PROPERTIES TIMEOUT 300)
endif()
# bench/remote-latency.sh --quick: it must run, sign through the delaying
# module directly and behind p11-kit server, and print its rows (timings
# are not checked).
add_test(NAME bench.remote_latency COMMAND bash -c
  "out=$('${PROJECT_SOURCE_DIR}/bench/remote-latency.sh' --quick) && printf '%s\\n' \"$out\" && grep -q 'delay module, direct, N=4: most signatures' <<< \"$out\"")
set_tests_properties(bench.remote_latency PROPERTIES TIMEOUT 300
  ENVIRONMENT "${SISIGN_TEST_ENV};DELAY_P11_SO=$<TARGET_FILE:sisign_delay_p11>")
