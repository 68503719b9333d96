#!/usr/bin/env python3
"""bench/mutate.py: the functional-bug operators (del_stat, del_flag_set,
keep_old) on a small C file written here, so every expectation is by
hand: which sites they take, which they must leave alone (comments,
strings, KASSERT arguments, variant-only code, preprocessor lines,
constants), and that line numbers hold in both texts."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mutate  # noqa: E402

SRC = r"""/* test file: IPSTAT_INC(ips_comment); x->flags |= IN_COMMENT; */
#include "ip_var.h"
#define	BUMP(x)	IPSTAT_INC(x)

static void
f(struct softc *sc, struct mbuf *m, int n)
{
	IPSTAT_INC(ips_total);
	if (n > 1)
		IP6STAT_ADD(ip6s_ofragments, n);
	if_inc_counter(sc->ifp, IFCOUNTER_OERRORS,
	    n);
	counter_u64_add(sc->sc_drops, 1);
	sc->sc_stats.tx_drops++;
	++sc->sc_stats.rx_drops;
	sc->tx_stats[n].bytes += m->m_len;
	ipstat.ips_delivered++;
	sc->sc_count++;
	printf("IPSTAT_INC(ips_string);\n");
	KASSERT(sc->sc_stats.tx_drops++ > 0, ("stat in an assertion"));
	x = counter_u64_add(sc->sc_drops, 1);
#ifdef SNDTAG_VARIANT_NOREF
	IPSTAT_INC(ips_variant);
	sc->sc_flags |= SC_VARIANT;
	sc->sc_rate = variant_rate(n);
#endif
	sc->sc_flags |= SC_RUNNING;
	m->m_flags &= ~(M_PKTHDR | M_EXT);
	sc->sc_flags |= sc->sc_mask;
	flags &= ~M_ZERO;
	sc->sc_flags = SC_RUNNING;
	sc->sc_rate = compute_rate(sc,
	    n);
	sc->sc_tag = NULL;
	sc->sc_len = sizeof(struct mbuf);
	sc->sc_max = (uint32_t)0;
	m->m_pkthdr.len = n + m->m_len;
	for (sc->i = n; sc->i < 3; sc->i++)
		continue;
	if (sc->sc_rate == n)
		sc->sc_len = n;
	local = n;
}
"""


fails = 0


def check(what, got, want):
    global fails
    ok = got == want
    print("%s %s: got %r, want %r" % ("ok  " if ok else "FAIL", what, got, want))
    fails += not ok


def line(text, no):
    return text.split("\n")[no - 1]


with tempfile.TemporaryDirectory() as root:
    os.makedirs(os.path.join(root, "core", "net"))
    with open(os.path.join(root, "core", "net", "t.c"), "w") as fh:
        fh.write(SRC)
    muts = mutate.catalogue(root)
    by = {}
    for m in muts:
        by.setdefault(m.op, []).append(m)
    nl = SRC.count("\n")
    for m in muts:
        if m.plain.count("\n") != nl or m.probed.count("\n") != nl:
            check("line count of %s %s" % (m.op, m.where), m.plain.count("\n"), nl)
    check("every mutant keeps the line count", fails, 0)
    for op in ("del_stat", "del_flag_set", "keep_old"):
        check("%s is described" % op, op in mutate.OPERATORS, True)

    # del_stat: the counter calls, the *STAT_* macros (also over two
    # lines), the stats-structure increments; not sc_count++ (not a
    # statistics structure), not a comment/string/KASSERT/variant/#define,
    # not a call whose value is used.
    stat = sorted(m.line for m in by.get("del_stat", []))
    check("del_stat lines", stat, [8, 10, 11, 13, 14, 15, 16, 17])
    m = [x for x in by["del_stat"] if x.line == 11][0]
    check("del_stat two-line call, line 11", line(m.plain, 11), "\t;")
    check("del_stat two-line call, line 12 blank", line(m.plain, 12), "")
    check("del_stat probed", line(m.probed, 11), "\tsndtag_mutant_reached();")
    m = [x for x in by["del_stat"] if x.line == 10][0]
    check("del_stat under an if", line(m.plain, 10), "\t\t;")
    m = [x for x in by["del_stat"] if x.line == 16][0]
    check("del_stat += on an indexed stats field", line(m.plain, 16), "\t;")
    check("del_stat desc", m.desc, "deleted: sc->tx_stats[n].bytes += m->m_len;")

    # del_flag_set: |= FLAG and &= ~(A | B) on fields and locals; not
    # |= of a variable, not a plain store of a flag, not variant code.
    fl = sorted(m.line for m in by.get("del_flag_set", []))
    check("del_flag_set lines", fl, [27, 28, 30])
    m = [x for x in by["del_flag_set"] if x.line == 28][0]
    check("del_flag_set plain", line(m.plain, 28), "\t;")
    check("del_flag_set desc", m.desc, "deleted: m->m_flags &= ~(M_PKTHDR | M_EXT);")

    # keep_old: a computed value stored into a field keeps being
    # computed but is not stored; constants (SC_RUNNING, NULL, sizeof,
    # a cast 0) are not computed values; not a local, not a for head,
    # not variant code.
    ko = sorted(m.line for m in by.get("keep_old", []))
    check("keep_old lines", ko, [32, 37, 41])
    m = [x for x in by["keep_old"] if x.line == 32][0]
    check("keep_old plain 32", line(m.plain, 32), "\t(void)(compute_rate(sc,")
    check("keep_old plain 33", line(m.plain, 33), "\t    n));")
    check("keep_old probed", line(m.probed, 32),
          "\t(sndtag_mutant_reached(), (void)(compute_rate(sc,")
    m = [x for x in by["keep_old"] if x.line == 41][0]
    check("keep_old under an if", line(m.plain, 41), "\t\t(void)(n);")

    # Nothing on the comment, string, #define or variant lines.
    for m in muts:
        if m.line in (1, 3, 19, 20, 22, 23, 24, 25):
            check("no mutant at line %d (%s)" % (m.line, m.op), False, True)

    # The draw: every operator of an area gets its turn, in an order
    # drawn with the seed, so a small draw is not only the
    # alphabetically first operators.
    ops = set(by)
    for seed in range(1, 4):
        got = {m.op for m in mutate.sample(mutate.catalogue(root), len(ops), seed)}
        check("a draw of %d (seed %d) takes every operator" % (len(ops), seed), got, ops)
    firsts = {mutate.sample(mutate.catalogue(root), 1, seed)[0].op for seed in range(1, 30)}
    check("the first operator depends on the seed", len(firsts) > 1, True)

sys.exit(1 if fails else 0)
