# SPDX-License-Identifier: Apache-2.0
# Exit-code table test (issue #11 item 10): its token rows use the mock
# PKCS#11 module.  Included by tests/CMakeLists.txt.
if(TEST integration.test_exit_codes)
  set_property(TEST integration.test_exit_codes APPEND PROPERTY ENVIRONMENT
    "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
endif()
