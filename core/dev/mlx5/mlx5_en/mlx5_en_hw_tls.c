/*
 * Model of sys/dev/mlx5/mlx5_en/mlx5_en_hw_tls.c: kernel TLS send tags.
 *
 * A TLS tag owns one reference on a nested tag allocated on the same
 * ifnet: a rate-limit tag (IF_SND_TAG_TYPE_TLS_RATE_LIMIT) or the
 * channel's shared unlimited tag (IF_SND_TAG_TYPE_TLS).  Packets go out
 * on the nested tag's queue.  The TLS tag's free method lets go of the
 * nested tag with m_snd_tag_rele, never by calling the nested tag's
 * free method directly: only the last release may end a tag, so that
 * m_snd_tag_destroy (if_rele, num_snd_tags) runs for it too.  The TIS
 * context (num_resources) comes back when the TLS work queue has torn
 * the tag down; detach waits for that.
 */
#include "dev/mlx5/mlx5_en/en.h"
#include "sys/ktls.h"

static int	mlx5e_tls_rl_snd_tag_modify(struct m_snd_tag *,
		    union if_snd_tag_modify_params *);
static int	mlx5e_tls_snd_tag_query(struct m_snd_tag *,
		    union if_snd_tag_query_params *);
static void	mlx5e_tls_snd_tag_free(struct m_snd_tag *);

static const struct if_snd_tag_sw mlx5e_tls_snd_tag_sw = {
	.snd_tag_query = mlx5e_tls_snd_tag_query,
	.snd_tag_free = mlx5e_tls_snd_tag_free,
	.type = IF_SND_TAG_TYPE_TLS,
};

static const struct if_snd_tag_sw mlx5e_tls_rl_snd_tag_sw = {
	.snd_tag_modify = mlx5e_tls_rl_snd_tag_modify,
	.snd_tag_query = mlx5e_tls_snd_tag_query,
	.snd_tag_free = mlx5e_tls_snd_tag_free,
	.type = IF_SND_TAG_TYPE_TLS_RATE_LIMIT,
};

static struct mlx5e_tls_tag *
mst_to_tls(struct m_snd_tag *mst)
{
	return ((struct mlx5e_tls_tag *)mst);
}

static bool
mlx5e_is_tls_tag(const struct m_snd_tag *mst)
{
	return (mst->sw == &mlx5e_tls_snd_tag_sw ||
	    mst->sw == &mlx5e_tls_rl_snd_tag_sw);
}

void
mlx5e_tls_init(struct mlx5e_priv *priv)
{
	mtx_init(&priv->tls.mtx, "mlx5e tls", NULL, MTX_DEF);
	priv->tls.max_resources = MLX5E_TLS_MAX_RESOURCES;
	priv->tls.init = true;
}

void
mlx5e_tls_cleanup(struct mlx5e_priv *priv)
{
	if (!priv->tls.init)
		return;
	KASSERT(priv->tls.num_resources == 0 && priv->tls.release_head == NULL,
	    ("mlx5: %s: TLS cleanup with %u tags", priv->name,
	    priv->tls.num_resources));
	mtx_destroy(&priv->tls.mtx);
	priv->tls.init = false;
}

static void
mlx5e_tls_put_resource(struct mlx5e_priv *priv)
{
	mtx_lock(&priv->tls.mtx);
	KASSERT(priv->tls.num_resources > 0,
	    ("mlx5: %s: TLS resource count underflow", priv->name));
	priv->tls.num_resources--;
	mtx_unlock(&priv->tls.mtx);
}

int
mlx5e_tls_snd_tag_alloc(struct ifnet *ifp,
    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt)
{
	union if_snd_tag_alloc_params rl_params;
	const struct if_snd_tag_sw *snd_tag_sw;
	struct mlx5e_priv *priv = ifp->if_softc;
	const struct ktls_session *tls;
	struct mlx5e_tls_tag *ptag;
	bool gone;
	int error;

	mtx_lock(&priv->lock);
	gone = priv->gone;
	mtx_unlock(&priv->lock);
	if (gone)
		return (EOPNOTSUPP);

	/* TLS 1.2 and 1.3 only (the TIS supports nothing else). */
	tls = params->hdr.type == IF_SND_TAG_TYPE_TLS ? params->tls.tls :
	    params->tls_rate_limit.tls;
	if (tls == NULL || tls->tls_vmajor != TLS_MAJOR_VER_ONE ||
	    (tls->tls_vminor != TLS_MINOR_VER_TWO &&
	    tls->tls_vminor != TLS_MINOR_VER_THREE))
		return (EPROTONOSUPPORT);

	ptag = malloc(sizeof(*ptag), M_MLX5EN, M_NOWAIT | M_ZERO);
	if (ptag == NULL)
		return (ENOMEM);
	ptag->priv = priv;

	mtx_lock(&priv->tls.mtx);
	if (priv->tls.num_resources >= priv->tls.max_resources) {
		mtx_unlock(&priv->tls.mtx);
		free(ptag, M_MLX5EN);
		return (ENOMEM);
	}
	priv->tls.num_resources++;
	mtx_unlock(&priv->tls.mtx);

	memset(&rl_params, 0, sizeof(rl_params));
	rl_params.hdr = params->hdr;
	if (params->hdr.type == IF_SND_TAG_TYPE_TLS_RATE_LIMIT) {
		rl_params.hdr.type = IF_SND_TAG_TYPE_RATE_LIMIT;
		rl_params.rate_limit.max_rate =
		    params->tls_rate_limit.max_rate;
		rl_params.rate_limit.flags = M_NOWAIT;
		snd_tag_sw = &mlx5e_tls_rl_snd_tag_sw;
	} else {
		rl_params.hdr.type = IF_SND_TAG_TYPE_UNLIMITED;
		snd_tag_sw = &mlx5e_tls_snd_tag_sw;
	}

	/* The nested tag: its first reference is the TLS tag's. */
	error = m_snd_tag_alloc(ifp, &rl_params, &ptag->rl_tag);
	if (error != 0) {
		mlx5e_tls_put_resource(priv);
		free(ptag, M_MLX5EN);
		return (error);
	}

	m_snd_tag_init(&ptag->tag, ifp, snd_tag_sw);
	/* FreeBSD: queue_work + flush_work set the TIS up synchronously. */
	ptag->state = MLX5E_TLS_ST_SETUP;
	*ppmt = &ptag->tag;
	return (0);
}

static int
mlx5e_tls_rl_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	union if_snd_tag_modify_params rl_params;
	struct m_snd_tag *rl = mst_to_tls(mst)->rl_tag;

	memset(&rl_params, 0, sizeof(rl_params));
	rl_params.rate_limit.max_rate = params->tls_rate_limit.max_rate;
	rl_params.rate_limit.flags = params->tls_rate_limit.flags;
	if (rl->sw->snd_tag_modify == NULL)
		return (EOPNOTSUPP);
	return (rl->sw->snd_tag_modify(rl, &rl_params));
}

static int
mlx5e_tls_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct m_snd_tag *rl = mst_to_tls(mst)->rl_tag;

	if (rl->sw->snd_tag_query == NULL)
		return (EOPNOTSUPP);
	return (rl->sw->snd_tag_query(rl, params));
}

/*
 * From m_snd_tag_destroy: never sleeps.  The nested tag goes through
 * its own last release; the rest waits for the TLS work queue.
 */
static void
mlx5e_tls_snd_tag_free(struct m_snd_tag *mst)
{
	struct mlx5e_tls_tag *ptag = mst_to_tls(mst);
	struct mlx5e_priv *priv = ptag->priv;
	struct m_snd_tag *rl;

	KASSERT(ptag->state != MLX5E_TLS_ST_RELEASE,
	    ("mlx5: %s: TLS tag %p freed twice", priv->name, (void *)ptag));
	rl = ptag->rl_tag;
	ptag->rl_tag = NULL;
	m_snd_tag_rele(rl);

	mtx_lock(&priv->tls.mtx);
	ptag->state = MLX5E_TLS_ST_RELEASE;
	ptag->next = priv->tls.release_head;
	priv->tls.release_head = ptag;
	priv->tls.nrelease++;
	mtx_unlock(&priv->tls.mtx);
}

struct m_snd_tag *
mlx5e_tls_queue_tag(struct m_snd_tag *mst)
{
	struct mlx5e_tls_tag *ptag;

	if (!mlx5e_is_tls_tag(mst))
		return (mst);
	ptag = mst_to_tls(mst);
	KASSERT(ptag->rl_tag != NULL && ptag->state != MLX5E_TLS_ST_RELEASE,
	    ("snd_tag refcount: mlx5 TLS tag %p used after its free",
	    (void *)ptag));
	return (ptag->rl_tag);
}

/* The TLS work queue: tear released tags down, return their TIS. */
int
mlx5e_tls_process(struct mlx5e_priv *priv)
{
	struct mlx5e_tls_tag *list, *ptag;
	int n = 0;

	if (!priv->tls.init)
		return (0);
	mtx_lock(&priv->tls.mtx);
	list = priv->tls.release_head;
	priv->tls.release_head = NULL;
	priv->tls.nrelease = 0;
	mtx_unlock(&priv->tls.mtx);
	while ((ptag = list) != NULL) {
		list = ptag->next;
		free(ptag, M_MLX5EN);
		mlx5e_tls_put_resource(priv);
		n++;
	}
	return (n);
}

int
mlx5e_tls_pending(struct mlx5e_priv *priv)
{
	int n;

	if (!priv->tls.init)
		return (0);
	mtx_lock(&priv->tls.mtx);
	n = priv->tls.nrelease;
	mtx_unlock(&priv->tls.mtx);
	return (n);
}

u_int
mlx5e_tls_active(struct mlx5e_priv *priv)
{
	u_int n;

	if (!priv->tls.init)
		return (0);
	mtx_lock(&priv->tls.mtx);
	n = priv->tls.num_resources;
	mtx_unlock(&priv->tls.mtx);
	return (n);
}
