/*
 * Model of sys/dev/mlx5/mlx5_en/mlx5_en_rl.c: rate-limit send tags on
 * preallocated channels, handed out from per-worker free lists and
 * set up and torn down by the worker threads.
 *
 * A channel's embedded tag is only valid while the channel is in use:
 * m_snd_tag_init sets its ifp at alloc, and the worker poisons it when
 * the channel goes back on the free list.  Code that needs the ifnet
 * takes it from the softc.
 */
#include "shim/canary.h"
#include "dev/mlx5/mlx5_en/en.h"

static int	mlx5e_rl_snd_tag_modify(struct m_snd_tag *,
		    union if_snd_tag_modify_params *);
static int	mlx5e_rl_snd_tag_query(struct m_snd_tag *,
		    union if_snd_tag_query_params *);
static void	mlx5e_rl_snd_tag_free(struct m_snd_tag *);

const struct if_snd_tag_sw mlx5e_rl_snd_tag_sw = {
	.snd_tag_modify = mlx5e_rl_snd_tag_modify,
	.snd_tag_query = mlx5e_rl_snd_tag_query,
	.snd_tag_free = mlx5e_rl_snd_tag_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static struct mlx5e_rl_channel *
mst_to_rl(struct m_snd_tag *mst)
{
	return ((struct mlx5e_rl_channel *)mst);
}

/* Allocation only (M_NOWAIT); nothing to undo but memory. */
int
mlx5e_rl_init(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	int i, j;

	priv->rl_workers = malloc(sizeof(*priv->rl_workers) *
	    priv->params.n_workers, M_MLX5EN, M_NOWAIT | M_ZERO);
	if (priv->rl_workers == NULL)
		return (ENOMEM);
	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		rlw->priv = priv;
		rlw->ix = i;
		rlw->channels = malloc(sizeof(*rlw->channels) *
		    priv->params.channels_per_worker, M_MLX5EN,
		    M_NOWAIT | M_ZERO);
		if (rlw->channels == NULL)
			return (ENOMEM);
		for (j = 0; j < priv->params.channels_per_worker; j++) {
			rlw->channels[j].worker = rlw;
			if (mlx5e_sq_alloc(&rlw->channels[j].sq,
			    priv->params.sq_size) != 0)
				return (ENOMEM);
		}
	}
	return (0);
}

/* Locks and free lists, once every allocation succeeded. */
void
mlx5e_rl_start(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	struct mlx5e_rl_channel *ch;
	int i, j;

	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		mtx_init(&rlw->mtx, "mlx5e rl worker", NULL, MTX_DEF);
		rlw->process_head = NULL;
		rlw->process_tailp = &rlw->process_head;
		/* Lowest index first off the free list. */
		for (j = priv->params.channels_per_worker - 1; j >= 0; j--) {
			ch = &rlw->channels[j];
			mlx5e_sq_init(&ch->sq, "mlx5e rl sq", false);
			ch->state = MLX5E_RL_ST_FREE;
			ch->tag.ifp = NULL;
			ch->next = rlw->index_list;
			rlw->index_list = ch;
		}
	}
}

/*
 * Free everything mlx5e_rl_init allocated; after mlx5e_rl_start only
 * when every channel is back on its free list.
 */
void
mlx5e_rl_cleanup(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	struct mlx5e_rl_channel *ch;
	bool started = priv->rl_workers != NULL &&
	    priv->rl_workers[0].process_tailp != NULL;
	int i, j;

	if (priv->rl_workers == NULL)
		return;
	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		if (rlw->channels == NULL)
			continue;
		for (j = 0; j < priv->params.channels_per_worker; j++) {
			ch = &rlw->channels[j];
			if (started) {
				KASSERT(ch->state == MLX5E_RL_ST_FREE,
				    ("mlx5: rate-limit channel %d.%d in state "
				    "%d at cleanup", i, j, ch->state));
				mlx5e_sq_destroy(&ch->sq);
			} else
				free(ch->sq.ring, M_MLX5EN);
		}
		if (started) {
			KASSERT(rlw->nprocess == 0 && rlw->active == 0,
			    ("mlx5: worker %d busy at cleanup (%d queued, "
			    "%d active)", i, rlw->nprocess, rlw->active));
			mtx_destroy(&rlw->mtx);
		}
		free(rlw->channels, M_MLX5EN);
	}
	free(priv->rl_workers, M_MLX5EN);
	priv->rl_workers = NULL;
}

/* Queue the channel for its worker (rate change or DESTROY). */
static void
mlx5e_rl_queue_locked(struct mlx5e_rl_worker *rlw,
    struct mlx5e_rl_channel *ch)
{
	mtx_assert(&rlw->mtx, MA_OWNED);
	if (ch->queued)
		return;
	ch->queued = true;
	ch->next = NULL;
	*rlw->process_tailp = ch;
	rlw->process_tailp = &ch->next;
	rlw->nprocess++;
}

int
mlx5e_rl_snd_tag_alloc(struct ifnet *ifp,
    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt)
{
	struct mlx5e_priv *priv = ifp->if_softc;
	struct mlx5e_rl_worker *rlw;
	struct mlx5e_rl_channel *ch;
	bool gone;

	mtx_lock(&priv->lock);
	gone = priv->gone;
	mtx_unlock(&priv->lock);
	if (!priv->params.packet_pacing || gone)
		return (EOPNOTSUPP);

	/* Spread flows over the workers by flowid. */
	rlw = &priv->rl_workers[params->hdr.flowid %
	    (uint32_t)priv->params.n_workers];

	mtx_lock(&rlw->mtx);
	ch = rlw->index_list;
	if (ch == NULL) {
		mtx_unlock(&rlw->mtx);
		return (ENOMEM);
	}
	rlw->index_list = ch->next;
	ch->next = NULL;
	KASSERT(ch->state == MLX5E_RL_ST_FREE && !ch->queued,
	    ("mlx5: free list holds a channel in state %d", ch->state));
	KASSERT(ch->tag.ifp == NULL,
	    ("mlx5: free channel's tag still names %s",
	    ch->tag.ifp->if_xname));
	ch->state = MLX5E_RL_ST_USED;
	rlw->active++;
	ch->new_rate = params->rate_limit.max_rate;
	mlx5e_rl_queue_locked(rlw, ch);
	mtx_unlock(&rlw->mtx);

	m_snd_tag_init(&ch->tag, ifp, &mlx5e_rl_snd_tag_sw);
	*ppmt = &ch->tag;
	return (0);
}

static int
mlx5e_rl_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	struct mlx5e_rl_channel *ch = mst_to_rl(mst);
	struct mlx5e_rl_worker *rlw = ch->worker;

	mtx_lock(&rlw->mtx);
	KASSERT(ch->state == MLX5E_RL_ST_USED,
	    ("mlx5: modify of a channel in state %d", ch->state));
	ch->new_rate = params->rate_limit.max_rate;
	mlx5e_rl_queue_locked(rlw, ch);
	mtx_unlock(&rlw->mtx);
	return (0);
}

static int
mlx5e_rl_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct mlx5e_rl_channel *ch = mst_to_rl(mst);
	struct mlx5e_rl_worker *rlw = ch->worker;
	int count;

	mtx_lock(&rlw->mtx);
	params->rate_limit.max_rate = ch->init_rate;
	mtx_unlock(&rlw->mtx);
	count = mlx5e_sq_count(&ch->sq);
	params->rate_limit.queue_level = (uint32_t)
	    ((uint64_t)count * 65535 / (uint64_t)ch->sq.size);
	return (0);
}

/*
 * The last reference is gone.  Never sleeps: the worker tears the
 * channel down and puts it back on the free list.
 */
static void
mlx5e_rl_snd_tag_free(struct m_snd_tag *mst)
{
	struct mlx5e_rl_channel *ch = mst_to_rl(mst);
	struct mlx5e_rl_worker *rlw = ch->worker;

	mtx_lock(&rlw->mtx);
	KASSERT(ch->state == MLX5E_RL_ST_USED,
	    ("mlx5: free of a channel in state %d", ch->state));
	ch->state = MLX5E_RL_ST_DESTROY;
	mlx5e_rl_queue_locked(rlw, ch);
	mtx_unlock(&rlw->mtx);
}

/* Open or re-rate the channel's send queue. */
static void
mlx5e_rl_modify_sq(struct mlx5e_rl_channel *ch, uint64_t rate)
{
	mtx_lock(&ch->sq.lock);
	ch->sq.rate = rate;
	ch->sq.running = true;
	mtx_unlock(&ch->sq.lock);
}

/* Close the queue; returns the packets it completed (for stats). */
static uint64_t
mlx5e_rl_close_sq(struct mlx5e_rl_channel *ch)
{
	uint64_t done;

	mtx_lock(&ch->sq.lock);
	/* Every queued packet held a tag reference: none can be left. */
	KASSERT(ch->sq.count == 0,
	    ("mlx5: rate-limit queue destroyed with %d packets",
	    ch->sq.count));
	ch->sq.running = false;
	ch->sq.rate = 0;
	done = ch->sq.completed;
	ch->sq.completed = 0;
	mtx_unlock(&ch->sq.lock);
	return (done);
}

/* One round of a worker: the items queued when it starts. */
int
mlx5e_rl_worker_process(struct mlx5e_rl_worker *rlw)
{
	struct mlx5e_priv *priv __unused = rlw->priv;
	struct mlx5e_rl_channel *ch;
	struct ifnet *ifp;
	uint64_t rate, done;
	int budget, n = 0, state;

	mtx_lock(&rlw->mtx);
	for (budget = rlw->nprocess; budget > 0; budget--) {
		ch = rlw->process_head;
		if (ch == NULL)
			break;
		rlw->process_head = ch->next;
		if (rlw->process_head == NULL)
			rlw->process_tailp = &rlw->process_head;
		ch->next = NULL;
		ch->queued = false;
		rlw->nprocess--;
		state = ch->state;
		rate = ch->new_rate;
		mtx_unlock(&rlw->mtx);

		done = 0;
		if (state == MLX5E_RL_ST_USED)
			mlx5e_rl_modify_sq(ch, rate);
		else {
			KASSERT(state == MLX5E_RL_ST_DESTROY,
			    ("mlx5: worker got a channel in state %d",
			    state));
			done = mlx5e_rl_close_sq(ch);
		}

		mtx_lock(&rlw->mtx);
		if (state == MLX5E_RL_ST_USED) {
			ch->init_rate = rate;
		} else {
			ch->state = MLX5E_RL_ST_FREE;
			ch->init_rate = ch->new_rate = 0;
			/* The tag is unused from here: poison its ifp. */
			ch->tag.ifp = NULL;
			ch->next = rlw->index_list;
			rlw->index_list = ch;
			KASSERT(rlw->active > 0,
			    ("mlx5: worker %d connection count underflow",
			    rlw->ix));
			rlw->active--;
			/* Fold the channel's statistics into the ifnet. */
#ifdef SNDTAG_VARIANT_MLX5_UNUSED_IFP
			CANARY_REACHED(CANARY_MLX5_UNUSED_IFP);
			ifp = ch->tag.ifp;	/* the tag is not in use */
			if (ifp != priv->ifp)
				CANARY_TRIGGERED(CANARY_MLX5_UNUSED_IFP);
#else
			ifp = priv->ifp;
#endif
			mtx_unlock(&rlw->mtx);
			if_inc_counter(ifp, IFCOUNTER_OPACKETS, (int64_t)done);
			mtx_lock(&rlw->mtx);
		}
		n++;
	}
	mtx_unlock(&rlw->mtx);
	return (n);
}

int
mlx5e_rl_pending(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	int i, n = 0;

	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		mtx_lock(&rlw->mtx);
		n += rlw->nprocess;
		mtx_unlock(&rlw->mtx);
	}
	return (n);
}

int
mlx5e_rl_active(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	int i, n = 0;

	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		mtx_lock(&rlw->mtx);
		n += rlw->active;
		mtx_unlock(&rlw->mtx);
	}
	return (n);
}

/*
 * Channels that keep a detach waiting although nothing can return
 * them: in use, not queued for the worker, and with no reference left
 * for anyone to drop.
 */
int
mlx5e_rl_stuck(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	struct mlx5e_rl_channel *ch;
	int i, j, n = 0;

	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		mtx_lock(&rlw->mtx);
		for (j = 0; j < priv->params.channels_per_worker; j++) {
			ch = &rlw->channels[j];
			if (ch->state != MLX5E_RL_ST_FREE && !ch->queued &&
			    __atomic_load_n(&ch->tag.refcount,
			    __ATOMIC_RELAXED) == 0) {
				fprintf(stderr, "mlx5: %s: rate-limit channel "
				    "%d.%d in state %d with no reference and "
				    "no work queued\n", priv->name, i, j,
				    ch->state);
				n++;
			}
		}
		mtx_unlock(&rlw->mtx);
	}
	return (n);
}
