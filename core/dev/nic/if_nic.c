/*
 * A plain Ethernet NIC (harness driver in the shape of a simple FreeBSD
 * driver): a transmit ring that keeps each mbuf, with its tag reference,
 * until a tx completion (nic_txeof), and a receive entry point.
 *
 * Without NIC_F_TXRTLMT there is no send-tag support and a tagged packet
 * at nic_transmit is a bug above us.  With it, tags are small malloc'd
 * structs embedding m_snd_tag; the driver counts each tag's packets in the
 * ring (its queue level) and frees the tag from its free method.
 *
 * The softc lives until the ifnet's last reference (if_free_softc): tags
 * pin the ifnet, so a tag released after detach still finds the softc.
 */
#include "dev/nic/if_nic.h"
#include "harness/world.h"
#include "shim/canary.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "net/if_vlan_var.h"

#include <pthread.h>

MALLOC_DEFINE(M_NIC, "nic", "plain NIC driver");

#define	NIC_RING_MAX	4096
#define	NIC_MTU_MAX	65535

struct nic_softc {
	struct ifnet	*ifp;
	int		 flags;		/* NIC_F_* */
	struct mtx	 tx_mtx;	/* ring, gone */
	struct mbuf	**ring;
	int		 ring_size;
	int		 ring_head;	/* oldest */
	int		 ring_count;
	bool		 gone;		/* nic_detach has emptied the ring */
	uint64_t	 tx_total;
	u_int		 tags_live;
	struct nic_softc *next;		/* nic_list */
};

struct nic_tag {
	struct m_snd_tag com;
	uint64_t	 max_rate;	/* bytes/s; 0 for unlimited */
	u_int		 queued;	/* this tag's packets in the ring */
};

/* Attached nics, for the harness actor. */
static struct nic_softc *nic_list;
static struct mtx nic_list_mtx;
static pthread_once_t nic_init_once = PTHREAD_ONCE_INIT;

static int	nic_actor_pending(void);
static int	nic_actor_progress(void);
static void	nic_actor_ledger(struct ledger *l);

static struct harness_actor nic_actor = {
	.name = "nic-tx",
	.pending = nic_actor_pending,
	.progress = nic_actor_progress,
	.ledger = nic_actor_ledger,
};

static void
nic_init_locks(void)
{
	mtx_init(&nic_list_mtx, "nic_list", NULL, MTX_DEF);
}

static inline struct nic_softc *
nic_softc(struct ifnet *ifp)
{
	return (ifp->if_softc);
}

/*
 * Does m carry a send tag?  The flag is the only valid indicator.
 */
static inline bool
nic_m_tagged(struct mbuf *m)
{
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
	/* Historic: decided by the pointer; a forwarded rcvif looks like one. */
	CANARY_REACHED(CANARY_RCVIF_AS_TAG);
	if (m->m_pkthdr.snd_tag != NULL &&
	    (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0)
		CANARY_TRIGGERED(CANARY_RCVIF_AS_TAG);
	return (m->m_pkthdr.snd_tag != NULL);
#else
	return ((m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0);
#endif
}

static inline const char *
nic_ifname(const struct ifnet *ifp)
{
	return (ifp != NULL ? ifp->if_xname : "(none)");
}

/*
 * Send tags (NIC_F_TXRTLMT only).
 */
static int	nic_snd_tag_modify(struct m_snd_tag *,
		    union if_snd_tag_modify_params *);
static int	nic_snd_tag_query(struct m_snd_tag *,
		    union if_snd_tag_query_params *);
static void	nic_snd_tag_free(struct m_snd_tag *);

static const struct if_snd_tag_sw nic_rl_sw = {
	.snd_tag_modify = nic_snd_tag_modify,
	.snd_tag_query = nic_snd_tag_query,
	.snd_tag_free = nic_snd_tag_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

/* An unlimited tag has no rate to change. */
static const struct if_snd_tag_sw nic_ul_sw = {
	.snd_tag_query = nic_snd_tag_query,
	.snd_tag_free = nic_snd_tag_free,
	.type = IF_SND_TAG_TYPE_UNLIMITED,
};

static int
nic_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **mstp)
{
	struct nic_softc *sc = nic_softc(ifp);
	const struct if_snd_tag_sw *sw;
	struct nic_tag *nt;

	switch (params->hdr.type) {
	case IF_SND_TAG_TYPE_RATE_LIMIT:
		sw = &nic_rl_sw;
		break;
	case IF_SND_TAG_TYPE_UNLIMITED:
		sw = &nic_ul_sw;
		break;
	default:
		return (EOPNOTSUPP);
	}
	nt = malloc(sizeof(*nt), M_NIC, M_NOWAIT | M_ZERO);
	if (nt == NULL)
		return (ENOMEM);
	if (sw->type == IF_SND_TAG_TYPE_RATE_LIMIT)
		nt->max_rate = params->rate_limit.max_rate;
	__atomic_fetch_add(&sc->tags_live, 1, __ATOMIC_RELAXED);
	m_snd_tag_init(&nt->com, ifp, sw);
	*mstp = &nt->com;
	return (0);
}

static int
nic_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	struct nic_tag *nt = (struct nic_tag *)mst;

	__atomic_store_n(&nt->max_rate, params->rate_limit.max_rate,
	    __ATOMIC_RELAXED);
	return (0);
}

static int
nic_snd_tag_query(struct m_snd_tag *mst, union if_snd_tag_query_params *params)
{
	struct nic_tag *nt = (struct nic_tag *)mst;
	struct nic_softc *sc = nic_softc(mst->ifp);
	uint64_t level;

	level = (uint64_t)__atomic_load_n(&nt->queued, __ATOMIC_RELAXED) *
	    65535 / (uint64_t)sc->ring_size;
	params->rate_limit.max_rate = __atomic_load_n(&nt->max_rate,
	    __ATOMIC_RELAXED);
	params->rate_limit.queue_level = (uint32_t)MIN(level, 65535);
	params->rate_limit.flags = 0;
	return (0);
}

/* Runs from m_snd_tag_destroy, in whatever context dropped the last ref. */
static void
nic_snd_tag_free(struct m_snd_tag *mst)
{
	struct nic_tag *nt = (struct nic_tag *)mst;
	struct nic_softc *sc = nic_softc(mst->ifp);
	u_int old, queued;

	queued = __atomic_load_n(&nt->queued, __ATOMIC_RELAXED);
	KASSERT(queued == 0, ("snd_tag destroy: %s tag freed with %u of its "
	    "packets in the tx ring", nic_ifname(mst->ifp), queued));
	old = __atomic_fetch_sub(&sc->tags_live, 1, __ATOMIC_RELAXED);
	KASSERT(old > 0, ("snd_tag destroy: %s tag count underflow",
	    nic_ifname(mst->ifp)));
	free(nt, M_NIC);
}

/*
 * Transmit.
 */
static int
nic_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct nic_softc *sc = nic_softc(ifp);
	struct nic_tag *nt;
	struct m_snd_tag *mst;
	int slot;

	M_ASSERTPKTHDR(m);
	nt = NULL;
	if ((sc->flags & NIC_F_TXRTLMT) == 0) {
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
		KASSERT(!nic_m_tagged(m),
		    ("tag at tag-less driver: %s got a tagged packet",
		    ifp->if_xname));
#else
		KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
		    ("tag at tag-less driver: %s got a tagged packet",
		    ifp->if_xname));
#endif
	} else if (nic_m_tagged(m)) {
		mst = m->m_pkthdr.snd_tag;
		KASSERT(mst->ifp == ifp, ("tag ifp mismatch: %s got a tag of "
		    "%s", ifp->if_xname, nic_ifname(mst->ifp)));
		nt = (struct nic_tag *)mst;
	}
	if ((if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0) {
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		m_freem(m);
		return (ENETDOWN);
	}
	mtx_lock(&sc->tx_mtx);
	if (sc->gone) {
		mtx_unlock(&sc->tx_mtx);
		m_freem(m);
		return (ENXIO);
	}
	if (sc->ring_count == sc->ring_size) {
		mtx_unlock(&sc->tx_mtx);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		m_freem(m);
		return (ENOBUFS);
	}
	slot = (sc->ring_head + sc->ring_count) % sc->ring_size;
	sc->ring[slot] = m;
	sc->ring_count++;
	sc->tx_total++;
	if (nt != NULL)
		__atomic_fetch_add(&nt->queued, 1, __ATOMIC_RELAXED);
	mtx_unlock(&sc->tx_mtx);
	if_inc_counter(ifp, IFCOUNTER_OPACKETS, 1);
	return (0);
}

/*
 * Take up to n (n < 0: all) of the oldest packets off the ring, linked by
 * m_nextpkt, so they can be freed without the ring lock.
 */
static struct mbuf *
nic_ring_take(struct nic_softc *sc, int n, int *countp)
{
	struct mbuf *head, **tailp, *m;
	int count;

	head = NULL;
	tailp = &head;
	count = 0;
	mtx_lock(&sc->tx_mtx);
	while (sc->ring_count > 0 && (n < 0 || count < n)) {
		m = sc->ring[sc->ring_head];
		sc->ring[sc->ring_head] = NULL;
		sc->ring_head = (sc->ring_head + 1) % sc->ring_size;
		sc->ring_count--;
		*tailp = m;
		tailp = &m->m_nextpkt;
		count++;
	}
	mtx_unlock(&sc->tx_mtx);
	*countp = count;
	return (head);
}

/* Complete the packets: the tag's queue level drops, then the mbuf goes. */
static void
nic_complete(struct nic_softc *sc, struct mbuf *m)
{
	struct mbuf *next;
	struct nic_tag *nt;
	u_int old;

	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if ((sc->flags & NIC_F_TXRTLMT) && nic_m_tagged(m)) {
			nt = (struct nic_tag *)m->m_pkthdr.snd_tag;
			old = __atomic_fetch_sub(&nt->queued, 1,
			    __ATOMIC_RELAXED);
			KASSERT(old > 0, ("snd_tag refcount: %s tag queue "
			    "count underflow", sc->ifp->if_xname));
		}
		m_freem(m);
	}
}

int
nic_txeof(struct ifnet *ifp, int n)
{
	struct nic_softc *sc = nic_softc(ifp);
	struct mbuf *m;
	int count;

	if (n == 0)
		return (0);
	m = nic_ring_take(sc, n, &count);
	nic_complete(sc, m);
	return (count);
}

/*
 * SIOCSIFCAP: flip the rate-limit bit if the request changes it.  Tags
 * already handed out stay valid (FreeBSD drivers do not revoke them);
 * the vlans on this nic follow.
 */
static int
nic_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;
	int mask;

	if (cmd != SIOCSIFCAP)
		return (EINVAL);
	mask = ifr->ifr_reqcap ^ if_getcapenable(ifp);
	if ((mask & IFCAP_TXRTLMT) != 0 &&
	    (if_getcapabilities(ifp) & IFCAP_TXRTLMT) != 0)
		if_setcapenablebit(ifp, ifr->ifr_reqcap & IFCAP_TXRTLMT,
		    ~ifr->ifr_reqcap & IFCAP_TXRTLMT);
	VLAN_CAPABILITIES(ifp);
	return (0);
}

static void
nic_qflush(struct ifnet *ifp)
{
	(void)nic_txeof(ifp, -1);
}

int
nic_ring_count(struct ifnet *ifp)
{
	struct nic_softc *sc = nic_softc(ifp);
	int n;

	mtx_lock(&sc->tx_mtx);
	n = sc->ring_count;
	mtx_unlock(&sc->tx_mtx);
	return (n);
}

struct mbuf *
nic_ring_peek(struct ifnet *ifp, int i)
{
	struct nic_softc *sc = nic_softc(ifp);
	struct mbuf *m;

	m = NULL;
	mtx_lock(&sc->tx_mtx);
	if (i >= 0 && i < sc->ring_count)
		m = sc->ring[(sc->ring_head + i) % sc->ring_size];
	mtx_unlock(&sc->tx_mtx);
	return (m);
}

uint64_t
nic_tx_total(struct ifnet *ifp)
{
	struct nic_softc *sc = nic_softc(ifp);
	uint64_t n;

	mtx_lock(&sc->tx_mtx);
	n = sc->tx_total;
	mtx_unlock(&sc->tx_mtx);
	return (n);
}

int
nic_tags_live(struct ifnet *ifp)
{
	return ((int)__atomic_load_n(&nic_softc(ifp)->tags_live,
	    __ATOMIC_RELAXED));
}

/*
 * A packet from the wire: never tagged, received on ifp.  The receive
 * path runs in the net epoch, as FreeBSD's network interrupt threads
 * enter it, so what it finds (routes, lagg ports, ifnets) stays valid.
 */
void
nic_rx(struct ifnet *ifp, struct mbuf *m)
{
	struct epoch_tracker et;

	M_ASSERT_NO_SND_TAG(m);
	m->m_pkthdr.rcvif = ifp;
	NET_EPOCH_ENTER(et);
	if ((if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0) {
		if_inc_counter(ifp, IFCOUNTER_IERRORS, 1);
		m_freem(m);
	} else {
		if_inc_counter(ifp, IFCOUNTER_IPACKETS, 1);
		if_getinputfn(ifp)(ifp, m);
	}
	NET_EPOCH_EXIT(et);
}

/*
 * Attach and detach.
 */
static void
nic_free_softc(struct ifnet *ifp)
{
	struct nic_softc *sc = nic_softc(ifp);

	KASSERT(sc->ring_count == 0, ("ledger: %s softc freed with %d "
	    "packets in the ring", ifp->if_xname, sc->ring_count));
	KASSERT(sc->tags_live == 0, ("ledger: %s softc freed with %u tags",
	    ifp->if_xname, sc->tags_live));
	mtx_destroy(&sc->tx_mtx);
	free(sc->ring, M_NIC);
	free(sc, M_NIC);
	ifp->if_softc = NULL;
}

struct ifnet *
nic_attach(const char *name, int unit, int flags, int ring_size, u_long mtu)
{
	struct nic_softc *sc;
	struct ifnet *ifp;

	pthread_once(&nic_init_once, nic_init_locks);
	if (ring_size == 0)
		ring_size = NIC_RING_DEFAULT;
	if (mtu == 0)
		mtu = 1500;
	if (name == NULL || ring_size < 0 || ring_size > NIC_RING_MAX ||
	    mtu > NIC_MTU_MAX ||
	    (flags & ~(NIC_F_TXRTLMT | NIC_F_TSO)) != 0)
		return (NULL);
	harness_actor_register(&nic_actor);

	sc = malloc(sizeof(*sc), M_NIC, M_WAITOK | M_ZERO);
	sc->ring = malloc(sizeof(*sc->ring) * (size_t)ring_size, M_NIC,
	    M_WAITOK | M_ZERO);
	sc->ring_size = ring_size;
	sc->flags = flags;
	mtx_init(&sc->tx_mtx, "nic_tx", NULL, MTX_DEF);

	ifp = if_alloc(IFT_ETHER);
	sc->ifp = ifp;
	if_initname(ifp, name, unit);
	ifp->if_softc = sc;
	ifp->if_mtu = mtu;
	ifp->if_output = ether_output;
	ifp->if_transmit = nic_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = nic_qflush;
	ifp->if_ioctl = nic_ioctl;
	ifp->if_free_softc = nic_free_softc;
	if (flags & NIC_F_TXRTLMT) {
		ifp->if_capabilities |= IFCAP_TXRTLMT;
		ifp->if_snd_tag_alloc = nic_snd_tag_alloc;
	}
	if (flags & NIC_F_TSO)
		ifp->if_capabilities |= IFCAP_TSO;
	ifp->if_capenable = ifp->if_capabilities;
	ifp->if_flags = IFF_UP;
	ifp->if_drv_flags = IFF_DRV_RUNNING;
	ifp->if_link_state = LINK_STATE_UP;

	mtx_lock(&nic_list_mtx);
	sc->next = nic_list;
	nic_list = sc;
	mtx_unlock(&nic_list_mtx);
	if_attach(ifp);
	return (ifp);
}

/* As a driver's detach: drop what is left in the ring, then the ifnet. */
void
nic_detach(struct ifnet *ifp)
{
	struct nic_softc *sc = nic_softc(ifp), **scp;
	struct mbuf *m;
	int n;

	mtx_lock(&nic_list_mtx);
	for (scp = &nic_list; *scp != NULL && *scp != sc; scp = &(*scp)->next)
		;
	KASSERT(*scp == sc, ("ifnet: nic_detach of %s, not an attached nic",
	    ifp->if_xname));
	*scp = sc->next;
	sc->next = NULL;
	mtx_unlock(&nic_list_mtx);

	mtx_lock(&sc->tx_mtx);
	sc->gone = true;
	mtx_unlock(&sc->tx_mtx);
	m = nic_ring_take(sc, -1, &n);
	nic_complete(sc, m);

	if_detach(ifp);
	if_free(ifp);
}

/*
 * Harness actor "nic-tx": tx completions.  One round completes every ring.
 */
static int
nic_actor_pending(void)
{
	struct nic_softc *sc;
	int n;

	pthread_once(&nic_init_once, nic_init_locks);
	n = 0;
	mtx_lock(&nic_list_mtx);
	for (sc = nic_list; sc != NULL; sc = sc->next)
		n += nic_ring_count(sc->ifp);
	mtx_unlock(&nic_list_mtx);
	return (n);
}

static int
nic_actor_progress(void)
{
	struct nic_softc *sc;
	int n;

	pthread_once(&nic_init_once, nic_init_locks);
	n = 0;
	mtx_lock(&nic_list_mtx);
	for (sc = nic_list; sc != NULL; sc = sc->next)
		n += nic_txeof(sc->ifp, -1);
	mtx_unlock(&nic_list_mtx);
	return (n);
}

static void
nic_actor_ledger(struct ledger *l)
{
	struct nic_softc *sc;

	pthread_once(&nic_init_once, nic_init_locks);
	mtx_lock(&nic_list_mtx);
	for (sc = nic_list; sc != NULL; sc = sc->next)
		ledger_fail(l, "nic %s still attached (%d packets in the ring, "
		    "%u tags)", sc->ifp->if_xname, nic_ring_count(sc->ifp),
		    __atomic_load_n(&sc->tags_live, __ATOMIC_RELAXED));
	mtx_unlock(&nic_list_mtx);
}
