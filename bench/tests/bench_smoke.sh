#!/usr/bin/env bash
# ctest bench_tte_smoke / bench_mutants_smoke: a tiny configuration of
# each benchmark, checking the structure of what it writes (never a
# speed).  Usage: bench_smoke.sh tte|mutants BUILD_DIR OUT_DIR
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
	head -1 "$out/trials.csv" | grep -q '^variant,config,trial,seed,budget,status,reach,trigger,detect,bucket,crash,note$' || fail "trials.csv header"
	[ "$(wc -l < "$out/trials.csv")" -eq 2 ] || fail "trials.csv: one trial expected"
	grep -Eq '^noref,lf-struct-seeds,0,1,4,(found|censored),' "$out/trials.csv" || fail "trial row"
	[ -s "$out/survival-noref.png" ] || fail "no survival plot"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["rows"][0]["n"] == 1' "$out/summary.json" || fail "summary.json"
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
*) fail "usage: bench_smoke.sh tte|mutants BUILD_DIR OUT_DIR";;
esac
echo "ok"
