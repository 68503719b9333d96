/*
 * Model of sys/net/if_epair.c: a pair of Ethernet interfaces joined
 * back to back.  epair_transmit strips any send tag (it is a tag-less
 * driver: a packet that becomes a received packet must not carry one)
 * and queues the packet; delivery, driven by the actor, sets rcvif to
 * the peer and calls the peer's if_input.
 */
#include <pthread.h>

#include "shim/canary.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "harness/world.h"
#include "net/if_epair.h"

MALLOC_DEFINE(M_EPAIR, "epair", "epair interface");


struct epair_softc {
	struct ifnet	*ifp;
	struct epair_softc *oifp_sc;	/* the other side */
	struct epair_pair *pair;
};

/*
 * Transmitters run in the net epoch and may still hold the old if_softc
 * while the pair is destroyed, so the pair is freed through the epoch;
 * dead (under the queue mutex) stops them queueing after the purge.
 */
struct epair_pair {
	struct epair_softc sc[2];
	struct epair_pair *next;	/* epair_list */
	bool		 dead;
	struct epoch_context ctx;
};

/*
 * A packet on its way to dst.  dst (inside the pair) is only read under
 * the queue mutex while the packet is queued, because destroy purges the
 * queue before it frees the pair; the deliverer, which may run after the
 * purge, uses ifp, which the net epoch keeps (if_free defers through it).
 */
struct epair_pkt {
	struct epair_pkt *next;
	struct mbuf	*m;
	struct epair_softc *dst;
	struct ifnet	*ifp;		/* dst->ifp */
};

/*
 * The in-flight queue is model state under a model mutex, created once
 * and never destroyed: a deliverer may still take it while the last pair
 * goes.  The pair count and list are harness bookkeeping under a plain
 * pthread mutex.
 */
static pthread_mutex_t epair_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct epair_pair *epair_list;
static int epair_npairs;

static pthread_once_t epair_init_once = PTHREAD_ONCE_INIT;
static struct mtx epair_queue_mtx;
static struct epair_pkt *epair_head, **epair_tailp = &epair_head;
static int epair_qlen;

static struct harness_actor epair_actor;

static void
epair_init_queue(void)
{
	mtx_init(&epair_queue_mtx, "epair queue", NULL, MTX_DEF);
}

static int
epair_npairs_get(void)
{
	int n;

	pthread_mutex_lock(&epair_list_lock);
	n = epair_npairs;
	pthread_mutex_unlock(&epair_list_lock);
	return (n);
}

static int
epair_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct epair_softc *sc;
	struct epair_pkt *pkt;
	struct m_snd_tag *mst;
	bool tagged;

	M_ASSERTPKTHDR(m);
	MPASS(m->m_nextpkt == NULL);
	/* NULL once destroy has begun (we got here before if_dead). */
	sc = __atomic_load_n((struct epair_softc **)&ifp->if_softc,
	    __ATOMIC_ACQUIRE);
	if (sc == NULL) {
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENXIO);
	}
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
	/* The historic test: any non-NULL pointer in the union. */
	CANARY_REACHED(CANARY_RCVIF_AS_TAG);
	tagged = m->m_pkthdr.snd_tag != NULL;
	if (tagged && (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0)
		CANARY_TRIGGERED(CANARY_RCVIF_AS_TAG);
#else
	tagged = (m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0;
#endif
	/*
	 * The packet becomes a received packet on the other side: it
	 * must not keep a send tag (spec §9.3).
	 */
	if (tagged) {
		mst = m->m_pkthdr.snd_tag;
		m->m_pkthdr.snd_tag = NULL;
		m->m_pkthdr.csum_flags &= ~CSUM_SND_TAG;
#ifdef SNDTAG_VARIANT_NOREF
		(void)mst;		/* a bare pointer: nothing to drop */
#else
		m_snd_tag_rele(mst);
#endif
	}

	pkt = malloc(sizeof(*pkt), M_EPAIR, M_NOWAIT);
	if (pkt == NULL) {
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENOBUFS);
	}
	pkt->m = m;
	pkt->dst = sc->oifp_sc;
	pkt->ifp = sc->oifp_sc->ifp;
	pkt->next = NULL;

	mtx_lock(&epair_queue_mtx);
	if (sc->pair->dead) {
		mtx_unlock(&epair_queue_mtx);
		free(pkt, M_EPAIR);
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENXIO);
	}
	if (epair_qlen >= EPAIR_QUEUE_MAX) {
		mtx_unlock(&epair_queue_mtx);
		free(pkt, M_EPAIR);
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (ENOBUFS);
	}
	*epair_tailp = pkt;
	epair_tailp = &pkt->next;
	epair_qlen++;
	mtx_unlock(&epair_queue_mtx);
	if_inc_counter(ifp, IFCOUNTER_OPACKETS, 1);
	return (0);
}

static void
epair_qflush(struct ifnet *ifp)
{
}

static struct epair_pkt *
epair_dequeue(void)
{
	struct epair_pkt *pkt;

	mtx_lock(&epair_queue_mtx);
	pkt = epair_head;
	if (pkt != NULL) {
		epair_head = pkt->next;
		if (epair_head == NULL)
			epair_tailp = &epair_head;
		epair_qlen--;
	}
	mtx_unlock(&epair_queue_mtx);
	return (pkt);
}

/*
 * Each packet is delivered inside the net epoch, as FreeBSD's epair task
 * (a NET_TASK) runs: a destroy that purged the queue after we took the
 * packet cannot free the receiving ifnet before we are done with it.
 */
int
epair_deliver(int n)
{
	struct epoch_tracker et;
	struct epair_pkt *pkt;
	struct ifnet *ifp;
	struct mbuf *m;
	int done;

	if (epair_npairs_get() == 0)
		return (0);
	for (done = 0; n <= 0 || done < n; done++) {
		NET_EPOCH_ENTER(et);
		pkt = epair_dequeue();
		if (pkt == NULL) {
			NET_EPOCH_EXIT(et);
			break;
		}
		m = pkt->m;
		ifp = pkt->ifp;
		free(pkt, M_EPAIR);
		/* A received packet: rcvif, never a tag. */
		KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
		    ("receive mbuf has send tag! (epair to %s)",
		    ifp->if_xname));
		m->m_pkthdr.rcvif = ifp;
		if_inc_counter(ifp, IFCOUNTER_IPACKETS, 1);
		/* if_detach may swap in the dead method concurrently. */
		if_getinputfn(ifp)(ifp, m);
		NET_EPOCH_EXIT(et);
	}
	return (done);
}

int
epair_queued(void)
{
	int n;

	if (epair_npairs_get() == 0)
		return (0);
	mtx_lock(&epair_queue_mtx);
	n = epair_qlen;
	mtx_unlock(&epair_queue_mtx);
	return (n);
}

static void
epair_setup_ifp(struct epair_softc *sc, struct ifnet *ifp, int unit,
    char side)
{
	if_initname(ifp, "epair", unit);
	/* epairNa / epairNb, as the clone names them. */
	snprintf(ifp->if_xname, sizeof(ifp->if_xname), "epair%d%c", unit,
	    side);
	sc->ifp = ifp;
	ifp->if_softc = sc;
	ifp->if_output = ether_output;
	ifp->if_transmit = epair_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = epair_qflush;
	ifp->if_snd_tag_alloc = NULL;	/* no send-tag support */
	if_setflagbits(ifp, IFF_UP, 0);
	if_setdrvflagbits(ifp, IFF_DRV_RUNNING, 0);
	ifp->if_mtu = 1500;
}

int
epair_clone_create(int unit, struct ifnet **a, struct ifnet **b)
{
	struct epair_pair *pair;
	struct ifnet *ifpa, *ifpb;

	pair = malloc(sizeof(*pair), M_EPAIR, M_NOWAIT | M_ZERO);
	if (pair == NULL)
		return (ENOMEM);
	ifpa = if_alloc(IFT_ETHER);
	ifpb = ifpa != NULL ? if_alloc(IFT_ETHER) : NULL;
	if (ifpb == NULL) {
		if (ifpa != NULL)
			if_free(ifpa);
		free(pair, M_EPAIR);
		return (ENOMEM);
	}
	pair->sc[0].pair = pair->sc[1].pair = pair;
	pair->sc[0].oifp_sc = &pair->sc[1];
	pair->sc[1].oifp_sc = &pair->sc[0];
	epair_setup_ifp(&pair->sc[0], ifpa, unit, 'a');
	epair_setup_ifp(&pair->sc[1], ifpb, unit, 'b');

	pthread_once(&epair_init_once, epair_init_queue);
	pthread_mutex_lock(&epair_list_lock);
	pair->next = epair_list;
	epair_list = pair;
	epair_npairs++;
	pthread_mutex_unlock(&epair_list_lock);

	if_attach(ifpa);
	if_attach(ifpb);
	if_link_state_change(ifpa, LINK_STATE_UP);
	if_link_state_change(ifpb, LINK_STATE_UP);
	harness_actor_register(&epair_actor);
	*a = ifpa;
	*b = ifpb;
	return (0);
}

/* Drop the packets in flight to either side of the pair. */
static void
epair_purge(struct epair_pair *pair)
{
	struct epair_pkt *pkt, **pp, *dead = NULL;

	mtx_lock(&epair_queue_mtx);
	pair->dead = true;
	epair_tailp = &epair_head;
	for (pp = &epair_head; (pkt = *pp) != NULL; ) {
		if (pkt->dst->pair == pair) {
			*pp = pkt->next;
			epair_qlen--;
			pkt->next = dead;
			dead = pkt;
		} else {
			pp = &pkt->next;
			epair_tailp = &pkt->next;
		}
	}
	mtx_unlock(&epair_queue_mtx);
	while ((pkt = dead) != NULL) {
		dead = pkt->next;
		m_freem(pkt->m);
		free(pkt, M_EPAIR);
	}
}

static void
epair_pair_free(epoch_context_t ctx)
{
	free((char *)ctx - offsetof(struct epair_pair, ctx), M_EPAIR);
}

void
epair_clone_destroy(struct ifnet *ifp)
{
	struct epair_softc *sc = __atomic_load_n(
	    (struct epair_softc **)&ifp->if_softc, __ATOMIC_ACQUIRE);
	struct epair_pair *pair, **pp;
	int qlen;
	bool last;

	/* Already destroyed (the ifnet awaits its deferred free): no-op. */
	if (sc == NULL)
		return;
	pair = sc->pair;
	if_detach(pair->sc[0].ifp);
	if_detach(pair->sc[1].ifp);
	epair_purge(pair);

	pthread_mutex_lock(&epair_list_lock);
	for (pp = &epair_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pair) {
			*pp = pair->next;
			break;
		}
	last = --epair_npairs == 0;
	pthread_mutex_unlock(&epair_list_lock);
	if (last) {
		mtx_lock(&epair_queue_mtx);
		qlen = epair_qlen;
		mtx_unlock(&epair_queue_mtx);
		KASSERT(qlen == 0, ("epair: %d packets queued with no pair "
		    "left", qlen));
	}

	__atomic_store_n(&pair->sc[0].ifp->if_softc, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&pair->sc[1].ifp->if_softc, NULL, __ATOMIC_RELEASE);
	if_free(pair->sc[0].ifp);
	if_free(pair->sc[1].ifp);
	NET_EPOCH_CALL(epair_pair_free, &pair->ctx);
}

static int
epair_actor_pending(void)
{
	return (epair_queued());
}

/* One round: the packets queued now (deliveries may queue more). */
static int
epair_actor_progress(void)
{
	int n = epair_queued();

	return (n > 0 ? epair_deliver(n) : 0);
}

static void
epair_actor_ledger(struct ledger *l)
{
	struct epair_pair *pair;

	pthread_mutex_lock(&epair_list_lock);
	for (pair = epair_list; pair != NULL; pair = pair->next)
		ledger_fail(l, "epair: %s/%s not destroyed",
		    pair->sc[0].ifp->if_xname, pair->sc[1].ifp->if_xname);
	pthread_mutex_unlock(&epair_list_lock);
}

static struct harness_actor epair_actor = {
	.name = "epair",
	.pending = epair_actor_pending,
	.progress = epair_actor_progress,
	.ledger = epair_actor_ledger,
	.stuck = NULL,
};
