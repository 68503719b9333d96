/*
 * Model of the ethofld (rate-limited offload transmit) half of
 * sys/dev/cxgbe/t4_sge.c: flowc and flush work requests, ethofld_tx
 * with completion coalescing, ethofld_transmit and ethofld_fw4_ack.
 *
 * The "hardware" is the per-etid firmware queue in struct adapter: a
 * committed WR sits there until an acknowledgement returns its credits,
 * and acknowledgements exist only for WRs that asked for a completion.
 */
#include "shim/canary.h"
#include "shim/refcount.h"
#include "dev/cxgbe/offload.h"

/*
 * Does a packet on pending_tx (and, without the fix, on pending_fwack)
 * own a tag reference?  Not in the variant where mbufs hold bare
 * pointers.
 */
#ifdef SNDTAG_VARIANT_NOREF
#define	EO_MBUF_REF	0
#else
#define	EO_MBUF_REF	1
#endif

static int
mbuf_eo_nsegs(struct mbuf *m)
{
	int imm, nsegs;

	imm = MIN(m->m_pkthdr.len, EO_IMMHDR_MAX);
	nsegs = 0;
	for (; m != NULL; m = m->m_next) {
		if (m->m_len <= 0)
			continue;
		if (imm >= m->m_len) {
			imm -= m->m_len;
			continue;
		}
		nsegs++;
		imm = 0;
	}
	return (nsegs);
}

/*
 * Credits (16-byte units) of the WR that carries m: WR and CPL headers,
 * the Ethernet/IP/TCP headers as immediate data, the gather list, and
 * the LSO header for TSO.  Deterministic in the chain's shape, so the
 * fw4_ack path recomputes exactly what ethofld_tx charged.
 */
int
mbuf_eo_len16(struct mbuf *m)
{
	int n, nsegs, immhdrs;

	immhdrs = MIN(m->m_pkthdr.len, EO_IMMHDR_MAX);
	n = roundup2(24 + 16 + immhdrs, 16);
	nsegs = mbuf_eo_nsegs(m);
	if (nsegs > 0) {
		nsegs--;	/* the first segment is part of ulptx_sgl */
		n += 16 + 8 * ((3 * nsegs) / 2 + (nsegs & 1));
	}
	if (m->m_pkthdr.csum_flags & CSUM_TSO)
		n += 16;
	return (howmany(n, 16));
}

/*
 * Too many segments for one WR: copy the packet into clusters, as
 * m_defrag would.  The header, and with it the tag reference, moves to
 * the new chain.  NULL (m0 untouched) when an allocation fails.
 */
static struct mbuf *
ethofld_defrag(struct mbuf *m0)
{
	struct mbuf *m, *n, **np;
	int chunk, len, off;

	len = m0->m_pkthdr.len;
	m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
	if (m == NULL)
		return (NULL);
	n = m;
	np = &m->m_next;
	for (off = 0; off < len; off += chunk) {
		if (n == NULL) {
			n = m_getcl(M_NOWAIT, MT_DATA, 0);
			if (n == NULL) {
				m_freem(m);
				return (NULL);
			}
			*np = n;
		}
		chunk = MIN(len - off, MCLBYTES);
		m_copydata(m0, off, chunk, mtod(n, caddr_t));
		n->m_len = chunk;
		np = &n->m_next;
		n = NULL;
	}
	m_move_pkthdr(m, m0);
	m_freem(m0);
	return (m);
}

/* Commit one WR to the firmware (commit_wrq_wr). */
static void
t4_fw_commit(struct cxgbe_rate_tag *cst, int len16, int compl, int kind)
{
	struct adapter *sc = cst->adapter;
	struct eo_fwq *fwq = &sc->fwq[cst->etid];

	mtx_assert(&cst->lock, MA_OWNED);
	mtx_lock(&sc->fw_lock);
	KASSERT(fwq->ring != NULL && fwq->count < fwq->size,
	    ("cxgbe: firmware queue of etid %d overflows (%d WRs)",
	    cst->etid, fwq->count));
	fwq->ring[(fwq->head + fwq->count) % fwq->size] = (struct eo_wr){
		.len16 = (uint16_t)len16,
		.compl = (uint8_t)(compl != 0),
		.kind = (uint8_t)kind,
	};
	fwq->count++;
	fwq->credits += len16;
	if (compl)
		fwq->ncompl++;
	mtx_unlock(&sc->fw_lock);
}

/*
 * Firmware side: the next acknowledgement owed on etid, if any.  It
 * returns the credits of every WR up to and including the first one
 * that asked for a completion.  0: nothing owed.
 */
int
t4_fw_take_ack(struct adapter *sc, int etid)
{
	struct eo_fwq *fwq;
	struct eo_wr *wr;
	int credits;

	if (etid < 0 || etid >= sc->params.n_etids)
		return (0);
	fwq = &sc->fwq[etid];
	credits = 0;
	mtx_lock(&sc->fw_lock);
	if (fwq->ncompl > 0) {
		for (;;) {
			KASSERT(fwq->count > 0,
			    ("cxgbe: etid %d owes a completion with no WR",
			    etid));
			wr = &fwq->ring[fwq->head];
			fwq->head = (fwq->head + 1) % fwq->size;
			fwq->count--;
			fwq->credits -= wr->len16;
			credits += wr->len16;
			if (wr->compl)
				break;
		}
		fwq->ncompl--;
	}
	mtx_unlock(&sc->fw_lock);
	return (credits);
}

static void
send_etid_flowc_wr(struct cxgbe_rate_tag *cst)
{
	mtx_assert(&cst->lock, MA_OWNED);
	MPASS((cst->flags & (EO_FLOWC_PENDING | EO_FLOWC_RPL_PENDING)) ==
	    EO_FLOWC_PENDING);
	KASSERT(cst->tx_credits >= ETID_FLOWC_LEN16,
	    ("cxgbe: etid %d has no credits for its flowc", cst->etid));

	/* The flowc asks for no completion; the first tx ack covers it. */
	t4_fw_commit(cst, ETID_FLOWC_LEN16, 0, EO_WR_FLOWC);
	cst->flags &= ~EO_FLOWC_PENDING;
	cst->flags |= EO_FLOWC_RPL_PENDING;
	cst->tx_credits -= ETID_FLOWC_LEN16;
}

void
send_etid_flush_wr(struct cxgbe_rate_tag *cst)
{
	mtx_assert(&cst->lock, MA_OWNED);
	KASSERT((cst->flags & EO_FLUSH_RPL_PENDING) == 0,
	    ("cxgbe: etid %d flushed twice", cst->etid));
	KASSERT(cst->tx_credits >= ETID_FLUSH_LEN16,
	    ("cxgbe: etid %d has no credits for its flush (%d)", cst->etid,
	    cst->tx_credits));

	/* Always asks for a completion: it brings every credit home. */
	t4_fw_commit(cst, ETID_FLUSH_LEN16, 1, EO_WR_FLUSH);
	cst->flags |= EO_FLUSH_RPL_PENDING;
	cst->tx_credits -= ETID_FLUSH_LEN16;
	cst->ncompl++;
}

static void
ethofld_tx(struct cxgbe_rate_tag *cst)
{
	struct mbuf *m;
	int next_credits, compl;

	mtx_assert(&cst->lock, MA_OWNED);

	while ((m = mbufq_first(&cst->pending_tx)) != NULL) {
		M_ASSERTPKTHDR(m);

		next_credits = mbuf_eo_len16(m);
		MPASS(next_credits > 0);
		if (next_credits > cst->tx_credits) {
			/*
			 * An outstanding fw4_ack will return credits and
			 * restart us.  Coalescing keeps the uncovered
			 * credits below half the total, so a WR that does
			 * not fit always has a completion ahead of it.
			 */
			KASSERT(cst->ncompl > 0,
			    ("cxgbe: etid %d out of credits (%d < %d) with "
			    "no completion pending", cst->etid,
			    cst->tx_credits, next_credits));
			return;
		}
		cst->tx_credits -= next_credits;
		cst->tx_nocompl += next_credits;
		compl = cst->ncompl == 0 ||
		    cst->tx_nocompl >= cst->tx_total / 2;
		t4_fw_commit(cst, next_credits, compl, EO_WR_TX);
		if (compl) {
			cst->ncompl++;
			cst->tx_nocompl = 0;
		}
		(void)mbufq_dequeue(&cst->pending_tx);

#ifdef SNDTAG_VARIANT_CXGBE_NOFLUSH
		/*
		 * Without the fix the mbuf keeps its reference until the
		 * acknowledged mbuf is freed.  A WR that asked for no
		 * completion at the tail then keeps the tag, and so the
		 * etid, alive forever once the inp lets go.
		 */
		CANARY_REACHED(CANARY_CXGBE_NOFLUSH);
#else
		/*
		 * Drop the mbuf's tag reference now rather than at
		 * m_freem(): the kernel's release of the tag must reach
		 * cxgbe_snd_tag_free (and its flush) even when the last
		 * WR asked for no completion.
		 */
		{
			struct m_snd_tag *mst = m->m_pkthdr.snd_tag;

			m->m_pkthdr.snd_tag = NULL;
			m->m_pkthdr.csum_flags &= ~CSUM_SND_TAG;
			cst->mbuf_refs -= EO_MBUF_REF;
#ifdef SNDTAG_VARIANT_CXGBE_NO_TMPREF
			CANARY_REACHED(CANARY_CXGBE_NO_TMPREF);
			if (refcount_load(&mst->refcount) == 1)
				CANARY_TRIGGERED(CANARY_CXGBE_NO_TMPREF);
#endif
#ifndef SNDTAG_VARIANT_NOREF
			m_snd_tag_rele(mst);
#else
			(void)mst;	/* a bare pointer: nothing to drop */
#endif
		}
#endif
		mbufq_enqueue(&cst->pending_fwack, m);
	}
}

int
ethofld_transmit(struct ifnet *ifp, struct mbuf *m0)
{
	struct adapter *sc = ifp->if_softc;
	struct cxgbe_rate_tag *cst;
	int rc;

	MPASS(m0->m_nextpkt == NULL);
	MPASS(m0->m_pkthdr.snd_tag != NULL);
	cst = mst_to_crt(m0->m_pkthdr.snd_tag);

	/* Too many segments for one WR: defragment, or drop. */
	if (mbuf_eo_nsegs(m0) > EO_MAX_NSEGS) {
		struct mbuf *m;

		m = ethofld_defrag(m0);
		if (m == NULL) {
			m_freem(m0);
			return (ENOMEM);
		}
		m0 = m;
		if (mbuf_eo_nsegs(m0) > EO_MAX_NSEGS) {
			m_freem(m0);
			return (EFBIG);
		}
	}

	mtx_lock(&cst->lock);
	KASSERT(cst->flags & EO_SND_TAG_REF,
	    ("cxgbe: transmit on etid %d after the kernel freed the tag",
	    cst->etid));

	if (__predict_false(cst->flags & EO_FLOWC_PENDING))
		send_etid_flowc_wr(cst);

	if (__predict_false(mbufq_len(&cst->pending_tx) >=
	    sc->params.max_backlog)) {
		rc = ENOBUFS;
		goto done;
	}

	mbufq_enqueue(&cst->pending_tx, m0);
	cst->plen += m0->m_pkthdr.len;
	cst->mbuf_refs += EO_MBUF_REF;

#ifdef SNDTAG_VARIANT_CXGBE_NO_TMPREF
	/*
	 * No extra reference: if the inp is gone, the reference of the
	 * last packet committed is the tag's last, and it is dropped
	 * inside ethofld_tx with the tag's own lock held.
	 */
	ethofld_tx(cst);
	mtx_unlock(&cst->lock);
#else
	/*
	 * Hold an extra reference while generating work requests, so the
	 * tag cannot be freed inside ethofld_tx when it sends the final
	 * packet after the inp let go; drop it once unlocked.
	 */
	m_snd_tag_ref(&cst->com);
	ethofld_tx(cst);
	mtx_unlock(&cst->lock);
	m_snd_tag_rele(&cst->com);
#endif
	return (0);

done:
	mtx_unlock(&cst->lock);
	m_freem(m0);
	return (rc);
}

/*
 * The fw4_ack CPL: 'credits' come home for the WRs up to one that asked
 * for a completion.  Frees the acknowledged packets, restarts
 * transmission, and frees the tag once the kernel has let go and every
 * credit is home.
 */
int
ethofld_fw4_ack(struct adapter *sc, int etid, int credits)
{
	struct cxgbe_rate_tag *cst;
	struct mbufq done;
	struct mbuf *m;
	int total = credits, len16;

	cst = lookup_etid(sc, etid);
	KASSERT(cst != NULL,
	    ("cxgbe: fw4_ack for etid %d that is not in use", etid));
	mbufq_init(&done);

	mtx_lock(&cst->lock);
	if (__predict_false(cst->flags & EO_FLOWC_RPL_PENDING)) {
		KASSERT(credits >= ETID_FLOWC_LEN16,
		    ("cxgbe: etid %d: first fw4_ack (%d) below the flowc",
		    etid, credits));
		credits -= ETID_FLOWC_LEN16;
		cst->flags &= ~EO_FLOWC_RPL_PENDING;
	}

	KASSERT(cst->ncompl > 0,
	    ("cxgbe: etid %d wasn't expecting a completion", etid));
	cst->ncompl--;

	while (credits > 0) {
		m = mbufq_dequeue(&cst->pending_fwack);
		if (__predict_false(m == NULL)) {
			/*
			 * The remaining credits are for the final flush
			 * sent after the kernel freed the tag.
			 */
			KASSERT((cst->flags &
			    (EO_FLUSH_RPL_PENDING | EO_SND_TAG_REF)) ==
			    EO_FLUSH_RPL_PENDING,
			    ("cxgbe: etid %d: %d credits with no packet and "
			    "no flush (flags %#x)", etid, credits,
			    cst->flags));
			KASSERT(credits == ETID_FLUSH_LEN16,
			    ("cxgbe: etid %d: flush returned %d credits",
			    etid, credits));
			KASSERT(cst->tx_credits + total == cst->tx_total,
			    ("cxgbe: etid %d: flush leaves credits out "
			    "(%d + %d != %d)", etid, cst->tx_credits, total,
			    cst->tx_total));
			KASSERT(cst->ncompl == 0,
			    ("cxgbe: etid %d: completions after the flush",
			    etid));
			cst->flags &= ~EO_FLUSH_RPL_PENDING;
			cst->tx_credits += total;
			cxgbe_snd_tag_free_locked(cst);
			goto out;	/* cst is gone */
		}
		len16 = mbuf_eo_len16(m);
		KASSERT(credits >= len16,
		    ("cxgbe: etid %d: too few credits (%d, %d, %d)", etid,
		    total, credits, len16));
		credits -= len16;
		cst->plen -= m->m_pkthdr.len;
#ifdef SNDTAG_VARIANT_CXGBE_NOFLUSH
		cst->mbuf_refs -= EO_MBUF_REF;
#endif
		/* Freed once unlocked: (without the fix) it may hold a ref. */
		mbufq_enqueue(&done, m);
	}

	cst->tx_credits += total;
	KASSERT(cst->tx_credits <= cst->tx_total,
	    ("cxgbe: etid %d: more credits than it has (%d > %d)", etid,
	    cst->tx_credits, cst->tx_total));

	if (cst->flags & EO_SND_TAG_REF) {
#ifdef SNDTAG_VARIANT_CXGBE_NO_TMPREF
		m = mbufq_first(&cst->pending_tx);
		if (m != NULL && cst->tx_credits >= mbuf_eo_len16(m)) {
			CANARY_REACHED(CANARY_CXGBE_NO_TMPREF);
			ethofld_tx(cst);
		}
		mtx_unlock(&cst->lock);
#elif defined(SNDTAG_VARIANT_CXGBE_FW4_ACK_REVIVE)
		/*
		 * Upstream (t4_sge.c, the cxgbe_rate_tag version): the
		 * temporary reference is taken whenever EO_SND_TAG_REF is
		 * set.  The kernel's last m_snd_tag_rele may already have
		 * brought the count to zero, its cxgbe_snd_tag_free blocked
		 * on this lock with the flag still set: the reference then
		 * revives a tag that m_snd_tag_destroy is tearing down.
		 */
		CANARY_REACHED(CANARY_CXGBE_FW4_ACK_REVIVE);
		if (refcount_load(&cst->com.refcount) == 0)
			CANARY_TRIGGERED(CANARY_CXGBE_FW4_ACK_REVIVE);
		m_snd_tag_ref(&cst->com);
		m = mbufq_first(&cst->pending_tx);
		if (m != NULL && cst->tx_credits >= mbuf_eo_len16(m))
			ethofld_tx(cst);
		mtx_unlock(&cst->lock);
		m_snd_tag_rele(&cst->com);
#else
		/*
		 * As in ethofld_transmit, a temporary reference keeps the
		 * tag stable across ethofld_tx.  Take it only when a packet
		 * is waiting: that packet holds a reference, so the count
		 * cannot be zero.  With nothing waiting, the kernel's last
		 * release may already have run, its free blocked on this
		 * lock with EO_SND_TAG_REF still set, and a reference taken
		 * now would revive a dead tag (found by the threaded sweep:
		 * docs/SWEEPS.md; FreeBSD takes the reference
		 * unconditionally here).
		 */
		m = mbufq_first(&cst->pending_tx);
		if (m != NULL && cst->tx_credits >= mbuf_eo_len16(m)) {
			m_snd_tag_ref(&cst->com);
			ethofld_tx(cst);
			mtx_unlock(&cst->lock);
			m_snd_tag_rele(&cst->com);
		} else
			mtx_unlock(&cst->lock);
#endif
	} else {
		/*
		 * The kernel freed the tag: nothing can be waiting for
		 * credits, since every such packet holds a reference.
		 */
		KASSERT(mbufq_first(&cst->pending_tx) == NULL,
		    ("cxgbe: etid %d freed with packets waiting", etid));
		if (cst->ncompl == 0) {
			if (cst->tx_credits == cst->tx_total) {
				cxgbe_snd_tag_free_locked(cst);
				goto out;	/* cst is gone */
			}
			/* WRs behind the last completion: ask for them. */
			send_etid_flush_wr(cst);
		}
		mtx_unlock(&cst->lock);
	}
out:
	while ((m = mbufq_dequeue(&done)) != NULL)
		m_freem(m);
	return (0);
}
