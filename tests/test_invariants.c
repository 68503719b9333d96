/*
 * Every oracle fires: for each invariant of spec §10 (and the lock rules
 * of §5), cases that break it on purpose inside CHECK_PANICS and show the
 * model reporting it with a "panic: <prefix>" line naming that invariant
 * (docs/HACKING.md, docs/INVARIANTS.md), and a positive control that does
 * the same thing right: no panic, and a clean ledger at t_world_end().
 *
 * Cases are named after the invariant: invN_<what breaks> and invN_ok_...
 * A case only uses public core APIs and pokes a test may do to a struct;
 * where an invariant cannot be broken without editing the core, the case
 * says so and points at the check that exists.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "dev/cxgbe/adapter.h"
#include "dev/cxgbe/offload.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "net/if_var.h"
#include "net/if_lagg.h"
#include "net/if_loop.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "shim/taskqueue.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"

static const struct in_addr src4 = { 0x0a000002 };	/* 10.0.0.2 */
static const struct in6_addr src6 = { { 0xfd, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 2 } };

/*
 * Break an invariant in a child and check the panic line names it; the
 * case is listed in the output (as a TAP comment) with what fired.
 */
static void
t_breaks(const char *name, void (*fn)(void *), const char *needle)
{
	CHECK_PANICS(fn, NULL, needle);
	printf("# %s: panic: ...%s...\n", name, needle);
}
#define	BREAKS(fn, needle)	t_breaks(#fn, (fn), (needle))

/*
 * Helpers (the shared ones are in fixtures.h).
 */
static struct m_snd_tag *
t_alloc(struct ifnet *ifp)
{
	struct m_snd_tag *mst;

	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 7, &mst), 0);
	CHECK(mst != NULL);
	return (mst);
}

static struct mbuf *
t_pkt(struct m_snd_tag *mst)
{
	return (t_pkt_len(mst, 60));
}

/*
 * A test driver whose tags live in static storage and whose free method
 * does not free them: a use after the count reached zero then reads
 * valid memory, so what reports it is the model's KASSERT, not ASan.
 * The free method records what it saw, and can be made to sleep (a
 * driver that waits for its hardware), which the model must catch.
 */
struct tdrv_tag {
	struct m_snd_tag com;
	int		 frees;
	u_int		 ifp_refs_at_free;
	uint64_t	 tags_at_free;
};

static struct tdrv_tag tdrv_tags[4];
static int tdrv_ntags;
static bool tdrv_free_sleeps;

static void
tdrv_free(struct m_snd_tag *mst)
{
	struct tdrv_tag *t = (struct tdrv_tag *)mst;
	void *p;

	t->frees++;
	t->ifp_refs_at_free = refcount_load(&mst->ifp->if_refcount);
	t->tags_at_free = num_snd_tags();
	if (tdrv_free_sleeps) {
		p = malloc(16, M_TEMP, M_WAITOK);
		free(p, M_TEMP);
	}
}

static const struct if_snd_tag_sw tdrv_sw = {
	.snd_tag_free = tdrv_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

/* No free method: m_snd_tag_init must refuse it. */
static const struct if_snd_tag_sw tdrv_nofree_sw = {
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static int
tdrv_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **mstp)
{
	struct tdrv_tag *t;

	(void)params;
	if (tdrv_ntags == (int)nitems(tdrv_tags))
		return (ENOMEM);
	t = &tdrv_tags[tdrv_ntags++];
	memset(t, 0, sizeof(*t));
	m_snd_tag_init(&t->com, ifp, &tdrv_sw);
	*mstp = &t->com;
	return (0);
}

static int
tdrv_transmit(struct ifnet *ifp, struct mbuf *m)
{
	(void)ifp;
	m_freem(m);
	return (0);
}

static void
tdrv_destroy(struct ifnet *ifp)
{
	if_detach(ifp);
	if_free(ifp);
}

static struct ifnet *
t_tdrv(int unit)
{
	struct ifnet *ifp;

	ifp = if_alloc(IFT_ETHER);
	if_initname(ifp, "tdrv", unit);
	ifp->if_output = ether_output;
	ifp->if_transmit = tdrv_transmit;
	ifp->if_input = ether_input;
	ifp->if_snd_tag_alloc = tdrv_alloc;
	ifp->if_capabilities = ifp->if_capenable = IFCAP_TXRTLMT;
	if_setflagbits(ifp, IFF_UP, 0);
	if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
	if_attach(ifp);
	world_add_ifnet(ifp, tdrv_destroy);
	tdrv_ntags = 0;
	tdrv_free_sleeps = false;
	return (ifp);
}

static struct tdrv_tag *
t_tdrv_tag(struct m_snd_tag *mst)
{
	CHECK(mst->sw == &tdrv_sw);
	return ((struct tdrv_tag *)mst);
}

/*
 * §10.1  A tag's refcount is >= 1 while any inp, wrapper, session or mbuf
 * points at it; it never goes below zero and is never used after
 * reaching zero.  Oracle: "snd_tag refcount" (kern_mbuf.c
 * m_snd_tag_ref/m_snd_tag_rele).
 */
static void
inv1_tag_used_after_zero(void *arg __unused)
{
	struct m_snd_tag *mst;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m_snd_tag_rele(mst);		/* the owner's: count 0, destroyed */
	(void)m_snd_tag_ref(mst);	/* a late user finds it dead */
}

static void
inv1_tag_released_below_zero(void *arg __unused)
{
	struct m_snd_tag *mst;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m_snd_tag_rele(mst);
	m_snd_tag_rele(mst);		/* a second owner that never was */
}

/* The owner drops the mbuf's reference too; the mbuf frees it later. */
static void
inv1_mbuf_outlives_tag(void *arg __unused)
{
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m = t_pkt(mst);
	m_snd_tag_rele(mst);
	m_snd_tag_rele(mst);		/* wrong: the mbuf's reference */
	m_freem(m);
}

static void
inv1_ok_references_balance(void)
{
	struct m_snd_tag *mst;
	struct tdrv_tag *t;
	struct mbuf *m, *n;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	t = t_tdrv_tag(mst);
	CHECK_EQ(t_refs(mst), 1);
	m = t_pkt(mst);
	n = m_copypacket(m, M_NOWAIT);	/* its own reference */
	CHECK(n != NULL);
	CHECK_EQ(t_refs(mst), 3);
	m_snd_tag_rele(mst);
	m_freem(m);
	CHECK_EQ(t->frees, 0);
	CHECK_EQ(t_refs(mst), 1);
	m_freem(n);
	CHECK_EQ(t->frees, 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

static void
test_inv1(void)
{
	BREAKS(inv1_tag_used_after_zero,
	    "snd_tag refcount: m_snd_tag_ref on a tag whose count is 0");
	BREAKS(inv1_tag_released_below_zero,
	    "snd_tag refcount: m_snd_tag_rele on a tag whose count is 0");
	BREAKS(inv1_mbuf_outlives_tag,
	    "snd_tag refcount: m_snd_tag_rele on a tag whose count is 0");
	inv1_ok_references_balance();
}

/*
 * §10.2  m_snd_tag_destroy runs exactly once per tag, only from the
 * release that reaches zero, and calls free -> if_rele -> num_snd_tags--.
 * Oracle: "snd_tag destroy" (kern_mbuf.c m_snd_tag_init/destroy).  The
 * order inside m_snd_tag_destroy cannot be changed from a test; the
 * positive control checks what the free method sees.
 */
static void
inv2_destroy_with_references(void *arg __unused)
{
	struct m_snd_tag *mst;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	(void)m_snd_tag_ref(mst);
	m_snd_tag_destroy(mst);		/* not from the last release */
}

static void
inv2_destroy_twice(void *arg __unused)
{
	struct m_snd_tag *mst;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m_snd_tag_rele(mst);		/* destroyed once, correctly */
	m_snd_tag_destroy(mst);		/* and once more */
}

static void
inv2_tag_without_free_method(void *arg __unused)
{
	static struct m_snd_tag mst;

	t_world_begin();
	m_snd_tag_init(&mst, t_tdrv(0), &tdrv_nofree_sw);
}

static void
inv2_ok_destroy_once_in_order(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct tdrv_tag *t;
	u_int refs;

	t_world_begin();
	ifp = t_tdrv(0);
	refs = refcount_load(&ifp->if_refcount);
	mst = t_alloc(ifp);
	t = t_tdrv_tag(mst);
	CHECK_EQ(refcount_load(&ifp->if_refcount), refs + 1);
	CHECK_EQ(num_snd_tags(), 1);
	(void)m_snd_tag_ref(mst);
	m_snd_tag_rele(mst);
	CHECK_EQ(t->frees, 0);
	m_snd_tag_rele(mst);
	CHECK_EQ(t->frees, 1);
	/* free ran first: the ifnet was still pinned, the tag counted. */
	CHECK_EQ(t->ifp_refs_at_free, refs + 1);
	CHECK_EQ(t->tags_at_free, 1);
	CHECK_EQ(refcount_load(&ifp->if_refcount), refs);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

static void
test_inv2(void)
{
	BREAKS(inv2_destroy_with_references,
	    "snd_tag destroy: tag on tdrv0 destroyed with 2 references");
	BREAKS(inv2_destroy_twice,
	    "snd_tag destroy: num_snd_tags underflow");
	BREAKS(inv2_tag_without_free_method,
	    "snd_tag destroy: tag on tdrv0 has no free method");
	inv2_ok_destroy_once_in_order();
}

/*
 * §10.3  After teardown: no tag, no mbuf, every ifnet freed, every driver
 * resource returned, queues empty, no lock held, no deferred work.
 * Oracle: "ledger" (harness/world.c world_check_ledger and the actors'
 * ledgers).
 */
static void
inv3_leaked_tag_reference(void *arg __unused)
{
	struct ifnet *ifp;
	struct socket *so;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	(void)m_snd_tag_ref(t_inp(so)->inp_snd_tag);	/* never released */
	t_world_end();
}

static void
inv3_leaked_mbuf(void *arg __unused)
{
	t_world_begin();
	(void)t_nic(0, 0);
	(void)t_pkt(NULL);		/* never freed */
	t_world_end();
}

static void
inv3_pinned_ifnet(void *arg __unused)
{
	t_world_begin();
	if_ref(t_nic(0, 0));		/* never released */
	t_world_end();
}

static void
inv3_lock_held(void *arg __unused)
{
	static struct mtx m;

	t_world_begin();
	mtx_init(&m, "leaked lock", NULL, MTX_DEF);
	mtx_lock(&m);			/* never unlocked */
	world_teardown();
	world_check_ledger();
}

static void
t_nothing(epoch_context_t ctx __unused)
{
}

static void
inv3_deferred_work_after_teardown(void *arg __unused)
{
	static struct epoch_context ctx;

	t_world_begin();
	(void)t_nic(0, 0);
	world_teardown();
	NET_EPOCH_CALL(t_nothing, &ctx);	/* queued too late */
	world_check_ledger();
}

static void
inv3_ok_everything_comes_home(void)
{
	struct ifnet *ifp;
	struct socket *so;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 3000, 0), 0);
	CHECK(nic_ring_count(ifp) > 0);
	CHECK_EQ(soclose(so), 0);
	/* Packets still queued in the driver: teardown completes them. */
	CHECK_EQ(num_snd_tags(), 1);
	world_teardown();
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(ifnet_live_count(), 0);
	CHECK_EQ(inpcb_live_count(), 0);
	CHECK_EQ(witness_held_count(), 0);
	CHECK_EQ(epoch_pending(), 0);
	CHECK_EQ(taskqueue_pending_all(), 0);
	world_check_ledger();
	world_fini();
}

static void
test_inv3(void)
{
	BREAKS(inv3_leaked_tag_reference,
	    "ledger: num_snd_tags is 1 after teardown");
	BREAKS(inv3_leaked_mbuf,
	    "ledger: 1 mbufs live after teardown");
	BREAKS(inv3_pinned_ifnet,
	    "ledger: 1 ifnets live after teardown");
	BREAKS(inv3_lock_held,
	    "ledger: 1 locks held after teardown");
	BREAKS(inv3_deferred_work_after_teardown,
	    "ledger: 1 epoch callbacks pending after teardown");
	inv3_ok_everything_comes_home();
}

/*
 * §10.4  CSUM_SND_TAG on a header mbuf <=> it owns exactly one reference.
 * Oracles: "csum_snd_tag" where a header operation would lose or invent
 * the reference (kern_mbuf.c m_pkthdr_init, uipc_mbuf.c m_move_pkthdr,
 * m_demote_pkthdr, m_catpkt, ip_output.c ip_output_send); a flag without
 * a reference shows as a release too many ("snd_tag refcount"), a
 * reference without the flag as a leak ("ledger").
 */
static void
inv4_flag_without_reference(void *arg __unused)
{
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m = t_pkt(NULL);
	m->m_pkthdr.snd_tag = mst;	/* no m_snd_tag_ref */
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	m_freem(m);			/* drops the owner's reference */
	m_snd_tag_rele(mst);
}

static void
inv4_reference_without_flag(void *arg __unused)
{
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m = t_pkt(NULL);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);	/* no flag */
	m_snd_tag_rele(mst);
	m_freem(m);
	t_world_end();
}

static void
inv4_demote_tagged(void *arg __unused)
{
	t_world_begin();
	m_demote_pkthdr(t_pkt(t_alloc(t_tdrv(0))));
}

static void
inv4_move_onto_tagged(void *arg __unused)
{
	struct m_snd_tag *mst;
	struct mbuf *to, *from;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	to = t_pkt(mst);
	from = t_pkt(mst);
	m_move_pkthdr(to, from);
}

static void
inv4_pkthdr_init_tagged(void *arg __unused)
{
	t_world_begin();
	(void)m_pkthdr_init(t_pkt(t_alloc(t_tdrv(0))), M_NOWAIT);
}

static void
inv4_catpkt_tagged(void *arg __unused)
{
	struct m_snd_tag *mst;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	m_catpkt(t_pkt(NULL), t_pkt(mst));
}

static void
inv4_stamp_twice(void *arg __unused)
{
	struct sockaddr_in gw;
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	m = packet_build_ip4(src4, dst4, IPPROTO_TCP, 40, M_NOWAIT);
	CHECK(m != NULL);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inp->inp_snd_tag);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	memset(&gw, 0, sizeof(gw));
	INP_WLOCK(inp);
	(void)ip_output_send(inp, ifp, m, &gw, NULL);
}

static void
inv4_stamp_forwarded_packet(void *arg __unused)
{
	struct sockaddr_in gw;
	struct ifnet *ifp, *rx;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	rx = t_nic(1, 0);
	so = t_socket(SOCK_STREAM, ifp);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	m = packet_build_ip4(src4, dst4, IPPROTO_TCP, 40, M_NOWAIT);
	CHECK(m != NULL);
	m->m_pkthdr.rcvif = rx;		/* a received packet ... */
	memset(&gw, 0, sizeof(gw));
	INP_WLOCK(inp);
	(void)ip_output_send(inp, ifp, m, &gw, NULL);	/* ... with an inp */
}

static void
inv4_ok_flag_follows_reference(void)
{
	struct m_snd_tag *mst;
	struct tdrv_tag *t;
	struct mbuf *m, *n, *d;

	t_world_begin();
	mst = t_alloc(t_tdrv(0));
	t = t_tdrv_tag(mst);
	m = t_pkt(mst);
	/* move: the reference goes with the flag. */
	n = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(n != NULL);
	m_move_pkthdr(n, m);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.snd_tag == NULL);
	CHECK(n->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK(n->m_pkthdr.snd_tag == mst);
	CHECK_EQ(t_refs(mst), 2);
	/* dup: a new flag, a new reference. */
	d = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(d != NULL);
	CHECK_EQ(m_dup_pkthdr(d, n, M_NOWAIT), 1);
	CHECK(d->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK_EQ(t_refs(mst), 3);
	/* A tagged mbuf has no rcvif. */
	CHECK(m_rcvif(d) == NULL);
	m_freem(m);
	CHECK_EQ(t_refs(mst), 3);
	m_freem(n);
	m_freem(d);
	CHECK_EQ(t_refs(mst), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(t->frees, 1);
	t_world_end();
}

static void
test_inv4(void)
{
	BREAKS(inv4_flag_without_reference,
	    "snd_tag refcount: m_snd_tag_rele on a tag whose count is 0");
	BREAKS(inv4_reference_without_flag,
	    "ledger: num_snd_tags is 1 after teardown");
	BREAKS(inv4_demote_tagged,
	    "csum_snd_tag: demoting a tagged mbuf would leak its reference");
	BREAKS(inv4_move_onto_tagged,
	    "csum_snd_tag: m_move_pkthdr onto a tagged mbuf");
	BREAKS(inv4_pkthdr_init_tagged,
	    "csum_snd_tag: m_pkthdr_init on a tagged mbuf");
	BREAKS(inv4_catpkt_tagged,
	    "csum_snd_tag: m_catpkt of a tagged packet");
	BREAKS(inv4_stamp_twice,
	    "csum_snd_tag: ip_output_send: packet");
	BREAKS(inv4_stamp_forwarded_packet,
	    "csum_snd_tag: trying to add a send tag to a forwarded packet");
	inv4_ok_flag_follows_reference();
}

/*
 * §10.5  Receive paths never see CSUM_SND_TAG.  Oracle: "receive mbuf has
 * send tag" (sys/mbuf.h M_ASSERT_NO_SND_TAG in ether_input, ether_demux,
 * ip_input, ip6_input, lo_input, nic_rx; if_epair.c).
 */
static struct mbuf *
t_tagged_rx(void)
{
	struct mbuf *m;

	t_world_begin();
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	CHECK(m != NULL);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(t_alloc(t_tdrv(0)));
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	return (m);
}

static void
inv5_tagged_into_ether_input(void *arg __unused)
{
	struct mbuf *m = t_tagged_rx();

	ether_input(t_nic(0, 0), m);
}

static void
inv5_tagged_into_ip_input(void *arg __unused)
{
	ip_input(t_tagged_rx());
}

static void
inv5_tagged_into_ip6_input(void *arg __unused)
{
	struct mbuf *m;

	t_world_begin();
	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10, M_NOWAIT);
	CHECK(m != NULL);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(t_alloc(t_tdrv(0)));
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	ip6_input(m);
}

static void
inv5_tagged_into_nic_rx(void *arg __unused)
{
	struct mbuf *m = t_tagged_rx();

	nic_rx(t_nic(0, 0), m);
}

/* Forwarded: received on one nic, out another that holds tags. */
static void
inv5_ok_forwarded_packet_keeps_rcvif(void)
{
	struct ifnet *in, *out;
	struct socket *so;
	struct mbuf *m;

	t_world_begin();
	V_ipforwarding = 1;
	in = t_nic(0, 0);
	out = t_nic(1, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, out);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 10, 0), 0);
	CHECK_EQ(num_snd_tags(), 1);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 200, M_NOWAIT);
	CHECK(m != NULL);
	nic_rx(in, m);
	CHECK_EQ(nic_ring_count(out), 2);
	m = nic_ring_peek(out, 1);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m_rcvif(m) == in);
	V_ipforwarding = 0;
	t_world_end();
}

static void
test_inv5(void)
{
	BREAKS(inv5_tagged_into_ether_input,
	    "receive mbuf has send tag! (ether_input)");
	BREAKS(inv5_tagged_into_ip_input,
	    "receive mbuf has send tag! (ip_input)");
	BREAKS(inv5_tagged_into_ip6_input,
	    "receive mbuf has send tag! (ip6_input)");
	BREAKS(inv5_tagged_into_nic_rx,
	    "receive mbuf has send tag! (nic_rx)");
	inv5_ok_forwarded_packet_keeps_rcvif();
}

/*
 * §10.6  When X->if_transmit(X, m) runs with a tagged m, tag->ifp == X;
 * wrappers take the inner reference before releasing the outer one.
 * Oracles: "tag ifp mismatch" (if_nic.c, if_vlan.c, if_lagg.c,
 * t4_main.c, mlx5_en_tx.c transmit), "tag at tag-less driver" (if_nic.c,
 * if_loop.c) and, for the swap order, "snd_tag refcount: wrapper swap"
 * (if_vlan.c wrapper_snd_tag_rele_inner).
 */
static void
inv6_tagged_transmit_on_wrong_nic(void *arg __unused)
{
	struct ifnet *a, *b;

	t_world_begin();
	a = t_nic(0, NIC_F_TXRTLMT);
	b = t_nic(1, NIC_F_TXRTLMT);
	(void)b->if_transmit(b, t_pkt(t_alloc(a)));
}

static void
inv6_tagged_transmit_on_tagless_nic(void *arg __unused)
{
	struct ifnet *a, *b;

	t_world_begin();
	a = t_nic(0, NIC_F_TXRTLMT);
	b = t_nic(1, 0);
	(void)b->if_transmit(b, t_pkt(t_alloc(a)));
}

static void
inv6_tagged_output_on_loopback(void *arg __unused)
{
	struct sockaddr_in sin;
	struct ifnet *a, *lo;

	t_world_begin();
	a = t_nic(0, NIC_F_TXRTLMT);
	lo = loop_attach(0);
	CHECK(lo != NULL);
	world_add_ifnet(lo, loop_detach);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	(void)lo->if_output(lo, t_pkt(t_alloc(a)),
	    (struct sockaddr *)&sin, NULL);
}

static void
inv6_vlan_gets_parent_tag(void *arg __unused)
{
	struct ifnet *nic, *vlan;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = vlan_clone_create(0, 5, nic);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	(void)vlan->if_transmit(vlan, t_pkt(t_alloc(nic)));
}

static void
inv6_lagg_gets_port_tag(void *arg __unused)
{
	struct ifnet *nic, *lagg;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	lagg = lagg_clone_create(0, LAGG_PROTO_FAILOVER);
	CHECK(lagg != NULL);
	world_add_ifnet(lagg, lagg_clone_destroy);
	CHECK_EQ(lagg_port_create(lagg, nic), 0);
	(void)lagg->if_transmit(lagg, t_pkt(t_alloc(nic)));
}

/* A wrapper that drops the packet's outer reference before the inner. */
static void
inv6_wrapper_releases_outer_first(void *arg __unused)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = vlan_clone_create(0, 5, nic);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	mst = t_alloc(vlan);
	inner = mst->sw->next_snd_tag(mst);
	m = t_pkt(mst);
	m_snd_tag_rele(mst);		/* the packet's is now the last */
	wrapper_snd_tag_swap_begin(inner);
	m_snd_tag_rele(m->m_pkthdr.snd_tag);	/* outer first: wrong */
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inner);
	wrapper_snd_tag_swap_end();
}

static void
inv6_ok_wrapper_swaps_to_inner_tag(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = vlan_clone_create(0, 5, nic);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	mst = t_alloc(vlan);
	CHECK(mst->ifp == vlan);
	inner = mst->sw->next_snd_tag(mst);
	CHECK(inner->ifp == nic);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), 0);
	m = nic_ring_peek(nic, 0);
	CHECK(m != NULL && m->m_pkthdr.snd_tag == inner);
	CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(inner), 2);	/* the wrapper's and the packet's */
	m_snd_tag_rele(mst);		/* the wrapper goes, the packet stays */
	CHECK_EQ(t_refs(inner), 1);
	CHECK_EQ(nic_txeof(nic, -1), 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

static void
test_inv6(void)
{
	BREAKS(inv6_tagged_transmit_on_wrong_nic,
	    "tag ifp mismatch: nic1 got a tag of nic0");
	BREAKS(inv6_tagged_transmit_on_tagless_nic,
	    "tag at tag-less driver: nic1 got a tagged packet");
	BREAKS(inv6_tagged_output_on_loopback,
	    "tag at tag-less driver: lo0 got a tagged packet");
	BREAKS(inv6_vlan_gets_parent_tag,
	    "tag ifp mismatch: vlan vlan0 got a tag of nic0");
	BREAKS(inv6_lagg_gets_port_tag,
	    "tag ifp mismatch: lagg lagg0 got a tag of nic0");
	BREAKS(inv6_wrapper_releases_outer_first,
	    "snd_tag refcount: wrapper swap released the outer reference "
	    "before taking the inner one");
	inv6_ok_wrapper_swaps_to_inner_tag();
}

/*
 * §10.7  A tag/ifp mismatch yields EAGAIN, the mbuf is consumed, and the
 * inp detaches its tag and sets CHANGED.  No KASSERT checks this on the
 * spot: an mbuf that is not consumed is found by the ledger ("ledger: N
 * mbufs live after teardown").  That the inp detaches and sets CHANGED is
 * done by in_pcboutput_eagain (in_pcb.c), called by ip_output_send and
 * ip6_output_send on every EAGAIN; a test cannot skip that call without
 * editing the core, so the positive control checks its effect.
 */
static struct mbuf *t_kept;

/* A broken wrapper: on a mismatch it drops the tag, keeps the mbuf. */
static int
t_mismatch_keeps_mbuf(struct ifnet *ifp, struct mbuf *m,
    const struct sockaddr *sa, struct route *ro)
{
	(void)ifp;
	(void)sa;
	(void)ro;
	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG) {
		m_snd_tag_rele(m->m_pkthdr.snd_tag);
		m->m_pkthdr.snd_tag = NULL;
		m->m_pkthdr.csum_flags &= ~CSUM_SND_TAG;
	}
	m->m_nextpkt = t_kept;
	t_kept = m;
	return (EAGAIN);
}

static void
inv7_mismatch_not_consumed(void *arg __unused)
{
	struct ifnet *ifp;
	struct socket *so;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	ifp->if_output = t_mismatch_keeps_mbuf;
	CHECK_EQ(sosend(so, 100, 0), EAGAIN);
	t_world_end();
}

/* The real thing: the vlan's parent changed under an existing tag. */
static void
inv7_ok_mismatch_consumed_and_reallocated(void)
{
	struct ifnet *nic0, *nic1, *vlan;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *old;
	u_int mbufs;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	vlan = vlan_clone_create(0, 5, nic0);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	so = t_socket(SOCK_STREAM, vlan);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	old = inp->inp_snd_tag;
	CHECK(old != NULL && old->ifp == vlan);
	CHECK_EQ(nic_txeof(nic0, -1), 1);
	CHECK_EQ(vlan_setparent(vlan, nic1), 0);
	mbufs = mbuf_live_count();
	CHECK_EQ(sosend(so, 100, 0), EAGAIN);
	CHECK_EQ(mbuf_live_count(), mbufs);		/* consumed */
	CHECK_EQ(nic_tx_total(nic1), 0);
	CHECK(inp->inp_snd_tag == NULL);		/* detached */
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(num_snd_tags(), 0);
	/* The next packet re-allocates on the new parent. */
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK(inp->inp_snd_tag->sw->next_snd_tag(inp->inp_snd_tag)->ifp ==
	    nic1);
	CHECK_EQ(nic_tx_total(nic1), 1);
	t_world_end();
}

static void
test_inv7(void)
{
	/* The kept segment: its header mbuf and its payload mbuf. */
	BREAKS(inv7_mismatch_not_consumed,
	    "ledger: 2 mbufs live after teardown");
	inv7_ok_mismatch_consumed_and_reallocated();
}

/*
 * §10.8 and the §5 lock rules: the inp's tag changes only under its write
 * lock (attach, detach, modify, CHANGED); the output path holds at least
 * the read lock.  Oracle: the witness assertions INP_WLOCK_ASSERT and
 * INP_LOCK_ASSERT in in_pcb.c and ip_output.c, reported as "witness:
 * <tcpinp|udpinp> not <wlocked|locked> at <function>".  A direct store
 * to inp_snd_tag without the lock has no single-threaded oracle; under
 * the threaded runner TSan reports it as a race (not a panic).
 */
static struct inpcb *
t_tcp_inp(struct ifnet **ifpp)
{
	struct ifnet *ifp;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	if (ifpp != NULL)
		*ifpp = ifp;
	return (t_inp(t_socket(SOCK_STREAM, ifp)));
}

static void
inv8_attach_with_read_lock(void *arg __unused)
{
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);

	INP_RLOCK(inp);
	(void)in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag);
}

static void
inv8_detach_without_lock(void *arg __unused)
{
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);

	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	INP_WUNLOCK(inp);
	in_pcbdetach_txrtlmt(inp);
}

static void
inv8_modify_with_read_lock(void *arg __unused)
{
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);

	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	INP_DOWNGRADE(inp);
	(void)in_pcbmodify_txrtlmt(inp, 2000);
}

static void
inv8_changed_without_lock(void *arg __unused)
{
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);

	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	INP_WUNLOCK(inp);
	in_pcboutput_eagain(inp);	/* detaches and sets CHANGED */
}

static void
inv8_output_without_lock(void *arg __unused)
{
	struct sockaddr_in gw;
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);
	struct mbuf *m;

	m = packet_build_ip4(src4, dst4, IPPROTO_TCP, 40, M_NOWAIT);
	CHECK(m != NULL);
	memset(&gw, 0, sizeof(gw));
	(void)ip_output_send(inp, ifp, m, &gw, NULL);
}

static void
inv8_ok_changes_under_write_lock(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;
	uint32_t rate;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = t_inp(so);
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 2000), 0);
	INP_DOWNGRADE(inp);
	/* Reading needs only the read lock. */
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &rate), 0);
	CHECK_EQ(rate, 2000);
	/* The output path upgrades (alone, it can) to set CHANGED. */
	in_pcboutput_eagain(inp);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK(!INP_WLOCKED(inp));	/* downgraded again */
	INP_RUNLOCK(inp);
	/* UDP output runs read-locked and re-allocates by upgrading. */
	so = t_socket(SOCK_DGRAM, NULL);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(t_inp(so)->inp_snd_tag != NULL);
	m = nic_ring_peek(ifp, 0);
	CHECK(m != NULL && m->m_pkthdr.snd_tag == t_inp(so)->inp_snd_tag);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_inv8(void)
{
	BREAKS(inv8_attach_with_read_lock,
	    "witness: tcpinp not wlocked at in_pcbattach_txrtlmt");
	BREAKS(inv8_detach_without_lock,
	    "witness: tcpinp not wlocked at in_pcbdetach_txrtlmt");
	BREAKS(inv8_modify_with_read_lock,
	    "witness: tcpinp not wlocked at in_pcbmodify_txrtlmt");
	BREAKS(inv8_changed_without_lock,
	    "witness: tcpinp not locked at in_pcboutput_eagain");
	BREAKS(inv8_output_without_lock,
	    "witness: tcpinp not locked at ip_output_send");
	inv8_ok_changes_under_write_lock();
}

/*
 * §10.9  No tag is allocated for an inp after in_pcbdetach or
 * INP_DROPPED.  Enforced by an error, in_pcbattach_txrtlmt's EINVAL on a
 * dropped inp (in_pcb.c), by in_pcboutput_txrtlmt returning early
 * without a socket, and by the KASSERTs "tag after drop" in in_pcbfree
 * and in_pcbrele_last (in_pcb.c).
 */
static void
inv9_tag_after_detach(void *arg __unused)
{
	struct ifnet *ifp;
	struct inpcb *inp = t_tcp_inp(&ifp);

	INP_WLOCK(inp);
	in_pcbdetach(inp);
	/* Not dropped, so the attach succeeds: nobody will release it. */
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	in_pcbfree(inp);
}

static void
inv9_attach_on_dropped_inp_refused(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = t_inp(so);
	CHECK_EQ(tcp_drop_socket(so), 0);
	CHECK(inp->inp_flags & INP_DROPPED);
	/* The rate is stored, but the dropped connection refuses it. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), ECONNRESET);
	CHECK_EQ(so->so_max_pacing_rate, 1000);
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), EINVAL);
	CHECK(inp->inp_snd_tag == NULL);
	/* Forced re-evaluation on output allocates nothing either. */
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	m = t_pkt(NULL);
	m->m_pkthdr.flowid = 1;
	M_HASHTYPE_SET(m, M_HASHTYPE_RSS_TCP_IPV4);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag == NULL);
	INP_WUNLOCK(inp);
	m_freem(m);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(nic_tags_live(ifp), 0);
	t_world_end();
}

static void
test_inv9(void)
{
	BREAKS(inv9_tag_after_detach,
	    "tag after drop: inp");
	inv9_attach_on_dropped_inp_refused();
}

/*
 * §10.10  Drivers: cxgbe never depends on mbuf tag references to trigger
 * its flush, and every etid/credit comes home after teardown; mlx5
 * initialises shared tags once and waits for all tags at detach; free
 * methods never sleep.  Oracles: "cxgbe: ..." (t4_sched.c, t4_sge.c),
 * "mlx5: ..." (mlx5_en_main.c, mlx5_en_rl.c), the actors' hang reports
 * "quiesce: hang: cxgbe|mlx5" (t4_main.c, mlx5_en_main.c stuck()), and
 * for a sleeping free method "witness: sleeping" (kern_lock.c
 * witness_check_sleep, reached from malloc(M_WAITOK)).
 */
#define	CX_RATE		1000000		/* bytes/s */
#define	CX_PKTLEN	100		/* 7 credits a WR */

static struct ifnet *
t_cxgbe(int unit, int etids, int backlog)
{
	return (t_cxgbe_attach(unit, etids, 4, 128, backlog));
}

/*
 * Two packets: the first asks for a completion, the second (coalesced)
 * does not, so its credits come home only with the flush.
 */
static struct m_snd_tag *
t_cxgbe_two_packets(struct ifnet *ifp)
{
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;

	mst = t_alloc(ifp);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt_len(mst, CX_PKTLEN)), 0);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt_len(mst, CX_PKTLEN)), 0);
	cst = mst_to_crt(mst);
	CHECK_EQ(cst->ncompl, 1);
	CHECK_EQ(mbufq_len(&cst->pending_fwack), 2);
	CHECK_EQ(t_refs(mst), 1);	/* ethofld_tx dropped the mbufs' */
	return (mst);
}

/* The unfixed driver: a queued mbuf keeps its tag reference. */
static void
inv10_cxgbe_flush_waits_for_mbuf_reference(void *arg __unused)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	struct mbuf *m;

	t_world_begin();
	ifp = t_cxgbe(0, 4, 32);
	mst = t_cxgbe_two_packets(ifp);
	cst = mst_to_crt(mst);
	mtx_lock(&cst->lock);
	m = cst->pending_fwack.mq_tail;
	m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	cst->mbuf_refs++;
	mtx_unlock(&cst->lock);
	m_snd_tag_rele(mst);		/* the kernel lets go */
	world_quiesce();
}

static void
inv10_cxgbe_freed_with_credits_out(void *arg __unused)
{
	struct ifnet *ifp;
	struct cxgbe_rate_tag *cst;

	t_world_begin();
	ifp = t_cxgbe(0, 4, 32);
	cst = mst_to_crt(t_cxgbe_two_packets(ifp));
	mtx_lock(&cst->lock);
	cst->flags &= ~EO_SND_TAG_REF;
	cxgbe_snd_tag_free_locked(cst);	/* as if everything were home */
}

static void
inv10_cxgbe_freed_twice(void *arg __unused)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_cxgbe(0, 4, 32);
	mst = t_cxgbe_two_packets(ifp);
	/* A flush is owed, so the tag outlives the first free. */
	mst->sw->snd_tag_free(mst);
	mst->sw->snd_tag_free(mst);
}

static void
inv10_ok_cxgbe_everything_comes_home(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_cxgbe(0, 4, 32);
	mst = t_cxgbe_two_packets(ifp);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 1);
	m_snd_tag_rele(mst);		/* free: the flush follows the acks */
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK_EQ(world_quiesce(), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

static const struct mlx5e_params t_mlx5_params = {
	.n_workers = 1,
	.channels_per_worker = 1,
	.n_channels = 1,
	.sq_size = 8,
	.packet_pacing = true,
};

static struct ifnet *
t_mlx5(int unit)
{
	struct ifnet *ifp;

	ifp = mlx5e_attach(unit, &t_mlx5_params);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, mlx5e_detach);
	return (ifp);
}

static void
inv10_mlx5_shared_tag_initialised_twice(void *arg __unused)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_mlx5(0);
	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, &mst), 0);
	CHECK_EQ(t_refs(mst), 2);	/* the channel's and ours */
	m_snd_tag_init(mst, ifp, mst->sw);	/* the channel's count lost */
	m_snd_tag_rele(mst);
}

/* A rate-limit channel whose last reference vanished without a free. */
static void
inv10_mlx5_detach_waits_forever(void *arg __unused)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_mlx5(0);
	mst = t_alloc(ifp);
	__atomic_store_n(&mst->refcount, 0, __ATOMIC_RELAXED);
	world_teardown();
}

static void
inv10_ok_mlx5_shared_tag_and_detach(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *ul, *rl;
	uint64_t base;

	t_world_begin();
	base = num_snd_tags();
	ifp = t_mlx5(0);
	CHECK_EQ(num_snd_tags(), base + 1);	/* the channel's shared tag */
	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, &ul), 0);
	CHECK_EQ(num_snd_tags(), base + 1);	/* shared, not initialised */
	CHECK_EQ(t_refs(ul), 2);
	rl = t_alloc(ifp);
	m_snd_tag_rele(ul);
	m_snd_tag_rele(rl);
	CHECK_EQ(t_refs(ul), 1);
	t_world_end();
}

/* A free method that sleeps, reached with the inp write lock held. */
static void
inv10_free_method_sleeps(void *arg __unused)
{
	struct ifnet *tdrv;
	struct inpcb *inp;

	t_world_begin();
	tdrv = t_tdrv(0);
	inp = t_inp(t_socket(SOCK_STREAM, NULL));
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, tdrv, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	tdrv_free_sleeps = true;
	in_pcbdetach_txrtlmt(inp);	/* the last reference */
}

/*
 * Every real driver's free method (and the wrappers') runs with the inp
 * write lock held inside the net epoch, as when ip_output_send's EAGAIN
 * path drops the last reference.
 */
static void
t_last_release_locked(struct ifnet *ifp, uint32_t rate)
{
	struct epoch_tracker et;
	struct inpcb *inp;

	inp = t_inp(t_socket(SOCK_STREAM, NULL));
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    rate, &inp->inp_snd_tag), 0);
	NET_EPOCH_ENTER(et);
	in_pcbdetach_txrtlmt(inp);
	NET_EPOCH_EXIT(et);
	INP_WUNLOCK(inp);
}

static void
inv10_ok_free_methods_never_sleep(void)
{
	struct ifnet *nic, *vlan, *lagg, *cx, *mce;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = vlan_clone_create(0, 5, nic);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	lagg = lagg_clone_create(0, LAGG_PROTO_FAILOVER);
	CHECK(lagg != NULL);
	world_add_ifnet(lagg, lagg_clone_destroy);
	CHECK_EQ(lagg_port_create(lagg, t_nic(1, NIC_F_TXRTLMT)), 0);
	cx = t_cxgbe(0, 4, 32);
	mce = t_mlx5(0);
	t_last_release_locked(nic, 1000);
	t_last_release_locked(nic, -1U);
	t_last_release_locked(vlan, 1000);
	t_last_release_locked(lagg, 1000);
	t_last_release_locked(cx, 1000000);
	t_last_release_locked(mce, 1000000);
	t_last_release_locked(mce, -1U);
	/* The sleeping test driver is fine with no lock held. */
	tdrv_free_sleeps = true;
	m_snd_tag_rele(t_alloc(t_tdrv(0)));
	tdrv_free_sleeps = false;
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_inv10(void)
{
	BREAKS(inv10_cxgbe_flush_waits_for_mbuf_reference,
	    "quiesce: hang: cxgbe: 1 outstanding that no event can complete");
	BREAKS(inv10_cxgbe_freed_with_credits_out,
	    "cxgbe: etid 0 freed with credits out");
	BREAKS(inv10_cxgbe_freed_twice,
	    "cxgbe: etid 0 freed twice by the kernel");
	inv10_ok_cxgbe_everything_comes_home();
	BREAKS(inv10_mlx5_shared_tag_initialised_twice,
	    "mlx5: unlimited tag of channel 0 freed while the channel is "
	    "open");
	BREAKS(inv10_mlx5_detach_waits_forever,
	    "quiesce: hang: mlx5: 1 outstanding that no event can complete");
	inv10_ok_mlx5_shared_tag_and_detach();
	BREAKS(inv10_free_method_sleeps,
	    "witness: sleeping (malloc(M_WAITOK)) with non-sleepable lock "
	    "tcpinp held");
	inv10_ok_free_methods_never_sleep();
}

/*
 * §10.11  Liveness: teardown finishes in a bounded number of steps; a
 * credit or completion that never comes is a hang, reported as one.
 * Oracle: "quiesce: hang" (harness/world.c world_progress_all and
 * world_quiesce).
 */
static int t_rounds_left;

static int
t_never_pending(void)
{
	return (1);
}

static int
t_never_progress(void)
{
	return (0);
}

static int
t_busy_progress(void)
{
	return (1);		/* something moved, yet nothing ends */
}

static int
t_none(void)
{
	return (0);
}

static int
t_wedged(void)
{
	return (1);
}

static int
t_finite_pending(void)
{
	return (t_rounds_left);
}

static int
t_finite_progress(void)
{
	if (t_rounds_left == 0)
		return (0);
	t_rounds_left--;
	return (1);
}

static struct harness_actor t_actor_never = {
	.name = "never-done",
	.pending = t_never_pending,
	.progress = t_never_progress,
};

static struct harness_actor t_actor_busy = {
	.name = "forever-busy",
	.pending = t_never_pending,
	.progress = t_busy_progress,
};

static struct harness_actor t_actor_wedged = {
	.name = "wedged",
	.pending = t_none,
	.progress = t_none,
	.stuck = t_wedged,
};

static struct harness_actor t_actor_finite = {
	.name = "finite",
	.pending = t_finite_pending,
	.progress = t_finite_progress,
	.stuck = t_none,
};

static void
inv11_event_never_comes(void *arg __unused)
{
	t_world_begin();
	harness_actor_register(&t_actor_never);
	world_teardown();
}

static void
inv11_progress_never_ends(void *arg __unused)
{
	struct world_limits lim = world_default_limits;

	lim.max_quiesce_steps = 20;
	world_init(&lim);
	harness_actor_register(&t_actor_busy);
	world_teardown();
}

static void
inv11_outstanding_work_nothing_can_finish(void *arg __unused)
{
	t_world_begin();
	harness_actor_register(&t_actor_wedged);
	world_teardown();
}

/* The firmware loses every completion request: credits never return. */
static void
inv11_cxgbe_credit_never_comes_back(void *arg __unused)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct adapter *sc;
	struct eo_fwq *fwq;
	int i;

	t_world_begin();
	ifp = t_cxgbe(0, 4, 32);
	mst = t_cxgbe_two_packets(ifp);
	sc = ifp->if_softc;
	fwq = &sc->fwq[cxgbe_etid_nth(ifp, 0)];
	mtx_lock(&sc->fw_lock);
	for (i = 0; i < fwq->count; i++)
		fwq->ring[(fwq->head + i) % fwq->size].compl = 0;
	fwq->ncompl = 0;
	mtx_unlock(&sc->fw_lock);
	m_snd_tag_rele(mst);
	world_teardown();
}

static void
inv11_ok_teardown_finishes(void)
{
	t_world_begin();
	t_rounds_left = 3;
	harness_actor_register(&t_actor_finite);
	CHECK_EQ(world_quiesce(), 0);
	CHECK_EQ(t_rounds_left, 0);
	t_rounds_left = 5;
	t_world_end();
	CHECK_EQ(t_rounds_left, 0);
}

static void
test_inv11(void)
{
	BREAKS(inv11_event_never_comes,
	    "quiesce: hang: never-done still pending after 1 steps");
	BREAKS(inv11_progress_never_ends,
	    "quiesce: hang: forever-busy still pending after 20 steps");
	BREAKS(inv11_outstanding_work_nothing_can_finish,
	    "quiesce: hang: wedged: 1 outstanding that no event can complete");
	BREAKS(inv11_cxgbe_credit_never_comes_back,
	    "quiesce: hang: cxgbe");
	inv11_ok_teardown_finishes();
}

int
main(void)
{
	RUN(test_inv1);
	RUN(test_inv2);
	RUN(test_inv3);
	RUN(test_inv4);
	RUN(test_inv5);
	RUN(test_inv6);
	RUN(test_inv7);
	RUN(test_inv8);
	RUN(test_inv9);
	RUN(test_inv10);
	RUN(test_inv11);
	return (t_done());
}
