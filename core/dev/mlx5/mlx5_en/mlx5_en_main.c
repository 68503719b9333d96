/*
 * Model of the parts of sys/dev/mlx5/mlx5_en/mlx5_en_main.c the send-tag
 * stack needs: attach (tx channels, each with its shared unlimited tag),
 * unlimited tag alloc/query/free, the tag alloc dispatch, detach with
 * its wait for every tag, and the harness actor that runs the workers,
 * the tx completions and the end of a detach.
 */
#include <pthread.h>

#include "shim/refcount.h"
#include "harness/world.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "net/if_vlan_var.h"

MALLOC_DEFINE(M_MLX5EN, "MLX5EN", "MLX5 Ethernet");

static int	mlx5e_ul_snd_tag_modify(struct m_snd_tag *,
		    union if_snd_tag_modify_params *);
static int	mlx5e_ul_snd_tag_query(struct m_snd_tag *,
		    union if_snd_tag_query_params *);
static void	mlx5e_ul_snd_tag_free(struct m_snd_tag *);

const struct if_snd_tag_sw mlx5e_ul_snd_tag_sw = {
	.snd_tag_modify = mlx5e_ul_snd_tag_modify,
	.snd_tag_query = mlx5e_ul_snd_tag_query,
	.snd_tag_free = mlx5e_ul_snd_tag_free,
	.type = IF_SND_TAG_TYPE_UNLIMITED,
};

/*
 * The actor's list of devices (harness bookkeeping, not the model): a
 * plain pthread mutex held only for list updates.  A device is pinned
 * while someone works on it; finishing a detach unlinks it and the last
 * unpin frees it.
 */
#define	MLX5E_MAX_DEVICES	64
static pthread_mutex_t mlx5e_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mlx5e_priv *mlx5e_list;
static int mlx5e_ndevices;

static struct harness_actor mlx5e_actor;

static struct mlx5e_priv *mlx5e_pin(struct ifnet *ifp);
static void	mlx5e_unpin(struct mlx5e_priv *priv);

static struct mlx5e_channel *
mst_to_ch(struct m_snd_tag *mst)
{
	return ((struct mlx5e_channel *)mst);
}

int
mlx5e_ul_snd_tag_alloc(struct ifnet *ifp,
    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt)
{
	struct mlx5e_priv *priv = ifp->if_softc;
	struct mlx5e_channel *ch;
	int rc = 0;

	ch = &priv->channels[params->hdr.flowid %
	    (uint32_t)priv->params.n_channels];
	/*
	 * The shared tag was initialised with the channel; a flow only
	 * takes a reference.  Under priv->lock so a detach cannot drop
	 * the channel's own reference in between.
	 */
	mtx_lock(&priv->lock);
	if (priv->gone)
		rc = EOPNOTSUPP;
	else {
		mtx_lock(&ch->sq.lock);
		if (!ch->sq.running)
			rc = ENXIO;
		mtx_unlock(&ch->sq.lock);
	}
	if (rc == 0)
		*ppmt = m_snd_tag_ref(&ch->tag);
	mtx_unlock(&priv->lock);
	return (rc);
}

static int
mlx5e_ul_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	/* An unlimited tag has no rate to change. */
	return (EOPNOTSUPP);
}

static int
mlx5e_ul_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct mlx5e_channel *ch = mst_to_ch(mst);

	params->unlimited.max_rate = -1ULL;
	params->unlimited.queue_level = (uint32_t)
	    ((uint64_t)mlx5e_sq_count(&ch->sq) * 65535 /
	    (uint64_t)ch->sq.size);
	return (0);
}

/*
 * The last reference on a channel's shared tag is gone: only possible
 * after the channel dropped its own at detach.  Marks it done; the
 * detach wait sees it.  Never sleeps.
 */
static void
mlx5e_ul_snd_tag_free(struct m_snd_tag *mst)
{
	struct mlx5e_channel *ch = mst_to_ch(mst);
	struct mlx5e_priv *priv = ch->priv;

	mtx_lock(&priv->lock);
	KASSERT(priv->gone,
	    ("mlx5: unlimited tag of channel %d freed while the channel "
	    "is open", ch->ix));
	KASSERT(!ch->tag_done,
	    ("mlx5: unlimited tag of channel %d freed twice", ch->ix));
	ch->tag_done = true;
	mtx_unlock(&priv->lock);
}

/*
 * The caller holds a reference on the ifnet (lagg takes one on its
 * port; a sender has its route's), not on the driver state, which a
 * detach finishing on another thread frees.  FreeBSD's
 * mlx5e_destroy_ifp sleeps a second after setting "gone" for callers to
 * leave; the model pins the state for the call instead, as every other
 * entry from outside the driver does.
 */
static int
mlx5e_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **ppmt)
{
	struct mlx5e_priv *priv;
	int error;

	priv = mlx5e_pin(ifp);
	if (priv == NULL)
		return (EOPNOTSUPP);	/* detached: its state is gone */
	switch (params->hdr.type) {
	case IF_SND_TAG_TYPE_RATE_LIMIT:
		error = mlx5e_rl_snd_tag_alloc(ifp, params, ppmt);
		break;
	case IF_SND_TAG_TYPE_UNLIMITED:
		error = mlx5e_ul_snd_tag_alloc(ifp, params, ppmt);
		break;
	case IF_SND_TAG_TYPE_TLS:
	case IF_SND_TAG_TYPE_TLS_RATE_LIMIT:
		error = mlx5e_tls_snd_tag_alloc(ifp, params, ppmt);
		break;
	default:
		error = EOPNOTSUPP;
		break;
	}
	mlx5e_unpin(priv);
	return (error);
}

/* if_transmit: pinned like the tag allocation above, for the same reason. */
static int
mlx5e_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct mlx5e_priv *priv;
	int rc;

	priv = mlx5e_pin(ifp);
	if (priv == NULL) {
		m_freem(m);
		return (ENXIO);		/* detached: its state is gone */
	}
	rc = mlx5e_xmit(ifp, m);
	mlx5e_unpin(priv);
	return (rc);
}

static void
mlx5e_qflush(struct ifnet *ifp)
{
}

/*
 * mlx5e_ioctl, SIOCSIFCAP: the rate-limit bits (plain and TLS) flip in
 * if_capenable; rate-limit channels in use are left running.  The vlans
 * on the port follow.
 */
static int
mlx5e_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;
	int bits, mask;

	if (cmd != SIOCSIFCAP)
		return (EINVAL);
	mask = ifr->ifr_reqcap ^ if_getcapenable(ifp);
	bits = mask & (IFCAP_TXRTLMT | IFCAP_TXTLS_RTLMT) &
	    if_getcapabilities(ifp);
	if (bits != 0)
		if_setcapenablebit(ifp, ifr->ifr_reqcap & bits,
		    ~ifr->ifr_reqcap & bits);
	VLAN_CAPABILITIES(ifp);
	return (0);
}

static bool
mlx5e_params_ok(const struct mlx5e_params *p)
{
	return (p != NULL &&
	    p->n_workers >= 1 && p->n_workers <= MLX5E_MAX_WORKERS &&
	    p->channels_per_worker >= 1 &&
	    p->channels_per_worker <= MLX5E_MAX_RL_PER_WORKER &&
	    p->n_channels >= 1 && p->n_channels <= MLX5E_MAX_CHANNELS &&
	    p->sq_size >= 1 && p->sq_size <= MLX5E_MAX_SQ_SIZE);
}

/* Free what mlx5e_attach allocated (before any lock or tag exists). */
static void
mlx5e_free_unstarted(struct mlx5e_priv *priv)
{
	int i;

	mlx5e_rl_cleanup(priv);
	if (priv->channels != NULL) {
		for (i = 0; i < priv->params.n_channels; i++)
			free(priv->channels[i].sq.ring, M_MLX5EN);
		free(priv->channels, M_MLX5EN);
	}
	free(priv, M_MLX5EN);
}

struct ifnet *
mlx5e_attach(int unit, const struct mlx5e_params *p)
{
	struct mlx5e_priv *priv;
	struct mlx5e_channel *ch;
	struct ifnet *ifp;
	int i, n;

	if (!mlx5e_params_ok(p))
		return (NULL);
	pthread_mutex_lock(&mlx5e_list_lock);
	n = mlx5e_ndevices;
	pthread_mutex_unlock(&mlx5e_list_lock);
	if (n >= MLX5E_MAX_DEVICES)
		return (NULL);

	/* Every allocation first, so a failure has only memory to undo. */
	priv = malloc(sizeof(*priv), M_MLX5EN, M_NOWAIT | M_ZERO);
	if (priv == NULL)
		return (NULL);
	priv->params = *p;
	priv->channels = malloc(sizeof(*priv->channels) * p->n_channels,
	    M_MLX5EN, M_NOWAIT | M_ZERO);
	if (priv->channels == NULL)
		goto fail;
	for (i = 0; i < p->n_channels; i++)
		if (mlx5e_sq_alloc(&priv->channels[i].sq, p->sq_size) != 0)
			goto fail;
	if (mlx5e_rl_init(priv) != 0)
		goto fail;
	ifp = if_alloc(IFT_ETHER);
	if (ifp == NULL)
		goto fail;

	if_initname(ifp, "mce", unit);
	snprintf(priv->name, sizeof(priv->name), "%s", ifp->if_xname);
	priv->ifp = ifp;
	mtx_init(&priv->lock, "mlx5e priv", NULL, MTX_DEF);
	mlx5e_rl_start(priv);
	mlx5e_tls_init(priv);
	ifp->if_softc = priv;
	ifp->if_output = ether_output;
	ifp->if_transmit = mlx5e_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = mlx5e_qflush;
	ifp->if_ioctl = mlx5e_ioctl;
	ifp->if_snd_tag_alloc = mlx5e_snd_tag_alloc;
	ifp->if_capabilities = IFCAP_TXRTLMT | IFCAP_TSO | IFCAP_MEXTPG |
	    IFCAP_TXTLS | (p->packet_pacing ? IFCAP_TXTLS_RTLMT : 0);
	ifp->if_capenable = ifp->if_capabilities;
	if_setflagbits(ifp, IFF_UP, 0);
	if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
	ifp->if_mtu = 1500;

	/* Channel setup: each shared unlimited tag is initialised once. */
	for (i = 0; i < p->n_channels; i++) {
		ch = &priv->channels[i];
		ch->priv = priv;
		ch->ix = i;
		mlx5e_sq_init(&ch->sq, "mlx5e sq", true);
		m_snd_tag_init(&ch->tag, ifp, &mlx5e_ul_snd_tag_sw);
	}

	if_attach(ifp);
	if_link_state_change(ifp, LINK_STATE_UP);

	pthread_mutex_lock(&mlx5e_list_lock);
	priv->next = mlx5e_list;
	mlx5e_list = priv;
	mlx5e_ndevices++;
	pthread_mutex_unlock(&mlx5e_list_lock);
	harness_actor_register(&mlx5e_actor);
	return (ifp);

fail:
	mlx5e_free_unstarted(priv);
	return (NULL);
}

/*
 * Set "gone", detach the ifnet, stop the tx channels and drop their
 * references on the shared tags.  The rest waits (a pending state the
 * actor completes) until every rate-limit channel is back on its free
 * list and every unlimited reference is gone.
 */
void
mlx5e_detach(struct ifnet *ifp)
{
	struct mlx5e_priv *priv = ifp->if_softc;
	struct mlx5e_channel *ch;
	int i;

	if (priv == NULL)
		return;
	mtx_lock(&priv->lock);
	if (priv->gone) {
		mtx_unlock(&priv->lock);
		return;
	}
	priv->gone = true;
	mtx_unlock(&priv->lock);

	if_detach(ifp);
	for (i = 0; i < priv->params.n_channels; i++) {
		ch = &priv->channels[i];
		mtx_lock(&ch->sq.lock);
		ch->sq.running = false;
		mtx_unlock(&ch->sq.lock);
	}
	/* May run the free methods right here: they never sleep. */
	for (i = 0; i < priv->params.n_channels; i++)
		m_snd_tag_rele(&priv->channels[i].tag);

	mtx_lock(&priv->lock);
	priv->detaching = true;
	mtx_unlock(&priv->lock);
}

/*
 * Can the detach wait end now?  Called by the actor, which holds one
 * pin; any other pin is a caller still inside the driver (a tag alloc
 * that got the ifnet before the detach), which FreeBSD's detach sleeps
 * for.
 */
static bool
mlx5e_detach_ready(struct mlx5e_priv *priv)
{
	int i, pins;
	bool ready;

	pthread_mutex_lock(&mlx5e_list_lock);
	pins = priv->pins;
	pthread_mutex_unlock(&mlx5e_list_lock);
	if (pins > 1)
		return (false);
	mtx_lock(&priv->lock);
	ready = priv->detaching;
	for (i = 0; ready && i < priv->params.n_channels; i++)
		ready = priv->channels[i].tag_done;
	mtx_unlock(&priv->lock);
	return (ready && mlx5e_rl_active(priv) == 0 &&
	    mlx5e_rl_pending(priv) == 0 && mlx5e_inflight(priv) == 0 &&
	    mlx5e_tls_active(priv) == 0);
}

static void
mlx5e_unlink(struct mlx5e_priv *priv, bool *freenow)
{
	struct mlx5e_priv **pp;

	pthread_mutex_lock(&mlx5e_list_lock);
	for (pp = &mlx5e_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == priv) {
			*pp = priv->next;
			mlx5e_ndevices--;
			break;
		}
	priv->free_pending = true;
	*freenow = priv->pins == 0;
	pthread_mutex_unlock(&mlx5e_list_lock);
}

/* The end of a detach: every tag is gone, free the driver state. */
static void
mlx5e_detach_finish(struct mlx5e_priv *priv)
{
	struct ifnet *ifp = priv->ifp;
	bool freenow;
	int i;

	for (i = 0; i < priv->params.n_channels; i++)
		mlx5e_sq_destroy(&priv->channels[i].sq);
	free(priv->channels, M_MLX5EN);
	priv->channels = NULL;
	mlx5e_rl_cleanup(priv);
	mlx5e_tls_cleanup(priv);
	mtx_destroy(&priv->lock);
	priv->ifp = NULL;
	ifp->if_softc = NULL;
	if_free(ifp);
	mlx5e_unlink(priv, &freenow);
	if (freenow)
		free(priv, M_MLX5EN);
}

static int
mlx5e_pin_all(struct mlx5e_priv **v)
{
	struct mlx5e_priv *priv;
	int n = 0;

	pthread_mutex_lock(&mlx5e_list_lock);
	for (priv = mlx5e_list; priv != NULL; priv = priv->next) {
		priv->pins++;
		v[n++] = priv;
	}
	pthread_mutex_unlock(&mlx5e_list_lock);
	return (n);
}

static struct mlx5e_priv *
mlx5e_pin(struct ifnet *ifp)
{
	struct mlx5e_priv *priv = ifp->if_softc;

	if (priv == NULL)
		return (NULL);
	pthread_mutex_lock(&mlx5e_list_lock);
	priv->pins++;
	pthread_mutex_unlock(&mlx5e_list_lock);
	return (priv);
}

static void
mlx5e_unpin(struct mlx5e_priv *priv)
{
	bool last;

	pthread_mutex_lock(&mlx5e_list_lock);
	last = --priv->pins == 0 && priv->free_pending;
	pthread_mutex_unlock(&mlx5e_list_lock);
	if (last)
		free(priv, M_MLX5EN);
}

int
mlx5e_rl_worker_run(struct ifnet *ifp, int worker)
{
	struct mlx5e_priv *priv;
	int n = 0;

	priv = mlx5e_pin(ifp);
	if (priv == NULL)
		return (0);
	if (!priv->free_pending && worker >= 0 &&
	    worker < priv->params.n_workers)
		n = mlx5e_rl_worker_process(&priv->rl_workers[worker]);
	mlx5e_unpin(priv);
	return (n);
}

int
mlx5e_rl_worker_pending(struct ifnet *ifp, int worker)
{
	struct mlx5e_priv *priv = ifp->if_softc;
	struct mlx5e_rl_worker *rlw;
	int n;

	if (priv == NULL || worker < 0 || worker >= priv->params.n_workers)
		return (0);
	rlw = &priv->rl_workers[worker];
	mtx_lock(&rlw->mtx);
	n = rlw->nprocess;
	mtx_unlock(&rlw->mtx);
	return (n);
}

int
mlx5e_tx_complete(struct ifnet *ifp, int n)
{
	struct mlx5e_priv *priv;
	int done = 0;

	priv = mlx5e_pin(ifp);
	if (priv == NULL)
		return (0);
	if (!priv->free_pending)
		done = mlx5e_complete_all(priv, n);
	mlx5e_unpin(priv);
	return (done);
}

int
mlx5e_tx_inflight(struct ifnet *ifp)
{
	struct mlx5e_priv *priv = ifp->if_softc;

	return (priv == NULL ? 0 : mlx5e_inflight(priv));
}

int
mlx5e_rl_channels_in_use(struct ifnet *ifp)
{
	struct mlx5e_priv *priv = ifp->if_softc;

	return (priv == NULL ? 0 : mlx5e_rl_active(priv));
}

/*
 * The actor: worker threads, tx completion interrupts, and the detach
 * that waits for every tag.
 */
static int
mlx5e_actor_pending(void)
{
	struct mlx5e_priv *v[MLX5E_MAX_DEVICES];
	int i, n, pending = 0;

	n = mlx5e_pin_all(v);
	for (i = 0; i < n; i++) {
		pending += mlx5e_rl_pending(v[i]) + mlx5e_inflight(v[i]) +
		    mlx5e_tls_pending(v[i]);
		if (mlx5e_detach_ready(v[i]))
			pending++;
		mlx5e_unpin(v[i]);
	}
	return (pending);
}

static int
mlx5e_actor_progress(void)
{
	struct mlx5e_priv *v[MLX5E_MAX_DEVICES];
	int i, j, n, done = 0;

	n = mlx5e_pin_all(v);
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i]->params.n_workers; j++)
			done += mlx5e_rl_worker_process(&v[i]->rl_workers[j]);
		done += mlx5e_complete_all(v[i], 0);
		done += mlx5e_tls_process(v[i]);
		if (mlx5e_detach_ready(v[i])) {
			mlx5e_detach_finish(v[i]);
			done++;
		}
		mlx5e_unpin(v[i]);
	}
	return (done);
}

/*
 * A detach that can never end: nothing queued for the driver, and a
 * channel or shared tag still counted although no reference is left
 * for anyone to drop.  (References still held elsewhere, e.g. by an
 * open socket, are not a hang: their holders will let go.)
 */
static int
mlx5e_actor_stuck(void)
{
	struct mlx5e_priv *v[MLX5E_MAX_DEVICES], *priv;
	int i, j, n, stuck = 0;
	bool waiting;

	n = mlx5e_pin_all(v);
	for (i = 0; i < n; i++) {
		priv = v[i];
		mtx_lock(&priv->lock);
		waiting = priv->detaching;
		mtx_unlock(&priv->lock);
		if (waiting && mlx5e_rl_pending(priv) == 0 &&
		    mlx5e_inflight(priv) == 0) {
			stuck += mlx5e_rl_stuck(priv);
			mtx_lock(&priv->lock);
			for (j = 0; j < priv->params.n_channels; j++)
				if (!priv->channels[j].tag_done &&
				    refcount_load(
				    &priv->channels[j].tag.refcount) == 0) {
					fprintf(stderr, "mlx5: %s: unlimited "
					    "tag of channel %d has no "
					    "reference but never finished\n",
					    priv->name, j);
					stuck++;
				}
			mtx_unlock(&priv->lock);
		}
		mlx5e_unpin(priv);
	}
	return (stuck);
}

static void
mlx5e_actor_ledger(struct ledger *l)
{
	struct mlx5e_priv *v[MLX5E_MAX_DEVICES], *priv;
	int i, j, n, ul, rl;

	n = mlx5e_pin_all(v);
	for (i = 0; i < n; i++) {
		priv = v[i];
		ul = 0;
		rl = mlx5e_rl_active(priv);
		mtx_lock(&priv->lock);
		for (j = 0; j < priv->params.n_channels; j++)
			if (!priv->channels[j].tag_done)
				ul++;
		if (!priv->detaching)
			ledger_fail(l, "mlx5: %s was never detached",
			    priv->name);
		else
			ledger_fail(l, "mlx5: %s: detach still waiting for "
			    "%d rate-limit channels, %d unlimited tags and %u "
			    "TLS tags", priv->name, rl, ul,
			    mlx5e_tls_active(priv));
		mtx_unlock(&priv->lock);
		mlx5e_unpin(priv);
	}
}

static struct harness_actor mlx5e_actor = {
	.name = "mlx5",
	.pending = mlx5e_actor_pending,
	.progress = mlx5e_actor_progress,
	.ledger = mlx5e_actor_ledger,
	.stuck = mlx5e_actor_stuck,
};
