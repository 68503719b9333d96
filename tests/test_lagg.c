/*
 * lagg(4) with wrapper send tags (spec §8), driven at the ifnet level:
 * tags allocated with m_snd_tag_alloc, packets handed to if_transmit.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "shim/sched.h"
#include "sys/mbuf.h"
#include "net/if_var.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"
#include "net/if_loop.h"
#include "dev/nic/if_nic.h"

/* flowid whose port index is i under the default shift. */
#define	FLOW(i)		((uint32_t)(i) << LAGG_DEF_FLOWID_SHIFT)

static int
t_alloc_flow(struct ifnet *ifp, uint32_t flowid, uint32_t flowtype,
    struct m_snd_tag **mstp)
{
	return (t_tag_alloc(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, flowid, flowtype,
	    1000000, mstp));
}

static int
t_alloc(struct ifnet *ifp, struct m_snd_tag **mstp)
{
	return (t_alloc_flow(ifp, FLOW(0), M_HASHTYPE_RSS_TCP_IPV4, mstp));
}

static struct mbuf *
t_pkt_flow(struct m_snd_tag *mst, uint32_t flowid)
{
	return (t_pkt_make(mst, 60, flowid, M_HASHTYPE_RSS_TCP_IPV4));
}

static struct mbuf *
t_pkt(struct m_snd_tag *mst)
{
	return (t_pkt_flow(mst, FLOW(0)));
}

/* Failover: tag on the primary; link down moves the flow: EAGAIN. */
static void
test_lagg_failover(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst, *mst2, *none;
	struct mbuf *m;
	u_int live0;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	CHECK(lagg->if_capabilities & IFCAP_TXRTLMT);
	CHECK_EQ(lagg_port_count(lagg), 2);
	CHECK(lagg_port_ifp(lagg, 0) == nic0);
	CHECK(lagg_port_ifp(lagg, 1) == nic1);
	CHECK(lagg_port_ifp(lagg, 2) == NULL);
	live0 = mbuf_live_count();

	CHECK_EQ(t_alloc(lagg, &mst), 0);
	CHECK(mst->ifp == lagg);
	CHECK(t_inner(mst)->ifp == nic0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), 0);
	m = nic_ring_peek(nic0, 0);
	CHECK(m != NULL && m->m_pkthdr.snd_tag == t_inner(mst));
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(t_inner(mst)), 2);

	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), EAGAIN);
	CHECK_EQ(nic_ring_count(nic1), 0);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(mbuf_live_count(), live0 + 1);
	/* Untagged traffic moved too. */
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), 0);
	CHECK_EQ(nic_ring_count(nic1), 1);

	CHECK_EQ(t_alloc(lagg, &mst2), 0);
	CHECK(t_inner(mst2)->ifp == nic1);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst2)), 0);
	CHECK(nic_ring_peek(nic1, 1)->m_pkthdr.snd_tag == t_inner(mst2));

	/* Both down: no port for a tag or a packet. */
	if_link_state_change(nic1, LINK_STATE_DOWN);
	CHECK_EQ(t_alloc(lagg, &none), EOPNOTSUPP);
	CHECK(none == NULL);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), ENETDOWN);
	/* The primary back: the old tag works again. */
	if_link_state_change(nic0, LINK_STATE_UP);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), 0);
	CHECK_EQ(nic_ring_count(nic0), 2);
	m_snd_tag_rele(mst);
	m_snd_tag_rele(mst2);
	t_world_end();
}

/* Load balance: a tag only with USE_FLOWID and a hash, on its port. */
static void
test_lagg_loadbalance_flowid(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst0, *mst1, *mst2;
	int error;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_LOADBALANCE, nic0, nic1);

	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst0),
	    EOPNOTSUPP);
	CHECK_EQ(lagg_set_opts(lagg, LAGG_OPT_USE_FLOWID), 0);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_NONE, &mst0),
	    EOPNOTSUPP);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(0), M_HASHTYPE_RSS_TCP_IPV4, &mst0),
	    0);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst1),
	    0);
	CHECK(t_inner(mst0)->ifp == nic0);
	CHECK(t_inner(mst1)->ifp == nic1);
	/* Low bits below the shift do not move a flow. */
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst0, FLOW(2) | 0xffff)),
	    0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst1, FLOW(3))), 0);
	CHECK_EQ(nic_ring_count(nic0), 1);
	CHECK_EQ(nic_ring_count(nic1), 1);
	CHECK(nic_ring_peek(nic1, 0)->m_pkthdr.snd_tag == t_inner(mst1));

	/*
	 * Without the option: no new tags, and packets hash on their bytes,
	 * so an old tag's packet either finds its port or gets EAGAIN.
	 */
	CHECK_EQ(lagg_set_opts(lagg, -LAGG_OPT_USE_FLOWID), 0);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(0), M_HASHTYPE_RSS_TCP_IPV4, &mst2),
	    EOPNOTSUPP);
	error = lagg->if_transmit(lagg, t_pkt_flow(mst0, FLOW(0)));
	CHECK(error == 0 || error == EAGAIN);
	CHECK_EQ(nic_ring_count(nic0), error == 0 ? 2 : 1);
	error = lagg->if_transmit(lagg, t_pkt_flow(mst1, FLOW(1)));
	CHECK(error == 0 || error == EAGAIN);
	CHECK_EQ(nic_ring_count(nic1), error == 0 ? 2 : 1);
	CHECK_EQ(t_refs(mst0), 1);
	CHECK_EQ(t_refs(mst1), 1);
	m_snd_tag_rele(mst0);
	m_snd_tag_rele(mst1);

	CHECK_EQ(lagg_set_opts(lagg, 0x4000), EINVAL);
	CHECK_EQ(lagg_set_opts(lagg, -0x7fffffff - 1), EINVAL);
	t_world_end();
}

/* LACP: tags hashed over the ports whose link is up. */
static void
test_lagg_lacp(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_LACP, nic0, nic1);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst),
	    EOPNOTSUPP);
	CHECK_EQ(lagg_set_opts(lagg, LAGG_OPT_USE_FLOWID), 0);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst),
	    0);
	CHECK(t_inner(mst)->ifp == nic1);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst, FLOW(1))), 0);
	CHECK_EQ(nic_ring_count(nic1), 1);

	/* nic0 leaves the distributing set: every flow maps to nic1. */
	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst, FLOW(0))), 0);
	CHECK_EQ(nic_ring_count(nic1), 2);
	/* nic1 goes, nic0 is back: the flow moves, EAGAIN. */
	if_link_state_change(nic0, LINK_STATE_UP);
	if_link_state_change(nic1, LINK_STATE_DOWN);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst, FLOW(1))), EAGAIN);
	m_snd_tag_rele(mst);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst),
	    0);
	CHECK(t_inner(mst)->ifp == nic0);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* Round-robin, broadcast and none offer no tags; packets still flow. */
static void
test_lagg_untaggable_protocols(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst;
	u_int live0;
	int i;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_ROUNDROBIN, nic0, nic1);
	CHECK_EQ(lagg_set_opts(lagg, LAGG_OPT_USE_FLOWID), 0);
	CHECK_EQ(t_alloc(lagg, &mst), EOPNOTSUPP);
	for (i = 0; i < 4; i++)
		CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), 0);
	CHECK_EQ(nic_ring_count(nic0), 2);
	CHECK_EQ(nic_ring_count(nic1), 2);

	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_BROADCAST), 0);
	CHECK_EQ(t_alloc(lagg, &mst), EOPNOTSUPP);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), 0);
	CHECK_EQ(nic_ring_count(nic0), 3);
	CHECK_EQ(nic_ring_count(nic1), 3);

	live0 = mbuf_live_count();
	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_NONE), 0);
	CHECK_EQ(t_alloc(lagg, &mst), EOPNOTSUPP);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), ENXIO);
	CHECK_EQ(mbuf_live_count(), live0);
	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_MAX), EPROTONOSUPPORT);
	CHECK_EQ(lagg_get_proto(lagg), LAGG_PROTO_NONE);
	t_world_end();
}

/*
 * Broadcast with a tagged packet (the tag predates a protocol change):
 * every copy owns its own wrapper reference; the ports the tag is not
 * for free theirs, the one it is for gets the port tag.
 */
static void
test_lagg_broadcast_copies_own_references(void)
{
	struct ifnet *nic0, *nic1, *nic2, *lagg;
	struct m_snd_tag *mst, *inner;
	u_int live0;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	nic2 = t_nic(2, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	CHECK_EQ(lagg_port_create(lagg, nic2), 0);
	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(t_alloc(lagg, &mst), 0);	/* on nic1, the middle port */
	inner = t_inner(mst);
	CHECK(inner->ifp == nic1);
	if_link_state_change(nic0, LINK_STATE_UP);
	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_BROADCAST), 0);
	live0 = mbuf_live_count();

	/* The original goes to nic2 (last): EAGAIN for the caller. */
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), EAGAIN);
	CHECK_EQ(nic_ring_count(nic0), 0);
	CHECK_EQ(nic_ring_count(nic1), 1);
	CHECK_EQ(nic_ring_count(nic2), 0);
	CHECK(nic_ring_peek(nic1, 0)->m_pkthdr.snd_tag == inner);
	/* Three packets each took and gave back a wrapper reference. */
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(inner), 2);
	CHECK_EQ(mbuf_live_count(), live0 + 1);

	/* Now the tag's port is last: the caller sees success. */
	CHECK_EQ(lagg_port_destroy(lagg, nic2), 0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), 0);
	CHECK_EQ(nic_ring_count(nic0), 0);
	CHECK_EQ(nic_ring_count(nic1), 2);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(inner), 3);
	CHECK_EQ(nic_txeof(nic1, -1), 2);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* A copy that cannot be made: what was sent stays consistent. */
static void
test_lagg_broadcast_copy_failure(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst;
	struct mbuf *m;
	uint64_t fails0;
	u_int live0;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_BROADCAST), 0);
	m = t_pkt(mst);
	live0 = mbuf_live_count();
	fails0 = malloc_fail_count();
	malloc_fail_arm(1, M_MBUF);
	/* The copy fails; the original goes to nic0, its tag's port. */
	CHECK_EQ(lagg->if_transmit(lagg, m), 0);
	malloc_fail_disarm();
	CHECK_EQ(malloc_fail_count(), fails0 + 1);
	CHECK_EQ(nic_ring_count(nic0), 1);
	CHECK_EQ(nic_ring_count(nic1), 0);
	CHECK_EQ(mbuf_live_count(), live0);
	CHECK_EQ(t_refs(mst), 1);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* Port removal and protocol change leave tags alone: EAGAIN, re-alloc. */
static void
test_lagg_port_removal_and_proto_change(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst, *mst2;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), 0);

	CHECK_EQ(lagg_port_destroy(lagg, nic0), 0);
	CHECK_EQ(lagg_port_destroy(lagg, nic0), ENOENT);
	CHECK_EQ(lagg_port_count(lagg), 1);
	CHECK(nic0->if_lagg == NULL);
	CHECK(t_inner(mst)->ifp == nic0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), EAGAIN);
	/* The removed port is freed only after the epoch. */
	CHECK(epoch_pending() > 0);
	epoch_drain_callbacks();
	CHECK_EQ(nic_txeof(nic0, -1), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(nic_tags_live(nic0), 0);

	/* Back in, second: a flowid hash now picks nic0 for flow 1. */
	CHECK_EQ(lagg_port_create(lagg, nic0), 0);
	CHECK(lagg_port_ifp(lagg, 1) == nic0);
	CHECK_EQ(t_alloc(lagg, &mst2), 0);
	CHECK(t_inner(mst2)->ifp == nic1);
	CHECK_EQ(lagg_set_proto(lagg, LAGG_PROTO_LOADBALANCE), 0);
	CHECK_EQ(lagg_set_opts(lagg, LAGG_OPT_USE_FLOWID), 0);
	CHECK(t_inner(mst2)->ifp == nic1);	/* untouched */
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst2, FLOW(1))), EAGAIN);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_flow(mst2, FLOW(0))), 0);
	CHECK_EQ(nic_ring_count(nic1), 1);
	m_snd_tag_rele(mst2);
	CHECK_EQ(t_alloc_flow(lagg, FLOW(1), M_HASHTYPE_RSS_TCP_IPV4, &mst2),
	    0);
	CHECK(t_inner(mst2)->ifp == nic0);
	m_snd_tag_rele(mst2);
	t_world_end();
}

/* Port detach takes the port out; no ports left: ENXIO. */
static void
test_lagg_port_detach(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst;
	u_int live0;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	world_forget_ifnet(nic0);
	nic_detach(nic0);
	CHECK_EQ(lagg_port_count(lagg), 1);
	CHECK(lagg_port_ifp(lagg, 0) == nic1);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), EAGAIN);
	m_snd_tag_rele(mst);

	world_forget_ifnet(nic1);
	nic_detach(nic1);
	CHECK_EQ(lagg_port_count(lagg), 0);
	live0 = mbuf_live_count();
	CHECK_EQ(t_alloc(lagg, &mst), EOPNOTSUPP);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(NULL)), ENXIO);
	CHECK_EQ(mbuf_live_count(), live0);
	t_world_end();
}

/* What cannot be a port. */
static void
test_lagg_port_errors(void)
{
	struct ifnet *nics[LAGG_MAX_PORTS + 1], *lagg, *lagg2, *lo, *vlan;
	int i;

	t_world_begin();
	for (i = 0; i <= LAGG_MAX_PORTS; i++)
		nics[i] = t_nic(i, 0);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nics[0], NULL);
	lagg2 = t_lagg(1, LAGG_PROTO_FAILOVER, NULL, NULL);
	CHECK_EQ(lagg_port_create(lagg, lagg), EINVAL);
	CHECK_EQ(lagg_port_create(lagg, lagg2), EINVAL);
	CHECK_EQ(lagg_port_create(lagg, nics[0]), EEXIST);
	CHECK_EQ(lagg_port_create(lagg2, nics[0]), EBUSY);
	lo = loop_attach(0);
	CHECK(lo != NULL);
	world_add_ifnet(lo, loop_detach);
	CHECK_EQ(lagg_port_create(lagg, lo), EPROTONOSUPPORT);
	/* A vlan over this lagg would loop; over another one it is fine. */
	vlan = vlan_clone_create(0, 10, lagg);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	CHECK_EQ(lagg_port_create(lagg, vlan), EINVAL);
	CHECK_EQ(lagg_port_create(lagg2, vlan), 0);
	CHECK_EQ(vlan_setparent(vlan, lagg2), EINVAL);
	CHECK_EQ(lagg_port_destroy(lagg2, vlan), 0);
	for (i = 1; i < LAGG_MAX_PORTS; i++)
		CHECK_EQ(lagg_port_create(lagg, nics[i]), 0);
	CHECK_EQ(lagg_port_create(lagg, nics[LAGG_MAX_PORTS]), ENOSPC);
	CHECK_EQ(lagg_port_count(lagg), LAGG_MAX_PORTS);
	CHECK_EQ(lagg_port_create(NULL, nics[0]), EINVAL);
	CHECK_EQ(lagg_port_create(nics[0], nics[1]), EINVAL);
	CHECK(lagg_clone_create(2, LAGG_PROTO_MAX) == NULL);
	CHECK_EQ(witness_held_count(), 0);
	t_world_end();
}

/* Every M_NOWAIT allocation in the chain failing in turn is clean. */
static void
test_lagg_alloc_fault_injection(void)
{
	struct ifnet *nic0, *nic1, *lagg, *vlan;
	struct m_snd_tag *mst;
	uint64_t tags0, fails0;
	u_int r0, r1, rl, rv;
	uint32_t n;
	int error, failures;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	vlan = vlan_clone_create(0, 10, lagg);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	tags0 = num_snd_tags();
	r0 = refcount_load(&nic0->if_refcount);
	r1 = refcount_load(&nic1->if_refcount);
	rl = refcount_load(&lagg->if_refcount);
	rv = refcount_load(&vlan->if_refcount);

	failures = 0;
	for (n = 1; n < 16; n++) {
		fails0 = malloc_fail_count();
		malloc_fail_arm(n, NULL);
		error = t_alloc(vlan, &mst);
		malloc_fail_disarm();
		if (malloc_fail_count() == fails0) {
			CHECK_EQ(error, 0);
			CHECK(t_inner(t_inner(mst))->ifp == nic0);
			m_snd_tag_rele(mst);
			break;
		}
		failures++;
		CHECK_EQ(error, ENOMEM);
		CHECK(mst == NULL);
		CHECK_EQ(num_snd_tags(), tags0);
		CHECK_EQ(refcount_load(&nic0->if_refcount), r0);
		CHECK_EQ(refcount_load(&nic1->if_refcount), r1);
		CHECK_EQ(refcount_load(&lagg->if_refcount), rl);
		CHECK_EQ(refcount_load(&vlan->if_refcount), rv);
		CHECK_EQ(witness_held_count(), 0);
	}
	CHECK(failures >= 3);

	malloc_fail_arm(1, M_LAGG);
	CHECK_EQ(t_alloc(lagg, &mst), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(refcount_load(&nic0->if_refcount), r0);
	CHECK_EQ(nic_tags_live(nic0), 0);
	CHECK_EQ(num_snd_tags(), tags0);
	t_world_end();
}

static void
wrong_swap_order(void *arg __unused)
{
	struct ifnet *nic0, *lagg;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, NULL);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	inner = t_inner(mst);
	m = t_pkt(mst);
	m_snd_tag_rele(mst);
	wrapper_snd_tag_swap_begin(inner);
	m_snd_tag_rele(m->m_pkthdr.snd_tag);	/* wrong: outer first */
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inner);
	wrapper_snd_tag_swap_end();
}

static void
test_lagg_wrong_swap_order_caught(void)
{
	CHECK_PANICS(wrong_swap_order, NULL,
	    "snd_tag refcount: wrapper swap released the outer reference");
}

/* A tag of another ifnet handed to the lagg is a caller bug: caught. */
static void
foreign_tag(void *arg __unused)
{
	struct ifnet *nic0, *lagg;
	struct m_snd_tag *mst;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, NULL);
	CHECK_EQ(t_alloc(nic0, &mst), 0);
	(void)lagg->if_transmit(lagg, t_pkt(mst));
}

static void
test_lagg_foreign_tag_caught(void)
{
	CHECK_PANICS(foreign_tag, NULL, "tag ifp mismatch: lagg");
}

/* vlan on lagg on nic: two wrappers; failover surfaces through the vlan. */
static void
test_lagg_vlan_nesting(void)
{
	struct ifnet *nic0, *nic1, *lagg, *vlan;
	struct m_snd_tag *mst, *lst, *nt;
	struct mbuf *m;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	vlan = vlan_clone_create(0, 10, lagg);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	CHECK(vlan->if_capabilities & IFCAP_TXRTLMT);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	lst = t_inner(mst);
	nt = t_inner(lst);
	CHECK(mst->ifp == vlan);
	CHECK(lst->ifp == lagg);
	CHECK(nt->ifp == nic0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), 0);
	m = nic_ring_peek(nic0, 0);
	CHECK(m->m_pkthdr.snd_tag == nt);
	CHECK_EQ(m->m_pkthdr.ether_vtag, 10);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(lst), 1);
	CHECK_EQ(t_refs(nt), 2);

	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), EAGAIN);
	CHECK_EQ(counter_u64_fetch(vlan->if_oerrors), 1);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(lst), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK(t_inner(t_inner(mst))->ifp == nic1);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* A forwarded packet through a lagg reaches a port untagged. */
static void
test_lagg_forwarded_untagged(void)
{
	struct ifnet *nic0, *rx, *lagg;
	struct mbuf *m;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	rx = t_nic(1, 0);
	lagg = t_lagg(0, LAGG_PROTO_BROADCAST, nic0, NULL);
	m = t_pkt(NULL);
	m->m_pkthdr.rcvif = rx;
	CHECK_EQ(lagg->if_transmit(lagg, m), 0);
	m = nic_ring_peek(nic0, 0);
	CHECK(m != NULL);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m_rcvif(m) == rx);
	t_world_end();
}

/* Destroying a lagg with ports and tags outstanding. */
static void
test_lagg_destroy_with_tag(void)
{
	struct ifnet *nic0, *lagg;
	struct m_snd_tag *mst;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, NULL);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), 0);
	world_forget_ifnet(lagg);
	lagg_clone_destroy(lagg);
	CHECK(nic0->if_lagg == NULL);
	CHECK_EQ(nic_txeof(nic0, -1), 1);
	m_snd_tag_rele(mst);
	t_world_end();
}

/*
 * A port removed (and the epoch callbacks run) in the window between
 * lagg_snd_tag_alloc finding the port and using it: a scheduler seam at
 * that window runs the removal on another thread.  Inside the epoch the
 * port cannot be freed; the tag lands on the removed port and the next
 * packet gets EAGAIN.  (The race variant frees it: a use after free.)
 */
static struct ifnet *window_lagg, *window_port;
static int window_fired, window_callbacks;

static void *
window_remover(void *arg __unused)
{
	CHECK_EQ(lagg_port_destroy(window_lagg, window_port), 0);
	window_callbacks = epoch_drain_callbacks();
	return (NULL);
}

static void
window_point(enum sched_point_kind kind __unused, const void *obj __unused,
    const char *what)
{
	pthread_t td;

	if (window_fired || strcmp(what, "lagg_snd_tag_alloc port") != 0)
		return;
	window_fired = 1;
	CHECK_EQ(pthread_create(&td, NULL, window_remover, NULL), 0);
	CHECK_EQ(pthread_join(td, NULL), 0);
}

static void
window_block(const void *obj __unused, const char *what __unused)
{
}

static void
window_wake(const void *obj __unused)
{
}

static const struct sched_ops window_ops = {
	.point = window_point,
	.block = window_block,
	.wake = window_wake,
};

static void
test_lagg_alloc_port_removed_in_window(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct m_snd_tag *mst;
	int error;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	window_lagg = lagg;
	window_port = nic0;
	window_fired = 0;
	window_callbacks = -1;
	sched_active_ops = &window_ops;
	error = t_alloc(lagg, &mst);
	sched_active_ops = NULL;
	CHECK_EQ(window_fired, 1);
	/* The port's free waited for this reader. */
	CHECK_EQ(window_callbacks, 0);
	CHECK_EQ(error, 0);
	CHECK(t_inner(mst)->ifp == nic0);
	CHECK_EQ(lagg_port_count(lagg), 1);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt(mst)), EAGAIN);
	m_snd_tag_rele(mst);
	CHECK(epoch_drain_callbacks() >= 1);
	t_world_end();
}

int
main(void)
{
	RUN(test_lagg_failover);
	RUN(test_lagg_loadbalance_flowid);
	RUN(test_lagg_lacp);
	RUN(test_lagg_untaggable_protocols);
	RUN(test_lagg_broadcast_copies_own_references);
	RUN(test_lagg_broadcast_copy_failure);
	RUN(test_lagg_port_removal_and_proto_change);
	RUN(test_lagg_port_detach);
	RUN(test_lagg_port_errors);
	RUN(test_lagg_alloc_fault_injection);
	RUN(test_lagg_wrong_swap_order_caught);
	RUN(test_lagg_foreign_tag_caught);
	RUN(test_lagg_vlan_nesting);
	RUN(test_lagg_forwarded_untagged);
	RUN(test_lagg_destroy_with_tag);
	RUN(test_lagg_alloc_port_removed_in_window);
	return (t_done());
}
