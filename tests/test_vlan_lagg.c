/*
 * vlan and lagg under rate-limited sockets (spec §6-§8): the whole path
 * sosend -> tcp_output -> ip_output_send -> ether_output -> vlan/lagg ->
 * nic, with reconfiguration while packets are still queued in the nic.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "harness/packet.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"
#include "net/if_var.h"
#include "net/if_vlan_var.h"
#include "net/if_lagg.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "dev/nic/if_nic.h"

#define	RATE		1000000		/* bytes/s */
#define	SEGMENT		1000		/* one TCP segment at MTU 1500 */

static struct in_addr
t_ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct in_addr in;

	in.s_addr = ((uint32_t)a << 24) | ((uint32_t)b << 16) |
	    ((uint32_t)c << 8) | d;
	return (in);
}

/* 10.1.0.0/16 through ifp, with a local address on it. */
static void
t_route(struct ifnet *ifp)
{
	struct in_addr net = t_ip(10, 1, 0, 0);

	CHECK_EQ(in_ifaddr_add(ifp, t_ip(10, 1, 0, 1)), 0);
	CHECK_EQ(rt_add(AF_INET, &net, 16, ifp), 0);
}

/* A connected, rate-limited TCP socket to 10.1.0.2. */
static struct socket *
t_paced_socket(uint32_t rate)
{
	struct sockaddr_in sin;
	struct socket *so;

	CHECK_EQ(socreate(AF_INET, &so, SOCK_STREAM, IPPROTO_TCP), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_port = 80;
	sin.sin_addr = t_ip(10, 1, 0, 2);
	CHECK_EQ(soconnect(so, (const struct sockaddr *)&sin), 0);
	if (rate != 0)
		CHECK_EQ(sosetopt_max_pacing_rate(so, rate), 0);
	return (so);
}

static struct m_snd_tag *
t_inp_tag(struct socket *so)
{
	return (so->so_pcb->inp_snd_tag);
}

/*
 * Every packet in the nic's ring from index 'from' on carries exactly
 * 'mst' (a tag of that nic).  Returns how many there are.
 */
static int
t_ring_tagged_with(struct ifnet *nic, int from, struct m_snd_tag *mst)
{
	struct mbuf *m;
	int i, n;

	n = nic_ring_count(nic);
	for (i = from; i < n; i++) {
		m = nic_ring_peek(nic, i);
		CHECK(m != NULL);
		CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
		CHECK(m->m_pkthdr.snd_tag == mst);
		CHECK(m->m_pkthdr.snd_tag->ifp == nic);
	}
	return (n - from);
}

static int
t_ring_untagged(struct ifnet *nic)
{
	struct mbuf *m;
	int i, n;

	n = nic_ring_count(nic);
	for (i = 0; i < n; i++) {
		m = nic_ring_peek(nic, i);
		CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	}
	return (n);
}

/*
 * A rate-limited socket over a vlan: the inp holds the vlan wrapper, the
 * wrapper the nic tag, and every packet reaches the nic with the nic's
 * tag and exactly one reference of its own.
 */
static void
test_vlan_ratelimited_socket(void)
{
	struct ifnet *nic, *vlan;
	struct socket *so;
	struct m_snd_tag *mst, *inner;
	int n;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 42, nic);
	t_route(vlan);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, 3 * SEGMENT, 0), 0);

	mst = t_inp_tag(so);
	CHECK(mst != NULL);
	CHECK(mst->ifp == vlan);
	inner = t_inner(mst);
	CHECK(inner->ifp == nic);
	n = t_ring_tagged_with(nic, 0, inner);
	CHECK(n >= 1);
	/* The inp's reference, no packet's. */
	CHECK_EQ(t_refs(mst), 1);
	/* The wrapper's reference, and one per queued packet. */
	CHECK_EQ(t_refs(inner), 1 + n);
	CHECK_EQ(nic_ring_peek(nic, 0)->m_pkthdr.ether_vtag, 42);

	CHECK_EQ(nic_txeof(nic, -1), n);
	CHECK_EQ(t_refs(inner), 1);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(nic_tags_live(nic), 0);
	t_world_end();
}

/*
 * Reparenting a vlan while a rate-limited flow has packets queued on the
 * old parent: the next send gets EAGAIN, the inp drops its tag, the send
 * after that allocates on the new parent; the queued packets keep the old
 * nic tag alive until they complete.
 */
static void
test_vlan_reparent_with_queued_packets(void)
{
	struct ifnet *nic0, *nic1, *vlan;
	struct socket *so;
	struct m_snd_tag *old_inner, *mst;
	int queued;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 7, nic0);
	t_route(vlan);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, 2 * SEGMENT, 0), 0);
	old_inner = t_inner(t_inp_tag(so));
	queued = t_ring_tagged_with(nic0, 0, old_inner);
	CHECK(queued >= 1);

	CHECK_EQ(vlan_setparent(vlan, nic1), 0);
	CHECK_EQ(sosend(so, SEGMENT, 0), EAGAIN);
	CHECK(t_inp_tag(so) == NULL);
	CHECK(so->so_pcb->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(nic_ring_count(nic1), 0);
	/* Wrapper gone; the old nic tag lives on in the queued packets. */
	CHECK_EQ(nic_tags_live(nic0), 1);
	CHECK_EQ(t_refs(old_inner), queued);

	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL && mst->ifp == vlan);
	CHECK(t_inner(mst)->ifp == nic1);
	CHECK_EQ(t_ring_tagged_with(nic1, 0, t_inner(mst)), 1);
	CHECK_EQ(nic_ring_count(nic0), queued);

	CHECK_EQ(nic_txeof(nic0, -1), queued);
	CHECK_EQ(nic_tags_live(nic0), 0);
	CHECK_EQ(soclose(so), 0);
	t_world_end();
}

/*
 * Issue acceptance test: lagg failover while a rate-limited flow has
 * packets queued on the old port.  The next send gets EAGAIN (the wrapper
 * finds its port tag on the wrong port), the inp re-allocates on the new
 * port, packets flow tagged with the new port's tag, the queued ones
 * complete with the old tag, and the teardown ledger is clean.
 */
static void
test_issue_lagg_failover_with_queued_packets_reallocates(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct socket *so;
	struct m_snd_tag *mst, *old_inner;
	int queued;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	t_route(lagg);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, 2 * SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL && mst->ifp == lagg);
	old_inner = t_inner(mst);
	CHECK(old_inner->ifp == nic0);
	queued = t_ring_tagged_with(nic0, 0, old_inner);
	CHECK(queued >= 1);
	CHECK_EQ(t_refs(old_inner), 1 + queued);

	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(sosend(so, SEGMENT, 0), EAGAIN);
	CHECK(t_inp_tag(so) == NULL);
	CHECK_EQ(nic_ring_count(nic1), 0);
	CHECK_EQ(t_refs(old_inner), queued);

	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL && mst->ifp == lagg);
	CHECK(t_inner(mst)->ifp == nic1);
	CHECK_EQ(t_ring_tagged_with(nic1, 0, t_inner(mst)), 1);
	CHECK_EQ(t_refs(t_inner(mst)), 2);
	CHECK_EQ(nic_ring_count(nic0), queued);

	/* Completions in any order; then teardown checks the ledger. */
	CHECK_EQ(nic_txeof(nic1, -1), 1);
	CHECK_EQ(nic_txeof(nic0, -1), queued);
	CHECK_EQ(nic_tags_live(nic0), 0);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(nic_tags_live(nic1), 0);
	t_world_end();
}

/*
 * Round-robin and broadcast offer no tags: after the protocol change the
 * flow gets EAGAIN once, re-allocation says EOPNOTSUPP, and the flow goes
 * on untagged.
 */
static void
t_untagged_after(int proto)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct socket *so;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	t_route(lagg);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	CHECK(t_inp_tag(so) != NULL);
	CHECK_EQ(nic_txeof(nic0, -1), 1);

	CHECK_EQ(lagg_set_proto(lagg, proto), 0);
	/*
	 * Round-robin picks nic1 first or second; broadcast gives nic0 (the
	 * tag's port) a tagged copy and the original, for nic1, fails.
	 */
	CHECK_EQ(sosend(so, SEGMENT, 0) == EAGAIN ||
	    sosend(so, SEGMENT, 0) == EAGAIN, 1);
	CHECK(t_inp_tag(so) == NULL);
	CHECK(so->so_pcb->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	(void)nic_txeof(nic0, -1);
	(void)nic_txeof(nic1, -1);

	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	CHECK(t_inp_tag(so) == NULL);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	CHECK(t_inp_tag(so) == NULL);
	CHECK((so->so_pcb->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK(t_ring_untagged(nic0) + t_ring_untagged(nic1) >= 2);
	CHECK_EQ(nic_tags_live(nic0), 0);
	CHECK_EQ(nic_tags_live(nic1), 0);
	CHECK_EQ(soclose(so), 0);
	t_world_end();
}

static void
test_lagg_roundrobin_flow_continues_untagged(void)
{
	t_untagged_after(LAGG_PROTO_ROUNDROBIN);
}

static void
test_lagg_broadcast_flow_continues_untagged(void)
{
	t_untagged_after(LAGG_PROTO_BROADCAST);
}

/* Load balance: the tag is on the port the inp's flowid hashes to. */
static void
test_lagg_loadbalance_socket(void)
{
	struct ifnet *nic[2], *lagg;
	struct socket *so;
	struct m_snd_tag *mst;
	uint32_t port;

	t_world_begin();
	nic[0] = t_nic(0, NIC_F_TXRTLMT);
	nic[1] = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_LOADBALANCE, nic[0], nic[1]);
	t_route(lagg);

	/* Without USE_FLOWID: no tag, the flow goes untagged. */
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	CHECK(t_inp_tag(so) == NULL);
	CHECK_EQ(t_ring_untagged(nic[0]) + t_ring_untagged(nic[1]), 1);
	CHECK_EQ(soclose(so), 0);

	CHECK_EQ(lagg_set_opts(lagg, LAGG_OPT_USE_FLOWID), 0);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL);
	port = (so->so_pcb->inp_flowid >> LAGG_DEF_FLOWID_SHIFT) % 2;
	CHECK(t_inner(mst)->ifp == nic[port]);
	CHECK_EQ(t_ring_tagged_with(nic[port],
	    nic_ring_count(nic[port]) - 1, t_inner(mst)), 1);
	CHECK_EQ(soclose(so), 0);
	t_world_end();
}

/* vlan over lagg over nics: three tags in a chain, failover through it. */
static void
test_vlan_over_lagg_socket(void)
{
	struct ifnet *nic0, *nic1, *lagg, *vlan;
	struct socket *so;
	struct m_snd_tag *mst, *lst, *nt;
	int n;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	vlan = t_vlan(0, 5, lagg);
	t_route(vlan);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, 2 * SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL && mst->ifp == vlan);
	lst = t_inner(mst);
	CHECK(lst->ifp == lagg);
	nt = t_inner(lst);
	CHECK(nt->ifp == nic0);
	n = t_ring_tagged_with(nic0, 0, nt);
	CHECK(n >= 1);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(t_refs(lst), 1);
	CHECK_EQ(t_refs(nt), 1 + n);

	if_link_state_change(nic0, LINK_STATE_DOWN);
	CHECK_EQ(sosend(so, SEGMENT, 0), EAGAIN);
	CHECK(t_inp_tag(so) == NULL);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	mst = t_inp_tag(so);
	CHECK(mst != NULL);
	CHECK(t_inner(t_inner(mst))->ifp == nic1);
	CHECK_EQ(t_ring_tagged_with(nic1, 0, t_inner(t_inner(mst))), 1);
	CHECK_EQ(nic_txeof(nic0, -1), n);
	CHECK_EQ(soclose(so), 0);
	t_world_end();
}

/* Port removal with the flow's packets queued, then lagg destroy. */
static void
test_lagg_port_removal_with_socket(void)
{
	struct ifnet *nic0, *nic1, *lagg;
	struct socket *so;
	int queued;

	t_world_begin();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, nic0, nic1);
	t_route(lagg);
	so = t_paced_socket(RATE);
	CHECK_EQ(sosend(so, 2 * SEGMENT, 0), 0);
	queued = nic_ring_count(nic0);
	CHECK(queued >= 1);
	CHECK_EQ(lagg_port_destroy(lagg, nic0), 0);
	CHECK_EQ(sosend(so, SEGMENT, 0), EAGAIN);
	CHECK_EQ(sosend(so, SEGMENT, 0), 0);
	CHECK(t_inner(t_inp_tag(so))->ifp == nic1);
	/* The lagg goes away under the socket; the route with it. */
	world_forget_ifnet(lagg);
	lagg_clone_destroy(lagg);
	CHECK(sosend(so, SEGMENT, 0) != 0);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(nic_txeof(nic0, -1), queued);
	t_world_end();
}

/*
 * Forwarding: a packet received on one nic (rcvif set) and routed out
 * through a vlan, or a lagg, reaches the nic untagged with its rcvif.
 */
static void
t_forward_through(bool use_lagg)
{
	struct ifnet *rx, *nic, *out;
	struct in_addr net = t_ip(10, 2, 0, 0);
	struct mbuf *m;

	t_world_begin();
	rx = t_nic(0, 0);
	nic = t_nic(1, NIC_F_TXRTLMT);
	out = use_lagg ? t_lagg(0, LAGG_PROTO_FAILOVER, nic, NULL) :
	    t_vlan(0, 11, nic);
	CHECK_EQ(rt_add(AF_INET, &net, 16, out), 0);
	V_ipforwarding = 1;
	m = packet_build_ip4(t_ip(10, 9, 0, 1), t_ip(10, 2, 0, 7),
	    IPPROTO_UDP, 200, M_NOWAIT);
	CHECK(m != NULL);
	nic_rx(rx, m);
	CHECK_EQ(nic_ring_count(nic), 1);
	m = nic_ring_peek(nic, 0);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m_rcvif(m) == rx);
	CHECK_EQ(nic_tags_live(nic), 0);
	V_ipforwarding = 0;
	t_world_end();
}

static void
test_forwarding_through_vlan_untagged(void)
{
	t_forward_through(false);
}

static void
test_forwarding_through_lagg_untagged(void)
{
	t_forward_through(true);
}

int
main(void)
{
	RUN(test_vlan_ratelimited_socket);
	RUN(test_vlan_reparent_with_queued_packets);
	RUN(test_issue_lagg_failover_with_queued_packets_reallocates);
	RUN(test_lagg_roundrobin_flow_continues_untagged);
	RUN(test_lagg_broadcast_flow_continues_untagged);
	RUN(test_lagg_loadbalance_socket);
	RUN(test_vlan_over_lagg_socket);
	RUN(test_lagg_port_removal_with_socket);
	RUN(test_forwarding_through_vlan_untagged);
	RUN(test_forwarding_through_lagg_untagged);
	return (t_done());
}
