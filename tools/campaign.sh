#!/usr/bin/env bash
# A fuzz campaign over one target: progress while it runs, then a summary
# (executions, exec/s, coverage, corpus size, crashes by bucket, and the
# command that replays each crash).  Usage: tools/sndtag fuzz --help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG="sndtag fuzz"
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

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
command that replays it.  The working corpus and crashes are kept in
out/<target>-<preset>[-<variant>]/ (seeds are never modified).

With --engine afl it runs afl-fuzz on the afl preset's build (tools/sndtag
build afl) instead: persistent mode, the structured custom mutator
(fuzz_scenario only; --no-mutator for AFL++'s own) and cmplog (-c; off
with --no-cmplog), output in out/<target>-afl/.
H
		exit 0;;
	--preset) preset=${2:?--preset needs a value}; shift 2;;
	--target) target=${2:?--target needs a value}; shift 2;;
	--time) seconds=${2:?--time needs a value}; shift 2;;
	--variant) variant=${2:?--variant needs a value}; shift 2;;
	--out) out=${2:?--out needs a value}; shift 2;;
	--engine) engine=${2:?--engine needs a value}; shift 2;;
	--no-mutator) mutator=0; shift;;
	--no-cmplog) cmplog=0; shift;;
	--) shift; extra=("$@"); break;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
case "$seconds" in ''|*[!0-9]*) die "--time takes whole seconds, got '$seconds'";; esac
case "$engine" in libfuzzer|afl) ;; *) die "--engine must be libfuzzer or afl, got '$engine'";; esac
[ "$engine" = libfuzzer ] || { preset=afl; [ -z "$variant" ] || die "--variant is for libFuzzer campaigns"; }
case "$preset" in asan|ubsan|afl) ;; *) die "--preset must be asan or ubsan for libFuzzer campaigns (AFL++: --engine afl)";; esac

# Buckets every crash file in $1 by replaying it; prints one line each.
bucket_crashes() {
	local dir=$1 c f sig
	declare -A count first
	mapfile -t crashes < <(ls -1 "$dir" 2>/dev/null | grep -Ev '^(README.txt)$' | grep -E '^(crash|leak|timeout|oom|slow-unit|id:)' || true)
	if [ "${#crashes[@]}" -eq 0 ]; then
		printf '  crashes:     none\n'
		return 0
	fi
	printf '  crashes:     %s file(s)\n' "${#crashes[@]}"
	for c in "${crashes[@]}"; do
		f="$dir/$c"
		sig=$("$replay" "$f" 2>&1 | "$ROOT/tools/bucket.sh" || true)
		[ -n "$sig" ] || sig="(does not reproduce)"
		count[$sig]=$(( ${count[$sig]:-0} + 1 ))
		[ -n "${first[$sig]:-}" ] || first[$sig]=$f
	done
	for sig in "${!count[@]}"; do
		printf '  - %s  [%s file(s)]\n      replay: %s %s\n' "$sig" \
		    "${count[$sig]}" "${replay#$ROOT/}" "${first[$sig]#$ROOT/}"
	done
	return 1
}

if [ "$engine" = afl ]; then
	command -v afl-fuzz >/dev/null 2>&1 || die "afl-fuzz not found; run 'sudo tools/sndtag deps'"
	build="$ROOT/build/afl"
	bin="$build/fuzz/$target"
	[ -x "$bin" ] || die "no $bin; build it with 'tools/sndtag build afl'"
	seeds="$build/corpora/$target"
	[ -d "$seeds" ] || die "no seed corpus $seeds; rebuild with 'tools/sndtag build afl'"
	replay="$ROOT/build/asan/repro/sndtag-replay"
	[ -x "$replay" ] || replay="$build/repro/sndtag-replay"
	[ -n "$out" ] || out="$ROOT/out/${target}-afl"
	mkdir -p "$out"
	args=(-V "$seconds" -o "$out/afl")
	# Resume an earlier campaign's queue instead of starting over.
	if [ -d "$out/afl/default/queue" ]; then args+=(-i -); else args+=(-i "$seeds"); fi
	[ "$cmplog" -eq 0 ] || [ ! -x "${bin}_cmplog" ] || args+=(-c "${bin}_cmplog")
	[ -f "$ROOT/fuzz/$target.dict" ] && args+=(-x "$ROOT/fuzz/$target.dict")
	envs=(AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1)
	if [ "$mutator" -eq 1 ] && [ -f "$build/fuzz/${target}_mutator.so" ]; then
		envs+=(AFL_CUSTOM_MUTATOR_LIBRARY="$build/fuzz/${target}_mutator.so")
	fi
	printf '%s: afl-fuzz %s for %ss (%s), output %s\n' "$PROG" "$target" "$seconds" \
	    "$( [ "$mutator" -eq 1 ] && echo "custom mutator" || echo "AFL++ mutators")$( [ "$cmplog" -eq 1 ] && echo ", cmplog")" "${out#$ROOT/}" >&2
	env "${envs[@]}" afl-fuzz "${args[@]}" -- "$bin" > "$out/afl.log" 2>&1 &
	pid=$!
	start=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		st="$out/afl/default/fuzzer_stats"
		[ -f "$st" ] && printf '  [%3ds] execs %s  exec/s %s  corpus %s  coverage %s  crashes %s\n' \
		    "$(( $(date +%s) - start ))" \
		    "$(sed -n 's/^execs_done *: //p' "$st")" "$(sed -n 's/^execs_per_sec *: //p' "$st")" \
		    "$(sed -n 's/^corpus_count *: //p' "$st")" "$(sed -n 's/^bitmap_cvg *: //p' "$st")" \
		    "$(sed -n 's/^saved_crashes *: //p' "$st")" >&2
	done
	wait "$pid" || { tail -5 "$out/afl.log"; die "afl-fuzz failed (see ${out#$ROOT/}/afl.log)"; }
	st="$out/afl/default/fuzzer_stats"
	echo
	echo "=== campaign summary: $target (afl) ==="
	printf '  time:        %ss\n' "$seconds"
	printf '  executions:  %s\n' "$(sed -n 's/^execs_done *: //p' "$st")"
	printf '  exec/s:      %s\n' "$(sed -n 's/^execs_per_sec *: //p' "$st")"
	printf '  coverage:    %s of the map\n' "$(sed -n 's/^bitmap_cvg *: //p' "$st")"
	printf '  corpus:      %s inputs in %s\n' "$(sed -n 's/^corpus_count *: //p' "$st")" "${out#$ROOT/}/afl/default/queue"
	bucket_crashes "$out/afl/default/crashes"
	exit $?
fi

build="$ROOT/build/$preset"
name=$target
[ -z "$variant" ] || name="${target}_${variant}"
bin="$build/fuzz/$name"
[ -x "$bin" ] || die "no fuzzer $bin; build it with 'tools/sndtag build $preset'${variant:+ (variant '$variant': see tools/sndtag variants)}"
seeds="$build/corpora/$target"
[ -d "$seeds" ] || die "no seed corpus $seeds; rebuild with 'tools/sndtag build $preset'"
replay="$build/repro/sndtag-replay"
[ -z "$variant" ] || replay="$build/repro/sndtag-replay_${variant}"

[ -n "$out" ] || out="$ROOT/out/${target}-${preset}${variant:+-$variant}"
mkdir -p "$out/corpus" "$out/crashes"
log="$out/fuzz.log"

opts=()
[ -f "$ROOT/fuzz/$target.dict" ] && opts+=("-dict=$ROOT/fuzz/$target.dict")
if [ -f "$ROOT/fuzz/$target.options" ]; then
	while IFS='=' read -r k v; do
		k=$(echo "$k" | tr -d ' '); v=$(echo "$v" | tr -d ' ')
		case "$k" in ''|\[*|\#*|dict) ;; *) opts+=("-$k=$v");; esac
	done < "$ROOT/fuzz/$target.options"
fi

printf '%s: %s for %ss, seeds %s (%s files), corpus %s\n' "$PROG" "$name" \
    "$seconds" "${seeds#$ROOT/}" "$(ls "$seeds" | wc -l)" "${out#$ROOT/}" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
set +e
"$bin" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "${opts[@]}" "${extra[@]}" \
    "$out/corpus" "$seeds" 2>&1 | tee "$log" |
    awk -v start="$(date +%s)" '
	/^#[0-9]+[ \t]+(pulse|REDUCE|NEW|INITED|DONE)/ || /^==[0-9]+== ERROR/ || /^panic: / || /SUMMARY:/ {
		now = systime();
		if ($0 ~ /INITED|DONE|ERROR|panic|SUMMARY/ || now - last >= 5) {
			printf("  [%3ds] %s\n", now - start, $0) > "/dev/stderr";
			last = now;
		}
	}'
fuzz_rc=${PIPESTATUS[0]}
set -e

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
execs=$(stat number_of_executed_units)
eps=$(stat average_exec_per_sec)
# A crash among the seeds (usual on a variant) ends the run before any
# "cov:" line: no match is not an error.
cov=$( (grep -Eo 'cov: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
ft=$( (grep -Eo 'ft: [0-9]+' "$log" || true) | tail -1 | awk '{print $2}')
corpus_n=$(ls "$out/corpus" | wc -l)

echo
echo "=== campaign summary: $name ($preset) ==="
printf '  time:        %ss\n' "$seconds"
printf '  executions:  %s\n' "${execs:-?}"
printf '  exec/s:      %s\n' "${eps:-?}"
printf '  coverage:    %s edges, %s features\n' "${cov:-?}" "${ft:-?}"
printf '  corpus:      %s inputs in %s\n' "$corpus_n" "${out#$ROOT/}/corpus"

if bucket_crashes "$out/crashes"; then
	[ "$fuzz_rc" -eq 0 ] || { echo "  fuzzer exited with status $fuzz_rc (see $log)"; exit 1; }
	exit 0
fi
exit 1
