# Replays one variant reproducer and judges the result (see CMakeLists.txt).
#   cmake -DREPLAY=<sndtag-replay[_<variant>]> -DSCENARIO=<file.txt>
#         -DVARIANT=<name> -DMODE=found|clean [-DREPORT=<regex>]
#         -P run_variant.cmake
# MODE found: the replay must end abnormally, print REPORT, and then the
# variant's canary line with both counters non-zero.
# MODE clean: the replay must exit 0 with a clean ledger, no report and no
# canary counted at all (the correct core has no canary calls).
# Any failure prints "variant check failed: ..." (the tests'
# FAIL_REGULAR_EXPRESSION).  MODE campaign: see below.

# MODE campaign (-DSNDTAG=tools/sndtag -DPRESET=asan -DOUT=<dir>
# -DREPORT=<bucket regex>, REPLAY is the correct core's): a short libFuzzer
# campaign of fuzz_scenario_<VARIANT> from the ordinary seeds must report a
# crash in the expected bucket, and every crash file must run clean on the
# correct core (the crash is the variant's, not the harness's).
if(MODE STREQUAL "campaign")
  foreach(v SNDTAG PRESET OUT REPORT REPLAY VARIANT)
    if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
      message(FATAL_ERROR "variant check failed: ${v} not set")
    endif()
  endforeach()
  # Fixed seeds and a bounded number of runs: the same campaigns each
  # time, one process that stops at the first crash, and no persistent
  # corpus (tests never write to out/corpus).  A campaign's path is
  # chaotic (any change to the model's coverage moves it), so the check
  # is "one of three seeded campaigns finds it", not "seed 1 does".
  foreach(seed 1 2 3)
    file(REMOVE_RECURSE ${OUT})
    execute_process(COMMAND ${SNDTAG} fuzz --preset ${PRESET}
        --variant ${VARIANT} --time 120 --stop-at-crash --no-corpus
        --out ${OUT} -- -seed=${seed} -runs=50000
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    message("seed ${seed}:\n${out}")
    if(out MATCHES "crashes: +[1-9][0-9]* report")
      break()
    endif()
  endforeach()
  if(NOT out MATCHES "crashes: +[1-9][0-9]* report")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: the campaign "
        "found nothing")
  endif()
  if(NOT out MATCHES "\n  - ${REPORT}")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: no crash in a "
        "bucket matching '${REPORT}'")
  endif()
  file(GLOB crashes ${OUT}/artifacts/crash-*)
  if(NOT crashes)
    message(FATAL_ERROR "variant check failed: ${VARIANT}: no crash file")
  endif()
  foreach(c ${crashes})
    execute_process(COMMAND ${REPLAY} ${c} RESULT_VARIABLE crc
        OUTPUT_VARIABLE cout ERROR_VARIABLE cout)
    if(NOT crc STREQUAL "0" OR NOT cout MATCHES "ledger clean")
      message("${cout}")
      message(FATAL_ERROR "variant check failed: ${VARIANT}: ${c} also "
          "fails on the correct core")
    endif()
  endforeach()
  message("variant ${VARIANT}: found by fuzzing")
  return()
endif()

foreach(v REPLAY SCENARIO VARIANT MODE)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "variant check failed: ${v} not set")
  endif()
endforeach()

# stdout and stderr merged in the order written: the canary line must come
# after the report.
execute_process(COMMAND ${REPLAY} ${SCENARIO}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
message("${out}")
message("exit: ${rc}")

set(canary_hit "canary ${VARIANT} reached=[1-9][0-9]* triggered=[1-9]")
if(MODE STREQUAL "found")
  if(NOT DEFINED REPORT OR REPORT STREQUAL "")
    message(FATAL_ERROR "variant check failed: REPORT not set")
  endif()
  if(rc STREQUAL "0")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: the replay "
        "exited 0 on the variant core (bug not found)")
  endif()
  if(NOT out MATCHES "${REPORT}")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: no report "
        "matching '${REPORT}'")
  endif()
  if(NOT out MATCHES "${REPORT}.*\n${canary_hit}")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: the canary was "
        "not reached and triggered before the report")
  endif()
  message("variant ${VARIANT}: found")
elseif(MODE STREQUAL "clean")
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: the correct core "
        "failed the reproducer (exit ${rc})")
  endif()
  if(NOT out MATCHES "ledger clean")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: no clean ledger")
  endif()
  if(out MATCHES "(^|\n)canary ")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: a canary counted "
        "on the correct core")
  endif()
  if(out MATCHES "(^|\n)panic: |Sanitizer|runtime error")
    message(FATAL_ERROR "variant check failed: ${VARIANT}: a report on the "
        "correct core")
  endif()
  message("variant ${VARIANT}: clean on the correct core")
else()
  message(FATAL_ERROR "variant check failed: MODE must be found or clean")
endif()
