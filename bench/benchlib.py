"""Shared pieces of tools/sndtag bench tte and bench mutants.

Python 3 standard library only: statistics (quantiles, Mann-Whitney U),
a process pool that never runs more jobs than asked, crash bucketing
through tools/bucket.sh, atomic writes and gnuplot plots.
"""
import itertools
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die(prog, msg):
    """One line on stderr that says what to do, exit 2."""
    print("%s: %s" % (prog, msg), file=sys.stderr)
    sys.exit(2)


def note(prog, msg):
    print("%s: %s" % (prog, msg), file=sys.stderr, flush=True)


def ncores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def write_atomic(path, text):
    """Write via a temporary file renamed over the target: a reader never
    sees half a report, and an interrupted run leaves the old one."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)        # mkstemp makes it private; a report is not
    os.replace(tmp, path)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def variants():
    """(name, kind) from core/CMakeLists.txt, the list tools/sndtag
    variants prints; kind is "race" for a variant only the threaded mode
    can expose, i.e. one with a race scenario, corpora/races/<name>.txt
    (race_*, cxgbe_fw4_ack_revive), else "historic"."""
    out = []
    with open(os.path.join(ROOT, "core", "CMakeLists.txt")) as f:
        for line in f:
            m = re.match(r'\s*"([a-z0-9_]+)=(SNDTAG_VARIANT_[A-Z0-9_]+)"', line)
            if m:
                name = m.group(1)
                race = os.path.exists(os.path.join(ROOT, "corpora", "races", name + ".txt"))
                out.append((name, "race" if race else "historic"))
    return out


def libfuzzer_options(target):
    """-flag=value list from fuzz/<target>.options and .dict, as the
    default campaign (tools/campaign.sh) passes them."""
    opts = []
    d = os.path.join(ROOT, "fuzz", target + ".dict")
    if os.path.exists(d):
        opts.append("-dict=" + d)
    o = os.path.join(ROOT, "fuzz", target + ".options")
    if os.path.exists(o):
        with open(o) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith(("[", "#")) or "=" not in line:
                    continue
                k, v = (x.strip() for x in line.split("=", 1))
                if k != "dict":
                    opts.append("-%s=%s" % (k, v))
    return opts


# ---- crash buckets -------------------------------------------------------

REPORT_TAIL = 1 << 19

_LF_KIND = re.compile(r"ERROR: libFuzzer: ([a-z][a-z -]*[a-z])")


def bucket_of_text(text):
    """The crash bucket of a report (tools/bucket.sh), or libFuzzer's own
    kind (timeout, out-of-memory, deadly signal) when the model and the
    sanitizers said nothing; "" when there is no report."""
    # sndtag-bucket keeps a report's first MiB (a report's start names
    # the bug); a campaign log is megabytes of status lines with the
    # report at its end, so hand it the end.
    if len(text) > REPORT_TAIL:
        text = text[-REPORT_TAIL:]
    p = subprocess.run([os.path.join(ROOT, "tools", "bucket.sh")],
                       input=text, capture_output=True, text=True,
                       errors="replace")
    if p.returncode != 0:
        # No bucketer is not "no report": every bucket would be wrong.
        die("bench", (p.stderr.strip().splitlines() or
                      ["tools/bucket.sh exit %d" % p.returncode])[-1])
    b = p.stdout.strip().splitlines()
    if b and b[0]:
        return b[0]
    m = _LF_KIND.search(text)
    if m:
        return "libFuzzer: " + m.group(1)
    return ""


def bucket_of_replay(cmd, timeout=120, env=None):
    """Replays a crash file and buckets its report; "" when it does not
    crash.  env: the replay's environment (default: ours)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           errors="replace", timeout=timeout,
                           env=dict(os.environ if env is None else env,
                                    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"))
    except subprocess.TimeoutExpired:
        return "replay: timeout"
    if p.returncode == 0:
        return ""
    return bucket_of_text(p.stdout + p.stderr) or ("replay: exit %d" % p.returncode)


# ---- statistics ----------------------------------------------------------

def quantile(xs, q):
    """Linear interpolation between order statistics (R's type 7)."""
    s = sorted(xs)
    if not s:
        return None
    h = (len(s) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


BOOT_REPS = 2000


def boot_geomean_ratio(ta, tb, reps=BOOT_REPS, seed=1):
    """95% percentile interval of geomean(medians of ta) / geomean(medians
    of tb), where ta and tb hold one list of trial times per variant (the
    same variants, in the same order): each list resampled with
    replacement, reps times.  None when a list has fewer than 2 trials
    or a time that is not positive (no geometric mean).  A fixed seed:
    the same trials give the same interval."""
    if (not ta or len(ta) != len(tb) or any(len(x) < 2 for x in ta + tb)
            or min(min(x) for x in ta + tb) <= 0):
        return None
    rng = random.Random(seed)
    out = []
    for _ in range(reps):
        s = 0.0
        for xa, xb in zip(ta, tb):
            s += math.log(quantile(rng.choices(xa, k=len(xa)), 0.5))
            s -= math.log(quantile(rng.choices(xb, k=len(xb)), 0.5))
        out.append(math.exp(s / len(ta)))
    return quantile(out, 0.025), quantile(out, 0.975)


def geomean(xs):
    """Geometric mean of positive values (None if there are none)."""
    xs = [x for x in xs if x is not None]
    if not xs or min(xs) <= 0:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


_STAT_EXECS = re.compile(r"^stat::number_of_executed_units:\s*(\d+)\s*$", re.M)


def libfuzzer_execs(log):
    """libFuzzer's count of executions when it stopped (printed at exit and
    at a crash with -print_final_stats=1), or None."""
    m = _STAT_EXECS.findall(log)
    return int(m[-1]) if m else None


def _ranks(values):
    """Mid-ranks (1-based) of values, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        r = (i + j) / 2.0 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = r
        i = j + 1
    return ranks


def _normal_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


EXACT_LIMIT = 200000


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test of samples a and b.

    Returns (U_a, p, method).  U_a counts pairs where a is larger (ties
    count one half).  The p-value is exact (every assignment of the pooled
    mid-ranks to the two groups, so ties are handled exactly) when there
    are at most EXACT_LIMIT assignments, otherwise the normal
    approximation with tie correction and continuity correction."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return (None, None, "n/a")
    pooled = list(a) + list(b)
    r = _ranks(pooled)
    r1 = sum(r[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    n = n1 + n2
    if len(set(pooled)) == 1:
        return (u1, 1.0, "all tied")
    if math.comb(n, n1) <= EXACT_LIMIT:
        obs = abs(u1 - mu)
        hits = total = 0
        off = n1 * (n1 + 1) / 2.0
        for idx in itertools.combinations(range(n), n1):
            u = sum(r[i] for i in idx) - off
            total += 1
            if abs(u - mu) >= obs - 1e-9:
                hits += 1
        return (u1, hits / total, "exact")
    counts = {}
    for v in pooled:
        counts[v] = counts.get(v, 0) + 1
    tie = sum(t ** 3 - t for t in counts.values())
    var = n1 * n2 / 12.0 * ((n + 1) - tie / (n * (n - 1)))
    if var <= 0:
        return (u1, 1.0, "all tied")
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    return (u1, min(1.0, 2 * _normal_sf(max(z, 0.0))), "normal")


# ---- a pool of child processes -------------------------------------------

class Pool:
    """Runs jobs (objects with start(), poll() -> bool done, kill()) with
    at most `jobs` running at once, calling on_done(job) as each ends.

    Polling, not threads: each job decides itself when it is over (a
    process exit, a budget, a line in its log)."""

    def __init__(self, jobs, interval=0.25):
        self.jobs = max(1, jobs)
        self.interval = interval

    def run(self, pending, on_start, on_done, on_tick=None, tick=60.0):
        """on_tick(running jobs) every `tick` seconds: the progress line
        of long jobs."""
        pending = list(pending)
        running = []
        last = time.monotonic()
        try:
            while pending or running:
                if on_tick and running and time.monotonic() - last >= tick:
                    last = time.monotonic()
                    on_tick(running)
                while pending and len(running) < self.jobs:
                    j = pending.pop(0)
                    j.start()
                    on_start(j)
                    running.append(j)
                time.sleep(self.interval)
                still = []
                for j in running:
                    if j.poll():
                        on_done(j)
                    else:
                        still.append(j)
                running = still
        finally:
            # A second ^C must not cut this short: it would leave trials
            # running in their own sessions, out of the terminal's reach.
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                for j in running:
                    j.kill()
            finally:
                signal.signal(signal.SIGINT, old)


def spawn(cmd, log, env=None, cwd=None):
    """A child in its own process group (so a kill takes its children:
    afl-fuzz's target, the sweep's runs, the symbolizer), output to log."""
    f = open(log, "wb")
    try:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                start_new_session=True)
    finally:
        f.close()


def killpg(proc, sig=signal.SIGTERM, grace=5.0):
    """Ends a spawn()ed child and its group: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# ---- plots ---------------------------------------------------------------

def gnuplot(script, cwd):
    """Runs a gnuplot script; returns an error line or None."""
    try:
        p = subprocess.run(["gnuplot"], input=script, capture_output=True,
                           text=True, cwd=cwd)
    except FileNotFoundError:
        return "gnuplot not found: run 'sudo tools/sndtag deps' (gnuplot-nox)"
    if p.returncode != 0:
        return "gnuplot failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
    return None


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fmt_s(x, censored=False):
    if x is None:
        return "—"
    if censored:
        return ">%.0f" % x
    return "%.1f" % x if x < 100 else "%.0f" % x


def mdtable(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join("---" for _ in header) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out) + "\n"


def texttable(header, rows):
    w = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(str(c)))
    line = lambda r: "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip()
    return "\n".join([line(header), line(["-" * x for x in w])] +
                     [line(r) for r in rows]) + "\n"


def machine_line():
    load = os.getloadavg()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = ", %.0f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return "%d cores%s, load average at the end %.2f %.2f %.2f" % (
        ncores(), mem, load[0], load[1], load[2])
