#!/usr/bin/env bash
# Source-based line coverage of the core by a corpus: build the coverage
# preset's replay tool, replay every input with its own profile, merge,
# print llvm-cov's per-file table for core/, write an HTML report.
# Usage: tools/sndtag coverage --help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG="tools/coverage.sh"
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

usage() {
	cat <<'H'
usage: tools/coverage.sh [--corpus DIR] [--raw] [--out DIR] [--jobs N]
                         [--no-build]     (also: tools/sndtag coverage ...)

Measures which lines of core/ a corpus reaches.  Builds the coverage
preset's sndtag-replay (build/coverage, clang -fprofile-instr-generate
-fcoverage-mapping), replays every file of the corpus through it with its
own LLVM_PROFILE_FILE, merges the profiles with llvm-profdata, prints
llvm-cov's per-file table for core/ and the total line coverage, and
writes an HTML report to out/coverage/ (built in a temporary directory,
then renamed into place).

  --corpus DIR   inputs to replay (default: the seeds, corpora/fuzz_scenario);
                 e.g. a campaign's out/fuzz_scenario-asan/corpus
  --raw          the inputs are fuzz_raw inputs (sndtag-replay --raw)
  --out DIR      where the HTML report goes (default: out/coverage)
  --jobs N       build jobs (default: 2)
  --no-build     use build/coverage as it is

An input that does not replay cleanly (rejected, or a crash on the correct
core) is counted and reported; its coverage is lost (a crash writes no
profile).
H
}

corpus="$ROOT/corpora/fuzz_scenario" raw="" outdir="$ROOT/out/coverage" jobs=2 build=1
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0;;
	--corpus) corpus=${2:?--corpus needs a directory}; shift 2;;
	--raw) raw=--raw; shift;;
	--out) outdir=${2:?--out needs a directory}; shift 2;;
	--jobs) jobs=${2:?--jobs needs a number}; shift 2;;
	--no-build) build=0; shift;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
case "$jobs" in ''|*[!0-9]*|0) die "--jobs takes a positive number, got '$jobs'";; esac
[ -d "$corpus" ] || die "no corpus directory '$corpus' (see --help)"

# clang 14's tools are llvm-profdata-14 / llvm-cov-14; take the ones that
# match the compiler, else the unversioned names.
clangver=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1 || true)
pick() {
	local t
	for t in "$1-$clangver" "$1"; do
		command -v "$t" >/dev/null 2>&1 && { echo "$t"; return 0; }
	done
	return 1
}
profdata=$(pick llvm-profdata) || die "llvm-profdata not found (apt-get install llvm${clangver:+-$clangver})"
llvmcov=$(pick llvm-cov) || die "llvm-cov not found (apt-get install llvm${clangver:+-$clangver})"

bdir="$ROOT/build/coverage"
replay="$bdir/repro/sndtag-replay"
if [ "$build" = 1 ]; then
	note "building sndtag-replay in the coverage preset (build/coverage)"
	(cd "$ROOT" && cmake --preset coverage >/dev/null &&
		cmake --build --preset coverage -j "$jobs" --target sndtag-replay >/dev/null) ||
		die "build of the coverage preset failed (run: cmake --build --preset coverage --target sndtag-replay)"
fi
[ -x "$replay" ] || die "no $replay; run without --no-build"

mapfile -t inputs < <(find "$corpus" -maxdepth 1 -type f ! -name '.*' | LC_ALL=C sort)
[ "${#inputs[@]}" -gt 0 ] || die "corpus '$corpus' has no files"

mkdir -p "$(dirname "$outdir")"
work=$(mktemp -d "$(dirname "$outdir")/.coverage.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/prof"

note "replaying ${#inputs[@]} inputs from $corpus"
bad=0 i=0
for f in "${inputs[@]}"; do
	i=$((i + 1))
	if ! LLVM_PROFILE_FILE="$work/prof/$i.profraw" \
		"$replay" -q $raw "$f" >/dev/null 2>"$work/last.err"; then
		bad=$((bad + 1))
		[ "$bad" -gt 3 ] || note "$(basename "$f") did not replay cleanly: $(head -1 "$work/last.err")"
	fi
	if [ $((i % 200)) -eq 0 ]; then note "$i/${#inputs[@]} replayed"; fi
done
[ "$bad" -eq 0 ] || note "$bad of ${#inputs[@]} inputs did not replay cleanly (their coverage is not counted)"

shopt -s nullglob
profs=("$work"/prof/*.profraw)
[ "${#profs[@]}" -gt 0 ] || die "no profile was written (did every input crash?)"
note "merging ${#profs[@]} profiles"
"$profdata" merge -sparse "${profs[@]}" -o "$work/merged.profdata" ||
	die "llvm-profdata merge failed"

note "per-file line coverage of core/"
"$llvmcov" report "$replay" -instr-profile="$work/merged.profdata" \
	-show-region-summary=false -show-branch-summary=false \
	-show-instantiation-summary=false "$ROOT/core" | tee "$work/report.txt"

"$llvmcov" show "$replay" -instr-profile="$work/merged.profdata" \
	-format=html -output-dir="$work/html" \
	-show-line-counts-or-regions "$ROOT/core" >/dev/null ||
	die "llvm-cov show failed"
cp "$work/report.txt" "$work/html/report.txt"

# Into place: the new report replaces the old one in one rename.
old=""
if [ -e "$outdir" ]; then
	old="$work/old"
	mv "$outdir" "$old"
fi
mv "$work/html" "$outdir"

# TOTAL  Functions Missed Executed  Lines Missed Cover
total=$(awk '$1 == "TOTAL" { print $(NF-2), $(NF-1), $NF }' "$work/report.txt")
read -r lines missed cover <<<"$total"
printf 'core line coverage: %s (%d of %d lines) from %d inputs; HTML: %s/index.html\n' \
	"$cover" "$((lines - missed))" "$lines" "${#inputs[@]}" "$outdir"
