#!/usr/bin/env bash
# A fuzz campaign over one target: progress while it runs, then a summary
# (executions, exec/s, coverage, corpus size, crashes by bucket, and the
# command that replays each crash).  Usage: tools/sndtag fuzz --help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG="sndtag fuzz"
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
# An option's value: present and not another option.
need() {
	[ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] ||
	    die "$1 needs a value (see --help)"
}

# The one crash-bucket rule (repro/crashrun.c, tools/bucket.sh).
bucket_of() {
	local b
	for b in "${build:-}/repro/sndtag-bucket" "$ROOT"/build/*/repro/sndtag-bucket; do
		[ -x "$b" ] && { SNDTAG_BUCKET=$b "$ROOT/tools/bucket.sh"; return; }
	done
	"$ROOT/tools/bucket.sh"
}

# AFL++ writes fuzzer_stats about once a minute but plot_data every few
# seconds: the newest figures are plot_data's last line.  Prints
# "execs exec/s corpus coverage crashes hangs" of the AFL++ output
# directory $1 (the instance directory, e.g. out/afl/default).
afl_now() {
	local d=$1
	[ -f "$d/plot_data" ] || { [ -f "$d/fuzzer_stats" ] && afl_final "$d"; return; }
	awk -F', *' '
	NR == 1 { sub(/^# */, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
	/^[0-9]/ { last = $0 }
	END {
		if (last == "") exit 1;
		n = split(last, v, /, */);
		cov = v[col["map_size"]];
		printf("%s %s %s %s %s %s\n", v[col["total_execs"]],
		    v[col["execs_per_sec"]], v[col["corpus_count"]], cov,
		    v[col["saved_crashes"]], v[col["saved_hangs"]]);
	}' "$d/plot_data"
}

# The same from fuzzer_stats, which afl-fuzz rewrites when it exits.
afl_final() {
	local st=$1/fuzzer_stats
	st_() { sed -n "s/^$1 *: *//p" "$st" | head -1; }
	printf '%s %s %s %s %s %s\n' "$(st_ execs_done)" "$(st_ execs_per_sec)" \
	    "$(st_ corpus_count)" "$(st_ bitmap_cvg)" "$(st_ saved_crashes)" \
	    "$(st_ saved_hangs)"
}

afl_progress_line() {
	local d=$1 t=$2 f
	f=$(afl_now "$d" 2>/dev/null) || return 0
	[ -n "$f" ] || return 0
	set -- $f
	printf '  [%3ds] execs %s  exec/s %s  corpus %s  coverage %s  crashes %s  hangs %s\n' \
	    "$t" "$1" "$2" "$3" "$4" "$5" "$6"
}

# --afl-report DIR: the progress line and the figures of an AFL++
# instance directory, as a campaign shows them (for tests and for a
# look at a running campaign from another shell).
afl_report() {
	local d=$1
	[ -d "$d" ] || die "$d: not an AFL++ output directory (expected .../default)"
	afl_progress_line "$d" 0
	set -- $(afl_final "$d")
	printf 'final: execs %s crashes %s hangs %s\n' "$1" "$5" "$6"
	printf 'hangs: %s file(s)\n' "$(ls "$d/hangs" 2>/dev/null | grep -c '^id:' || true)"
}

preset=asan target=fuzz_scenario seconds=60 variant="" out="" extra=()
engine=libfuzzer mutator=1 cmplog=1
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help)
		cat <<'H'
usage: tools/sndtag fuzz [--preset asan|ubsan] [--target NAME] [--time SECONDS]
                         [--variant NAME] [--out DIR] [-- libFuzzer flags...]
       tools/sndtag fuzz --engine afl [--target NAME] [--time SECONDS]
                         [--no-mutator] [--no-cmplog] [--out DIR]

Runs a libFuzzer campaign of TARGET (default fuzz_scenario, the structured
target) from its seed corpus for SECONDS (default 60) on the correct core,
or on a historic-bug variant with --variant (see: tools/sndtag variants).
Progress is printed every few seconds; at the end a summary lists
executions, exec/s, coverage, corpus size and each crash bucket with the
command that replays it, and the time the campaign actually ran (it
stops at the first crash, or when interrupted: SIGINT/SIGTERM end it
with the same summary).  The working corpus and crashes are kept in
out/<target>-<preset>[-<variant>]/ (seeds are never modified).  A
restart first merges the previous working corpus (libFuzzer -merge=1)
into a fresh directory and swaps it in, so restarts do not grow the
corpus without bound; an interrupted merge leaves the old corpus whole.
SECONDS is at least 1; a crash found by fuzz_raw is replayed with
sndtag-replay --raw, one of fuzz_text by the fuzzer binary itself.

With --engine afl it runs afl-fuzz on the afl preset's build (tools/sndtag
build afl) instead: persistent mode, the structured custom mutator
(fuzz_scenario only; --no-mutator for AFL++'s own) and cmplog (-c; off
with --no-cmplog), output in out/<target>-afl/.  Progress comes from
AFL++'s plot_data (refreshed every few seconds); the summary lists crashes
and hangs.
H
		exit 0;;
	--preset) need "$@"; preset=$2; shift 2;;
	--target) need "$@"; target=$2; shift 2;;
	--time) need "$@"; seconds=$2; shift 2;;
	--variant) need "$@"; variant=$2; shift 2;;
	--out) need "$@"; out=$2; shift 2;;
	--engine) need "$@"; engine=$2; shift 2;;
	--afl-report) need "$@"; afl_report "$2"; exit $?;;
	--no-mutator) mutator=0; shift;;
	--no-cmplog) cmplog=0; shift;;
	--) shift; extra=("$@"); break;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
case "$seconds" in ''|*[!0-9]*) die "--time takes whole seconds, got '$seconds'";; esac
# -max_total_time=0 would mean "no limit": not what "--time 0" says.
[ "$seconds" -ge 1 ] || die "--time must be at least 1 second, got '$seconds'"
case "$engine" in libfuzzer|afl) ;; *) die "--engine must be libfuzzer or afl, got '$engine'";; esac
[ "$engine" = libfuzzer ] || { preset=afl; [ -z "$variant" ] || die "--variant is for libFuzzer campaigns"; }
case "$preset" in asan|ubsan|afl) ;; *) die "--preset must be asan or ubsan for libFuzzer campaigns (AFL++: --engine afl)";; esac

# Buckets every crash file in $1 by replaying it with "$replay"
# "${replay_args[@]}"; prints one line each.  $2: "crashes" or "hangs"
# (a hang is replayed under a time limit).
bucket_crashes() {
	local dir=$1 what=${2:-crashes} c f sig out
	declare -A count first
	mapfile -t crashes < <(ls -1 "$dir" 2>/dev/null | grep -Ev '^(README.txt)$' | grep -E '^(crash|leak|timeout|oom|slow-unit|id:)' || true)
	if [ "${#crashes[@]}" -eq 0 ]; then
		printf '  %-12s none\n' "$what:"
		return 0
	fi
	printf '  %-12s %s file(s)\n' "$what:" "${#crashes[@]}"
	for c in "${crashes[@]}"; do
		f="$dir/$c"
		if [ "$what" = hangs ]; then
			# Only our own replay, by the time limit it runs under.
			out=$(timeout -s KILL 10 "$replay" "${replay_args[@]}" "$f" 2>&1) &&
			    sig="(no hang on replay)" || {
				[ $? -eq 137 ] && sig="hang: replay still running after 10 s" ||
				    sig=$(printf '%s\n' "$out" | bucket_of || true)
			}
		else
			sig=$("$replay" "${replay_args[@]}" "$f" 2>&1 | bucket_of || true)
		fi
		[ -n "$sig" ] || sig="(does not reproduce)"
		count[$sig]=$(( ${count[$sig]:-0} + 1 ))
		[ -n "${first[$sig]:-}" ] || first[$sig]=$f
	done
	for sig in "${!count[@]}"; do
		printf '  - %s  [%s file(s)]\n      replay: %s%s %s\n' "$sig" \
		    "${count[$sig]}" "${replay#$ROOT/}" \
		    "${replay_args[*]:+ ${replay_args[*]}}" "${first[$sig]#$ROOT/}"
	done
	return 1
}

# How each target's crash files replay: sndtag-replay runs a scenario
# (fuzz_scenario's binary or text, fuzz_raw's bytes with --raw); a
# fuzz_text crash is in the text parser, which the fuzzer binary itself
# replays.  Sets replay and replay_args.
replay_for() {
	local sndtag_replay=$1 fuzzer=$2
	replay=$sndtag_replay replay_args=()
	case "$target" in
	fuzz_raw) replay_args=(--raw);;
	fuzz_scenario) ;;
	*) replay=$fuzzer;;
	esac
}

# Forward ^C and SIGTERM to the fuzzer we started (a background job of a
# script ignores SIGINT), then summarise what it did.
stop_sig=""
forward_stop() {
	stop_sig=$1
	[ -z "${fuzz_pid:-}" ] || kill -s "$1" "$fuzz_pid" 2>/dev/null || true
}
trap 'forward_stop INT' INT
trap 'forward_stop TERM' TERM

# Wait for our fuzzer until it exits, whatever signals arrive meanwhile;
# sets fuzz_rc.
wait_fuzzer() {
	fuzz_rc=0
	while :; do
		wait "$fuzz_pid" && { fuzz_rc=0; break; } || fuzz_rc=$?
		kill -0 "$fuzz_pid" 2>/dev/null || break
	done
}

hms() { printf '%ss' "$1"; }

if [ "$engine" = afl ]; then
	command -v afl-fuzz >/dev/null 2>&1 || die "afl-fuzz not found; run 'sudo tools/sndtag deps'"
	build="$ROOT/build/afl"
	bin="$build/fuzz/$target"
	[ -x "$bin" ] || die "no $bin; build it with 'tools/sndtag build afl'"
	seeds="$build/corpora/$target"
	[ -d "$seeds" ] || die "no seed corpus $seeds; rebuild with 'tools/sndtag build afl'"
	r="$ROOT/build/asan/repro/sndtag-replay"
	[ -x "$r" ] || r="$build/repro/sndtag-replay"
	replay_for "$r" "$bin"
	[ -n "$out" ] || out="$ROOT/out/${target}-afl"
	mkdir -p "$out"
	args=(-V "$seconds" -o "$out/afl")
	# Resume an earlier campaign's queue instead of starting over (AFL++
	# keeps only inputs with new coverage: a resume does not duplicate).
	if [ -d "$out/afl/default/queue" ]; then args+=(-i -); else args+=(-i "$seeds"); fi
	[ "$cmplog" -eq 0 ] || [ ! -x "${bin}_cmplog" ] || args+=(-c "${bin}_cmplog")
	[ -f "$ROOT/fuzz/$target.dict" ] && args+=(-x "$ROOT/fuzz/$target.dict")
	envs=(AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1)
	if [ "$mutator" -eq 1 ] && [ -f "$build/fuzz/${target}_mutator.so" ]; then
		envs+=(AFL_CUSTOM_MUTATOR_LIBRARY="$build/fuzz/${target}_mutator.so")
	fi
	printf '%s: afl-fuzz %s for %ss (%s), output %s\n' "$PROG" "$target" "$seconds" \
	    "$( [ "$mutator" -eq 1 ] && echo "custom mutator" || echo "AFL++ mutators")$( [ "$cmplog" -eq 1 ] && echo ", cmplog")" "${out#$ROOT/}" >&2
	start=$(date +%s)
	env "${envs[@]}" afl-fuzz "${args[@]}" -- "$bin" > "$out/afl.log" 2>&1 &
	fuzz_pid=$!
	i=0
	while kill -0 "$fuzz_pid" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		[ $((i % 5)) -eq 0 ] || continue
		afl_progress_line "$out/afl/default" "$(( $(date +%s) - start ))" >&2
	done
	wait_fuzzer
	elapsed=$(( $(date +%s) - start ))
	d="$out/afl/default"
	[ -f "$d/fuzzer_stats" ] || { tail -5 "$out/afl.log"; die "afl-fuzz failed (see ${out#$ROOT/}/afl.log)"; }
	[ "$fuzz_rc" -eq 0 ] || [ -n "$stop_sig" ] || { tail -5 "$out/afl.log"; die "afl-fuzz failed (see ${out#$ROOT/}/afl.log)"; }
	set -- $(afl_final "$d")
	echo
	echo "=== campaign summary: $target (afl) ==="
	printf '  time:        %s (of %ss requested%s)\n' "$(hms "$elapsed")" "$seconds" \
	    "${stop_sig:+; interrupted by SIG$stop_sig}"
	printf '  executions:  %s\n' "${1:-?}"
	printf '  exec/s:      %s\n' "${2:-?}"
	printf '  coverage:    %s of the map\n' "${4:-?}"
	printf '  corpus:      %s inputs in %s\n' "${3:-?}" "${out#$ROOT/}/afl/default/queue"
	rc=0
	bucket_crashes "$d/crashes" crashes || rc=1
	bucket_crashes "$d/hangs" hangs || rc=1
	exit $rc
fi

build="$ROOT/build/$preset"
name=$target
[ -z "$variant" ] || name="${target}_${variant}"
bin="$build/fuzz/$name"
[ -x "$bin" ] || die "no fuzzer $bin; build it with 'tools/sndtag build $preset'${variant:+ (variant '$variant': see tools/sndtag variants)}"
seeds="$build/corpora/$target"
[ -d "$seeds" ] || die "no seed corpus $seeds; rebuild with 'tools/sndtag build $preset'"
r="$build/repro/sndtag-replay"
[ -z "$variant" ] || r="$build/repro/sndtag-replay_${variant}"
replay_for "$r" "$bin"

[ -n "$out" ] || out="$ROOT/out/${target}-${preset}${variant:+-$variant}"
# corpus/ is made by merge_corpus, after it has looked for an
# interrupted merge's corpus.old.
mkdir -p "$out/crashes"
log="$out/fuzz.log"

opts=()
[ -f "$ROOT/fuzz/$target.dict" ] && opts+=("-dict=$ROOT/fuzz/$target.dict")
if [ -f "$ROOT/fuzz/$target.options" ]; then
	while IFS='=' read -r k v; do
		k=$(echo "$k" | tr -d ' '); v=$(echo "$v" | tr -d ' ')
		case "$k" in ''|\[*|\#*|dict) ;; *) opts+=("-$k=$v");; esac
	done < "$ROOT/fuzz/$target.options"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# A restart merges the previous working corpus into a fresh directory
# (libFuzzer keeps only inputs that add coverage) and swaps it in, so
# the corpus does not grow by every restart's finds.  At every moment
# corpus/ or corpus.old/ is a whole corpus; corpus.merge.* is never
# trusted: a campaign killed anywhere loses nothing.
merge_corpus() {
	local c="$out/corpus" old="$out/corpus.old" tmp n m
	# Killed between the two renames: a merged corpus is never empty,
	# so an empty or missing corpus/ means corpus.old/ is the real one.
	if [ -d "$old" ]; then
		if [ -n "$(ls -A "$c" 2>/dev/null)" ]; then
			rm -rf "$old"
		else
			rm -rf "$c"
			mv "$old" "$c"
		fi
	fi
	rm -rf "$out"/corpus.merge.*
	mkdir -p "$c"
	n=$(find "$c" -maxdepth 1 -type f | wc -l)
	[ "$n" -gt 0 ] || return 0
	tmp="$out/corpus.merge.$$"
	mkdir "$tmp"
	note "merging the previous working corpus ($n files) into a fresh one"
	"$bin" -merge=1 -merge_control_file="$tmp.ctl" "${opts[@]}" \
	    "$tmp" "$c" > "$out/merge.log" 2>&1 &
	fuzz_pid=$!
	wait_fuzzer
	fuzz_pid=""
	rm -f "$tmp.ctl"
	m=$(find "$tmp" -maxdepth 1 -type f | wc -l)
	if [ "$fuzz_rc" -ne 0 ] || [ -n "$stop_sig" ] || [ "$m" -eq 0 ]; then
		rm -rf "$tmp"
		[ -z "$stop_sig" ] || die "interrupted while merging; the corpus is as it was"
		note "the merge failed (see ${out#$ROOT/}/merge.log); keeping the corpus as it was"
		return 0
	fi
	sync -f "$tmp" 2>/dev/null || true
	mv "$c" "$old"
	mv "$tmp" "$c"
	rm -rf "$old"
	note "corpus merged: $n files -> $m"
}
merge_corpus

printf '%s: %s for %ss, seeds %s (%s files), corpus %s\n' "$PROG" "$name" \
    "$seconds" "${seeds#$ROOT/}" "$(ls "$seeds" | wc -l)" "${out#$ROOT/}" >&2

start=$(date +%s)
"$bin" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "${opts[@]}" "${extra[@]}" \
    "$out/corpus" "$seeds" > "$log" 2>&1 &
fuzz_pid=$!
# Progress: the newest status line every five seconds, report lines once.
shown=0 i=0
while kill -0 "$fuzz_pid" 2>/dev/null; do
	sleep 1
	i=$((i + 1))
	[ $((i % 5)) -eq 0 ] || continue
	line=$(grep -E '^#[0-9]+[[:space:]]+(pulse|REDUCE|NEW|INITED|DONE)' "$log" | tail -1 || true)
	[ -z "$line" ] || printf '  [%3ds] %s\n' "$(( $(date +%s) - start ))" "$line" >&2
done
wait_fuzzer
elapsed=$(( $(date +%s) - start ))
grep -E '^==[0-9]+== ERROR|^panic: |SUMMARY:|libFuzzer: run interrupted' "$log" | head -4 |
    sed 's/^/  /' >&2 || true

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
# libFuzzer prints its final stats at the time budget, at a crash and on
# SIGINT/SIGTERM; after a SIGKILL the last status line is what there is.
execs=$(stat number_of_executed_units)
last=$( (grep -E '^#[0-9]+[[:space:]]' "$log" || true) | tail -1)
[ -n "$execs" ] || execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
eps=$(stat average_exec_per_sec)
[ -n "$eps" ] || eps=$(printf '%s\n' "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
# A crash among the seeds (usual on a variant) ends the run before any
# "cov:" line: no match is not an error.
cov=$( (grep -Eo 'cov: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
ft=$( (grep -Eo 'ft: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
corpus_n=$(ls "$out/corpus" | wc -l)
if [ -n "$stop_sig" ]; then
	why="interrupted by SIG$stop_sig"
elif grep -qE '^==[0-9]+== ERROR: libFuzzer|^==[0-9]+==ERROR: |^panic: |^SUMMARY: ' "$log"; then
	why="stopped at the first crash"
elif [ "$fuzz_rc" -ne 0 ]; then
	why="the fuzzer exited with status $fuzz_rc"
else
	why="time budget reached"
fi

echo
echo "=== campaign summary: $name ($preset) ==="
printf '  time:        %s (of %ss requested; %s)\n' "$(hms "$elapsed")" "$seconds" "$why"
printf '  executions:  %s\n' "${execs:-?}"
printf '  exec/s:      %s\n' "${eps:-?}"
printf '  coverage:    %s edges, %s features\n' "${cov:-?}" "${ft:-?}"
printf '  corpus:      %s inputs in %s\n' "$corpus_n" "${out#$ROOT/}/corpus"

if bucket_crashes "$out/crashes"; then
	[ "$fuzz_rc" -eq 0 ] || [ -n "$stop_sig" ] || { echo "  fuzzer exited with status $fuzz_rc (see $log)"; exit 1; }
	exit 0
fi
exit 1
