#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script.  The builder's "compile" runs
# it as $SRC/build.sh (bash -eux) with $CC $CXX $CFLAGS $CXXFLAGS
# $LIB_FUZZING_ENGINE $FUZZING_ENGINE $SANITIZER $OUT $WORK set; the
# sources are where the Dockerfile cloned them, $SRC/sndtag-harness.
# Leaves <target>, <target>.dict, <target>.options and
# <target>_seed_corpus.zip in $OUT, and for AFL++ the structure-aware
# custom mutator fuzz_scenario_mutator.so (load it with
# AFL_CUSTOM_MUTATOR_LIBRARY; docs/FUZZING.md).
#
# tests/oss-fuzz-local.sh runs it from $SRC/build.sh with the variables
# set the way the builder sets them.

SRC_DIR="$SRC/sndtag-harness"
if [ ! -f "$SRC_DIR/CMakeLists.txt" ]; then
	echo "build.sh: no sources in $SRC_DIR (the Dockerfile clones main_repo there)" >&2
	exit 1
fi
BUILD="$WORK/sndtag-build"
TARGETS="fuzz_scenario fuzz_raw fuzz_text"

case "${FUZZING_ENGINE:-libfuzzer}" in
libfuzzer) engine=libfuzzer extra="" ;;
# compile_afl has set CC/CXX to afl-clang-fast and chosen cmplog itself;
# the mutator .so is built uninstrumented in a nested tree.
afl) engine=afl extra="fuzz_scenario_mutator" ;;
*) echo "build.sh: FUZZING_ENGINE '$FUZZING_ENGINE' is not supported (libfuzzer, afl)" >&2
   exit 1 ;;
esac

# The coverage and introspector builds need no special handling: their
# flags arrive in $CFLAGS like the sanitizers'.
cmake -S "$SRC_DIR" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
    -DSNDTAG_SANITIZER="${SANITIZER:-address}" \
    -DSNDTAG_ENGINE="$engine" \
    -DSNDTAG_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
    -DSNDTAG_FUZZ_LINK_CXX=ON \
    -DSNDTAG_PROTOBUF_C_STATIC=ON \
    -DSNDTAG_BUILD_TESTS=OFF \
    -DSNDTAG_BUILD_VARIANTS=OFF \
    -DSNDTAG_AFL_EXTRAS=OFF
cmake --build "$BUILD" --target $TARGETS sndtag_seed_corpora $extra

for t in $TARGETS; do
	cp "$BUILD/fuzz/$t" "$OUT/$t"
	cp "$SRC_DIR/fuzz/$t.dict" "$OUT/$t.dict"
	cp "$SRC_DIR/fuzz/$t.options" "$OUT/$t.options"
	# Write the zip beside its final name, then rename: never a torn zip.
	rm -f "$OUT/${t}_seed_corpus.zip.tmp"
	(cd "$BUILD/corpora/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip.tmp" ./*)
	mv "$OUT/${t}_seed_corpus.zip.tmp" "$OUT/${t}_seed_corpus.zip"
done
if [ -n "$extra" ]; then
	cp "$BUILD/fuzz/fuzz_scenario_mutator.so" "$OUT/fuzz_scenario_mutator.so"
fi
