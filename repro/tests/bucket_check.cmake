# The one bucket rule (repro/crashrun.c) as every tool applies it:
# sndtag-minimize --bucket-report, sndtag-sweep --bucket-report,
# sndtag-bucket and tools/bucket.sh must name a real panic from REPLAY
# and each canned report in REPORTS (*.report) the same way, and the
# canned ones as their *.bucket says.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(tool_bucket name file var)
  if(name STREQUAL "bucket.sh")
    set(cmd ${CMAKE_COMMAND} -E env SNDTAG_BUCKET=${BUCKET} bash ${BUCKET_SH})
  elseif(name STREQUAL "sndtag-bucket")
    set(cmd ${BUCKET})
  elseif(name STREQUAL "sweep")
    set(cmd ${SWEEP} --bucket-report)
  else()
    set(cmd ${MIN} --bucket-report)
  endif()
  execute_process(COMMAND ${cmd} INPUT_FILE "${file}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE b)
  string(STRIP "${b}" b)
  set(${var} "${b}" PARENT_SCOPE)
endfunction()

# Every tool, one answer.
function(same_bucket file var)
  tool_bucket(minimize "${file}" first)
  foreach(t sweep sndtag-bucket bucket.sh)
    tool_bucket(${t} "${file}" b)
    if(NOT b STREQUAL first)
      message(FATAL_ERROR "${file}: sndtag-minimize says '${first}', ${t} says '${b}'")
    endif()
  endforeach()
  set(${var} "${first}" PARENT_SCOPE)
endfunction()

# A real crash: the noref reproducer on the noref core.
execute_process(COMMAND "${REPLAY}" "${SCENARIO}" RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SCENARIO} did not crash on ${REPLAY}")
endif()
file(WRITE "${WORK}/replay.report" "${out}\n${err}")
same_bucket("${WORK}/replay.report" b)
message("replay: ${b}")
if(NOT b MATCHES "^panic: ")
  message(FATAL_ERROR "the noref crash got no panic bucket: '${b}'")
endif()

file(GLOB reports "${REPORTS}/*.report")
if(NOT reports)
  message(FATAL_ERROR "no canned reports in ${REPORTS}")
endif()
foreach(r ${reports})
  string(REGEX REPLACE "\\.report$" ".bucket" bf "${r}")
  file(READ "${bf}" want)
  string(STRIP "${want}" want)
  same_bucket("${r}" got)
  message("${r}: ${got}")
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${r}: expected '${want}', got '${got}'")
  endif()
endforeach()
# A report with no crash in it has no bucket.
file(WRITE "${WORK}/clean.report" "teardown: ledger clean\n")
execute_process(COMMAND "${MIN}" --bucket-report
    INPUT_FILE "${WORK}/clean.report" RESULT_VARIABLE rc OUTPUT_VARIABLE b)
if(rc EQUAL 0)
  message(FATAL_ERROR "a clean run got a bucket: ${b}")
endif()
