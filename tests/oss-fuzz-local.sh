#!/bin/bash
# Runs oss-fuzz/build.sh here with the environment the OSS-Fuzz builder
# gives it (ASan + libFuzzer), then checks the contract: every target, its
# .dict, .options and seed zip in $OUT, and each target starts and runs its
# whole seed corpus.  Usage: tests/oss-fuzz-local.sh WORKDIR
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: oss-fuzz-local.sh WORKDIR}
rm -rf "$base"
mkdir -p "$base/work" "$base/out" "$base/seeds"

export SRC="$base/src" WORK="$base/work" OUT="$base/out"
export CC=clang CXX=clang++ SANITIZER=address FUZZING_ENGINE=libfuzzer \
    ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address \
-fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"

"$root/oss-fuzz/build.sh" > "$base/build.log" 2>&1 || {
	tail -30 "$base/build.log"; echo "FAIL: oss-fuzz/build.sh failed"; exit 1; }

fail=0
for t in fuzz_scenario fuzz_raw fuzz_text; do
	for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
		[ -s "$OUT/$f" ] || { echo "FAIL: \$OUT/$f missing"; fail=1; }
	done
	[ -x "$OUT/$t" ] || continue
	mkdir -p "$base/seeds/$t"
	(cd "$base/seeds/$t" && unzip -q -o "$OUT/${t}_seed_corpus.zip")
	n=$(ls "$base/seeds/$t" | wc -l)
	[ "$n" -gt 0 ] || { echo "FAIL: $t: empty seed corpus"; fail=1; }
	# As ClusterFuzz runs it: from $OUT, with the dict from .options.
	if ! (cd "$OUT" && ./"$t" -runs=0 -dict="$t.dict" "$base/seeds/$t") \
	    > "$base/$t.log" 2>&1; then
		tail -20 "$base/$t.log"; echo "FAIL: $t did not run its seeds"
		fail=1
	elif ! grep -q "INITED" "$base/$t.log"; then
		echo "FAIL: $t: no INITED line"; fail=1
	else
		echo "ok: $t ($n seeds)"
	fi
done
[ "$fail" -eq 0 ] && echo "oss-fuzz build: 3 targets ok"
exit "$fail"
