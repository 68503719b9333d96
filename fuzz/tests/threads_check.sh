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
#   threads_check.sh panic FUZZER SEED WORK EXPECT
#	fuzz_threads on a variant whose SEED panics on a model thread:
#	libFuzzer writes the crash input and exits with its own status
#	(77), and the report is the panic EXPECT, not one about libFuzzer's
#	crash handler (which once exited 66 or hung before the write)
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
panic)
	bin=$1 seed=$2 work=$3 expect=$4
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/crashes" || exit 1
	cp "$seed" "$work/corpus/" || exit 1
	cd "$work" || exit 1
	# The handler used to hang: a hard limit, and SIGKILL after it.
	timeout -s KILL 120 "$bin" -max_total_time=60 -seed=1 -max_len=8192 \
	    -artifact_prefix=crashes/ corpus > log 2>&1
	rc=$?
	grep -E '^panic: |SUMMARY|Test unit written' log
	[ "$rc" -eq 77 ] || { echo "exit status $rc, not libFuzzer's 77"; tail -20 log; exit 1; }
	grep -q "^panic: .*$expect" log || { echo "no panic '$expect'"; exit 1; }
	grep -q 'signal-unsafe' log && { echo "a report about the crash handler"; exit 1; }
	n=$(find crashes -name 'crash-*' -size +0 | wc -l)
	[ "$n" -eq 1 ] || { echo "$n crash files, not 1"; exit 1; }
	echo "ok: the panic's input is in $(ls crashes)"
	;;
*)
	echo "threads_check.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac
