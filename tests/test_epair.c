/*
 * epair (spec §9.3): a transmit on one side is a receive on the other;
 * a send tag never survives the crossing, and nothing is left behind.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "net/if_epair.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"
#include "net/route.h"
#include "netinet/ip_var.h"

MALLOC_DECLARE(M_EPAIR);

/* Test-owned tags (epair has none of its own). */
static const struct if_snd_tag_sw ttag_sw = {
	.snd_tag_free = t_tag_free,
	.type = IF_SND_TAG_TYPE_UNLIMITED,
};

/* What the receive side saw. */
struct rx_log {
	int		 n;
	bool		 tagged;	/* any packet with CSUM_SND_TAG */
	bool		 wrong_rcvif;
	struct ifnet	*expect;
	struct mbuf	*keep;		/* the last packet, if kept */
};

static struct rx_log rx_a, rx_b;

static void
t_input(struct ifnet *ifp, struct mbuf *m, struct rx_log *log)
{
	log->n++;
	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG)
		log->tagged = true;
	if (m_rcvif(m) != ifp || ifp != log->expect)
		log->wrong_rcvif = true;
	if (log->keep != NULL)
		m_freem(log->keep);
	log->keep = m;
}

static void
t_input_a(struct ifnet *ifp, struct mbuf *m)
{
	t_input(ifp, m, &rx_a);
}

static void
t_input_b(struct ifnet *ifp, struct mbuf *m)
{
	t_input(ifp, m, &rx_b);
}

static void
t_pair(struct ifnet **a, struct ifnet **b, bool hooks)
{
	CHECK_EQ(epair_clone_create(0, a, b), 0);
	world_add_ifnet(*a, epair_clone_destroy);
	CHECK(strcmp((*a)->if_xname, "epair0a") == 0);
	CHECK(strcmp((*b)->if_xname, "epair0b") == 0);
	CHECK((*a)->if_snd_tag_alloc == NULL);
	memset(&rx_a, 0, sizeof(rx_a));
	memset(&rx_b, 0, sizeof(rx_b));
	rx_a.expect = *a;
	rx_b.expect = *b;
	if (hooks) {
		(*a)->if_input = t_input_a;
		(*b)->if_input = t_input_b;
	}
}

static struct mbuf *
t_pkt(struct m_snd_tag *mst)
{
	return (t_pkt_make(mst, 40, 0, M_HASHTYPE_NONE));
}

static void
t_drop_kept(void)
{
	m_freem(rx_a.keep);
	m_freem(rx_b.keep);
	rx_a.keep = rx_b.keep = NULL;
}

/*
 * Acceptance: a tagged packet crosses a -> b, is sent back b -> a
 * (tagged again on b), and neither receive sees a tag; the tags' only
 * references left are their owners', and the ledger is clean.
 */
static void
test_round_trip_strips_tags(void)
{
	struct ifnet *a, *b;
	struct t_tag ta = { 0 }, tb = { 0 };
	struct mbuf *m;

	t_world_begin();
	t_pair(&a, &b, true);
	m_snd_tag_init(&ta.com, a, &ttag_sw);
	m_snd_tag_init(&tb.com, b, &ttag_sw);

	CHECK_EQ(a->if_transmit(a, t_pkt(&ta.com)), 0);
	/* Released at transmit, before it can become a received packet. */
	CHECK_EQ(refcount_load(&ta.com.refcount), 1);
	CHECK_EQ(epair_queued(), 1);
	CHECK_EQ(rx_b.n, 0);			/* delivery is deferred */
	CHECK_EQ(epair_deliver(0), 1);
	CHECK_EQ(rx_b.n, 1);
	CHECK(!rx_b.tagged && !rx_b.wrong_rcvif);

	/* Back the other way, tagged on b this time. */
	m = rx_b.keep;
	rx_b.keep = NULL;
	m->m_pkthdr.rcvif = NULL;
	m->m_pkthdr.snd_tag = m_snd_tag_ref(&tb.com);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	CHECK_EQ(b->if_transmit(b, m), 0);
	CHECK_EQ(refcount_load(&tb.com.refcount), 1);
	world_quiesce();			/* the actor delivers */
	CHECK_EQ(rx_a.n, 1);
	CHECK(!rx_a.tagged && !rx_a.wrong_rcvif);
	CHECK_EQ(counter_u64_fetch(a->if_opackets), 1);
	CHECK_EQ(counter_u64_fetch(b->if_ipackets), 1);

	t_drop_kept();
	m_snd_tag_rele(&ta.com);
	m_snd_tag_rele(&tb.com);
	CHECK_EQ(ta.frees, 1);
	CHECK_EQ(tb.frees, 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

/* The real receive path (ether_input) takes the packet too. */
static void
test_ether_input_receives_untagged(void)
{
	struct ifnet *a, *b;
	struct t_tag ta = { 0 };
	int i;

	t_world_begin();
	t_pair(&a, &b, false);
	m_snd_tag_init(&ta.com, a, &ttag_sw);
	for (i = 0; i < 3; i++)
		CHECK_EQ(a->if_transmit(a, t_pkt(&ta.com)), 0);
	CHECK_EQ(epair_deliver(2), 2);
	CHECK_EQ(epair_queued(), 1);
	world_quiesce();
	CHECK_EQ(epair_queued(), 0);
	CHECK_EQ(counter_u64_fetch(b->if_ipackets), 3);
	CHECK_EQ(mbuf_live_count(), 0);
	m_snd_tag_rele(&ta.com);
	t_world_end();
}

/* The queue entry allocation fails: drop, release, count. */
static void
test_transmit_fault_injection(void)
{
	struct ifnet *a, *b;
	struct t_tag ta = { 0 };

	t_world_begin();
	t_pair(&a, &b, true);
	m_snd_tag_init(&ta.com, a, &ttag_sw);
	malloc_fail_arm(1, M_EPAIR);
	CHECK_EQ(a->if_transmit(a, t_pkt(&ta.com)), ENOBUFS);
	malloc_fail_disarm();
	CHECK_EQ(refcount_load(&ta.com.refcount), 1);
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(epair_queued(), 0);
	CHECK_EQ(counter_u64_fetch(a->if_oerrors), 1);
	m_snd_tag_rele(&ta.com);
	t_world_end();
}

static void
test_create_fault_injection(void)
{
	struct ifnet *a, *b;

	t_world_begin();
	malloc_fail_arm(1, M_EPAIR);
	CHECK_EQ(epair_clone_create(0, &a, &b), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(M_EPAIR->ks_inuse, 0);
	CHECK_EQ(ifnet_live_count(), 0);
	t_world_end();
}

static void
test_queue_limit(void)
{
	struct ifnet *a, *b;
	int i, ok = 0, full = 0, rc;

	t_world_begin();
	t_pair(&a, &b, true);
	for (i = 0; i < EPAIR_QUEUE_MAX + 88; i++) {
		rc = a->if_transmit(a, t_pkt(NULL));
		if (rc == 0)
			ok++;
		else if (rc == ENOBUFS)
			full++;
	}
	CHECK_EQ(ok, EPAIR_QUEUE_MAX);
	CHECK_EQ(full, 88);
	CHECK_EQ(epair_queued(), EPAIR_QUEUE_MAX);
	CHECK_EQ(mbuf_live_count(), EPAIR_QUEUE_MAX);
	world_forget_ifnet(a);
	epair_clone_destroy(a);			/* purges what is in flight */
	epair_clone_destroy(b);			/* the pair is gone: no-op */
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

/* Destroying a pair drops what is in flight to it, and only that. */
static void
test_destroy_purges_in_flight(void)
{
	struct ifnet *a, *b, *c, *d;

	t_world_begin();
	CHECK_EQ(epair_clone_create(0, &a, &b), 0);
	CHECK_EQ(epair_clone_create(1, &c, &d), 0);
	world_add_ifnet(c, epair_clone_destroy);
	b->if_input = t_input_b;
	memset(&rx_b, 0, sizeof(rx_b));
	CHECK_EQ(a->if_transmit(a, t_pkt(NULL)), 0);
	CHECK_EQ(c->if_transmit(c, t_pkt(NULL)), 0);
	CHECK_EQ(b->if_transmit(b, t_pkt(NULL)), 0);
	CHECK_EQ(epair_queued(), 3);
	epair_clone_destroy(b);
	CHECK_EQ(epair_queued(), 1);
	CHECK_EQ(mbuf_live_count(), 1);
	t_world_end();
}

/*
 * End to end: a paced UDP socket routed over the epair.  epair has no
 * tags, so the flow goes untagged; the datagrams cross to b, whose
 * address makes ip_input deliver them.
 */
static void
test_socket_over_epair_delivers(void)
{
	const struct in_addr dst = { 0xc0a80205 };	/* 192.168.2.5 */
	const struct in_addr net = { 0xc0a80200 };	/* 192.168.2/24 */
	struct ifnet *a, *b;
	struct sockaddr_in sin;
	struct socket *so;
	uint64_t delivered;

	t_world_begin();
	t_pair(&a, &b, false);
	CHECK_EQ(rt_add(AF_INET, &net, 24, a), 0);
	CHECK_EQ(in_ifaddr_add(b, dst), 0);
	CHECK_EQ(socreate(AF_INET, &so, SOCK_DGRAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = 53;
	sin.sin_addr = dst;
	CHECK_EQ(soconnect(so, (struct sockaddr *)&sin), 0);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000000), 0);
	delivered = ipstat.ips_delivered;
	CHECK_EQ(sosend(so, 300, 0), 0);
	CHECK_EQ(sosend(so, 300, 0), 0);
	CHECK_EQ(epair_queued(), 2);
	CHECK_EQ(num_snd_tags(), 0);		/* no tag on a tag-less ifnet */
	world_quiesce();
	CHECK_EQ(ipstat.ips_delivered, delivered + 2);
	CHECK_EQ(counter_u64_fetch(b->if_ipackets), 2);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

/* The receive path's oracle: a tagged packet there is caught. */
static void
broken_tagged_receive(void *arg)
{
	struct ifnet *a, *b;
	struct t_tag ta = { 0 };
	struct mbuf *m;

	t_world_begin();
	t_pair(&a, &b, false);
	m_snd_tag_init(&ta.com, a, &ttag_sw);
	m = t_pkt(&ta.com);
	b->if_input(b, m);		/* skipping epair_transmit's strip */
}

static void
test_oracles(void)
{
	CHECK_PANICS(broken_tagged_receive, NULL,
	    "receive mbuf has send tag");
}

int
main(void)
{
	RUN(test_round_trip_strips_tags);
	RUN(test_ether_input_receives_untagged);
	RUN(test_transmit_fault_injection);
	RUN(test_create_fault_injection);
	RUN(test_queue_limit);
	RUN(test_destroy_purges_in_flight);
	RUN(test_socket_over_epair_delivers);
	RUN(test_oracles);
	return (t_done());
}
