# A variant's C reproducer (PROGRAM, compiled against the variant's core)
# must fail the way the variant's replay (REPLAY) fails on the scenario:
# both crash, in the same bucket (MIN --bucket-report names it).
get_filename_component(_name "${SCENARIO}" NAME_WE)
set(_dir "${CMAKE_CURRENT_BINARY_DIR}/repro-tests/cprog_${_name}")
file(MAKE_DIRECTORY "${_dir}")

function(run_bucket what key var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
      OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${what} ended cleanly:\n${out}\n${err}")
  endif()
  file(WRITE "${_dir}/${key}.txt" "${out}\n${err}")
  execute_process(COMMAND "${MIN}" --bucket-report
      INPUT_FILE "${_dir}/${key}.txt"
      RESULT_VARIABLE brc OUTPUT_VARIABLE b)
  string(STRIP "${b}" b)
  if(NOT brc EQUAL 0 OR b STREQUAL "")
    message(FATAL_ERROR "${what}: no crash bucket in:\n${out}\n${err}")
  endif()
  message("${what}: ${b}")
  set(${var} "${b}" PARENT_SCOPE)
endfunction()

run_bucket("replay" replay b_replay "${REPLAY}" "${SCENARIO}")
run_bucket("C reproducer" program b_prog "${PROGRAM}")
if(NOT b_replay STREQUAL b_prog)
  message(FATAL_ERROR "buckets differ: replay '${b_replay}', C reproducer '${b_prog}'")
endif()
