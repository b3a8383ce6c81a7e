# SPDX-License-Identifier: Apache-2.0
# Fuzz targets (tests/fuzz/).  Each target is built twice:
#  - `fuzz_<name>` with libFuzzer, only when SISIGN_FUZZ is ON (clang);
#  - `fuzz_<name>_replay` with tests/fuzz/replay_main.c, always, so CTest runs
#    the corpus and the seeds through the target without libFuzzer.
# Targets (docs/fuzzing.md): parse (SIS parse + data check + write-back),
# parse_only (the parser alone, fast), verify (chains and certificates),
# sign (sign + unsign round trip with tests/fuzz/fuzz.key), pack (pack
# options), uri (PKCS#11 URI, module-path, pin-source), dn (certificate
# subject), date (--at TIME), certs (developer-certificate constraints, EKU,
# self-signed chains).  Each has its seeds in tests/fuzz/seeds/<name>/.
set(SISIGN_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(SISIGN_FUZZ_TARGETS parse parse_only verify sign pack uri dn date certs)
# The fixed test-only key and certificate of the verify and sign targets.
set(SISIGN_FUZZ_DEFS SISIGN_TEST SISIGN_FUZZ_CERT="${SISIGN_FUZZ_DIR}/fuzz.pem"
  SISIGN_FUZZ_KEY="${SISIGN_FUZZ_DIR}/fuzz.key")

foreach(t ${SISIGN_FUZZ_TARGETS})
  add_executable(fuzz_${t}_replay ${SISIGN_FUZZ_DIR}/fuzz_${t}.c ${SISIGN_FUZZ_DIR}/replay_main.c)
  target_compile_options(fuzz_${t}_replay PRIVATE ${SISIGN_WARNINGS})
  # SISIGN_TEST: the string targets call internal parsers (*_private.h).
  target_compile_definitions(fuzz_${t}_replay PRIVATE ${SISIGN_FUZZ_DEFS})
  target_link_libraries(fuzz_${t}_replay PRIVATE sisign_fe sisign_testable)

  if(SISIGN_FUZZ)
    add_executable(fuzz_${t} ${SISIGN_FUZZ_DIR}/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE ${SISIGN_WARNINGS} -fsanitize=fuzzer)
    target_compile_definitions(fuzz_${t} PRIVATE ${SISIGN_FUZZ_DEFS})
    target_link_libraries(fuzz_${t} PRIVATE sisign_fe sisign_testable)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# The corpus may be absent (a fresh clone): the replay then runs the seeds
# only, and exits 77 (skip) if it finds no input at all.
add_test(NAME fuzz.replay_corpus
  COMMAND fuzz_parse_replay ${SISIGN_CORPUS}/sis ${SISIGN_FUZZ_DIR}/seeds/parse)
set_tests_properties(fuzz.replay_corpus PROPERTIES
  SKIP_RETURN_CODE 77 ENVIRONMENT "${SISIGN_TEST_ENV}" TIMEOUT 900)

# The package targets also replay the parse seeds (small packages sisign
# packed).
foreach(t parse_only verify sign)
  add_test(NAME fuzz.replay_${t}
    COMMAND fuzz_${t}_replay ${SISIGN_FUZZ_DIR}/seeds/${t} ${SISIGN_FUZZ_DIR}/seeds/parse)
  set_tests_properties(fuzz.replay_${t} PROPERTIES
    SKIP_RETURN_CODE 77 ENVIRONMENT "${SISIGN_TEST_ENV}" TIMEOUT 300)
endforeach()

# The other targets replay their committed seeds (findings included).
foreach(t pack uri dn date certs)
  add_test(NAME fuzz.replay_${t} COMMAND fuzz_${t}_replay ${SISIGN_FUZZ_DIR}/seeds/${t})
  set_tests_properties(fuzz.replay_${t} PROPERTIES
    SKIP_RETURN_CODE 77 ENVIRONMENT "${SISIGN_TEST_ENV}" TIMEOUT 300)
endforeach()
