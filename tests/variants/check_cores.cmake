# The correct core contains no variant code: no object but canary.c.o
# (which defines the table) refers to canary_table, while every variant
# core does (its canaries are compiled in).
#   cmake -DNM=<nm> -DDEFAULT_CORE=<lib.a> -DVARIANT_CORES=<a.a|b.a|...>
#         -P check_cores.cmake
foreach(v NM DEFAULT_CORE VARIANT_CORES)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "variant check failed: ${v} not set")
  endif()
endforeach()

function(users lib out)
  execute_process(COMMAND ${NM} -A ${lib} RESULT_VARIABLE rc
      OUTPUT_VARIABLE syms ERROR_QUIET)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "variant check failed: ${NM} ${lib}: exit ${rc}")
  endif()
  string(REGEX MATCHALL "[^:\n]+\\.o:[ 0-9a-fA-F]* U canary_table" hits
      "${syms}")
  set(${out} "${hits}" PARENT_SCOPE)
endfunction()

users(${DEFAULT_CORE} hits)
if(hits)
  message(FATAL_ERROR "variant check failed: the correct core has canary "
      "calls: ${hits}")
endif()
string(REPLACE "|" ";" cores "${VARIANT_CORES}")
foreach(lib ${cores})
  users(${lib} hits)
  if(NOT hits)
    message(FATAL_ERROR "variant check failed: ${lib} has no canary call")
  endif()
endforeach()
message("variant cores: the correct core has no canary, every variant has")
