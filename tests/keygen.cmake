# SPDX-License-Identifier: Apache-2.0
# Keys and certificates (issue #5): labels for `ctest -L keys`, and the
# built sisign for softhsm-config/make-token.sh, so the shared SoftHSM
# fixture's key is born on the token ("sisign keygen --cert").  Deferred:
# this file is included before tests/pkcs11.cmake defines the fixture.
foreach(t unit.test_keygen integration.test_keygen_file integration.test_keygen_token integration.test_makekeys)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS keys)
  endif()
endforeach()

function(sisign_keygen_fixture_env)
  if(TEST pkcs11.softhsm_setup)
    set_property(TEST pkcs11.softhsm_setup APPEND PROPERTY ENVIRONMENT "SISIGN=$<TARGET_FILE:sisign_cli>")
  endif()
endfunction()
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
  cmake_language(DEFER CALL sisign_keygen_fixture_env)
endif()
