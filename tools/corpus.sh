#!/usr/bin/env bash
# The persistent corpus: a project-level directory of inputs that every
# campaign starts from and merges its finds back into.  Sourced by
# tools/campaign.sh (pc_merge, pc_recover); run as "tools/sndtag corpus".
#
# Entries are named by the SHA-1 of their content (libFuzzer's own
# naming), so a file whose name is not its hash is a corrupt one.
#
# Merge (pc_merge P BIN INPUT_DIR...): only adds.  Its state lives in
# P.merge/ beside P:
#   1. stage/ = a copy of P, in/ = links to the inputs not yet in P (by
#      name); then the marker "ready" (written by rename).
#   2. libFuzzer -merge=1 -merge_control_file=P.merge/cf stage in: the new
#      inputs that add features are written into stage/.  Killed here,
#      the next pc_merge resumes from the control file.
#   3. the journal "pending" (the new names, written by rename).
#   4. each pending file is renamed from stage/ into P (same file system:
#      one atomic rename each), then P.merge is renamed away and removed.
# P itself is only ever changed by step 4's renames: a SIGKILL anywhere
# leaves P as it was (steps 1-3) or P plus whole new entries (step 4),
# and the next run finishes the journal.  Prune (pc_prune) is the one
# operation that removes entries: a full merge into P.prune/out, then two
# renames (P -> P.old, out -> P); pc_recover undoes a half-done swap.
set -euo pipefail

PC_ROOT=${PC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

pc_note() { printf '%s: %s\n' "${PROG:-sndtag corpus}" "$*" >&2; }

# Finishes or undoes whatever an interrupted merge or prune left.
pc_recover() {
	local p=$1 m="$1.merge" f
	rm -rf "$p".merge.done.* "$p".prune.done.*
	# A prune killed between its renames: P.old is the whole corpus
	# until the pruned one is in place.
	if [ -d "$p.old" ]; then
		if [ -d "$p" ] && [ -f "$p.prune/swapped" ]; then
			rm -rf "$p.old"
		else
			rm -rf "$p"
			mv "$p.old" "$p"
		fi
	fi
	if [ -d "$p.prune" ]; then
		mv "$p.prune" "$p.prune.done.$$"
		rm -rf "$p.prune.done.$$"
	fi
	mkdir -p "$p"
	[ -d "$m" ] || return 0
	if [ -f "$m/pending" ]; then
		while IFS= read -r f; do
			[ -n "$f" ] || continue
			[ -e "$p/$f" ] || [ ! -f "$m/stage/$f" ] || mv "$m/stage/$f" "$p/$f"
		done < "$m/pending"
		mv "$m" "$m.done.$$"
		rm -rf "$m.done.$$"
	elif [ ! -f "$m/ready" ]; then
		# Killed while preparing: nothing of it reached P.
		mv "$m" "$m.done.$$"
		rm -rf "$m.done.$$"
	fi
	# else: a prepared merge, resumed by pc_merge.
	return 0
}

# pc_merge P BIN [INPUT_DIR...]: merges the inputs into P (see the top).
# PC_OPTS (array, optional): extra libFuzzer flags (dict, max_len).
# Prints "merged: N new entries (P now M)" on stderr.
pc_merge() {
	local p=$1 bin=$2 m="$1.merge" d f name n rc=0 before
	shift 2
	[ -x "$bin" ] || { pc_note "no libFuzzer binary $bin to merge with"; return 1; }
	pc_recover "$p"
	before=$(find "$p" -maxdepth 1 -type f | wc -l)
	if [ ! -f "$m/ready" ]; then
		rm -rf "$m"
		mkdir -p "$m/stage" "$m/in"
		cp -a "$p/." "$m/stage/"
		n=0
		for d in "$@"; do
			[ -d "$d" ] || continue
			while IFS= read -r -d '' f; do
				name=${f##*/}
				[ -e "$p/$name" ] && continue
				# AFL++'s names have ':' and ','; libFuzzer
				# accepts them, but keep in/ plain.
				name="$(printf '%s' "${d}" | cksum | cut -d' ' -f1)-${name//[^A-Za-z0-9._-]/_}"
				ln "$f" "$m/in/$name" 2>/dev/null || cp "$f" "$m/in/$name"
				n=$((n + 1))
			done < <(find "$d" -maxdepth 1 -type f ! -name '.*' -print0)
		done
		if [ "$n" -eq 0 ]; then
			mv "$m" "$m.done.$$"; rm -rf "$m.done.$$"
			pc_note "merged: 0 new inputs (corpus ${p#$PC_ROOT/}: $before entries)"
			return 0
		fi
		: > "$m/ready.tmp"
		mv "$m/ready.tmp" "$m/ready"
	else
		pc_note "resuming an interrupted merge into ${p#$PC_ROOT/}"
	fi
	"$bin" -merge=1 -merge_control_file="$m/cf" "${PC_OPTS[@]}" \
	    "$m/stage" "$m/in" > "$m/log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'merge has been completed before' "$m/log"; then
		# libFuzzer (clang 14) exits without writing when the control
		# file says the inner runs are done: run them again.
		rm -f "$m/cf"
		"$bin" -merge=1 -merge_control_file="$m/cf" "${PC_OPTS[@]}" \
		    "$m/stage" "$m/in" > "$m/log" 2>&1 || rc=$?
	fi
	if [ "$rc" -ne 0 ]; then
		pc_note "the merge failed (exit $rc; see ${m#$PC_ROOT/}/log); the corpus is as it was"
		return 1
	fi
	(cd "$m/stage" && find . -maxdepth 1 -type f ! -name '.*' -printf '%f\n') |
	while IFS= read -r f; do [ -e "$p/$f" ] || printf '%s\n' "$f"; done > "$m/pending.tmp"
	mv "$m/pending.tmp" "$m/pending"
	n=$(wc -l < "$m/pending")
	pc_recover "$p"
	pc_note "merged: $n new entries (corpus ${p#$PC_ROOT/}: $before -> $(find "$p" -maxdepth 1 -type f | wc -l))"
}

# pc_prune P BIN: keeps only the entries that add features (libFuzzer
# -merge=1 into an empty directory), swapped in by two renames.
pc_prune() {
	local p=$1 bin=$2 q="$1.prune" rc=0 n m
	[ -x "$bin" ] || { pc_note "no libFuzzer binary $bin to prune with"; return 1; }
	pc_recover "$p"
	n=$(find "$p" -maxdepth 1 -type f | wc -l)
	[ "$n" -gt 0 ] || { pc_note "${p#$PC_ROOT/} is empty: nothing to prune"; return 0; }
	mkdir -p "$q/out"
	"$bin" -merge=1 -merge_control_file="$q/cf" "${PC_OPTS[@]}" \
	    "$q/out" "$p" > "$q/log" 2>&1 || rc=$?
	m=$(find "$q/out" -maxdepth 1 -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$m" -eq 0 ]; then
		pc_note "the prune failed (see ${q#$PC_ROOT/}/log); the corpus is as it was"
		return 1
	fi
	mv "$p" "$p.old"
	mv "$q/out" "$p"
	: > "$q/swapped"
	pc_recover "$p"
	pc_note "pruned ${p#$PC_ROOT/}: $n -> $m entries"
}

# pc_check P: every entry's name is the SHA-1 of its content.
pc_check() {
	local p=$1 bad=0 f h
	[ -d "$p" ] || { echo "no corpus ${p}"; return 1; }
	while IFS= read -r -d '' f; do
		h=$(sha1sum "$f" | cut -d' ' -f1)
		[ "$h" = "${f##*/}" ] || { echo "corrupt: $f (content hash $h)"; bad=1; }
	done < <(find "$p" -maxdepth 1 -type f -print0)
	return "$bad"
}

pc_main() {
	local PROG="sndtag corpus" sub=${1:-} preset=asan target=fuzz_scenario variant="" dir="" bin
	pc_die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
	case "$sub" in
	-h|--help|help)
		cat <<'H'
usage: tools/sndtag corpus status|prune|merge|check [--target T] [--variant V]
                          [--preset asan|ubsan] [--corpus DIR] [DIR...]

The persistent corpus (default out/corpus/<target>[-<variant>]) that
every "tools/sndtag fuzz" campaign starts from and merges its new inputs
into.
  status        number of entries, an interrupted merge or prune if any
  prune         keep only the entries that add coverage (libFuzzer
                -merge=1 into an empty directory, swapped in by renames)
  merge DIR...  add the inputs of DIR... that add coverage (never removes)
  check         every entry is whole (its name is its SHA-1)
Merges are resumable and atomic per entry: a SIGKILL leaves the corpus as
it was or merged, and the next run finishes what was started
(docs/FUZZING.md, "The persistent corpus").
H
		return 0;;
	status|prune|merge|check) shift;;
	"") pc_die "a subcommand is needed: status, prune, merge or check (see --help)";;
	*) pc_die "unknown subcommand '$sub' (status, prune, merge, check; see --help)";;
	esac
	local dirs=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--target|--variant|--preset|--corpus)
			[ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || pc_die "$1 needs a value (see --help)"
			case "$1" in
			--target) target=$2;; --variant) variant=$2;;
			--preset) preset=$2;; --corpus) dir=$2;;
			esac
			shift 2;;
		-h|--help) pc_main --help; return 0;;
		-*) pc_die "unknown option '$1' (see --help)";;
		*) dirs+=("$1"); shift;;
		esac
	done
	[ -n "$dir" ] || dir="$PC_ROOT/out/corpus/${target}${variant:+-$variant}"
	bin="$PC_ROOT/build/$preset/fuzz/${target}${variant:+_$variant}"
	PC_OPTS=()
	[ -f "$PC_ROOT/fuzz/$target.dict" ] && PC_OPTS+=("-dict=$PC_ROOT/fuzz/$target.dict")
	case "$sub" in
	status)
		[ -d "$dir" ] || { echo "${dir#$PC_ROOT/}: no corpus yet"; return 0; }
		echo "${dir#$PC_ROOT/}: $(find "$dir" -maxdepth 1 -type f | wc -l) entries"
		[ ! -d "$dir.merge" ] || echo "  an interrupted merge (the next campaign or 'corpus merge' finishes it)"
		[ ! -d "$dir.prune" ] && [ ! -d "$dir.old" ] || echo "  an interrupted prune (the next command undoes it)"
		;;
	check)
		pc_check "$dir" && echo "${dir#$PC_ROOT/}: $(find "$dir" -maxdepth 1 -type f | wc -l) entries, all whole";;
	prune)
		[ -x "$bin" ] || pc_die "no $bin; build it with 'tools/sndtag build $preset'"
		[ -d "$dir" ] || pc_die "no corpus ${dir#$PC_ROOT/}; a campaign creates it (tools/sndtag fuzz)"
		pc_prune "$dir" "$bin";;
	merge)
		[ -x "$bin" ] || pc_die "no $bin; build it with 'tools/sndtag build $preset'"
		[ "${#dirs[@]}" -gt 0 ] || pc_die "merge needs input directories (see --help)"
		for d in "${dirs[@]}"; do [ -d "$d" ] || pc_die "$d: not a directory"; done
		pc_merge "$dir" "$bin" "${dirs[@]}";;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	pc_main "$@"
fi
