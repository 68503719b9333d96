# Run a libFuzzer target for a bounded number of runs in a fresh scratch
# directory, so repeated test runs start from the same corpus:
#   cmake -DFUZZER=<exe> -DWORK=<dir> [-DSEEDS=<file>] [-DARGS=a|b|c]
#         -P run_fuzzer.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
if(SEEDS)
  file(COPY ${SEEDS} DESTINATION ${WORK}/corpus)
endif()
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${FUZZER} ${args} -artifact_prefix=${WORK}/
    ${WORK}/corpus RESULT_VARIABLE rv)
if(NOT rv EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rv}); artifacts in ${WORK}")
endif()
