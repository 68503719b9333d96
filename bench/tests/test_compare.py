#!/usr/bin/env python3
"""bench/compare.py on trials.csv files written here: medians with
censored trials at the budget, ratios, the geometric means, pooling, the
executions of the trials that found the bug, and one-line refusals of bad
arguments.  Also benchlib.libfuzzer_execs on a crash log's tail."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import benchlib as bl  # noqa: E402
import compare  # noqa: E402
import tte  # noqa: E402

COMPARE = os.path.join(os.path.dirname(HERE), "compare.py")
HDR = "variant,config,trial,seed,budget,status,reach,trigger,detect,bucket,crash,note,execs\n"
fails = 0


def check(what, ok, detail=""):
    global fails
    print("%s %s%s" % ("ok  " if ok else "FAIL", what,
                        (": " + detail) if detail and not ok else ""))
    fails += not ok


def near(a, b):
    return a is not None and abs(a - b) < 1e-9


def write_run(d, rows, budget=10):
    os.makedirs(d)
    with open(os.path.join(d, "trials.csv"), "w") as f:
        f.write(HDR)
        for k, (v, c, det, ex) in enumerate(rows):
            st = "censored" if det is None else "found"
            f.write("%s,%s,%d,%d,%d,%s,,,%s,b,,,%s\n" % (
                v, c, k, k, budget, st, "" if det is None else det,
                "" if ex is None else ex))


def run(*args):
    p = subprocess.run([sys.executable, COMPARE] + list(args), capture_output=True,
                       text=True)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory() as tmp:
    r1, r2, r3 = (os.path.join(tmp, n) for n in ("r1", "r2", "r3"))
    write_run(r1, [("noref", "X", 1, 100), ("noref", "X", 2, 300), ("noref", "X", 3, 200),
                   ("noref", "Y", 2, 10), ("noref", "Y", 4, 30), ("noref", "Y", 6, 20),
                   ("rcvif", "X", 1, 5), ("rcvif", "X", 1, 5), ("rcvif", "X", 1, 5),
                   ("rcvif", "Y", 1, 7), ("rcvif", "Y", None, 999), ("rcvif", "Y", None, 999),
                   ("nopin", "X", 1, None)])
    write_run(r2, [("noref", "X", 5, 400)])
    write_run(r3, [("noref", "X", 5, 400)], budget=60)

    a, ba = compare.load_side(r1 + ":X")
    b, bb = compare.load_side(r1 + ":Y")
    check("budgets", ba == 10 and bb == 10)
    rows, g = compare.compare(a, b)
    by = {r["variant"]: r for r in rows}
    check("only the variants on both sides", sorted(by) == ["noref", "rcvif"], str(sorted(by)))
    check("noref medians 2 and 4, ratio 0.5",
          near(by["noref"]["median_a"], 2) and near(by["noref"]["median_b"], 4)
          and near(by["noref"]["ratio"], 0.5))
    check("censored trials count as the budget",
          near(by["rcvif"]["median_b"], 10) and by["rcvif"]["found_b"] == 1)
    check("executions: median of the trials that found it",
          near(by["noref"]["execs_a"], 200) and near(by["rcvif"]["execs_b"], 7))
    check("geometric means", near(g["a"], 2 ** 0.5) and near(g["b"], 40 ** 0.5)
          and near(g["ratio"], (2 / 40) ** 0.5), str(g))
    check("geometric mean of executions", near(g["execs_a"], (200 * 5) ** 0.5)
          and near(g["execs_b"], (20 * 7) ** 0.5), str(g))

    ci = compare.boot_interval(a, b, ["noref", "rcvif"])
    check("bootstrap: an interval around the ratio, the same each time",
          ci is not None and ci[0] <= g["ratio"] <= ci[1]
          and ci == compare.boot_interval(a, b, ["noref", "rcvif"]), str(ci))
    same = compare.boot_interval(a, a, ["noref", "rcvif"])
    check("bootstrap: a side against itself holds 1", same[0] <= 1 <= same[1], str(same))
    far = {"noref": [dict(time=t) for t in (1.0, 1.1, 1.2, 0.9, 1.05)]}
    near_b = {"noref": [dict(time=t) for t in (10.0, 11.0, 9.0, 10.5, 9.5)]}
    lo, hi = compare.boot_interval(far, near_b, ["noref"])
    check("bootstrap: ten times apart excludes 1", hi < 1 and lo > 0.05, "%g-%g" % (lo, hi))
    check("bootstrap: none with a time of 0",
          compare.boot_interval({"noref": [dict(time=0.0), dict(time=1.0)]}, far,
                                ["noref"]) is None)
    check("bootstrap: none with a single trial",
          compare.boot_interval(a, {"noref": [dict(time=1.0)], "rcvif": b["rcvif"]},
                                ["noref", "rcvif"]) is None)

    pooled, _ = compare.load_side(r1 + ":X," + r2)
    check("pooling two runs", len(pooled["noref"]) == 4
          and near(bl.quantile([t["time"] for t in pooled["noref"]], 0.5), 2.5))

    rc, out, err = run(r1 + ":X", r1 + ":Y")
    check("the command exits 0", rc == 0, err)
    check("a censored median prints as >budget", ">10" in out, out)
    check("the variant on one side only is named", "on one side only): nopin" in out, out)
    check("the geometric-mean row", "geometric mean" in out and "0.22" in out, out)
    check("the bootstrap line", "95% bootstrap interval" in out, out)
    rc, out, _ = run("--md", r1 + ":X", r1 + ":Y")
    check("--md writes a markdown table", "| variant | found A |" in out, out)
    rc, out, _ = run("--help")
    check("--help", rc == 0 and out.startswith("usage: tools/sndtag bench compare"))

    for what, args, want in (
            ("a missing run", [os.path.join(tmp, "nope"), r1 + ":X"],
             "give a `bench tte --out` folder"),
            ("two configurations, none named", [r1, r2], "ran X, Y: name one as"),
            ("an unknown configuration", [r1 + ":Z", r2], "has no trials of Z (it ran X, Y)"),
            ("budgets mixed in one side", [r2 + "," + r3, r1 + ":X"], "mixes budgets"),
            ("different budgets", [r3, r1 + ":X"], "A had a 60 s budget, B 10 s"),
            ("one side", [r2], "give two sides"),
            ("an empty run in a list", [r2 + ",", r1 + ":X"], "empty run")):
        rc, out, err = run(*args)
        lines = err.strip().splitlines()
        check("refused: " + what, rc == 2 and len(lines) == 1 and want in err and not out,
              err.strip())

    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "trials.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    rc, out, err = run(bad, r1 + ":X")
    check("refused: not a trials.csv", rc == 2 and "not a bench tte trials.csv" in err, err)

log = ("#2\tINITED cov: 3\n#7\tNEW cov: 9\n==1==ERROR: AddressSanitizer: SEGV\n"
       "stat::number_of_executed_units: 7\nstat::average_exec_per_sec:     0\n")
check("libfuzzer_execs reads the count printed at the crash", bl.libfuzzer_execs(log) == 7)
check("libfuzzer_execs: none printed", bl.libfuzzer_execs("#2\tINITED\n") is None)
check("geomean", near(bl.geomean([1, 4, 16]), 4) and bl.geomean([]) is None
      and bl.geomean([0, 1]) is None)

# bench tte's own summary of a run: the geometric means per comparison.
comps = [dict(comparison="s vs r", a="s", b="r", median_a=1.0, median_b=4.0,
              execs_a=10, execs_b=1000),
         dict(comparison="s vs r", a="s", b="r", median_a=4.0, median_b=4.0,
              execs_a=10, execs_b=10)]
g = tte.geomeans(comps)[0]
check("tte: geometric means and the speedup", near(g["time_a"], 2) and near(g["time_b"], 4)
      and near(g["speedup"], 2) and near(g["execs_a"], 10) and near(g["execs_b"], 100), str(g))
line = tte.geomean_lines([g])[0]
check("tte: the line says it", "s 2.00 s, r 4.00 s: **2.00x**" in line
      and "(10.0x fewer)" in line, line)
check("tte: no interval without the trials", "bootstrap" not in line, line)
comps[0].update(times_a=[1.0, 0.9, 1.1], times_b=[4.0, 3.5, 4.5])
comps[1].update(times_a=[4.0, 3.0, 5.0], times_b=[4.0, 4.2, 3.8])
g = tte.geomeans(comps)[0]
lo, hi = g["interval"]
check("tte: the interval holds the speedup", lo <= g["speedup"] <= hi, str(g))
check("tte: the line gives the interval",
      "(95%% bootstrap interval %.2f-%.2f)" % (lo, hi) in tte.geomean_lines([g])[0])
comps[1]["execs_b"] = None
check("tte: no execution mean when a variant has none", tte.geomeans(comps)[0]["execs_a"] is None)

print("test_compare: %s" % ("all passed" if not fails else "%d failed" % fails))
sys.exit(1 if fails else 0)
