#!/usr/bin/env python3
"""Validates the ClusterFuzzLite setup: .github/workflows/cflite_*.yml and
.clusterfuzzlite/{project.yaml,Dockerfile,build.sh}.

Each workflow must parse as YAML and have what ClusterFuzzLite's GitHub
Actions documentation lays out (google.github.io/clusterfuzzlite,
running-clusterfuzzlite/github-actions; the inputs of
actions/build_fuzzers and actions/run_fuzzers): a trigger, jobs with
runs-on and steps, build_fuzzers@v1 before run_fuzzers@v1 in a job with
the same sanitizer, only inputs the actions know, the language of
.clusterfuzzlite/project.yaml, run_fuzzers with github-token,
fuzz-seconds and a mode.  Together the files must give: PR fuzzing
(code-change, on pull_request), batch fuzzing (on a schedule), corpus
pruning and coverage (sanitizer coverage), with the sanitizers address
and undefined for PR and batch fuzzing.

usage: tools/check-workflows.py [REPO_ROOT]
"""
import os
import re
import sys

try:
  import yaml
except ImportError:
  print('check-workflows.py: PyYAML is missing; run "sudo tools/sndtag deps" '
        '(Debian package python3-yaml)', file=sys.stderr)
  sys.exit(2)

BUILD = 'google/clusterfuzzlite/actions/build_fuzzers@v1'
RUN = 'google/clusterfuzzlite/actions/run_fuzzers@v1'
BUILD_INPUTS = {
    'language', 'dry-run', 'allowed-broken-targets-percentage', 'sanitizer',
    'project-src-path', 'bad-build-check', 'storage-repo',
    'storage-repo-branch', 'storage-repo-branch-coverage', 'upload-build',
    'github-token', 'architecture', 'keep-unaffected-fuzz-targets',
    'output-sarif'}
RUN_INPUTS = {
    'language', 'fuzz-seconds', 'dry-run', 'sanitizer', 'mode',
    'run-fuzzers-mode', 'github-token', 'storage-repo', 'storage-repo-branch',
    'storage-repo-branch-coverage', 'report-unreproducible-crashes',
    'minimize-crashes', 'parallel-fuzzing', 'output-sarif', 'report-timeouts',
    'report-ooms', 'architecture'}
MODES = {'code-change', 'batch', 'prune', 'coverage'}
SANITIZERS = {'address', 'undefined', 'memory', 'coverage'}


def sanitizers_of(job, value):
  """The sanitizers a step's sanitizer input stands for in this job."""
  if value is None:
    return {'address'}  # the actions' default
  m = re.fullmatch(r'\$\{\{\s*matrix\.(\w+)\s*\}\}', str(value).strip())
  if m:
    matrix = (job.get('strategy') or {}).get('matrix') or {}
    return set(matrix.get(m.group(1)) or [])
  return {str(value)}


def main(argv):
  if argv and argv[0] in ('-h', '--help'):
    print(__doc__.strip())
    return 0
  root = argv[0] if argv else os.path.join(os.path.dirname(__file__), '..')
  errors = []
  err = errors.append

  cfl = os.path.join(root, '.clusterfuzzlite')
  language = None
  try:
    with open(os.path.join(cfl, 'project.yaml')) as f:
      language = (yaml.safe_load(f) or {}).get('language')
  except (OSError, yaml.YAMLError) as e:
    err('.clusterfuzzlite/project.yaml: %s' % e)
  if language not in ('c', 'c++'):
    err('.clusterfuzzlite/project.yaml: language must be c or c++, got %r' %
        language)
  try:
    docker = open(os.path.join(cfl, 'Dockerfile')).read()
    if not re.search(r'^FROM gcr\.io/oss-fuzz-base/base-builder(:v1)?\s*$',
                     docker, re.M):
      err('.clusterfuzzlite/Dockerfile: not FROM gcr.io/oss-fuzz-base/'
          'base-builder[:v1]')
    if not re.search(r'^COPY \. \$SRC/\S+', docker, re.M):
      err('.clusterfuzzlite/Dockerfile: does not COPY the checkout into $SRC')
    if not re.search(r'^COPY \S*build\.sh \$SRC/?\s*$', docker, re.M):
      err('.clusterfuzzlite/Dockerfile: does not COPY build.sh to $SRC/')
  except OSError as e:
    err('.clusterfuzzlite/Dockerfile: %s' % e)
  if not os.access(os.path.join(cfl, 'build.sh'), os.X_OK):
    err('.clusterfuzzlite/build.sh: missing or not executable')

  wdir = os.path.join(root, '.github', 'workflows')
  files = sorted(f for f in os.listdir(wdir)
                 if f.startswith('cflite') and f.endswith(('.yml', '.yaml'))) \
      if os.path.isdir(wdir) else []
  if not files:
    err('.github/workflows: no cflite_*.yml')
  found = {}  # mode -> (triggers, sanitizers)
  for name in files:
    path = '.github/workflows/' + name
    try:
      with open(os.path.join(wdir, name)) as f:
        wf = yaml.safe_load(f)
    except yaml.YAMLError as e:
      err('%s: not valid YAML: %s' % (path, str(e).splitlines()[0]))
      continue
    if not isinstance(wf, dict):
      err('%s: not a mapping' % path)
      continue
    # YAML 1.1 reads the key "on" as true.
    on = wf.get('on', wf.get(True))
    if not on:
      err('%s: no "on" trigger' % path)
      on = {}
    triggers = set(on) if isinstance(on, dict) else (
        set(on) if isinstance(on, list) else {on})
    if 'name' not in wf:
      err('%s: no name' % path)
    if 'permissions' not in wf:
      err('%s: no permissions (the documented workflows use read-all)' % path)
    if 'schedule' in triggers:
      for s in on.get('schedule') or []:
        if len(str(s.get('cron', '')).split()) != 5:
          err('%s: bad cron %r' % (path, s.get('cron')))
    jobs = wf.get('jobs') or {}
    if not jobs:
      err('%s: no jobs' % path)
    for jname, job in jobs.items():
      where = '%s: job %s' % (path, jname)
      if not job.get('runs-on'):
        err('%s: no runs-on' % where)
      steps = job.get('steps') or []
      if not steps:
        err('%s: no steps' % where)
      built = None
      for step in steps:
        uses = step.get('uses', '')
        w = step.get('with') or {}
        if uses.startswith('google/clusterfuzzlite/') and uses not in (BUILD,
                                                                      RUN):
          err('%s: unknown action %s (expected build_fuzzers@v1 or '
              'run_fuzzers@v1)' % (where, uses))
        if uses == BUILD:
          for k in set(w) - BUILD_INPUTS:
            err('%s: build_fuzzers has no input %r' % (where, k))
          if w.get('language') != language:
            err('%s: build_fuzzers language %r, project.yaml says %r' %
                (where, w.get('language'), language))
          built = sanitizers_of(job, w.get('sanitizer'))
          for s in built - SANITIZERS:
            err('%s: unknown sanitizer %r' % (where, s))
        elif uses == RUN:
          for k in set(w) - RUN_INPUTS:
            err('%s: run_fuzzers has no input %r' % (where, k))
          if built is None:
            err('%s: run_fuzzers without build_fuzzers before it' % where)
          if 'github-token' not in w:
            err('%s: run_fuzzers needs github-token' % where)
          try:
            if int(w.get('fuzz-seconds')) <= 0:
              raise ValueError
          except (TypeError, ValueError):
            err('%s: fuzz-seconds must be a positive number' % where)
          mode = w.get('mode')
          if mode not in MODES:
            err('%s: mode %r is not one of %s' % (where, mode,
                                                  ', '.join(sorted(MODES))))
            continue
          ran = sanitizers_of(job, w.get('sanitizer'))
          if built is not None and ran != built:
            err('%s: built for %s but runs %s' % (where, sorted(built),
                                                  sorted(ran)))
          if mode == 'coverage' and ran != {'coverage'}:
            err('%s: coverage mode needs sanitizer coverage' % where)
          t, s = found.get(mode, (set(), set()))
          found[mode] = (t | triggers, s | ran)
  need = {'code-change': 'pull_request', 'batch': 'schedule',
          'prune': 'schedule', 'coverage': 'schedule'}
  for mode, trig in need.items():
    if mode not in found:
      err('no workflow runs mode %s' % mode)
    elif trig not in found[mode][0]:
      err('mode %s is not triggered by %s' % (mode, trig))
  for mode in ('code-change', 'batch'):
    if mode in found and not {'address', 'undefined'} <= found[mode][1]:
      err('mode %s does not run both address and undefined (%s)' %
          (mode, sorted(found[mode][1])))
  for e in errors:
    print('check-workflows: %s' % e)
  if not errors:
    print('check-workflows: %d workflow(s) ok: %s' % (len(files), ', '.join(
        '%s %s' % (m, sorted(found[m][1])) for m in sorted(found))))
  return 1 if errors else 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
