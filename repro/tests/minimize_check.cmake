# sndtag-minimize on a crashing, padded scenario (MIN is the variant's
# minimizer, REPLAY its replay): the result must be smaller, crash in the
# same bucket, leave the input byte for byte unchanged, and come out the
# same when run again.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
configure_file("${INPUT}" "${WORK}/input.txt" COPYONLY)
set(in "${WORK}/input.txt")
file(SHA256 "${in}" hash_before)

function(bucket_of file var)
  execute_process(COMMAND "${MIN}" --bucket "${file}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE b ERROR_VARIABLE err)
  string(STRIP "${b}" b)
  if(NOT rc EQUAL 0 OR b STREQUAL "")
    message(FATAL_ERROR "${file} does not crash (${rc}): ${b} ${err}")
  endif()
  set(${var} "${b}" PARENT_SCOPE)
endfunction()

bucket_of("${in}" b_in)
message("input bucket: ${b_in}")

foreach(run 1 2)
  execute_process(COMMAND "${MIN}" -o "${WORK}/min${run}.txt" "${in}"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
  message("run ${run}: exit ${rc}\n${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sndtag-minimize failed")
  endif()
endforeach()

file(SHA256 "${in}" hash_after)
if(NOT hash_before STREQUAL hash_after)
  message(FATAL_ERROR "the input was modified")
endif()
file(GLOB leftovers "${WORK}/*.tmp*")
if(leftovers)
  message(FATAL_ERROR "temporary files left: ${leftovers}")
endif()

file(READ "${WORK}/min1.txt" m1)
file(READ "${WORK}/min2.txt" m2)
if(NOT m1 STREQUAL m2)
  message(FATAL_ERROR "two runs gave different results")
endif()
message("minimized:\n${m1}")

bucket_of("${WORK}/min1.txt" b_out)
if(NOT b_in STREQUAL b_out)
  message(FATAL_ERROR "bucket changed: '${b_in}' -> '${b_out}'")
endif()

# Smaller: fewer operations and interfaces.
file(STRINGS "${in}" ops_in REGEX "^ops ")
file(STRINGS "${WORK}/min1.txt" ops_out REGEX "^ops ")
file(STRINGS "${in}" if_in REGEX "^ *ifaces ")
file(STRINGS "${WORK}/min1.txt" if_out REGEX "^ *ifaces ")
list(LENGTH ops_in n_in)
list(LENGTH ops_out n_out)
list(LENGTH if_in i_in)
list(LENGTH if_out i_out)
message("ops ${n_in} -> ${n_out}, interfaces ${i_in} -> ${i_out}")
if(NOT n_out LESS n_in OR NOT i_out LESS i_in)
  message(FATAL_ERROR "not smaller")
endif()

# The variant's replay agrees it still crashes.
execute_process(COMMAND "${REPLAY}" "${WORK}/min1.txt"
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "the replay runs the result clean")
endif()
message("minimize check passed")
