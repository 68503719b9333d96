/*
 * IPv6 output through ip6_output_send: fragments each owning a
 * reference, TCP segmentation and TSO, route changes, the mismatch check
 * (EAGAIN, mbuf consumed, never at the driver), no route, and a packet
 * without an inp never stamped.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "netinet/in_pcb.h"
#include "netinet6/ip6_var.h"
#include "shim/refcount.h"
#include "sys/socketvar.h"

static const struct in6_addr src6 = { { 0xfd, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1 } };

static void
test_fragments_each_hold_a_reference6(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;
	struct ip6_hdr *ip6;
	struct mbuf *m;
	int i, lens[3] = { 1496, 1496, 1160 };
	uint32_t id;

	t_world_begin();
	ip6stat_reset();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket6(SOCK_DGRAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	mst = t_inp(so)->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK_EQ(nic_ring_count(ifp), 3);
	id = mtod(nic_ring_peek(ifp, 0), struct ip6_hdr *)->ip6_frag_id;
	CHECK(id != 0);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(ifp, i);
		ip6 = mtod(m, struct ip6_hdr *);
		CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
		CHECK(m->m_pkthdr.snd_tag == mst);
		CHECK_EQ(m->m_pkthdr.len, lens[i]);
		CHECK_EQ(m_length(m, NULL), lens[i]);
		CHECK_EQ(ip6->ip6_plen, lens[i] - (int)sizeof(*ip6));
		CHECK_EQ(ip6->ip6_frag_off & IP6F_OFF_MASK, i * 1448);
		CHECK_EQ((ip6->ip6_frag_off & IP6F_MORE_FRAG) != 0, i < 2);
		CHECK_EQ(ip6->ip6_frag_id, id);
		CHECK_EQ(ip6->ip6_nxt, IPPROTO_UDP);
		CHECK_EQ(M_HASHTYPE_GET(m), M_HASHTYPE_OPAQUE_HASH);
	}
	CHECK_EQ(t_refs(mst), 4);
	CHECK_EQ(ip6stat.ip6s_fragmented, 1);
	CHECK_EQ(ip6stat.ip6s_ofragments, 3);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(t_refs(mst), 3);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_tcp6_segments_and_tso(void)
{
	struct ifnet *ifp, *tso;
	struct socket *so;
	struct mbuf *m;
	int i, lens[3] = { 1500, 1500, 1204 };

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket6(SOCK_STREAM, ifp);
	CHECK_EQ(t_inp(so)->inp_flowtype, M_HASHTYPE_RSS_TCP_IPV6);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	CHECK_EQ(nic_ring_count(ifp), 3);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(ifp, i);
		CHECK_EQ(m->m_pkthdr.len, lens[i]);
		CHECK_EQ(mtod(m, struct ip6_hdr *)->ip6_frag_id, 0);
		CHECK(m->m_pkthdr.snd_tag == t_inp(so)->inp_snd_tag);
		CHECK_EQ(M_HASHTYPE_GET(m), M_HASHTYPE_RSS_TCP_IPV6);
	}

	tso = t_nic(1, NIC_F_TXRTLMT | NIC_F_TSO);
	CHECK_EQ(rt_change(AF_INET6, &net6, 32, tso), 0);
	CHECK_EQ(sosend(so, 20000, 0), 0);
	CHECK_EQ(nic_ring_count(tso), 1);
	m = nic_ring_peek(tso, 0);
	CHECK(m->m_pkthdr.csum_flags & CSUM_IP6_TSO);
	CHECK_EQ(m->m_pkthdr.tso_segsz, 1432);
	CHECK_EQ(m->m_pkthdr.len, 20068);
	/* Re-allocated on the new route's ifnet. */
	CHECK(m->m_pkthdr.snd_tag->ifp == tso);
	CHECK_EQ(num_snd_tags(), 2);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_mismatch_stops_tagged_packet6(void)
{
	struct t_reader r;
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	u_int mbufs;

	t_world_begin();
	ip6stat_reset();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, 0);
	so = t_socket6(SOCK_DGRAM, ifa);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK_EQ(rt_change(AF_INET6, &net6, 32, ifb), 0);
	mbufs = mbuf_live_count();

	t_reader_start(&r, inp);
	CHECK_EQ(sosend(so, 100, 0), EAGAIN);
	CHECK_EQ(sosend(so, 4000, 0), EAGAIN);	/* fragments too */
	t_reader_stop(&r);
	CHECK_EQ(nic_tx_total(ifb), 0);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK(inp->inp_snd_tag == mst);

	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(nic_tx_total(ifb), 1);
	CHECK((nic_ring_peek(ifb, 0)->m_pkthdr.csum_flags & CSUM_SND_TAG)
	    == 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_no_route6_and_no_inp(void)
{
	struct sockaddr_in6 dst;
	struct ifnet *ifp, *rx;
	struct socket *so;
	struct mbuf *m;
	struct in6_addr nowhere = { { 0x30, 0x01 } };

	t_world_begin();
	ip6stat_reset();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	rx = t_nic(1, 0);
	so = t_socket6(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);

	m = packet_build_ip6(&src6, &nowhere, IPPROTO_UDP, 100, M_NOWAIT);
	CHECK_EQ(ip6_output(m, NULL, NULL, 0, NULL, NULL, NULL),
	    EHOSTUNREACH);
	CHECK_EQ(ip6stat.ip6s_noroute, 1);

	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 100, M_NOWAIT);
	m->m_pkthdr.rcvif = rx;
	memset(&dst, 0, sizeof(dst));
	CHECK_EQ(ip6_output_send(NULL, ifp, ifp, m, &dst, NULL), 0);
	m = nic_ring_peek(ifp, 1);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.rcvif == rx);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_ip6_fragment_direct(void)
{
	struct mbuf *m, *n;
	int count, total;

	t_world_begin();
	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 1000, M_NOWAIT);
	CHECK_EQ(ip6_fragment(NULL, m, sizeof(struct ip6_hdr), IPPROTO_UDP,
	    300, 7), EMSGSIZE);			/* not a multiple of 8 */
	CHECK_EQ(ip6_fragment(NULL, m, sizeof(struct ip6_hdr), IPPROTO_UDP,
	    296, 7), 0);
	count = total = 0;
	for (n = m->m_nextpkt; n != NULL; n = n->m_nextpkt) {
		CHECK_EQ(mtod(n, struct ip6_hdr *)->ip6_frag_off &
		    IP6F_OFF_MASK, total);
		CHECK_EQ(mtod(n, struct ip6_hdr *)->ip6_frag_id, 7);
		total += n->m_pkthdr.len - (int)sizeof(struct ip6_hdr);
		count++;
	}
	CHECK_EQ(total, 1000);
	CHECK_EQ(count, 4);
	while ((n = m) != NULL) {
		m = n->m_nextpkt;
		n->m_nextpkt = NULL;
		m_freem(n);
	}
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

/* Fault injection on every allocation of a fragmented v6 send. */
static void
test_fault_injection6(void)
{
	struct ifnet *ifp;
	struct socket *so;
	uint64_t hit;
	int error, n;

	for (n = 1; n < 400; n++) {
		t_world_begin();
		ifp = t_nic(0, NIC_F_TXRTLMT);
		so = t_socket6(SOCK_DGRAM, ifp);
		CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
		malloc_fail_arm((uint32_t)n, NULL);
		error = sosend(so, 4000, 0);
		hit = malloc_fail_count();
		malloc_fail_disarm();
		CHECK(hit != 0 ? (error == 0 || error == ENOBUFS) :
		    error == 0);
		witness_assert_unlocked(__func__);
		t_world_end();
		if (hit == 0) {
			CHECK(n > 8);
			return;
		}
	}
	CHECK(!"fault sweep did not finish");
}

int
main(void)
{
	RUN(test_fragments_each_hold_a_reference6);
	RUN(test_tcp6_segments_and_tso);
	RUN(test_mismatch_stops_tagged_packet6);
	RUN(test_no_route6_and_no_inp);
	RUN(test_ip6_fragment_direct);
	RUN(test_fault_injection6);
	return (t_done());
}
