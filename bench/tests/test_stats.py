#!/usr/bin/env python3
"""bench/benchlib.py: statistics against values worked out by hand (and
matching R's wilcox.test / SciPy's mannwhitneyu), the job pool's cap, and the
bucket of a campaign log whose report is past its first MiB."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import benchlib as bl  # noqa: E402

fails = 0


def check(what, got, want, tol=1e-6):
    global fails
    ok = (got == want) if isinstance(want, str) or want is None else abs(got - want) <= tol
    print("%s %s: got %r, want %r" % ("ok  " if ok else "FAIL", what, got, want))
    fails += not ok


# Complete separation, 3 vs 3: 2 of the 20 assignments are as extreme.
u, p, m = bl.mann_whitney([1, 2, 3], [4, 5, 6])
check("U separated", u, 0.0)
check("p separated (exact)", p, 0.1)
check("method", m, "exact")
# 5 vs 5 fully separated: 2/252.
u, p, m = bl.mann_whitney([10, 11, 12, 13, 14], [1, 2, 3, 4, 5])
check("U other side", u, 25.0)
check("p 5v5", p, 2 / 252)
# Ties: censored trials at the budget.  a = [1, 300, 300], b = [300]*3:
# mid-ranks 1 and 4 (x5) -> R_a = 9, U_a = 3.  Over the 20 splits U is 3
# (the 1 in a) or 6 (not): both 1.5 from the mean 4.5, so p = 1.
u, p, m = bl.mann_whitney([1, 300, 300], [300, 300, 300])
check("U ties", u, 3.0)
check("p ties", p, 1.0)
check("all tied", bl.mann_whitney([5, 5], [5, 5])[1], 1.0)
# Normal approximation (too many splits for the exact test): 12 vs 12,
# separated: z = (72 - 0.5) / sqrt(300) = 4.1281, p = 2 sf(z) = 3.6585e-5.
u, p, m = bl.mann_whitney(list(range(12)), list(range(100, 112)))
check("method large", m, "normal")
check("p normal", p, 3.6585e-5, tol=1e-8)
check("median", bl.quantile([3, 1, 2], 0.5), 2.0)
check("Q1 type 7", bl.quantile([1, 2, 3, 4], 0.25), 1.75)
# tte's quartiles with censored trials (None): Q3 of five trials with the
# fifth censored falls on the fourth exactly (was nan: 0 * inf).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tte  # noqa: E402
check("Q3 beside a censored trial", tte._q([45.0, 237.7, 17.8, None, 152.0], 300, 0.75)[0],
      237.7)
check("median censored", str(tte._q([None, None, None, 1.0, 2.0], 300, 0.5)), "(300, True)")


# The pool never runs more jobs than asked, and runs them all.
class Job:
    live = peak = 0

    def __init__(self, n):
        self.n = n
        self.left = 3

    def start(self):
        Job.live += 1
        Job.peak = max(Job.peak, Job.live)

    def poll(self):
        self.left -= 1
        if self.left == 0:
            Job.live -= 1
            return True
        return False

    def kill(self):
        pass


done = []
bl.Pool(2, interval=0.001).run([Job(i) for i in range(7)], lambda j: None,
                               lambda j: done.append(j.n))
check("pool ran all", len(done), 7)
check("pool peak", Job.peak, 2)

# A campaign log: megabytes of status lines, the report at the end (the
# bucketer itself keeps a report's first MiB).
log = "#1\tNEW    cov: 1 ft: 1 corp: 1/1b exec/s: 0 rss: 1Mb\n" * 80000 + \
    "panic: witness: recursed on non-recursive lock cst_lock\n  at x.c:1\n" + \
    "==1== ERROR: libFuzzer: deadly signal\n"
check("long log bucket", bl.bucket_of_text(log) ==
      "panic: witness: recursed on non-recursive lock cst_lock", True)
sys.exit(1 if fails else 0)
