#!/usr/bin/env python3
"""tools/sndtag bench floor: each engine's own exec/s on this machine.

Builds bench/floor_target.c, a fuzz target that does nothing, the way the
presets build the real ones (libFuzzer: clang -fsanitize=fuzzer,address;
AFL++: afl-clang-fast -fsanitize=address and libAFLDriver, persistent
mode) and fuzzes it as the campaign would (tools/campaign.sh: libFuzzer
one plain process; AFL++ with the campaign's AFL_* settings).  The
median exec/s over the trials is the ceiling for any campaign of that
engine here: every execution of a real target costs at least this much
engine time on top of the target's own.  Writes floor.json and report.md
under the output folder.  See docs/FUZZING.md, "The engines' floor".
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

PROG = "sndtag bench floor"
ROOT = bl.ROOT
SOURCE = os.path.join(ROOT, "bench", "floor_target.c")
AFL_DRIVER_DIRS = ["/usr/lib/afl", "/usr/local/lib/afl", "/usr/lib/afl++"]
# The campaign's AFL++ environment (tools/campaign.sh, afl_start).
AFL_ENV = dict(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1",
               AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1", AFL_NO_AFFINITY="1",
               AFL_QUIET="1")


def build(engine, out):
    """The empty target's binary for engine, or die with what to install."""
    exe = os.path.join(out, "floor_" + engine)
    if engine == "libfuzzer":
        cc = shutil.which("clang")
        if cc is None:
            bl.die(PROG, "clang not found; run 'sudo tools/sndtag deps'")
        cmd = [cc, "-fsanitize=fuzzer,address", "-O1", "-g", SOURCE, "-o", exe]
    else:
        cc = shutil.which("afl-clang-fast")
        drv = next((os.path.join(d, "libAFLDriver.a") for d in AFL_DRIVER_DIRS
                    if os.path.exists(os.path.join(d, "libAFLDriver.a"))), None)
        if cc is None or drv is None:
            bl.die(PROG, "afl-clang-fast or libAFLDriver.a not found; run "
                   "'sudo tools/sndtag deps' or pass --engines libfuzzer")
        cmd = [cc, "-fsanitize=address", "-O1", "-g", SOURCE, drv, "-o", exe]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, AFL_QUIET="1"))
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
        bl.die(PROG, "building the %s floor target failed: %s" % (engine, last))
    return exe


def run_libfuzzer(exe, seconds, seed, work):
    corpus = os.path.join(work, "corpus")
    os.makedirs(corpus)
    log = os.path.join(work, "fuzz.log")
    p = bl.spawn([exe, "-seed=%d" % seed, "-max_total_time=%d" % seconds,
                  "-print_final_stats=1", "-reload=0", corpus], log)
    p.wait()
    with open(log, errors="replace") as f:
        m = re.search(r"^stat::average_exec_per_sec:\s+(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else None


def run_afl(exe, seconds, seed, work):
    seeds = os.path.join(work, "in")
    os.makedirs(seeds)
    with open(os.path.join(seeds, "a"), "wb") as f:
        f.write(b"hello")
    env = dict(os.environ, **AFL_ENV)
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(k, None)
    out = os.path.join(work, "out")
    p = bl.spawn(["afl-fuzz", "-s", str(seed), "-V", str(seconds), "-i", seeds,
                  "-o", out, "--", exe], os.path.join(work, "afl.log"), env=env)
    try:
        p.wait(seconds + 120)
    except subprocess.TimeoutExpired:
        bl.killpg(p)
    try:
        with open(os.path.join(out, "default", "fuzzer_stats")) as f:
            m = re.search(r"^execs_per_sec\s*:\s*([0-9.]+)", f.read(), re.M)
    except OSError:
        return None
    return float(m.group(1)) if m else None


def main(argv):
    ap = argparse.ArgumentParser(
        prog="tools/sndtag bench floor",
        description="Each engine's exec/s over a fuzz target that does nothing "
        "(bench/floor_target.c), built like the presets' targets and run like "
        "a campaign: the most any campaign of that engine can reach on this "
        "machine.  Run it alone: another process on the cores lowers it.")
    ap.add_argument("--engines", default="libfuzzer,afl",
                    help="comma list of libfuzzer, afl (default: both)")
    ap.add_argument("--time", type=int, default=20, help="seconds per trial (20)")
    ap.add_argument("--trials", type=int, default=3, help="trials per engine (3)")
    ap.add_argument("--out", help="output folder (default results/<date>-floor)")
    a = ap.parse_args(argv)
    engines = [e for e in a.engines.split(",") if e]
    for e in engines:
        if e not in ("libfuzzer", "afl"):
            bl.die(PROG, "unknown engine '%s'; give libfuzzer and/or afl" % e)
    if not engines:
        bl.die(PROG, "--engines is empty; give libfuzzer and/or afl")
    if a.time < 1 or a.trials < 1:
        bl.die(PROG, "--time and --trials must be at least 1")
    if "afl" in engines and not shutil.which("afl-fuzz"):
        bl.die(PROG, "afl-fuzz not found; run 'sudo tools/sndtag deps' or pass --engines libfuzzer")
    out = a.out or os.path.join(ROOT, "results",
                                datetime.date.today().isoformat() + "-floor")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="floor-", dir=out)
    try:
        rows, res = [], {}
        for e in engines:
            exe = build(e, work)
            rates = []
            for k in range(a.trials):
                bl.note(PROG, "%s trial %d/%d, %d s" % (e, k + 1, a.trials, a.time))
                d = os.path.join(work, "%s-%d" % (e, k))
                os.makedirs(d)
                r = (run_libfuzzer if e == "libfuzzer" else run_afl)(exe, a.time, k + 1, d)
                if r is None:
                    bl.die(PROG, "%s trial %d gave no exec/s (log in %s); is another "
                           "fuzzer holding the cores?" % (e, k + 1, d))
                rates.append(r)
            med = bl.quantile(rates, 0.5)
            res[e] = dict(trials=rates, median=med)
            rows.append([e, "%.0f" % med, " ".join("%.0f" % r for r in rates)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    head = ["engine", "median exec/s", "trials"]
    text = ("=== engines' floor: an empty target, %d trial(s) x %d s ===\n" % (a.trials, a.time)
            + bl.texttable(head, rows) + "machine: " + bl.machine_line() + "\n")
    sys.stdout.write(text)
    md = ("# Engines' floor\n\n`tools/sndtag bench floor %s`, %s.\n\n"
          "exec/s of each engine over a target that does nothing "
          "(bench/floor_target.c), built like the presets' targets (ASan): "
          "the most a campaign of that engine can reach here.\n\n" % (
              " ".join(argv), datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
          + bl.mdtable(head, rows) + "\nMachine: " + bl.machine_line() + ".\n")
    bl.write_atomic(os.path.join(out, "report.md"), md)
    bl.write_json(os.path.join(out, "floor.json"),
                  dict(time=a.time, trials=a.trials, engines=res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
