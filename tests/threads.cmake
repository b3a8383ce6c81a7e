# SPDX-License-Identifier: Apache-2.0
# Label "threads": the tests that run sisign's worker threads (batch sign
# and verify on several cores, the batch's signing thread, one package's
# files hashed on several,
# --token-sessions, a token failing under
# -j 2, the writer's pass over a signed package's files).  scripts/test.sh runs exactly these in its ThreadSanitizer build
# (-DSISIGN_TSAN=ON, build-tsan/): `ctest -L threads`.  test_batch_kill is
# threaded too but left out: it waits on signals and takes minutes under
# TSan; its threads run the same code as test_batch's.
foreach(t unit.test_batch unit.test_batch_signthread unit.test_hash_threads integration.test_batch
          integration.test_batch_token integration.test_token_faults
          integration.test_token_sessions integration.test_token_sessions_remote
          integration.test_batch_check integration.test_sign_onepass unit.test_check_cache)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY LABELS threads)
  endif()
endforeach()
