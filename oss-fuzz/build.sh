#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script.  Honours the builder's contract:
# $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $SANITIZER $OUT $WORK, links
# the targets with $CXX, and leaves <target>, <target>.dict,
# <target>.options and <target>_seed_corpus.zip in $OUT.
#
# tests/oss-fuzz-local.sh runs it here with the variables set the way the
# OSS-Fuzz builder sets them.

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="${WORK:?}/sndtag-build"
TARGETS="fuzz_scenario fuzz_raw fuzz_text"

# The coverage and introspector builds need no special handling: their
# flags arrive in $CFLAGS like the sanitizers'.
cmake -S "$SRC_DIR" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
    -DSNDTAG_SANITIZER="${SANITIZER:-address}" \
    -DSNDTAG_ENGINE=libfuzzer \
    -DSNDTAG_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
    -DSNDTAG_FUZZ_LINK_CXX=ON \
    -DSNDTAG_PROTOBUF_C_STATIC=ON \
    -DSNDTAG_BUILD_TESTS=OFF \
    -DSNDTAG_BUILD_VARIANTS=OFF \
    -DSNDTAG_AFL_EXTRAS=OFF
cmake --build "$BUILD" --target $TARGETS sndtag_seed_corpora

for t in $TARGETS; do
	cp "$BUILD/fuzz/$t" "$OUT/$t"
	cp "$SRC_DIR/fuzz/$t.dict" "$OUT/$t.dict"
	cp "$SRC_DIR/fuzz/$t.options" "$OUT/$t.options"
	# Write the zip beside its final name, then rename: never a torn zip.
	rm -f "$OUT/${t}_seed_corpus.zip.tmp"
	(cd "$BUILD/corpora/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip.tmp" ./*)
	mv "$OUT/${t}_seed_corpus.zip.tmp" "$OUT/${t}_seed_corpus.zip"
done
