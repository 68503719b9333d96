#!/usr/bin/env bash
# Reads a crash report on stdin and prints its bucket.  The rule is the
# one every sndtag tool uses (repro/crashrun.c, run here through
# sndtag-bucket), so a campaign, a sweep and the minimizer name the same
# report the same way.  SNDTAG_BUCKET names the binary; else the first
# build/<preset>/repro/sndtag-bucket found.
set -euo pipefail
case "${1:-}" in -h|--help)
	echo "usage: tools/bucket.sh < REPORT   (prints the crash bucket; see sndtag-bucket --help)"
	exit 0;;
esac
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SNDTAG_BUCKET:-}
if [ -z "$bin" ]; then
	for p in asan ubsan tsan release afl coverage; do
		if [ -x "$ROOT/build/$p/repro/sndtag-bucket" ]; then
			bin="$ROOT/build/$p/repro/sndtag-bucket"
			break
		fi
	done
fi
[ -n "$bin" ] && [ -x "$bin" ] || {
	echo "bucket.sh: no sndtag-bucket built; run 'tools/sndtag build asan' first" >&2
	exit 2
}
# No bucket (a clean report) prints nothing, as before: not an error.
"$bin" || [ $? -eq 1 ]
