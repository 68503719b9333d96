#!/usr/bin/env bash
# Writes your repository URL and contact address into oss-fuzz/project.yaml
# (main_repo, primary_contact) and oss-fuzz/Dockerfile (the git clone),
# then checks them as OSS-Fuzz's presubmit does.  Usage:
#   oss-fuzz/set-project.sh https://github.com/you/sndtag-harness.git you@example.org
set -euo pipefail
die() { printf 'set-project.sh: %s\n' "$*" >&2; exit 2; }
case "${1:-}" in -h|--help|"")
	echo "usage: oss-fuzz/set-project.sh REPO_URL EMAIL   (see docs/FUZZING.md)"
	[ -n "${1:-}" ] && exit 0 || exit 2;;
esac
[ $# -eq 2 ] || die "expected REPO_URL and EMAIL (see --help)"
repo=$1 mail=$2
[[ "$repo" =~ ^(https://|git://|git@)[^[:space:]\"]+$ ]] ||
    die "'$repo' is not a git URL (https://..., git://... or git@...)"
[[ "$mail" == *@*.* && "$mail" != *[[:space:]\"]* ]] ||
    die "'$mail' is not an email address"
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
yaml="$dir/project.yaml" docker="$dir/Dockerfile"
# Each file through a temporary and a rename: never half written.
sed -e "s|^primary_contact: .*|primary_contact: \"$mail\"|" \
    -e "s|^main_repo: .*|main_repo: \"$repo\"|" \
    -e '/^# Placeholders/,/^# writes your/d' "$yaml" > "$yaml.tmp"
sed -e "s|^RUN git clone --depth 1 [^ ]* sndtag-harness$|RUN git clone --depth 1 $repo sndtag-harness|" \
    "$docker" > "$docker.tmp"
mv "$yaml.tmp" "$yaml"
mv "$docker.tmp" "$docker"
python3 "$dir/check-project.py" --submit "$yaml" "$docker"
