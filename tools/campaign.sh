#!/usr/bin/env bash
# A fuzz campaign over one target: progress while it runs, then a summary
# (executions, exec/s, coverage, corpus size, crashes by bucket, and the
# command that replays each crash).  Usage: tools/sndtag fuzz --help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG="sndtag fuzz"
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

preset=asan target=fuzz_scenario seconds=60 variant="" out="" extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help)
		cat <<'H'
usage: tools/sndtag fuzz [--preset asan|ubsan] [--target NAME] [--time SECONDS]
                         [--variant NAME] [--out DIR] [-- libFuzzer flags...]

Runs a libFuzzer campaign of TARGET (default fuzz_scenario, the structured
target) from its seed corpus for SECONDS (default 60) on the correct core,
or on a historic-bug variant with --variant (see: tools/sndtag variants).
Progress is printed every few seconds; at the end a summary lists
executions, exec/s, coverage, corpus size and each crash bucket with the
command that replays it.  The working corpus and crashes are kept in
out/<target>-<preset>[-<variant>]/ (seeds are never modified).
H
		exit 0;;
	--preset) preset=${2:?--preset needs a value}; shift 2;;
	--target) target=${2:?--target needs a value}; shift 2;;
	--time) seconds=${2:?--time needs a value}; shift 2;;
	--variant) variant=${2:?--variant needs a value}; shift 2;;
	--out) out=${2:?--out needs a value}; shift 2;;
	--) shift; extra=("$@"); break;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
case "$seconds" in ''|*[!0-9]*) die "--time takes whole seconds, got '$seconds'";; esac
case "$preset" in asan|ubsan) ;; *) die "--preset must be asan or ubsan for libFuzzer campaigns (AFL++: see docs/FUZZING.md)";; esac

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

mapfile -t crashes < <(ls -1 "$out/crashes" 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
if [ "${#crashes[@]}" -eq 0 ]; then
	printf '  crashes:     none\n'
	[ "$fuzz_rc" -eq 0 ] || { echo "  fuzzer exited with status $fuzz_rc (see $log)"; exit 1; }
	exit 0
fi
printf '  crashes:     %s file(s)\n' "${#crashes[@]}"
declare -A bucket_count bucket_file
for c in "${crashes[@]}"; do
	f="$out/crashes/$c"
	sig=$("$replay" "$f" 2>&1 | "$ROOT/tools/bucket.sh" || true)
	[ -n "$sig" ] || sig="(does not reproduce)"
	bucket_count[$sig]=$(( ${bucket_count[$sig]:-0} + 1 ))
	[ -n "${bucket_file[$sig]:-}" ] || bucket_file[$sig]=$f
done
for sig in "${!bucket_count[@]}"; do
	printf '  - %s  [%s file(s)]\n      replay: %s %s\n' "$sig" \
	    "${bucket_count[$sig]}" "${replay#$ROOT/}" "${bucket_file[$sig]#$ROOT/}"
done
exit 1
