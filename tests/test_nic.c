/*
 * The plain NIC (spec §9.3): no tags at the tag-less one, the tag's ifp at
 * the tag-capable one, the tx ring holding mbufs and their references
 * until completion, detach, and the "nic-tx" actor under a world.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "dev/nic/if_nic.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "net/if_loop.h"
#include "net/route.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "net/if_var.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"

static struct m_snd_tag *
alloc_tag(struct ifnet *ifp, u_int type, uint64_t rate)
{
	struct m_snd_tag *mst;

	CHECK_EQ(t_tag_alloc(ifp, type, 0, M_HASHTYPE_NONE, rate, &mst), 0);
	CHECK(mst != NULL && mst->ifp == ifp);
	return (mst);
}

static struct mbuf *
pkt(int len)
{
	struct mbuf *m;

	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	m->m_len = m->m_pkthdr.len = len;
	mtod(m, uint8_t *)[0] = 0x20;		/* not IP: receive drops it */
	return (m);
}

/* What ip_output does: the packet takes its own reference. */
static struct mbuf *
tagged_pkt(struct m_snd_tag *mst)
{
	struct mbuf *m = pkt(60);

	m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	return (m);
}

static void
settle(void)
{
	t_drain();
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(ifnet_live_count(), 0);
}

static void
test_attach(void)
{
	struct ifnet *a, *b;
	union if_snd_tag_alloc_params p = { .hdr.type =
	    IF_SND_TAG_TYPE_RATE_LIMIT };
	struct m_snd_tag *mst = NULL;

	CHECK(nic_attach("bad", 0, 0, -1, 0) == NULL);
	CHECK(nic_attach("bad", 0, 0, 1 << 20, 0) == NULL);
	CHECK(nic_attach("bad", 0, 0x100, 0, 0) == NULL);
	CHECK(nic_attach(NULL, 0, 0, 0, 0) == NULL);
	CHECK_EQ(ifnet_live_count(), 0);

	a = nic_attach("em", 0, 0, 0, 0);
	b = nic_attach("mce", 0, NIC_F_TXRTLMT | NIC_F_TSO, 8, 9000);
	CHECK(a != NULL && b != NULL);
	CHECK(ifunit("em0") == a && ifunit("mce0") == b);
	CHECK_EQ(a->if_mtu, 1500);
	CHECK_EQ(b->if_mtu, 9000);
	CHECK((a->if_capabilities & IFCAP_TXRTLMT) == 0);
	CHECK(a->if_snd_tag_alloc == NULL);
	CHECK_EQ(m_snd_tag_alloc(a, &p, &mst), EOPNOTSUPP);
	CHECK(b->if_capenable & IFCAP_TXRTLMT);
	CHECK(b->if_capenable & IFCAP_TSO);
	CHECK(if_getflags(a) & IFF_UP);
	CHECK(if_getdrvflags(a) & IFF_DRV_RUNNING);
	p.hdr.type = 99;
	CHECK_EQ(m_snd_tag_alloc(b, &p, &mst), EOPNOTSUPP);
	CHECK_EQ(nic_tags_live(b), 0);
	nic_detach(a);
	nic_detach(b);
	settle();
}

static void
test_ring_and_txeof(void)
{
	struct ifnet *ifp = nic_attach("em", 0, 0, 4, 0);
	struct mbuf *m[5];
	int i;

	for (i = 0; i < 5; i++)
		m[i] = pkt(100 + i);
	for (i = 0; i < 4; i++)
		CHECK_EQ(ifp->if_output(ifp, m[i], NULL, NULL), 0);
	CHECK_EQ(nic_ring_count(ifp), 4);
	CHECK(nic_ring_peek(ifp, 0) == m[0] && nic_ring_peek(ifp, 3) == m[3]);
	CHECK(nic_ring_peek(ifp, 4) == NULL && nic_ring_peek(ifp, -1) == NULL);
	/* Full ring: the packet is dropped and counted. */
	CHECK_EQ(ifp->if_transmit(ifp, m[4]), ENOBUFS);
	CHECK_EQ(counter_u64_fetch(ifp->if_oerrors), 1);
	CHECK_EQ(mbuf_live_count(), 4);
	CHECK_EQ(nic_tx_total(ifp), 4);
	CHECK_EQ(nic_txeof(ifp, 1), 1);
	CHECK(nic_ring_peek(ifp, 0) == m[1]);
	CHECK_EQ(mbuf_live_count(), 3);
	CHECK_EQ(nic_txeof(ifp, 0), 0);
	CHECK_EQ(nic_txeof(ifp, 10), 3);
	CHECK_EQ(nic_ring_count(ifp), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	/* Wraps around. */
	for (i = 0; i < 6; i++) {
		CHECK_EQ(ifp->if_transmit(ifp, pkt(10)), 0);
		CHECK_EQ(nic_txeof(ifp, 1), 1);
	}
	CHECK_EQ(counter_u64_fetch(ifp->if_opackets), 10);
	nic_detach(ifp);
	settle();
}

static void
tagless_gets_tag(void *arg)
{
	struct ifnet *a = nic_attach("em", 0, 0, 0, 0);
	struct ifnet *b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct m_snd_tag *mst = alloc_tag(b, IF_SND_TAG_TYPE_RATE_LIMIT, 1000);

	(void)a->if_transmit(a, tagged_pkt(mst));
}

static void
mismatch(void *arg)
{
	struct ifnet *a = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct ifnet *b = nic_attach("mce", 1, NIC_F_TXRTLMT, 0, 0);
	struct m_snd_tag *mst = alloc_tag(a, IF_SND_TAG_TYPE_UNLIMITED, 0);

	(void)b->if_transmit(b, tagged_pkt(mst));
}

static void
rx_tagged(void *arg)
{
	struct ifnet *b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct m_snd_tag *mst = alloc_tag(b, IF_SND_TAG_TYPE_UNLIMITED, 0);

	nic_rx(b, tagged_pkt(mst));
}

static void
test_driver_oracles(void)
{
	CHECK_PANICS(tagless_gets_tag, NULL,
	    "tag at tag-less driver: em0 got a tagged packet");
	CHECK_PANICS(mismatch, NULL, "tag ifp mismatch: mce1 got a tag of "
	    "mce0");
	CHECK_PANICS(rx_tagged, NULL, "receive mbuf has send tag");
}

/*
 * tcpdrop while packets sit in the ring: the inp's reference goes, the
 * ring's keep the tag alive, the completion frees it.
 */
static void
test_ring_holds_tag(void)
{
	struct ifnet *ifp = nic_attach("mce", 0, NIC_F_TXRTLMT, 4, 0);
	struct m_snd_tag *mst = alloc_tag(ifp, IF_SND_TAG_TYPE_RATE_LIMIT,
	    125000);
	union if_snd_tag_query_params q;
	int i;

	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(nic_tags_live(ifp), 1);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ifp->if_transmit(ifp, tagged_pkt(mst)), 0);
	CHECK_EQ(t_refs(mst), 4);
	memset(&q, 0, sizeof(q));
	CHECK_EQ(mst->sw->snd_tag_query(mst, &q), 0);
	CHECK_EQ(q.rate_limit.max_rate, 125000);
	CHECK_EQ(q.rate_limit.queue_level, 3 * 65535 / 4);
	/* Full ring: the dropped packet's reference goes with it. */
	CHECK_EQ(ifp->if_transmit(ifp, tagged_pkt(mst)), 0);
	CHECK_EQ(ifp->if_transmit(ifp, tagged_pkt(mst)), ENOBUFS);
	CHECK_EQ(t_refs(mst), 5);
	m_snd_tag_rele(mst);			/* the inp lets go */
	CHECK_EQ(nic_tags_live(ifp), 1);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(nic_txeof(ifp, 3), 3);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(nic_tags_live(ifp), 1);
	CHECK_EQ(nic_txeof(ifp, -1), 1);
	CHECK_EQ(nic_tags_live(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	nic_detach(ifp);
	settle();
}

/* A forwarded packet has rcvif, not a tag, at both kinds of nic. */
static void
test_forwarded_packet(void)
{
	struct ifnet *in = nic_attach("em", 0, 0, 0, 0);
	struct ifnet *a = nic_attach("em", 1, 0, 0, 0);
	struct ifnet *b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct mbuf *m;
	u_int inrefs = refcount_load(&in->if_refcount);

	m = pkt(100);
	m->m_pkthdr.rcvif = in;
	CHECK_EQ(a->if_transmit(a, m), 0);
	CHECK(m_rcvif(nic_ring_peek(a, 0)) == in);
	m = pkt(100);
	m->m_pkthdr.rcvif = in;
	CHECK_EQ(b->if_transmit(b, m), 0);
	CHECK(m_rcvif(nic_ring_peek(b, 0)) == in);
	CHECK_EQ(nic_txeof(a, -1), 1);
	CHECK_EQ(nic_txeof(b, -1), 1);
	CHECK_EQ(refcount_load(&in->if_refcount), inrefs);
	nic_detach(in);
	nic_detach(a);
	nic_detach(b);
	settle();
}

static void
test_modify_query(void)
{
	struct ifnet *ifp = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct m_snd_tag *rl = alloc_tag(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 10);
	struct m_snd_tag *ul = alloc_tag(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0);
	union if_snd_tag_modify_params mp;
	union if_snd_tag_query_params q;

	CHECK_EQ(rl->sw->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(ul->sw->type, IF_SND_TAG_TYPE_UNLIMITED);
	CHECK(ul->sw->snd_tag_modify == NULL);
	memset(&mp, 0, sizeof(mp));
	mp.rate_limit.max_rate = 777;
	CHECK_EQ(rl->sw->snd_tag_modify(rl, &mp), 0);
	memset(&q, 0, sizeof(q));
	CHECK_EQ(rl->sw->snd_tag_query(rl, &q), 0);
	CHECK_EQ(q.rate_limit.max_rate, 777);
	CHECK_EQ(q.rate_limit.queue_level, 0);
	CHECK_EQ(nic_tags_live(ifp), 2);
	m_snd_tag_rele(rl);
	m_snd_tag_rele(ul);
	CHECK_EQ(nic_tags_live(ifp), 0);
	nic_detach(ifp);
	settle();
}

/*
 * Detach drops what is in the ring; a tag still held (by an inp) pins the
 * ifnet and its softc, and its last release frees them.
 */
static void
test_detach_with_tag_outstanding(void)
{
	struct ifnet *ifp = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct m_snd_tag *mst = alloc_tag(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 5);
	union if_snd_tag_query_params q;

	CHECK_EQ(ifp->if_transmit(ifp, tagged_pkt(mst)), 0);
	CHECK_EQ(ifp->if_transmit(ifp, pkt(10)), 0);
	nic_detach(ifp);
	t_drain();
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(ifnet_live_count(), 1);
	CHECK(ifunit("mce0") == NULL);
	/* The softc is still there for the tag's methods. */
	CHECK_EQ(nic_tags_live(ifp), 1);
	memset(&q, 0, sizeof(q));
	CHECK_EQ(mst->sw->snd_tag_query(mst, &q), 0);
	CHECK_EQ(q.rate_limit.max_rate, 5);
	/* Dead methods: a late packet is consumed. */
	CHECK_EQ(ifp->if_transmit(ifp, tagged_pkt(mst)), ENXIO);
	CHECK_EQ(t_refs(mst), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 0);
	settle();
}

static void
test_tag_alloc_failure(void)
{
	struct ifnet *ifp = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	union if_snd_tag_alloc_params p;
	struct m_snd_tag *mst = NULL;

	memset(&p, 0, sizeof(p));
	p.hdr.type = IF_SND_TAG_TYPE_RATE_LIMIT;
	malloc_fail_arm(1, NULL);
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), ENOMEM);
	malloc_fail_disarm();
	CHECK(mst == NULL);
	CHECK_EQ(nic_tags_live(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	nic_detach(ifp);
	settle();
}

static void
test_rx(void)
{
	struct ifnet *ifp = nic_attach("em", 0, 0, 0, 0);

	nic_rx(ifp, pkt(40));		/* not IP: dropped by the demux */
	CHECK_EQ(counter_u64_fetch(ifp->if_ipackets), 1);
	CHECK_EQ(counter_u64_fetch(ifp->if_ierrors), 1);
	CHECK_EQ(mbuf_live_count(), 0);
	nic_detach(ifp);
	settle();
}

/* Under a world: quiesce completes the rings through the actor. */
static void
test_world_actor(void)
{
	struct ifnet *a, *b;
	struct m_snd_tag *mst;
	int i;

	t_world_begin();
	a = nic_attach("em", 0, 0, 0, 0);
	world_add_ifnet(a, nic_detach);
	b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	world_add_ifnet(b, nic_detach);
	mst = alloc_tag(b, IF_SND_TAG_TYPE_RATE_LIMIT, 1);
	for (i = 0; i < 5; i++) {
		CHECK_EQ(a->if_transmit(a, pkt(10)), 0);
		CHECK_EQ(b->if_transmit(b, tagged_pkt(mst)), 0);
	}
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(world_progress_all(), 0);
	CHECK_EQ(nic_ring_count(a), 0);
	CHECK_EQ(nic_ring_count(b), 0);
	CHECK_EQ(num_snd_tags(), 0);
	/* Packets left in a ring at teardown are the driver's to free. */
	CHECK_EQ(a->if_transmit(a, pkt(10)), 0);
	t_world_end();
}

static void
leak_tag_in_world(void *arg)
{
	struct ifnet *b;

	t_world_begin();
	b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	world_add_ifnet(b, nic_detach);
	(void)alloc_tag(b, IF_SND_TAG_TYPE_RATE_LIMIT, 1);
	t_world_end();
}

static void
leak_nic_in_world(void *arg)
{
	struct ifnet *b;

	t_world_begin();
	b = nic_attach("mce", 0, 0, 0, 0);
	CHECK_EQ(b->if_transmit(b, pkt(10)), 0);
	t_world_end();
}

static void
test_world_ledger_catches_leaks(void)
{
	CHECK_PANICS(leak_tag_in_world, NULL, "ledger: num_snd_tags is 1");
	CHECK_PANICS(leak_nic_in_world, NULL, "ledger: ");
}

/*
 * Two senders stamp and transmit while a completer runs txeof: every
 * packet is either dropped (ENOBUFS) or completed, and the tag comes back
 * to the inp's single reference.
 */
#define	NIC_MT_PKTS	3000

static struct ifnet *mt_ifp;
static struct m_snd_tag *mt_tag;
static u_int mt_sent, mt_dropped, mt_done_senders;

static void *
nic_sender(void *arg)
{
	int error, i;

	for (i = 0; i < NIC_MT_PKTS; i++) {
		error = mt_ifp->if_transmit(mt_ifp, tagged_pkt(mt_tag));
		CHECK(error == 0 || error == ENOBUFS);
		__atomic_fetch_add(error == 0 ? &mt_sent : &mt_dropped, 1,
		    __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&mt_done_senders, 1, __ATOMIC_RELEASE);
	return (NULL);
}

static void *
nic_completer(void *arg)
{
	u_int done = 0;

	while (__atomic_load_n(&mt_done_senders, __ATOMIC_ACQUIRE) < 2 ||
	    nic_ring_count(mt_ifp) > 0)
		done += (u_int)nic_txeof(mt_ifp, 7);
	return ((void *)(uintptr_t)done);
}

static void
test_threads(void)
{
	pthread_t th[3];
	void *done;
	int i;

	mt_ifp = nic_attach("mce", 0, NIC_F_TXRTLMT, 16, 0);
	mt_tag = alloc_tag(mt_ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 1);
	CHECK_EQ(pthread_create(&th[0], NULL, nic_completer, NULL), 0);
	for (i = 1; i < 3; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, nic_sender, NULL), 0);
	for (i = 1; i < 3; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	CHECK_EQ(pthread_join(th[0], &done), 0);
	CHECK_EQ(mt_sent + mt_dropped, 2 * NIC_MT_PKTS);
	CHECK_EQ((u_int)(uintptr_t)done, mt_sent);
	CHECK_EQ(nic_tx_total(mt_ifp), mt_sent);
	CHECK_EQ(counter_u64_fetch(mt_ifp->if_oerrors), mt_dropped);
	CHECK_EQ(t_refs(mt_tag), 1);
	m_snd_tag_rele(mt_tag);
	nic_detach(mt_ifp);
	settle();
}

/*
 * Received on one nic, forwarded by IP to another: the packet reaches the
 * driver with its rcvif and no tag, at a tag-less nic and at a
 * tag-capable one alike (spec §6 forwarding, §11.2).
 */
static void
test_forwarding_keeps_rcvif(void)
{
	struct ifnet *in = nic_attach("em", 0, 0, 0, 0);
	struct ifnet *a = nic_attach("em", 1, 0, 0, 0);
	struct ifnet *b = nic_attach("mce", 0, NIC_F_TXRTLMT, 0, 0);
	struct in_addr src = { 0xc0a80001 }, na = { 0x0a010000 };
	struct in_addr nb = { 0x0a020000 }, da = { 0x0a010005 };
	struct in_addr db = { 0x0a020005 };
	struct in6_addr s6 = { { 0xfd } }, n6 = { { 0x20, 0x01, 0x0d, 0xb8 } };
	struct in6_addr d6 = n6;
	struct ifnet *out[3] = { a, b, a };
	struct mbuf *m;
	int i;

	d6.s6_addr[15] = 9;
	CHECK_EQ(rt_add(AF_INET, &na, 16, a), 0);
	CHECK_EQ(rt_add(AF_INET, &nb, 16, b), 0);
	CHECK_EQ(rt_add(AF_INET6, &n6, 32, a), 0);
	V_ipforwarding = 1;
	V_ip6_forwarding = 1;
	nic_rx(in, packet_build_ip4(src, da, IPPROTO_UDP, 100, M_NOWAIT));
	nic_rx(in, packet_build_ip4(src, db, IPPROTO_UDP, 100, M_NOWAIT));
	nic_rx(in, packet_build_ip6(&s6, &d6, IPPROTO_UDP, 100, M_NOWAIT));
	V_ipforwarding = 0;
	V_ip6_forwarding = 0;
	CHECK_EQ(nic_ring_count(a), 2);
	CHECK_EQ(nic_ring_count(b), 1);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(out[i], i == 2 ? 1 : 0);
		CHECK(m != NULL);
		CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
		CHECK(m_rcvif(m) == in);
	}
	CHECK_EQ(num_snd_tags(), 0);
	nic_detach(in);
	nic_detach(a);
	nic_detach(b);
	CHECK_EQ(rt_count(), 0);
	settle();
}

/*
 * A route through lo while forwarding: looutput turns output into input
 * on lo, which forwards it back to lo until the TTL runs out.  The loop
 * must end with the packet freed and nothing tagged on the way.
 */
static void
test_loopback_forwarding_loop(void)
{
	struct ifnet *in = nic_attach("em", 0, 0, 0, 0);
	struct ifnet *lo = loop_attach(0);
	struct in_addr src = { 0xc0a80001 }, net = { 0x0a000000 };
	struct in_addr dst = { 0x0a000001 };

	CHECK_EQ(rt_add(AF_INET, &net, 8, lo), 0);
	V_ipforwarding = 1;
	nic_rx(in, packet_build_ip4(src, dst, IPPROTO_TCP, 40, M_NOWAIT));
	V_ipforwarding = 0;
	CHECK(counter_u64_fetch(lo->if_opackets) > 1);
	CHECK_EQ(counter_u64_fetch(lo->if_opackets),
	    counter_u64_fetch(lo->if_ipackets));
	CHECK_EQ(mbuf_live_count(), 0);
	loop_detach(lo);
	nic_detach(in);
	settle();
}

int
main(void)
{
	RUN(test_attach);
	RUN(test_ring_and_txeof);
	RUN(test_driver_oracles);
	RUN(test_ring_holds_tag);
	RUN(test_forwarded_packet);
	RUN(test_modify_query);
	RUN(test_detach_with_tag_outstanding);
	RUN(test_tag_alloc_failure);
	RUN(test_rx);
	RUN(test_world_actor);
	RUN(test_world_ledger_catches_leaks);
	RUN(test_forwarding_keeps_rcvif);
	RUN(test_loopback_forwarding_loop);
	RUN(test_threads);
	return (t_done());
}
