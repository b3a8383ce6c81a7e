# Fuzz targets (tests/fuzz/).  Each target is built twice:
#  - `fuzz_<name>` with libFuzzer, only when SISIGN_FUZZ is ON (clang);
#  - `fuzz_<name>_replay` with tests/fuzz/replay_main.c, always, so CTest runs
#    the corpus and the seeds through the target without libFuzzer.
set(SISIGN_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(SISIGN_FUZZ_TARGETS parse)

foreach(t ${SISIGN_FUZZ_TARGETS})
  add_executable(fuzz_${t}_replay ${SISIGN_FUZZ_DIR}/fuzz_${t}.c ${SISIGN_FUZZ_DIR}/replay_main.c)
  target_compile_options(fuzz_${t}_replay PRIVATE ${SISIGN_WARNINGS})
  target_link_libraries(fuzz_${t}_replay PRIVATE sisign_testable)

  if(SISIGN_FUZZ)
    add_executable(fuzz_${t} ${SISIGN_FUZZ_DIR}/fuzz_${t}.c)
    target_compile_options(fuzz_${t} PRIVATE ${SISIGN_WARNINGS} -fsanitize=fuzzer)
    target_link_libraries(fuzz_${t} PRIVATE sisign_testable)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# The corpus may be absent (a fresh clone): the replay then runs the seeds
# only, and exits 77 (skip) if it finds no input at all.
add_test(NAME fuzz.replay_corpus
  COMMAND fuzz_parse_replay ${SISIGN_CORPUS}/sis ${SISIGN_FUZZ_DIR}/seeds)
set_tests_properties(fuzz.replay_corpus PROPERTIES
  SKIP_RETURN_CODE 77 ENVIRONMENT "${SISIGN_TEST_ENV}" TIMEOUT 900)
