/*
 * IPv4 output (spec §6): ip_output_send's steps, fragments each owning a
 * reference, errors part-way through a fragment train, IP_DF and no
 * route, route changes (re-allocation on a new capable ifnet, untagged to
 * a tag-less one), the mismatch check stopping a tagged packet (EAGAIN,
 * mbuf consumed, never reaching the driver), and EAGAIN from below making
 * the inp drop its tag.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/socketvar.h"

static const struct in_addr src4 = { 0x0a000001 };	/* 10.0.0.1 */

/* UDP 4000 bytes over MTU 1500: three fragments, one reference each. */
static void
test_fragments_each_hold_a_reference(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;
	struct mbuf *m;
	struct ip *ip;
	int i, lens[3] = { 1500, 1500, 1068 };

	t_world_begin();
	ipstat_reset();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket_port(SOCK_DGRAM, ifp, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	mst = t_inp(so)->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK_EQ(nic_ring_count(ifp), 3);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(ifp, i);
		ip = mtod(m, struct ip *);
		CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
		CHECK(m->m_pkthdr.snd_tag == mst);
		CHECK_EQ(m->m_pkthdr.len, lens[i]);
		CHECK_EQ(m_length(m, NULL), lens[i]);
		CHECK_EQ(ip->ip_len, lens[i]);
		CHECK_EQ(ip->ip_off & IP_OFFMASK, i * 185);
		CHECK_EQ((ip->ip_off & IP_MF) != 0, i < 2);
		CHECK_EQ(ip->ip_id, mtod(nic_ring_peek(ifp, 0),
		    struct ip *)->ip_id);
		CHECK_EQ(m->m_pkthdr.flowid, t_inp(so)->inp_flowid);
	}
	/* The inp's reference plus one per fragment. */
	CHECK_EQ(t_refs(mst), 4);
	CHECK_EQ(ipstat.ips_fragmented, 1);
	CHECK_EQ(ipstat.ips_ofragments, 3);
	CHECK_EQ(nic_txeof(ifp, 1), 1);
	CHECK_EQ(t_refs(mst), 3);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(t_refs(mst), 2);
	CHECK_EQ(nic_txeof(ifp, -1), 2);
	CHECK_EQ(num_snd_tags(), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* The first error ends the train: later fragments are freed unsent. */
static void
test_fragment_error_frees_the_rest(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;

	t_world_begin();
	ipstat_reset();
	ifp = t_nic_ring(0, NIC_F_TXRTLMT, 1, 1500);	/* a ring of one */
	so = t_socket_port(SOCK_DGRAM, ifp, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 4000, 0), ENOBUFS);
	CHECK_EQ(nic_tx_total(ifp), 1);
	CHECK_EQ(nic_ring_count(ifp), 1);
	CHECK_EQ(mbuf_live_count(), 1);
	CHECK_EQ(ipstat.ips_odropped, 1);	/* the third, unsent */
	mst = t_inp(so)->inp_snd_tag;
	CHECK_EQ(t_refs(mst), 2);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_df_and_no_route(void)
{
	struct ifnet *ifp;
	struct mbuf *m;
	struct in_addr nowhere = { 0x08080808 };

	t_world_begin();
	ipstat_reset();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	CHECK_EQ(rt_add(AF_INET, &net4, 24, ifp), 0);

	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 3000, M_NOWAIT);
	CHECK(m != NULL);
	mtod(m, struct ip *)->ip_off = IP_DF;
	CHECK_EQ(ip_output(m, NULL, NULL, 0, NULL, NULL), EMSGSIZE);
	m = packet_build_ip4(src4, nowhere, IPPROTO_UDP, 100, M_NOWAIT);
	CHECK_EQ(ip_output(m, NULL, NULL, 0, NULL, NULL), EHOSTUNREACH);
	CHECK_EQ(ipstat.ips_noroute, 1);
	CHECK_EQ(ipstat.ips_odropped, 2);
	CHECK_EQ(nic_tx_total(ifp), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	/* A socket without a route: EHOSTUNREACH from its first segment. */
	CHECK_EQ(rt_delete(AF_INET, &net4, 24), 0);
	CHECK_EQ(sosend(t_socket_port(SOCK_STREAM, NULL, 53), 100, 0),
	    EHOSTUNREACH);
	CHECK_EQ(mbuf_live_count(), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* Route change to another capable ifnet: the next packet re-allocates. */
static void
test_route_change_reallocates(void)
{
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct m_snd_tag *ma, *mb;

	t_world_begin();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, NIC_F_TXRTLMT);
	so = t_socket_port(SOCK_STREAM, ifa, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	ma = t_inp(so)->inp_snd_tag;
	CHECK(ma != NULL && ma->ifp == ifa);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, ifb), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	mb = t_inp(so)->inp_snd_tag;
	CHECK(mb != NULL && mb->ifp == ifb);
	CHECK(nic_ring_peek(ifb, 0)->m_pkthdr.snd_tag == mb);
	/* The old tag lives on only in ifa's ring. */
	CHECK_EQ(num_snd_tags(), 2);
	CHECK_EQ(t_refs(ma), 1);
	CHECK_EQ(nic_txeof(ifa, -1), 1);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(nic_tags_live(ifa), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* TCP (write-locked) to a tag-less ifnet: the tag goes, packet untagged. */
static void
test_route_change_to_tagless_tcp(void)
{
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct mbuf *m;

	t_world_begin();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, 0);
	so = t_socket_port(SOCK_STREAM, ifa, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(t_inp(so)->inp_snd_tag != NULL);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, ifb), 0);
	CHECK_EQ(sosend(so, 3000, 0), 0);
	CHECK(t_inp(so)->inp_snd_tag == NULL);
	CHECK_EQ(nic_ring_count(ifb), 3);
	m = nic_ring_peek(ifb, 0);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.rcvif == NULL);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/*
 * UDP, read-locked, with a second reader so the upgrade fails: the
 * tagged packet routed to a tag-less nic is stopped by the mismatch
 * check (EAGAIN, mbuf freed) and never reaches the driver.  Once alone,
 * the next send drops the tag and goes out untagged.
 */
static void
test_mismatch_stops_tagged_packet(void)
{
	struct t_reader r;
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	u_int mbufs;

	t_world_begin();
	ipstat_reset();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, 0);
	so = t_socket_port(SOCK_DGRAM, ifa, 53);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, ifb), 0);
	mbufs = mbuf_live_count();

	t_reader_start(&r, inp);
	CHECK_EQ(sosend(so, 100, 0), EAGAIN);
	t_reader_stop(&r);
	CHECK_EQ(nic_tx_total(ifb), 0);
	CHECK_EQ(mbuf_live_count(), mbufs);	/* consumed */
	CHECK_EQ(ipstat.ips_odropped, 1);
	CHECK(inp->inp_snd_tag == mst);		/* could not upgrade */
	/* A fragment train stops at its first fragment the same way. */
	t_reader_start(&r, inp);
	CHECK_EQ(sosend(so, 4000, 0), EAGAIN);
	t_reader_stop(&r);
	CHECK_EQ(nic_tx_total(ifb), 0);
	CHECK_EQ(mbuf_live_count(), mbufs);

	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(nic_tx_total(ifb), 1);
	CHECK((nic_ring_peek(ifb, 0)->m_pkthdr.csum_flags & CSUM_SND_TAG)
	    == 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* An ifnet whose if_output reports a mismatch below (vlan/lagg-like). */
static int
t_eagain_output(struct ifnet *ifp, struct mbuf *m, const struct sockaddr *sa,
    struct route *ro)
{
	(void)ifp;
	(void)sa;
	(void)ro;
	m_freem(m);
	return (EAGAIN);
}

static void
test_eagain_from_below_detaches(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	if_output_fn_t *saved;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket_port(SOCK_STREAM, ifp, 53);
	inp = t_inp(so);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	saved = ifp->if_output;
	ifp->if_output = t_eagain_output;
	CHECK_EQ(sosend(so, 3000, 0), EAGAIN);
	/* Detached, CHANGED set; the other segments were not sent. */
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(num_snd_tags(), 1);	/* only the ring's packet */
	ifp->if_output = saved;
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK_EQ(num_snd_tags(), 2);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* ip_output_send with no inp never stamps, and keeps rcvif. */
static void
test_send_without_inp_never_stamps(void)
{
	struct sockaddr_in gw;
	struct ifnet *ifp, *rx;
	struct socket *so;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	rx = t_nic(1, 0);
	/* A tag exists on the same ifnet. */
	so = t_socket_port(SOCK_STREAM, ifp, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 100, M_NOWAIT);
	m->m_pkthdr.rcvif = rx;
	memset(&gw, 0, sizeof(gw));
	CHECK_EQ(ip_output_send(NULL, ifp, m, &gw, NULL), 0);
	m = nic_ring_peek(ifp, 1);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.rcvif == rx);
	CHECK(m_rcvif(m) == rx);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
send_tagged_packet(void *arg)
{
	struct sockaddr_in gw;
	struct ifnet *ifp;
	struct socket *so;
	struct mbuf *m;

	(void)arg;
	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket_port(SOCK_STREAM, ifp, 53);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 100, M_NOWAIT);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(t_inp(so)->inp_snd_tag);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	memset(&gw, 0, sizeof(gw));
	(void)ip_output_send(NULL, ifp, m, &gw, NULL);
}

static void
test_already_tagged_panics(void)
{
	CHECK_PANICS(send_tagged_packet, NULL, "csum_snd_tag");
}

/* ip_fragment on its own: offsets, flags, lengths; IP_DF refused. */
static void
test_ip_fragment_direct(void)
{
	struct mbuf *m, *n;
	struct ip *ip;
	int count, total;

	t_world_begin();
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 1000, M_NOWAIT);
	ip = mtod(m, struct ip *);
	CHECK_EQ(ip_fragment(ip, &m, 300, 0), 0);
	count = total = 0;
	for (n = m; n != NULL; n = n->m_nextpkt) {
		ip = mtod(n, struct ip *);
		CHECK(n->m_pkthdr.len <= 300);
		CHECK_EQ(ip->ip_len, n->m_pkthdr.len);
		CHECK_EQ((ip->ip_off & IP_OFFMASK) * 8, total);
		CHECK_EQ((ip->ip_off & IP_MF) != 0, n->m_nextpkt != NULL);
		total += n->m_pkthdr.len - (int)sizeof(struct ip);
		count++;
	}
	CHECK_EQ(total, 1000);
	CHECK_EQ(count, 4);
	while ((n = m) != NULL) {
		m = n->m_nextpkt;
		n->m_nextpkt = NULL;
		m_freem(n);
	}
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 1000, M_NOWAIT);
	ip = mtod(m, struct ip *);
	CHECK_EQ(ip_fragment(ip, &m, 20, 0), EMSGSIZE);	/* no room */
	ip->ip_off = IP_DF;
	CHECK_EQ(ip_fragment(ip, &m, 300, 0), EMSGSIZE);
	CHECK(m->m_nextpkt == NULL);
	m_freem(m);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

int
main(void)
{
	RUN(test_fragments_each_hold_a_reference);
	RUN(test_fragment_error_frees_the_rest);
	RUN(test_df_and_no_route);
	RUN(test_route_change_reallocates);
	RUN(test_route_change_to_tagless_tcp);
	RUN(test_mismatch_stops_tagged_packet);
	RUN(test_eagain_from_below_detaches);
	RUN(test_send_without_inp_never_stamps);
	RUN(test_already_tagged_panics);
	RUN(test_ip_fragment_direct);
	return (t_done());
}
