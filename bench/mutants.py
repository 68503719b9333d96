#!/usr/bin/env python3
"""tools/sndtag bench mutants: mutation analysis of the correct core.

Generates mutants of core/{kern,net,netinet,netinet6,dev} from a catalogue
of kernel-bug patterns (bench/mutate.py), builds each out of tree (the
mutated file compiled with the asan build's own command, swapped into a
copy of libsndtag_core.a, the target (fuzz_scenario, or fuzz_threads
with --target) relinked against it; the checked-out sources are never
touched), runs the default campaign (the target from its seed corpus) on
each, and on the correct core
once, and reports the kill rate, time to kill, buckets and the survivors
with file:line.  With --expect both every campaign runs twice, without and
with the behavioural oracles (SNDTAG_NO_EXPECT=1 / unset), and the report
compares the two.  See docs/FUZZING.md, "Fuzzing power".
"""
import argparse
import datetime
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import mutate  # noqa: E402

PROG = "sndtag bench mutants"
ROOT = bl.ROOT
HERE = os.path.dirname(os.path.abspath(__file__))
GRACE = 30.0

# The oracle sets a campaign runs with (--expect): "before" is the
# safety oracles alone (SNDTAG_NO_EXPECT=1 turns off fuzz/interp_expect.c),
# "after" the safety and the behavioural ones (docs/INVARIANTS.md).
MODES = {"off": ["before"], "on": ["after"], "both": ["before", "after"]}
MODE_WHAT = {"before": "safety oracles only, SNDTAG_NO_EXPECT=1",
             "after": "safety + behavioural oracles"}


def mode_env(base, mode):
    env = dict(base)
    if mode == "before":
        env["SNDTAG_NO_EXPECT"] = "1"
    else:
        env.pop("SNDTAG_NO_EXPECT", None)
    return env


# ---- the asan build's own commands ----------------------------------------

class Toolchain:
    def __init__(self, build, target):
        self.build = build
        with open(os.path.join(build, "compile_commands.json")) as f:
            cc = json.load(f)
        self.compile = {}
        for c in cc:
            argv = shlex.split(c["command"])
            if "-o" not in argv:
                continue
            out = argv[argv.index("-o") + 1]
            if not out.startswith("core/CMakeFiles/sndtag_core.dir/"):
                continue
            self.compile[os.path.relpath(c["file"], ROOT)] = (argv, out)
        p = subprocess.run(["ninja", "-C", build, "-t", "commands", target],
                           capture_output=True, text=True)
        link = [l for l in p.stdout.splitlines() if " -o fuzz/%s " % target in l]
        if p.returncode != 0 or not link:
            bl.die(PROG, "cannot read %s's link command from %s; "
                   "run 'tools/sndtag build asan'" % (target, build))
        line = link[-1].strip()
        for w in (": && ", " && :"):
            line = line.replace(w, " ")
        self.link = shlex.split(line)
        if "core/libsndtag_core.a" not in self.link:
            bl.die(PROG, "%s does not link core/libsndtag_core.a in %s" % (target, build))

    def compile_cmd(self, rel, src, obj, extra=()):
        """The build's command for core file rel, on src, into obj."""
        argv, out = self.compile[rel]
        argv = list(argv)
        i = argv.index("-o")
        argv[i + 1] = obj
        argv[-1] = src
        # Quoted includes relative to the original file still resolve;
        # __FILE__ and debug paths name the original file.
        orig_dir = os.path.dirname(os.path.join(ROOT, rel))
        argv[1:1] = ["-iquote", orig_dir,
                     "-ffile-prefix-map=%s=%s" % (os.path.dirname(src), orig_dir)] + list(extra)
        return argv

    def orig_obj(self, rel):
        return os.path.join(self.build, self.compile[rel][1])

    def link_cmd(self, lib, out, probe):
        argv = [lib if a == "core/libsndtag_core.a" else a for a in self.link]
        i = argv.index("-o")
        argv[i + 1] = out
        return argv + [probe]


# ---- jobs ------------------------------------------------------------------

class Build:
    """Builds one mutant: plain compile (does it compile? same code?),
    probed compile, archive, link.  One bash child."""

    def __init__(self, a, tc, m):
        self.a, self.tc, self.m = a, tc, m
        self.dir = os.path.join(a.raw, m.id)
        self.status = None

    def start(self):
        m, tc = self.m, self.tc
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        base = os.path.basename(m.path)
        for kind, text in (("plain", m.plain), ("probed", m.probed)):
            d = os.path.join(self.dir, kind)
            os.makedirs(d)
            with open(os.path.join(d, base), "w") as f:
                f.write(text)
        with open(os.path.join(self.dir, "plain.txt"), "w") as f:
            f.write(m.plain)
        with open(os.path.join(self.dir, "mutant.json"), "w") as f:
            json.dump(dict(id=m.id, where=m.where, op=m.op, desc=m.desc), f)
        q = lambda argv: " ".join(shlex.quote(x) for x in argv)
        plain_o = os.path.join(self.dir, "plain.o")
        obj = os.path.join(self.dir, "obj", base + ".o")
        lib = os.path.join(self.dir, "libsndtag_core.a")
        strip = "objcopy --strip-debug"   # binutils: clang depends on it
        script = """set -u
cd %(build)s
# The correct file and the mutant compiled from one path: identical code
# gives identical objects once the debug sections are gone.
cp %(origsrc)s %(dir)s/plain/%(base)s && %(plain)s && mv %(plain_o)s %(dir)s/orig.o || exit 12
cp %(dir)s/plain.txt %(dir)s/plain/%(base)s || exit 12
%(plain)s || exit 10
%(strip)s %(plain_o)s %(dir)s/plain.s.o && %(strip)s %(dir)s/orig.o %(dir)s/orig.s.o || exit 12
cmp -s %(dir)s/plain.s.o %(dir)s/orig.s.o && exit 11
rm -f %(dir)s/plain.s.o %(dir)s/orig.s.o %(dir)s/orig.o %(plain_o)s
mkdir -p %(dir)s/obj
%(probed)s || exit 10
cp %(corelib)s %(lib)s && ar r %(lib)s %(obj)s 2>/dev/null || exit 12
%(link)s || exit 13
rm -f %(lib)s %(obj)s
exit 0
""" % dict(build=shlex.quote(tc.build), dir=shlex.quote(self.dir), strip=strip,
           plain=q(tc.compile_cmd(m.path, os.path.join(self.dir, "plain", base), plain_o)),
           plain_o=shlex.quote(plain_o), base=shlex.quote(base),
           origsrc=shlex.quote(os.path.join(ROOT, m.path)),
           probed=q(tc.compile_cmd(m.path, os.path.join(self.dir, "probed", base), obj,
                                   ["-include", os.path.join(HERE, "mutant_probe.h")])),
           obj=shlex.quote(obj), lib=shlex.quote(lib),
           corelib=shlex.quote(os.path.join(tc.build, "core", "libsndtag_core.a")),
           link=q(tc.link_cmd(lib, os.path.join(self.dir, self.a.target), self.a.probe_o)))
        with open(os.path.join(self.dir, "build.sh"), "w") as f:
            f.write(script)
        self.proc = bl.spawn(["bash", os.path.join(self.dir, "build.sh")],
                             os.path.join(self.dir, "build.log"))

    def poll(self):
        rc = self.proc.poll()
        if rc is None:
            return False
        self.status = {0: "built", 10: "discarded", 11: "equivalent"}.get(rc, "build-error")
        return True

    def kill(self):
        bl.killpg(self.proc)


class Campaign:
    """The default campaign on one binary: the target (--target) from
    its seed corpus, its .dict and .options, a fixed seed; with the
    oracle set of `mode` (MODES)."""

    def __init__(self, a, name, bin_, dir_, mode):
        self.a, self.name, self.bin, self.dir = a, name, bin_, dir_
        self.mode = mode
        self.label = name if len(MODES[a.expect]) == 1 else "%s/%s" % (name, mode)
        self.result = None

    def start(self):
        a = self.a
        for d in ("corpus", "crashes", "canary"):
            p = os.path.join(self.dir, d)
            if os.path.isdir(p):
                shutil.rmtree(p)
            os.makedirs(p)
        env = mode_env(os.environ, self.mode)
        env["SNDTAG_CANARY_DIR"] = os.path.join(self.dir, "canary")
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        cmd = [self.bin, "-seed=%d" % a.seed, "-max_total_time=%d" % a.time,
               "-print_final_stats=1",
               "-artifact_prefix=" + os.path.join(self.dir, "crashes") + "/"]
        cmd += bl.libfuzzer_options(a.target)
        cmd += [os.path.join(self.dir, "corpus"),
                os.path.join(a.build, "corpora", a.target)]
        with open(os.path.join(self.dir, "cmd"), "w") as f:
            f.write(("SNDTAG_NO_EXPECT=%s " % env["SNDTAG_NO_EXPECT"]
                     if "SNDTAG_NO_EXPECT" in env else "") + " ".join(cmd) + "\n")
        self.t0 = time.monotonic()
        self.t0_real = time.time()
        self.proc = bl.spawn(cmd, os.path.join(self.dir, "fuzz.log"), env=env,
                             cwd=self.dir)

    def poll(self):
        if self.proc.poll() is None and time.monotonic() - self.t0 <= self.a.time + GRACE:
            return False
        bl.killpg(self.proc)
        wall = time.monotonic() - self.t0
        r = dict(kill=None, bucket="", crash="", reach=None, note="")
        try:
            with open(os.path.join(self.dir, "canary", "mutant.reached")) as f:
                r["reach"] = round(max(0.0, float(f.read()) - self.t0), 3)
        except (OSError, ValueError):
            pass
        d = os.path.join(self.dir, "crashes")
        cr = sorted((os.path.getmtime(os.path.join(d, n)), os.path.join(d, n))
                    for n in os.listdir(d)
                    if n.split("-")[0] in ("crash", "leak", "timeout", "oom", "slow"))
        with open(os.path.join(self.dir, "fuzz.log"), errors="replace") as f:
            log = f.read()
        if cr:
            t = max(0.0, min(cr[0][0] - self.t0_real, wall))
            r.update(kill=round(t, 3), crash=os.path.relpath(cr[0][1], ROOT),
                     bucket=bl.bucket_of_text(log) or "(no report)")
            # The correct core's own target on the crash file: the
            # same harness as the mutant's (sndtag-replay refuses an empty
            # file, exit 1, and libFuzzer writes one when the state an
            # earlier input left behind crashes the next).
            if self.name != "correct" and bl.bucket_of_replay(
                    [os.path.join(self.a.build, "fuzz", self.a.target), "-runs=1", cr[0][1]],
                    env=mode_env(os.environ, self.mode)):
                r.update(kill=None, note="its crash also happens on the correct core")
        elif self.proc.returncode not in (0, -15) and "stat::" not in log:
            r["note"] = "campaign failed: " + (log.strip().splitlines() or ["exit %s" % self.proc.returncode])[-1][:200]
        self.result = r
        bl.write_json(os.path.join(self.dir, "result.json"), r)
        return True

    def kill(self):
        bl.killpg(self.proc)


# ---- report ----------------------------------------------------------------

def classify(m, build, camp):
    if build == "discarded":
        return "discarded"
    if build == "equivalent":
        return "equivalent"
    if build != "built" or camp is None:
        return "error"
    r = camp.result
    if r["note"].startswith("campaign failed"):
        return "error"
    if r["kill"] is not None:
        return "killed"
    if r["note"]:
        return "correct-core"
    return "survived" if r["reach"] is not None else "unreached"


def plot_files(a, rows, modes):
    """Kill rate per source file (killed / killed + survived + unreached),
    one bar per oracle set.  rows: (file, {mode: (killed, run)})."""
    dat = io.StringIO()
    n = 0
    for f, per in rows:
        if all(per[md][1] == 0 for md in modes):
            continue
        # Core file names are unique: the base name is label enough.
        dat.write(os.path.basename(f))
        for md in modes:
            k, r = per[md]
            dat.write(" %.4f %d %d" % (k / r if r else 0.0, k, r))
        dat.write("\n")
        n += 1
    if n == 0:
        return None, None
    with open(os.path.join(a.out, "killrate.dat"), "w") as fh:
        fh.write(dat.getvalue())
    nm = len(modes)
    bw = 0.7 / nm
    colours = {"before": "#b5b5b5", "after": "#4a7ab5"}
    plots = []
    for i, md in enumerate(modes):
        off = (i - (nm - 1) / 2.0) * bw
        c = 2 + 3 * i
        xt = ":xtic(1)" if i == 0 else ""
        title = ("title %s" % bl.gp_quote("%s: %s" % (md, MODE_WHAT[md]))) if nm > 1 else "notitle"
        plots.append('"killrate.dat" using ($0%+.3f):%d%s with boxes lc rgb "%s" %s' % (
            off, c, xt, colours[md], title))
        plots.append('"" using ($0%+.3f):($%d+0.04):(sprintf("%%d/%%d", $%d, $%d)) '
                     'with labels notitle' % (off, c, c + 1, c + 2))
    script = """set terminal pngcairo noenhanced size %d,480 font ",10"
set output "killrate-by-file.png"
set xrange [-0.6:%f]
set title "mutation kill rate per source file (killed / mutants run; labels: killed/run)"
set style fill solid 0.6 border -1
set boxwidth %f
set yrange [0:%s]
set ylabel "kill rate"
set xtics rotate by -45 left
set grid ytics
set bmargin 8
set rmargin 8
%s
plot %s
""" % (max(640, 60 * nm * n + 160), n - 0.4, bw, "1.3" if nm > 1 else "1.15",
       "set key top left" if nm > 1 else "unset key", ", \\\n     ".join(plots))
    err = bl.gnuplot(script, a.out)
    os.remove(os.path.join(a.out, "killrate.dat"))
    return (None if err else "killrate-by-file.png"), err


RUN = ("killed", "survived", "unreached")


def mode_stats(muts, builds, camps):
    """One oracle set's results: classes, counts, kill rates."""
    cls = {m.id: classify(m, builds[m.id].status, camps.get(m.id)) for m in muts}
    counts = {c: sum(1 for v in cls.values() if v == c)
              for c in RUN + ("equivalent", "discarded", "correct-core", "error")}
    run = sum(counts[c] for c in RUN)
    reached = counts["killed"] + counts["survived"]
    kills = sorted(camps[m.id].result["kill"] for m in muts if cls[m.id] == "killed")
    return dict(cls=cls, counts=counts, killed=counts["killed"], run=run,
                rate=(100.0 * counts["killed"] / run) if run else 0.0,
                rate_r=(100.0 * counts["killed"] / reached) if reached else 0.0,
                kills=kills)


def correct_line(cr):
    if cr is None:
        return "not run"
    if cr["kill"] is None and not cr["note"]:
        return "no crash"
    return cr["bucket"] or cr["note"]


def cross_replay(a, m, camp, other):
    """Replays the crash that killed m in campaign camp on the same mutant
    binary with the other oracle set: the bucket it gives there, "" when
    it does not crash."""
    return bl.bucket_of_replay([camp.bin, "-runs=1", os.path.join(ROOT, camp.result["crash"])],
                               env=mode_env(os.environ, other))


def detail(a, c, r, status):
    if c == "killed":
        return "%.1f s: %s" % (r["kill"], r["bucket"])
    if c == "survived":
        return "site reached at %.1f s, no report in %d s" % (r["reach"], a.time)
    if c == "unreached":
        return "the campaign never executed the site"
    if c == "equivalent":
        return "same object code as the correct core"
    if c == "discarded":
        return "does not compile"
    return (r or {}).get("note") or status


def report(a, argv, started, total_cands, muts, builds, camps, correct):
    """camps: {mode: {mutant id: Campaign}}; correct: {mode: Campaign}."""
    modes = MODES[a.expect]
    both = len(modes) > 1
    st = {md: mode_stats(muts, builds, camps[md]) for md in modes}
    res = lambda md, m: (camps[md][m.id].result if m.id in camps[md] and camps[md][m.id].result
                         else {})
    # Kills one oracle set has and the other not, each crash replayed on
    # its mutant with the other set: a kill only "after" whose input
    # passes with the safety oracles alone is the behavioural oracles'.
    only = {}
    first = []      # killed both ways, after's report a behavioural one
    if both:
        for md, other in (("after", "before"), ("before", "after")):
            only[md] = []
            for m in muts:
                if st[md]["cls"][m.id] == "killed" and st[other]["cls"][m.id] != "killed":
                    rep = cross_replay(a, m, camps[md][m.id], other)
                    only[md].append((m, rep))
        for m in muts:
            if st["after"]["cls"][m.id] == st["before"]["cls"][m.id] == "killed" and \
                    res("after", m)["bucket"] != res("before", m)["bucket"] and \
                    not cross_replay(a, m, camps["after"][m.id], "before"):
                first.append(m)
    per_file = {}
    for m in muts:
        d = per_file.setdefault(m.path, {md: [0, 0] for md in modes})
        for md in modes:
            c = st[md]["cls"][m.id]
            d[md][0] += c == "killed"
            d[md][1] += c in RUN
    frows = sorted((f, {md: tuple(v) for md, v in d.items()}) for f, d in per_file.items())
    png, perr = plot_files(a, frows, modes)
    md_ = io.StringIO()
    w = md_.write
    w("# Mutation analysis — %s\n\n" % started.strftime("%Y-%m-%d %H:%M UTC"))
    w("Command: `tools/sndtag bench mutants %s`  \n" % " ".join(argv))
    from tte import git_commit  # one definition of the commit line
    w("Commit: %s  \nMachine: %s  \n" % (git_commit(), bl.machine_line()))
    w("Campaign per mutant: libFuzzer `%s` (ASan) from the seed corpus with its "
      ".dict and .options, `-seed=%d`, %d s; %d job(s) in parallel.  Wall time: %s.  \n" % (
          a.target, a.seed, a.time, a.jobs,
          datetime.timedelta(seconds=int(time.time() - started.timestamp()))))
    if both:
        w("Oracles: each mutant's campaign runs twice with that seed and budget, **before** "
          "(%s) and **after** (%s).\n\n" % (MODE_WHAT["before"], MODE_WHAT["after"]))
    else:
        w("Oracles: %s.\n\n" % MODE_WHAT[modes[0]])
    w("The catalogue yields **%d** candidate mutants on the selected files; **%d** were "
      "drawn (seed %d, spread over source areas and operators).\n\n" % (total_cands, len(muts), a.seed))
    for md in modes:
        cr = correct[md].result if md in correct else None
        lab = " (%s)" % md if both else ""
        if cr is None:
            w("Correct core%s: not run (--no-correct).\n\n" % lab)
        elif cr["kill"] is None and not cr["note"]:
            w("Correct core, same campaign%s: **no crash** (so every kill%s is the mutant's).\n\n"
              % (lab, " of this oracle set" if both else " below"))
        else:
            w("Correct core, same campaign%s: **%s** — kills that share this bucket are suspect.\n\n"
              % (lab, correct_line(cr)))
    labels = [("killed", "killed"), ("survived", "survived (site reached)"),
              ("unreached", "survived, site never reached (unreachable by this campaign)"),
              ("equivalent", "equivalent (identical object code)"),
              ("discarded", "discarded (does not compile)"),
              ("correct-core", "crash also on the correct core (not counted)"),
              ("error", "build or campaign error")]
    w(bl.mdtable(["result"] + (modes if both else ["mutants"]),
                 [[lab] + [st[md]["counts"][c] for md in modes] for c, lab in labels]))
    w("\n")
    for md in modes:
        s = st[md]
        w("**Kill rate%s: %d/%d = %.1f%%** of the mutants run (killed / killed + survived + "
          "unreached); %.1f%% of those whose site was reached.  " % (
              " " + md if both else "", s["killed"], s["run"], s["rate"], s["rate_r"]))
        if s["kills"]:
            w("Time to kill: median %.1f s, Q1 %.1f s, Q3 %.1f s.\n\n" % (
                bl.quantile(s["kills"], .5), bl.quantile(s["kills"], .25),
                bl.quantile(s["kills"], .75)))
        else:
            w("\n\n")
    if both:
        w("## Killed only after (with the behavioural oracles)\n\n")
        if only["after"]:
            w("Each crash replayed on its mutant with the safety oracles alone "
              "(`SNDTAG_NO_EXPECT=1`): *passes* means only a behavioural oracle reports "
              "that input; a crash there means the before campaign did not find the input "
              "in its budget (exploration, not the oracles).\n\n")
            w(bl.mdtable(["id", "where", "operator", "mutation", "after", "before", "its crash, safety oracles only"],
                         [[m.id, "`%s`" % m.where, m.op, m.desc.replace("|", "\\|"),
                           detail(a, "killed", res("after", m), "").replace("|", "\\|"),
                           st["before"]["cls"][m.id],
                           ("crashes: " + rep) if rep else "passes"] for m, rep in only["after"]]))
        else:
            w("None.\n")
        w("\n## Killed only before (without the behavioural oracles)\n\n")
        if only["before"]:
            w("Each crash replayed on its mutant with the behavioural oracles on: a crash with "
              "the same bucket means the after campaign did not find that input in its budget "
              "(the behavioural checks are instrumented code, so libFuzzer's feedback and the "
              "inputs it keeps differ between the two campaigns from the start); *passes* "
              "would mean the behavioural oracles hide a safety report, a bug.\n\n")
            w(bl.mdtable(["id", "where", "operator", "mutation", "before", "after", "its crash, with the behavioural oracles"],
                         [[m.id, "`%s`" % m.where, m.op, m.desc.replace("|", "\\|"),
                           detail(a, "killed", res("before", m), "").replace("|", "\\|"),
                           st["after"]["cls"][m.id],
                           ("crashes: " + rep) if rep else "passes"] for m, rep in only["before"]]))
        else:
            w("None.\n")
        w("\n## Killed both ways, after by a behavioural report\n\n")
        if first:
            w("Both campaigns killed these, with different reports; after's crash passes with "
              "the safety oracles alone, so there a behavioural oracle spoke first.\n\n")
            w(bl.mdtable(["id", "where", "operator", "mutation", "before", "after"],
                         [[m.id, "`%s`" % m.where, m.op, m.desc.replace("|", "\\|"),
                           detail(a, "killed", res("before", m), "").replace("|", "\\|"),
                           detail(a, "killed", res("after", m), "").replace("|", "\\|")]
                          for m in first]))
        else:
            w("None.\n")
        w("\n")
    by_op = {}
    for m in muts:
        d = by_op.setdefault(m.op, {md: [0, 0] for md in modes})
        for md in modes:
            c = st[md]["cls"][m.id]
            d[md][0] += c == "killed"
            d[md][1] += c in RUN
    w("## By operator\n\n")
    w(bl.mdtable(["operator", "what"] + ["killed / run" + (" " + md if both else "") for md in modes],
                 [[o, mutate.OPERATORS[o].replace("|", "\\|")] +
                  ["%d/%d" % tuple(by_op[o][md]) for md in modes]
                  for o in mutate.OPERATORS if o in by_op]))
    w("\n## By file\n\n")
    w(bl.mdtable(["file"] + ["killed / run" + (" " + md if both else "") for md in modes],
                 [[f] + ["%d/%d" % per[md] for md in modes] for f, per in frows]))
    if png:
        w("\n![kill rate per file](%s)\n" % png)
    if perr:
        w("\nplot failed: %s\n" % perr)
    w("\n## Every mutant\n\n")
    rows = []
    for m in muts:
        dets = []
        for md in modes:
            d = detail(a, st[md]["cls"][m.id], res(md, m), builds[m.id].status)
            dets.append(("%s: %s" % (md, d)) if both else d)
        if both and st["before"]["cls"][m.id] == st["after"]["cls"][m.id] in (
                "unreached", "equivalent", "discarded"):
            dets = [detail(a, st["after"]["cls"][m.id], res("after", m), builds[m.id].status)]
        rows.append([m.id, "`%s`" % m.where, m.op, m.desc.replace("|", "\\|")] +
                    [st[md]["cls"][m.id] for md in modes] + ["; ".join(dets).replace("|", "\\|")])
    w(bl.mdtable(["id", "where", "operator", "mutation"] + (modes if both else ["result"]) + ["detail"],
                 rows))
    w("\nSurvivors are what the harness cannot see in this budget: a survivor whose site was "
      "reached is a missing oracle or a missing interleaving; an unreached one is code the "
      "campaign does not get to.  Raw logs, sources and binaries: `raw/` (not committed).\n")
    bl.write_atomic(os.path.join(a.out, "report.md"), md_.getvalue())
    last = st[modes[-1]]

    def mut_json(m):
        d = dict(id=m.id, where=m.where, op=m.op, desc=m.desc, result=last["cls"][m.id])
        if both:
            for md in modes:
                d[md] = dict(result=st[md]["cls"][m.id], **res(md, m))
        else:
            d.update(res(modes[0], m))
        return d
    summ = dict(
        command=["tools/sndtag", "bench", "mutants"] + argv, time=a.time, seed=a.seed,
        expect=a.expect, candidates=total_cands, drawn=len(muts), killed=last["killed"],
        run=last["run"], kill_rate=round(last["rate"], 2),
        kill_rate_reached=round(last["rate_r"], 2), counts=last["counts"],
        correct_core=correct[modes[-1]].result if modes[-1] in correct else None,
        mutants=[mut_json(m) for m in muts])
    if both:
        summ["modes"] = {md: dict(what=MODE_WHAT[md], killed=st[md]["killed"], run=st[md]["run"],
                                  kill_rate=round(st[md]["rate"], 2),
                                  kill_rate_reached=round(st[md]["rate_r"], 2),
                                  counts=st[md]["counts"],
                                  correct_core=correct[md].result if md in correct else None)
                         for md in modes}
        for md in modes:
            summ["%s_only" % md] = [dict(id=m.id, where=m.where, op=m.op,
                                         bucket=res(md, m)["bucket"],
                                         other_oracles_replay=rep or None)
                                    for m, rep in only[md]]
        summ["both_after_behavioural"] = [dict(id=m.id, where=m.where, op=m.op,
                                               before=res("before", m)["bucket"],
                                               after=res("after", m)["bucket"])
                                          for m in first]
    bl.write_json(os.path.join(a.out, "summary.json"), summ)
    print()
    print("=== mutation analysis (%d s per mutant%s) ===" % (
        a.time, ", before/after" if both else ""))
    print(bl.texttable(["id", "where", "operator"] + (modes if both else ["result"]) + ["detail"],
                       [[r[0], r[1].strip("`"), r[2]] + r[4:] for r in rows]), end="")
    print()
    for md in modes:
        s = st[md]
        print("kill rate%s: %d/%d = %.1f%% (reached: %.1f%%); equivalent %d, discarded %d, "
              "errors %d; correct core: %s" % (
                  " " + md if both else "", s["killed"], s["run"], s["rate"], s["rate_r"],
                  s["counts"]["equivalent"], s["counts"]["discarded"], s["counts"]["error"],
                  correct_line(correct[md].result if md in correct else None)))
    if both:
        for md in modes:
            print("killed only %s: %s" % (md, ", ".join(
                "%s %s %s (%s; %s)" % (m.id, m.where, m.op, res(md, m)["bucket"],
                                       ("other oracles: " + rep) if rep else
                                       "passes with the other oracles")
                for m, rep in only[md]) or "none"))
        print("killed both ways, after by a behavioural report: %s" % (", ".join(
            "%s %s %s (%s)" % (m.id, m.where, m.op, res("after", m)["bucket"]) for m in first)
            or "none"))
    print("report: %s" % os.path.relpath(os.path.join(a.out, "report.md"), os.getcwd()))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="tools/sndtag bench mutants",
        description="Mutation analysis of the correct core: mutants from a catalogue of "
        "kernel-bug patterns (%s), each built as its own core and fuzz_scenario (or "
        "--target), each fuzzed with the default campaign; reports the kill rate, time to kill, buckets "
        "and the surviving mutants with file:line." % ", ".join(mutate.OPERATORS),
        epilog="Full run: tools/sndtag bench mutants --time 120.  Before/after the "
        "behavioural oracles: tools/sndtag bench mutants --expect both")
    ap.add_argument("--time", type=int, default=120, help="campaign budget per mutant, s (120)")
    ap.add_argument("--max", type=int, default=48, help="mutants to draw (48)")
    ap.add_argument("--seed", type=int, default=1,
                    help="draws the mutants and seeds libFuzzer (-seed=) (1)")
    ap.add_argument("--jobs", type=int, default=bl.ncores(),
                    help="builds/campaigns in parallel (default: the cores, %d)" % bl.ncores())
    ap.add_argument("--expect", choices=("on", "off", "both"), default="on",
                    help="the oracles the campaigns run with: on = safety + behavioural "
                    "(fuzz/interp_expect.c; SNDTAG_NO_EXPECT removed from the "
                    "environment), off = safety only (SNDTAG_NO_EXPECT=1), both = each "
                    "mutant's campaign (and the correct core's) twice with the same seed "
                    "and budget, 'before' (off) and 'after' (on): the report gives both kill "
                    "rates and names the mutants killed only after (and only before), each "
                    "such crash replayed with the other oracle set; it takes twice as long "
                    "as on (on)")
    ap.add_argument("--files", default="",
                    help="comma list of path parts: only core files containing one")
    ap.add_argument("--out", help="output folder (default results/<date>-mutants)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "asan"))
    ap.add_argument("--target", choices=("fuzz_scenario", "fuzz_threads"),
                    default="fuzz_scenario",
                    help="the fuzz target each mutant is relinked into and fuzzed with "
                    "(fuzz_scenario, the default campaign; fuzz_threads: the threaded target, "
                    "for sites only concurrency reaches, e.g. a failed INP_TRY_UPGRADE)")
    ap.add_argument("--only", default="",
                    help="comma list of mutant ids of the draw (m005,m019): run only these, "
                    "e.g. the survivors of a run again after an oracle change")
    ap.add_argument("--list", action="store_true", help="print the drawn mutants and exit")
    ap.add_argument("--no-correct", action="store_true",
                    help="skip the correct-core campaign")
    ap.add_argument("--no-build", action="store_true", help="do not build the asan targets")
    a = ap.parse_args(argv)
    if a.time < 1 or a.max < 1 or a.jobs < 1:
        bl.die(PROG, "--time, --max and --jobs must be at least 1")
    if a.jobs > bl.ncores():
        bl.note(PROG, "--jobs %d is more than the %d cores; using %d" % (a.jobs, bl.ncores(), bl.ncores()))
        a.jobs = bl.ncores()
    a.files = [x for x in a.files.split(",") if x]
    if not a.out:
        a.out = os.path.join(ROOT, "results",
                             datetime.datetime.utcnow().strftime("%Y-%m-%d") + "-mutants")
    a.out = os.path.abspath(a.out)
    a.raw = os.path.join(a.out, "raw")
    a.build = os.path.abspath(a.build)
    return a


def main(argv):
    a = parse_args(argv)
    cands = mutate.catalogue(ROOT, a.files)
    if not cands:
        bl.die(PROG, "no mutant in the selected files%s; --files takes parts of paths under "
               "core/ such as net/if_lagg.c" % (" (%s)" % ",".join(a.files) if a.files else ""))
    muts = mutate.sample(cands, a.max, a.seed)
    only = [x for x in a.only.split(",") if x]
    if only:
        unknown = sorted(set(only) - set(m.id for m in muts))
        if unknown:
            bl.die(PROG, "--only: %s not in the draw (--max %d --seed %d); "
                   "see the ids with --list" % (",".join(unknown), a.max, a.seed))
        muts = [m for m in muts if m.id in only]
    if a.list:
        for m in muts:
            print("%s  %s  %s  %s" % (m.id, m.where, m.op, m.desc))
        print("%d of %d candidates" % (len(muts), len(cands)))
        return 0
    if not shutil.which("gnuplot"):
        bl.die(PROG, "gnuplot not found; run 'sudo tools/sndtag deps'")
    os.makedirs(a.raw, exist_ok=True)
    if not a.no_build:
        bl.note(PROG, "building %s, sndtag-replay and the seeds in %s" %
                (a.target, os.path.relpath(a.build, ROOT)))
        if not os.path.exists(os.path.join(a.build, "build.ninja")):
            bl.die(PROG, "%s is not configured; run 'tools/sndtag build asan'" % a.build)
        log = os.path.join(a.raw, "build.log")
        with open(log, "w") as f:
            p = subprocess.run(["cmake", "--build", a.build, "-j", str(bl.ncores()), "--target",
                                a.target, "sndtag-replay", "sndtag_seed_corpora",
                                "sndtag-bucket"],
                               stdout=f, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            bl.die(PROG, "the asan build failed (see %s)" % log)
    tc = Toolchain(a.build, a.target)
    a.probe_o = os.path.join(a.raw, "mutant_probe.o")
    p = subprocess.run(["clang", "-O1", "-g", "-c", os.path.join(HERE, "mutant_probe.c"),
                        "-o", a.probe_o], capture_output=True, text=True)
    if p.returncode != 0:
        bl.die(PROG, "cannot compile bench/mutant_probe.c: %s" % p.stderr.strip()[:200])
    started = datetime.datetime.utcnow()
    t0 = time.monotonic()
    clock = lambda: "%d:%02d:%02d" % divmod_h(int(time.monotonic() - t0))
    bl.note(PROG, "%d mutants drawn from %d candidates (seed %d); building with %d job(s)"
            % (len(muts), len(cands), a.seed, a.jobs))
    builds = {m.id: Build(a, tc, m) for m in muts}
    done = [0]

    def b_done(b):
        done[0] += 1
        bl.note(PROG, "[%s] build %d/%d %s %s: %s" % (clock(), done[0], len(muts), b.m.id,
                                                      b.m.where, b.status))

    bl.Pool(a.jobs).run(list(builds.values()), lambda b: None, b_done)
    # One campaign per mutant and oracle set; with --expect both a
    # mutant's two campaigns are next to each other in the queue, so with
    # two jobs they run side by side under the same load.
    modes = MODES[a.expect]
    sub = (lambda d, md: os.path.join(d, md)) if len(modes) > 1 else (lambda d, md: d)
    camps = {md: {} for md in modes}
    correct = {}
    jobs = []
    if not a.no_correct:
        for md in modes:
            correct[md] = Campaign(a, "correct", os.path.join(a.build, "fuzz", a.target),
                                   sub(os.path.join(a.raw, "correct"), md), md)
            jobs.append(correct[md])
    for m in muts:
        if builds[m.id].status != "built":
            continue
        for md in modes:
            camps[md][m.id] = Campaign(a, m.id, os.path.join(a.raw, m.id, a.target),
                                       sub(os.path.join(a.raw, m.id), md), md)
            jobs.append(camps[md][m.id])
    bl.note(PROG, "%d campaign(s) of %d s, %d job(s): about %d min" % (
        len(jobs), a.time, a.jobs, (len(jobs) + a.jobs - 1) // a.jobs * (a.time + 5) // 60 + 1))
    done[0] = 0

    def c_start(c):
        bl.note(PROG, "[%s] start %s" % (clock(), c.label))

    def c_done(c):
        done[0] += 1
        r = c.result
        if r["kill"] is not None:
            what = "crash at %.1f s: %s" % (r["kill"], r["bucket"])
        elif c.name == "correct":
            what = r["note"] or "no crash"
        else:
            what = r["note"] or ("no crash (site %s)" % (
                "reached at %.1f s" % r["reach"] if r["reach"] is not None else "never reached"))
        bl.note(PROG, "[%s] %d/%d %s: %s" % (clock(), done[0], len(jobs), c.label, what))

    def c_tick(running):
        bl.note(PROG, "[%s] %d/%d done; running %s" % (
            clock(), done[0], len(jobs), ", ".join(
                "%s (%.0f s)" % (c.label, time.monotonic() - c.t0) for c in running)))

    bl.Pool(a.jobs).run(jobs, c_start, c_done, c_tick)
    report(a, argv, started, len(cands), muts, builds, camps, correct)
    return 0


def divmod_h(s):
    return (s // 3600, s // 60 % 60, s % 60)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        bl.note(PROG, "interrupted; partial results are in the raw/ folder")
        sys.exit(130)
