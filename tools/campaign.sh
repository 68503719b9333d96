#!/usr/bin/env bash
# A fuzz campaign over one target: N workers of libFuzzer (fork mode),
# AFL++ (main + secondaries) or both side by side, crashes bucketed as
# they appear, the persistent corpus merged periodically and at the end,
# progress lines, a summary and a report with plots.
# Usage: tools/sndtag fuzz --help
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
PC_ROOT=$ROOT
# shellcheck source=tools/corpus.sh
. "$ROOT/tools/corpus.sh"

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
# "execs exec/s corpus coverage crashes hangs edges" of the AFL++
# instance directory $1 (e.g. out/afl/main).
afl_now() {
	local d=$1
	[ -f "$d/plot_data" ] || { [ -f "$d/fuzzer_stats" ] && afl_final "$d"; return; }
	awk -F', *' '
	NR == 1 { sub(/^# */, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
	/^[0-9]/ { last = $0 }
	END {
		if (last == "") exit 1;
		n = split(last, v, /, */);
		e = ("edges_found" in col) ? v[col["edges_found"]] : "?";
		printf("%s %s %s %s %s %s %s\n", v[col["total_execs"]],
		    v[col["execs_per_sec"]], v[col["corpus_count"]], v[col["map_size"]],
		    v[col["saved_crashes"]], v[col["saved_hangs"]], e);
	}' "$d/plot_data"
}

# The same from fuzzer_stats, which afl-fuzz rewrites when it exits.
afl_final() {
	local st=$1/fuzzer_stats
	st_() { sed -n "s/^$1 *: *//p" "$st" | head -1; }
	printf '%s %s %s %s %s %s %s\n' "$(st_ execs_done)" "$(st_ execs_per_sec)" \
	    "$(st_ corpus_count)" "$(st_ bitmap_cvg)" "$(st_ saved_crashes)" \
	    "$(st_ saved_hangs)" "$(st_ edges_found)"
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
	[ -d "$d" ] || die "$d: not an AFL++ output directory (expected .../main)"
	afl_progress_line "$d" 0
	set -- $(afl_final "$d")
	printf 'final: execs %s crashes %s hangs %s\n' "$1" "$5" "$6"
	printf 'hangs: %s file(s)\n' "$(ls "$d/hangs" 2>/dev/null | grep -c '^id:' || true)"
}

preset=asan target=fuzz_scenario seconds=60 variant="" out="" extra=()
engine=libfuzzer mutator=1 cmplog=1 jobs=1 pcorpus="" use_pc=1
merge_every=300 sync_every=120 stop_at_crash=0 report_only=0
usage() {
	cat <<'H'
usage: tools/sndtag fuzz [--engine libfuzzer|afl|both] [--jobs N] [--time SECONDS]
                         [--target NAME] [--variant NAME] [--preset asan|ubsan|tsan]
                         [--out DIR] [--corpus DIR | --no-corpus]
                         [--merge-every SECONDS] [--sync SECONDS]
                         [--no-mutator] [--no-cmplog] [--stop-at-crash]
                         [-- libFuzzer flags...]
       tools/sndtag fuzz --report-only --out DIR

Fuzzes TARGET (default fuzz_scenario, the structured target) for SECONDS
(default 60) with N workers (default 1), on the correct core or on a
historic-bug variant (--variant; see: tools/sndtag variants).  It keeps
going after crashes until the time budget ends (or SIGINT/SIGTERM):

  libfuzzer  one worker: one plain libFuzzer process, restarted on the
             grown corpus after a crash (the seeds join the corpus by a
             crash-resistant merge first); N > 1: libFuzzer's fork
             mode, -fork=N -ignore_crashes=1 (and timeouts, OOMs).
             Preset asan or ubsan; --target
             fuzz_threads (schedules and ops together, docs/SWEEPS.md)
             also under --preset tsan
  afl        N afl-fuzz instances (-M main, -S s1...) on a shared sync
             directory: persistent mode, the structured custom mutator
             (--no-mutator for AFL++'s own), cmplog on the main instance
             (--no-cmplog); the afl preset's build
  both       one AFL++ main instance and libFuzzer with N-1 workers
             side by side: AFL++ imports libFuzzer's corpus (-F), and
             libFuzzer restarts every --sync SECONDS (default 120) with
             AFL++'s queue among its inputs

Crashes are replayed and bucketed as they appear (the bucket rule of
docs/REPRO.md): out/.../crashes/<bucket>/ holds meta (bucket, count,
distinct inputs, first and last seen, replay command), smallest (the
smallest input) and inputs/<sha1> (each distinct crash input once).
Progress every five seconds shows each engine; the summary gives the
time the campaign actually ran and why it ended.

The persistent corpus (--corpus, default out/corpus/<target>[-<variant>])
is among the campaign's inputs; every --merge-every SECONDS (default 300;
0: only at the end) and at the end the campaign's new inputs that add
coverage are merged into it (libFuzzer -merge=1 with a control file):
each entry is added by one rename, a SIGKILL leaves it as it was or
merged, and a restart finishes an interrupted merge.  --no-corpus skips
it.  "tools/sndtag corpus prune" minimizes it.

At the end out/.../report/ gets report.md and PNG plots (gnuplot):
coverage, corpus size and exec/s over time per engine, crash buckets
over time; --report-only rewrites them from out/.../stats.tsv.

--stop-at-crash runs one plain libFuzzer process that stops at the first
crash (the old behaviour; -- flags such as -runs=N apply to it).  Output
directory: out/<target>-<preset>[-<variant>]/, out/<target>-afl/ or
out/<target>-both/ (--out).  A restart merges the previous working
corpus (-merge=1) into a fresh one first; seeds are never modified.
H
}
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0;;
	--preset) need "$@"; preset=$2; shift 2;;
	--target) need "$@"; target=$2; shift 2;;
	--time) need "$@"; seconds=$2; shift 2;;
	--variant) need "$@"; variant=$2; shift 2;;
	--out) need "$@"; out=$2; shift 2;;
	--engine) need "$@"; engine=$2; shift 2;;
	--jobs) need "$@"; jobs=$2; shift 2;;
	--corpus) need "$@"; pcorpus=$2; shift 2;;
	--no-corpus) use_pc=0; shift;;
	--merge-every) need "$@"; merge_every=$2; shift 2;;
	--sync) need "$@"; sync_every=$2; shift 2;;
	--afl-report) need "$@"; afl_report "$2"; exit $?;;
	--no-mutator) mutator=0; shift;;
	--no-cmplog) cmplog=0; shift;;
	--stop-at-crash) stop_at_crash=1; shift;;
	--report-only) report_only=1; shift;;
	--) shift; extra=("$@"); break;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
num() { case "$2" in ''|*[!0-9]*) die "$1 takes a whole number, got '$2'";; esac; }
num --time "$seconds"; num --jobs "$jobs"; num --merge-every "$merge_every"; num --sync "$sync_every"
# -max_total_time=0 would mean "no limit": not what "--time 0" says.
[ "$seconds" -ge 1 ] || die "--time must be at least 1 second, got '$seconds'"
[ "$jobs" -ge 1 ] || die "--jobs must be at least 1, got '$jobs'"
[ "$sync_every" -ge 10 ] || die "--sync must be at least 10 seconds, got '$sync_every'"
ncpu=$(nproc)
[ "$jobs" -le "$ncpu" ] || note "--jobs $jobs is more than the $ncpu cores of this machine: the workers will share them"
case "$engine" in libfuzzer|afl|both) ;; *) die "--engine must be libfuzzer, afl or both, got '$engine'";; esac
if [ "$engine" != libfuzzer ]; then
	[ -z "$variant" ] || die "--variant is for libFuzzer campaigns (the afl preset builds no variants)"
	[ "$stop_at_crash" -eq 0 ] || die "--stop-at-crash is for libFuzzer campaigns"
fi
[ "$engine" != both ] || [ "$jobs" -ge 2 ] || die "--engine both needs --jobs 2 or more (one AFL++ instance, the rest libFuzzer)"
case "$preset" in
asan|ubsan) ;;
tsan) [ "$target" = fuzz_threads ] || die "--preset tsan is for --target fuzz_threads (the threaded target); the others fuzz under asan or ubsan";;
*) die "--preset must be asan or ubsan (or tsan for fuzz_threads; AFL++ uses the afl preset: --engine afl)";;
esac

name=$target
[ -z "$variant" ] || name="${target}_${variant}"
case "$engine" in
libfuzzer) [ -n "$out" ] || out="$ROOT/out/${target}-${preset}${variant:+-$variant}";;
afl) [ -n "$out" ] || out="$ROOT/out/${target}-afl";;
both) [ -n "$out" ] || out="$ROOT/out/${target}-both";;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)

hms() { printf '%ss' "$1"; }
# Atomic file writes: stdin to a temporary beside FILE, then a rename.
write_atomic() { local f=$1 t; t="$(dirname "$f")/.${1##*/}.tmp.$$"; cat > "$t"; mv -f "$t" "$f"; }
copy_atomic() { local t; t="$(dirname "$2")/.${2##*/}.tmp.$$"; cp "$1" "$t"; mv -f "$t" "$2"; }

# ---------------------------------------------------------------- report
# stats.tsv: t engine execs exec/s coverage corpus (one line per engine
# every five seconds); crashes/events.tsv: t bucket-dir.
make_report() {
	local r="$out/report" tmp="$out/.report.tmp.$$" st="$out/stats.tsv" ev="$out/crashes/events.tsv" e
	[ -f "$st" ] || { note "no $st: nothing to report"; return 0; }
	command -v gnuplot >/dev/null 2>&1 || { note "gnuplot not found ('sudo tools/sndtag deps'); report without plots"; }
	rm -rf "$tmp"; mkdir -p "$tmp"
	local engines
	engines=$(awk 'NR > 1 { print $2 }' "$st" | sort -u | tr '\n' ' ')
	for e in $engines; do
		awk -v e="$e" 'NR > 1 && $2 == e' "$st" > "$tmp/$e.dat"
	done
	: > "$tmp/buckets.dat"
	if [ -f "$ev" ]; then
		# Events are appended in scan order, stamped with their
		# files' times: plot them in time order.
		sort -t "$(printf '\t')" -k1,1n -s "$ev" |
		    awk -F'\t' '{ n++; if (!($2 in seen)) { seen[$2] = 1; b++ } print $1, n, b }' > "$tmp/buckets.dat"
	fi
	if command -v gnuplot >/dev/null 2>&1; then
		local plot col title file
		for plot in "4:exec/s:execs.png:exec/s (as each engine reports it)" \
		    "5:coverage:coverage.png:coverage (libFuzzer: edges; AFL++: edges found)" \
		    "6:corpus:corpus.png:corpus entries"; do
			IFS=: read -r col _ file title <<< "$plot"
			{
				echo "set terminal pngcairo size 800,420 noenhanced"
				echo "set output '$tmp/$file'"
				echo "set title '$title: $name'"
				echo "set xlabel 'seconds'"
				echo "set key right bottom box opaque"
				echo "set grid"
				echo "set xrange [0:*]"
				echo "set yrange [0:*]"
				printf 'plot '
				local first=1
				for e in $engines; do
					[ "$first" -eq 1 ] || printf ', '
					printf "'%s' using 1:%s with linespoints lw 2 pt 7 ps 0.5 title '%s'" "$tmp/$e.dat" "$col" "$e"
					first=0
				done
				echo
			} > "$tmp/$file.gp"
			gnuplot "$tmp/$file.gp" 2>> "$out/gnuplot.log" || true
		done
		if [ -s "$tmp/buckets.dat" ]; then
			cat > "$tmp/buckets.gp" <<G
set terminal pngcairo size 800,420 noenhanced
set output '$tmp/buckets.png'
set title 'crashes over time: $name'
set xlabel 'seconds'
set ylabel 'crash reports'
set y2label 'distinct buckets'
set ytics nomirror
set y2tics 1
set xrange [0:*]
set yrange [0:*]
set y2range [0:*]
set key left top box opaque
set grid
plot '$tmp/buckets.dat' using 1:2 with steps lw 2 title 'crash reports', \\
     '$tmp/buckets.dat' using 1:3 axes x1y2 with steps lw 2 title 'buckets'
G
			gnuplot "$tmp/buckets.gp" 2>> "$out/gnuplot.log" || true
		fi
		rm -f "$tmp"/*.gp
	fi
	{
		echo "# Campaign report: $name"
		echo
		[ ! -f "$out/summary.txt" ] || { echo '```'; cat "$out/summary.txt"; echo '```'; echo; }
		echo "## Engines over time"
		echo
		echo "| engine | samples | last t (s) | executions | exec/s | coverage | corpus |"
		echo "| --- | --- | --- | --- | --- | --- | --- |"
		for e in $engines; do
			tail -1 "$tmp/$e.dat" | awk -v e="$e" -v n="$(wc -l < "$tmp/$e.dat")" \
			    '{ printf("| %s | %s | %s | %s | %s | %s | %s |\n", e, n, $1, $3, $4, $5, $6) }'
		done
		echo
		echo "libFuzzer's coverage is its \`cov:\` (edges); AFL++'s is \`edges_found\` of its"
		echo "main instance (a different map: compare each engine with itself over time)."
		echo "exec/s is the engine's own figure (libFuzzer fork mode: average since start)."
		echo
		for f in coverage corpus execs buckets; do
			[ -f "$tmp/$f.png" ] && echo "![$f]($f.png)" && echo
		done
		echo "## Crash buckets"
		echo
		local any=0 m
		for m in "$out"/crashes/*/meta; do
			[ -f "$m" ] || continue
			any=1
			echo "- **$(sed -n 's/^bucket: //p' "$m")**"
			sed -n 's/^\(count\|distinct\|first_seen\|last_seen\|smallest\|replay\): \(.*\)$/  - \1: `\2`/p' "$m"
		done
		[ "$any" -eq 1 ] || echo "none"
		echo
		echo "Raw figures: \`stats.tsv\` (t engine execs exec/s coverage corpus) and"
		echo "\`crashes/events.tsv\` (t bucket) beside this directory."
	} > "$tmp/report.md"
	rm -f "$tmp"/*.dat
	# Swap in the whole directory: a reader sees the old or the new.
	rm -rf "$r.old"
	[ ! -d "$r" ] || mv "$r" "$r.old"
	mv "$tmp" "$r"
	rm -rf "$r.old"
}

if [ "$report_only" -eq 1 ]; then
	make_report
	echo "report: ${out#$ROOT/}/report/report.md"
	exit 0
fi

# --------------------------------------------------------------- binaries
seeds="" lf_bin="" afl_bin="" merge_bin="" replay="" replay_args=() build=""
if [ "$engine" != afl ]; then
	build="$ROOT/build/$preset"
	lf_bin="$build/fuzz/$name"
	[ -x "$lf_bin" ] || die "no fuzzer $lf_bin; build it with 'tools/sndtag build $preset'${variant:+ (variant '$variant': see tools/sndtag variants)}"
	seeds="$build/corpora/$target"
	merge_bin=$lf_bin
fi
if [ "$engine" != libfuzzer ]; then
	command -v afl-fuzz >/dev/null 2>&1 || die "afl-fuzz not found; run 'sudo tools/sndtag deps'"
	afl_bin="$ROOT/build/afl/fuzz/$target"
	[ -x "$afl_bin" ] || die "no $afl_bin; build it with 'tools/sndtag build afl'"
	[ -n "$seeds" ] || seeds="$ROOT/build/afl/corpora/$target"
	[ -n "$build" ] || build="$ROOT/build/afl"
	if [ -z "$merge_bin" ] && [ -x "$ROOT/build/asan/fuzz/$target" ]; then
		merge_bin="$ROOT/build/asan/fuzz/$target"
	fi
fi
[ -d "$seeds" ] || die "no seed corpus $seeds; rebuild with 'tools/sndtag build ${preset}'"
r="$ROOT/build/$preset/repro/sndtag-replay${variant:+_$variant}"
[ -x "$r" ] || r="$build/repro/sndtag-replay${variant:+_$variant}"
[ -x "$r" ] || die "no $r; build it with 'tools/sndtag build $preset'"
# How each target's crash files replay: sndtag-replay runs a scenario
# (fuzz_scenario's binary or text, fuzz_raw's bytes with --raw); a
# fuzz_text crash is in the text parser, which the fuzzer binary replays.
replay=$r
case "$target" in
fuzz_raw) replay_args=(--raw);;
fuzz_scenario) ;;
fuzz_threads) replay_args=(--threaded --strategy switch);;
*) replay=${lf_bin:-$afl_bin};;
esac
if [ "$use_pc" -eq 1 ]; then
	[ -n "$pcorpus" ] || pcorpus="$ROOT/out/corpus/${target}${variant:+-$variant}"
	mkdir -p "$pcorpus"
	pcorpus=$(cd "$pcorpus" && pwd)
	[ -n "$merge_bin" ] || { note "no libFuzzer build of $target to merge with (tools/sndtag build asan): the persistent corpus is read, not merged"; }
fi

opts=()
[ -f "$ROOT/fuzz/$target.dict" ] && opts+=("-dict=$ROOT/fuzz/$target.dict")
if [ -f "$ROOT/fuzz/$target.options" ]; then
	while IFS='=' read -r k v; do
		k=$(echo "$k" | tr -d ' '); v=$(echo "$v" | tr -d ' ')
		case "$k" in ''|\[*|\#*|dict) ;; *) opts+=("-$k=$v");; esac
	done < "$ROOT/fuzz/$target.options"
fi
PC_OPTS=("${opts[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# TSan: what the sweep uses (docs/SWEEPS.md); the model's hand-off is
# invisible to TSan, so any report is a race between model threads.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:history_size=4:second_deadlock_stack=1:suppressions=$ROOT/tools/tsan.supp}

# ----------------------------------------------------- signals, children
# Every engine runs in its own session and process group (setsid), so a
# signal reaches it and all its workers: libFuzzer's fork-mode jobs,
# afl-fuzz's fork server.
stop_sig=""
pids=()
signal_engines() {
	local p
	for p in "${pids[@]}"; do kill -s "$1" -- "-$p" 2>/dev/null || kill -s "$1" "$p" 2>/dev/null || true; done
}
forward_stop() {
	stop_sig=$1
	signal_engines "$1"
	[ -z "${merge_pid:-}" ] || kill -s "$1" "$merge_pid" 2>/dev/null || true
	[ -z "${feed_pid:-}" ] || kill -s "$1" "$feed_pid" 2>/dev/null || true
}
trap 'forward_stop INT' INT
trap 'forward_stop TERM' TERM

# Waits for pid $1 whatever signals arrive meanwhile; sets wait_rc.
wait_for() {
	wait_rc=0
	while :; do
		wait "$1" && { wait_rc=0; break; } || wait_rc=$?
		kill -0 "$1" 2>/dev/null || break
	done
}
running() { local p; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

# -------------------------------------------------- the working corpus
# A restart merges the previous working corpus into a fresh directory
# (libFuzzer keeps only inputs that add coverage) and swaps it in, so
# the corpus does not grow by every restart's finds.  At every moment
# corpus/ or corpus.old/ is a whole corpus; corpus.merge.* is never
# trusted: a campaign killed anywhere loses nothing.
merge_corpus() {
	local c="$out/corpus" old="$out/corpus.old" tmp n m
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
	"$lf_bin" -merge=1 -merge_control_file="$tmp.ctl" "${opts[@]}" \
	    "$tmp" "$c" > "$out/merge.log" 2>&1 &
	pids=($!)
	wait_for "${pids[0]}"
	pids=()
	rm -f "$tmp.ctl"
	m=$(find "$tmp" -maxdepth 1 -type f | wc -l)
	if [ "$wait_rc" -ne 0 ] || [ -n "$stop_sig" ] || [ "$m" -eq 0 ]; then
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

# ------------------------------------------------------------- crashes
# Replays every crash file not seen before and files it under
# crashes/<bucket>/.  $1: elapsed seconds.
mkdir -p "$out/crashes" "$out/artifacts"
seen="$out/crashes/.seen"
touch "$seen"
bucket_slug() {
	local h
	h=$(printf '%s' "$1" | sha1sum | cut -c1-8)
	printf '%s-%s' "$(printf '%s' "$1" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//' | cut -c1-60 | sed 's/-$//')" "$h"
}
file_one() {
	local f=$1 t=$2 hang=$3 sig h slug d size now cnt dist first small ssize
	local lim=60 rc=0 outp
	[ "$hang" -eq 0 ] || lim=10
	outp=$(timeout -s KILL "$lim" "$replay" "${replay_args[@]}" "$f" 2>&1) || rc=$?
	if [ "$rc" -eq 137 ]; then
		sig="hang: replay still running after $lim s"
	else
		sig=$(printf '%s\n' "$outp" | bucket_of || true)
	fi
	[ -n "$sig" ] || sig="(does not reproduce)"
	slug=$(bucket_slug "$sig")
	d="$out/crashes/$slug"
	mkdir -p "$d/inputs"
	h=$(sha1sum "$f" | cut -d' ' -f1)
	size=$(stat -c %s "$f")
	now=$(date -u -d "@$4" +%Y-%m-%dT%H:%M:%SZ)
	cnt=0 dist=0 first="$now (+${t}s)" small="" ssize=""
	if [ -f "$d/meta" ]; then
		cnt=$(sed -n 's/^count: //p' "$d/meta")
		# Files are scanned in name order, not time order.
		local lt
		lt=$(sed -n 's/^last_seen: .*(+\([0-9]*\)s)$/\1/p' "$d/meta")
		[ -z "$lt" ] || [ "$lt" -le "$t" ] || { t=$lt; now=$(sed -n 's/^last_seen: \(.*\) (+.*$/\1/p' "$d/meta"); }
		dist=$(sed -n 's/^distinct: //p' "$d/meta")
		first=$(sed -n 's/^first_seen: //p' "$d/meta")
		local ft
		ft=$(sed -n 's/^first_seen: .*(+\([0-9]*\)s)$/\1/p' "$d/meta")
		[ -z "$ft" ] || [ "$ft" -le "$2" ] || first="$(date -u -d "@$4" +%Y-%m-%dT%H:%M:%SZ) (+${2}s)"
		ssize=$(sed -n 's/^smallest_size: //p' "$d/meta")
		small=$(sed -n 's/^smallest_from: //p' "$d/meta")
	fi
	cnt=$((cnt + 1))
	if [ ! -e "$d/inputs/$h" ]; then
		dist=$((dist + 1))
		# Keep at most 50 distinct inputs per bucket; all are counted.
		[ "$dist" -gt 50 ] || copy_atomic "$f" "$d/inputs/$h"
	fi
	if [ -z "$ssize" ] || [ "$size" -lt "$ssize" ]; then
		copy_atomic "$f" "$d/smallest"
		ssize=$size small=${f#$out/}
	fi
	write_atomic "$d/meta" <<M
bucket: $sig
count: $cnt
distinct: $dist
first_seen: $first
last_seen: $now (+${t}s)
smallest: ${d#$ROOT/}/smallest
smallest_size: $ssize
smallest_from: $small
replay: ${replay#$ROOT/}${replay_args[*]:+ ${replay_args[*]}} ${d#$ROOT/}/smallest
M
	printf '%s\t%s\n' "$2" "$slug" >> "$out/crashes/events.tsv"
}
# $2: stop after this many seconds (0: no limit) and leave the rest for
# the next call, so progress lines keep coming while crashes pour in.
scan_crashes() {
	local t=$1 lim=${2:-0} f hang nows mt
	nows=$(date +%s)
	while IFS= read -r -d '' f; do
		[ "$lim" -eq 0 ] || [ $(( $(date +%s) - nows )) -lt "$lim" ] || break
		grep -qxF "$f" "$seen" && continue
		# libFuzzer writes its artifacts in place: leave one that is
		# younger than two seconds for the next round.
		mt=$(stat -c %Y "$f" 2>/dev/null) || continue
		[ $((nows - mt)) -ge 2 ] || continue
		hang=0
		case "$f" in */timeout-*|*/slow-unit-*|*/hangs/*) hang=1;; esac
		# When the engine wrote it, not when the scan got to it.
		file_one "$f" "$((t0 + mt - start))" "$hang" "$mt"
		printf '%s\n' "$f" >> "$seen"
	done < <(find "$out/artifacts" "$out"/afl/*/crashes "$out"/afl/*/hangs -maxdepth 1 -type f \
	    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' -o -name 'id:*' \) \
	    -print0 2>/dev/null | sort -z)
}
n_buckets() { find "$out/crashes" -mindepth 2 -maxdepth 2 -name meta 2>/dev/null | wc -l; }
n_crashes() { [ -f "$out/crashes/events.tsv" ] && wc -l < "$out/crashes/events.tsv" || echo 0; }

# ------------------------------------------------------ engine figures
lf_base=0 lf_last_execs=0
# "execs exec/s cov ft corpus" of libFuzzer's log $1 (fork mode's
# "#N: cov: C ft: F corp: K exec/s E ..." or a plain status line).
lf_now() {
	local l
	l=$( (grep -E '^#[0-9]+' "$1" 2>/dev/null || true) | tail -1)
	[ -n "$l" ] || return 1
	awk '{
		ex = $1; gsub(/[#:]/, "", ex); cov = "?"; ft = "?"; corp = "?"; eps = "?";
		for (i = 2; i <= NF; i++) {
			if ($i == "cov:") cov = $(i+1);
			else if ($i == "ft:") ft = $(i+1);
			else if ($i == "corp:") { corp = $(i+1); sub(/\/.*/, "", corp) }
			else if ($i == "exec/s" || $i == "exec/s:") eps = $(i+1);
		}
		print ex, eps, cov, ft, corp
	}' <<< "$l"
}
afl_dirs() { find "$out/afl" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort || true; }
# "execs exec/s edges corpus map" summed over the AFL++ instances
# (coverage and corpus: the main instance's).
afl_sum() {
	local d f ex=0 eps=0 cov="?" corp="?" map="?"
	for d in $(afl_dirs); do
		f=$(afl_now "$d" 2>/dev/null) || continue
		[ -n "$f" ] || continue
		set -- $f
		ex=$((ex + ${1:-0}))
		eps=$(awk -v a="$eps" -v b="${2:-0}" 'BEGIN { printf("%.0f", a + b) }')
		if [ "${d##*/}" = main ]; then cov=$7 corp=$3 map=$4; fi
	done
	echo "$ex $eps $cov $corp $map"
}

start=$(date +%s)
stats="$out/stats.tsv"
[ -f "$stats" ] || printf 't\tengine\texecs\texec_s\tcoverage\tcorpus\n' | write_atomic "$stats"
# A restart continues the time axis of stats.tsv where it stopped.
t0=$(awk -F'\t' 'NR > 1 { t = $1 } END { print t + 0 }' "$stats")
sample() {
	local t=$1 line="" f
	if [ -n "$lf_bin" ]; then
		if f=$(lf_now "$out/fuzz.log"); then
			set -- $f
			lf_last_execs=$1
			printf '%s\tlibfuzzer\t%s\t%s\t%s\t%s\n' "$((t0 + t))" "$((lf_base + $1))" "$2" "$3" "$5" >> "$stats"
			line="libfuzzer: execs $((lf_base + $1)) exec/s $2 cov $3 ft $4 corp $5"
		fi
	fi
	if [ -n "$afl_bin" ]; then
		set -- $(afl_sum)
		if [ "$1" -gt 0 ]; then
			printf '%s\tafl\t%s\t%s\t%s\t%s\n' "$((t0 + t))" "$1" "$2" "$3" "$4" >> "$stats"
			line="${line:+$line | }afl: execs $1 exec/s $2 edges $3 corp $4 map $5"
		fi
	fi
	printf '  [%4ds] %s | crashes %s in %s bucket(s)\n' "$t" "${line:-starting}" \
	    "$(n_crashes)" "$(n_buckets)" >&2
}

# ------------------------------------------------- the persistent corpus
merge_pid=""
pc_inputs() {
	[ -z "$lf_bin" ] || echo "$out/corpus"
	local d
	for d in $(afl_dirs); do echo "$d/queue"; done
}
persist_bg() {
	[ "$use_pc" -eq 1 ] && [ -n "$merge_bin" ] || return 0
	if [ -n "$merge_pid" ] && kill -0 "$merge_pid" 2>/dev/null; then return 0; fi
	mapfile -t ins < <(pc_inputs)
	( PROG="$PROG (corpus)"; pc_merge "$pcorpus" "$merge_bin" "${ins[@]}" ) >> "$out/persist.log" 2>&1 &
	merge_pid=$!
}
pc_before=0
if [ "$use_pc" -eq 1 ]; then
	pc_recover "$pcorpus"
	if [ -f "$pcorpus.merge/ready" ] && [ -n "$merge_bin" ]; then
		note "finishing an interrupted merge into ${pcorpus#$ROOT/}"
		pc_merge "$pcorpus" "$merge_bin" || true
	fi
	pc_before=$(find "$pcorpus" -maxdepth 1 -type f | wc -l)
fi

# ------------------------------------------------------------ engines
[ -z "$lf_bin" ] || merge_corpus
lf_jobs=$jobs afl_jobs=0
case "$engine" in afl) lf_jobs=0 afl_jobs=$jobs;; both) afl_jobs=1 lf_jobs=$((jobs - 1));; esac
pc_dirs=()
[ "$use_pc" -eq 0 ] || pc_dirs=("$pcorpus")
printf '%s: %s for %ss, %s, seeds %s (%s files), output %s%s\n' "$PROG" "$name" "$seconds" \
    "$( [ "$lf_jobs" -eq 0 ] || printf 'libFuzzer %s job(s)' "$lf_jobs"; [ "$afl_jobs" -eq 0 ] || printf '%sAFL++ %s instance(s)' "$( [ "$lf_jobs" -eq 0 ] || echo ' + ')" "$afl_jobs")" \
    "${seeds#$ROOT/}" "$(ls "$seeds" | wc -l)" "${out#$ROOT/}" \
    "${pcorpus:+, persistent corpus ${pcorpus#$ROOT/} ($pc_before entries)}" >&2

afl_start() {
	local i id args envs
	envs=(AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1)
	if [ "$mutator" -eq 1 ] && [ -f "$ROOT/build/afl/fuzz/${target}_mutator.so" ]; then
		envs+=(AFL_CUSTOM_MUTATOR_LIBRARY="$ROOT/build/afl/fuzz/${target}_mutator.so")
	fi
	for i in $(seq 0 $((afl_jobs - 1))); do
		if [ "$i" -eq 0 ]; then id=main; args=(-M main); else id="s$i"; args=(-S "$id"); fi
		args+=(-V "$seconds" -o "$out/afl")
		# Resume an instance's queue instead of starting over.
		if [ -d "$out/afl/$id/queue" ]; then args+=(-i -); else args+=(-i "$seeds"); fi
		if [ "$i" -eq 0 ]; then
			[ "$cmplog" -eq 0 ] || [ ! -x "${afl_bin}_cmplog" ] || args+=(-c "${afl_bin}_cmplog")
			# Foreign queues the main instance imports from.
			[ "$lf_jobs" -eq 0 ] || args+=(-F "$out/corpus")
			[ "$use_pc" -eq 0 ] || args+=(-F "$pcorpus")
		fi
		[ -f "$ROOT/fuzz/$target.dict" ] && args+=(-x "$ROOT/fuzz/$target.dict")
		# afl-fuzz sets the sanitizer options it needs (abort_on_error=1,
		# symbolize=0) when they are unset; the campaign's are for replays.
		setsid env -u ASAN_OPTIONS -u UBSAN_OPTIONS "${envs[@]}" \
		    afl-fuzz "${args[@]}" -- "$afl_bin" > "$out/afl-$id.log" 2>&1 &
		pids+=($!)
	done
}

# One libFuzzer run of $1 seconds: one plain process for one worker
# (as ClusterFuzz runs it: the campaign restarts it after a crash), fork
# mode for more.  Fork mode re-reads a share of the corpus in every job
# and its first jobs last a second or two each: a 60 s campaign ran 2.6x
# fewer executions in it than in one plain process (docs/FUZZING.md).
# Other engines' queues are inputs (read at start).
lf_pid="" lf_rounds=0 lf_restarts=0
lf_plain() { [ "$stop_at_crash" -eq 1 ] || [ "$lf_jobs" -eq 1 ]; }
# A restarted plain process reads only the working corpus: the other
# inputs join it first by libFuzzer's crash-resistant merge, so a seed
# that crashes (a variant's) is skipped there instead of ending every
# round at start-up.  Fork mode's parent does the same merge.
lf_feed() {
	[ $# -gt 0 ] || return 0
	"$lf_bin" -merge=1 -merge_control_file="$out/feed.ctl" -artifact_prefix="$out/artifacts/" \
	    "${opts[@]}" "$out/corpus" "$@" >> "$out/feed.log" 2>&1 &
	feed_pid=$!
	wait_for "$feed_pid"
	feed_pid=""
	rm -f "$out/feed.ctl"
}
lf_start() {
	local secs=$1 ins=("$out/corpus" "${pc_dirs[@]}" "$seeds") d
	for d in $(afl_dirs); do [ -d "$d/queue" ] && ins+=("$d/queue"); done
	lf_rounds=$((lf_rounds + 1))
	lf_round_start=$(date +%s)
	# Fork mode checks its budget only when a job ends: the campaign
	# stops the round itself at its deadline (seconds since start).
	lf_deadline=$(( $(date +%s) - start + secs ))
	lf_stopped=0
	if lf_plain && [ "$stop_at_crash" -eq 0 ]; then
		# The seeds and the persistent corpus once; AFL++'s queues
		# (engine both) at every round, as they grow.
		if [ "$lf_rounds" -eq 1 ]; then
			lf_feed "${ins[@]:1}"
		else
			lf_feed "${ins[@]:$((1 + ${#pc_dirs[@]} + 1))}"
		fi
		[ -z "$stop_sig" ] || return 0
		ins=("$out/corpus")
		secs=$(( lf_deadline - ($(date +%s) - start) ))
		[ "$secs" -ge 1 ] || return 0
	fi
	if lf_plain; then
		# -reload=0: this process alone writes its corpus directory;
		# re-reading it every second (for processes that share one)
		# costs a stat per entry, 3% of a campaign's time at 3,000.
		setsid "$lf_bin" -max_total_time="$secs" -print_final_stats=1 \
		    -reload=0 \
		    -artifact_prefix="$out/artifacts/" "${opts[@]}" "${extra[@]}" \
		    "${ins[@]}" > "$out/fuzz.log" 2>&1 &
	else
		setsid "$lf_bin" -fork="$lf_jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		    -max_total_time="$secs" -artifact_prefix="$out/artifacts/" \
		    "${opts[@]}" "${extra[@]}" "${ins[@]}" > "$out/fuzz.log" 2>&1 &
	fi
	lf_pid=$!
	pids+=("$lf_pid")
}

# Accounts for a libFuzzer round that ended: its executions, its log.
lf_round_done() {
	local f n
	wait_for "$lf_pid"; lf_rc=$wait_rc
	[ "$lf_stopped" -eq 0 ] || lf_rc=0
	sample "$1"
	# A plain process's own count (it prints its final statistics on a
	# crash too), else its last status line.
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" 2>/dev/null | tail -1)
	f=$(lf_now "$out/fuzz.log" || true)
	[ -n "$n" ] || n=${f%% *}
	[ -z "$n" ] || lf_base=$((lf_base + n))
	lf_last_execs=0
	[ ! -f "$out/fuzz.log" ] || { cat "$out/fuzz.log" >> "$out/fuzz-all.log"; cp "$out/fuzz.log" "$out/fuzz-round.log"; }
	: > "$out/fuzz.log"
	lf_pid=""
}

# A libFuzzer round that ended: restarted while the budget lasts (both:
# with AFL++'s queue; one plain process: after its crash).
lf_check() {
	local t=$(( $(date +%s) - start )) round f
	if [ -z "$lf_pid" ] || kill -0 "$lf_pid" 2>/dev/null; then
		return 0
	fi
	lf_round_done "$t"
	# A working-corpus input that crashed at start-up (a timeout under
	# load, say) would end every round: it leaves the corpus.
	if lf_plain && [ "$lf_rc" -ne 0 ] && ! grep -q 'INITED' "$out/fuzz-round.log" 2>/dev/null; then
		for f in $(find "$out/artifacts" -maxdepth 1 -type f -newermt "@$lf_round_start" 2>/dev/null); do
			rm -f "$out/corpus/${f##*-}"
		done
	fi
	if [ -z "$stop_sig" ] && [ "$stop_at_crash" -eq 0 ] && [ "$t" -lt "$seconds" ] &&
	    { [ "$engine" = both ] || lf_plain; }; then
		round=$((seconds - t))
		[ "$engine" != both ] || [ "$round" -le "$sync_every" ] || round=$sync_every
		if [ "$engine" != both ] || [ "$t" -lt "$lf_deadline" ]; then
			# The plain process stopped early: a crash, a timeout or
			# an OOM, which the next scan files.
			lf_restarts=$((lf_restarts + 1))
			note "libFuzzer exited with status $lf_rc at ${t}s; restarting it on the corpus (restart $lf_restarts)"
		fi
		lf_start "$round"
	fi
}

[ "$afl_jobs" -eq 0 ] || afl_start
round_end=0
if [ "$lf_jobs" -gt 0 ]; then
	if [ "$engine" = both ]; then round_end=$sync_every; else round_end=$seconds; fi
	[ "$round_end" -le "$seconds" ] || round_end=$seconds
	lf_start "$round_end"
fi
next_merge=$merge_every
i=0
lf_rc=0 afl_failed=""
while :; do
	sleep 1
	i=$((i + 1))
	t=$(( $(date +%s) - start ))
	if [ -n "$lf_pid" ] && [ "$t" -ge "$lf_deadline" ] && [ "$lf_stopped" -eq 0 ]; then
		kill -INT -- "-$lf_pid" 2>/dev/null || true
		lf_stopped=1
	fi
	lf_check
	[ $((i % 5)) -eq 0 ] || { running && continue; }
	sample "$t"
	scan_crashes "$((t0 + t))" 4
	if [ "$merge_every" -gt 0 ] && [ "$t" -ge "$next_merge" ]; then
		persist_bg
		next_merge=$((t + merge_every))
	fi
	# The scan may have taken seconds, in which the process may have
	# ended: restart it before asking whether anything still runs.
	lf_check
	running || break
	# The budget plus a grace: an engine that overstays is stopped.
	if [ "$t" -gt $((seconds + 60)) ] && [ -z "$stop_sig" ]; then
		note "an engine is still running 60 s after the budget; stopping it"
		signal_engines KILL
	elif [ "$t" -ge "$seconds" ] && [ "$afl_jobs" -gt 0 ] && [ -z "${afl_stopped:-}" ]; then
		# afl-fuzz -V counts from the end of its calibration.
		signal_engines INT
		afl_stopped=1
	fi
done
[ -z "$lf_pid" ] || lf_round_done "$(( $(date +%s) - start ))"
for p in "${pids[@]}"; do wait_for "$p" || true; done
elapsed=$(( $(date +%s) - start ))
sleep 2
scan_crashes "$((t0 + elapsed))"

# The final merge into the persistent corpus (after any periodic one).
[ -z "$merge_pid" ] || wait_for "$merge_pid"
pc_after=""
if [ "$use_pc" -eq 1 ] && [ -n "$merge_bin" ]; then
	note "merging the campaign's inputs into the persistent corpus ${pcorpus#$ROOT/}"
	mapfile -t ins < <(pc_inputs)
	trap '' INT TERM   # a second ^C must not cut the merge short
	pc_merge "$pcorpus" "$merge_bin" "${ins[@]}" 2>> "$out/persist.log" || true
	trap 'forward_stop INT' INT
	trap 'forward_stop TERM' TERM
	pc_after=$(find "$pcorpus" -maxdepth 1 -type f | wc -l)
fi

# ------------------------------------------------------------- summary
log="$out/fuzz-all.log"
[ -f "$log" ] || : > "$log"
[ "$stop_at_crash" -eq 0 ] ||
    grep -E '^==[0-9]+== ?ERROR|^panic: |libFuzzer: run interrupted' "$log" | head -3 | sed 's/^/  /' >&2 || true
if [ -n "$stop_sig" ]; then
	why="interrupted by SIG$stop_sig"
elif [ "$stop_at_crash" -eq 1 ] && [ "$(n_crashes)" -gt 0 ]; then
	why="stopped at the first crash"
elif [ "$lf_rc" -ne 0 ] && [ "$stop_at_crash" -eq 1 ]; then
	why="the fuzzer exited with status $lf_rc"
elif [ "$elapsed" -lt $((seconds - 5)) ]; then
	why="the engines ended early (see ${out#$ROOT/}/fuzz-all.log, afl-*.log)"
	[ "$stop_at_crash" -eq 0 ] || why="the fuzzer ended early"
else
	why="time budget reached"
fi
{
	echo "=== campaign summary: $name ($engine, $jobs job(s)) ==="
	printf '  time:        %s (of %ss requested; %s)\n' "$(hms "$elapsed")" "$seconds" "$why"
	if [ -n "$lf_bin" ]; then
		stat_() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
		# One plain round: libFuzzer's own final statistics.  Fork
		# mode prints none, and restarts make several rounds: the sum
		# of each round's count.
		execs=$lf_base eps=""
		if lf_plain && [ "$lf_rounds" -eq 1 ] && [ -n "$(stat_ number_of_executed_units)" ]; then
			execs=$(stat_ number_of_executed_units)
			eps=$(stat_ average_exec_per_sec)
		fi
		[ -n "$eps" ] || eps=$((execs / (elapsed > 0 ? elapsed : 1)))
		f=$(lf_now "$log" || true)
		set -- $f
		printf '  libFuzzer:   %s executions, %s exec/s, %s edges, %s features, corpus %s (%s)%s\n' \
		    "${execs:-?}" "${eps:-?}" "${3:-?}" "${4:-?}" "$(ls "$out/corpus" | wc -l)" "${out#$ROOT/}/corpus" \
		    "$( [ "$lf_restarts" -eq 0 ] || printf '; restarted %s time(s) after a crash' "$lf_restarts")"
	fi
	if [ -n "$afl_bin" ]; then
		set -- $(afl_sum)
		# plot_data's rate is the last interval's; the summary gives
		# AFL++'s own average (fuzzer_stats), summed over instances.
		f=$(for d in $(afl_dirs); do sed -n 's/^execs_per_sec *: *//p' "$d/fuzzer_stats" 2>/dev/null; done |
		    awk '{ s += $1; n++ } END { if (n) printf("%.0f", s) }')
		[ -z "$f" ] || set -- "$1" "$f" "${@:3}"
		printf '  AFL++:       %s executions, %s exec/s (%s instance(s)), %s edges (map %s), corpus %s (%s)\n' \
		    "$1" "$2" "$afl_jobs" "$3" "$5" "$4" "${out#$ROOT/}/afl/main/queue"
	fi
	[ -z "$pc_after" ] || printf '  persistent:  %s -> %s entries in %s\n' "$pc_before" "$pc_after" "${pcorpus#$ROOT/}"
	nb=$(n_buckets)
	if [ "$nb" -eq 0 ]; then
		echo "  crashes:     none"
	else
		printf '  crashes:     %s report(s) in %s bucket(s), in %s\n' "$(n_crashes)" "$nb" "${out#$ROOT/}/crashes"
		for m in "$out"/crashes/*/meta; do
			printf '  - %s  [%s report(s), %s distinct input(s); first %s, last %s]\n      replay: %s\n' \
			    "$(sed -n 's/^bucket: //p' "$m")" "$(sed -n 's/^count: //p' "$m")" \
			    "$(sed -n 's/^distinct: //p' "$m")" "$(sed -n 's/^first_seen: //p' "$m")" \
			    "$(sed -n 's/^last_seen: //p' "$m")" "$(sed -n 's/^replay: //p' "$m")"
		done
	fi
} | write_atomic "$out/summary.txt"
make_report
echo
cat "$out/summary.txt"
echo "  report:      ${out#$ROOT/}/report/report.md"
[ "$(n_buckets)" -eq 0 ] || exit 1
if [ -n "$lf_bin" ] && [ "$stop_at_crash" -eq 1 ] && [ "$lf_rc" -ne 0 ] && [ -z "$stop_sig" ]; then
	echo "  fuzzer exited with status $lf_rc (see $log)"
	exit 1
fi
exit 0
