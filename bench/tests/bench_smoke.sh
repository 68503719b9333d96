#!/usr/bin/env bash
# ctest bench_tte_smoke / bench_mutants_smoke / bench_mutants_expect_smoke /
# bench_mutants_threads_smoke /
# bench_canary_stamp / bench_floor_smoke:
# a tiny configuration of each benchmark, checking the structure of what
# it writes (never a speed).  Usage: bench_smoke.sh tte|mutants|mutants-threads|mutants-expect|canary|floor BUILD_DIR OUT_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
what=$1 build=$2 out=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$out"
case "$what" in
tte)
	python3 "$ROOT/bench/tte.py" --variants noref --configs lf-struct-seeds \
	    --trials 1 --time 4 --jobs 1 --no-build --build "$build" --out "$out" > "$out.stdout"
	cat "$out.stdout"
	grep -q '^=== time to exposure' "$out.stdout" || fail "no summary table"
	grep -Eq '^noref +lf-struct-seeds +[01]/1 ' "$out.stdout" || fail "no noref row"
	grep -q '^| variant | config | found | reach | trigger | detect | bucket |$' "$out/report.md" || fail "report table"
	head -1 "$out/trials.csv" | grep -q '^variant,config,trial,seed,budget,status,reach,trigger,detect,bucket,crash,note,execs$' || fail "trials.csv header"
	grep -Eq ',[0-9]+$' "$out/trials.csv" || fail "trials.csv: no execution count"
	[ "$(wc -l < "$out/trials.csv")" -eq 2 ] || fail "trials.csv: one trial expected"
	grep -Eq '^noref,lf-struct-seeds,0,1,4,(found|censored),' "$out/trials.csv" || fail "trial row"
	[ -s "$out/survival-noref.png" ] || fail "no survival plot"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rows"][0]["n"] == 1' "$out/summary.json" || fail "summary.json"
	# --resume keeps the finished trial (its result untouched) and runs
	# only the missing one; another budget is refused.
	cp "$out/raw/noref/lf-struct-seeds/t0/result.json" "$out.kept"
	if python3 "$ROOT/bench/tte.py" --variants noref,rcvif --configs lf-struct-seeds \
	    --trials 1 --time 5 --jobs 1 --no-build --build "$build" --out "$out" --resume \
	    > /dev/null 2> "$out.stderr"; then fail "--resume with another --time ran"; fi
	grep -q 'used --time 4' "$out.stderr" || fail "no one-line reason for refusing --resume"
	python3 "$ROOT/bench/tte.py" --variants noref,rcvif --configs lf-struct-seeds \
	    --trials 1 --time 4 --jobs 1 --no-build --build "$build" --out "$out" --resume \
	    > "$out.stdout" 2> "$out.stderr"
	grep -q 'resuming: 1 trial(s) kept' "$out.stderr" || fail "resume did not keep the trial"
	cmp -s "$out.kept" "$out/raw/noref/lf-struct-seeds/t0/result.json" || fail "resume reran a finished trial"
	[ "$(wc -l < "$out/trials.csv")" -eq 3 ] || fail "trials.csv after resume: two trials expected"
	grep -Eq '^rcvif,lf-struct-seeds,0,1,4,(found|censored),' "$out/trials.csv" || fail "resumed trial row"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["resumed"]) == 1 and d["wall"] > 0' \
	    "$out/raw/run.json" || fail "run.json does not record the resume"
	;;
mutants)
	python3 "$ROOT/bench/mutants.py" --files net/if_lagg.c --max 2 --time 4 --jobs 1 \
	    --no-correct --no-build --build "$build" --out "$out" > "$out.stdout"
	cat "$out.stdout"
	grep -q '^=== mutation analysis' "$out.stdout" || fail "no summary"
	grep -Eq '^kill rate: [0-9]+/[0-9]+ = ' "$out.stdout" || fail "no kill rate line"
	[ "$(grep -Ec '^m00[12] +core/net/if_lagg\.c:[0-9]+ ' "$out.stdout")" -eq 2 ] || fail "two mutants expected"
	grep -q '^| id | where | operator | mutation | result | detail |$' "$out/report.md" || fail "report table"
	grep -Eq '\| (killed|survived|unreached|equivalent|discarded) \|' "$out/report.md" || fail "no result"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["drawn"] == 2 and len(d["mutants"]) == 2' "$out/summary.json" || fail "summary.json"
	;;
mutants-threads)
	# --target fuzz_threads: the mutant relinked into the threaded target,
	# fuzzed from that target's seeds with its options.
	python3 "$ROOT/bench/mutants.py" --files net/if_lagg.c --max 1 --time 4 --jobs 1 \
	    --target fuzz_threads --no-correct --no-build --build "$build" --out "$out" > "$out.stdout"
	cat "$out.stdout"
	grep -Eq '^kill rate: [0-9]+/1 = ' "$out.stdout" || fail "no kill rate line"
	grep -q '^Campaign per mutant: libFuzzer `fuzz_threads` ' "$out/report.md" || fail "report: not fuzz_threads"
	[ -x "$out/raw/m001/fuzz_threads" ] || fail "m001 not relinked into fuzz_threads"
	[ ! -e "$out/raw/m001/fuzz_scenario" ] || fail "m001 also relinked into fuzz_scenario"
	grep -q "/m001/fuzz_threads .*-dict=.*fuzz_threads\.dict.* $build/corpora/fuzz_threads\$" "$out/raw/m001/cmd" ||
	    fail "the campaign is not fuzz_threads from its seeds with its dictionary"
	;;
mutants-expect)
	# --expect both: each campaign twice, SNDTAG_NO_EXPECT=1 (before) and
	# unset (after), the correct core's too; both kill rates reported.
	SNDTAG_NO_EXPECT=1 python3 "$ROOT/bench/mutants.py" --files net/if_lagg.c --max 2 --time 4 \
	    --jobs 1 --expect both --no-build --build "$build" --out "$out" > "$out.stdout"
	cat "$out.stdout"
	grep -q '^=== mutation analysis (4 s per mutant, before/after) ===$' "$out.stdout" || fail "no summary"
	for md in before after; do
		grep -Eq "^kill rate $md: [0-9]+/[0-9]+ = .*; correct core: no crash\$" "$out.stdout" ||
		    fail "no $md kill rate, or the correct core was not silent"
		grep -Eq "^killed only $md: " "$out.stdout" || fail "no 'killed only $md' line"
		grep -q "^\*\*Kill rate $md: " "$out/report.md" || fail "report: no $md kill rate"
		grep -q "^Correct core, same campaign ($md): \*\*no crash\*\*" "$out/report.md" ||
		    fail "report: correct core ($md)"
	done
	[ "$(grep -Ec '^m00[12] +core/net/if_lagg\.c:[0-9]+ ' "$out.stdout")" -eq 2 ] || fail "two mutants expected"
	grep -q '^| id | where | operator | mutation | before | after | detail |$' "$out/report.md" || fail "report table"
	grep -q '^## Killed only after (with the behavioural oracles)$' "$out/report.md" || fail "after-only section"
	# The oracle set each campaign ran with (the environment said
	# SNDTAG_NO_EXPECT=1: "after" must have removed it).
	for d in "$out"/raw/correct "$out"/raw/m00[12]; do
		[ -f "$d/build.log" ] && [ ! -f "$d/fuzz_scenario" ] && continue   # not built
		grep -q '^SNDTAG_NO_EXPECT=1 ' "$d/before/cmd" || fail "$d: before ran with the behavioural oracles"
		if grep -q 'SNDTAG_NO_EXPECT' "$d/after/cmd"; then fail "$d: after ran without them"; fi
	done
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["expect"] == "both" and d["drawn"] == 2 and len(d["mutants"]) == 2
for md in ("before", "after"):
    assert d["modes"][md]["correct_core"]["kill"] is None, md
    assert isinstance(d[md + "_only"], list)
    for m in d["mutants"]:
        assert m[md]["result"] in ("killed", "survived", "unreached", "correct-core", "error") \
            or m["result"] in ("equivalent", "discarded"), m
' "$out/summary.json" || fail "summary.json"
	;;
canary)
	# The SNDTAG_CANARY_DIR stamps: both kinds on the variant, the first
	# stamp kept (O_EXCL), nothing from the correct core.
	mkdir -p "$out"
	(SNDTAG_CANARY_DIR=$out "$build/repro/sndtag-replay_noref" \
	    "$ROOT/corpora/variants/noref.txt" > /dev/null 2>&1 || true) 2>/dev/null
	for k in reached triggered; do
		grep -Eqx '[0-9]+\.[0-9]{9}' "$out/noref.$k" || fail "noref.$k: no stamp"
	done
	first=$(cat "$out/noref.reached")
	(SNDTAG_CANARY_DIR=$out "$build/repro/sndtag-replay_noref" \
	    "$ROOT/corpora/variants/noref.txt" > /dev/null 2>&1 || true) 2>/dev/null
	[ "$(cat "$out/noref.reached")" = "$first" ] || fail "a later run rewrote the stamp"
	mkdir -p "$out/correct"
	SNDTAG_CANARY_DIR=$out/correct "$build/repro/sndtag-replay" \
	    "$ROOT/corpora/variants/noref.txt" > /dev/null 2>&1 || fail "the correct core crashed"
	[ -z "$(ls -A "$out/correct")" ] || fail "the correct core wrote a stamp"
	;;
floor)
	# One short libFuzzer trial: a table row with a positive rate, and
	# the report and JSON written (AFL++ is left out: ctest need not have it).
	python3 "$ROOT/bench/floor.py" --engines libfuzzer --time 2 --trials 1 \
	    --out "$out" > "$out.stdout"
	cat "$out.stdout"
	grep -q '^=== engines.* floor: an empty target, 1 trial(s) x 2 s ===$' "$out.stdout" || fail "no summary"
	grep -Eq '^libfuzzer +[1-9][0-9]* +[1-9][0-9]*$' "$out.stdout" || fail "no libfuzzer row"
	grep -q '^| engine | median exec/s | trials |$' "$out/report.md" || fail "report table"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["engines"]["libfuzzer"]["median"] > 0' \
	    "$out/floor.json" || fail "floor.json"
	[ -z "$(find "$out" -mindepth 1 -maxdepth 1 -name 'floor-*')" ] || fail "the work folder was left behind"
	;;
*) fail "usage: bench_smoke.sh tte|mutants|mutants-expect|canary|floor BUILD_DIR OUT_DIR";;
esac
echo "ok"
