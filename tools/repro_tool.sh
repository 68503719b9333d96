#!/usr/bin/env bash
# tools/sndtag minimize|cprog: run build/<preset>/repro/sndtag-<tool> or,
# with --variant NAME, sndtag-<tool>_<NAME> (the copy linked with that
# historic-bug variant's core).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tool=${1:?usage: tools/repro_tool.sh minimize|cprog [options] FILE}
shift
PROG="sndtag $tool"
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
case "$tool" in minimize|cprog) ;; *) die "unknown tool '$tool'";; esac

preset=asan variant=""
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help)
		echo "usage: tools/sndtag $tool [--preset P] [--variant NAME] [sndtag-$tool options] FILE"
		echo "  --preset P      build/P (default asan); --variant NAME: sndtag-${tool}_NAME"
		echo
		b="$ROOT/build/$preset/repro/sndtag-$tool"
		if [ -x "$b" ]; then exec "$b" --help; fi
		echo "(build it with 'tools/sndtag build $preset' for the tool's own options)"
		exit 0;;
	--preset) preset=${2:?--preset needs a value}; shift 2;;
	--variant) variant=${2:?--variant needs a value}; shift 2;;
	*) break;;
	esac
done
[ $# -gt 0 ] || die "expected a scenario file (see --help)"
bin="$ROOT/build/$preset/repro/sndtag-$tool${variant:+_$variant}"
[ -x "$bin" ] || die "no $bin; run 'tools/sndtag build $preset' first${variant:+ (variants: tools/sndtag variants)}"
exec "$bin" "$@"
