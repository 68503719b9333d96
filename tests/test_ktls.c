/*
 * Kernel TLS transmit (uipc_ktls.c), mlx5 TLS tags with their nested
 * tags (mlx5_en_hw_tls.c), the pacing user (tcp_ratelimit.c), and the
 * rules of issue 14 item 5: a failed reset leaves the session's tag NULL
 * and every later release copes; a nested tag ends only through its last
 * m_snd_tag_rele; the send path consumes the mbuf on EAGAIN; a session
 * with a pending reset is not freed under its task, and the task's inp
 * reference and tag do not leak.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/nic/if_nic.h"
#include "net/if_lagg.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_ratelimit.h"
#include "shim/lock.h"
#include "shim/refcount.h"
#include "shim/taskqueue.h"
#include "sys/ktls.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"

static const struct mlx5e_params t_params = {
	.n_workers = 1,
	.channels_per_worker = 2,
	.n_channels = 1,
	.sq_size = 16,
	.packet_pacing = true,
};

static struct ifnet *
t_mlx5(int unit)
{
	struct ifnet *ifp;

	ifp = mlx5e_attach(unit, &t_params);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, mlx5e_detach);
	return (ifp);
}

static struct ktls_session *
t_tls(struct socket *so)
{
	return (so->so_snd_tls);
}

static struct mlx5e_tls_tag *
t_ptag(struct m_snd_tag *mst)
{
	return ((struct mlx5e_tls_tag *)mst);
}

static int
t_pace(struct socket *so, int action, uint64_t rate)
{
	return (tcp_rl_pacing_user(so, action, rate));
}

/* An unpaced session takes a TLS tag whose nested tag is unlimited. */
static void
test_enable_ifnet_tls(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct ktls_session *tls;
	uint64_t base;

	t_world_begin();
	ifp = t_mlx5(0);
	base = num_snd_tags();
	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), EALREADY);
	CHECK_EQ(ktls_get_tx_mode(so), TCP_TLS_MODE_IFNET);
	tls = t_tls(so);
	CHECK(tls->snd_tag != NULL);
	CHECK_EQ(tls->snd_tag->ifp, ifp);
	CHECK_EQ(tls->snd_tag->sw->type, IF_SND_TAG_TYPE_TLS);
	CHECK_EQ(t_ptag(tls->snd_tag)->rl_tag->sw->type,
	    IF_SND_TAG_TYPE_UNLIMITED);
	CHECK_EQ(num_snd_tags(), base + 1);	/* the unlimited is shared */

	/* Records go out tagged with the TLS tag, on the nested queue. */
	CHECK_EQ(ktls_sosend(so, 2, 500), 0);
	CHECK(mlx5e_tx_inflight(ifp) > 0);
	CHECK(t_refs(tls->snd_tag) > 1);
	CHECK_EQ(refcount_load(&tls->refcount), 3);	/* socket + 2 records */
	(void)mlx5e_tx_complete(ifp, 0);
	CHECK_EQ(t_refs(tls->snd_tag), 1);
	CHECK_EQ(refcount_load(&tls->refcount), 1);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(ktls_live_count(), 0);
	world_progress_all();
	CHECK_EQ(num_snd_tags(), base);
	t_world_end();
}

/*
 * A paced session gets a TLS + rate limit tag: the nested rate-limit
 * tag carries the rate; modify and query reach it; on close the nested
 * tag goes through m_snd_tag_destroy (counted) as every tag does.
 */
static void
test_paced_session_nested_rate_limit(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct ktls_session *tls;
	struct m_snd_tag *rl;
	uint64_t base, rate;
	uint32_t level;
	struct inpcb *inp;

	t_world_begin();
	ifp = t_mlx5(0);
	base = num_snd_tags();
	so = t_tcp_socket(ifp, 125000);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_THREE), 0);
	tls = t_tls(so);
	CHECK_EQ(tls->snd_tag->sw->type, IF_SND_TAG_TYPE_TLS_RATE_LIMIT);
	rl = t_ptag(tls->snd_tag)->rl_tag;
	CHECK_EQ(rl->sw->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(t_refs(rl), 1);		/* the TLS tag's */
	CHECK_EQ(num_snd_tags(), base + 2);
	(void)mlx5e_rl_worker_run(ifp, 0);

	/* The pacing user changes and queries through the TLS tag. */
	CHECK_EQ(t_pace(so, TCP_RL_CHG, 250000), 0);
	(void)mlx5e_rl_worker_run(ifp, 0);	/* applies the new rate */
	inp = t_inp(so);
	INP_WLOCK(inp);
	CHECK_EQ(tcp_query_pacing_rate(inp, &rate, &level), 0);
	INP_WUNLOCK(inp);
	CHECK_EQ(rate, 250000);
	CHECK_EQ(t_pace(so, TCP_RL_QUERY, 0), 0);

	CHECK_EQ(ktls_sosend(so, 1, 200), 0);
	CHECK_EQ(soclose(so), 0);
	/* A record still in the queue keeps session and tags. */
	CHECK_EQ(ktls_live_count(), 1);
	CHECK_EQ(num_snd_tags(), base + 2);
	world_progress_all();
	CHECK_EQ(ktls_live_count(), 0);
	CHECK_EQ(num_snd_tags(), base);
	t_world_end();
}

/*
 * The route moves to a nic without TLS: the record is dropped (consumed)
 * with EAGAIN, which becomes ENOBUFS and one queued reset; the reset
 * releases the old tag, fails to allocate, drops the connection and
 * leaves snd_tag NULL; the close then frees the session with a NULL tag.
 */
static void
test_reset_failure_leaves_null_tag(void)
{
	struct ifnet *mce, *nic;
	struct socket *so;
	struct ktls_session *tls;
	struct inpcb *inp;
	uint64_t base;
	u_int mbufs;

	t_world_begin();
	mce = t_mlx5(0);
	nic = t_nic(0, NIC_F_TXRTLMT);
	base = num_snd_tags();
	so = t_socket(SOCK_STREAM, mce);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	tls = t_tls(so);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, nic), 0);
	mbufs = mbuf_live_count();
	CHECK_EQ(ktls_sosend(so, 1, 100), ENOBUFS);
	CHECK_EQ(mbuf_live_count(), mbufs);	/* consumed */
	CHECK(tls->reset_pending);
	CHECK_EQ(refcount_load(&tls->refcount), 2);	/* socket + task */
	/* A second EAGAIN queues nothing more. */
	CHECK_EQ(ktls_sosend(so, 1, 100), ENOBUFS);
	CHECK_EQ(refcount_load(&tls->refcount), 2);
	CHECK_EQ(taskqueue_pending_all(), 1);

	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK(tls->snd_tag == NULL);
	CHECK(tls->reset_pending);		/* stays: no more tasks */
	inp = t_inp(so);
	CHECK((inp->inp_flags & INP_DROPPED) != 0);
	CHECK_EQ(refcount_load(&tls->refcount), 1);
	CHECK_EQ(num_snd_tags(), base);
	CHECK_EQ(ktls_sosend(so, 1, 100), ECONNRESET);
	CHECK_EQ(soclose(so), 0);		/* cleanup with a NULL tag */
	CHECK_EQ(ktls_live_count(), 0);
	t_world_end();
}

/* A reset on a route change between two TLS-capable ports re-allocates. */
static void
test_reset_reallocates(void)
{
	struct ifnet *a, *b;
	struct socket *so;
	struct ktls_session *tls;

	t_world_begin();
	a = t_mlx5(0);
	b = t_mlx5(1);
	so = t_tcp_socket(a, 125000);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	tls = t_tls(so);
	CHECK_EQ(ktls_sosend(so, 1, 100), 0);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, b), 0);
	CHECK_EQ(ktls_sosend(so, 1, 100), ENOBUFS);
	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK(!tls->reset_pending);
	CHECK(tls->snd_tag != NULL);
	CHECK_EQ(tls->snd_tag->ifp, b);
	CHECK_EQ(tls->snd_tag->sw->type, IF_SND_TAG_TYPE_TLS_RATE_LIMIT);
	CHECK_EQ(ktls_sosend(so, 2, 100), 0);
	CHECK(mlx5e_tx_inflight(b) > 0);
	t_world_end();
}

/*
 * The socket closes while a reset is queued: the task still holds the
 * session and the inp; it finds no socket (ECONNRESET), drops its inp
 * reference (the last: the inp goes) and its session reference (the
 * last: the session goes, releasing the tag it still had).
 */
static void
test_close_with_reset_pending(void)
{
	struct ifnet *a, *b;
	struct socket *so;
	struct ktls_session *tls;
	uint64_t base;

	t_world_begin();
	a = t_mlx5(0);
	b = t_mlx5(1);
	base = num_snd_tags();
	so = t_socket(SOCK_STREAM, a);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	tls = t_tls(so);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, b), 0);
	CHECK_EQ(ktls_sosend(so, 1, 100), ENOBUFS);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(ktls_live_count(), 1);
	CHECK_EQ(inpcb_live_count(), 1);
	CHECK_EQ(refcount_load(&tls->refcount), 1);
	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK_EQ(ktls_live_count(), 0);
	CHECK_EQ(inpcb_live_count(), 0);
	world_progress_all();
	CHECK_EQ(num_snd_tags(), base);
	t_world_end();
}

/* Through vlan over lagg: wrapper TLS tags, next_snd_tag to the NIC. */
static void
test_tls_through_vlan_lagg(void)
{
	struct ifnet *a, *b, *lagg, *vlan;
	struct socket *so;
	struct ktls_session *tls;
	struct m_snd_tag *mst;

	t_world_begin();
	a = t_mlx5(0);
	b = t_mlx5(1);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, a, b);
	vlan = t_vlan(0, 7, lagg);
	so = t_tcp_socket(vlan, 125000);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	tls = t_tls(so);
	mst = tls->snd_tag;
	CHECK_EQ(mst->ifp, vlan);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_TLS_RATE_LIMIT);
	mst = t_inner(mst);
	CHECK_EQ(mst->ifp, lagg);
	CHECK_EQ(mst->sw->type, IF_SND_TAG_TYPE_TLS_RATE_LIMIT);
	mst = t_inner(mst);
	CHECK_EQ(mst->ifp, a);
	CHECK(mst->sw->next_snd_tag == NULL);
	CHECK_EQ(t_pace(so, TCP_RL_CHG, 500000), 0);
	CHECK_EQ(t_pace(so, TCP_RL_QUERY, 0), 0);
	CHECK_EQ(ktls_sosend(so, 2, 300), 0);

	/* The active port goes: the lagg says EAGAIN, the reset moves on. */
	CHECK_EQ(lagg_port_destroy(lagg, a), 0);
	CHECK_EQ(ktls_sosend(so, 1, 300), ENOBUFS);
	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK(tls->snd_tag != NULL);
	CHECK_EQ(t_inner(t_inner(tls->snd_tag))->ifp, b);
	CHECK_EQ(ktls_sosend(so, 1, 300), 0);
	t_world_end();
}

/* Software TLS: no capable NIC, or a version the NIC refuses. */
static void
test_software_fallback(void)
{
	struct ifnet *nic, *mce;
	struct socket *so, *so2, *udp;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, nic);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	CHECK_EQ(ktls_get_tx_mode(so), TCP_TLS_MODE_SW);
	CHECK_EQ(ktls_sosend(so, 2, 100), 0);
	udp = t_socket(SOCK_DGRAM, NULL);
	CHECK_EQ(ktls_enable_tx(udp, TLS_MINOR_VER_TWO), EINVAL);
	mce = t_mlx5(0);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, mce), 0);
	so2 = t_socket_port(SOCK_STREAM, NULL, 81);
	CHECK_EQ(ktls_enable_tx(so2, 2), 0);	/* TLS 1.1: refused */
	CHECK_EQ(ktls_get_tx_mode(so2), TCP_TLS_MODE_SW);
	t_world_end();
}

/*
 * The pacing user from its own paths: rt_find_real_interface walks
 * next_snd_tag through a vlan to the nic; set, change, query; after
 * tcpdrop a change still reaches the tag, a new tag is refused.
 */
static void
test_pacing_user(void)
{
	struct ifnet *nic, *vlan, *real;
	struct socket *so;
	struct inpcb *inp;
	int error;

	t_world_begin();
	nic = t_nic(0, NIC_F_TXRTLMT);
	vlan = t_vlan(0, 5, nic);
	so = t_socket(SOCK_STREAM, vlan);
	inp = t_inp(so);
	INP_WLOCK(inp);
	real = rt_find_real_interface(vlan, inp, &error);
	INP_WUNLOCK(inp);
	CHECK_EQ(error, 0);
	CHECK_EQ(real, nic);
	if_rele(real);
	CHECK_EQ(t_pace(so, TCP_RL_CHG, 1000), EINVAL);	/* no tag yet */
	CHECK_EQ(t_pace(so, TCP_RL_SET, 125000), 0);
	CHECK(inp->inp_snd_tag != NULL && inp->inp_snd_tag->ifp == vlan);
	CHECK_EQ(t_pace(so, TCP_RL_SET, 250000), 0);	/* modifies */
	CHECK_EQ(t_pace(so, TCP_RL_QUERY, 0), 0);
	CHECK_EQ(tcp_drop_socket(so), 0);
	CHECK_EQ(t_pace(so, TCP_RL_CHG, 300000), 0);
	CHECK_EQ(t_pace(so, TCP_RL_REL, 0), 0);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(t_pace(so, TCP_RL_SET, 125000), EINVAL);	/* dropped */
	t_world_end();
}

/* Oracles. */
static void
destroy_with_reset_queued(void *arg)
{
	struct ifnet *a, *b;
	struct socket *so;
	struct ktls_session *tls;

	(void)arg;
	t_world_begin();
	a = t_mlx5(0);
	b = t_mlx5(1);
	so = t_socket(SOCK_STREAM, a);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	tls = t_tls(so);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, b), 0);
	CHECK_EQ(ktls_sosend(so, 1, 100), ENOBUFS);
	/* Broken: the task's reference dropped while it is queued. */
	ktls_free(tls);
	CHECK_EQ(soclose(so), 0);
}

static void
nested_tag_freed_directly(void *arg)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *rl;

	(void)arg;
	t_world_begin();
	ifp = t_mlx5(0);
	so = t_tcp_socket(ifp, 125000);
	CHECK_EQ(ktls_enable_tx(so, TLS_MINOR_VER_TWO), 0);
	rl = t_ptag(t_tls(so)->snd_tag)->rl_tag;
	/*
	 * Broken: the driver's free called directly, as a TLS tag that
	 * bypassed m_snd_tag_rele would: destroy never runs for it.
	 */
	rl->sw->snd_tag_free(rl);
	t_world_end();
}

static void
test_oracles(void)
{
	CHECK_PANICS(destroy_with_reset_queued, NULL,
	    "ktls: session");
	/* The nested tag's own last release then frees it a second time. */
	CHECK_PANICS(nested_tag_freed_directly, NULL,
	    "mlx5: free of a channel in state 0");
}

int
main(void)
{
	RUN(test_enable_ifnet_tls);
	RUN(test_paced_session_nested_rate_limit);
	RUN(test_reset_failure_leaves_null_tag);
	RUN(test_reset_reallocates);
	RUN(test_close_with_reset_pending);
	RUN(test_tls_through_vlan_lagg);
	RUN(test_software_fallback);
	RUN(test_pacing_user);
	RUN(test_oracles);
	return (t_done());
}
