/*
 * Receive and forward (spec §6, forwarding): a packet received on one nic
 * (rcvif set, no flag) is forwarded to a tag-capable nic, where rate
 * limited connections hold tags, and reaches the driver untagged with its
 * rcvif; IPv4 fragments keep rcvif too.  Local delivery, forwarding off,
 * TTL/hop limit expiry, broken input and a tagged received packet (the
 * receive oracle) are covered, with fault injection on the forwarding
 * fragmentation path.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "sys/socketvar.h"

static const struct in_addr src4 = { 0x0a000002 };	/* 10.0.0.2 */
static const struct in6_addr src6 = { { 0xfd, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 2 } };

struct t_topo {
	struct ifnet	*in;		/* plain, receives */
	struct ifnet	*out;		/* tag-capable, transmits */
	struct socket	*so;		/* rate-limited flow on out */
};

static void
t_topo(struct t_topo *t, int outflags)
{
	t_world_begin();
	ipstat_reset();
	ip6stat_reset();
	V_ipforwarding = 1;
	V_ip6_forwarding = 1;
	t->in = t_nic(0, 0);
	t->out = t_nic(1, outflags);
	CHECK_EQ(rt_add(AF_INET, &net4, 24, t->out), 0);
	CHECK_EQ(rt_add(AF_INET6, &net6, 32, t->out), 0);
	t->so = NULL;
	if ((outflags & NIC_F_TXRTLMT) == 0)
		return;
	/* A rate-limited connection on the same nic holds a tag. */
	t->so = t_socket_port(SOCK_DGRAM, NULL, 9);
	CHECK_EQ(sosetopt_max_pacing_rate(t->so, 1000), 0);
	CHECK_EQ(sosend(t->so, 10, 0), 0);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(nic_txeof(t->out, -1), 1);
}

static void
t_topo_end(void)
{
	witness_assert_unlocked("t_topo_end");
	V_ipforwarding = 0;
	V_ip6_forwarding = 0;
	t_world_end();
}

static void
test_forward4_untagged_with_rcvif(void)
{
	struct t_topo t;
	struct mbuf *m;
	struct ip *ip;

	t_topo(&t, NIC_F_TXRTLMT);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 200, M_NOWAIT);
	CHECK(m != NULL);
	nic_rx(t.in, m);
	CHECK_EQ(ipstat.ips_forward, 1);
	CHECK_EQ(nic_ring_count(t.out), 1);
	m = nic_ring_peek(t.out, 0);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.rcvif == t.in);
	CHECK(m_rcvif(m) == t.in);
	ip = mtod(m, struct ip *);
	CHECK_EQ(ip->ip_ttl, 63);
	CHECK_EQ(ip->ip_len, 220);
	CHECK_EQ(m->m_pkthdr.len, 220);
	CHECK_EQ(num_snd_tags(), 1);	/* only the socket's */
	t_topo_end();
}

static void
test_forward6_untagged_with_rcvif(void)
{
	struct t_topo t;
	struct mbuf *m;

	t_topo(&t, NIC_F_TXRTLMT);
	m = packet_build_ip6(&src6, &dst6, IPPROTO_TCP, 300, M_NOWAIT);
	CHECK(m != NULL);
	nic_rx(t.in, m);
	CHECK_EQ(ip6stat.ip6s_forward, 1);
	CHECK_EQ(nic_ring_count(t.out), 1);
	m = nic_ring_peek(t.out, 0);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(m->m_pkthdr.rcvif == t.in);
	CHECK_EQ(mtod(m, struct ip6_hdr *)->ip6_hlim, 63);
	CHECK_EQ(m->m_pkthdr.len, 348);
	t_topo_end();
}

/* To a tag-less nic: untagged, so its "tag at tag-less driver" holds. */
static void
test_forward_to_tagless(void)
{
	struct t_topo t;

	t_topo(&t, 0);
	nic_rx(t.in, packet_build_ip4(src4, dst4, IPPROTO_UDP, 100,
	    M_NOWAIT));
	nic_rx(t.in, packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 100,
	    M_NOWAIT));
	CHECK_EQ(nic_ring_count(t.out), 2);
	CHECK(nic_ring_peek(t.out, 0)->m_pkthdr.rcvif == t.in);
	CHECK(nic_ring_peek(t.out, 1)->m_pkthdr.rcvif == t.in);
	t_topo_end();
}

/* A forwarded IPv4 packet without DF is fragmented; each keeps rcvif. */
static void
test_forward4_fragments_keep_rcvif(void)
{
	struct t_topo t;
	struct mbuf *m;
	u_int mbufs;
	int i;

	t_topo(&t, NIC_F_TXRTLMT);
	nic_rx(t.in, packet_build_ip4(src4, dst4, IPPROTO_UDP, 3500,
	    M_NOWAIT));
	CHECK_EQ(nic_ring_count(t.out), 3);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(t.out, i);
		CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
		CHECK(m->m_pkthdr.rcvif == t.in);
		CHECK_EQ(mtod(m, struct ip *)->ip_ttl, 63);
	}
	CHECK_EQ(ipstat.ips_fragmented, 1);
	mbufs = mbuf_live_count();
	/* With DF it is dropped, as is an IPv6 packet too big. */
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 3500, M_NOWAIT);
	mtod(m, struct ip *)->ip_off = IP_DF;
	nic_rx(t.in, m);
	nic_rx(t.in, packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 3500,
	    M_NOWAIT));
	CHECK_EQ(nic_ring_count(t.out), 3);
	CHECK_EQ(ipstat.ips_forward, 1);
	CHECK_EQ(ip6stat.ip6s_forward, 0);
	CHECK_EQ(mbuf_live_count(), mbufs);
	t_topo_end();
}

static void
test_local_off_and_ttl(void)
{
	struct t_topo t;
	struct mbuf *m;

	t_topo(&t, NIC_F_TXRTLMT);
	/* To a local address: delivered, not forwarded. */
	CHECK_EQ(in_ifaddr_add(t.in, dst4), 0);
	CHECK(in_localip(dst4));
	CHECK_EQ(in6_ifaddr_add(t.in, &dst6), 0);
	CHECK(in6_localip(&dst6));
	nic_rx(t.in, packet_build_ip4(src4, dst4, IPPROTO_UDP, 10,
	    M_NOWAIT));
	nic_rx(t.in, packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10,
	    M_NOWAIT));
	CHECK_EQ(ipstat.ips_delivered, 1);
	CHECK_EQ(ip6stat.ip6s_delivered, 1);
	in_ifaddr_purge(t.in);
	in6_ifaddr_purge(t.in);
	CHECK(!in_localip(dst4));
	CHECK(!in6_localip(&dst6));

	/* TTL / hop limit 1: dropped. */
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip *)->ip_ttl = 1;
	nic_rx(t.in, m);
	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip6_hdr *)->ip6_hlim = 1;
	nic_rx(t.in, m);

	/* Forwarding off: dropped. */
	V_ipforwarding = 0;
	V_ip6_forwarding = 0;
	nic_rx(t.in, packet_build_ip4(src4, dst4, IPPROTO_UDP, 10,
	    M_NOWAIT));
	nic_rx(t.in, packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10,
	    M_NOWAIT));
	CHECK_EQ(nic_ring_count(t.out), 0);
	CHECK_EQ(ipstat.ips_forward, 0);
	CHECK_EQ(ip6stat.ip6s_forward, 0);
	CHECK_EQ(mbuf_live_count(), 0);
	t_topo_end();
}

/* Broken packets are dropped cleanly, nothing leaks. */
static void
test_broken_input(void)
{
	struct t_topo t;
	struct mbuf *m;
	u_int n;

	t_topo(&t, NIC_F_TXRTLMT);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip *)->ip_len = 5000;	/* past the packet */
	ip_input(m);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip *)->ip_hl = 3;
	ip_input(m);
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip *)->ip_len = 4;		/* shorter than hdr */
	ip_input(m);
	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip6_hdr *)->ip6_plen = 9000;
	ip6_input(m);
	m = packet_build_ip6(&src6, &dst6, IPPROTO_UDP, 10, M_NOWAIT);
	mtod(m, struct ip6_hdr *)->ip6_vfc = 0x40;
	ip6_input(m);
	/* Too short for any header: m_pullup fails and frees it. */
	m = m_gethdr(M_NOWAIT, MT_DATA);
	m->m_len = m->m_pkthdr.len = 3;
	*mtod(m, uint8_t *) = 4;
	nic_rx(t.in, m);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	m->m_len = m->m_pkthdr.len = 3;
	*mtod(m, uint8_t *) = 0x60;
	nic_rx(t.in, m);
	/* Link padding past ip_len is trimmed, then forwarded. */
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 100, M_NOWAIT);
	mtod(m, struct ip *)->ip_len = 60;
	nic_rx(t.in, m);
	CHECK_EQ(nic_ring_count(t.out), 1);
	m = nic_ring_peek(t.out, 0);
	CHECK_EQ(m->m_pkthdr.len, 60);
	CHECK_EQ(m_length(m, NULL), 60);
	/* Everything else was freed: only this chain is live. */
	for (n = 0; m != NULL; m = m->m_next)
		n++;
	CHECK_EQ(mbuf_live_count(), n);
	t_topo_end();
}

static void
receive_tagged_packet(void *arg)
{
	struct t_topo t;
	struct mbuf *m;
	struct inpcb *inp;

	(void)arg;
	t_topo(&t, NIC_F_TXRTLMT);
	inp = t.so->so_pcb;
	m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 10, M_NOWAIT);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inp->inp_snd_tag);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	ip_input(m);
}

static void
test_receive_oracle(void)
{
	CHECK_PANICS(receive_tagged_packet, NULL,
	    "receive mbuf has send tag");
}

/* Fault injection on the forwarding fragmentation path. */
static void
test_fault_injection_forward(void)
{
	struct t_topo t;
	struct mbuf *m;
	uint64_t hit;
	int n;

	for (n = 1; n < 200; n++) {
		t_topo(&t, NIC_F_TXRTLMT);
		m = packet_build_ip4(src4, dst4, IPPROTO_UDP, 4000, M_NOWAIT);
		CHECK(m != NULL);
		malloc_fail_arm((uint32_t)n, NULL);
		nic_rx(t.in, m);
		hit = malloc_fail_count();
		malloc_fail_disarm();
		if (hit == 0)
			CHECK_EQ(nic_ring_count(t.out), 3);
		t_topo_end();
		if (hit == 0) {
			CHECK(n > 5);
			return;
		}
	}
	CHECK(!"fault sweep did not finish");
}

int
main(void)
{
	RUN(test_forward4_untagged_with_rcvif);
	RUN(test_forward6_untagged_with_rcvif);
	RUN(test_forward_to_tagless);
	RUN(test_forward4_fragments_keep_rcvif);
	RUN(test_local_off_and_ttl);
	RUN(test_broken_input);
	RUN(test_receive_oracle);
	RUN(test_fault_injection_forward);
	return (t_done());
}
