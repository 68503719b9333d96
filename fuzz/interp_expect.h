/*
 * Behavioural expectations (docs/INVARIANTS.md, "Behaviour"): functional
 * oracles the sequential interpreter checks after every operation.  The
 * safety oracles (KASSERTs, WITNESS, the ledger, sanitizers) say the stack
 * did nothing unsafe; these say it did what FreeBSD documents: a paced
 * connection gets its hardware tag back after a route or port change,
 * a new rate reaches the driver, a received, looped back or epair packet
 * is delivered or counted as a drop; and what goes on the wire (fragment
 * trains, addresses, forwarded packets untagged, output counters;
 * interp_expect_wire.c) and the errno of socket ops (send, tcpdrop;
 * interp_expect_sock.c).
 *
 * They read the model's own accounting (struct inp_txstat, ipstat,
 * ip6stat, the ifnet counters) and the scenario's view (which op ran,
 * how long the route has been stable).  A broken expectation panics with
 * "<expectation>: <what>: ...", so its crash bucket is its own.
 *
 * Sequential mode only: the threaded runner has no "after the op" state
 * every thread agrees on.
 */
#ifndef _FUZZ_INTERP_EXPECT_H_
#define	_FUZZ_INTERP_EXPECT_H_

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct socket;
struct ifnet;

#define	EXPECT_MAX_SOCKS	64
#define	EXPECT_MAX_IFPS		64

/* What the interpreter shows the checker around one op. */
struct expect_view {
	int		 op_case;	/* OP__OP_* */
	int		 sock;		/* the socket slot the op names, or -1 */
	int		 error;		/* the op's result (after), or: */
#define	EXPECT_SKIPPED	INT_MIN		/* the interpreter skipped the op */
	int		 delivered;	/* epair_deliver: packets delivered */
	struct socket	*so[EXPECT_MAX_SOCKS];	/* open slots, else NULL */
	int		 nso;
	struct ifnet	*ifp[EXPECT_MAX_IFPS];	/* live interfaces */
	int		 kind[EXPECT_MAX_IFPS];	/* their drivers: IK_* (interp.h) */
	int		 nifp;
	int		 ndead;		/* interfaces detached so far */
};

/* Start of an input: forget every socket's history. */
void	expect_reset(void);
void	expect_op_begin(const struct expect_view *v);
void	expect_op_end(const struct expect_view *v);

/*
 * Off switch for callers that do not want the behaviour oracles (none in
 * the tree; the environment variable SNDTAG_NO_EXPECT=1 also turns them
 * off, to tell a behaviour report from a safety one by hand).
 */
extern bool expect_enabled;

/*
 * Test-only sabotage (fuzz/tests/test_behaviour.c): called after every
 * op with the view, to break a behaviour the way a wrong core would,
 * without changing the core.  NULL in every other program.
 */
extern void (*expect_test_sabotage)(const struct expect_view *v);

/*
 * Test-only, as above: called at the start of every op, after the
 * checker took its snapshot; and at the ip:::send probe, before the
 * checker looks at the packet (it may rewrite the header, as a wrong
 * ip_output would have written it).
 */
extern void (*expect_test_sabotage_begin)(const struct expect_view *v);
struct mbuf;
struct ip;
struct ip6_hdr;
extern void (*expect_test_probe)(struct mbuf *m, const struct ip *ip,
    const struct ip6_hdr *ip6);

#endif /* !_FUZZ_INTERP_EXPECT_H_ */
