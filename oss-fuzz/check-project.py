#!/usr/bin/env python3
"""Checks oss-fuzz/project.yaml the way OSS-Fuzz's presubmit
(infra/presubmit.py, ProjectYamlChecker) does: known section names,
main_repo present, the language and the sanitizer, engine and
architecture constants known, primary_contact and auto_ccs shaped like
addresses.  With --submit it also refuses the placeholders that
set-project.sh replaces, and checks that the Dockerfile clones main_repo.

usage: check-project.py [--submit] PROJECT_YAML [DOCKERFILE]
"""
import re
import sys

import yaml

SECTIONS = {
    'architectures', 'auto_ccs', 'blackbox', 'builds_per_day',
    'coverage_extra_args', 'disabled', 'fuzzing_engines', 'help_url',
    'homepage', 'language', 'labels', 'main_repo', 'primary_contact',
    'run_tests', 'sanitizers', 'selective_unpack', 'vendor_ccs',
    'view_restrictions', 'file_github_issue',
}
CONSTANTS = {
    'sanitizers': {'address', 'none', 'memory', 'undefined', 'thread',
                   'coverage', 'introspector', 'hwaddress'},
    'architectures': {'i386', 'x86_64', 'aarch64'},
    'fuzzing_engines': {'afl', 'honggfuzz', 'libfuzzer', 'centipede',
                        'none', 'wycheproof'},
}
LANGUAGES = {'c', 'c++', 'go', 'javascript', 'jvm', 'python', 'rust',
             'swift', 'ruby'}


def main(argv):
  submit = '--submit' in argv
  args = [a for a in argv if a != '--submit']
  if not args or args[0] in ('-h', '--help'):
    print(__doc__.strip())
    return 0 if args else 2
  path = args[0]
  with open(path) as f:
    data = yaml.safe_load(f)
  errors = []
  for name in data:
    if name not in SECTIONS:
      errors.append('%s is not a valid section name' % name)
  if 'main_repo' not in data:
    errors.append('main_repo section is missing')
  for section, allowed in CONSTANTS.items():
    for value in data.get(section, []):
      key = value if isinstance(value, str) else next(iter(value), None)
      if key not in allowed:
        errors.append('%s (in %s) is not a valid constant' % (value, section))
  addresses = ([data['primary_contact']] if data.get('primary_contact') else
               []) + list(data.get('auto_ccs') or [])
  for a in addresses:
    if '@' not in a or '.' not in a:
      errors.append('%s is an invalid email address' % a)
  if data.get('language') not in LANGUAGES:
    errors.append('language %r is missing or not supported' %
                  data.get('language'))
  repo = str(data.get('main_repo', ''))
  if not re.match(r'^(https://|git://|git@)\S+$', repo):
    errors.append('main_repo %r is not a git URL' % repo)
  if submit:
    for field in ('main_repo', 'primary_contact'):
      if 'example.invalid' in str(data.get(field, '')):
        errors.append('%s is still the placeholder; run '
                      'oss-fuzz/set-project.sh URL EMAIL' % field)
    if len(args) > 1:
      with open(args[1]) as f:
        docker = f.read()
      if not re.search(r'git clone\b.*\s%s\s' % re.escape(repo), docker):
        errors.append('the Dockerfile does not clone main_repo %s' % repo)
  for e in errors:
    print('%s: %s' % (path, e))
  if not errors:
    print('%s: ok%s' % (path, ' (ready to submit)' if submit else ''))
  return 1 if errors else 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
