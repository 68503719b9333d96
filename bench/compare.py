#!/usr/bin/env python3
"""tools/sndtag bench compare: two sets of `bench tte` trials, variant by
variant.

An A/B pair (a change against its base, run side by side) or one run's two
configurations: the median time to the report on each side (a trial that
never reported counts as the budget), A's median over B's (above 1: B is
faster), the two-sided Mann-Whitney p, libFuzzer's executions to the
report, and the geometric mean over the variants both sides ran, with a
bootstrap interval for the ratio of the geometric means (how large a
difference these trials can show at all).  A side may pool several runs
of the same code (comma-separated).  See docs/FUZZING.md, "Fuzzing
power".
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

PROG = "sndtag bench compare"

USAGE = """usage: tools/sndtag bench compare [--md] A B

  A, B   RUN[:CONFIG][,RUN[:CONFIG]...]: a `bench tte --out` folder (or
         its trials.csv), the configuration to take from it when it ran
         more than one, several runs pooled with commas.

  tools/sndtag bench compare /tmp/base /tmp/change           # an A/B pair
  tools/sndtag bench compare R:lf-raw-empty R:lf-struct-empty  # one run
  tools/sndtag bench compare R1:lf-raw-empty,R2:lf-raw-empty \\
      R1:lf-struct-empty,R2:lf-struct-empty                  # two runs pooled
"""


def load_side(spec):
    """{variant: [trial dicts]} of one side, and the budget its trials had."""
    out, budgets = {}, set()
    for part in spec.split(","):
        if not part:
            bl.die(PROG, "empty run in '%s'; separate runs with one comma" % spec)
        run, _, config = part.partition(":")
        path = run if run.endswith(".csv") else os.path.join(run, "trials.csv")
        try:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError as e:
            bl.die(PROG, "%s: %s; give a `bench tte --out` folder" % (path, e.strerror))
        need = {"variant", "config", "budget", "status", "detect"}
        if not rows or not need <= set(rows[0]):
            bl.die(PROG, "%s: not a bench tte trials.csv (no trials, or no %s column)"
                   % (path, "/".join(sorted(need))))
        configs = sorted({r["config"] for r in rows})
        if not config:
            if len(configs) > 1:
                bl.die(PROG, "%s ran %s: name one as %s:CONFIG" % (run, ", ".join(configs), run))
            config = configs[0]
        elif config not in configs:
            bl.die(PROG, "%s has no trials of %s (it ran %s)" % (run, config, ", ".join(configs)))
        for r in rows:
            if r["config"] != config:
                continue
            try:
                budget = float(r["budget"])
                detect = float(r["detect"]) if r["status"] == "found" else None
                execs = int(r["execs"]) if r.get("execs") else None
            except ValueError:
                bl.die(PROG, "%s: a malformed row (%s t%s); rerun or fix that trial"
                       % (path, r["variant"], r.get("trial", "?")))
            budgets.add(budget)
            out.setdefault(r["variant"], []).append(
                dict(time=budget if detect is None else detect,
                     found=detect is not None, execs=execs if detect is not None else None))
    if len(budgets) > 1:
        bl.die(PROG, "%s mixes budgets (%s s): pool runs with the same --time"
               % (spec, ", ".join("%g" % b for b in sorted(budgets))))
    return out, budgets.pop()


def secs(x, censored):
    """Seconds with the precision a sub-second median needs."""
    if x is None:
        return "—"
    if censored:
        return ">%g" % x
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def compare(a, b):
    """Rows of the variants both sides ran, and the geometric means."""
    order = [v for v, _ in bl.variants()]
    common = sorted(set(a) & set(b), key=lambda v: (order.index(v) if v in order else 99, v))
    rows = []
    for v in common:
        ta = [t["time"] for t in a[v]]
        tb = [t["time"] for t in b[v]]
        ea = [t["execs"] for t in a[v] if t["execs"]]
        eb = [t["execs"] for t in b[v] if t["execs"]]
        ma, mb = bl.quantile(ta, 0.5), bl.quantile(tb, 0.5)
        _, p, _ = bl.mann_whitney(ta, tb)
        rows.append(dict(variant=v, n_a=len(ta), n_b=len(tb),
                         found_a=sum(t["found"] for t in a[v]),
                         found_b=sum(t["found"] for t in b[v]),
                         median_a=ma, median_b=mb,
                         ratio=ma / mb if mb else None, p=p,
                         execs_a=bl.quantile(ea, 0.5) if ea else None,
                         execs_b=bl.quantile(eb, 0.5) if eb else None))
    g = dict(a=bl.geomean([r["median_a"] for r in rows]),
             b=bl.geomean([r["median_b"] for r in rows]))
    g["ratio"] = g["a"] / g["b"] if g["a"] and g["b"] else None
    g["execs_a"] = g["execs_b"] = None
    if rows and all(r["execs_a"] and r["execs_b"] for r in rows):
        g["execs_a"] = bl.geomean([r["execs_a"] for r in rows])
        g["execs_b"] = bl.geomean([r["execs_b"] for r in rows])
    return rows, g


def boot_interval(a, b, variants):
    """bench compare's interval for A/B (benchlib.boot_geomean_ratio)."""
    return bl.boot_geomean_ratio([[t["time"] for t in a[v]] for v in variants],
                                 [[t["time"] for t in b[v]] for v in variants])


def main(argv):
    ap = argparse.ArgumentParser(prog="tools/sndtag bench compare", usage=USAGE,
                                 add_help=False)
    ap.add_argument("-h", "--help", action="store_true")
    ap.add_argument("--md", action="store_true", help="a markdown table")
    ap.add_argument("sides", nargs="*")
    a = ap.parse_args(argv)
    if a.help:
        print(USAGE, end="")
        return 0
    if len(a.sides) != 2:
        bl.die(PROG, "give two sides, A and B (see --help)")
    (sa, bud_a), (sb, bud_b) = load_side(a.sides[0]), load_side(a.sides[1])
    if bud_a != bud_b:
        bl.die(PROG, "A had a %g s budget, B %g s: compare runs with the same --time"
               % (bud_a, bud_b))
    rows, g = compare(sa, sb)
    if not rows:
        bl.die(PROG, "no variant in both A (%s) and B (%s)"
               % (", ".join(sorted(sa)), ", ".join(sorted(sb))))
    hdr = ["variant", "found A", "found B", "A (s)", "B (s)", "A/B", "p",
           "execs A", "execs B"]
    trows = []
    for r in rows:
        trows.append([r["variant"], "%d/%d" % (r["found_a"], r["n_a"]),
                      "%d/%d" % (r["found_b"], r["n_b"]),
                      secs(r["median_a"], r["found_a"] * 2 < r["n_a"]),
                      secs(r["median_b"], r["found_b"] * 2 < r["n_b"]),
                      "%.2f" % r["ratio"] if r["ratio"] else "—",
                      "%.2g" % r["p"] if r["p"] is not None else "—",
                      "%.0f" % r["execs_a"] if r["execs_a"] else "—",
                      "%.0f" % r["execs_b"] if r["execs_b"] else "—"])
    gm = ["geometric mean", "", "", "%.2f" % g["a"] if g["a"] else "—",
          "%.2f" % g["b"] if g["b"] else "—",
          "%.2f" % g["ratio"] if g["ratio"] else "—", "",
          "%.0f" % g["execs_a"] if g["execs_a"] else "—",
          "%.0f" % g["execs_b"] if g["execs_b"] else "—"]
    print("A: %s\nB: %s\nMedian seconds to the report (a trial with none counts as the "
          "%g s budget); A/B above 1: B is faster; p: two-sided Mann-Whitney; execs: "
          "libFuzzer's executions to the report, median over the trials that found it."
          % (a.sides[0], a.sides[1], bud_a))
    print()
    if a.md:
        print(bl.mdtable(hdr, trows + [gm]), end="")
    else:
        print(bl.texttable(hdr, trows + [gm]), end="")
    ci = boot_interval(sa, sb, [r["variant"] for r in rows])
    if ci is not None and g["ratio"]:
        print("\nGeometric-mean ratio A/B %.2f, 95%% bootstrap interval %.2f-%.2f "
              "(each side's trials resampled within each variant, %d times); an "
              "interval that holds 1 shows no difference." % (g["ratio"], ci[0], ci[1],
                                                              bl.BOOT_REPS))
    only = sorted(set(sa) ^ set(sb))
    if only:
        print("\nNot compared (on one side only): %s" % ", ".join(only))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
