# A seed's C reproducer (PROGRAM) prints the same per-interface accounting
# as the interpreter traces for the scenario (REPLAY --trace): the "if"
# lines after the ops, in the same order.  Both run the correct core.
function(if_lines var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
      OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN} failed (${rc}):\n${out}\n${err}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(keep "")
  foreach(l IN LISTS lines)
    string(STRIP "${l}" l)
    if(l MATCHES "^if [^ ]+ tagged=")
      list(APPEND keep "${l}")
    endif()
  endforeach()
  set(${var} "${keep}" PARENT_SCOPE)
endfunction()

if_lines(from_trace "${REPLAY}" --trace "${SCENARIO}")
if_lines(from_program "${PROGRAM}")
# None when every interface was detached by the ops (mlx5_detach_tags).
list(LENGTH from_trace n)
if(NOT from_trace STREQUAL from_program)
  string(REPLACE ";" "\n" a "${from_trace}")
  string(REPLACE ";" "\n" b "${from_program}")
  message(FATAL_ERROR "accounting differs:\ntrace:\n${a}\nprogram:\n${b}")
endif()
message("${n} interfaces, same accounting")
