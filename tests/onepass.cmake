# SPDX-License-Identifier: Apache-2.0
# The one-pass signing test (issues #13 part 1, #14 item 3): its token part
# uses the mock PKCS#11 module to count the signatures a package with bad
# file data costs.  Included by tests/CMakeLists.txt.
if(TEST integration.test_sign_onepass)
  set_property(TEST integration.test_sign_onepass APPEND PROPERTY ENVIRONMENT
    "MOCK_P11_MODULE=$<TARGET_FILE:sisign_mock_p11>")
endif()
