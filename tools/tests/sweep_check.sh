#!/usr/bin/env bash
# ctest cases for sndtag-sweep's handling of corpora and signals.
#   sweep_check.sh corpus SWEEP SEED.bin WORK
#       a libFuzzer corpus directory (SHA-1 names, a crash-<sha1>, no
#       extension) is swept: both files run, the README beside them not.
#   sweep_check.sh interrupt SWEEP_VARIANT SCENARIO WORK
#       a sweep stopped by SIGTERM once it has a finding writes a summary
#       that says it was interrupted and lists that finding, exit 1.
set -u
case_=${1:?usage: sweep_check.sh corpus|interrupt SWEEP FILE WORK}
sweep=$2 file=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

case "$case_" in
corpus)
	mkdir -p "$work/corpus"
	cp "$file" "$work/corpus/0123456789abcdef0123456789abcdef01234567"
	cp "$file" "$work/corpus/crash-89abcdef0123456789abcdef0123456789abcdef"
	echo "not a scenario" > "$work/corpus/README"
	"$sweep" -q --seeds 1 --depths 1 --summary "$work/summary.txt" \
	    "$work/corpus" > "$work/out.log" 2>&1
	rc=$?
	cat "$work/out.log"
	[ "$rc" -eq 0 ] || fail "sweep exited $rc on a clean libFuzzer corpus"
	grep -q '^# corpus: 2 scenarios' "$work/summary.txt" ||
	    fail "the summary does not count the 2 corpus files: $(head -3 "$work/summary.txt")"
	grep -q '^# runs: 2 of 2;' "$work/summary.txt" || fail "not 2 of 2 runs"
	echo "ok: a libFuzzer corpus directory is swept"
	;;
interrupt)
	"$sweep" --seeds 1000000 --depths 1 --summary "$work/summary.txt" \
	    "$file" 2> "$work/err.log" &
	pid=$!
	# Wait for the first finding (an event, not a time), then stop it
	# as timeout(1) would.
	n=0
	until grep -q "new finding" "$work/err.log"; do
		kill -0 "$pid" 2>/dev/null || fail "the sweep ended on its own: $(cat "$work/err.log")"
		n=$((n + 1))
		[ "$n" -lt 3000 ] || { kill -KILL "$pid"; fail "no finding after 3000 polls"; }
		sleep 0.2
	done
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	cat "$work/err.log"
	[ -f "$work/summary.txt" ] || fail "no summary after SIGTERM"
	cat "$work/summary.txt" | head -12
	grep -q '^# interrupted by SIGTERM after [0-9]* of 1000000 runs' \
	    "$work/summary.txt" || fail "the summary does not say it was interrupted"
	grep -q '^finding 1: ' "$work/summary.txt" || fail "the finding is not in the summary"
	[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1 (findings)"
	echo "ok: an interrupted sweep writes its summary"
	;;
*)
	fail "unknown case '$case_'";;
esac
