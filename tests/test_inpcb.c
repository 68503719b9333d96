/*
 * inpcb RATELIMIT functions (spec §5): attach/detach, modify/query, the
 * cases of in_pcboutput_txrtlmt in order, in_pcboutput_eagain, the
 * read-lock upgrade (and its failure under a second reader), no tag after
 * drop, and the ledger catching a leaked and a twice-dropped reference.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "shim/refcount.h"
#include "sys/socketvar.h"

/* A packet carrying the inp's hash, as tcp_output would build it. */
static struct mbuf *
t_pkt(struct inpcb *inp, uint32_t hashtype)
{
	struct mbuf *m;

	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	m->m_pkthdr.flowid = inp->inp_flowid;
	M_HASHTYPE_SET(m, hashtype);
	return (m);
}

static void
test_attach_rate_unlimited_modify_query(void)
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

	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4,
	    inp->inp_flowid, 125000, &inp->inp_snd_tag), 0);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL);
	CHECK(mst->ifp == ifp);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 125000);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 250000), 0);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 250000);
	v = 12345;
	CHECK_EQ(in_pcbquerylevel_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 0);			/* nothing queued */
	/* A second attach while one is set: EINVAL, nothing allocated. */
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4,
	    inp->inp_flowid, 1, &inp->inp_snd_tag), EINVAL);
	CHECK(inp->inp_snd_tag == mst);
	CHECK_EQ(num_snd_tags(), 1);
	in_pcbdetach_txrtlmt(inp);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(nic_tags_live(ifp), 0);

	/* -1U asks for an unlimited tag; that one has no modify method. */
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4,
	    inp->inp_flowid, -1U, &inp->inp_snd_tag), 0);
	CHECK_EQ(inp->inp_snd_tag->sw->type, IF_SND_TAG_TYPE_UNLIMITED);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 1000), EOPNOTSUPP);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	in_pcbdetach_txrtlmt(inp);
	/* Detach with no tag is a no-op. */
	in_pcbdetach_txrtlmt(inp);
	INP_WUNLOCK(inp);
	witness_assert_unlocked(__func__);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

static void
test_no_tag_einval(void)
{
	struct socket *so;
	struct inpcb *inp;
	uint32_t v;

	t_world_begin();
	so = t_socket(SOCK_DGRAM, t_nic(0, NIC_F_TXRTLMT));
	inp = so->so_pcb;
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 1), EINVAL);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), EINVAL);
	CHECK_EQ(in_pcbquerylevel_txrtlmt(inp, &v), EINVAL);
	INP_WUNLOCK(inp);
	t_world_end();
}

static void
test_attach_tagless_eopnotsupp(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	ifp = t_nic(0, 0);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), EOPNOTSUPP);
	CHECK(inp->inp_snd_tag == NULL);
	INP_WUNLOCK(inp);
	t_world_end();
}

/* Spec §5 invariant 9: after INP_DROPPED nothing allocates a tag. */
static void
test_no_tag_after_drop(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(tcp_drop_socket(so), 0);
	CHECK(inp->inp_flags & INP_DROPPED);
	/* A second tcpdrop finds no connection. */
	CHECK_EQ(tcp_drop_socket(so), ESRCH);

	/* The rate is stored but the dropped connection refuses it. */
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000000), ECONNRESET);
	CHECK_EQ(so->so_max_pacing_rate, 1000000);
	CHECK_EQ(sosend(so, 100, 0), ECONNRESET);
	CHECK_EQ(nic_tx_total(ifp), 0);

	/* Even when output is forced, the attach path says EINVAL. */
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4,
	    inp->inp_flowid, 1000000, &inp->inp_snd_tag), EINVAL);
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	m = t_pkt(inp, M_HASHTYPE_RSS_TCP_IPV4);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag == NULL);
	/* EINVAL does not settle the request. */
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	INP_WUNLOCK(inp);
	m_freem(m);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(nic_tags_live(ifp), 0);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* The cases of in_pcboutput_txrtlmt, in the spec's order. */
static void
test_output_txrtlmt_cases(void)
{
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;
	uint32_t v;

	t_world_begin();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, 0);
	so = t_socket(SOCK_STREAM, ifa);
	inp = so->so_pcb;
	m = t_pkt(inp, M_HASHTYPE_RSS_TCP_IPV4);

	INP_WLOCK(inp);
	/* Rate 0, no tag: nothing to do, the request is settled. */
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);

	/* A rate, capable ifnet, hash: attach with the mbuf's flowid. */
	so->so_max_pacing_rate = 5000;
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK(inp->inp_snd_tag->ifp == ifa);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 5000);

	/* Tag present: modify. */
	so->so_max_pacing_rate = 7000;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 7000);

	/* Rate 0 with a tag on a capable ifnet: FreeBSD modifies to 0. */
	so->so_max_pacing_rate = 0;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), 0);
	CHECK_EQ(v, 0);

	/* Output on another ifnet without IFCAP_TXRTLMT: tag dropped. */
	so->so_max_pacing_rate = 7000;
	in_pcboutput_txrtlmt(inp, ifb, m);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK_EQ(num_snd_tags(), 0);

	/* No RSS hash: EAGAIN inside, no tag, the request stays. */
	m_freem(m);
	m = t_pkt(inp, M_HASHTYPE_NONE);
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(num_snd_tags(), 0);

	/* NULL inp is a no-op. */
	in_pcboutput_txrtlmt(NULL, ifa, m);
	in_pcboutput_eagain(NULL);
	INP_WUNLOCK(inp);
	m_freem(m);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* A tag for ifa, output on ifb (capable): re-allocated on ifb. */
static void
test_output_txrtlmt_route_change(void)
{
	struct ifnet *ifa, *ifb;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifa = t_nic(0, NIC_F_TXRTLMT);
	ifb = t_nic(1, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifa);
	inp = so->so_pcb;
	m = t_pkt(inp, M_HASHTYPE_RSS_TCP_IPV4);
	so->so_max_pacing_rate = 1000;
	INP_WLOCK(inp);
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	in_pcboutput_txrtlmt(inp, ifa, m);
	CHECK(inp->inp_snd_tag != NULL && inp->inp_snd_tag->ifp == ifa);
	in_pcboutput_txrtlmt(inp, ifb, m);
	CHECK(inp->inp_snd_tag != NULL && inp->inp_snd_tag->ifp == ifb);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK_EQ(nic_tags_live(ifa), 0);
	CHECK_EQ(nic_tags_live(ifb), 1);
	CHECK_EQ(num_snd_tags(), 1);
	INP_WUNLOCK(inp);
	m_freem(m);
	t_world_end();
}

static void
test_output_eagain(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	INP_WLOCK(inp);
	/* No tag: nothing to do, CHANGED untouched. */
	in_pcboutput_eagain(inp);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4,
	    inp->inp_flowid, 1000, &inp->inp_snd_tag), 0);
	in_pcboutput_eagain(inp);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	CHECK_EQ(num_snd_tags(), 0);
	INP_WUNLOCK(inp);
	t_world_end();
}

/* UDP's path: read-locked, the upgrade succeeds when alone. */
static void
test_rlocked_upgrade(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(inp->inp_flowtype, M_HASHTYPE_OPAQUE_HASH);
	m = t_pkt(inp, inp->inp_flowtype);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 3000), 0);
	INP_RLOCK(inp);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag != NULL);
	/* Downgraded again: still read-locked, not write-locked. */
	CHECK(!INP_WLOCKED(inp));
	INP_RLOCK_ASSERT(inp);
	in_pcboutput_eagain(inp);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	INP_RLOCK_ASSERT(inp);
	INP_RUNLOCK(inp);
	m_freem(m);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* Another reader: the upgrade fails and nothing changes. */
static void
test_rlocked_upgrade_contended(void)
{
	struct t_reader r;
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, ifp);
	inp = so->so_pcb;
	m = t_pkt(inp, inp->inp_flowtype);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 3000), 0);

	t_reader_start(&r, inp);
	INP_RLOCK(inp);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	INP_RUNLOCK(inp);
	t_reader_stop(&r);

	/* Alone again: the same call allocates. */
	INP_RLOCK(inp);
	in_pcboutput_txrtlmt(inp, ifp, m);
	mst = inp->inp_snd_tag;
	CHECK(mst != NULL);
	INP_RUNLOCK(inp);

	/* in_pcboutput_eagain gives up silently under contention. */
	t_reader_start(&r, inp);
	INP_RLOCK(inp);
	in_pcboutput_eagain(inp);
	CHECK(inp->inp_snd_tag == mst);
	INP_RUNLOCK(inp);
	t_reader_stop(&r);

	m_freem(m);
	witness_assert_unlocked(__func__);
	t_world_end();
}

static void
test_flowtype_override(void)
{
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	so = t_socket(SOCK_STREAM, t_nic(0, NIC_F_TXRTLMT));
	inp = so->so_pcb;
	CHECK_EQ(inp->inp_flowtype, M_HASHTYPE_RSS_TCP_IPV4);
	CHECK_EQ(in_pcb_set_flowtype(inp, M_HASHTYPE_NONE), 0);
	CHECK_EQ(inp->inp_flowtype, M_HASHTYPE_NONE);
	CHECK_EQ(in_pcb_set_flowtype(NULL, 0), EINVAL);
	witness_assert_unlocked(__func__);
	t_world_end();
}

/* The inp's reference, the socket close, and the inp ledger. */
static void
test_close_releases_tag_and_inp(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(inpcb_live_count(), 1);
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	INP_WUNLOCK(inp);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(inpcb_live_count(), 0);
	CHECK_EQ(socket_live_count(), 1);	/* until teardown */
	CHECK_EQ(soclose(so), EBADF);
	t_world_end();
	CHECK_EQ(socket_live_count(), 0);
}

/* Oracles: deliberately broken reference counting is caught. */
static void
leak_tag_reference(void *arg)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;

	(void)arg;
	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	(void)m_snd_tag_ref(inp->inp_snd_tag);	/* never released */
	INP_WUNLOCK(inp);
	t_world_end();
}

static void
drop_tag_reference_twice(void *arg)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;

	(void)arg;
	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	mst = nic_ring_peek(ifp, 0)->m_pkthdr.snd_tag;
	CHECK_EQ(soclose(so), 0);		/* only the ring's ref left */
	m_snd_tag_rele(mst);		/* the ring's, dropped early */
	(void)nic_txeof(ifp, -1);		/* and again */
	t_world_end();
}

static void
free_inp_holding_tag(void *arg)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;

	(void)arg;
	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	mst = m_snd_tag_ref(inp->inp_snd_tag);
	in_pcbdetach(inp);
	/* A buggy path hands the inp a tag after the detach. */
	inp->inp_snd_tag = mst;
	in_pcbfree(inp);
}

static void
test_oracles(void)
{
	CHECK_PANICS(leak_tag_reference, NULL, "ledger: num_snd_tags is 1");
	CHECK_PANICS(drop_tag_reference_twice, NULL, "snd_tag destroy");
	CHECK_PANICS(free_inp_holding_tag, NULL, "tag after drop");
}

int
main(void)
{
	RUN(test_attach_rate_unlimited_modify_query);
	RUN(test_no_tag_einval);
	RUN(test_attach_tagless_eopnotsupp);
	RUN(test_no_tag_after_drop);
	RUN(test_output_txrtlmt_cases);
	RUN(test_output_txrtlmt_route_change);
	RUN(test_output_eagain);
	RUN(test_rlocked_upgrade);
	RUN(test_rlocked_upgrade_contended);
	RUN(test_flowtype_override);
	RUN(test_close_releases_tag_and_inp);
	RUN(test_oracles);
	return (t_done());
}
