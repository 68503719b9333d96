set -eu
cd /work/main/build/asan
D=/tmp/m009; R=/tmp/mutants-a651825/raw
/usr/bin/clang -iquote /work/main/core/netinet -include /work/main/bench/mutant_probe.h -fsanitize=address -fno-omit-frame-pointer -O1 -g -O2 -g -DNDEBUG -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fsanitize=fuzzer-no-link -iquote /work/main/core -iquote /work/main -std=gnu11 -o $D/in_pcb.c.o -c $R/m009/probed/in_pcb.c
cp core/libsndtag_core.a $D/libsndtag_core.a && ar r $D/libsndtag_core.a $D/in_pcb.c.o 2>/dev/null
/usr/bin/clang -fsanitize=address -fno-omit-frame-pointer -O1 -g -O2 -g -DNDEBUG -fsanitize=fuzzer fuzz/CMakeFiles/fuzz_threads.dir/fuzz_threads.c.o fuzz/CMakeFiles/fuzz_threads.dir/sanitizer_options.c.o fuzz/CMakeFiles/fuzz_threads.dir/fuzz_init.c.o -o $D/fuzz_threads fuzz/libsndtag_interp.a $D/libsndtag_core.a fuzz/libsndtag_scenario_hooks.a fuzz/libsndtag_pbmutate.a fuzz/libsndtag_pbmsg.a fuzz/libsndtag_scenario_pb.a /usr/lib/x86_64-linux-gnu/libprotobuf-c.so $R/mutant_probe.o
