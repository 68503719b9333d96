#!/usr/bin/env bash
# Kills a 2-job campaign with SIGKILL at random moments (some of them
# while it merges into the persistent corpus) and restarts it; after
# every kill checks that the persistent corpus lost no entry (every
# entry before the run is still there with the same content) and that
# every entry is whole (named by its SHA-1).  Not part of ctest: it takes
# a few minutes of both cores.
#   usage: tests/campaign-sigkill.sh [--kills N] [--time S] [--seed N] [--work DIR]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kills=10 secs=30 seed=1 work="$root/out/sigkill"
die() { echo "campaign-sigkill.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
	--kills|--time|--seed|--work)
		[ $# -ge 2 ] || die "$1 needs a value (see --help)"
		case "$1" in --kills) kills=$2;; --time) secs=$2;; --seed) seed=$2;; --work) work=$2;; esac
		shift 2;;
	*) die "unknown option '$1' (see --help)";;
	esac
done
for v in "$kills" "$secs" "$seed"; do case "$v" in ''|*[!0-9]*) die "numbers only, got '$v'";; esac; done
[ -x "$root/build/asan/fuzz/fuzz_scenario" ] || die "build the asan preset first (tools/sndtag build asan)"
RANDOM=$seed
rm -rf "$work"; mkdir -p "$work"
p="$work/corpus" o="$work/campaign"
fail=0
snapshot() { (cd "$p" 2>/dev/null && find . -maxdepth 1 -type f -printf '%f\n' | sort | xargs -r sha1sum) > "$1" || true; }
#   (lines "HASH  NAME": a whole entry has HASH == NAME)
check() {
	local before=$1 what=$2 lost bad
	snapshot "$work/after"
	# Lost or changed: a line of before (hash, name) not in after.
	lost=$(comm -23 <(sort "$before") <(sort "$work/after") | tee "$work/lost" | wc -l)
	# Corrupt: an entry whose content hash is not its name.
	bad=$(awk '$1 != $2' "$work/after" | tee "$work/corrupt" | wc -l)
	sed 's/^/  LOST or changed: /' "$work/lost"
	sed 's/^/  CORRUPT: /' "$work/corrupt"
	printf '  %s: corpus %s -> %s entries, %s lost, %s corrupt\n' "$what" \
	    "$(wc -l < "$before")" "$(find "$p" -maxdepth 1 -type f 2>/dev/null | wc -l)" "$lost" "$bad"
	[ "$lost" -eq 0 ] && [ "$bad" -eq 0 ] || fail=1
}
phase() {
	if [ -d "$p.merge" ]; then
		if [ -f "$p.merge/pending" ]; then echo "merge: applying the journal"
		elif [ -f "$p.merge/ready" ]; then echo "merge: libFuzzer merging"
		else echo "merge: preparing"; fi
	elif ls -d "$o"/corpus.merge.* >/dev/null 2>&1; then echo "the working-corpus merge at start"
	else echo "fuzzing"; fi
}
# The campaign's whole process tree (its engines run in sessions of
# their own, so a process-group kill would miss them): stopped first so
# that nothing forks meanwhile, collected again, then killed.
tree() {
	local p=$1 c
	echo "$p"
	for c in $(ps -eo pid=,ppid= | awk -v p="$p" '$2 == p { print $1 }'); do tree "$c"; done
}
kill_tree() {
	local all="" i
	for i in 1 2 3; do
		all=$(printf '%s\n' $all $(tree "$1") | sort -u)
		kill -STOP $all 2>/dev/null
	done
	kill -KILL $all 2>/dev/null
}
run() { setsid nice -n 19 "$root/tools/sndtag" fuzz --jobs 2 --time "$secs" --merge-every 8 \
    --corpus "$p" --out "$o" -- -seed="$((seed + $1))" > "$work/run$1.log" 2>&1 & echo $!; }

# A first complete run, so that the corpus has entries to lose.
pid=$(run 100)
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
echo "first run: $(find "$p" -maxdepth 1 -type f | wc -l) entries in the persistent corpus"
for k in $(seq 1 "$kills"); do
	snapshot "$work/before"
	pid=$(run "$k")
	if [ $((k % 3)) -eq 0 ]; then
		# Wait for a merge into the persistent corpus, then kill in it.
		for _ in $(seq 1 $((secs * 10 + 600))); do
			[ -d "$p.merge" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		sleep "$((RANDOM % 4)).$((RANDOM % 10))"
	else
		sleep "$((2 + RANDOM % (secs + 10))).$((RANDOM % 10))"
	fi
	ph=$(phase)
	alive=yes; kill -0 "$pid" 2>/dev/null || alive="no (it had ended)"
	kill_tree "$pid"
	sleep 0.5
	echo "kill $k: during $ph; campaign alive: $alive"
	check "$work/before" "after kill $k"
done
snapshot "$work/before"
pid=$(run 0)
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
echo "final run to its end:"
tail -12 "$work/run0.log" | sed 's/^/    /'
check "$work/before" "after the final run"
[ ! -d "$p.merge" ] || { echo "  merge state left after a complete run"; fail=1; }
[ "$fail" -eq 0 ] && echo "campaign-sigkill: $kills kills, no entry lost, none corrupt" ||
    echo "campaign-sigkill: FAILED"
exit "$fail"
