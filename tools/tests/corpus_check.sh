#!/usr/bin/env bash
# ctest cases for the persistent corpus (tools/corpus.sh, "tools/sndtag
# corpus") with the asan preset's fuzz_scenario:
#   corpus_check.sh SNDTAG WORK
# merge adds and never removes, a second merge of the same inputs adds
# nothing, a journal left by a kill is finished, a half-done prune swap
# is undone, every entry is whole, bad input is one line.
set -u
sndtag=${1:?usage: corpus_check.sh SNDTAG WORK} work=${2:?}
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
seeds="$root/build/asan/corpora/fuzz_scenario"
[ -d "$seeds" ] || fail "no $seeds (build the asan preset)"
p="$work/p"
n() { find "$1" -maxdepth 1 -type f | wc -l; }

"$sndtag" corpus merge --corpus "$p" "$seeds" || fail "merge failed"
a=$(n "$p"); echo "after the first merge: $a entries"
[ "$a" -gt 0 ] || fail "nothing merged"
"$sndtag" corpus check --corpus "$p" || fail "an entry is not whole"
ls "$p" | sort > "$work/before"
out=$("$sndtag" corpus merge --corpus "$p" "$seeds" 2>&1); echo "$out"
[ "$(n "$p")" -eq "$a" ] || fail "merging the same inputs again changed the corpus"
[ ! -e "$p.merge" ] || fail "merge state left behind"

# Killed after writing the journal, before every rename: the next
# merge finishes it.
mkdir -p "$p.merge/stage"
printf 'one more input\n' > "$p.merge/stage/x"
h=$(sha1sum "$p.merge/stage/x" | cut -d' ' -f1)
mv "$p.merge/stage/x" "$p.merge/stage/$h"
: > "$p.merge/ready"
printf '%s\n' "$h" > "$p.merge/pending"
"$sndtag" corpus status --corpus "$p" | grep -q 'interrupted merge' || fail "status does not show the interrupted merge"
mkdir -p "$work/empty"
"$sndtag" corpus merge --corpus "$p" "$work/empty" || fail "merge after a kill failed"
[ -f "$p/$h" ] || fail "the journaled entry was not added"
[ ! -e "$p.merge" ] || fail "the journal was left behind"
comm -23 "$work/before" <(ls "$p" | sort) | grep -q . && fail "an entry was lost"

# Killed while preparing (no "ready"): discarded, the corpus untouched.
mkdir -p "$p.merge/stage"; : > "$p.merge/stage/junk"
"$sndtag" corpus merge --corpus "$p" "$work/empty" || fail "merge after a kill while preparing failed"
[ ! -e "$p/junk" ] && [ ! -e "$p.merge" ] || fail "an unprepared merge reached the corpus"

# A prune killed between its two renames: P.old is restored.
mv "$p" "$p.old"; mkdir -p "$p.prune/out"
"$sndtag" corpus check --corpus "$p" >/dev/null 2>&1
"$sndtag" corpus merge --corpus "$p" "$work/empty" || fail "merge after a half prune failed"
[ "$(n "$p")" -eq $((a + 1)) ] || fail "the half-done prune was not undone ($(n "$p") entries)"
"$sndtag" corpus prune --corpus "$p" || fail "prune failed"
[ "$(n "$p")" -le $((a + 1)) ] && [ "$(n "$p")" -gt 0 ] || fail "prune gave $(n "$p") entries"
"$sndtag" corpus check --corpus "$p" || fail "an entry is not whole after the prune"

err=$("$sndtag" corpus bogus 2>&1); rc=$?
[ "$rc" -eq 2 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] || fail "bad subcommand: exit $rc, '$err'"
err=$("$sndtag" corpus merge --corpus "$p" /nonexistent 2>&1); rc=$?
[ "$rc" -eq 2 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] || fail "missing dir: exit $rc, '$err'"
"$sndtag" corpus --help | grep -q '^usage: ' || fail "no --help"
echo "ok: persistent corpus"
