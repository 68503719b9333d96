/*
 * Model of sys/dev/cxgbe/t4_sched.c: reference-counted traffic
 * scheduling classes, the etid table, and the rate-limit send tag's
 * alloc/modify/query/free methods.
 */
#include "shim/canary.h"
#include "shim/refcount.h"
#include "dev/cxgbe/offload.h"

const struct if_snd_tag_sw cxgbe_rate_tag_sw = {
	.snd_tag_modify = cxgbe_snd_tag_modify,
	.snd_tag_query = cxgbe_snd_tag_query,
	.snd_tag_free = cxgbe_snd_tag_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

/*
 * Find a class already running at this rate (share it) or a free one.
 * ERANGE for a rate the port cannot do, ENOSPC when every class is busy
 * with another rate.
 */
int
t4_reserve_cl_rl_kbps(struct adapter *sc, uint64_t kbps, int *tc_idx)
{
	struct tx_sched_class *tc;
	int i, fa;

	if (kbps == 0 || kbps > CXGBE_MAX_KBPS)
		return (ERANGE);
	fa = -1;
	mtx_lock(&sc->tc_lock);
	for (i = 0; i < sc->params.n_classes; i++) {
		tc = &sc->tc[i];
		if (tc->refcount > 0 && tc->kbps == kbps) {
			tc->refcount++;
			*tc_idx = i;
			mtx_unlock(&sc->tc_lock);
			return (0);
		}
		if (tc->refcount == 0 && fa < 0)
			fa = i;
	}
	if (fa < 0) {
		mtx_unlock(&sc->tc_lock);
		return (ENOSPC);
	}
	tc = &sc->tc[fa];
	tc->kbps = kbps;
	tc->refcount = 1;
	*tc_idx = fa;
	mtx_unlock(&sc->tc_lock);
	return (0);
}

void
t4_release_cl_rl(struct adapter *sc, int tc_idx)
{
	struct tx_sched_class *tc;

	KASSERT(tc_idx >= 0 && tc_idx < sc->params.n_classes,
	    ("cxgbe: release of class %d out of range", tc_idx));
	mtx_lock(&sc->tc_lock);
	tc = &sc->tc[tc_idx];
	KASSERT(tc->refcount > 0,
	    ("cxgbe: class %d released more often than reserved", tc_idx));
	tc->refcount--;
	mtx_unlock(&sc->tc_lock);
}

static int
alloc_etid(struct adapter *sc, struct cxgbe_rate_tag *cst)
{
	int etid = -1;

	mtx_lock(&sc->etid_lock);
	if (sc->etid_nfree > 0) {
		etid = sc->etid_free[--sc->etid_nfree];
		KASSERT(sc->etid_tab[etid] == NULL,
		    ("cxgbe: free etid %d is in use", etid));
		sc->etid_tab[etid] = cst;
		sc->etids_in_use++;
	}
	mtx_unlock(&sc->etid_lock);
	return (etid);
}

static void
free_etid(struct adapter *sc, int etid)
{
	mtx_lock(&sc->etid_lock);
	KASSERT(etid >= 0 && etid < sc->params.n_etids &&
	    sc->etid_tab[etid] != NULL,
	    ("cxgbe: free of etid %d that is not in use", etid));
	sc->etid_tab[etid] = NULL;
	sc->etid_free[sc->etid_nfree++] = etid;
	sc->etids_in_use--;
	mtx_unlock(&sc->etid_lock);
}

struct cxgbe_rate_tag *
lookup_etid(struct adapter *sc, int etid)
{
	struct cxgbe_rate_tag *cst;

	if (etid < 0 || etid >= sc->params.n_etids)
		return (NULL);
	mtx_lock(&sc->etid_lock);
	cst = sc->etid_tab[etid];
	mtx_unlock(&sc->etid_lock);
	return (cst);
}

int
cxgbe_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **pt)
{
	struct adapter *sc = ifp->if_softc;
	struct cxgbe_rate_tag *cst;
	struct eo_wr *ring;
	int rc, schedcl, etid;

	if (params->hdr.type != IF_SND_TAG_TYPE_RATE_LIMIT)
		return (EOPNOTSUPP);

	rc = t4_reserve_cl_rl_kbps(sc,
	    params->rate_limit.max_rate * 8ULL / 1000, &schedcl);
	if (rc != 0)
		return (rc);

	cst = malloc(sizeof(*cst), M_CXGBE, M_ZERO | M_NOWAIT);
	if (cst == NULL)
		goto failed;
	/* Room for the firmware's view of the flow: one WR per credit. */
	ring = malloc(sizeof(*ring) * sc->params.tx_credits, M_CXGBE,
	    M_ZERO | M_NOWAIT);
	if (ring == NULL) {
		free(cst, M_CXGBE);
		goto failed;
	}
	etid = alloc_etid(sc, cst);
	if (etid < 0) {
		free(ring, M_CXGBE);
		free(cst, M_CXGBE);
		goto failed;
	}

	mtx_lock(&sc->fw_lock);
	KASSERT(sc->fwq[etid].ring == NULL && sc->fwq[etid].count == 0,
	    ("cxgbe: etid %d still has firmware state", etid));
	sc->fwq[etid].ring = ring;
	sc->fwq[etid].size = sc->params.tx_credits;
	sc->fwq[etid].head = 0;
	sc->fwq[etid].ncompl = 0;
	sc->fwq[etid].credits = 0;
	mtx_unlock(&sc->fw_lock);

	mtx_init(&cst->lock, "cst_lock", NULL, MTX_DEF);
	mbufq_init(&cst->pending_tx);
	mbufq_init(&cst->pending_fwack);
	cst->adapter = sc;
	cst->etid = etid;
	cst->flags = EO_FLOWC_PENDING | EO_SND_TAG_REF;
	cst->schedcl = schedcl;
	cst->max_rate = params->rate_limit.max_rate;
	cst->tx_credits = sc->params.tx_credits;
	cst->tx_total = cst->tx_credits;
	cst->plen = 0;

	m_snd_tag_init(&cst->com, ifp, &cxgbe_rate_tag_sw);
	*pt = &cst->com;
	return (0);

failed:
	t4_release_cl_rl(sc, schedcl);
	return (ENOMEM);
}

/* Change in parameters, no change in ifp. */
int
cxgbe_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	struct cxgbe_rate_tag *cst = mst_to_crt(mst);
	struct adapter *sc = cst->adapter;
	int rc, schedcl;

	mtx_lock(&cst->lock);
	KASSERT(cst->flags & EO_SND_TAG_REF,
	    ("cxgbe: modify of etid %d after the kernel freed it", cst->etid));
	rc = t4_reserve_cl_rl_kbps(sc,
	    params->rate_limit.max_rate * 8ULL / 1000, &schedcl);
	if (rc != 0) {
		/* The old class stays; the historic code returned locked. */
		mtx_unlock(&cst->lock);
		return (rc);
	}
	t4_release_cl_rl(sc, cst->schedcl);
	cst->schedcl = schedcl;
	cst->max_rate = params->rate_limit.max_rate;
	mtx_unlock(&cst->lock);
	return (0);
}

int
cxgbe_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct cxgbe_rate_tag *cst = mst_to_crt(mst);

	mtx_lock(&cst->lock);
	params->rate_limit.max_rate = cst->max_rate;
	params->rate_limit.queue_level = (uint32_t)
	    ((uint64_t)(cst->tx_total - cst->tx_credits) * 65535 /
	    cst->tx_total);
	mtx_unlock(&cst->lock);
	return (0);
}

/* Unlocks cst and frees it: every credit is home, nothing is queued. */
void
cxgbe_snd_tag_free_locked(struct cxgbe_rate_tag *cst)
{
	struct adapter *sc = cst->adapter;
	struct eo_wr *ring;
	int etid = cst->etid;

	mtx_assert(&cst->lock, MA_OWNED);
	KASSERT((cst->flags & EO_SND_TAG_REF) == 0,
	    ("cxgbe: etid %d freed while the kernel holds it", etid));
	KASSERT(cst->tx_credits == cst->tx_total,
	    ("cxgbe: etid %d freed with credits out (%d of %d home)", etid,
	    cst->tx_credits, cst->tx_total));
	KASSERT(cst->ncompl == 0,
	    ("cxgbe: etid %d freed with %d completions owed", etid,
	    cst->ncompl));
	KASSERT(cst->plen == 0 && mbufq_first(&cst->pending_tx) == NULL &&
	    mbufq_first(&cst->pending_fwack) == NULL,
	    ("cxgbe: etid %d freed with packets queued (plen %d)", etid,
	    cst->plen));
	KASSERT(cst->mbuf_refs == 0,
	    ("cxgbe: etid %d freed with %d mbuf references", etid,
	    cst->mbuf_refs));

	mtx_lock(&sc->fw_lock);
	KASSERT(sc->fwq[etid].count == 0 && sc->fwq[etid].ncompl == 0,
	    ("cxgbe: etid %d freed with %d WRs at the firmware", etid,
	    sc->fwq[etid].count));
	ring = sc->fwq[etid].ring;
	sc->fwq[etid].ring = NULL;
	sc->fwq[etid].size = 0;
	mtx_unlock(&sc->fw_lock);
	free(ring, M_CXGBE);

	/* While the etid is ours the adapter cannot go: pin it first. */
	cxgbe_pin(sc);
	free_etid(sc, etid);
	if (cst->schedcl != -1)
		t4_release_cl_rl(sc, cst->schedcl);
	mtx_unlock(&cst->lock);
	mtx_destroy(&cst->lock);
	free(cst, M_CXGBE);
	/* A detached adapter lives until its last flow is home. */
	cxgbe_adapter_release(sc);
	cxgbe_unpin(sc);
}

/*
 * The kernel's last reference is gone.  Runs in whatever context
 * dropped it, so it never sleeps: with credits out it asks the firmware
 * for them (the flush always requests a completion) and the last
 * fw4_ack frees the tag.
 */
void
cxgbe_snd_tag_free(struct m_snd_tag *mst)
{
	struct cxgbe_rate_tag *cst = mst_to_crt(mst);

	mtx_lock(&cst->lock);
	KASSERT(cst->flags & EO_SND_TAG_REF,
	    ("cxgbe: etid %d freed twice by the kernel", cst->etid));
	cst->flags &= ~EO_SND_TAG_REF;
	KASSERT(mbufq_first(&cst->pending_tx) == NULL,
	    ("cxgbe: etid %d freed with packets waiting for credits",
	    cst->etid));

	if (cst->ncompl == 0) {
		/*
		 * No fw4_ack in flight.  Free right away if every credit
		 * is home, else ask the firmware for the rest: WRs that
		 * asked for no completion are returned by nothing else.
		 */
		if (cst->tx_credits == cst->tx_total) {
			cxgbe_snd_tag_free_locked(cst);
			return;		/* cst is gone */
		}
		send_etid_flush_wr(cst);
	}
	/* Else the last outstanding fw4_ack sends the flush or frees. */
	mtx_unlock(&cst->lock);
}
