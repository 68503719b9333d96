/*
 * Model of sys/dev/mlx5/mlx5_en/mlx5_en_tx.c: send queue selection
 * (from the send tag, or by flow hash) and tx completions.
 */
#include "shim/canary.h"
#include "dev/mlx5/mlx5_en/en.h"

int
mlx5e_sq_alloc(struct mlx5e_sq *sq, int size)
{
	sq->ring = malloc(sizeof(*sq->ring) * size, M_MLX5EN,
	    M_NOWAIT | M_ZERO);
	if (sq->ring == NULL)
		return (ENOMEM);
	sq->size = size;
	return (0);
}

void
mlx5e_sq_init(struct mlx5e_sq *sq, const char *name, bool running)
{
	mtx_init(&sq->lock, name, NULL, MTX_DEF);
	sq->head = sq->count = 0;
	sq->running = running;
}

void
mlx5e_sq_destroy(struct mlx5e_sq *sq)
{
	KASSERT(sq->count == 0,
	    ("mlx5: send queue destroyed with %d packets", sq->count));
	mtx_destroy(&sq->lock);
	free(sq->ring, M_MLX5EN);
	sq->ring = NULL;
}

/* ENXIO (and m untouched) when the queue is not running. */
static int
mlx5e_sq_xmit(struct mlx5e_sq *sq, struct mbuf *m)
{
	int rc = 0;

	mtx_lock(&sq->lock);
	if (!sq->running) {
		mtx_unlock(&sq->lock);
		return (ENXIO);
	}
	if (sq->count == sq->size)
		rc = ENOBUFS;
	else {
		/* The packet keeps its tag reference until completion. */
		sq->ring[(sq->head + sq->count) % sq->size] = m;
		sq->count++;
	}
	mtx_unlock(&sq->lock);
	if (rc != 0)
		m_freem(m);
	return (rc);
}

/* Normal queue selection: by flow hash, else the first channel. */
static struct mlx5e_sq *
mlx5e_select_queue(struct mlx5e_priv *priv, struct mbuf *m)
{
	u_int ch = 0;

	if (M_HASHTYPE_GET(m) != M_HASHTYPE_NONE)
		ch = m->m_pkthdr.flowid % (u_int)priv->params.n_channels;
	return (&priv->channels[ch].sq);
}

int
mlx5e_xmit(struct ifnet *ifp, struct mbuf *m)
{
	struct mlx5e_priv *priv = ifp->if_softc;
	struct m_snd_tag *mst;
	struct mlx5e_sq *sq;
	bool tagged;
	int rc;

	M_ASSERTPKTHDR(m);
	MPASS(m->m_nextpkt == NULL);
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
	/* The historic test: any non-NULL pointer in the union. */
	CANARY_REACHED(CANARY_RCVIF_AS_TAG);
	tagged = m->m_pkthdr.snd_tag != NULL;
	if (tagged && (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0)
		CANARY_TRIGGERED(CANARY_RCVIF_AS_TAG);
#else
	tagged = (m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0;
#endif
	sq = NULL;
	if (tagged) {
		mst = m->m_pkthdr.snd_tag;
		KASSERT(mst->ifp == ifp,
		    ("tag ifp mismatch: %s got a tag of %s", ifp->if_xname,
		    mst->ifp != NULL ? mst->ifp->if_xname : "(none)"));
		/* mlx5e_select_queue_by_send_tag: TLS uses its nested tag. */
		mst = mlx5e_tls_queue_tag(mst);
		if (mst->sw == &mlx5e_rl_snd_tag_sw)
			sq = &((struct mlx5e_rl_channel *)mst)->sq;
		else if (mst->sw == &mlx5e_ul_snd_tag_sw)
			sq = &((struct mlx5e_channel *)mst)->sq;
		else
			KASSERT(0, ("mlx5: %s got a tag it did not allocate",
			    ifp->if_xname));
		rc = mlx5e_sq_xmit(sq, m);
		if (rc != ENXIO)
			goto out;
		/*
		 * The tag's queue is not running (the worker has not
		 * opened it yet, or it is closing): normal selection.
		 */
	}
	sq = mlx5e_select_queue(priv, m);
	rc = mlx5e_sq_xmit(sq, m);
	if (rc == ENXIO) {
		m_freem(m);
		rc = ENETDOWN;
	}
out:
	if (rc != 0)
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
	return (rc);
}

/* Complete up to n (<= 0: all) packets; frees them once unlocked. */
int
mlx5e_sq_complete(struct mlx5e_sq *sq, int n)
{
	struct mbuf *m, *head = NULL, **tailp = &head;
	int done = 0;

	mtx_lock(&sq->lock);
	while (sq->count > 0 && (n <= 0 || done < n)) {
		m = sq->ring[sq->head];
		sq->ring[sq->head] = NULL;
		sq->head = (sq->head + 1) % sq->size;
		sq->count--;
		*tailp = m;
		tailp = &m->m_nextpkt;
		done++;
	}
	sq->completed += (uint64_t)done;
	mtx_unlock(&sq->lock);
	/* The last reference on a tag may go here (and reach its free). */
	while ((m = head) != NULL) {
		head = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	return (done);
}

int
mlx5e_sq_count(struct mlx5e_sq *sq)
{
	int n;

	mtx_lock(&sq->lock);
	n = sq->count;
	mtx_unlock(&sq->lock);
	return (n);
}

int
mlx5e_complete_all(struct mlx5e_priv *priv, int n)
{
	struct mlx5e_rl_worker *rlw;
	struct mlx5e_sq *sq;
	uint64_t done;
	int i, j, total = 0;

	for (i = 0; i < priv->params.n_channels; i++) {
		sq = &priv->channels[i].sq;
		total += mlx5e_sq_complete(sq, n);
		/* Normal queues count into the ifnet as they complete. */
		mtx_lock(&sq->lock);
		done = sq->completed;
		sq->completed = 0;
		mtx_unlock(&sq->lock);
		if (done != 0)
			if_inc_counter(priv->ifp, IFCOUNTER_OPACKETS,
			    (int64_t)done);
	}
	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		for (j = 0; j < priv->params.channels_per_worker; j++)
			total += mlx5e_sq_complete(&rlw->channels[j].sq, n);
	}
	return (total);
}

int
mlx5e_inflight(struct mlx5e_priv *priv)
{
	struct mlx5e_rl_worker *rlw;
	int i, j, n = 0;

	for (i = 0; i < priv->params.n_channels; i++)
		n += mlx5e_sq_count(&priv->channels[i].sq);
	for (i = 0; i < priv->params.n_workers; i++) {
		rlw = &priv->rl_workers[i];
		for (j = 0; j < priv->params.channels_per_worker; j++)
			n += mlx5e_sq_count(&rlw->channels[j].sq);
	}
	return (n);
}
