/*
 * mlx5en (spec §9.2): preallocated rate-limit channels and their
 * workers, the shared unlimited tags, queue selection from the tag with
 * fallback, and a detach that waits for every tag.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"
#include "net/route.h"
#include "netinet/in_pcb.h"

static const struct mlx5e_params t_params = {
	.n_workers = 2,
	.channels_per_worker = 2,
	.n_channels = 2,
	.sq_size = 8,
	.packet_pacing = true,
};

static struct ifnet *
t_attach(int unit, const struct mlx5e_params *p)
{
	struct ifnet *ifp;

	ifp = mlx5e_attach(unit, p != NULL ? p : &t_params);
	CHECK(ifp != NULL);
	return (ifp);
}

static struct mbuf *
t_pkt(struct m_snd_tag *mst, uint32_t flowid)
{
	return (t_pkt_make(mst, 64, flowid, M_HASHTYPE_OPAQUE_HASH));
}

static struct mlx5e_priv *
t_priv(struct ifnet *ifp)
{
	return (ifp->if_softc);
}

static void
t_run_workers(struct ifnet *ifp)
{
	int i;

	for (i = 0; i < t_priv(ifp)->params.n_workers; i++)
		(void)mlx5e_rl_worker_run(ifp, i);
}

/* Detach, then let the actor finish it; the ifnet is gone after. */
static void
t_destroy(struct ifnet *ifp)
{
	mlx5e_detach(ifp);
	world_progress_all();
}

/*
 * Acceptance: detach waits (a pending state, never a sleep) while
 * rate-limit channels and unlimited references are out, and completes
 * once every one of them is back.
 */
static void
test_detach_waits_for_every_channel(void)
{
	struct ifnet *ifp;
	struct mlx5e_priv *priv;
	struct m_snd_tag *rl0, *rl1, *ul;
	uint64_t base;

	t_world_begin();
	base = num_snd_tags();
	ifp = t_attach(0, NULL);
	priv = t_priv(ifp);
	CHECK_EQ(num_snd_tags(), base + 2);	/* one shared tag a channel */
	rl0 = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	rl1 = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 1, 2000000, NULL);
	ul = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 1, 0, NULL);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 2);
	t_run_workers(ifp);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(rl0, 0)), 0);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(ul, 1)), 0);
	CHECK_EQ(mlx5e_tx_inflight(ifp), 2);

	mlx5e_detach(ifp);
	CHECK(priv->gone && priv->detaching);
	world_progress_all();
	/* Completions ran, but the flows still hold their tags. */
	CHECK_EQ(mlx5e_tx_inflight(ifp), 0);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 2);
	CHECK(!priv->channels[1].tag_done);
	CHECK(priv->channels[0].tag_done);	/* no flow on channel 0 */
	CHECK_EQ(ifnet_live_count(), 1);
	CHECK(ifp->if_softc == priv);

	m_snd_tag_rele(rl0);
	CHECK_EQ(mlx5e_rl_worker_pending(ifp, 0), 1);	/* DESTROY */
	world_progress_all();
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 1);
	CHECK(ifp->if_softc == priv);

	m_snd_tag_rele(rl1);
	world_progress_all();
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 0);
	CHECK(ifp->if_softc == priv);		/* ul still out */

	m_snd_tag_rele(ul);
	world_progress_all();			/* finish, free the ifnet */
	CHECK_EQ(ifnet_live_count(), 0);
	CHECK_EQ(num_snd_tags(), base);
	CHECK_EQ(M_MLX5EN->ks_inuse, 0);
	t_world_end();
}

/* After "gone" nothing is handed out, by the driver or the ifnet. */
static void
test_no_alloc_after_gone(void)
{
	struct ifnet *ifp;
	union if_snd_tag_alloc_params p = {
		.hdr.type = IF_SND_TAG_TYPE_RATE_LIMIT,
	};
	struct m_snd_tag *mst = NULL, *hold;

	t_world_begin();
	ifp = t_attach(0, NULL);
	hold = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	mlx5e_detach(ifp);
	CHECK_EQ(mlx5e_rl_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	p.hdr.type = IF_SND_TAG_TYPE_UNLIMITED;
	CHECK_EQ(mlx5e_ul_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	CHECK(mst == NULL);
	CHECK_EQ(t_refs(hold), 1);		/* only the flow's now */
	m_snd_tag_rele(hold);
	world_progress_all();
	CHECK_EQ(ifnet_live_count(), 0);
	t_world_end();
}

static void
test_unlimited_tag_shared_and_initialised_once(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *a, *b, *c, *d;
	uint64_t base;

	t_world_begin();
	base = num_snd_tags();
	ifp = t_attach(0, NULL);
	CHECK_EQ(num_snd_tags(), base + 2);
	a = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	CHECK_EQ(t_refs(a), 2);			/* channel + flow */
	b = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 2, 0, NULL);
	c = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 4, 0, NULL);
	d = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 1, 0, NULL);
	CHECK(a == b && b == c);		/* same channel, one tag */
	CHECK(d != a);
	CHECK(a == &t_priv(ifp)->channels[0].tag);
	CHECK_EQ(t_refs(a), 4);
	CHECK_EQ(t_refs(d), 2);
	CHECK_EQ(num_snd_tags(), base + 2);	/* no new tag was made */
	CHECK(a->ifp == ifp && a->sw == &mlx5e_ul_snd_tag_sw);
	m_snd_tag_rele(b);
	m_snd_tag_rele(c);
	CHECK_EQ(t_refs(a), 2);
	m_snd_tag_rele(a);
	m_snd_tag_rele(d);
	CHECK_EQ(t_refs(a), 1);			/* the channel's own */
	CHECK(!t_priv(ifp)->channels[0].tag_done);
	t_destroy(ifp);
	CHECK_EQ(num_snd_tags(), base);
	CHECK_EQ(ifnet_live_count(), 0);
	t_world_end();
}

static void
test_unlimited_query_and_modify(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *ul;
	union if_snd_tag_query_params qp = { 0 };
	union if_snd_tag_modify_params mp = { 0 };

	t_world_begin();
	ifp = t_attach(0, NULL);
	ul = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(ul, 0)), 0);
	CHECK_EQ(ul->sw->snd_tag_query(ul, &qp), 0);
	CHECK(qp.unlimited.max_rate == (uint64_t)-1);
	CHECK_EQ(qp.unlimited.queue_level, 65535 / 8);
	mp.unlimited.max_rate = 5;
	CHECK_EQ(ul->sw->snd_tag_modify(ul, &mp), EOPNOTSUPP);
	m_snd_tag_rele(ul);
	t_destroy(ifp);
	t_world_end();
}

/*
 * The rate-limit channel's queue is opened by its worker: until then
 * (and whenever it is not running) tagged packets use the normal
 * selection.
 */
static void
test_queue_fallback_when_not_running(void)
{
	struct ifnet *ifp;
	struct mlx5e_priv *priv;
	struct m_snd_tag *mst;
	struct mlx5e_rl_channel *ch;

	t_world_begin();
	ifp = t_attach(0, NULL);
	priv = t_priv(ifp);
	mst = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	ch = (struct mlx5e_rl_channel *)mst;
	CHECK(!ch->sq.running);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(mst, 1)), 0);
	CHECK_EQ(mlx5e_sq_count(&ch->sq), 0);
	CHECK_EQ(mlx5e_sq_count(&priv->channels[1].sq), 1);	/* flowid 1 */
	CHECK_EQ(t_refs(mst), 2);		/* the queued packet's */

	CHECK_EQ(mlx5e_rl_worker_run(ifp, 0), 1);
	CHECK(ch->sq.running);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(mst, 1)), 0);
	CHECK_EQ(mlx5e_sq_count(&ch->sq), 1);
	CHECK_EQ(mlx5e_sq_count(&priv->channels[1].sq), 1);

	/* Untagged: by flow hash. */
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(NULL, 0)), 0);
	CHECK_EQ(mlx5e_sq_count(&priv->channels[0].sq), 1);

	CHECK_EQ(mlx5e_tx_complete(ifp, 0), 3);
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK(counter_u64_fetch(ifp->if_opackets) >= 2);
	m_snd_tag_rele(mst);
	t_destroy(ifp);
	t_world_end();
}

/* A full queue drops with ENOBUFS and releases the packet's reference. */
static void
test_queue_full(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *ul;
	int i;

	t_world_begin();
	ifp = t_attach(0, NULL);
	ul = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	for (i = 0; i < t_params.sq_size; i++)
		CHECK_EQ(ifp->if_transmit(ifp, t_pkt(ul, 0)), 0);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(ul, 0)), ENOBUFS);
	CHECK_EQ(t_refs(ul), 2 + (u_int)t_params.sq_size);
	CHECK_EQ(mlx5e_tx_complete(ifp, 3), 3);
	CHECK_EQ(mlx5e_tx_inflight(ifp), t_params.sq_size - 3);
	m_snd_tag_rele(ul);
	t_destroy(ifp);		/* the actor completes the rest first */
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

static void
test_rl_channels_enomem_and_reuse(void)
{
	struct mlx5e_params p = t_params;
	struct ifnet *ifp;
	struct m_snd_tag *a, *b;
	struct mlx5e_rl_channel *ch;
	int error;

	p.n_workers = 1;
	p.channels_per_worker = 1;
	t_world_begin();
	ifp = t_attach(0, &p);
	a = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 3, 1000000, NULL);
	ch = (struct mlx5e_rl_channel *)a;
	CHECK(t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 5, 1000000,
	    &error) == NULL);
	CHECK_EQ(error, ENOMEM);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 1);

	/* Freeing queues a DESTROY; the caller never waits. */
	m_snd_tag_rele(a);
	CHECK_EQ(ch->state, MLX5E_RL_ST_DESTROY);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 1);
	CHECK(t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 5, 1, &error) ==
	    NULL);
	CHECK_EQ(error, ENOMEM);
	CHECK_EQ(mlx5e_rl_worker_run(ifp, 0), 1);
	CHECK_EQ(ch->state, MLX5E_RL_ST_FREE);
	/* Unused: the embedded tag names no ifnet. */
	CHECK(ch->tag.ifp == NULL);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 0);

	b = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 5, 1000000, NULL);
	CHECK(b == a);				/* the same channel, reused */
	CHECK(b->ifp == ifp && t_refs(b) == 1);
	m_snd_tag_rele(b);
	t_destroy(ifp);
	t_world_end();
}

static void
test_rl_modify_and_query(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	union if_snd_tag_modify_params mp = { 0 };
	union if_snd_tag_query_params qp = { 0 };

	t_world_begin();
	ifp = t_attach(0, NULL);
	mst = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, 0);	/* worker has not run */
	t_run_workers(ifp);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, 1000000);
	mp.rate_limit.max_rate = 3000000;
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), 0);
	CHECK_EQ(mlx5e_rl_worker_pending(ifp, 0), 1);
	t_run_workers(ifp);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, 3000000);
	CHECK_EQ(((struct mlx5e_rl_channel *)mst)->sq.rate, 3000000);
	m_snd_tag_rele(mst);
	t_destroy(ifp);
	t_world_end();
}

static void
test_no_packet_pacing(void)
{
	struct mlx5e_params p = t_params;
	struct ifnet *ifp;
	struct m_snd_tag *ul;
	int error;

	p.packet_pacing = false;
	t_world_begin();
	ifp = t_attach(0, &p);
	CHECK(t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1, &error) ==
	    NULL);
	CHECK_EQ(error, EOPNOTSUPP);
	CHECK(t_alloc_rate(ifp, IF_SND_TAG_TYPE_MAX, 0, 1, &error) == NULL);
	CHECK_EQ(error, EOPNOTSUPP);
	ul = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	m_snd_tag_rele(ul);
	t_destroy(ifp);
	t_world_end();
}

/* Free methods run inside an epoch section without sleeping. */
static void
test_free_in_epoch_never_sleeps(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *rl, *ul;
	struct epoch_tracker et;

	t_world_begin();
	ifp = t_attach(0, NULL);
	rl = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	ul = t_alloc_rate(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	mlx5e_detach(ifp);
	NET_EPOCH_ENTER(et);
	m_snd_tag_rele(rl);
	m_snd_tag_rele(ul);			/* the last: free method */
	NET_EPOCH_EXIT(et);
	CHECK_EQ(witness_held_count(), 0);
	world_progress_all();
	CHECK_EQ(ifnet_live_count(), 0);
	t_world_end();
}

static void
test_attach_fault_injection(void)
{
	struct ifnet *ifp;
	int nth, fails = 0;

	t_world_begin();
	for (nth = 1; nth <= 64; nth++) {
		malloc_fail_arm((uint32_t)nth, M_MLX5EN);
		ifp = mlx5e_attach(0, &t_params);
		malloc_fail_disarm();
		if (ifp != NULL) {
			t_destroy(ifp);
			break;
		}
		fails++;
		CHECK_EQ(M_MLX5EN->ks_inuse, 0);
		CHECK_EQ(num_snd_tags(), 0);
	}
	/* priv, channels, 2 rings, workers, 2 x (channels + 2 rings) */
	CHECK_EQ(fails, 11);
	CHECK_EQ(M_MLX5EN->ks_inuse, 0);
	t_world_end();
}

static void
test_bad_params_rejected(void)
{
	struct mlx5e_params p;

	t_world_begin();
	CHECK(mlx5e_attach(0, NULL) == NULL);
	p = t_params;
	p.n_workers = 0;
	CHECK(mlx5e_attach(0, &p) == NULL);
	p = t_params;
	p.sq_size = MLX5E_MAX_SQ_SIZE + 1;
	CHECK(mlx5e_attach(0, &p) == NULL);
	p = t_params;
	p.n_channels = -2;
	CHECK(mlx5e_attach(0, &p) == NULL);
	CHECK_EQ(M_MLX5EN->ks_inuse, 0);
	t_world_end();
}

/* Teardown through the world: quiesce finishes the detach. */
static void
test_world_teardown_finishes_detach(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *rl;

	t_world_begin();
	ifp = t_attach(0, NULL);
	world_add_ifnet(ifp, mlx5e_detach);
	rl = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 1, 1000000, NULL);
	t_run_workers(ifp);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(rl, 1)), 0);
	m_snd_tag_rele(rl);		/* the packet still holds it */
	t_world_end();			/* completes, destroys, detaches */
	CHECK_EQ(M_MLX5EN->ks_inuse, 0);
}

/*
 * End to end: paced and unlimited TCP flows through sockets; the
 * device is detached under them, waits (no hang is reported while the
 * sockets hold their tags), and finishes once they close.
 */

static void
test_detach_under_open_sockets(void)
{
	struct ifnet *ifp;
	struct socket *paced, *unl;
	struct m_snd_tag *rl, *ul;
	uint64_t base;

	t_world_begin();
	base = num_snd_tags();
	ifp = t_attach(0, NULL);
	CHECK_EQ(rt_add(AF_INET, &net4, 24, ifp), 0);
	paced = t_tcp_socket(NULL, 1000000);
	unl = t_tcp_socket(NULL, -1U);
	CHECK_EQ(sosend(paced, 3000, 0), 0);
	CHECK_EQ(sosend(unl, 3000, 0), 0);
	rl = ((struct inpcb *)paced->so_pcb)->inp_snd_tag;
	ul = ((struct inpcb *)unl->so_pcb)->inp_snd_tag;
	CHECK(rl != NULL && rl->sw == &mlx5e_rl_snd_tag_sw);
	CHECK(ul != NULL && ul->sw == &mlx5e_ul_snd_tag_sw);
	CHECK(ul == &t_priv(ifp)->channels[0].tag ||
	    ul == &t_priv(ifp)->channels[1].tag);
	CHECK_EQ(num_snd_tags(), base + 2 + 1);	/* shared ul: no new tag */
	CHECK(mlx5e_tx_inflight(ifp) > 0);

	mlx5e_detach(ifp);
	world_quiesce();			/* waits; not a hang */
	CHECK_EQ(mlx5e_tx_inflight(ifp), 0);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 1);
	CHECK_EQ(ifnet_live_count(), 1);

	CHECK_EQ(soclose(paced), 0);
	world_quiesce();
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 0);
	CHECK_EQ(ifnet_live_count(), 1);	/* the unlimited flow */

	CHECK_EQ(soclose(unl), 0);
	world_quiesce();
	CHECK_EQ(ifnet_live_count(), 0);
	CHECK_EQ(num_snd_tags(), base);
	CHECK_EQ(M_MLX5EN->ks_inuse, 0);
	t_world_end();
}

/*
 * Oracles.
 */
static void
broken_tag_of_other_ifnet(void *arg)
{
	struct ifnet *a, *b;
	struct m_snd_tag *mst;

	t_world_begin();
	a = t_attach(0, NULL);
	b = t_attach(1, NULL);
	mst = t_alloc_rate(a, IF_SND_TAG_TYPE_UNLIMITED, 0, 0, NULL);
	(void)b->if_transmit(b, t_pkt(mst, 0));
}

static void
broken_double_free(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_attach(0, NULL);
	mst = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	m_snd_tag_rele(mst);
	mst->sw->snd_tag_free(mst);	/* bypassing the refcount */
}

/* A channel whose last reference vanished without a free: a hang. */
static void
broken_lost_reference_hangs_detach(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_attach(0, NULL);
	mst = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	__atomic_store_n(&mst->refcount, 0, __ATOMIC_RELAXED);
	mlx5e_detach(ifp);
	world_quiesce();
}

static void
broken_destroy_with_packets(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_attach(0, NULL);
	mst = t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, 1000000, NULL);
	t_run_workers(ifp);
	CHECK_EQ(ifp->if_transmit(ifp, t_pkt(mst, 0)), 0);
	/* Free it while a queued packet still holds a reference. */
	mst->sw->snd_tag_free(mst);
	t_run_workers(ifp);
}

static void
test_oracles(void)
{
	CHECK_PANICS(broken_tag_of_other_ifnet, NULL,
	    "tag ifp mismatch: mce1 got a tag of mce0");
	CHECK_PANICS(broken_double_free, NULL,
	    "mlx5: free of a channel in state 2");
	CHECK_PANICS(broken_lost_reference_hangs_detach, NULL,
	    "quiesce: hang: mlx5");
	CHECK_PANICS(broken_destroy_with_packets, NULL,
	    "mlx5: rate-limit queue destroyed with 1 packets");
}

int
main(void)
{
	RUN(test_detach_waits_for_every_channel);
	RUN(test_no_alloc_after_gone);
	RUN(test_unlimited_tag_shared_and_initialised_once);
	RUN(test_unlimited_query_and_modify);
	RUN(test_queue_fallback_when_not_running);
	RUN(test_queue_full);
	RUN(test_rl_channels_enomem_and_reuse);
	RUN(test_rl_modify_and_query);
	RUN(test_no_packet_pacing);
	RUN(test_free_in_epoch_never_sleeps);
	RUN(test_attach_fault_injection);
	RUN(test_bad_params_rejected);
	RUN(test_world_teardown_finishes_detach);
	RUN(test_detach_under_open_sockets);
	RUN(test_oracles);
	return (t_done());
}
