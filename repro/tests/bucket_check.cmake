# The C bucket rules (sndtag-minimize --bucket-report, repro/crashrun.c)
# against tools/bucket.sh on a real panic from REPLAY and on the canned
# ASan/UBSan reports, and against the expected bucket of each canned
# report in REPORTS (*.report, *.bucket).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(c_bucket file var)
  execute_process(COMMAND "${MIN}" --bucket-report INPUT_FILE "${file}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE b)
  string(STRIP "${b}" b)
  set(${var} "${b}" PARENT_SCOPE)
endfunction()

# A real crash: the noref reproducer on the noref core.
execute_process(COMMAND "${REPLAY}" "${SCENARIO}" RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SCENARIO} did not crash on ${REPLAY}")
endif()
file(WRITE "${WORK}/replay.report" "${out}\n${err}")
c_bucket("${WORK}/replay.report" b_c)
execute_process(COMMAND bash "${BUCKET_SH}" INPUT_FILE "${WORK}/replay.report"
    OUTPUT_VARIABLE b_sh)
string(STRIP "${b_sh}" b_sh)
message("bucket.sh: ${b_sh}\nC:         ${b_c}")
if(b_c STREQUAL "" OR NOT b_c STREQUAL b_sh)
  message(FATAL_ERROR "the C bucket differs from tools/bucket.sh")
endif()

file(GLOB reports "${REPORTS}/*.report")
if(NOT reports)
  message(FATAL_ERROR "no canned reports in ${REPORTS}")
endif()
foreach(r ${reports})
  string(REGEX REPLACE "\\.report$" ".bucket" bf "${r}")
  file(READ "${bf}" want)
  string(STRIP "${want}" want)
  c_bucket("${r}" got)
  message("${r}: ${got}")
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${r}: expected '${want}', got '${got}'")
  endif()
  # ASan and UBSan reports: tools/bucket.sh reads them the same way
  # (its frame rule knows only their "#0 0x... in fn" format, and it
  # needs "panic: " at the start of a line).
  get_filename_component(rn "${r}" NAME)
  if(rn MATCHES "^(asan|ubsan)_")
    execute_process(COMMAND bash "${BUCKET_SH}" INPUT_FILE "${r}"
        OUTPUT_VARIABLE sh)
    string(STRIP "${sh}" sh)
    if(NOT sh STREQUAL got)
      message(FATAL_ERROR "${r}: bucket.sh says '${sh}', C says '${got}'")
    endif()
  endif()
endforeach()
# A report with no crash in it has no bucket.
file(WRITE "${WORK}/clean.report" "teardown: ledger clean\n")
execute_process(COMMAND "${MIN}" --bucket-report
    INPUT_FILE "${WORK}/clean.report" RESULT_VARIABLE rc OUTPUT_VARIABLE b)
if(rc EQUAL 0)
  message(FATAL_ERROR "a clean run got a bucket: ${b}")
endif()
