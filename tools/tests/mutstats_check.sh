#!/usr/bin/env bash
# ctest case for sndtag-mutstats (tools/mutstats.c):
#   mutstats_check.sh MUTSTATS WORK
# A corpus entry is credited to the first mutation whose output it is,
# a "new" line to the mutation logged just before it (a "new" line for
# another input counts nothing), each to every step of that mutation;
# "#" lines are passed through; a missing log is one line.
set -u
ms=${1:?usage: mutstats_check.sh MUTSTATS WORK} work=${2:?}
rm -rf "$work"; mkdir -p "$work/c"
fail() { echo "FAIL: $*"; exit 1; }
fnv() {
	python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
print("%016x" % h)' "$1"
}
printf 'aaa' > "$work/c/a"
printf 'bbb' > "$work/c/b"
ha=$(fnv aaa) hb=$(fnv bbb) hc=$(fnv ccc)
cat > "$work/log" <<LOG
$ha 1 3 mut ins:ops,val:size
new $ha
$hc 3 3 mut val:rate
new $hb
$hb 3 3 cross xsplice:ops
$hc 3 3 mut del:ops
new $hc
$ha 3 3 mut swap:ops
# weights ins=1.00 del=2.00
LOG
out=$("$ms" "$work/log" "$work/c") || fail "exit status $?"
echo "$out"
# step runs kept per_1000 new new_1000 growth_B
row() { echo "$out" | awk -v s="$1" '$1 == s { print $2, $3, $5 }'; }
[ "$(row mut)" = "4 1 2" ] || fail "mut: $(row mut), want 4 1 2"
[ "$(row val)" = "2 1 1" ] || fail "val: $(row val), want 2 1 1"
[ "$(row ins)" = "1 1 1" ] || fail "ins: $(row ins), want 1 1 1"
[ "$(row del)" = "1 0 1" ] || fail "del: $(row del), want 1 0 1"
[ "$(row swap)" = "1 0 0" ] || fail "swap: $(row swap), want 1 0 0 (a corpus entry counts once)"
[ "$(row xsplice)" = "1 1 0" ] || fail "xsplice: $(row xsplice), want 1 1 0"
echo "$out" | grep -q "new results: 2$" || fail "total new results"
echo "$out" | grep -q "^# weights ins=1.00 del=2.00$" || fail "# line not passed through"
err=$("$ms" "$work/no-such-log" "$work/c" 2>&1) && fail "a missing log succeeded"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "missing log: more than one line: $err"
echo "$err" | grep -q "SNDTAG_MUTLOG=" || fail "missing log: no hint: $err"
echo "mutstats_check: ok"
