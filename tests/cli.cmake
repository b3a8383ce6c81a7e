# SPDX-License-Identifier: Apache-2.0
# The signing CLI's token tests need the SoftHSM fixture "softhsm_token"
# (tests/pkcs11.cmake).  This file is included before pkcs11.cmake (glob
# order), so the environment is spelled out here rather than taken from
# SISIGN_P11_TEST_ENV; the token directory is the one pkcs11.cmake uses.
set(SISIGN_CLI_P11_ENV
  "SOFTHSM2_CONF=${CMAKE_CURRENT_BINARY_DIR}/softhsm/softhsm2.conf"
  "SISIGN_PIN=1234")
foreach(t integration.test_sign_token integration.test_tokens integration.test_proxy_module)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT ${SISIGN_CLI_P11_ENV})
    set_tests_properties(${t} PROPERTIES FIXTURES_REQUIRED softhsm_token RESOURCE_LOCK softhsm_token)
  endif()
endforeach()
