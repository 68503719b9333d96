# The scenario interpreter, its fuzz targets, the repro tools and their
# tests.  Included by fuzz/CMakeLists.txt, which provides sndtag_protoc_c,
# sndtag_add_fuzzer and the sndtag_pbtext / sndtag_pbmutate libraries.
#
# Binaries:
#   fuzz/fuzz_scenario, fuzz/fuzz_raw, fuzz/fuzz_threads, fuzz/fuzz_text
#   fuzz/fuzz_scenario_<variant>, fuzz/fuzz_raw_<variant>,
#   fuzz/fuzz_threads_<variant>                         (libFuzzer)
#   repro/sndtag-replay, repro/sndtag-replay_<variant>, repro/scenario-convert
#   fuzz/fuzz_scenario_mutator.so    (AFL++ custom mutator; see fuzz/CMakeLists.txt)
#   fuzz/interp_selftest                                (ctest only)
# Seed corpora, built from corpora/:
#   corpora/fuzz_scenario/*.bin, corpora/fuzz_raw/*, corpora/fuzz_text/*.txt

set(SNDTAG_FUZZ_DIR ${CMAKE_SOURCE_DIR}/fuzz)
set(SNDTAG_REPRO_DIR ${CMAKE_SOURCE_DIR}/repro)
set(SNDTAG_CORPORA_DIR ${CMAKE_SOURCE_DIR}/corpora)
set(SNDTAG_REPRO_OUT ${CMAKE_BINARY_DIR}/repro)
set(SNDTAG_CORPORA_OUT ${CMAKE_BINARY_DIR}/corpora)

sndtag_protoc_c(sndtag_scenario_pb ${SNDTAG_FUZZ_DIR}/scenario.proto)

# Clamping and the mutator's hooks need no core (the AFL++ mutator .so
# links them alone).
add_library(sndtag_scenario_hooks STATIC
    ${SNDTAG_FUZZ_DIR}/interp_clamp.c
    ${SNDTAG_FUZZ_DIR}/scenario_hooks.c)
target_link_libraries(sndtag_scenario_hooks PUBLIC
    sndtag_includes sndtag_scenario_pb sndtag_pbmsg sndtag_pbmutate)

# The interpreter does not depend on the variant: one library, linked
# before whichever core a binary uses.
set(SNDTAG_INTERP_SOURCES
    ${SNDTAG_FUZZ_DIR}/interp.c
    ${SNDTAG_FUZZ_DIR}/interp_names.c
    ${SNDTAG_FUZZ_DIR}/interp_ops.c
    ${SNDTAG_FUZZ_DIR}/interp_setup.c
    ${SNDTAG_FUZZ_DIR}/decode_arena.c
    ${SNDTAG_FUZZ_DIR}/faultplan.c
    ${SNDTAG_FUZZ_DIR}/interp_feedback.c
    ${SNDTAG_FUZZ_DIR}/interp_expect.c
    ${SNDTAG_FUZZ_DIR}/interp_expect_sock.c
    ${SNDTAG_FUZZ_DIR}/interp_expect_wire.c
    ${SNDTAG_FUZZ_DIR}/interp_ktls.c
    ${SNDTAG_FUZZ_DIR}/raw_decode.c
    ${SNDTAG_FUZZ_DIR}/threaded.c)
add_library(sndtag_interp STATIC ${SNDTAG_INTERP_SOURCES})
target_link_libraries(sndtag_interp PUBLIC
    sndtag_includes sndtag_scenario_pb sndtag_scenario_hooks)

# fuzz_scenario's copy: the same sources with no coverage at all.  Its
# mutator writes only well-formed scenarios, so the interpreter's edges
# said what the input was (which ops it held, how many: their hit-count
# buckets grew with its length), not what the model did: more than a
# quarter of the edges it counted, each a feature libFuzzer paid for on
# every execution (docs/FUZZING.md, "The interpreter's edges").
# fuzz_raw and fuzz_threads keep the instrumented one: for raw bytes the
# interpreter's branches are how the input parses, the baseline stays as
# it was measured, and the threaded target was not measured without.
# Without sancov (AFL++, release, coverage builds) the two would be the
# same objects: one library, two names.
if(SNDTAG_SANCOV)
  add_library(sndtag_interp_uncov STATIC ${SNDTAG_INTERP_SOURCES})
  target_link_libraries(sndtag_interp_uncov PUBLIC
      sndtag_includes sndtag_scenario_pb sndtag_scenario_hooks)
else()
  add_library(sndtag_interp_uncov ALIAS sndtag_interp)
endif()

# Coverage is the model's, not the fuzzer's tools': the hooks run inside
# the mutator on every mutation (clamping compares every field with its
# bound, which flooded libFuzzer's cmp tracing, and their branches say
# nothing about the model), and the decode arena, the fault planner, the
# state-feedback writer and the wire and socket checkers (new in December 2026: left
# out so the fuzzer's coverage stayed what it was) are bookkeeping whose
# hit counts grow with input size.
if(SNDTAG_SANCOV)
  target_compile_options(sndtag_scenario_hooks PRIVATE
      -fno-sanitize=fuzzer-no-link)
  target_compile_options(sndtag_interp_uncov PRIVATE
      -fno-sanitize=fuzzer-no-link)
  # The generated message code is glue, called by the decoders
  # (protobuf-c's unpack, raw_decode.c) once per message an input
  # decodes to: its hit counts are the input's shape, which raw_decode.c's
  # own edges count for fuzz_raw at the same calls.
  target_compile_options(sndtag_scenario_pb PRIVATE
      -fno-sanitize=fuzzer-no-link)
  set_source_files_properties(${SNDTAG_FUZZ_DIR}/decode_arena.c
      ${SNDTAG_FUZZ_DIR}/faultplan.c
      ${SNDTAG_FUZZ_DIR}/interp_feedback.c
      ${SNDTAG_FUZZ_DIR}/interp_expect_sock.c
      ${SNDTAG_FUZZ_DIR}/interp_expect_wire.c
      ${SNDTAG_FUZZ_DIR}/threaded.c
      PROPERTIES COMPILE_OPTIONS -fno-sanitize=fuzzer-no-link)
  # The checker keeps its edges (the fuzzer's feedback has had them from
  # the start) but not its comparison tracing: it compares counters and
  # pointers after every op, values no mutation should try, and the
  # tracing hooks were about a twentieth of a campaign's time.
  set_source_files_properties(${SNDTAG_FUZZ_DIR}/interp_expect.c
      PROPERTIES COMPILE_OPTIONS -fno-sanitize-coverage=trace-cmp)
endif()

add_library(sndtag_scenario_io STATIC ${SNDTAG_REPRO_DIR}/scenario_io.c)
target_link_libraries(sndtag_scenario_io PUBLIC sndtag_interp sndtag_pbtext)

# "" is the correct core; then every variant.
set(_sndtag_cores "default")
foreach(v ${SNDTAG_VARIANT_NAMES})
  list(APPEND _sndtag_cores ${v})
endforeach()

foreach(v ${_sndtag_cores})
  if(v STREQUAL "default")
    set(core sndtag_core)
    set(sfx "")
  else()
    set(core sndtag_core_${v})
    set(sfx "_${v}")
  endif()

  add_executable(sndtag-replay${sfx} ${SNDTAG_REPRO_DIR}/replay.c)
  target_link_libraries(sndtag-replay${sfx} PRIVATE
      sndtag_scenario_io sndtag_interp ${core})
  set_target_properties(sndtag-replay${sfx} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${SNDTAG_REPRO_OUT})

  # Variant fuzzers for libFuzzer campaigns (tools/campaign.sh
  # --variant).  Under AFL++ each would also cost a cmplog build, so there
  # they are built only on request, without cmplog (tools/sndtag bench tte).
  set(ondemand "")
  if(NOT sfx STREQUAL "" AND NOT SNDTAG_ENGINE STREQUAL "libfuzzer")
    set(ondemand ON_DEMAND)
  endif()
  if(COMMAND sndtag_add_fuzzer AND (ondemand STREQUAL "" OR NOT SNDTAG_SUBTREE))
    sndtag_add_fuzzer(fuzz_scenario${sfx} ${SNDTAG_FUZZ_DIR}/fuzz_scenario.c
        ${SNDTAG_FUZZ_DIR}/sanitizer_options.c ${SNDTAG_FUZZ_DIR}/fuzz_init.c
        ${ondemand}
        LIBS sndtag_interp_uncov ${core} sndtag_scenario_hooks
            sndtag_pbmutate)
    sndtag_add_fuzzer(fuzz_raw${sfx} ${SNDTAG_FUZZ_DIR}/fuzz_raw.c
        ${SNDTAG_FUZZ_DIR}/sanitizer_options.c ${SNDTAG_FUZZ_DIR}/fuzz_init.c
        ${ondemand}
        LIBS sndtag_interp ${core})
    # The threaded target (docs/SWEEPS.md, "Fuzzing schedules").
    sndtag_add_fuzzer(fuzz_threads${sfx} ${SNDTAG_FUZZ_DIR}/fuzz_threads.c
        ${SNDTAG_FUZZ_DIR}/sanitizer_options.c ${SNDTAG_FUZZ_DIR}/fuzz_init.c
        ${ondemand}
        LIBS sndtag_interp ${core} sndtag_scenario_hooks sndtag_pbmutate
            Threads::Threads)
  endif()
endforeach()

if(COMMAND sndtag_add_afl_mutator)
  # AFL_CUSTOM_MUTATOR_LIBRARY for fuzz_scenario under AFL++.
  sndtag_add_afl_mutator(fuzz_scenario_mutator scenario__descriptor
      HOOKS scenario_mutator_hooks sndtag_scenario_hooks sndtag_scenario_pb)
  # fuzz_threads under AFL++: the same mutator with the threads hooks (the
  # switch candidates are libFuzzer-only: they need the target's process).
  sndtag_add_afl_mutator(fuzz_threads_mutator scenario__descriptor
      HOOKS threads_mutator_hooks sndtag_scenario_hooks sndtag_scenario_pb)
endif()

if(COMMAND sndtag_add_fuzzer)
  sndtag_add_fuzzer(fuzz_text ${SNDTAG_FUZZ_DIR}/fuzz_text.c
      LIBS sndtag_includes sndtag_scenario_pb sndtag_pbtext)
endif()

add_executable(scenario-convert ${SNDTAG_REPRO_DIR}/scenario_convert.c)
target_link_libraries(scenario-convert PRIVATE sndtag_scenario_io)
set_target_properties(scenario-convert PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${SNDTAG_REPRO_OUT})

# ---- seed corpora --------------------------------------------------------

file(GLOB SNDTAG_SCENARIO_SEEDS CONFIGURE_DEPENDS
    ${SNDTAG_CORPORA_DIR}/fuzz_scenario/*.txt)
file(GLOB SNDTAG_RAW_SEEDS CONFIGURE_DEPENDS
    ${SNDTAG_CORPORA_DIR}/fuzz_raw/*.raw)
set(_seed_outputs "")
foreach(seed ${SNDTAG_SCENARIO_SEEDS})
  get_filename_component(name ${seed} NAME_WE)
  set(bin ${SNDTAG_CORPORA_OUT}/fuzz_scenario/${name}.bin)
  set(txt ${SNDTAG_CORPORA_OUT}/fuzz_text/${name}.txt)
  add_custom_command(OUTPUT ${bin} ${txt}
      COMMAND ${CMAKE_COMMAND} -E make_directory
          ${SNDTAG_CORPORA_OUT}/fuzz_scenario ${SNDTAG_CORPORA_OUT}/fuzz_text
      COMMAND scenario-convert --to-binary ${seed} ${bin}
      COMMAND ${CMAKE_COMMAND} -E copy ${seed} ${txt}
      DEPENDS ${seed} scenario-convert
      COMMENT "Seed ${name}.bin"
      VERBATIM)
  list(APPEND _seed_outputs ${bin} ${txt})
endforeach()
# fuzz_threads starts from the same scenarios and from the race sweep's
# (corpora/races: the ops the sweeps interleave, no schedule in them).
file(GLOB SNDTAG_RACE_SEEDS CONFIGURE_DEPENDS ${SNDTAG_CORPORA_DIR}/races/*.txt)
foreach(seed ${SNDTAG_SCENARIO_SEEDS} ${SNDTAG_RACE_SEEDS})
  get_filename_component(name ${seed} NAME_WE)
  set(bin ${SNDTAG_CORPORA_OUT}/fuzz_threads/${name}.bin)
  add_custom_command(OUTPUT ${bin}
      COMMAND ${CMAKE_COMMAND} -E make_directory
          ${SNDTAG_CORPORA_OUT}/fuzz_threads
      COMMAND scenario-convert --to-binary ${seed} ${bin}
      DEPENDS ${seed} scenario-convert
      COMMENT "Seed fuzz_threads/${name}.bin"
      VERBATIM)
  list(APPEND _seed_outputs ${bin})
endforeach()
foreach(seed ${SNDTAG_RAW_SEEDS})
  get_filename_component(name ${seed} NAME)
  set(out ${SNDTAG_CORPORA_OUT}/fuzz_raw/${name})
  add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${SNDTAG_CORPORA_OUT}/fuzz_raw
      COMMAND ${CMAKE_COMMAND} -E copy ${seed} ${out}
      DEPENDS ${seed}
      VERBATIM)
  list(APPEND _seed_outputs ${out})
endforeach()
add_custom_target(sndtag_seed_corpora ALL DEPENDS ${_seed_outputs})

# ---- tests ---------------------------------------------------------------

if(SNDTAG_BUILD_TESTS)
  add_executable(interp_selftest ${SNDTAG_FUZZ_DIR}/interp_selftest.c)
  target_link_libraries(interp_selftest PRIVATE
      sndtag_scenario_io sndtag_interp sndtag_core Threads::Threads)

  # The behavioural expectations fire when broken, stay silent when not.
  add_executable(test_behaviour ${SNDTAG_FUZZ_DIR}/tests/test_behaviour.c)
  target_link_libraries(test_behaviour PRIVATE
      sndtag_scenario_io sndtag_interp sndtag_testlib sndtag_core
      Threads::Threads)
  add_test(NAME behaviour COMMAND test_behaviour)

  set(_seed_bins "")
  foreach(seed ${SNDTAG_SCENARIO_SEEDS})
    get_filename_component(name ${seed} NAME_WE)
    # Binary encode/decode and text print/parse round trips.
    add_test(NAME seed_roundtrip_${name}
        COMMAND scenario-convert --check ${seed})
    # The seed runs to a clean ledger on the correct core.
    add_test(NAME seed_replay_${name}
        COMMAND sndtag-replay --trace ${seed})
    set_tests_properties(seed_roundtrip_${name} seed_replay_${name}
        PROPERTIES LABELS "seed" TIMEOUT 120)
  endforeach()
  # Inputs that once broke the correct core: each must replay clean.
  file(GLOB SNDTAG_SCENARIO_REGRESSIONS CONFIGURE_DEPENDS
      ${SNDTAG_CORPORA_DIR}/regressions/fuzz_scenario/*.txt)
  foreach(reg ${SNDTAG_SCENARIO_REGRESSIONS})
    get_filename_component(name ${reg} NAME_WE)
    add_test(NAME regression_${name} COMMAND sndtag-replay --trace ${reg})
    set_tests_properties(regression_${name} PROPERTIES
        LABELS "regression" TIMEOUT 120)
  endforeach()
  # Same input, same trace (twice in one process, and .txt vs .bin).
  add_test(NAME interp_determinism
      COMMAND interp_selftest determinism ${SNDTAG_SCENARIO_SEEDS})
  # Corrupt and over-limit inputs are rejected or run, never crash.
  add_test(NAME interp_corrupt
      COMMAND interp_selftest corrupt ${SNDTAG_SCENARIO_SEEDS})
  add_test(NAME interp_limits COMMAND interp_selftest limits)
  # The seeds together exercise every operation and interface kind.
  add_test(NAME seed_coverage
      COMMAND interp_selftest coverage ${SNDTAG_SCENARIO_SEEDS})
  # interp_run_thread, one logical thread after another.
  add_test(NAME interp_bythread
      COMMAND interp_selftest bythread ${SNDTAG_SCENARIO_SEEDS})
  add_test(NAME interp_raw
      COMMAND interp_selftest raw ${SNDTAG_RAW_SEEDS})
  add_test(NAME interp_clamp
      COMMAND interp_selftest clamp ${SNDTAG_SCENARIO_SEEDS})
  # The mutator's generator makes scenarios that run, and state
  # feedback reports features.
  add_test(NAME interp_generate COMMAND interp_selftest generate)
  add_test(NAME interp_feedback
      COMMAND interp_selftest feedback ${SNDTAG_SCENARIO_SEEDS})
  # Systematic fault injection: every variant fails one allocation.
  add_test(NAME interp_faults
      COMMAND interp_selftest faults ${SNDTAG_SCENARIO_SEEDS})
  set_tests_properties(interp_faults PROPERTIES LABELS "interp"
      TIMEOUT 300)
  set_tests_properties(interp_determinism interp_corrupt interp_limits
      interp_raw interp_clamp interp_bythread seed_coverage interp_generate
      interp_feedback PROPERTIES LABELS "interp" TIMEOUT 300)
  # The replay tool's one-line errors.
  add_test(NAME replay_missing_file
      COMMAND sndtag-replay ${CMAKE_BINARY_DIR}/no-such-scenario.txt)
  set_tests_properties(replay_missing_file PROPERTIES
      WILL_FAIL FALSE
      PASS_REGULAR_EXPRESSION "sndtag-replay: .*no-such-scenario.txt: cannot read .*; pass a .txt scenario or a binary from the fuzzer")
  add_test(NAME replay_corrupt_file
      COMMAND sndtag-replay ${SNDTAG_FUZZ_DIR}/scenario.proto)
  set_tests_properties(replay_corrupt_file PROPERTIES
      PASS_REGULAR_EXPRESSION "sndtag-replay: .*scenario.proto: not a scenario \\(text: .*\\); pass a .txt scenario or a binary from the fuzzer")
  add_test(NAME replay_help COMMAND sndtag-replay --help)
  set_tests_properties(replay_help PROPERTIES
      PASS_REGULAR_EXPRESSION "usage: sndtag-replay")
endif()

# Throughput benchmark (tools/bench.c): exec/s per seed or over a corpus,
# with the fuzz targets' sanitizer defaults (fuzz/sanitizer_options.c).
add_executable(sndtag-bench ${CMAKE_SOURCE_DIR}/tools/bench.c
    ${SNDTAG_FUZZ_DIR}/sanitizer_options.c)
target_link_libraries(sndtag-bench PRIVATE
    sndtag_scenario_io sndtag_interp sndtag_core)
set_target_properties(sndtag-bench PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${SNDTAG_REPRO_OUT})
if(SNDTAG_BUILD_TESTS)
  add_test(NAME bench_help COMMAND sndtag-bench --help)
  set_tests_properties(bench_help PROPERTIES
      PASS_REGULAR_EXPRESSION "usage: sndtag-bench")
  add_test(NAME bench_missing_path
      COMMAND sndtag-bench ${CMAKE_BINARY_DIR}/no-such-corpus)
  set_tests_properties(bench_missing_path PROPERTIES
      PASS_REGULAR_EXPRESSION "sndtag-bench: .*no-such-corpus: No such file or directory \\(pass scenario files or corpus directories\\)")
  # A file that is no scenario: the one-line error and no sanitizer
  # report (LeakSanitizer once reported the bench's own path arrays).
  add_test(NAME bench_not_a_scenario
      COMMAND sndtag-bench ${CMAKE_SOURCE_DIR}/README.md)
  set_tests_properties(bench_not_a_scenario PROPERTIES
      PASS_REGULAR_EXPRESSION "sndtag-bench: [^\n]*README.md: not a scenario \\([^\n]*\\)\n"
      FAIL_REGULAR_EXPRESSION "Sanitizer")
  # Corpus mode over the built seed corpus: the summary's parts.  Speed
  # is not asserted; the numbers are for people.
  add_test(NAME bench_corpus
      COMMAND sndtag-bench --quiet --seconds 0.001 --runs 1 --top 3
          ${SNDTAG_CORPORA_OUT}/fuzz_scenario)
  set_tests_properties(bench_corpus PROPERTIES
      PASS_REGULAR_EXPRESSION "harmonic mean +[0-9]+ exec/s.*median +[0-9]+ exec/s.*slowest 3:.*op send"
      LABELS "bench" TIMEOUT 300)
endif()

# ---- repro tools: minimizer, C reproducers (branch reprotools) -------------
#
#   repro/sndtag-minimize, repro/sndtag-minimize_<variant>
#   repro/sndtag-cprog,    repro/sndtag-cprog_<variant>
#   repro/cprog/cprog_*    generated C reproducers (asan preset, tests only)
#
# Each tool is compiled once; a per-core copy differs only in the core it
# links and the one-line object naming that core (repro/variant_name.c).

add_library(sndtag_crashrun STATIC ${SNDTAG_REPRO_DIR}/crashrun.c)
target_link_libraries(sndtag_crashrun PUBLIC sndtag_includes)
# The one crash-bucket rule, for the shell tools (tools/bucket.sh).
add_executable(sndtag-bucket ${SNDTAG_REPRO_DIR}/bucket.c)
target_link_libraries(sndtag-bucket PRIVATE sndtag_crashrun)
set_target_properties(sndtag-bucket PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${SNDTAG_REPRO_OUT})
add_library(sndtag_minimize_obj OBJECT
    ${SNDTAG_REPRO_DIR}/minimize.c
    ${SNDTAG_REPRO_DIR}/minimize_ops.c
    ${SNDTAG_REPRO_DIR}/minimize_scalars.c
    ${SNDTAG_REPRO_DIR}/minimize_topology.c)
add_library(sndtag_cprog_obj OBJECT
    ${SNDTAG_REPRO_DIR}/cprog.c
    ${SNDTAG_REPRO_DIR}/cprog_ops.c
    ${SNDTAG_REPRO_DIR}/cprog_setup.c
    ${SNDTAG_REPRO_DIR}/cprog_sock.c
    ${SNDTAG_REPRO_DIR}/cprog_text.c)
foreach(tool minimize cprog)
  target_link_libraries(sndtag_${tool}_obj PRIVATE
      sndtag_scenario_io sndtag_interp sndtag_crashrun)
endforeach()

foreach(v ${_sndtag_cores})
  if(v STREQUAL "default")
    set(core sndtag_core)
    set(sfx "")
    set(vname "")
  else()
    set(core sndtag_core_${v})
    set(sfx "_${v}")
    set(vname "${v}")
  endif()
  add_library(sndtag_repro_variant${sfx} STATIC
      ${SNDTAG_REPRO_DIR}/variant_name.c)
  target_compile_definitions(sndtag_repro_variant${sfx} PRIVATE
      REPRO_VARIANT="${vname}")
  foreach(tool minimize cprog)
    add_executable(sndtag-${tool}${sfx} $<TARGET_OBJECTS:sndtag_${tool}_obj>)
    target_link_libraries(sndtag-${tool}${sfx} PRIVATE
        sndtag_repro_variant${sfx} sndtag_scenario_io sndtag_interp
        sndtag_crashrun ${core})
    set_target_properties(sndtag-${tool}${sfx} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${SNDTAG_REPRO_OUT})
  endforeach()
endforeach()

# A C reproducer generated at build time by <gen> from <scenario> and
# compiled against <core>: repro/cprog/cprog_<name>.
function(sndtag_cprog_program name scenario gen core)
  set(dir ${SNDTAG_REPRO_OUT}/cprog)
  set(c ${dir}/${name}.c)
  add_custom_command(OUTPUT ${c}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
      COMMAND ${gen} -o ${c} ${scenario}
      DEPENDS ${scenario} ${gen}
      COMMENT "C reproducer ${name}.c"
      VERBATIM)
  add_executable(cprog_${name} ${c})
  target_link_libraries(cprog_${name} PRIVATE ${core})
  # The generated program is meant to be read: keep it warning-free.
  target_compile_options(cprog_${name} PRIVATE -Werror)
  set_target_properties(cprog_${name} PROPERTIES
      RUNTIME_OUTPUT_DIRECTORY ${dir})
endfunction()

if(SNDTAG_BUILD_TESTS)
  set(_rt ${SNDTAG_REPRO_DIR}/tests)
  set(_rt_out ${CMAKE_BINARY_DIR}/repro-tests)

  add_test(NAME minimize_help COMMAND sndtag-minimize --help)
  add_test(NAME cprog_help COMMAND sndtag-cprog --help)
  set_tests_properties(minimize_help PROPERTIES
      PASS_REGULAR_EXPRESSION "usage: sndtag-minimize")
  set_tests_properties(cprog_help PROPERTIES
      PASS_REGULAR_EXPRESSION "usage: sndtag-cprog")
  add_test(NAME coverage_help
      COMMAND ${CMAKE_SOURCE_DIR}/tools/coverage.sh --help)
  set_tests_properties(coverage_help PROPERTIES
      PASS_REGULAR_EXPRESSION "usage: tools/coverage.sh")

  # One-line errors: exit status and the whole stderr.
  function(_repro_expect name status regex)
    add_test(NAME ${name} COMMAND ${CMAKE_COMMAND}
        -DSTATUS=${status} "-DREGEX=${regex}" -DNOFILE=${_rt_out}/${name}.out
        -P ${_rt}/expect.cmake -- ${ARGN})
    set_tests_properties(${name} PROPERTIES LABELS "repro" TIMEOUT 120)
  endfunction()
  _repro_expect(minimize_no_crash 1
      "^sndtag-minimize: [^\n]*noref_tcpdrop.txt does not crash on this core; nothing to minimize \\(did you mean sndtag-minimize_<variant>\\?\\)\n$"
      $<TARGET_FILE:sndtag-minimize> -o ${_rt_out}/minimize_no_crash.out
      ${SNDTAG_CORPORA_DIR}/fuzz_scenario/noref_tcpdrop.txt)
  _repro_expect(minimize_missing_file 1
      "^sndtag-minimize: [^\n]*no-such-scenario.txt: [^\n]+; pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-minimize> -o ${_rt_out}/minimize_missing_file.out
      ${CMAKE_BINARY_DIR}/no-such-scenario.txt)
  _repro_expect(minimize_not_a_scenario 1
      "^sndtag-minimize: [^\n]*scenario.proto: not a scenario \\([^\n]*\\); pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-minimize> -o ${_rt_out}/minimize_not_a_scenario.out
      ${SNDTAG_FUZZ_DIR}/scenario.proto)
  _repro_expect(minimize_refuses_input 2
      "^sndtag-minimize: [^\n]*noref_tcpdrop.txt: refusing to overwrite the input; pick another -o\n$"
      $<TARGET_FILE:sndtag-minimize>
      -o ${SNDTAG_CORPORA_DIR}/fuzz_scenario/../fuzz_scenario/noref_tcpdrop.txt
      ${SNDTAG_CORPORA_DIR}/fuzz_scenario/noref_tcpdrop.txt)
  # An early exit frees what it allocated (LeakSanitizer in asan): a
  # clean input with the default output name.
  file(MAKE_DIRECTORY ${_rt_out})
  configure_file(${SNDTAG_CORPORA_DIR}/fuzz_scenario/noref_tcpdrop.txt
      ${_rt_out}/clean_input.txt COPYONLY)
  _repro_expect(minimize_no_crash_default_out 1
      "^sndtag-minimize: [^\n]*clean_input.txt does not crash on this core; nothing to minimize \\(did you mean sndtag-minimize_<variant>\\?\\)\n$"
      $<TARGET_FILE:sndtag-minimize> ${_rt_out}/clean_input.txt)
  set_tests_properties(minimize_no_crash_default_out PROPERTIES
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1")
  # An empty file (a truncated crash file) is not a clean run.
  file(WRITE ${_rt_out}/empty-crash "")
  _repro_expect(replay_empty_file 1
      "^sndtag-replay: [^\n]*empty-crash: empty file \\(0 bytes[^\n]*\\); pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-replay> ${_rt_out}/empty-crash)
  _repro_expect(replay_empty_file_raw 1
      "^sndtag-replay: [^\n]*empty-crash: empty file \\(0 bytes[^\n]*\\); pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-replay> --raw ${_rt_out}/empty-crash)
  _repro_expect(minimize_empty_file 1
      "^sndtag-minimize: [^\n]*empty-crash: empty file \\(0 bytes[^\n]*\\); pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-minimize> -o ${_rt_out}/minimize_empty_file.out
      ${_rt_out}/empty-crash)
  _repro_expect(cprog_empty_file 1
      "empty-crash: empty file \\(0 bytes"
      $<TARGET_FILE:sndtag-cprog> -o ${_rt_out}/cprog_empty_file.out
      ${_rt_out}/empty-crash)
  _repro_expect(cprog_not_a_scenario 1
      "^sndtag-cprog: [^\n]*scenario.proto: not a scenario \\([^\n]*\\); pass a .txt scenario or a binary from the fuzzer\n$"
      $<TARGET_FILE:sndtag-cprog> -o ${_rt_out}/cprog_not_a_scenario.out
      ${SNDTAG_FUZZ_DIR}/scenario.proto)

  # fuzz_threads (docs/SWEEPS.md, "Fuzzing schedules"): a finding
  # replays 10/10 and the minimizer shrinks its schedule; the target runs
  # its seeds on the correct core without a report; inputs that once
  # broke the correct core in the threaded mode replay clean.
  set(_thr ${SNDTAG_FUZZ_DIR}/tests/threads)
  if("race_lagg_epoch" IN_LIST SNDTAG_VARIANT_NAMES AND
      NOT SNDTAG_SANITIZER STREQUAL "undefined")
    if(SNDTAG_SANITIZER STREQUAL "thread")
      set(_lagg_expect "ThreadSanitizer: data race")
    else()
      set(_lagg_expect "heap-use-after-free")
    endif()
    add_test(NAME threads_replay10_race_lagg_epoch
        COMMAND ${_thr}_check.sh replay10
            $<TARGET_FILE:sndtag-replay_race_lagg_epoch>
            ${_thr}/race_lagg_epoch_3switches.txt "${_lagg_expect}")
    add_test(NAME threads_clean_race_lagg_epoch
        COMMAND sndtag-replay --threaded --strategy switch
            ${_thr}/race_lagg_epoch_3switches.txt)
    add_test(NAME threads_minimize
        COMMAND ${_thr}_check.sh minimize
            $<TARGET_FILE:sndtag-minimize_race_lagg_epoch>
            ${_thr}/race_lagg_epoch_3switches.txt
            ${_rt_out}/threads_minimize.txt "${_lagg_expect}")
    set_tests_properties(threads_replay10_race_lagg_epoch
        threads_clean_race_lagg_epoch threads_minimize
        PROPERTIES LABELS "threads" TIMEOUT 300
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:history_size=4")
  endif()
  # A panic on a model thread reaches libFuzzer's crash handler on that
  # thread: the input must be written (fuzz/sanitizer_options.c).
  if(TARGET fuzz_threads_passthru AND SNDTAG_BUILD_FUZZERS AND
      SNDTAG_ENGINE STREQUAL "libfuzzer")
    add_test(NAME threads_fuzz_panic
        COMMAND ${_thr}_check.sh panic $<TARGET_FILE:fuzz_threads_passthru>
            ${SNDTAG_CORPORA_OUT}/fuzz_threads/fail_alloc.bin
            ${_rt_out}/threads_fuzz_panic "tag ifp mismatch")
    set_tests_properties(threads_fuzz_panic PROPERTIES
        LABELS "threads" TIMEOUT 300
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:history_size=4")
  endif()
  # A fuzzing process caches freed blocks (fuzz/fuzz_init.c): the race's
  # use after free is use-after-poison there; given the input as a file
  # (reproduce mode, as ClusterFuzz replays a crash) it runs on ASan's
  # allocator, and the report is heap-use-after-free with the free stack.
  if(TARGET fuzz_threads_race_lagg_epoch AND SNDTAG_BUILD_FUZZERS AND
      SNDTAG_ENGINE STREQUAL "libfuzzer" AND
      SNDTAG_SANITIZER STREQUAL "address")
    # mode; the report it must give; the one it must not.
    foreach(_m "file;heap-use-after-free;use-after-poison"
        "dir;use-after-poison;heap-use-after-free")
      list(GET _m 0 _mode)
      list(GET _m 1 _want)
      list(GET _m 2 _not)
      add_test(NAME fuzz_init_${_mode}
          COMMAND sh -c "rm -rf \"$2\" && mkdir -p \"$2\" && \"$0\" --to-binary \"$1\" \"$2/in\" && if [ \"$4\" = file ]; then \"$3\" \"$2/in\"; else \"$3\" -runs=1 \"$2\"; fi"
              $<TARGET_FILE:scenario-convert>
              ${_thr}/race_lagg_epoch_3switches.txt
              ${_rt_out}/fuzz_init_${_mode}
              $<TARGET_FILE:fuzz_threads_race_lagg_epoch> ${_mode})
      set_tests_properties(fuzz_init_${_mode} PROPERTIES
          LABELS "threads" TIMEOUT 300
          PASS_REGULAR_EXPRESSION "AddressSanitizer: ${_want}"
          FAIL_REGULAR_EXPRESSION "${_not}")
    endforeach()
  endif()
  # fuzz_scenario's coverage is the model's: some core/ function covered,
  # none of the interpreter's or the generated message code's (a target
  # linked against the instrumented sndtag_interp would show them).
  if(TARGET fuzz_scenario AND SNDTAG_BUILD_FUZZERS AND SNDTAG_SANCOV)
    add_test(NAME fuzz_scenario_coverage_is_model
        COMMAND fuzz_scenario -runs=300 -seed=1 -print_coverage=1)
    set_tests_properties(fuzz_scenario_coverage_is_model PROPERTIES
        LABELS "unit" TIMEOUT 120
        PASS_REGULAR_EXPRESSION "hits: [1-9][0-9]* edges: [^\n]*/core/"
        FAIL_REGULAR_EXPRESSION "[\n]COVERED_FUNC: [^\n]*(/fuzz/interp|/fuzz/raw_decode|scenario[.]pb-c[.]c)")
  endif()
  if(TARGET fuzz_threads AND SNDTAG_BUILD_FUZZERS)
    add_test(NAME threads_fuzz_seeds
        COMMAND ${_thr}_check.sh fuzz $<TARGET_FILE:fuzz_threads>
            ${SNDTAG_CORPORA_OUT}/fuzz_threads ${_rt_out}/threads_fuzz_seeds
            300)
    set_tests_properties(threads_fuzz_seeds PROPERTIES
        LABELS "threads" TIMEOUT 600
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:history_size=4")
  endif()
  file(GLOB _thr_regressions CONFIGURE_DEPENDS
      ${SNDTAG_CORPORA_DIR}/regressions/fuzz_threads/*.txt)
  foreach(reg ${_thr_regressions})
    get_filename_component(name ${reg} NAME_WE)
    add_test(NAME threads_regression_${name}
        COMMAND sndtag-replay --threaded --strategy switch ${reg})
    set_tests_properties(threads_regression_${name} PROPERTIES
        LABELS "threads;regression" TIMEOUT 120
        ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:history_size=4")
  endforeach()

  if("noref" IN_LIST SNDTAG_VARIANT_NAMES)
    # One bucket rule: every tool names a real panic and the canned
    # sanitizer reports the same way.
    add_test(NAME bucket_port COMMAND ${CMAKE_COMMAND}
        -DMIN=$<TARGET_FILE:sndtag-minimize>
        -DSWEEP=$<TARGET_FILE:sndtag-sweep>
        -DBUCKET=$<TARGET_FILE:sndtag-bucket>
        -DREPLAY=$<TARGET_FILE:sndtag-replay_noref>
        -DSCENARIO=${SNDTAG_CORPORA_DIR}/fuzz_scenario/noref_tcpdrop.txt
        -DBUCKET_SH=${CMAKE_SOURCE_DIR}/tools/bucket.sh
        -DREPORTS=${_rt}
        -DWORK=${_rt_out}/bucket_port
        -P ${_rt}/bucket_check.cmake)
    # The minimizer shrinks a padded noref reproducer on the noref core:
    # smaller, same bucket, input untouched, same result twice.
    add_test(NAME minimize_noref COMMAND ${CMAKE_COMMAND}
        -DMIN=$<TARGET_FILE:sndtag-minimize_noref>
        -DREPLAY=$<TARGET_FILE:sndtag-replay_noref>
        -DINPUT=${_rt}/noref_padded.txt
        -DWORK=${_rt_out}/minimize_noref
        -P ${_rt}/minimize_check.cmake)
    set_tests_properties(minimize_noref bucket_port PROPERTIES
        LABELS "repro" TIMEOUT 600)
  endif()

  # C reproducers: generated, compiled and run.  Compiling one program
  # per input is the expensive part, so only in the asan preset.
  if(SNDTAG_SANITIZER STREQUAL "address" AND NOT SNDTAG_ENGINE STREQUAL "afl")
    foreach(seed ${SNDTAG_SCENARIO_SEEDS})
      get_filename_component(name ${seed} NAME_WE)
      sndtag_cprog_program(seed_${name} ${seed} sndtag-cprog sndtag_core)
      # Exit 0 only after world_fini: the ledger was clean.
      add_test(NAME cprog_seed_${name} COMMAND cprog_seed_${name})
      # And it prints the interpreter's per-interface accounting.
      add_test(NAME cprog_accounting_${name} COMMAND ${CMAKE_COMMAND}
          -DPROGRAM=$<TARGET_FILE:cprog_seed_${name}>
          -DREPLAY=$<TARGET_FILE:sndtag-replay>
          -DSCENARIO=${seed}
          -P ${_rt}/cprog_accounting.cmake)
      set_tests_properties(cprog_seed_${name} cprog_accounting_${name}
          PROPERTIES LABELS "cprog" TIMEOUT 120)
    endforeach()
    # Fuzzed inputs whose interfaces exceed the interpreter's bounds: the
    # program attaches them as clamped by the interpreter itself.
    file(GLOB _clamped CONFIGURE_DEPENDS ${_rt}/cprog_clamped/*.txt)
    foreach(scenario ${_clamped})
      get_filename_component(name ${scenario} NAME_WE)
      sndtag_cprog_program(clamped_${name} ${scenario} sndtag-cprog
          sndtag_core)
      add_test(NAME cprog_clamped_${name} COMMAND cprog_clamped_${name})
      add_test(NAME cprog_accounting_clamped_${name} COMMAND ${CMAKE_COMMAND}
          -DPROGRAM=$<TARGET_FILE:cprog_clamped_${name}>
          -DREPLAY=$<TARGET_FILE:sndtag-replay>
          -DSCENARIO=${scenario}
          -P ${_rt}/cprog_accounting.cmake)
      set_tests_properties(cprog_clamped_${name}
          cprog_accounting_clamped_${name}
          PROPERTIES LABELS "cprog" TIMEOUT 120)
    endforeach()
    file(GLOB _variant_repros CONFIGURE_DEPENDS
        ${SNDTAG_CORPORA_DIR}/variants/*.txt)
    foreach(repro ${_variant_repros})
      get_filename_component(name ${repro} NAME_WE)
      if(NOT name IN_LIST SNDTAG_VARIANT_NAMES)
        continue()
      endif()
      # Clean on the correct core ...
      sndtag_cprog_program(variant_${name}_correct ${repro} sndtag-cprog
          sndtag_core)
      add_test(NAME cprog_variant_${name}_correct
          COMMAND cprog_variant_${name}_correct)
      # ... and the replay's bucket on its own.
      sndtag_cprog_program(variant_${name} ${repro} sndtag-cprog_${name}
          sndtag_core_${name})
      add_test(NAME cprog_variant_${name}_found COMMAND ${CMAKE_COMMAND}
          -DPROGRAM=$<TARGET_FILE:cprog_variant_${name}>
          -DREPLAY=$<TARGET_FILE:sndtag-replay_${name}>
          -DMIN=$<TARGET_FILE:sndtag-minimize>
          -DSCENARIO=${repro}
          -P ${_rt}/cprog_check.cmake)
      set_tests_properties(cprog_variant_${name}_correct
          cprog_variant_${name}_found PROPERTIES LABELS "cprog" TIMEOUT 120)
    endforeach()
  endif()
endif()
