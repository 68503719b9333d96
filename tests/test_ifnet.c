/*
 * ifnet life (spec §4): references, attach/detach, the list, events, dead
 * methods, deferred free, and the Ethernet/loopback entry points that do
 * not need the IP input path.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "net/if_loop.h"
#include "net/if_var.h"
#include "net/route.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"

static int softc_frees;

static void
t_free_softc(struct ifnet *ifp)
{
	softc_frees++;
	CHECK(ifp->if_softc == &softc_frees);
}

static int t_transmits;

static int
t_transmit(struct ifnet *ifp, struct mbuf *m)
{
	t_transmits++;
	m_freem(m);
	return (0);
}

static struct ifnet *
t_ifnet(const char *name, int unit)
{
	struct ifnet *ifp;

	ifp = if_alloc(IFT_ETHER);
	if_initname(ifp, name, unit);
	ifp->if_output = ether_output;
	ifp->if_transmit = t_transmit;
	ifp->if_input = ether_input;
	ifp->if_flags = IFF_UP;
	ifp->if_drv_flags = IFF_DRV_RUNNING;
	return (ifp);
}

static void
test_alloc_attach_lookup(void)
{
	struct ifnet *a, *b, *c;
	int live0 = ifnet_live_count();

	a = t_ifnet("em", 0);
	b = t_ifnet("em", 1);
	CHECK_EQ(refcount_load(&a->if_refcount), 1);
	CHECK_EQ(ifnet_live_count(), live0 + 2);
	CHECK(strcmp(a->if_xname, "em0") == 0);
	CHECK(ifunit("em0") == NULL);		/* not attached yet */
	if_attach(a);
	if_attach(b);
	CHECK(a->if_index != 0 && b->if_index != 0);
	CHECK(a->if_index != b->if_index);
	CHECK(ifunit("em0") == a && ifunit("em1") == b);
	CHECK(ifnet_byindex(a->if_index) == a);
	CHECK(ifnet_byindex(b->if_index) == b);
	CHECK(ifunit("em2") == NULL);
	/* A freed index is reused, never duplicated. */
	t_ifnet_destroy(a);
	CHECK(ifunit("em0") == NULL);
	c = t_ifnet("em", 2);
	if_attach(c);
	CHECK(c->if_index != b->if_index);
	CHECK(ifnet_byindex(c->if_index) == c);
	t_ifnet_destroy(b);
	t_ifnet_destroy(c);
	CHECK_EQ(ifnet_live_count(), live0);
}

static void
rele_underflow(void *arg)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	ifp->if_refcount = 0;
	if_rele(ifp);
}

static void
free_attached(void *arg)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	if_attach(ifp);
	if_free(ifp);
}

static void
detach_twice(void *arg)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	if_attach(ifp);
	if_detach(ifp);
	if_detach(ifp);
}

static void
test_reference_oracles(void)
{
	CHECK_PANICS(rele_underflow, NULL, "ifnet: if_rele underflow");
	CHECK_PANICS(free_attached, NULL, "ifnet: if_free of em0 while "
	    "attached");
	CHECK_PANICS(detach_twice, NULL, "ifnet: if_detach of em0");
}

/* The memory goes after the last reference, and only through the epoch. */
static void
test_refs_and_deferred_free(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);
	int live0 = ifnet_live_count();

	ifp->if_softc = &softc_frees;
	ifp->if_free_softc = t_free_softc;
	softc_frees = 0;
	if_attach(ifp);
	if_ref(ifp);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 2);
	if_detach(ifp);
	if_free(ifp);
	t_drain();
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	CHECK_EQ(softc_frees, 0);
	CHECK_EQ(ifnet_live_count(), live0);
	CHECK(ifnet_gone_or_dying(NULL));
	CHECK(ifnet_gone_or_dying(ifp));	/* dying */
	if_rele(ifp);
	CHECK_EQ(softc_frees, 0);		/* deferred */
	CHECK(epoch_pending() > 0);
	t_drain();
	CHECK_EQ(softc_frees, 1);
	CHECK_EQ(ifnet_live_count(), live0 - 1);
}

static void
test_gone_or_dying(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	if_attach(ifp);
	CHECK(!ifnet_gone_or_dying(ifp));
	t_ifnet_destroy(ifp);
	CHECK(ifnet_gone_or_dying(ifp));	/* pointer compare only */
}

static struct {
	int		 calls;
	struct ifnet	*ifp;
	int		 state;
	bool		 was_dying;
	bool		 was_listed;
} ev;

static void
link_cb(void *arg, struct ifnet *ifp, int state)
{
	CHECK(arg == &ev);
	ev.calls++;
	ev.ifp = ifp;
	ev.state = state;
}

static void
departure_cb(void *arg, struct ifnet *ifp)
{
	CHECK(arg == &ev);
	ev.calls++;
	ev.ifp = ifp;
	ev.was_dying = (if_getflags(ifp) & IFF_DYING) != 0;
	ev.was_listed = ifunit(ifp->if_xname) == ifp;
}

static void
test_link_events(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	if_attach(ifp);
	memset(&ev, 0, sizeof(ev));
	if_link_event_register(link_cb, &ev);
	if_link_state_change(ifp, LINK_STATE_UP);
	CHECK_EQ(ev.calls, 1);
	CHECK(ev.ifp == ifp && ev.state == LINK_STATE_UP);
	CHECK_EQ(if_getlinkstate(ifp), LINK_STATE_UP);
	if_link_state_change(ifp, LINK_STATE_UP);	/* no change */
	CHECK_EQ(ev.calls, 1);
	if_link_state_change(ifp, 77);			/* rejected */
	CHECK_EQ(ev.calls, 1);
	CHECK_EQ(if_getlinkstate(ifp), LINK_STATE_UP);
	if_link_state_change(ifp, LINK_STATE_DOWN);
	CHECK_EQ(ev.calls, 2);
	CHECK_EQ(ev.state, LINK_STATE_DOWN);
	if_link_event_deregister(link_cb, &ev);
	if_link_state_change(ifp, LINK_STATE_UP);
	CHECK_EQ(ev.calls, 2);
	t_ifnet_destroy(ifp);
}

static void
test_detach_departure_and_dead_methods(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);
	struct in_addr dst = { 0x0a000000 };
	union if_snd_tag_alloc_params p = { .hdr.type =
	    IF_SND_TAG_TYPE_RATE_LIMIT };
	struct m_snd_tag *mst = NULL;
	struct mbuf *m;

	if_attach(ifp);
	CHECK_EQ(rt_add(AF_INET, &dst, 8, ifp), 0);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 2);
	memset(&ev, 0, sizeof(ev));
	if_departure_event_register(departure_cb, &ev);
	if_ref(ifp);			/* hold it past if_free */
	if_detach(ifp);
	if_departure_event_deregister(departure_cb, &ev);
	CHECK_EQ(ev.calls, 1);
	CHECK(ev.ifp == ifp && ev.was_dying && !ev.was_listed);
	CHECK(if_getflags(ifp) & IFF_DYING);
	CHECK((if_getflags(ifp) & IFF_UP) == 0);
	CHECK((if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0);
	CHECK(ifunit("em0") == NULL);
	CHECK_EQ(rt_count(), 0);
	if_free(ifp);
	t_drain();		/* the route's reference */
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);

	/* Dead methods: consume the mbuf, never reach the driver. */
	t_transmits = 0;
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK_EQ(ifp->if_transmit(ifp, m), ENXIO);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK_EQ(ifp->if_output(ifp, m, NULL, NULL), ENXIO);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	ifp->if_input(ifp, m);
	ifp->if_qflush(ifp);
	CHECK_EQ(t_transmits, 0);
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	CHECK(mst == NULL);
	/* No new route through a dying ifnet. */
	CHECK_EQ(rt_add(AF_INET, &dst, 8, ifp), ENXIO);
	if_rele(ifp);
	t_drain();
}

static void
test_counters(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);

	if_inc_counter(ifp, IFCOUNTER_OPACKETS, 3);
	if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
	if_inc_counter(ifp, IFCOUNTER_IPACKETS, 2);
	if_inc_counter(ifp, IFCOUNTER_IERRORS, 4);
	CHECK_EQ(counter_u64_fetch(ifp->if_opackets), 3);
	CHECK_EQ(counter_u64_fetch(ifp->if_oerrors), 1);
	CHECK_EQ(counter_u64_fetch(ifp->if_ipackets), 2);
	CHECK_EQ(counter_u64_fetch(ifp->if_ierrors), 4);
	if_free(ifp);
	t_drain();
}

static void
test_ether_output(void)
{
	struct ifnet *ifp = t_ifnet("em", 0);
	struct mbuf *m;

	if_attach(ifp);
	t_transmits = 0;
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK_EQ(ether_output(ifp, m, NULL, NULL), 0);
	CHECK_EQ(t_transmits, 1);
	if_setdrvflagbits(ifp, 0, IFF_DRV_RUNNING);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK_EQ(ether_output(ifp, m, NULL, NULL), ENETDOWN);
	CHECK_EQ(t_transmits, 1);
	CHECK_EQ(mbuf_live_count(), 0);
	t_ifnet_destroy(ifp);
}

/* Receive paths: a tagged mbuf is a bug; junk is dropped and counted. */
struct ttag {
	struct m_snd_tag com;
};

static void
ttag_free(struct m_snd_tag *mst)
{
}

static const struct if_snd_tag_sw ttag_sw = { .snd_tag_free = ttag_free };

static struct mbuf *
tagged_packet(struct ifnet *ifp, struct ttag *t)
{
	struct mbuf *m;

	m_snd_tag_init(&t->com, ifp, &ttag_sw);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	m->m_len = m->m_pkthdr.len = 20;
	m->m_pkthdr.snd_tag = &t->com;		/* the tag's first reference */
	m->m_pkthdr.csum_flags = CSUM_SND_TAG;
	return (m);
}

static void
ether_input_tagged(void *arg)
{
	struct ifnet *ifp = t_ifnet("em", 0);
	struct ttag t;

	ether_input(ifp, tagged_packet(ifp, &t));
}

static void
lo_output_tagged(void *arg)
{
	struct ifnet *lo = loop_attach(0);
	struct ttag t;

	(void)lo->if_output(lo, tagged_packet(lo, &t), NULL, NULL);
}

static void
test_receive_oracles(void)
{
	CHECK_PANICS(ether_input_tagged, NULL,
	    "receive mbuf has send tag");
	CHECK_PANICS(lo_output_tagged, NULL,
	    "tag at tag-less driver: lo0 got a tagged packet");
}

static void
test_junk_input_dropped(void)
{
	struct ifnet *ifp = t_ifnet("em", 0), *lo;
	struct mbuf *m;

	if_attach(ifp);
	lo = loop_attach(0);
	CHECK(ifunit("lo0") == lo);
	CHECK(lo->if_snd_tag_alloc == NULL);
	CHECK(if_getflags(lo) & IFF_LOOPBACK);

	/* Not IPv4 or IPv6: dropped, counted, rcvif was set. */
	m = m_gethdr(M_NOWAIT, MT_DATA);
	m->m_len = m->m_pkthdr.len = 20;
	mtod(m, uint8_t *)[0] = 0x20;
	ether_input(ifp, m);
	CHECK_EQ(counter_u64_fetch(ifp->if_ierrors), 1);
	/* Empty packet. */
	m = m_gethdr(M_NOWAIT, MT_DATA);
	ether_input(ifp, m);
	CHECK_EQ(counter_u64_fetch(ifp->if_ierrors), 2);
	/* Loopback output becomes input on lo. */
	m = m_gethdr(M_NOWAIT, MT_DATA);
	m->m_len = m->m_pkthdr.len = 20;
	CHECK_EQ(lo->if_output(lo, m, NULL, NULL), 0);
	CHECK_EQ(counter_u64_fetch(lo->if_opackets), 1);
	CHECK_EQ(counter_u64_fetch(lo->if_ipackets), 1);
	CHECK_EQ(counter_u64_fetch(lo->if_ierrors), 1);
	CHECK_EQ(mbuf_live_count(), 0);
	loop_detach(lo);
	t_ifnet_destroy(ifp);
	CHECK_EQ(ifnet_live_count(), 0);
}

int
main(void)
{
	RUN(test_alloc_attach_lookup);
	RUN(test_reference_oracles);
	RUN(test_refs_and_deferred_free);
	RUN(test_gone_or_dying);
	RUN(test_link_events);
	RUN(test_detach_departure_and_dead_methods);
	RUN(test_counters);
	RUN(test_ether_output);
	RUN(test_receive_oracles);
	RUN(test_junk_input_dropped);
	return (t_done());
}
