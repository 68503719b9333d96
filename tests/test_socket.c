/*
 * Sockets: create/connect/close and their errors, TCP segmentation by MSS
 * and TSO, the socket-level rate (0, a rate, unlimited, modify), the UDP
 * read-locked path, no hash -> no tag, close and tcpdrop with packets
 * still in the ring, a close racing sends on another thread, and fault
 * injection on every M_NOWAIT allocation of a send.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "shim/refcount.h"
#include "sys/socketvar.h"

static void
test_socreate_errors(void)
{
	struct socket *so;

	t_world_begin();
	CHECK_EQ(socreate(1, &so, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK(so == NULL);
	CHECK_EQ(socreate(AF_INET, &so, 99, 0), EPROTOTYPE);
	CHECK_EQ(socreate(AF_INET, &so, SOCK_STREAM, IPPROTO_UDP),
	    EPROTONOSUPPORT);
	CHECK_EQ(socreate(AF_INET6, &so, SOCK_DGRAM, IPPROTO_TCP),
	    EPROTONOSUPPORT);
	CHECK_EQ(socreate(AF_INET, NULL, SOCK_STREAM, 0), EINVAL);
	CHECK_EQ(socket_live_count(), 0);
	CHECK_EQ(socreate(AF_INET, &so, SOCK_STREAM, 0), 0);
	CHECK_EQ(socreate(AF_INET, &so, SOCK_DGRAM, IPPROTO_UDP), 0);
	CHECK_EQ(socreate(AF_INET6, &so, SOCK_STREAM, IPPROTO_TCP), 0);
	CHECK_EQ(socreate(AF_INET6, &so, SOCK_DGRAM, 0), 0);
	CHECK_EQ(socket_live_count(), 4);
	CHECK_EQ(inpcb_live_count(), 4);
	witness_assert_unlocked(__func__);
	/* Teardown closes and frees all four. */
	t_world_end();
	CHECK_EQ(socket_live_count(), 0);
	CHECK_EQ(inpcb_live_count(), 0);
}

static void
test_soconnect(void)
{
	struct sockaddr_in sin;
	struct socket *so, *so6;
	struct inpcb *inp;
	struct ifnet *ifp;
	struct in_addr a;
	uint32_t flowid;
	uint16_t lport;
	int pass;

	flowid = 0;
	lport = 0;
	for (pass = 0; pass < 2; pass++) {
		t_world_begin();
		ifp = t_nic(0, NIC_F_TXRTLMT);
		CHECK_EQ(rt_add(AF_INET, &net4, 24, ifp), 0);
		a.s_addr = 0xc0a80101;
		CHECK_EQ(in_ifaddr_add(ifp, a), 0);
		CHECK_EQ(in_ifaddr_add(ifp, a), EEXIST);
		CHECK_EQ(socreate(AF_INET, &so, SOCK_STREAM, 0), 0);
		CHECK_EQ(socreate(AF_INET6, &so6, SOCK_STREAM, 0), 0);
		t_sin(&sin, 80);
		CHECK_EQ(soconnect(so, NULL), EINVAL);
		CHECK_EQ(soconnect(so6, (struct sockaddr *)&sin),
		    EAFNOSUPPORT);
		sin.sin_len = 4;
		CHECK_EQ(soconnect(so, (struct sockaddr *)&sin), EINVAL);
		t_sin(&sin, 0);
		CHECK_EQ(soconnect(so, (struct sockaddr *)&sin),
		    EADDRNOTAVAIL);
		t_sin(&sin, 80);
		CHECK_EQ(soconnect(so, (struct sockaddr *)&sin), 0);
		CHECK_EQ(soconnect(so, (struct sockaddr *)&sin), EISCONN);
		inp = so->so_pcb;
		CHECK(so->so_state & SS_ISCONNECTED);
		CHECK_EQ(inp->inp_faddr.s_addr, dst4.s_addr);
		/* The source is the address configured on the route's ifnet. */
		CHECK_EQ(inp->inp_laddr.s_addr, 0xc0a80101);
		CHECK_EQ(inp->inp_fport, 80);
		CHECK(inp->inp_lport >= 49152);
		CHECK_EQ(inp->inp_flowtype, M_HASHTYPE_RSS_TCP_IPV4);
		/* Deterministic: same world, same tuple and hash. */
		if (pass == 0) {
			flowid = inp->inp_flowid;
			lport = inp->inp_lport;
		} else {
			CHECK_EQ(inp->inp_flowid, flowid);
			CHECK_EQ(inp->inp_lport, lport);
		}
		witness_assert_unlocked(__func__);
		t_world_end();
	}
}

/* TCP without TSO: one segment per MSS, DF set, hash carried. */
static void
test_tcp_segments_by_mss(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;
	struct ip *ip;
	int i, lens[3] = { 1500, 1500, 1120 };

	t_world_begin();
	ipstat_reset();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(sosend(so, 0, 0), 0);
	CHECK_EQ(nic_ring_count(ifp), 0);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	CHECK_EQ(nic_ring_count(ifp), 3);
	for (i = 0; i < 3; i++) {
		m = nic_ring_peek(ifp, i);
		CHECK_EQ(m->m_pkthdr.len, lens[i]);
		CHECK_EQ(m_length(m, NULL), lens[i]);
		CHECK_EQ(m->m_pkthdr.flowid, inp->inp_flowid);
		CHECK_EQ(M_HASHTYPE_GET(m), M_HASHTYPE_RSS_TCP_IPV4);
		CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
		CHECK((m->m_pkthdr.csum_flags & CSUM_TSO) == 0);
		ip = mtod(m, struct ip *);
		CHECK_EQ(ip->ip_v, IPVERSION);
		CHECK_EQ(ip->ip_len, lens[i]);
		CHECK_EQ(ip->ip_p, IPPROTO_TCP);
		CHECK(ip->ip_off & IP_DF);
		CHECK_EQ(ip->ip_dst.s_addr, dst4.s_addr);
	}
	CHECK_EQ(ipstat.ips_localout, 3);
	CHECK_EQ(ipstat.ips_fragmented, 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* TSO: one burst, CSUM_IP_TSO, segment size = MSS. */
static void
test_tcp_tso_one_burst(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT | NIC_F_TSO);
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000000), 0);
	CHECK_EQ(sosend(so, 20000, 0), 0);
	CHECK_EQ(nic_ring_count(ifp), 1);
	m = nic_ring_peek(ifp, 0);
	CHECK_EQ(m->m_pkthdr.len, 20040);
	CHECK(m->m_pkthdr.csum_flags & CSUM_IP_TSO);
	CHECK_EQ(m->m_pkthdr.tso_segsz, 1460);
	CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK_EQ(t_refs(m->m_pkthdr.snd_tag), 2);
	/* Past 64k: two bursts. */
	CHECK_EQ(sosend(so, 70000, 0), 0);
	CHECK_EQ(nic_ring_count(ifp), 3);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* A rate: every segment carries its own reference on the inp's tag. */
static void
test_tcp_rate_tags_every_segment(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	int i;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, 125000), 0);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL && mst->ifp == ifp);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	for (i = 0; i < 3; i++) {
		CHECK(nic_ring_peek(ifp, i)->m_pkthdr.csum_flags &
		    CSUM_SND_TAG);
		CHECK(nic_ring_peek(ifp, i)->m_pkthdr.snd_tag == mst);
	}
	CHECK_EQ(t_refs(mst), 4);
	CHECK_EQ(nic_txeof(ifp, 2), 2);
	CHECK_EQ(t_refs(mst), 2);
	CHECK_EQ(nic_txeof(ifp, -1), 1);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(num_snd_tags(), 1);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_rate_zero_unlimited_modify(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	uint32_t v;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	/* Rate 0: no tag at all. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 0), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK((nic_ring_peek(ifp, 0)->m_pkthdr.csum_flags & CSUM_SND_TAG)
	    == 0);

	/* A rate, then a new rate: the same tag is modified. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 2000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag == mst);
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 2000);
	CHECK_EQ(in_pcbquerylevel_txrtlmt(inp, &v), 0);
	CHECK(v > 0);			/* two of its packets are queued */
	INP_WUNLOCK(inp);

	/* Unlimited needs a new tag type: close and reopen. */
	CHECK_EQ(soclose(so), 0);
	so = t_socket(SOCK_STREAM, NULL);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, -1U), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK_EQ(inp->inp_snd_tag->sw->type, IF_SND_TAG_TYPE_UNLIMITED);
	/* Unlimited has no modify: EOPNOTSUPP settles the request. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 5000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK(nic_ring_peek(ifp, nic_ring_count(ifp) - 1)->m_pkthdr.snd_tag
	    == inp->inp_snd_tag);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_send_errors(void)
{
	struct socket *so, *uso;
	struct ifnet *ifp;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	CHECK_EQ(rt_add(AF_INET, &net4, 24, ifp), 0);
	CHECK_EQ(socreate(AF_INET, &so, SOCK_STREAM, 0), 0);
	CHECK_EQ(socreate(AF_INET, &uso, SOCK_DGRAM, 0), 0);
	CHECK_EQ(sosend(so, 10, 0), ENOTCONN);
	CHECK_EQ(sosend(uso, 10, 0), EDESTADDRREQ);
	CHECK_EQ(sosend(so, -1, 0), EINVAL);
	CHECK_EQ(sosend(NULL, 1, 0), EINVAL);
	CHECK_EQ(sosend(so, 1 << 30, 0), EMSGSIZE);
	CHECK_EQ(tcp_drop_socket(so), ESRCH);	/* not connected */
	CHECK_EQ(tcp_drop_socket(uso), ESRCH);	/* not TCP */
	CHECK_EQ(soclose(NULL), EINVAL);
	CHECK_EQ(nic_tx_total(ifp), 0);
	so = t_socket(SOCK_DGRAM, NULL);
	CHECK_EQ(sosend(so, 65535, 0), EMSGSIZE);
	CHECK_EQ(soclose(so), 0);
	/* A closed socket rejects everything cleanly. */
	CHECK_EQ(sosend(so, 10, 0), EBADF);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1), EBADF);
	CHECK_EQ(tcp_drop_socket(so), EBADF);
	CHECK_EQ(soclose(so), EBADF);
	CHECK_EQ(nic_tx_total(ifp), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* The UDP path holds the read lock; the upgrade allocates the tag. */
static void
test_udp_rate_readlocked(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	m = nic_ring_peek(ifp, 0);
	CHECK(m->m_pkthdr.csum_flags & CSUM_SND_TAG);
	CHECK(m->m_pkthdr.snd_tag == inp->inp_snd_tag);
	CHECK_EQ(m->m_pkthdr.len, 128);
	CHECK_EQ(M_HASHTYPE_GET(m), M_HASHTYPE_OPAQUE_HASH);
	CHECK_EQ(mtod(m, struct ip *)->ip_p, IPPROTO_UDP);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* No RSS hash yet: no tag, packets go untagged, the request stays. */
static void
test_no_hash_no_tag(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(in_pcb_set_flowtype(inp, M_HASHTYPE_NONE), 0);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(nic_ring_count(ifp), 1);
	CHECK((nic_ring_peek(ifp, 0)->m_pkthdr.csum_flags & CSUM_SND_TAG)
	    == 0);
	/* With a hash the next packet gets the tag. */
	CHECK_EQ(in_pcb_set_flowtype(inp, M_HASHTYPE_RSS_TCP_IPV4), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK(nic_ring_peek(ifp, 1)->m_pkthdr.csum_flags & CSUM_SND_TAG);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* Close with packets in the ring: the ring's references keep the tag. */
static void
test_close_with_queued_packets(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 4000, 0), 0);
	mst = ((struct inpcb *)so->so_pcb)->inp_snd_tag;
	CHECK_EQ(t_refs(mst), 4);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(inpcb_live_count(), 0);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(t_refs(mst), 3);
	CHECK_EQ(nic_tags_live(ifp), 1);
	CHECK_EQ(nic_txeof(ifp, 1), 1);
	CHECK_EQ(t_refs(mst), 2);
	CHECK_EQ(nic_txeof(ifp, -1), 2);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(nic_tags_live(ifp), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* tcpdrop with packets queued, then close; teardown drains the ring. */
static void
test_tcpdrop_with_queued_packets(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	uint64_t sent;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 3000, 0), 0);
	sent = nic_tx_total(ifp);
	CHECK_EQ(tcp_drop_socket(so), 0);
	CHECK(inp->inp_flags & INP_DROPPED);
	CHECK_EQ(so->so_error, ECONNABORTED);
	CHECK_EQ(sosend(so, 100, 0), ECONNRESET);
	CHECK_EQ(nic_tx_total(ifp), sent);
	/* No new tag for a dropped inp: the rate is refused. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 5000), ECONNRESET);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(num_snd_tags(), 1);	/* the ring still holds it */
	witness_assert_unlocked(__func__);
	t_world_end();		/* drains the ring, checks the ledger */
}

/* Sends on one thread, a close on another: no race, a clean ledger. */
struct t_sender {
	struct socket	*so;
	int		 sent;
	int		 badf;
};

static void *
t_sender_main(void *arg)
{
	struct t_sender *s = arg;
	int error, i;

	for (i = 0; i < 40; i++) {
		error = sosend(s->so, 2000, 0);
		if (error == 0)
			s->sent++;
		else if (error == EBADF)
			s->badf++;
		else
			CHECK(error == ENOBUFS);	/* ring full */
		witness_assert_unlocked("t_sender_main");
	}
	return (NULL);
}

static void
test_close_races_sends(void)
{
	struct t_sender s[2];
	pthread_t td[2];
	struct ifnet *ifp;
	struct socket *so;
	int i;

	t_world_begin();
	ifp = nic_attach("nic", 0, NIC_F_TXRTLMT, 4096, 1500);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, nic_detach);
	so = t_socket(SOCK_DGRAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	for (i = 0; i < 2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].so = so;
		CHECK_EQ(pthread_create(&td[i], NULL, t_sender_main, &s[i]),
		    0);
	}
	CHECK_EQ(sosetopt_max_pacing_rate(so, 2000), 0);
	CHECK_EQ(soclose(so), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(td[i], NULL), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(s[i].sent + s[i].badf, 40);
	CHECK_EQ(inpcb_live_count(), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/*
 * Fail the n-th M_NOWAIT allocation of one send, for every n until the
 * send no longer reaches n: each run must end with a clean ledger.
 */
static void
t_fault_sweep(int type, u_long mtu, int flags, int len)
{
	struct ifnet *ifp;
	struct socket *so;
	uint64_t hit;
	int error, n;

	for (n = 1; n < 400; n++) {
		t_world_begin();
		ifp = t_nic_ring(0, NIC_F_TXRTLMT | flags, 0, mtu);
		so = t_socket(type, ifp);
		CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
		malloc_fail_arm((uint32_t)n, NULL);
		error = sosend(so, len, 0);
		hit = malloc_fail_count();
		malloc_fail_disarm();
		if (hit == 0)
			CHECK_EQ(error, 0);
		else
			CHECK(error == 0 || error == ENOBUFS);
		witness_assert_unlocked(__func__);
		t_world_end();
		if (hit == 0) {
			CHECK(n > 8);
			return;
		}
	}
	CHECK(!"fault sweep did not finish");
}

static void
test_fault_injection_sosend(void)
{
	t_fault_sweep(SOCK_DGRAM, 1500, 0, 4000);	/* fragments */
	t_fault_sweep(SOCK_STREAM, 1500, 0, 5000);	/* segments */
	t_fault_sweep(SOCK_STREAM, 1500, NIC_F_TSO, 5000);
}

static void
test_fault_injection_socreate(void)
{
	struct socket *so;
	uint64_t hit;
	int error, n;

	for (n = 1; n < 10; n++) {
		t_world_begin();
		malloc_fail_arm((uint32_t)n, NULL);
		error = socreate(AF_INET, &so, SOCK_STREAM, 0);
		hit = malloc_fail_count();
		malloc_fail_disarm();
		CHECK_EQ(error, hit != 0 ? ENOBUFS : 0);
		CHECK_EQ(socket_live_count(), hit != 0 ? 0 : 1);
		t_world_end();
		if (hit == 0) {
			CHECK_EQ(n, 3);	/* the socket, then the inpcb */
			return;
		}
	}
	CHECK(!"socreate fault sweep did not finish");
}

int
main(void)
{
	RUN(test_socreate_errors);
	RUN(test_soconnect);
	RUN(test_tcp_segments_by_mss);
	RUN(test_tcp_tso_one_burst);
	RUN(test_tcp_rate_tags_every_segment);
	RUN(test_rate_zero_unlimited_modify);
	RUN(test_send_errors);
	RUN(test_udp_rate_readlocked);
	RUN(test_no_hash_no_tag);
	RUN(test_close_with_queued_packets);
	RUN(test_tcpdrop_with_queued_packets);
	RUN(test_close_races_sends);
	RUN(test_fault_injection_sosend);
	RUN(test_fault_injection_socreate);
	return (t_done());
}
