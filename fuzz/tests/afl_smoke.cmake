# A short afl-fuzz run of a target with the structure-aware custom mutator
# only and its cmplog binary; passes when afl-fuzz finishes cleanly and
# queue entries made by the mutator (named "...pb-<mutation>...") exist.
#   cmake -DAFL_FUZZ=<afl-fuzz> -DTARGET=<exe> -DCMPLOG=<exe>
#         -DMUTATOR=<.so> -DWORK=<dir> -P afl_smoke.cmake
file(REMOVE_RECURSE ${WORK})
# Not a valid message on purpose: the mutator starts from a minimal one.
file(WRITE ${WORK}/in/seed "seed")
set(ENV{AFL_NO_UI} 1)
set(ENV{AFL_SKIP_CPUFREQ} 1)
set(ENV{AFL_NO_AFFINITY} 1)
set(ENV{AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES} 1)
set(ENV{AFL_CUSTOM_MUTATOR_LIBRARY} ${MUTATOR})
set(ENV{AFL_CUSTOM_MUTATOR_ONLY} 1)
execute_process(
    COMMAND ${AFL_FUZZ} -i ${WORK}/in -o ${WORK}/out -E 5000
        -c ${CMPLOG} -- ${TARGET}
    RESULT_VARIABLE rv OUTPUT_FILE ${WORK}/log ERROR_FILE ${WORK}/log
    TIMEOUT 120)
if(NOT rv EQUAL 0)
  message(FATAL_ERROR "afl-fuzz failed (${rv}), see ${WORK}/log")
endif()
file(STRINGS ${WORK}/out/default/fuzzer_stats execs REGEX "^execs_done")
if(NOT execs MATCHES ": *[1-9]")
  message(FATAL_ERROR "afl-fuzz ran nothing: ${execs}")
endif()
file(GLOB mutated ${WORK}/out/default/queue/*pb-*)
if(NOT mutated)
  message(FATAL_ERROR "no queue entry from the custom mutator")
endif()
list(LENGTH mutated n)
message(STATUS "afl-fuzz: ${execs}, ${n} queue entries from pbmutate")
