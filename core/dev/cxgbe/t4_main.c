/*
 * Model of the parts of sys/dev/cxgbe/t4_main.c the send-tag stack
 * needs: attaching one port (ifnet, etid table, scheduling classes,
 * firmware queues, a plain tx ring), cxgbe_transmit, detach, and the
 * harness actor that plays the firmware.
 */
#include <pthread.h>

#include "shim/canary.h"
#include "shim/refcount.h"
#include "harness/world.h"
#include "dev/cxgbe/offload.h"
#include "net/if_vlan_var.h"

MALLOC_DEFINE(M_CXGBE, "cxgbe", "Chelsio T4/T5/T6 Ethernet driver");

/*
 * The actor's list of adapters (harness bookkeeping, not the model):
 * a plain pthread mutex held only for list updates, never across model
 * code.  An adapter is pinned while the actor works on it; the ifnet's
 * last release unlinks it and the last unpin frees it.
 */
#define	CXGBE_MAX_ADAPTERS	64
static pthread_mutex_t cxgbe_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct adapter *cxgbe_list;
static int cxgbe_nadapters;

static struct harness_actor cxgbe_actor;

static void
adapter_free(struct adapter *sc)
{
	int i;

	for (i = 0; i < sc->params.n_etids; i++)
		if (sc->fwq[i].ring != NULL)
			free(sc->fwq[i].ring, M_CXGBE);
	mtx_destroy(&sc->txq.lock);
	mtx_destroy(&sc->fw_lock);
	mtx_destroy(&sc->fw_ack_lock);
	mtx_destroy(&sc->tc_lock);
	mtx_destroy(&sc->etid_lock);
	free(sc->fwq, M_CXGBE);
	free(sc->tc, M_CXGBE);
	free(sc->etid_free, M_CXGBE);
	free(sc->etid_tab, M_CXGBE);
	free(sc, M_CXGBE);
}

static int
cxgbe_pin_all(struct adapter **v)
{
	struct adapter *sc;
	int n = 0;

	pthread_mutex_lock(&cxgbe_list_lock);
	for (sc = cxgbe_list; sc != NULL; sc = sc->next) {
		sc->pins++;
		v[n++] = sc;
	}
	pthread_mutex_unlock(&cxgbe_list_lock);
	return (n);
}

void
cxgbe_pin(struct adapter *sc)
{
	pthread_mutex_lock(&cxgbe_list_lock);
	sc->pins++;
	pthread_mutex_unlock(&cxgbe_list_lock);
}

void
cxgbe_unpin(struct adapter *sc)
{
	bool last;

	pthread_mutex_lock(&cxgbe_list_lock);
	last = --sc->pins == 0 && sc->free_pending;
	pthread_mutex_unlock(&cxgbe_list_lock);
	if (last)
		adapter_free(sc);
}

/*
 * Unlink an adapter whose ifnet is gone once no flow is left: the
 * kernel's last release of a tag (which unpins the ifnet) comes before
 * the firmware returns the flow's credits, so the adapter (etid table,
 * firmware queues) must outlive the ifnet until the last flow is home.
 * Freed now, or by the last unpin if someone is working on it.
 */
void
cxgbe_adapter_release(struct adapter *sc)
{
	struct adapter **scp;
	int inuse;
	bool now = false;

	mtx_lock(&sc->etid_lock);
	inuse = sc->etids_in_use;
	mtx_unlock(&sc->etid_lock);
	pthread_mutex_lock(&cxgbe_list_lock);
	if (sc->ifnet_gone && inuse == 0 && !sc->free_pending) {
		for (scp = &cxgbe_list; *scp != NULL; scp = &(*scp)->next)
			if (*scp == sc) {
				*scp = sc->next;
				cxgbe_nadapters--;
				break;
			}
		sc->free_pending = true;
		now = sc->pins == 0;
	}
	pthread_mutex_unlock(&cxgbe_list_lock);
	if (now)
		adapter_free(sc);
}

/* The ifnet's last reference is gone (if_free_softc). */
static void
cxgbe_free_softc(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;

	ifp->if_softc = NULL;
	/*
	 * Pinned in the same section that lets the adapter go: a firmware
	 * ack's release on another thread may otherwise free it while this
	 * release still takes its locks.
	 */
	pthread_mutex_lock(&cxgbe_list_lock);
	sc->ifp = NULL;
	sc->ifnet_gone = true;
	sc->pins++;
	pthread_mutex_unlock(&cxgbe_list_lock);
	cxgbe_adapter_release(sc);
	cxgbe_unpin(sc);
}

/* Untagged packets: the plain tx ring, freed by tx completions. */
static int
cxgbe_txq_enqueue(struct adapter *sc, struct mbuf *m)
{
	struct cxgbe_txq *txq = &sc->txq;
	int rc = 0;

	mtx_lock(&txq->lock);
	if (!txq->running)
		rc = ENETDOWN;
	else if (txq->count == CXGBE_TXQ_SIZE)
		rc = ENOBUFS;
	else {
		txq->ring[(txq->head + txq->count) % CXGBE_TXQ_SIZE] = m;
		txq->count++;
	}
	mtx_unlock(&txq->lock);
	if (rc != 0)
		m_freem(m);
	return (rc);
}

static int
cxgbe_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct adapter *sc = ifp->if_softc;
	struct m_snd_tag *mst;
	bool tagged;
	int rc;

	M_ASSERTPKTHDR(m);
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
	/* The historic test: any non-NULL pointer in the union. */
	CANARY_REACHED(CANARY_RCVIF_AS_TAG);
	tagged = m->m_pkthdr.snd_tag != NULL;
	if (tagged && (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0)
		CANARY_TRIGGERED(CANARY_RCVIF_AS_TAG);
#else
	tagged = (m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0;
#endif
	if (tagged) {
		mst = m->m_pkthdr.snd_tag;
		KASSERT(mst->ifp == ifp,
		    ("tag ifp mismatch: %s got a tag of %s", ifp->if_xname,
		    mst->ifp != NULL ? mst->ifp->if_xname : "(none)"));
		KASSERT(mst->sw == &cxgbe_rate_tag_sw,
		    ("cxgbe: %s got a tag it did not allocate",
		    ifp->if_xname));
		/* No send-tag-less path for tagged packets. */
		rc = ethofld_transmit(ifp, m);
	} else
		rc = cxgbe_txq_enqueue(sc, m);
	if (rc == 0)
		if_inc_counter(ifp, IFCOUNTER_OPACKETS, 1);
	else
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
	return (rc);
}

/*
 * cxgbe_ioctl, SIOCSIFCAP: only if_capenable changes; the etids of
 * existing tags keep running.  The vlans on the port follow.
 */
static int
cxgbe_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;
	int mask;

	if (cmd != SIOCSIFCAP)
		return (EINVAL);
	mask = ifr->ifr_reqcap ^ if_getcapenable(ifp);
	if ((mask & IFCAP_TXRTLMT) != 0)
		if_setcapenablebit(ifp, ifr->ifr_reqcap & IFCAP_TXRTLMT,
		    ~ifr->ifr_reqcap & IFCAP_TXRTLMT);
	VLAN_CAPABILITIES(ifp);
	return (0);
}

static void
cxgbe_qflush(struct ifnet *ifp)
{
}

static int
cxgbe_check_params(const struct cxgbe_params *in, struct cxgbe_params *p)
{
	*p = (struct cxgbe_params){
		.n_etids = CXGBE_ETIDS_DEFAULT,
		.n_classes = CXGBE_CLASSES_DEFAULT,
		.tx_credits = CXGBE_CREDITS_DEFAULT,
		.max_backlog = CXGBE_BACKLOG_DEFAULT,
	};
	if (in == NULL)
		return (0);
	/* Zero means "default"; anything else must be in range. */
	if (in->n_etids != 0)
		p->n_etids = in->n_etids;
	if (in->n_classes != 0)
		p->n_classes = in->n_classes;
	if (in->tx_credits != 0)
		p->tx_credits = in->tx_credits;
	if (in->max_backlog != 0)
		p->max_backlog = in->max_backlog;
	if (p->n_etids < 1 || p->n_etids > CXGBE_ETIDS_MAX ||
	    p->n_classes < 1 || p->n_classes > CXGBE_CLASSES_MAX ||
	    p->tx_credits < CXGBE_CREDITS_MIN ||
	    p->tx_credits > CXGBE_CREDITS_MAX ||
	    p->max_backlog < 0 || p->max_backlog > CXGBE_BACKLOG_MAX)
		return (EINVAL);
	return (0);
}

/*
 * One port of a T6 with ethofld.  NULL on bad parameters or when an
 * allocation fails (everything allocated so far is returned).
 */
struct ifnet *
cxgbe_attach(int unit, const struct cxgbe_params *p)
{
	struct adapter *sc;
	struct ifnet *ifp;
	struct cxgbe_params params;
	int i;

	if (cxgbe_check_params(p, &params) != 0)
		return (NULL);
	pthread_mutex_lock(&cxgbe_list_lock);
	i = cxgbe_nadapters;
	pthread_mutex_unlock(&cxgbe_list_lock);
	if (i >= CXGBE_MAX_ADAPTERS)
		return (NULL);

	sc = malloc(sizeof(*sc), M_CXGBE, M_NOWAIT | M_ZERO);
	if (sc == NULL)
		return (NULL);
	sc->params = params;
	sc->etid_tab = malloc(sizeof(*sc->etid_tab) * params.n_etids,
	    M_CXGBE, M_NOWAIT | M_ZERO);
	sc->etid_free = malloc(sizeof(*sc->etid_free) * params.n_etids,
	    M_CXGBE, M_NOWAIT | M_ZERO);
	sc->tc = malloc(sizeof(*sc->tc) * params.n_classes, M_CXGBE,
	    M_NOWAIT | M_ZERO);
	sc->fwq = malloc(sizeof(*sc->fwq) * params.n_etids, M_CXGBE,
	    M_NOWAIT | M_ZERO);
	ifp = NULL;
	if (sc->etid_tab != NULL && sc->etid_free != NULL && sc->tc != NULL &&
	    sc->fwq != NULL)
		ifp = if_alloc(IFT_ETHER);
	if (ifp == NULL) {
		/* free(NULL) is fine, as in the kernel. */
		free(sc->fwq, M_CXGBE);
		free(sc->tc, M_CXGBE);
		free(sc->etid_free, M_CXGBE);
		free(sc->etid_tab, M_CXGBE);
		free(sc, M_CXGBE);
		return (NULL);
	}

	mtx_init(&sc->etid_lock, "etid lock", NULL, MTX_DEF);
	mtx_init(&sc->tc_lock, "tc lock", NULL, MTX_DEF);
	mtx_init(&sc->fw_ack_lock, "cxgbe fw ack", NULL, MTX_DEF);
	mtx_init(&sc->fw_lock, "cxgbe fw", NULL, MTX_DEF);
	mtx_init(&sc->txq.lock, "cxgbe txq", NULL, MTX_DEF);
	sc->txq.running = true;
	/* A stack of free etids; the lowest comes out first. */
	for (i = 0; i < params.n_etids; i++)
		sc->etid_free[i] = params.n_etids - 1 - i;
	sc->etid_nfree = params.n_etids;

	if_initname(ifp, "cxl", unit);
	snprintf(sc->name, sizeof(sc->name), "%s", ifp->if_xname);
	ifp->if_softc = sc;
	ifp->if_output = ether_output;
	ifp->if_transmit = cxgbe_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = cxgbe_qflush;
	ifp->if_ioctl = cxgbe_ioctl;
	ifp->if_snd_tag_alloc = cxgbe_snd_tag_alloc;
	ifp->if_free_softc = cxgbe_free_softc;
	ifp->if_capabilities = IFCAP_TXRTLMT | IFCAP_TSO;
	ifp->if_capenable = ifp->if_capabilities;
	if_setflagbits(ifp, IFF_UP, 0);
	if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
	ifp->if_mtu = 1500;
	sc->ifp = ifp;
	if_attach(ifp);
	if_link_state_change(ifp, LINK_STATE_UP);

	pthread_mutex_lock(&cxgbe_list_lock);
	sc->next = cxgbe_list;
	cxgbe_list = sc;
	cxgbe_nadapters++;
	pthread_mutex_unlock(&cxgbe_list_lock);
	harness_actor_register(&cxgbe_actor);
	return (ifp);
}

/*
 * Stop the port and drop the driver's reference.  Tags still allocated
 * pin the ifnet, so the adapter (etids, classes, firmware queues) lives
 * on until the last of them is freed; the actor keeps delivering their
 * acknowledgements.
 */
void
cxgbe_detach(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;
	struct cxgbe_txq *txq;
	struct mbuf *m, *head = NULL, **tailp = &head;

	/* Already detached (the ifnet lives on for its tags): no-op. */
	if (sc == NULL || (if_getflags(ifp) & IFF_DYING) != 0)
		return;
	txq = &sc->txq;
	if_detach(ifp);
	mtx_lock(&txq->lock);
	txq->running = false;
	while (txq->count > 0) {
		m = txq->ring[txq->head];
		txq->ring[txq->head] = NULL;
		txq->head = (txq->head + 1) % CXGBE_TXQ_SIZE;
		txq->count--;
		*tailp = m;
		tailp = &m->m_nextpkt;
	}
	mtx_unlock(&txq->lock);
	while ((m = head) != NULL) {
		head = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	if_free(ifp);
}

static int
cxgbe_txeof_sc(struct adapter *sc, int n)
{
	struct cxgbe_txq *txq = &sc->txq;
	struct mbuf *m, *head = NULL, **tailp = &head;
	int done = 0;

	mtx_lock(&txq->lock);
	while (txq->count > 0 && (n <= 0 || done < n)) {
		m = txq->ring[txq->head];
		txq->ring[txq->head] = NULL;
		txq->head = (txq->head + 1) % CXGBE_TXQ_SIZE;
		txq->count--;
		*tailp = m;
		tailp = &m->m_nextpkt;
		done++;
	}
	mtx_unlock(&txq->lock);
	while ((m = head) != NULL) {
		head = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	return (done);
}

int
cxgbe_txeof(struct ifnet *ifp, int n)
{
	struct adapter *sc = ifp->if_softc;

	if (sc == NULL)
		return (0);
	return (cxgbe_txeof_sc(sc, n));
}

int
cxgbe_txq_count(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL)
		return (0);
	mtx_lock(&sc->txq.lock);
	n = sc->txq.count;
	mtx_unlock(&sc->txq.lock);
	return (n);
}

/*
 * Deliver acknowledgements owed on one etid, oldest first, until
 * 'budget' credits came home (budget <= 0: all of them).  Returns how
 * many were delivered.
 */
static int
cxgbe_deliver(struct adapter *sc, int etid, int budget)
{
	int c, got = 0, n = 0;

	mtx_lock(&sc->fw_ack_lock);
	while (budget <= 0 || got < budget) {
		c = t4_fw_take_ack(sc, etid);
		if (c == 0)
			break;
		(void)ethofld_fw4_ack(sc, etid, c);
		got += c;
		n++;
	}
	mtx_unlock(&sc->fw_ack_lock);
	return (n);
}

static int
cxgbe_acks_owed(struct adapter *sc, int etid)
{
	int n;

	mtx_lock(&sc->fw_lock);
	n = sc->fwq[etid].ncompl;
	mtx_unlock(&sc->fw_lock);
	return (n);
}

int
cxgbe_fw4_ack(struct ifnet *ifp, int etid, int credits)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL || etid < 0 || etid >= sc->params.n_etids)
		return (ENOENT);
	cxgbe_pin(sc);
	n = cxgbe_deliver(sc, etid, credits);
	cxgbe_unpin(sc);	/* the last ack may have freed the ifnet */
	return (n > 0 ? 0 : ENOENT);
}

static int
cxgbe_fw_progress_sc(struct adapter *sc)
{
	int etid, n = 0;

	for (etid = 0; etid < sc->params.n_etids; etid++)
		if (cxgbe_acks_owed(sc, etid) > 0)
			n += cxgbe_deliver(sc, etid, 0);
	return (n);
}

int
cxgbe_fw_progress(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL)
		return (0);
	cxgbe_pin(sc);
	n = cxgbe_fw_progress_sc(sc);
	cxgbe_unpin(sc);
	return (n);
}

int
cxgbe_etids_in_use(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL)
		return (0);
	mtx_lock(&sc->etid_lock);
	n = sc->etids_in_use;
	mtx_unlock(&sc->etid_lock);
	return (n);
}

int
cxgbe_etid_nth(struct ifnet *ifp, int i)
{
	struct adapter *sc = ifp->if_softc;
	int etid, found = -1;

	if (sc == NULL || i < 0)
		return (-1);
	mtx_lock(&sc->etid_lock);
	for (etid = 0; etid < sc->params.n_etids; etid++)
		if (sc->etid_tab[etid] != NULL && i-- == 0) {
			found = etid;
			break;
		}
	mtx_unlock(&sc->etid_lock);
	return (found);
}

int
cxgbe_class_refs(struct ifnet *ifp, int cl)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL || cl < 0 || cl >= sc->params.n_classes)
		return (-1);
	mtx_lock(&sc->tc_lock);
	n = sc->tc[cl].refcount;
	mtx_unlock(&sc->tc_lock);
	return (n);
}

int
cxgbe_classes_in_use(struct ifnet *ifp)
{
	struct adapter *sc = ifp->if_softc;
	int cl, n = 0;

	if (sc == NULL)
		return (0);
	mtx_lock(&sc->tc_lock);
	for (cl = 0; cl < sc->params.n_classes; cl++)
		if (sc->tc[cl].refcount > 0)
			n++;
	mtx_unlock(&sc->tc_lock);
	return (n);
}

struct cxgbe_rate_tag *
cxgbe_etid_tag(struct ifnet *ifp, int etid)
{
	struct adapter *sc = ifp->if_softc;

	return (sc == NULL ? NULL : lookup_etid(sc, etid));
}

int
cxgbe_fw_wrs(struct ifnet *ifp, int etid)
{
	struct adapter *sc = ifp->if_softc;
	int n;

	if (sc == NULL || etid < 0 || etid >= sc->params.n_etids)
		return (0);
	mtx_lock(&sc->fw_lock);
	n = sc->fwq[etid].count;
	mtx_unlock(&sc->fw_lock);
	return (n);
}

/*
 * The actor: the firmware and the tx completion interrupt.
 */
static int
cxgbe_actor_pending(void)
{
	struct adapter *v[CXGBE_MAX_ADAPTERS];
	int i, etid, n, pending = 0;

	n = cxgbe_pin_all(v);
	for (i = 0; i < n; i++) {
		for (etid = 0; etid < v[i]->params.n_etids; etid++)
			pending += cxgbe_acks_owed(v[i], etid);
		mtx_lock(&v[i]->txq.lock);
		pending += v[i]->txq.count;
		mtx_unlock(&v[i]->txq.lock);
		cxgbe_unpin(v[i]);
	}
	return (pending);
}

static int
cxgbe_actor_progress(void)
{
	struct adapter *v[CXGBE_MAX_ADAPTERS];
	int i, n, done = 0;

	n = cxgbe_pin_all(v);
	for (i = 0; i < n; i++) {
		done += cxgbe_fw_progress_sc(v[i]);
		done += cxgbe_txeof_sc(v[i], 0);
		cxgbe_unpin(v[i]);
	}
	return (done);
}

/*
 * A flow is hung when WRs sit at the firmware with no completion among
 * them (so no acknowledgement will ever come) and nothing outside the
 * driver can make it send one: the kernel has freed the tag, or the only
 * references left are the driver's own queued mbufs (§11.6).
 */
static bool
cxgbe_flow_stuck(struct adapter *sc, int etid, struct cxgbe_rate_tag *cst)
{
	struct eo_fwq *fwq = &sc->fwq[etid];
	int wrs, owed, fwcredits, refs, outside;
	bool kernel;

	mtx_lock(&sc->fw_lock);
	wrs = fwq->count;
	owed = fwq->ncompl;
	fwcredits = fwq->credits;
	mtx_unlock(&sc->fw_lock);
	if (wrs == 0 || owed > 0)
		return (false);
	/*
	 * Read without the tag lock (the etid lock keeps cst alive; its
	 * lock comes after the etid lock's users).  stuck() runs when the
	 * world is quiet.
	 */
	kernel = (cst->flags & EO_SND_TAG_REF) != 0;
	refs = (int)refcount_load(&cst->com.refcount);
	outside = refs - cst->mbuf_refs;
	if (kernel && outside > 0)
		return (false);
#ifdef SNDTAG_VARIANT_CXGBE_NOFLUSH
	CANARY_TRIGGERED(CANARY_CXGBE_NOFLUSH);
#endif
	fprintf(stderr, "cxgbe: %s etid %d: %d WRs (%d credits) at the "
	    "firmware, none asked for a completion; tag %s, %d references "
	    "(%d held by queued mbufs)\n", sc->name, etid, wrs, fwcredits,
	    kernel ? "still held" : "freed by the kernel", refs,
	    cst->mbuf_refs);
	return (true);
}

static int
cxgbe_actor_stuck(void)
{
	struct adapter *v[CXGBE_MAX_ADAPTERS];
	int i, etid, n, stuck = 0;

	n = cxgbe_pin_all(v);
	for (i = 0; i < n; i++) {
		mtx_lock(&v[i]->etid_lock);
		for (etid = 0; etid < v[i]->params.n_etids; etid++)
			if (v[i]->etid_tab[etid] != NULL &&
			    cxgbe_flow_stuck(v[i], etid,
			    v[i]->etid_tab[etid]))
				stuck++;
		mtx_unlock(&v[i]->etid_lock);
		cxgbe_unpin(v[i]);
	}
	return (stuck);
}

static void
cxgbe_actor_ledger(struct ledger *l)
{
	struct adapter *v[CXGBE_MAX_ADAPTERS], *sc;
	struct cxgbe_rate_tag *cst;
	int i, etid, cl, n;

	n = cxgbe_pin_all(v);
	for (i = 0; i < n; i++) {
		sc = v[i];
		mtx_lock(&sc->etid_lock);
		for (etid = 0; etid < sc->params.n_etids; etid++) {
			cst = sc->etid_tab[etid];
			if (cst == NULL)
				continue;
			ledger_fail(l, "cxgbe: %s: etid %d leaked (%d of %d "
			    "credits home, %d WRs at the firmware)", sc->name,
			    etid, cst->tx_credits, cst->tx_total,
			    sc->fwq[etid].count);
		}
		mtx_unlock(&sc->etid_lock);
		mtx_lock(&sc->tc_lock);
		for (cl = 0; cl < sc->params.n_classes; cl++)
			if (sc->tc[cl].refcount != 0)
				ledger_fail(l, "cxgbe: %s: class %d leaked "
				    "(%d references)", sc->name, cl,
				    sc->tc[cl].refcount);
		mtx_unlock(&sc->tc_lock);
		mtx_lock(&sc->txq.lock);
		if (sc->txq.count != 0)
			ledger_fail(l, "cxgbe: %s: %d packets left in the "
			    "tx ring", sc->name, sc->txq.count);
		mtx_unlock(&sc->txq.lock);
		ledger_fail(l, "cxgbe: %s: adapter not freed (its ifnet is "
		    "still referenced)", sc->name);
		cxgbe_unpin(sc);
	}
}

static struct harness_actor cxgbe_actor = {
	.name = "cxgbe",
	.pending = cxgbe_actor_pending,
	.progress = cxgbe_actor_progress,
	.ledger = cxgbe_actor_ledger,
	.stuck = cxgbe_actor_stuck,
};
