#!/bin/bash
# Emulates OSS-Fuzz's builder and runner here.  For each configuration
# (libfuzzer x address, libfuzzer x undefined, afl x address) it lays out
# $SRC as the Dockerfile does (sources in $SRC/sndtag-harness, the build
# script copied to $SRC/build.sh), sets the environment the builder's
# "compile" gives build.sh (base-builder's CFLAGS, SANITIZER_FLAGS_*,
# COVERAGE_FLAGS, compile_afl's compilers and driver), runs
# "bash -eux $SRC/build.sh", then makes the runner's checks
# (base-runner's bad_build_check): engine linked, sanitizer instrumented,
# no startup crash, the seed corpus runs under the runner's
# ASAN_OPTIONS/UBSAN_OPTIONS, no shared library outside the base image.
# It also checks project.yaml as OSS-Fuzz's presubmit does.
# The cflite-<sanitizer> configurations emulate ClusterFuzzLite's build
# instead: .clusterfuzzlite/Dockerfile copies the checkout (COPY . minus
# .dockerignore) to $SRC/sndtag-harness and .clusterfuzzlite/build.sh to
# $SRC/build.sh; libFuzzer only.  Every libFuzzer target is then run as
# the runner does (base-runner's test_all.py: -runs=100 over the unpacked
# seed corpus with its sanitizer options).
#   Usage: tests/oss-fuzz-local.sh WORKDIR [CONFIG...]
#   CONFIG: libfuzzer-address libfuzzer-undefined afl-address cflite-address
#           cflite-undefined (default: all but cflite-undefined)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: oss-fuzz-local.sh WORKDIR [CONFIG...]}
shift
configs=("$@")
[ "${#configs[@]}" -gt 0 ] || configs=(libfuzzer-address libfuzzer-undefined afl-address cflite-address)
rm -rf "$base"
mkdir -p "$base"
fail=0
tfail=0
bad() { echo "FAIL: $*"; fail=1; tfail=1; }

# base-clang's CFLAGS and base-builder's sanitizer flags.
BASE_CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
SANITIZER_FLAGS_address="-fsanitize=address -fsanitize-address-use-after-scope"
SANITIZER_FLAGS_undefined="-fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
COVERAGE_FLAGS="-fsanitize=fuzzer-no-link"
# base-runner's sanitizer options (they match ClusterFuzz's).
RUN_ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
RUN_UBSAN_OPTIONS="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3"
RUN_FUZZER_ARGS="-rss_limit_mb=2560 -timeout=25"

# project.yaml as the presubmit checks it (placeholders pass the format;
# --submit would refuse them).
python3 "$root/oss-fuzz/check-project.py" "$root/oss-fuzz/project.yaml" || bad "project.yaml"
grep -q '^RUN git clone .* sndtag-harness$' "$root/oss-fuzz/Dockerfile" ||
    bad "oss-fuzz/Dockerfile does not clone the sources into \$SRC/sndtag-harness"
grep -q '^COPY build.sh \$SRC/$' "$root/oss-fuzz/Dockerfile" ||
    bad "oss-fuzz/Dockerfile does not COPY build.sh \$SRC/"
python3 "$root/tools/check-workflows.py" "$root" || bad "the ClusterFuzzLite files"
grep -q 'exec "\$SRC/sndtag-harness/oss-fuzz/build.sh"' "$root/.clusterfuzzlite/build.sh" ||
    bad ".clusterfuzzlite/build.sh does not run the OSS-Fuzz script from \$SRC"

calls() { objdump -d "$1" | grep -Ec "call[q]?[[:space:]]+[0-9a-f]+ <$2"; }

# The shared libraries a target may need: those of the runner image
# (glibc, libstdc++, libgcc); anything else is missing there.
extra_libs() {
	ldd "$1" | awk '{ print $1 }' | grep -Ev '^(linux-vdso\.so|/lib64/ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libstdc\+\+\.so|libgcc_s\.so|libutil\.so|libresolv\.so)' || true
}

for cfg in "${configs[@]}"; do
	engine=${cfg%-*} san=${cfg#*-}
	d="$base/$cfg"
	mkdir -p "$d/src" "$d/work" "$d/out" "$d/seeds"
	if [ "$engine" = cflite ]; then
		# COPY . $SRC/sndtag-harness: the checkout as the Docker
		# context sends it (.dockerignore leaves out build/ and out/).
		mkdir -p "$d/src/sndtag-harness"
		(cd "$root" && git ls-files -coz --exclude-standard |
		    grep -zvE '^(build|out)/' | tar --null -T - -cf -) |
		    tar -xf - -C "$d/src/sndtag-harness" ||
		    { bad "$cfg: could not copy the checkout"; continue; }
		cp "$root/.clusterfuzzlite/build.sh" "$d/src/build.sh"
		engine=libfuzzer
	else
		ln -s "$root" "$d/src/sndtag-harness"
		cp "$root/oss-fuzz/build.sh" "$d/src/build.sh"
	fi
	flags_var="SANITIZER_FLAGS_$san"
	(
		export SRC="$d/src" WORK="$d/work" OUT="$d/out"
		export SANITIZER=$san FUZZING_ENGINE=$engine ARCHITECTURE=x86_64 \
		    FUZZING_LANGUAGE=c
		# base-builder's environment, not the caller's (ctest sets
		# halt_on_error): unsigned wrap-around is only a coverage
		# signal there, and silenced.
		export UBSAN_OPTIONS="silence_unsigned_overflow=1"
		unset ASAN_OPTIONS
		cov=$COVERAGE_FLAGS
		if [ "$engine" = afl ]; then
			# compile_afl: its compilers and driver, no
			# -fsanitize=fuzzer-no-link, quiet, no leak checks.
			export CC=afl-clang-fast CXX=afl-clang-fast++
			export LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
			export AFL_QUIET=1 AFL_IGNORE_UNKNOWN_ENVS=1
			export ASAN_OPTIONS="detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1"
			cov=""
		else
			export CC=clang CXX=clang++ LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
		fi
		export CFLAGS="$BASE_CFLAGS ${!flags_var} $cov"
		export CXXFLAGS="$CFLAGS"
		# Both Dockerfiles: WORKDIR $SRC/sndtag-harness.
		# -P: the sources are a symlink here (a directory in the image);
		# a logical $PWD through it makes CMake rewrite $WORK paths.
		cd -P "$SRC/sndtag-harness" && bash -eux "$SRC/build.sh"
	) > "$d/build.log" 2>&1 || { tail -30 "$d/build.log"; bad "$cfg: \$SRC/build.sh failed"; continue; }

	# test_all.py moves $OUT's contents to /tmp/not-out before it runs
	# the checks, to catch paths hardcoded at build time: so do we.
	rm -rf "$d/not-out"; mv "$d/out" "$d/not-out"
	# Its find_fuzz_targets: executable ELF files in $OUT that contain
	# LLVMFuzzerTestOneInput (names starting "afl-" skipped).  Exactly
	# our three targets, so no helper (the AFL++ mutator .so) is run
	# as a target.
	found=$(cd "$d/not-out" && for f in *; do
		case "$f" in afl-*) continue;; esac
		[ -f "$f" ] && [ -x "$f" ] && grep -q LLVMFuzzerTestOneInput "$f" &&
		    file "$f" | grep -q ELF && echo "$f"
	done | sort | tr '\n' ' ')
	[ "$found" = "fuzz_raw fuzz_scenario fuzz_text " ] ||
	    bad "$cfg: the runner would take these for fuzz targets: $found"

	for t in fuzz_scenario fuzz_raw fuzz_text; do
		tfail=0
		for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
			[ -s "$d/not-out/$f" ] || bad "$cfg: \$OUT/$f missing"
		done
		bin="$d/not-out/$t"
		[ -x "$bin" ] || continue
		# The runner image has no protobuf-c, nor any library
		# outside glibc and the C++ runtime.
		libs=$(extra_libs "$bin" | tr '\n' ' ')
		[ -z "$libs" ] || bad "$cfg: $t needs shared libraries the runner lacks: $libs"
		# Sanitizer instrumented (bad_build_check's call counts).
		asan=$(calls "$bin" __asan) ubsan=$(calls "$bin" __ubsan)
		case "$san" in
		address) [ "$asan" -ge 1000 ] || bad "$cfg: $t has $asan ASan calls (< 1000)";;
		undefined)
			[ "$asan" -eq 0 ] || bad "$cfg: $t has ASan calls in a UBSan build"
			[ "$ubsan" -ge 169 ] || bad "$cfg: $t has $ubsan UBSan calls (< 169)";;
		esac
		mkdir -p "$d/seeds/$t"
		(cd "$d/seeds/$t" && unzip -q -o "$d/not-out/${t}_seed_corpus.zip")
		n=$(ls "$d/seeds/$t" | wc -l)
		[ "$n" -gt 0 ] || bad "$cfg: $t: empty seed corpus"
		if [ "$engine" = libfuzzer ]; then
			(
				cd "$d/not-out"
				export ASAN_OPTIONS=$RUN_ASAN_OPTIONS UBSAN_OPTIONS=$RUN_UBSAN_OPTIONS
				# Engine linked and instrumented; no startup crash.
				./"$t" -seed=1337 -runs=4 > "$d/$t.start.log" 2>&1
				# The seed corpus, as the runner runs a target:
				# FUZZER_ARGS, the .options' [libfuzzer] flags.
				opts=$(sed -n '/^\[libfuzzer\]/,/^\[/s/^ *\([a-z_]*\) *= *\(.*\)$/-\1=\2/p' "$t.options")
				./"$t" $RUN_FUZZER_ARGS -runs=100 $opts \
				    "$d/seeds/$t" < /dev/null > "$d/$t.seeds.log" 2>&1
			) || { tail -20 "$d/$t.seeds.log" "$d/$t.start.log"; bad "$cfg: $t failed to run"; continue; }
			# bad_build_check's own pattern.
			edges=$(grep -Po 'INFO: Loaded [[:digit:]]+ module.*\(.*(counters|guards)\):[[:space:]]+\K[[:digit:]]+' "$d/$t.start.log" | head -1)
			[ -n "$edges" ] && [ "$edges" -ge 100 ] || bad "$cfg: $t: ${edges:-no} coverage counters"
			grep -q "Done 4 runs" "$d/$t.start.log" || bad "$cfg: $t: startup check did not finish 4 runs"
			[ "$tfail" -eq 0 ] && echo "ok: $cfg $t ($edges counters, $asan ASan / $ubsan UBSan calls, $n seeds)"
		else
			# afl-fuzz as the runner starts it, with the custom
			# mutator for the structured target; five seconds.
			mut=()
			[ "$t" != fuzz_scenario ] || mut=(AFL_CUSTOM_MUTATOR_LIBRARY="$d/not-out/fuzz_scenario_mutator.so")
			(
				cd "$d/not-out"
				env ASAN_OPTIONS="$RUN_ASAN_OPTIONS:abort_on_error=1:symbolize=0:detect_odr_violation=0:" \
				    UBSAN_OPTIONS="$RUN_UBSAN_OPTIONS:symbolize=0" \
				    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
				    AFL_FAST_CAL=1 AFL_FORKSRV_INIT_TMOUT=30000 AFL_IGNORE_PROBLEMS=1 \
				    AFL_IGNORE_UNKNOWN_ENVS=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 "${mut[@]}" \
				    afl-fuzz -m none -t 5000+ -V 5 -i "$d/seeds/$t" -o "$d/afl-$t" \
				    -x "$t.dict" -- "./$t"
			) > "$d/$t.afl.log" 2>&1 || { tail -20 "$d/$t.afl.log"; bad "$cfg: afl-fuzz $t failed"; continue; }
			grep -Eq "target binary (crashed|terminated)" "$d/$t.afl.log" && bad "$cfg: $t: startup crash under afl-fuzz"
			grep -q "All set and ready to roll" "$d/$t.afl.log" || bad "$cfg: $t: afl-fuzz did not start fuzzing"
			execs=$(sed -n 's/^execs_done *: *//p' "$d/afl-$t/default/fuzzer_stats")
			[ "${execs:-0}" -gt 0 ] || bad "$cfg: $t: afl-fuzz ran nothing"
			if [ "$t" = fuzz_scenario ]; then
				[ -s "$d/not-out/fuzz_scenario_mutator.so" ] || bad "$cfg: no fuzz_scenario_mutator.so in \$OUT"
				ldd "$d/not-out/fuzz_scenario_mutator.so" | grep -q protobuf &&
				    bad "$cfg: the mutator needs libprotobuf-c.so"
				grep -qi "custom mutator" "$d/$t.afl.log" || bad "$cfg: the custom mutator was not loaded"
			fi
			[ "$tfail" -eq 0 ] && echo "ok: $cfg $t ($asan ASan calls, $n seeds, afl-fuzz ran $execs execs)"
		fi
	done
done
[ "$fail" -eq 0 ] && echo "oss-fuzz builder emulation: ${configs[*]} ok"
exit "$fail"
