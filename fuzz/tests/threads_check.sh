#!/bin/sh
# ctest helper for fuzz_threads (fuzz/targets.cmake):
#   threads_check.sh replay10 REPLAY FILE EXPECT
#	ten replays of FILE under --strategy switch: every one reports
#	EXPECT (a fixed string), i.e. the finding replays 10/10
#   threads_check.sh minimize MINIMIZE FILE OUT EXPECT
#	sndtag-minimize --threaded keeps the bucket EXPECT and drops every
#	switch but one
#   threads_check.sh fuzz FUZZER SEEDS WORK RUNS
#	fuzz_threads from the seeds for RUNS executions from a fresh
#	corpus: exits 0 (no report on this core)
set -u
mode=$1
shift
case "$mode" in
replay10)
	bin=$1 file=$2 expect=$3
	i=0
	while [ $i -lt 10 ]; do
		out=$("$bin" --threaded --strategy switch "$file" 2>&1)
		case "$out" in
		*"$expect"*) ;;
		*) echo "run $((i + 1)) of 10: no '$expect' in:"
		   echo "$out" | tail -20
		   exit 1 ;;
		esac
		i=$((i + 1))
	done
	echo "10/10 runs report '$expect'"
	;;
minimize)
	bin=$1 file=$2 out=$3 expect=$4
	rm -f "$out"
	"$bin" --threaded -q -o "$out" "$file" || exit 1
	grep -q "^# Bucket: .*$expect" "$out" || { head -5 "$out"; exit 1; }
	grep -q "switches -> 1 " "$out" || { head -5 "$out"; exit 1; }
	n=$(grep -c "^switches" "$out")
	[ "$n" -eq 1 ] || { echo "$n switches left"; exit 1; }
	head -4 "$out"
	;;
fuzz)
	bin=$1 seeds=$2 work=$3 runs=$4
	rm -rf "$work"
	mkdir -p "$work/corpus" || exit 1
	cd "$work" || exit 1
	"$bin" -runs="$runs" -seed=1 -max_len=8192 -print_final_stats=1 \
	    corpus "$seeds" > log 2>&1
	rc=$?
	tail -8 log
	exit $rc
	;;
*)
	echo "threads_check.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac
