#!/usr/bin/env python3
"""tools/sndtag bench tte: time to exposure of each variant over trials.

For every variant and configuration, N trials with a fixed recorded seed
each and a time budget; each trial records when the variant's canary was
first reached and first triggered (SNDTAG_CANARY_DIR stamps, see
core/shim/canary.h) and when the report came (the crash file), buckets the
report and checks that the crash does not also happen on the correct core.
Writes report.md, trials.csv, summary.json and survival plots under the
output folder.  See docs/FUZZING.md, "Fuzzing power".
"""
import argparse
import csv
import datetime
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

PROG = "sndtag bench tte"
ROOT = bl.ROOT

# name -> (engine, target, corpus); engine libfuzzer/afl apply to the
# historic variants (the sequential targets), sweep and threads (libFuzzer
# on fuzz_threads, in the sweep's build) to the race variants.
CONFIGS = {
    "lf-struct-empty": ("libfuzzer", "fuzz_scenario", "empty"),
    "lf-raw-empty": ("libfuzzer", "fuzz_raw", "empty"),
    "afl-struct-empty": ("afl", "fuzz_scenario", "empty"),
    "lf-struct-seeds": ("libfuzzer", "fuzz_scenario", "seeds"),
    "lf-raw-seeds": ("libfuzzer", "fuzz_raw", "seeds"),
    "afl-struct-seeds": ("afl", "fuzz_scenario", "seeds"),
    "afl-raw-empty": ("afl", "fuzz_raw", "empty"),
    "afl-raw-seeds": ("afl", "fuzz_raw", "seeds"),
    "sweep": ("sweep", None, "seeds"),
    "threads-seeds": ("threads", "fuzz_threads", "seeds"),
    "threads-empty": ("threads", "fuzz_threads", "empty"),
}
DEFAULT_CONFIGS = ["lf-struct-empty", "lf-raw-empty", "afl-struct-empty",
                   "lf-struct-seeds", "lf-raw-seeds", "afl-struct-seeds",
                   "sweep", "threads-seeds", "threads-empty"]
# The pairs the U test compares, per variant.
COMPARISONS = [
    ("structured vs raw (libFuzzer, empty)", "lf-struct-empty", "lf-raw-empty"),
    ("structured vs raw (libFuzzer, seeds)", "lf-struct-seeds", "lf-raw-seeds"),
    ("libFuzzer vs AFL++ (structured, empty)", "lf-struct-empty", "afl-struct-empty"),
    ("libFuzzer vs AFL++ (structured, seeds)", "lf-struct-seeds", "afl-struct-seeds"),
    ("fuzz_threads vs sweep (seeds)", "threads-seeds", "sweep"),
]
# AFL++ will not start from an empty queue: one input that decodes to an
# empty Scenario (field 2047, unknown to the schema, value 0), so it
# starts from nothing the way libFuzzer does from an empty corpus.
AFL_EMPTY_SEED = b"\xf8\x7f\x00"
GRACE = 30.0        # past the budget before an engine is killed


def applies(config, kind):
    eng = CONFIGS[config][0]
    return (eng in ("sweep", "threads")) == (kind == "race")


class Trial:
    def __init__(self, a, variant, config, k):
        self.a = a
        self.variant = variant
        self.config = config
        self.k = k
        self.engine, self.target, self.corpus = CONFIGS[config]
        self.seed = a.seed_base + k
        self.dir = os.path.join(a.raw, variant, config, "t%d" % k)
        self.proc = None
        self.t0 = self.t0_real = 0.0
        self.log_hit = None
        self.logpos = 0
        self.result = None

    @property
    def name(self):
        return "%s %s t%d" % (self.variant, self.config, self.k)

    def elapsed(self):
        return time.monotonic() - self.t0

    # -- start -------------------------------------------------------------

    def start(self):
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(os.path.join(self.dir, "canary"))
        env = dict(os.environ, SNDTAG_CANARY_DIR=os.path.join(self.dir, "canary"))
        cmd = getattr(self, "_cmd_" + self.engine)(env)
        self.cmd = cmd
        with open(os.path.join(self.dir, "cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self.t0 = time.monotonic()
        self.t0_real = time.time()
        self.proc = bl.spawn(cmd, os.path.join(self.dir, "log"), env=env,
                             cwd=self.dir)

    def _cmd_threads(self, env):
        # The sweep's build (TSan by default) and its TSan options.
        env["TSAN_OPTIONS"] = os.environ.get(
            "TSAN_OPTIONS", "halt_on_error=1:history_size=4:second_deadlock_stack=1:"
            "suppressions=" + os.path.join(ROOT, "tools", "tsan.supp"))
        return self._cmd_libfuzzer(env, self.a.sweep_build)

    def _cmd_libfuzzer(self, env, build=None):
        a = self.a
        build = build or a.build
        bin_ = os.path.join(build, "fuzz", "%s_%s" % (self.target, self.variant))
        os.makedirs(os.path.join(self.dir, "corpus"))
        os.makedirs(os.path.join(self.dir, "crashes"))
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS",
                                             "detect_leaks=1:abort_on_error=0")
        env["UBSAN_OPTIONS"] = os.environ.get(
            "UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        cmd = [bin_, "-seed=%d" % self.seed, "-max_total_time=%d" % a.time,
               "-print_final_stats=1",
               "-artifact_prefix=" + os.path.join(self.dir, "crashes") + "/"]
        cmd += bl.libfuzzer_options(self.target)
        cmd.append(os.path.join(self.dir, "corpus"))
        if self.corpus == "seeds":
            cmd.append(os.path.join(build, "corpora", self.target))
        return cmd

    def _cmd_afl(self, env):
        a = self.a
        bin_ = os.path.join(a.afl_build, "fuzz", "%s_%s" % (self.target, self.variant))
        if self.corpus == "seeds":
            inp = os.path.join(a.afl_build, "corpora", self.target)
        else:
            inp = os.path.join(self.dir, "in")
            os.makedirs(inp)
            with open(os.path.join(inp, "empty"), "wb") as f:
                f.write(AFL_EMPTY_SEED)
        env.update(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1",
                   AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1",
                   AFL_BENCH_UNTIL_CRASH="1", AFL_NO_AFFINITY="1",
                   AFL_QUIET="1")
        env.pop("ASAN_OPTIONS", None)       # afl-fuzz sets what it needs
        mut = os.path.join(a.afl_build, "fuzz", self.target + "_mutator.so")
        if self.target == "fuzz_scenario":
            env["AFL_CUSTOM_MUTATOR_LIBRARY"] = mut
        cmd = ["afl-fuzz", "-i", inp, "-o", os.path.join(self.dir, "afl"),
               "-s", str(self.seed), "-V", str(a.time)]
        d = os.path.join(ROOT, "fuzz", self.target + ".dict")
        if os.path.exists(d):
            cmd += ["-x", d]
        return cmd + ["--", bin_]

    def _cmd_sweep(self, env):
        a = self.a
        bin_ = os.path.join(a.sweep_build, "tools", "sndtag-sweep_" + self.variant)
        # The seeds fuzz_threads starts from: the scenario seeds and the
        # race sweep's scenarios.
        corpora = [os.path.join(ROOT, "corpora", d) for d in ("fuzz_scenario", "races")]
        nfiles = sum(len([f for f in os.listdir(c) if f.endswith(".txt")]) for c in corpora)
        # Enough seeds that the budget, not the sweep, ends the trial
        # (sweeps run well under 400 runs/s), few enough to stay small.
        nseeds = min(1000000, int(a.time * 400 / (3 * max(1, nfiles))) + 10)
        self.sweep_start = self.seed * 1000000 + 1
        return [bin_, "-j", "1", "--seed-start", str(self.sweep_start),
                "--seeds", str(nseeds), "--depths", "1,2,3",
                "--summary", os.path.join(self.dir, "summary.txt")] + corpora

    # -- poll --------------------------------------------------------------

    def poll(self):
        if self.engine in ("sweep", "afl") and self.log_hit is None:
            self._scan_log()
            if self.log_hit is not None:
                bl.killpg(self.proc)
                return self._finish()
        if self.proc.poll() is not None:
            return self._finish()
        limit = self.a.time if self.engine == "sweep" else self.a.time + GRACE
        if self.elapsed() > limit:
            bl.killpg(self.proc)
            return self._finish()
        return False

    def _scan_log(self):
        """The sweep's first finding, or a seed AFL++ skips in its dry run
        because it crashes (libFuzzer would stop there: so do we)."""
        log = os.path.join(self.dir, "log")
        try:
            with open(log, "rb") as f:
                f.seek(self.logpos)
                data = f.read()
        except OSError:
            return
        nl = data.rfind(b"\n")
        if nl < 0:
            return
        self.logpos += nl + 1
        for line in data[:nl].decode(errors="replace").splitlines():
            if self.engine == "afl":
                m = re.search(r"Test case '([^']+)' results in a crash", line)
                if m:
                    self.log_hit = (self.elapsed(), m.group(1))
                    return
                continue
            m = re.search(r": new finding: (.*) \((\S+) seed (\d+) depth (\d+)\)$", line)
            if m:
                self.log_hit = (self.elapsed(), m.group(1), m.group(2),
                                  int(m.group(3)), int(m.group(4)))
                return

    def kill(self):
        if self.proc is not None:
            bl.killpg(self.proc)

    # -- results -----------------------------------------------------------

    def _stamp(self, kind):
        p = os.path.join(self.dir, "canary", "%s.%s" % (self.variant, kind))
        try:
            with open(p) as f:
                t = float(f.read().strip()) - self.t0
        except (OSError, ValueError):
            return None
        t = max(0.0, t)
        return t if t <= self.a.time else None

    def _crash_files(self):
        if self.engine in ("libfuzzer", "threads"):
            d = os.path.join(self.dir, "crashes")
            pat = re.compile(r"^(crash|leak|timeout|oom|slow-unit)-")
        else:
            d = os.path.join(self.dir, "afl", "default", "crashes")
            pat = re.compile(r"^id:")
        try:
            names = [n for n in os.listdir(d) if pat.match(n)]
        except OSError:
            return []
        return sorted((os.path.getmtime(os.path.join(d, n)), os.path.join(d, n))
                      for n in names)

    def _replay(self, variant, path):
        exe = "sndtag-replay" + ("_" + variant if variant else "")
        build = self.a.sweep_build if self.engine == "threads" else self.a.build
        cmd = [os.path.join(build, "repro", exe)]
        if self.target == "fuzz_raw":
            cmd.append("--raw")
        if self.target == "fuzz_threads":
            cmd += ["--threaded", "--strategy", "switch"]
        return cmd + [path]

    def _finish(self):
        a = self.a
        if self.proc.poll() is None:
            bl.killpg(self.proc)
        rc = self.proc.returncode
        wall = self.elapsed()
        r = dict(variant=self.variant, config=self.config, trial=self.k,
                 seed=self.seed, budget=a.time, reach=self._stamp("reached"),
                 trigger=self._stamp("triggered"), detect=None, bucket="",
                 crash="", status="censored", note="", execs=None)
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            log = f.read()
        if self.engine in ("libfuzzer", "threads"):
            r["execs"] = bl.libfuzzer_execs(log)
        if self.engine == "sweep":
            r["seed"] = self.sweep_start
            if self.log_hit is not None:
                t, sig, path, s, d = self.log_hit
                r.update(detect=t, bucket=sig, status="found",
                         crash="%s seed %d depth %d" % (os.path.relpath(path, ROOT), s, d))
                clean = os.path.join(a.sweep_build, "tools", "sndtag-sweep")
                p = subprocess.run([clean, "--replay", "--seed", str(s), "--depth",
                                    str(d), path], capture_output=True, text=True,
                                   errors="replace")
                if p.returncode != 0:
                    r.update(status="correct-core", note="the correct core fails this run too")
            elif rc not in (0, None, -15) and "runs" not in log[-2000:]:
                r.update(status="error", note=log.strip().splitlines()[-1:][0][:200] if log.strip() else "exit %s" % rc)
            return self._done(r, wall)
        crashes = self._crash_files()
        if self.engine == "afl" and self.log_hit is not None:
            t, name = self.log_hit
            orig = re.search(r"orig:(.*)$", name)
            for q in (name, os.path.join(self.dir, "afl", "default", "queue",
                                         os.path.basename(name)),
                      os.path.join(a.afl_build, "corpora", self.target,
                                   orig.group(1) if orig else os.path.basename(name))):
                if os.path.isfile(q):
                    crashes = [(self.t0_real + t, q)]
                    r["note"] = "a seed crashes (afl-fuzz's dry run)"
                    break
        if self.engine == "afl" and not crashes:
            if rc not in (0, None) and not os.path.exists(
                    os.path.join(self.dir, "afl", "default", "fuzzer_stats")):
                last = [l for l in log.splitlines() if "PROGRAM ABORT" in l or "ERROR" in l]
                r.update(status="error", note=(last or ["afl-fuzz exit %s" % rc])[-1].strip()[:200])
                return self._done(r, wall)
        if crashes:
            mt, path = crashes[0]
            t = max(0.0, min(mt - self.t0_real, wall))
            if t <= a.time:
                r.update(detect=t, status="found", crash=os.path.relpath(path, ROOT))
                if self.engine in ("libfuzzer", "threads"):
                    r["bucket"] = bl.bucket_of_text(log)
                if not r["bucket"]:
                    r["bucket"] = bl.bucket_of_replay(self._replay(self.variant, path)) \
                        or "(does not reproduce)"
                if bl.bucket_of_replay(self._replay("", path)):
                    r.update(status="correct-core",
                             note="the crash reproduces on the correct core too: "
                                  "not this variant's bug")
        elif self.engine in ("libfuzzer", "threads") and rc not in (0, None, -15) and \
                "Done " not in log and "stat::" not in log:
            r.update(status="error", note=(log.strip().splitlines() or ["exit %s" % rc])[-1][:200])
        return self._done(r, wall)

    def _done(self, r, wall):
        r["wall"] = round(wall, 3)
        for k in ("reach", "trigger", "detect"):
            if r[k] is not None:
                r[k] = round(r[k], 3)
        self.result = r
        bl.write_json(os.path.join(self.dir, "result.json"), r)
        return True


# ---- builds ----------------------------------------------------------------

def ensure_builds(a, trials):
    """Builds exactly the binaries the trials need (configuring a preset
    first if its build folder is missing)."""
    need = {}
    for t in trials:
        if t.engine == "libfuzzer":
            need.setdefault(("asan", a.build), set()).update(
                {"%s_%s" % (t.target, t.variant), "sndtag-replay_" + t.variant,
                 "sndtag-replay", "sndtag_seed_corpora"})
        elif t.engine == "afl":
            need.setdefault(("afl", a.afl_build), set()).update(
                {"%s_%s" % (t.target, t.variant), "fuzz_scenario_mutator",
                 "sndtag_seed_corpora"})
            need.setdefault(("asan", a.build), set()).update(
                {"sndtag-replay_" + t.variant, "sndtag-replay"})
        elif t.engine == "threads":
            need.setdefault((a.sweep_preset, a.sweep_build), set()).update(
                {"fuzz_threads_" + t.variant, "sndtag-replay_" + t.variant,
                 "sndtag-replay", "sndtag_seed_corpora"})
        else:
            need.setdefault((a.sweep_preset, a.sweep_build), set()).update(
                {"sndtag-sweep_" + t.variant, "sndtag-sweep"})
    # Every report is bucketed by tools/bucket.sh, which runs the first
    # build's sndtag-bucket: a fresh clone has none until it is built.
    for targets in need.values():
        targets.add("sndtag-bucket")
    logd = os.path.join(a.raw, "build-logs")
    os.makedirs(logd, exist_ok=True)
    for (preset, bdir), targets in sorted(need.items()):
        if a.no_build:
            continue
        log = os.path.join(logd, preset + ".log")
        bl.note(PROG, "building %d target(s) in %s (log: %s)" % (
            len(targets), os.path.relpath(bdir, ROOT), os.path.relpath(log, ROOT)))
        with open(log, "w") as f:
            if not os.path.exists(os.path.join(bdir, "build.ninja")):
                if os.path.abspath(bdir) != os.path.join(ROOT, "build", preset):
                    bl.die(PROG, "%s is not configured; run 'cmake --preset %s' "
                           "or pass its build folder" % (bdir, preset))
                p = subprocess.run(["cmake", "--preset", preset], cwd=ROOT,
                                   stdout=f, stderr=subprocess.STDOUT)
                if p.returncode != 0:
                    bl.die(PROG, "cmake --preset %s failed (see %s)" % (preset, log))
            p = subprocess.run(["cmake", "--build", bdir, "-j", str(bl.ncores()),
                                "--target"] + sorted(targets), cwd=ROOT,
                               stdout=f, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                bl.die(PROG, "building %s in %s failed (see %s)" % (
                    " ".join(sorted(targets)), bdir, log))


# ---- summary ---------------------------------------------------------------

def _q(values, budget, q):
    """Quantile where None (censored) counts as the budget; returns
    (value, censored?)."""
    inf = float("inf")
    xs = sorted(inf if v is None else v for v in values)
    if not xs:
        return (None, False)
    h = (len(xs) - 1) * q
    lo = int(math.floor(h))
    hi = min(lo + 1, len(xs) - 1)
    if xs[lo] == inf or (h > lo and xs[hi] == inf):
        return (budget, True)
    if h == lo:     # 0 * (inf - x) would be nan when the next is censored
        return (xs[lo], False)
    return (xs[lo] + (h - lo) * (xs[hi] - xs[lo]), False)


def stat_cell(values, budget):
    if not values:
        return "—"
    m, mc = _q(values, budget, 0.5)
    q1, c1 = _q(values, budget, 0.25)
    q3, c3 = _q(values, budget, 0.75)
    return "%s [%s–%s]" % (bl.fmt_s(m, mc), bl.fmt_s(q1, c1), bl.fmt_s(q3, c3))


def summarize(results, budget):
    groups = {}
    for r in results:
        groups.setdefault((r["variant"], r["config"]), []).append(r)
    rows = []
    for (v, c), rs in groups.items():
        rs.sort(key=lambda r: r["trial"])
        found = [r for r in rs if r["status"] == "found"]
        det = [r["detect"] if r["status"] == "found" else None for r in rs]
        buckets = {}
        for r in found:
            buckets[r["bucket"]] = buckets.get(r["bucket"], 0) + 1
        top = sorted(buckets.items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(dict(
            variant=v, config=c, n=len(rs), found=len(found),
            errors=sum(r["status"] == "error" for r in rs),
            correct_core=sum(r["status"] == "correct-core" for r in rs),
            reach=stat_cell([r["reach"] for r in rs], budget),
            trigger=stat_cell([r["trigger"] for r in rs], budget),
            detect=stat_cell(det, budget),
            detect_times=[budget if d is None else d for d in det],
            execs=bl.quantile([r["execs"] for r in found if r.get("execs")], 0.5),
            buckets=top))
    return rows


def order_key(a):
    vorder = {v: i for i, (v, _) in enumerate(bl.variants())}
    corder = {c: i for i, c in enumerate(CONFIGS)}
    return lambda row: (vorder.get(row["variant"], 99), corder.get(row["config"], 99))


def comparisons(rows):
    by = {(r["variant"], r["config"]): r for r in rows}
    out = []
    for v in sorted({r["variant"] for r in rows},
                    key=lambda v: [n for n, _ in bl.variants()].index(v)
                    if v in [n for n, _ in bl.variants()] else 99):
        for label, ca, cb in COMPARISONS:
            if (v, ca) not in by or (v, cb) not in by:
                continue
            xa, xb = by[(v, ca)]["detect_times"], by[(v, cb)]["detect_times"]
            u, p, method = bl.mann_whitney(xa, xb)
            ma, mb = bl.quantile(xa, 0.5), bl.quantile(xb, 0.5)
            faster = ca if ma < mb else cb if mb < ma else "neither"
            out.append(dict(variant=v, comparison=label, a=ca, b=cb, U=u, p=p,
                            method=method, faster=faster, median_a=ma, median_b=mb,
                            times_a=list(xa), times_b=list(xb),
                            execs_a=by[(v, ca)]["execs"], execs_b=by[(v, cb)]["execs"]))
    return out


def geomeans(comps):
    """Per comparison, over its variants: the geometric means of the two
    configurations' median detect times (censored trials count as the
    budget) and their ratio b/a (how many times faster a is) with its
    bootstrap interval when every variant has 2 trials or more, and the
    same for the median executions to the report where both have them."""
    out = []
    for label in dict.fromkeys(c["comparison"] for c in comps):
        cs = [c for c in comps if c["comparison"] == label]
        g = dict(comparison=label, a=cs[0]["a"], b=cs[0]["b"], variants=len(cs),
                 time_a=bl.geomean([c["median_a"] for c in cs]),
                 time_b=bl.geomean([c["median_b"] for c in cs]),
                 execs_a=None, execs_b=None)
        g["speedup"] = g["time_b"] / g["time_a"] if g["time_a"] else None
        g["interval"] = None
        if all(c.get("times_a") and c.get("times_b") for c in cs):
            g["interval"] = bl.boot_geomean_ratio([c["times_b"] for c in cs],
                                                  [c["times_a"] for c in cs])
        if all(c["execs_a"] and c["execs_b"] for c in cs):
            g["execs_a"] = bl.geomean([c["execs_a"] for c in cs])
            g["execs_b"] = bl.geomean([c["execs_b"] for c in cs])
        out.append(g)
    return out


def geomean_lines(gms):
    lines = []
    for g in gms:
        if g["speedup"] is None:
            lines.append("%s: no geometric mean (a median of 0 s)" % g["comparison"])
            continue
        line = ("%s, geometric mean over %d variant(s) of the median time to the "
                "report: %s %.2f s, %s %.2f s: **%.2fx**" % (
                    g["comparison"], g["variants"], g["a"], g["time_a"], g["b"],
                    g["time_b"], g["speedup"]))
        if g.get("interval"):
            line += " (95%% bootstrap interval %.2f-%.2f)" % g["interval"]
        if g["execs_a"]:
            line += "; executions to the report %s %.0f, %s %.0f (%.1fx fewer)" % (
                g["a"], g["execs_a"], g["b"], g["execs_b"], g["execs_b"] / g["execs_a"])
        lines.append(line)
    return lines


def plots(a, rows, results):
    """One survival plot per variant: fraction of trials not yet exposed
    (no report) against time, one step line per configuration."""
    made, errs = [], []
    byv = {}
    for r in rows:
        byv.setdefault(r["variant"], []).append(r)
    for v, vrows in byv.items():
        dat = io.StringIO()
        titles = []
        for row in vrows:
            rs = [x for x in results if x["variant"] == v and x["config"] == row["config"]]
            n = len(rs)
            ts = sorted(max(0.1, x["detect"]) for x in rs if x["status"] == "found")
            dat.write("# %s\n0.1 1.0\n" % row["config"])
            left = n
            for t in ts:
                left -= 1
                dat.write("%.3f %.4f\n" % (t, left / n))
            dat.write("%.3f %.4f\n\n\n" % (a.time, left / n))
            titles.append("%s (%d/%d)" % (row["config"], row["found"], n))
        name = "survival-%s" % v
        with open(os.path.join(a.out, name + ".dat"), "w") as f:
            f.write(dat.getvalue())
        # Dash types apart: censored configurations share the line at 1.
        plot = ", ".join("%s index %d using 1:2 with steps lw 2 dt %d title %s" % (
            bl.gp_quote(name + ".dat"), i, i % 5 + 1, bl.gp_quote(t))
            for i, t in enumerate(titles))
        script = """set terminal pngcairo noenhanced size 760,420 font ",10"
set output %s
set title %s
set xlabel "seconds (log scale)"
set ylabel "fraction of trials not yet exposed"
set logscale x
set xrange [0.1:%d]
set yrange [-0.02:1.05]
set key outside right top
set grid
plot %s
""" % (bl.gp_quote(name + ".png"), bl.gp_quote("time to exposure: %s (budget %d s)" % (v, a.time)),
            a.time, plot)
        err = bl.gnuplot(script, a.out)
        os.remove(os.path.join(a.out, name + ".dat"))
        if err:
            errs.append(err)
        else:
            made.append(name + ".png")
    return made, errs


def finished(trials):
    """The results of those trials that have one on disk."""
    results = []
    for t in trials:
        try:
            with open(os.path.join(t.dir, "result.json")) as f:
                results.append(json.load(f))
        except (OSError, ValueError):
            pass
    return results


def resumable(a, argv):
    """run.json of the interrupted run in OUT, if its budget matches."""
    path = os.path.join(a.raw, "run.json")
    try:
        with open(path) as f:
            run = json.load(f)
        old = parse_args(run["argv"])
    except (OSError, ValueError, KeyError, SystemExit):
        bl.die(PROG, "--resume: no readable run.json in %s; run without --resume"
               % os.path.relpath(a.raw, os.getcwd()))
    for opt in ("time", "seed_base", "sweep_preset"):
        if getattr(old, opt) != getattr(a, opt):
            bl.die(PROG, "--resume: the run in %s used --%s %s; resume it with the same "
                   "value or give another --out" % (
                       os.path.relpath(a.out, os.getcwd()), opt.replace("_", "-"),
                       getattr(old, opt)))
    return run


def commit_line(run):
    c = run.get("commit")
    more = [r["commit"] for r in run.get("resumed", []) if r.get("commit") != c]
    if c and more:
        c += " (resumed at %s)" % ", ".join(more)
    return c


def git_commit():
    p = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    d = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                       capture_output=True, text=True)
    return p.stdout.strip() + (" (with local changes)" if d.stdout.strip() else "")


def report(a, results, argv, started, skipped, wall=None, jobs=None, machine=None,
           commit=None):
    rows = summarize(results, a.time)
    rows.sort(key=order_key(a))
    comps = comparisons(rows)
    gms = geomeans(comps)
    made, errs = plots(a, rows, results)
    hdr = ["variant", "config", "found", "reach", "trigger", "detect", "bucket"]
    trows = []
    for r in rows:
        b = r["buckets"][0][0] if r["buckets"] else "—"
        if len(r["buckets"]) > 1:
            b += " (+%d more)" % (len(r["buckets"]) - 1)
        extra = ""
        if r["errors"]:
            extra += " %d error" % r["errors"]
        if r["correct_core"]:
            extra += " %d on correct core" % r["correct_core"]
        trows.append([r["variant"], r["config"], "%d/%d%s" % (r["found"], r["n"], extra),
                      r["reach"], r["trigger"], r["detect"], b])
    crows = [[c["variant"], c["comparison"], "%.1f" % c["U"] if c["U"] is not None else "—",
              "%.3g" % c["p"] if c["p"] is not None else "—", c["method"], c["faster"]]
             for c in comps]
    md = io.StringIO()
    w = md.write
    w("# Time to exposure — %s\n\n" % started.strftime("%Y-%m-%d %H:%M UTC"))
    w("Command: `tools/sndtag bench tte %s`  \n" % " ".join(argv))
    w("Commit: %s  \nMachine: %s  \n" % (commit or git_commit(), machine or bl.machine_line()))
    w("Budget: %d s per trial, %d trial(s) per variant and configuration, "
      "%d job(s) in parallel; trial k uses seed %d+k (libFuzzer `-seed=`, AFL++ `-s`; "
      "the sweep starts at seed (%d+k)·10⁶+1).  \n" % (
          a.time, a.trials, jobs or a.jobs, a.seed_base, a.seed_base))
    if wall is None:
        wall = time.time() - started.timestamp()
    w("Wall time: %s.  AFL++ trials count as one job (afl-fuzz and its target take turns); "
      "the sweep runs one scenario at a time.\n\n" % datetime.timedelta(seconds=int(wall)))
    w("Times are seconds from the start of the trial: **reach** = the variant's canary first "
      "reached (its historic code ran), **trigger** = first triggered (the bug's condition held), "
      "**detect** = the report (first crash file).  Each cell is `median [Q1–Q3]` over all "
      "trials, a trial that did not get there within the budget counting as the budget: "
      "`>%d` means more than half (median) or a quarter (quartiles) of the trials never did.  "
      "`found` counts trials with a report that does not reproduce on the correct core.\n\n" % a.time)
    w(bl.mdtable(hdr, trows))
    w("\n## Mann-Whitney U (detect times, two-sided)\n\n")
    w("Censored trials count as the budget (ties).  U counts pairs where the first "
      "configuration is slower; p is exact (all rank assignments, ties included) up to "
      "%d assignments, otherwise the normal approximation with tie correction.\n\n" % bl.EXACT_LIMIT)
    w(bl.mdtable(["variant", "comparison", "U", "p", "method", "faster (median)"], crows)
      if crows else "No comparison: a pair needs both of its configurations in this run.\n")
    if gms:
        w("\n")
        for line in geomean_lines(gms):
            w("- %s.\n" % line)
        w("\nExecutions to the report are libFuzzer's own count at the report "
          "(`stat::number_of_executed_units`), median over the trials that found "
          "it (`execs` in `trials.csv`).\n")
    w("\n## Configurations\n\n")
    for c in sorted({r["config"] for r in results}, key=list(CONFIGS).index):
        w("- `%s`: %s\n" % (c, describe(c)))
    if skipped:
        w("\nNot run: %s.\n" % "; ".join(skipped))
    w("\n## Plots\n\n")
    for p in made:
        w("![%s](%s)\n" % (p, p))
    for e in errs:
        w("- plot failed: %s\n" % e)
    odd = [r for r in results if r["status"] in ("error", "correct-core")]
    if odd:
        w("\n## Trials that need a look\n\n")
        for r in odd:
            w("- %s %s t%d: %s — %s\n" % (r["variant"], r["config"], r["trial"],
                                          r["status"], r["note"]))
    w("\nEvery trial is in `trials.csv`; raw logs, corpora and crash files in `raw/` "
      "(not committed).\n")
    bl.write_atomic(os.path.join(a.out, "report.md"), md.getvalue())
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    keys = ["variant", "config", "trial", "seed", "budget", "status", "reach",
            "trigger", "detect", "bucket", "crash", "note", "execs"]
    cw.writerow(keys)
    for r in sorted(results, key=lambda r: (r["variant"], r["config"], r["trial"])):
        cw.writerow(["" if r.get(k) is None else r.get(k) for k in keys])
    bl.write_atomic(os.path.join(a.out, "trials.csv"), buf.getvalue())
    bl.write_json(os.path.join(a.out, "summary.json"),
                  dict(command=["tools/sndtag", "bench", "tte"] + argv,
                       budget=a.time, trials=a.trials, rows=[
                           {k: v for k, v in r.items() if k != "detect_times"} for r in rows],
                       comparisons=comps, geomeans=gms))
    print()
    print("=== time to exposure (seconds, median [Q1-Q3], budget %d s) ===" % a.time)
    print(bl.texttable(hdr, trows), end="")
    if crows:
        print()
        print(bl.texttable(["variant", "comparison", "U", "p", "method", "faster"], crows), end="")
        print()
        for line in geomean_lines(gms):
            print(line.replace("**", ""))
    for e in errs:
        bl.note(PROG, e)
    print("\nreport: %s" % os.path.relpath(os.path.join(a.out, "report.md"), os.getcwd()))


def describe(c):
    eng, tgt, corp = CONFIGS[c]
    if eng == "sweep":
        return ("race variants: `sndtag-sweep_<variant>` (threaded mode, PCT depths 1,2,3, "
                "one run at a time) over `corpora/fuzz_scenario` and `corpora/races` (the seeds "
                "fuzz_threads starts from), blind to what earlier runs covered.  Detect = its "
                "first finding; the trial ends there.")
    if eng == "threads":
        return ("race variants: libFuzzer on `fuzz_threads_<variant>` (threaded mode, the "
                "input's switches choose the interleaving; code and interleaving feedback) "
                "in the sweep's build (TSan), with fuzz_threads' .dict and .options; %s"
                % ("from an empty corpus" if corp == "empty" else
                   "from its seed corpus (the scenario seeds and `corpora/races`)"))
    what = "`%s_<variant>`" % tgt
    if eng == "libfuzzer":
        s = "libFuzzer, %s (ASan build), with the target's .dict and .options as the default campaign" % what
    else:
        s = ("AFL++ persistent mode, %s (afl preset, ASan), %s, the target's dictionary, "
             "no cmplog (no cmplog twin is built for variant fuzzers), AFL_BENCH_UNTIL_CRASH"
             % (what, "the structured custom mutator" if tgt == "fuzz_scenario"
                else "AFL++'s own mutators"))
    if corp == "empty":
        s += "; from an empty corpus" + (
            " (AFL++ needs one input: 3 bytes that decode to an empty Scenario)"
            if eng == "afl" else "")
    else:
        s += "; from the seed corpus (`corpora/%s`)" % tgt
    return s


def parse_args(argv):
    names = [n for n, _ in bl.variants()]
    ap = argparse.ArgumentParser(
        prog="tools/sndtag bench tte",
        description="Time to exposure of each variant: N trials per variant and "
        "configuration, each with a fixed seed and a time budget; a report with "
        "success rates, median and interquartile times to reach, trigger and "
        "detect, buckets, Mann-Whitney U tests and survival plots.",
        epilog="configurations: %s (default: %s).  Historic variants run the "
        "libFuzzer/AFL++ configurations, race variants (those with a "
        "corpora/races scenario: only threads expose them) the sweep and "
        "fuzz_threads.  Full run: "
        "tools/sndtag bench tte --trials 5 --time 300" % (
            ", ".join(CONFIGS), ",".join(DEFAULT_CONFIGS)))
    ap.add_argument("--variants", default=",".join(names),
                    help="comma list (default: all of tools/sndtag variants)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help="comma list")
    ap.add_argument("--trials", type=int, default=5, help="trials per variant and config (5)")
    ap.add_argument("--time", type=int, default=300, help="budget per trial in seconds (300)")
    ap.add_argument("--jobs", type=int, default=bl.ncores(),
                    help="trials in parallel (default: the number of cores, %d)" % bl.ncores())
    ap.add_argument("--seed-base", type=int, default=1, help="trial k uses seed BASE+k (1)")
    ap.add_argument("--out", help="output folder (default results/<date>-tte)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "asan"),
                    help="libFuzzer (ASan) build folder")
    ap.add_argument("--afl-build", default=os.path.join(ROOT, "build", "afl"))
    ap.add_argument("--sweep-preset", default="tsan", choices=["tsan", "asan"],
                    help="build the race sweeps use (tsan)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not build missing binaries")
    ap.add_argument("--resume", action="store_true",
                    help="keep the trials that already have a result in OUT/raw and run "
                    "only the others (after an interrupted run, with the same options)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: rewrite the report from the trials already in "
                    "OUT/raw (after an interrupted run, or a change to the report)")
    a = ap.parse_args(argv)
    a.variants = [v for v in a.variants.split(",") if v]
    a.configs = [c for c in a.configs.split(",") if c]
    for v in a.variants:
        if v not in names:
            bl.die(PROG, "unknown variant '%s'; 'tools/sndtag variants' lists them" % v)
    for c in a.configs:
        if c not in CONFIGS:
            bl.die(PROG, "unknown configuration '%s'; one of %s" % (c, ", ".join(CONFIGS)))
    if a.trials < 1 or a.time < 1:
        bl.die(PROG, "--trials and --time must be at least 1")
    if a.jobs < 1:
        bl.die(PROG, "--jobs must be at least 1")
    if a.resume and a.report_only:
        bl.die(PROG, "--resume runs trials and --report-only runs none; give one of them")
    if a.jobs > bl.ncores():
        bl.note(PROG, "--jobs %d is more than the %d cores; using %d" % (
            a.jobs, bl.ncores(), bl.ncores()))
        a.jobs = bl.ncores()
    a.sweep_build = os.path.join(ROOT, "build", a.sweep_preset)
    if not a.out:
        a.out = os.path.join(ROOT, "results",
                             datetime.datetime.utcnow().strftime("%Y-%m-%d") + "-tte")
    a.out = os.path.abspath(a.out)
    a.raw = os.path.join(a.out, "raw")
    return a


def main(argv):
    a = parse_args(argv)
    kinds = dict(bl.variants())
    trials, skipped = [], []
    for v in a.variants:
        cs = [c for c in a.configs if applies(c, kinds[v])]
        if not cs:
            skipped.append("%s (no selected configuration applies to a %s variant)"
                           % (v, kinds[v]))
        for k in range(a.trials):
            for c in cs:
                trials.append(Trial(a, v, c, k))
    if not trials:
        bl.die(PROG, "nothing to run: %s" % "; ".join(skipped))
    if any(t.engine == "afl" for t in trials) and not shutil.which("afl-fuzz"):
        bl.die(PROG, "afl-fuzz not found; run 'sudo tools/sndtag deps' or leave out the afl-* configurations")
    if not shutil.which("gnuplot"):
        bl.die(PROG, "gnuplot not found; run 'sudo tools/sndtag deps'")
    if a.report_only:
        results = finished(trials)
        if not results:
            bl.die(PROG, "no finished trial of this selection in %s; run without --report-only"
                   % os.path.relpath(a.raw, os.getcwd()))
        bl.note(PROG, "%d of %d trials found in %s" % (len(results), len(trials),
                                                       os.path.relpath(a.raw, os.getcwd())))
        try:
            with open(os.path.join(a.raw, "run.json")) as f:
                run = json.load(f)
            argv0, started = run["argv"], datetime.datetime.utcfromtimestamp(run["started"])
            wall, jobs = run.get("wall"), run.get("jobs")
            machine, commit = run.get("machine"), commit_line(run)
        except (OSError, ValueError, KeyError):
            argv0, started, wall, jobs = argv, datetime.datetime.utcnow(), 0, None
            machine = commit = None
        report(a, results, argv0, started, skipped, wall, jobs, machine, commit)
        return 0
    os.makedirs(a.raw, exist_ok=True)
    results, run = [], None
    if a.resume:
        run = resumable(a, argv)
        results = finished(trials)
        have = {(r["variant"], r["config"], r["trial"]) for r in results}
        if "wall" not in run:
            # Stopped before it could say: its wall time ran to its last result.
            ends = [os.path.getmtime(os.path.join(t.dir, "result.json"))
                    for t in trials if (t.variant, t.config, t.k) in have]
            run["wall"] = max(ends, default=run["started"]) - run["started"]
        trials = [t for t in trials if (t.variant, t.config, t.k) not in have]
        bl.note(PROG, "resuming: %d trial(s) kept from %s, %d to run" % (
            len(results), os.path.relpath(a.raw, os.getcwd()), len(trials)))
    ensure_builds(a, trials)
    # Trial k of every pair before trial k+1 of any: a stopped run still
    # has comparable trials.
    trials.sort(key=lambda t: (t.k, t.variant, list(CONFIGS).index(t.config)))
    t0 = time.monotonic()
    total = len(trials) + len(results)
    if run is None:
        run = dict(argv=argv, started=time.time(), jobs=a.jobs, commit=git_commit())
    else:
        # A resumed run says so: its trials may come from two commits.
        run.setdefault("resumed", []).append(dict(started=time.time(), commit=git_commit()))
    started = datetime.datetime.utcfromtimestamp(run["started"])
    wall0 = run.get("wall", 0.0)
    bl.write_json(os.path.join(a.raw, "run.json"), run)
    bl.note(PROG, "%d trial(s): %d variant(s) x config(s) %s x %d trial(s), %d s each, "
            "%d job(s); output %s" % (total, len(a.variants), ",".join(a.configs), a.trials,
                                      a.time, a.jobs, os.path.relpath(a.out, os.getcwd())))
    state = {"last": time.monotonic()}

    def on_start(t):
        bl.note(PROG, "[%s] start %s (seed %d)" % (clock(t0), t.name, t.seed))

    def on_done(t):
        r = t.result
        results.append(r)
        if r["status"] == "found":
            what = "detected at %.1f s: %s" % (r["detect"], r["bucket"])
        elif r["status"] == "censored":
            what = "not found in %d s%s" % (a.time, "" if r["reach"] is None
                                            else " (reached at %.1f s)" % r["reach"])
        else:
            what = "%s: %s" % (r["status"], r["note"])
        bl.note(PROG, "[%s] %d/%d done: %s: %s" % (clock(t0), len(results), total, t.name, what))
        # Kept current, so that an interrupted run can be resumed with its wall time.
        run["wall"] = wall0 + time.monotonic() - t0
        bl.write_json(os.path.join(a.raw, "run.json"), run)

    def on_tick(running):
        bl.note(PROG, "[%s] %d/%d done; running %s" % (
            clock(t0), len(results), total,
            ", ".join("%s (%.0f s)" % (t.name, t.elapsed()) for t in running)))

    bl.Pool(a.jobs).run(trials, on_start, on_done, on_tick)
    run["wall"] = wall0 + time.monotonic() - t0
    run["machine"] = bl.machine_line()
    bl.write_json(os.path.join(a.raw, "run.json"), run)
    report(a, results, run["argv"], started, skipped, run["wall"], a.jobs, run["machine"],
           commit_line(run))
    return 0


def clock(t0):
    s = int(time.monotonic() - t0)
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        bl.note(PROG, "interrupted; partial trials are in the raw/ folder")
        sys.exit(130)
