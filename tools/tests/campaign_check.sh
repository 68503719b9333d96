#!/usr/bin/env bash
# ctest cases for tools/campaign.sh (tools/sndtag fuzz).  Each case runs
# the campaign with a bounded, seeded libFuzzer run of the asan preset.
#   campaign_check.sh args   SNDTAG WORK   --time without a value or 0
#   campaign_check.sh raw    SNDTAG WORK   fuzz_raw crashes replay (--raw)
#                                          and the summary says what ran
#   campaign_check.sh merge  SNDTAG WORK   a restart merges the corpus
#   campaign_check.sh afl    SNDTAG WORK   AFL++ figures from plot_data,
#                                          hangs counted
#   campaign_check.sh keepgoing SNDTAG WORK  --jobs 2 on noref for 8 s:
#                                          goes on after crashes, buckets
#                                          them, merges the persistent
#                                          corpus, writes the report
set -u
case_=${1:?usage: campaign_check.sh CASE SNDTAG WORK}
sndtag=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)

case "$case_" in
args)
	err=$("$sndtag" fuzz --time 2>&1); rc=$?
	echo "$err"
	[ "$rc" -eq 2 ] && [ "$err" = "sndtag fuzz: --time needs a value (see --help)" ] ||
	    fail "--time without a value: exit $rc, '$err'"
	err=$("$sndtag" fuzz --time --variant noref 2>&1); rc=$?
	[ "$rc" -eq 2 ] && [ "$err" = "sndtag fuzz: --time needs a value (see --help)" ] ||
	    fail "--time followed by an option: exit $rc, '$err'"
	# Bounded in case it starts anyway: -max_total_time=0 is no limit.
	err=$(timeout -s KILL 60 "$sndtag" fuzz --time 0 --out "$work/t0" 2>&1); rc=$?
	echo "$err"
	[ "$rc" -eq 2 ] && [ "$err" = "sndtag fuzz: --time must be at least 1 second, got '0'" ] ||
	    fail "--time 0: exit $rc, '$err'"
	echo "ok: --time errors"
	;;
raw)
	out=$("$sndtag" fuzz --target fuzz_raw --variant noref --time 60 --stop-at-crash \
	    --no-corpus --out "$work/c" -- -seed=1 -runs=20000 2>&1)
	echo "$out"
	echo "$out" | grep -Eq '^  crashes: +[1-9][0-9]* report' || fail "no crash found"
	echo "$out" | grep -q 'does not reproduce' && fail "a raw crash did not reproduce"
	echo "$out" | grep -Eq '^  - panic: ' || fail "no panic bucket"
	echo "$out" | grep -Eq 'replay: .*sndtag-replay_noref --raw ' ||
	    fail "the replay command lacks --raw"
	echo "$out" | grep -Eq '^  time: +[0-9]+s \(of 60s requested; stopped at the first crash\)' ||
	    fail "the summary does not say the campaign stopped at the crash"
	echo "$out" | grep -Eq '^  libFuzzer: +[0-9]+ executions' || fail "executions unknown"
	echo "ok: fuzz_raw crashes replay with --raw"
	;;
merge)
	# A working corpus of 40 copies of one seed (as restarts pile up
	# files) and a leftover of an interrupted merge.
	seed="$root/build/asan/corpora/fuzz_scenario/epair_roundtrip.bin"
	[ -f "$seed" ] || fail "no $seed (build the asan preset)"
	mkdir -p "$work/c/corpus" "$work/c/corpus.merge.999"
	for i in $(seq 1 40); do cp "$seed" "$work/c/corpus/copy$i"; done
	touch "$work/c/corpus.merge.999/half-written"
	out=$("$sndtag" fuzz --time 60 --stop-at-crash --no-corpus --out "$work/c" -- -seed=1 -runs=0 2>&1)
	echo "$out"
	n=$(ls "$work/c/corpus" | wc -l)
	echo "corpus after the restart: $n files"
	[ "$n" -lt 40 ] || fail "the restart kept every file ($n)"
	[ ! -e "$work/c/corpus.merge.999" ] || fail "a stale merge directory was kept"
	[ ! -e "$work/c/corpus.old" ] || fail "corpus.old left behind"
	echo "$out" | grep -q 'corpus merged: 40 files -> ' || fail "no merge line"
	# Killed between the two renames: only corpus.old is whole.
	mv "$work/c/corpus" "$work/c/corpus.old"
	"$sndtag" fuzz --time 60 --stop-at-crash --no-corpus --out "$work/c" -- -seed=1 -runs=0 > "$work/r2.log" 2>&1
	cat "$work/r2.log"
	[ -d "$work/c/corpus" ] && [ ! -e "$work/c/corpus.old" ] ||
	    fail "corpus.old was not restored"
	[ "$(ls "$work/c/corpus" | wc -l)" -gt 0 ] || fail "the restored corpus is empty"
	echo "ok: restarts merge the corpus"
	;;
afl)
	# A fake AFL++ instance directory: fuzzer_stats from a minute ago,
	# plot_data newer, two hangs.
	d="$work/afl/main"
	mkdir -p "$d/hangs" "$d/crashes" "$d/queue"
	printf 'execs_done        : 1000\nexecs_per_sec     : 10.00\ncorpus_count      : 5\nbitmap_cvg        : 1.00%%\nsaved_crashes     : 0\nsaved_hangs       : 2\n' > "$d/fuzzer_stats"
	printf '# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found\n' > "$d/plot_data"
	printf '5, 0, 0, 5, 5, 1, 1.00%%, 0, 0, 1, 10.00, 1000, 40\n' >> "$d/plot_data"
	printf '65, 0, 3, 9, 8, 2, 2.50%%, 0, 2, 2, 77.00, 987654, 99\n' >> "$d/plot_data"
	touch "$d/hangs/id:000000,src:000001" "$d/hangs/id:000001,src:000002"
	out=$(bash "$(dirname "$sndtag")/campaign.sh" --afl-report "$d" 2>&1)
	echo "$out"
	echo "$out" | grep -q 'execs 987654  exec/s 77.00  corpus 9  coverage 2.50%  crashes 0  hangs 2' ||
	    fail "the progress line does not show plot_data's newest figures"
	echo "$out" | grep -q '^hangs: 2 file(s)$' || fail "hangs not counted"
	grep -q '"$out"/afl/\*/hangs' "$(dirname "$sndtag")/campaign.sh" ||
	    fail "the campaign does not bucket AFL++ hangs"
	echo "ok: AFL++ figures"
	;;
keepgoing)
	# Two fork-mode jobs on a variant that crashes within seconds: the
	# campaign must run its whole budget, bucket every report, keep
	# each distinct input once and merge into the persistent corpus.
	out=$("$sndtag" fuzz --variant noref --jobs 2 --time 8 --merge-every 0 \
	    --corpus "$work/pc" --out "$work/c" -- -seed=1 2>&1)
	echo "$out"
	echo "$out" | grep -Eq '^  time: +([89]|[1-9][0-9])s \(of 8s requested; time budget reached\)' ||
	    fail "the campaign did not run its budget"
	m=$(ls "$work"/c/crashes/*/meta 2>/dev/null | head -1)
	[ -n "$m" ] || fail "no crash bucket"
	cat "$m"
	c=$(sed -n 's/^count: //p' "$m") dd=$(sed -n 's/^distinct: //p' "$m")
	[ "${c:-0}" -ge 2 ] || fail "only ${c:-0} report(s): it stopped at the first crash"
	[ "$(ls "$(dirname "$m")/inputs" | wc -l)" -eq "$(( dd > 50 ? 50 : dd ))" ] || fail "inputs/ does not match distinct"
	[ -s "$(dirname "$m")/smallest" ] || fail "no smallest input"
	for f in "$(dirname "$m")"/inputs/*; do
		[ "$(sha1sum "$f" | cut -d' ' -f1)" = "${f##*/}" ] || fail "$f is not named by its hash"
	done
	grep -q '^replay: .*sndtag-replay_noref .*/smallest$' "$m" || fail "no replay command"
	[ -s "$work/c/report/report.md" ] || fail "no report"
	for png in coverage corpus execs buckets; do
		[ -s "$work/c/report/$png.png" ] || fail "no $png.png"
	done
	echo "$out" | grep -Eq '^  persistent: +0 -> [1-9][0-9]* entries' || fail "the persistent corpus did not grow"
	"$sndtag" corpus check --corpus "$work/pc" || fail "a persistent entry is not whole"
	echo "ok: the campaign keeps going"
	;;
restart)
	# One worker is one plain libFuzzer process: on a variant that
	# crashes within seconds the campaign restarts it on the grown
	# corpus until the budget ends, and files every crash.
	out=$("$sndtag" fuzz --variant noref --time 20 --no-corpus --out "$work/c" -- -seed=1 2>&1)
	echo "$out"
	echo "$out" | grep -Eq '^  time: +(2[0-9]|[3-9][0-9])s \(of 20s requested; time budget reached\)' ||
	    fail "the campaign did not run its budget"
	echo "$out" | grep -Eq 'restarted [1-9][0-9]* time\(s\) after a crash' || fail "no restart reported"
	grep -q -- '-fork=' "$work/c/fuzz-all.log" && fail "one worker ran fork mode"
	m=$(ls "$work"/c/crashes/*/meta 2>/dev/null | head -1)
	[ -n "$m" ] || fail "no crash bucket"
	c=$(sed -n 's/^count: //p' "$m")
	[ "${c:-0}" -ge 2 ] || fail "only ${c:-0} report(s): it stopped at the first crash"
	ls crash-* 2>/dev/null && fail "crash files written in the working directory"
	n=$(echo "$out" | sed -n 's/^  libFuzzer: *\([0-9]*\) executions.*/\1/p')
	[ "${n:-0}" -gt 0 ] || fail "no executions counted"
	echo "ok: one worker restarts after crashes"
	;;
*)
	fail "unknown case '$case_'";;
esac
