/*
 * vlan(4) with wrapper send tags (spec §7), driven at the ifnet level:
 * tags allocated with m_snd_tag_alloc, packets handed to if_transmit.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "net/if_var.h"
#include "net/if_vlan_var.h"
#include "net/if_loop.h"
#include "dev/nic/if_nic.h"

/* The one flow of this suite's tags and packets. */
#define	T_FLOWID	0x12345678
#define	T_FLOWTYPE	M_HASHTYPE_RSS_TCP_IPV4

static int
t_alloc_rss(struct ifnet *ifp, uint32_t type, struct m_snd_tag **mstp)
{
	return (t_tag_alloc(ifp, type, T_FLOWID, T_FLOWTYPE, 1000000, mstp));
}

static int
t_alloc(struct ifnet *ifp, struct m_snd_tag **mstp)
{
	return (t_alloc_rss(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, mstp));
}

/* A 60-byte packet; with mst, it owns a reference on it. */
static struct mbuf *
t_pkt(struct m_snd_tag *mst)
{
	return (t_pkt_make(mst, 60, T_FLOWID, T_FLOWTYPE));
}

static uint64_t
t_oerrors(struct ifnet *ifp)
{
	return (counter_u64_fetch(ifp->if_oerrors));
}

/*
 * The tag chain is vlan wrapper -> nic tag, and a packet reaches the nic
 * with the nic's tag, the wrapper's reference moved to it.
 */
static void
test_vlan_tag_chain(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;
	uint64_t tags0;
	u_int live0;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 42, nic);
	CHECK(vlan_trunkdev(vlan) == nic);
	CHECK_EQ(vlan_tag(vlan), 42);
	CHECK(vlan->if_capabilities & IFCAP_TXRTLMT);
	CHECK(vlan->if_capenable & IFCAP_TXRTLMT);
	tags0 = num_snd_tags();
	live0 = mbuf_live_count();

	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK(mst->ifp == vlan);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	inner = t_inner(mst);
	CHECK(inner->ifp == nic);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(inner), 1);
	CHECK_EQ(num_snd_tags(), tags0 + 2);
	CHECK_EQ(nic_tags_live(nic), 1);

	m = t_pkt(mst);
	CHECK_EQ(t_refs(mst), 2);
	CHECK_EQ(vlan->if_transmit(vlan, m), 0);
	/* The packet's reference moved from the wrapper to the nic tag. */
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(inner), 2);
	CHECK_EQ(nic_ring_count(nic), 1);
	m = nic_ring_peek(nic, 0);
	CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK(m->m_pkthdr.snd_tag == inner);
	CHECK(m->m_flags & M_VLANTAG);
	CHECK_EQ(m->m_pkthdr.ether_vtag, 42);
	CHECK_EQ(counter_u64_fetch(vlan->if_opackets), 1);

	CHECK_EQ(nic_txeof(nic, -1), 1);
	CHECK_EQ(t_refs(inner), 1);
	CHECK_EQ(mbuf_live_count(), live0);
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), tags0);
	CHECK_EQ(nic_tags_live(nic), 0);
	t_world_end();
}

/* No parent: transmit ENETDOWN, allocation EOPNOTSUPP, no capability. */
static void
test_vlan_no_parent(void)
{
	struct ifnet *vlan;
	struct m_snd_tag *mst;
	u_int live0;

	t_world_begin();
	vlan = t_vlan(1, 7, NULL);
	live0 = mbuf_live_count();
	CHECK(vlan_trunkdev(vlan) == NULL);
	CHECK((vlan->if_capabilities & IFCAP_TXRTLMT) == 0);
	CHECK_EQ(t_alloc(vlan, &mst), EOPNOTSUPP);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(NULL)), ENETDOWN);
	CHECK_EQ(mbuf_live_count(), live0);
	CHECK_EQ(t_oerrors(vlan), 1);
	t_world_end();
}

/* A tag-less parent: no capability, EOPNOTSUPP, plain packets pass. */
static void
test_vlan_tagless_parent(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	nic = t_nic(0, 0);
	vlan = t_vlan(0, 5, nic);
	CHECK((vlan->if_capabilities & IFCAP_TXRTLMT) == 0);
	CHECK_EQ(t_alloc(vlan, &mst), EOPNOTSUPP);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(NULL)), 0);
	m = nic_ring_peek(nic, 0);
	CHECK(m != NULL);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_flags & M_VLANTAG);
	CHECK_EQ(m->m_pkthdr.ether_vtag, 5);
	t_world_end();
}

/*
 * Reparenting leaves the tag alone; its next packet gets EAGAIN and is
 * consumed; a new tag lands on the new parent.  The capability follows.
 */
static void
test_vlan_reparent_eagain(void)
{
	struct ifnet *nic0, *nic1, *nic2, *vlan;
	struct m_snd_tag *mst, *mst2;
	u_int live0;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	nic2 = t_nic(2, 0);
	vlan = t_vlan(0, 9, nic0);
	live0 = mbuf_live_count();
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), 0);
	CHECK_EQ(nic_ring_count(nic0), 1);

	CHECK_EQ(vlan_setparent(vlan, nic1), 0);
	CHECK(vlan_trunkdev(vlan) == nic1);
	CHECK(t_inner(mst)->ifp == nic0);	/* untouched */
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), EAGAIN);
	CHECK_EQ(t_oerrors(vlan), 1);
	CHECK_EQ(t_refs(mst), 1);		/* the packet's went with it */
	CHECK_EQ(nic_ring_count(nic1), 0);
	CHECK_EQ(mbuf_live_count(), live0 + 1);	/* only nic0's packet */

	/* The inp would now re-allocate: on the new parent. */
	m_snd_tag_rele(mst);
	CHECK_EQ(t_alloc(vlan, &mst2), 0);
	CHECK(t_inner(mst2)->ifp == nic1);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst2)), 0);
	CHECK_EQ(nic_ring_count(nic1), 1);
	CHECK(nic_ring_peek(nic1, 0)->m_pkthdr.snd_tag == t_inner(mst2));

	/* A tag-less parent takes the capability away. */
	CHECK_EQ(vlan_setparent(vlan, nic2), 0);
	CHECK((vlan->if_capabilities & IFCAP_TXRTLMT) == 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst2)), EAGAIN);
	CHECK_EQ(nic_ring_count(nic2), 0);
	m_snd_tag_rele(mst2);
	t_world_end();
}

/*
 * Parent detach unsets the parent; the outstanding tag still pins the
 * detached nic and releases cleanly.
 */
static void
test_vlan_parent_detach(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *none;
	int live;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), 0);
	CHECK_EQ(nic_txeof(nic, -1), 1);

	world_forget_ifnet(nic);
	nic_detach(nic);
	CHECK(vlan_trunkdev(vlan) == NULL);
	CHECK((vlan->if_capabilities & IFCAP_TXRTLMT) == 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), ENETDOWN);
	CHECK_EQ(t_alloc(vlan, &none), EOPNOTSUPP);
	CHECK(none == NULL);

	epoch_drain_callbacks();
	live = ifnet_live_count();
	/* The wrapper's inner tag still holds the detached nic. */
	m_snd_tag_rele(mst);
	epoch_drain_callbacks();
	CHECK_EQ(ifnet_live_count(), live - 1);
	t_world_end();
}

/* Modify and query go to the inner tag. */
static void
test_vlan_modify_query(void)
{
	union if_snd_tag_modify_params mp;
	union if_snd_tag_query_params qp, qi;
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	inner = t_inner(mst);
	memset(&mp, 0, sizeof(mp));
	mp.rate_limit.max_rate = 777777;
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), 0);
	memset(&qp, 0, sizeof(qp));
	memset(&qi, 0, sizeof(qi));
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(inner->sw->snd_tag_query(inner, &qi), 0);
	CHECK_EQ(qp.rate_limit.max_rate, qi.rate_limit.max_rate);
	CHECK_EQ(qp.rate_limit.max_rate, 777777);
	m_snd_tag_rele(mst);

	/* Unlimited: same type outside, and the nic's lack of modify shows. */
	CHECK_EQ(t_alloc_rss(vlan, IF_SND_TAG_TYPE_UNLIMITED, &mst), 0);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_UNLIMITED);
	CHECK_EQ(t_inner(mst)->sw->type, IF_SND_TAG_TYPE_UNLIMITED);
	if (t_inner(mst)->sw->snd_tag_modify == NULL)
		CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), EOPNOTSUPP);
	m_snd_tag_rele(mst);
	t_world_end();
}

/*
 * Every M_NOWAIT allocation on the way (wrapper, nic tag) failing in turn
 * returns an error with nothing left behind; then it succeeds.
 */
static void
test_vlan_alloc_fault_injection(void)
{
	struct ifnet *nic, *vlan, *qinq;
	struct m_snd_tag *mst;
	uint64_t tags0, fails0;
	u_int ref_nic, ref_vlan, ref_qinq;
	uint32_t n;
	int error, failures;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	qinq = t_vlan(1, 4, vlan);
	tags0 = num_snd_tags();
	ref_nic = refcount_load(&nic->if_refcount);
	ref_vlan = refcount_load(&vlan->if_refcount);
	ref_qinq = refcount_load(&qinq->if_refcount);

	failures = 0;
	for (n = 1; n < 16; n++) {
		fails0 = malloc_fail_count();
		malloc_fail_arm(n, NULL);
		error = t_alloc(qinq, &mst);
		malloc_fail_disarm();
		if (malloc_fail_count() == fails0) {
			/* Past the last allocation: it worked. */
			CHECK_EQ(error, 0);
			m_snd_tag_rele(mst);
			break;
		}
		failures++;
		CHECK_EQ(error, ENOMEM);
		CHECK(mst == NULL);
		CHECK_EQ(num_snd_tags(), tags0);
		CHECK_EQ(refcount_load(&nic->if_refcount), ref_nic);
		CHECK_EQ(refcount_load(&vlan->if_refcount), ref_vlan);
		CHECK_EQ(refcount_load(&qinq->if_refcount), ref_qinq);
		CHECK_EQ(witness_held_count(), 0);
	}
	/* Two wrappers and the nic tag: at least three failure points. */
	CHECK(failures >= 3);
	CHECK_EQ(num_snd_tags(), tags0);

	/* The wrapper type alone. */
	malloc_fail_arm(1, M_VLAN);
	CHECK_EQ(t_alloc(vlan, &mst), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(refcount_load(&nic->if_refcount), ref_nic);
	CHECK_EQ(nic_tags_live(nic), 0);
	t_world_end();
}

/*
 * The swap's order is checked: releasing the outer reference first when
 * it is the last one would free the inner tag before it is referenced.
 */
static void
wrong_swap_order(void *arg __unused)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	inner = t_inner(mst);
	m = t_pkt(mst);
	m_snd_tag_rele(mst);		/* the packet's is now the last */
	wrapper_snd_tag_swap_begin(inner);
	m_snd_tag_rele(m->m_pkthdr.snd_tag);	/* wrong: outer first */
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inner);
	wrapper_snd_tag_swap_end();
}

static void
test_vlan_wrong_swap_order_caught(void)
{
	CHECK_PANICS(wrong_swap_order, NULL,
	    "snd_tag refcount: wrapper swap released the outer reference");
}

/* The right order with the outer reference the last one is fine. */
static void
test_vlan_swap_last_outer_reference(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst, *inner;
	struct mbuf *m;
	uint64_t tags0;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	tags0 = num_snd_tags();
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	inner = t_inner(mst);
	/* The inp lets go while its packet is on the way. */
	m = t_pkt(mst);
	m_snd_tag_rele(mst);
	CHECK_EQ(vlan->if_transmit(vlan, m), 0);
	CHECK_EQ(num_snd_tags(), tags0 + 1);	/* the wrapper is gone */
	CHECK_EQ(t_refs(inner), 1);
	CHECK(nic_ring_peek(nic, 0)->m_pkthdr.snd_tag == inner);
	CHECK_EQ(nic_txeof(nic, -1), 1);
	CHECK_EQ(num_snd_tags(), tags0);
	t_world_end();
}

/* Configuration that would loop, or is nonsense, is refused. */
static void
test_vlan_config_errors(void)
{
	struct ifnet *nic, *v0, *v1, *v2, *lo;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	v0 = t_vlan(0, 1, nic);
	v1 = t_vlan(1, 2, v0);
	v2 = t_vlan(2, 3, NULL);
	CHECK_EQ(vlan_setparent(v0, v0), EINVAL);
	CHECK_EQ(vlan_setparent(v0, v1), EINVAL);	/* v1 is on v0 */
	CHECK(vlan_trunkdev(v0) == nic);
	CHECK_EQ(vlan_setparent(nic, v0), EINVAL);	/* not a vlan */
	CHECK(vlan_clone_create(3, 4096, nic) == NULL);
	lo = loop_attach(0);
	CHECK(lo != NULL);
	world_add_ifnet(lo, loop_detach);
	CHECK_EQ(vlan_setparent(v2, lo), EPROTONOSUPPORT);
	/* A create whose parent is refused leaves nothing behind. */
	CHECK(vlan_clone_create(4, 5, lo) == NULL);
	CHECK_EQ(vlan_setparent(v2, v1), 0);
	CHECK_EQ(vlan_setparent(v2, NULL), 0);
	CHECK(vlan_trunkdev(v2) == NULL);
	CHECK_EQ(witness_held_count(), 0);
	t_world_end();
}

/* vlan on vlan: two wrappers, the inner vid goes into the frame. */
static void
test_vlan_qinq(void)
{
	struct ifnet *nic, *outer, *inner_vlan;
	struct m_snd_tag *mst, *mid;
	struct mbuf *m;
	uint8_t hdr[4];

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	outer = t_vlan(0, 100, nic);
	inner_vlan = t_vlan(1, 200, outer);
	CHECK(inner_vlan->if_capabilities & IFCAP_TXRTLMT);
	CHECK_EQ(t_alloc(inner_vlan, &mst), 0);
	mid = t_inner(mst);
	CHECK(mid->ifp == outer);
	CHECK(t_inner(mid)->ifp == nic);
	CHECK_EQ(inner_vlan->if_transmit(inner_vlan, t_pkt(mst)), 0);
	m = nic_ring_peek(nic, 0);
	CHECK(m->m_pkthdr.snd_tag == t_inner(mid));
	CHECK_EQ(m->m_pkthdr.ether_vtag, 100);
	CHECK_EQ(m->m_pkthdr.len, 64);
	m_copydata(m, 0, 4, (caddr_t)hdr);
	CHECK_EQ(hdr[0], 0x81);
	CHECK_EQ(hdr[1], 0x00);
	CHECK_EQ((hdr[2] << 8) | hdr[3], 200);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(mid), 1);
	CHECK_EQ(t_refs(t_inner(mid)), 2);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* A forwarded packet (rcvif set, no flag) reaches the nic as it was. */
static void
test_vlan_forwarded_untagged(void)
{
	struct ifnet *nic, *rx, *vlan;
	struct mbuf *m;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	rx = t_nic(1, 0);
	vlan = t_vlan(0, 8, nic);
	m = t_pkt(NULL);
	m->m_pkthdr.rcvif = rx;
	CHECK_EQ(vlan->if_transmit(vlan, m), 0);
	m = nic_ring_peek(nic, 0);
	CHECK(m != NULL);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m_rcvif(m) == rx);
	CHECK_EQ(nic_tags_live(nic), 0);
	t_world_end();
}

/* Destroying a vlan with a tag outstanding: the tag pins it. */
static void
test_vlan_destroy_with_tag(void)
{
	struct ifnet *nic, *vlan;
	struct m_snd_tag *mst;
	int live;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 3, nic);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt(mst)), 0);
	world_forget_ifnet(vlan);
	vlan_clone_destroy(vlan);
	epoch_drain_callbacks();
	live = ifnet_live_count();
	CHECK_EQ(nic_txeof(nic, -1), 1);
	m_snd_tag_rele(mst);
	epoch_drain_callbacks();
	CHECK_EQ(ifnet_live_count(), live - 1);
	t_world_end();
}

int
main(void)
{
	RUN(test_vlan_tag_chain);
	RUN(test_vlan_no_parent);
	RUN(test_vlan_tagless_parent);
	RUN(test_vlan_reparent_eagain);
	RUN(test_vlan_parent_detach);
	RUN(test_vlan_modify_query);
	RUN(test_vlan_alloc_fault_injection);
	RUN(test_vlan_wrong_swap_order_caught);
	RUN(test_vlan_swap_last_outer_reference);
	RUN(test_vlan_config_errors);
	RUN(test_vlan_qinq);
	RUN(test_vlan_forwarded_untagged);
	RUN(test_vlan_destroy_with_tag);
	return (t_done());
}
