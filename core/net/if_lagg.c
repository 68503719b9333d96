/*
 * Model of sys/net/if_lagg.c: link aggregation over a set of ports, with
 * the wrapper send tags of r348254 (spec §8).
 *
 * The port list is a singly linked list in the style of CK_SLIST: readers
 * (transmit, tag allocation, the accessors) walk it inside the net epoch
 * with acquire loads; writers change it under the lagg sx lock with
 * release stores and free a removed port through epoch_call, so a reader
 * standing on it can still follow its next pointer and use its ifnet.
 *
 * One sx lock serialises the configuration of every lagg, and one link
 * and one departure listener (registered while any lagg exists) find the
 * port through the ifnet's if_lagg pointer, so a listener call can never
 * reach a freed softc.
 *
 * LACP is modelled without LACPDUs: the aggregator's distributing ports
 * are the ports whose link is up, in list order.
 */
#include <limits.h>
#include <pthread.h>

#include "shim/systm.h"
#include "shim/malloc.h"
#include "shim/lock.h"
#include "shim/epoch.h"
#include "shim/canary.h"
#include "shim/sched.h"
#include "sys/mbuf.h"
#include "net/if_var.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"

MALLOC_DEFINE(M_LAGG, "lagg", "link aggregation interface");

/* See VLAN_MAX_NESTING. */
#define	LAGG_MAX_NESTING	8

struct lagg_softc;

struct lagg_port {
	struct ifnet		*lp_ifp;	/* holds an if_ref */
	struct lagg_softc	*lp_softc;
	struct lagg_port	*lp_next;	/* epoch readers */
	int			 lp_link_state;	/* from link events */
	if_ioctl_fn_t		*lp_ioctl;	/* the port's own ioctl */
	int			 lp_ifcapenable; /* restored when it leaves */
	struct epoch_context	 lp_epoch_ctx;
};

struct lagg_softc {
	struct ifnet		*sc_ifp;
	struct lagg_port	*sc_ports;	/* head; epoch readers */
	int			 sc_count;	/* under lagg_sx */
	int			 sc_proto;	/* LAGG_PROTO_* */
	int			 sc_opts;	/* LAGG_OPT_* */
	u_int			 sc_seq;	/* round-robin sequence */
	int			 sc_flowid_shift;
	bool			 sc_dead;	/* lagg_clone_destroy ran */
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
	u_int			 sc_unsafe_readers;
#endif
};

static struct sx lagg_sx;
static pthread_once_t lagg_once = PTHREAD_ONCE_INIT;
static int lagg_nsoftc;			/* live laggs, under lagg_sx */

static void
lagg_init_lock(void)
{
	sx_init(&lagg_sx, "lagg");
}

static void
lagg_init(void)
{
	pthread_once(&lagg_once, lagg_init_lock);
}

#define	mst_to_lst(mst)							\
	((struct lagg_snd_tag *)((char *)(mst) -			\
	    offsetof(struct lagg_snd_tag, com)))

/*
 * In the race variant the tag allocation walks the list outside the
 * epoch, so the readers' epoch assertion cannot hold there.
 */
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
#define	LAGG_LIST_ASSERT()	do { } while (0)
#else
#define	LAGG_LIST_ASSERT()	NET_EPOCH_ASSERT()
#endif

#define	LAGG_FIRST(sc)	__atomic_load_n(&(sc)->sc_ports, __ATOMIC_ACQUIRE)
#define	LAGG_NEXT(lp)	__atomic_load_n(&(lp)->lp_next, __ATOMIC_ACQUIRE)
#define	LAGG_PORTACTIVE(lp)						\
	(__atomic_load_n(&(lp)->lp_link_state, __ATOMIC_RELAXED) ==	\
	    LINK_STATE_UP)

static _Thread_local int lagg_nesting;

static if_snd_tag_modify_t lagg_snd_tag_modify;
static if_snd_tag_query_t lagg_snd_tag_query;
static if_snd_tag_free_t lagg_snd_tag_free;
static if_next_send_tag_t lagg_next_snd_tag;

static const struct if_snd_tag_sw lagg_snd_tag_rl_sw = {
	.snd_tag_modify = lagg_snd_tag_modify,
	.snd_tag_query = lagg_snd_tag_query,
	.snd_tag_free = lagg_snd_tag_free,
	.next_snd_tag = lagg_next_snd_tag,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static const struct if_snd_tag_sw lagg_snd_tag_ul_sw = {
	.snd_tag_modify = lagg_snd_tag_modify,
	.snd_tag_query = lagg_snd_tag_query,
	.snd_tag_free = lagg_snd_tag_free,
	.next_snd_tag = lagg_next_snd_tag,
	.type = IF_SND_TAG_TYPE_UNLIMITED,
};

/* Kernel TLS tags pass through wrappers as rate-limit tags do. */
static const struct if_snd_tag_sw lagg_snd_tag_tls_sw = {
	.snd_tag_modify = lagg_snd_tag_modify,
	.snd_tag_query = lagg_snd_tag_query,
	.snd_tag_free = lagg_snd_tag_free,
	.next_snd_tag = lagg_next_snd_tag,
	.type = IF_SND_TAG_TYPE_TLS,
};

static const struct if_snd_tag_sw lagg_snd_tag_tls_rl_sw = {
	.snd_tag_modify = lagg_snd_tag_modify,
	.snd_tag_query = lagg_snd_tag_query,
	.snd_tag_free = lagg_snd_tag_free,
	.next_snd_tag = lagg_next_snd_tag,
	.type = IF_SND_TAG_TYPE_TLS_RATE_LIMIT,
};

static void lagg_free_softc(struct ifnet *ifp);

static bool
lagg_is_ours(struct ifnet *ifp)
{
	return (ifp != NULL && ifp->if_free_softc == lagg_free_softc &&
	    ifp->if_softc != NULL);
}

/*
 * Port list readers.
 */
static int
lagg_nports(struct lagg_softc *sc)
{
	struct lagg_port *lp;
	int n;

	LAGG_LIST_ASSERT();
	n = 0;
	for (lp = LAGG_FIRST(sc); lp != NULL; lp = LAGG_NEXT(lp))
		n++;
	return (n);
}

static struct lagg_port *
lagg_nth_port(struct lagg_softc *sc, int i)
{
	struct lagg_port *lp;

	LAGG_LIST_ASSERT();
	for (lp = LAGG_FIRST(sc); lp != NULL && i > 0; lp = LAGG_NEXT(lp))
		i--;
	return (lp);
}

/* lp if its link is up, else its successor if up, else the first up. */
static struct lagg_port *
lagg_link_active(struct lagg_softc *sc, struct lagg_port *lp)
{
	struct lagg_port *lp_next;

	LAGG_LIST_ASSERT();
	if (lp != NULL) {
		if (LAGG_PORTACTIVE(lp))
			return (lp);
		lp_next = LAGG_NEXT(lp);
		if (lp_next != NULL && LAGG_PORTACTIVE(lp_next))
			return (lp_next);
	}
	for (lp_next = LAGG_FIRST(sc); lp_next != NULL;
	    lp_next = LAGG_NEXT(lp_next))
		if (LAGG_PORTACTIVE(lp_next))
			return (lp_next);
	return (NULL);
}

/* LACP: the (hash % n)-th of the n distributing ports. */
static struct lagg_port *
lacp_select_tx_port_by_hash(struct lagg_softc *sc, uint32_t hash)
{
	struct lagg_port *lp;
	int n;

	LAGG_LIST_ASSERT();
	n = 0;
	for (lp = LAGG_FIRST(sc); lp != NULL; lp = LAGG_NEXT(lp))
		if (LAGG_PORTACTIVE(lp))
			n++;
	if (n == 0)
		return (NULL);
	n = (int)(hash % (uint32_t)n);
	for (lp = LAGG_FIRST(sc); lp != NULL; lp = LAGG_NEXT(lp))
		if (LAGG_PORTACTIVE(lp) && n-- == 0)
			return (lp);
	/* The list changed under us: no port this time. */
	return (NULL);
}

static bool
lagg_use_flowid(struct lagg_softc *sc, uint32_t flowtype)
{
	return ((__atomic_load_n(&sc->sc_opts, __ATOMIC_RELAXED) &
	    LAGG_OPT_USE_FLOWID) != 0 && flowtype != M_HASHTYPE_NONE);
}

/* Where a tag for this flow has to live, or NULL: no tag (EOPNOTSUPP). */
static struct lagg_port *
lookup_snd_tag_port(struct lagg_softc *sc, uint32_t flowid,
    uint32_t flowtype)
{
	uint32_t hash;
	int n;

	LAGG_LIST_ASSERT();
	switch (__atomic_load_n(&sc->sc_proto, __ATOMIC_RELAXED)) {
	case LAGG_PROTO_FAILOVER:
		return (lagg_link_active(sc, LAGG_FIRST(sc)));
	case LAGG_PROTO_LOADBALANCE:
		if (!lagg_use_flowid(sc, flowtype))
			return (NULL);
		n = lagg_nports(sc);
		if (n == 0)
			return (NULL);
		hash = (flowid >> sc->sc_flowid_shift) % (uint32_t)n;
		return (lagg_link_active(sc, lagg_nth_port(sc, (int)hash)));
	case LAGG_PROTO_LACP:
		if (!lagg_use_flowid(sc, flowtype))
			return (NULL);
		return (lacp_select_tx_port_by_hash(sc,
		    flowid >> sc->sc_flowid_shift));
	default:
		/* Round-robin, broadcast, none: packets of one flow move. */
		return (NULL);
	}
}

/*
 * Transmit.
 */

/* The packet's own hash when it has none we may use (headers' bytes). */
static uint32_t
lagg_hash(struct lagg_softc *sc, struct mbuf *m)
{
	uint8_t buf[64];
	uint32_t h;
	int i, len;

	if (lagg_use_flowid(sc, M_HASHTYPE_GET(m)))
		return (m->m_pkthdr.flowid >> sc->sc_flowid_shift);
	len = MIN(m->m_pkthdr.len, (int)sizeof(buf));
	if (len <= 0)
		return (0);
	m_copydata(m, 0, len, (caddr_t)buf);
	h = 2166136261u;
	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 16777619u;
	return (h);
}

/* Hand m to a port: a tagged packet swaps to the port's tag or fails. */
static int
lagg_enqueue(struct ifnet *ifp, struct mbuf *m)
{
	struct m_snd_tag *mst;

	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG) {
		mst = m->m_pkthdr.snd_tag;
#ifdef SNDTAG_VARIANT_WRAPPER_PASSTHRU
		/*
		 * Historic: the port gets whatever tag the packet has, a
		 * stale port's tag included.  The bug fires when that tag
		 * reaches a driver it was not allocated on.
		 */
		CANARY_REACHED(CANARY_WRAPPER_PASSTHRU);
		if (mst->ifp != ifp && ifp->if_type != IFT_L2VLAN)
			CANARY_TRIGGERED(CANARY_WRAPPER_PASSTHRU);
#else
		struct lagg_snd_tag *lst = mst_to_lst(mst);

		if (lst->tag->ifp != ifp) {
			/* The flow moved to another port. */
			m_freem(m);
			return (EAGAIN);
		}
		wrapper_snd_tag_swap(m, lst->tag);
#endif
	}
	/* if_detach may be swapping in the dead methods right now. */
	return (if_gettransmitfn(ifp)(ifp, m));
}

static int
lagg_rr_start(struct lagg_softc *sc, struct mbuf *m)
{
	struct lagg_port *lp;
	uint32_t p;
	int n;

	n = lagg_nports(sc);
	lp = NULL;
	if (n > 0) {
		p = __atomic_fetch_add(&sc->sc_seq, 1, __ATOMIC_RELAXED);
		lp = lagg_link_active(sc, lagg_nth_port(sc,
		    (int)(p % (uint32_t)n)));
	}
	if (lp == NULL) {
		m_freem(m);
		return (ENETDOWN);
	}
	return (lagg_enqueue(lp->lp_ifp, m));
}

static int
lagg_fail_start(struct lagg_softc *sc, struct mbuf *m)
{
	struct lagg_port *lp;

	lp = lagg_link_active(sc, LAGG_FIRST(sc));
	if (lp == NULL) {
		m_freem(m);
		return (ENETDOWN);
	}
	return (lagg_enqueue(lp->lp_ifp, m));
}

static int
lagg_lb_start(struct lagg_softc *sc, struct mbuf *m)
{
	struct lagg_port *lp;
	uint32_t hash;
	int n;

	n = lagg_nports(sc);
	lp = NULL;
	if (n > 0) {
		hash = lagg_hash(sc, m) % (uint32_t)n;
		lp = lagg_link_active(sc, lagg_nth_port(sc, (int)hash));
	}
	if (lp == NULL) {
		m_freem(m);
		return (ENETDOWN);
	}
	return (lagg_enqueue(lp->lp_ifp, m));
}

static int
lagg_lacp_start(struct lagg_softc *sc, struct mbuf *m)
{
	struct lagg_port *lp;

	lp = lacp_select_tx_port_by_hash(sc, lagg_hash(sc, m));
	if (lp == NULL) {
		m_freem(m);
		return (ENETDOWN);
	}
	return (lagg_enqueue(lp->lp_ifp, m));
}

/*
 * Every active port gets the packet: all but the last a copy, which owns
 * its own tag reference (m_copym from offset 0 duplicates the header).
 */
static int
lagg_bcast_start(struct lagg_softc *sc, struct mbuf *m)
{
	struct lagg_port *lp, *last;
	struct mbuf *m0;
	int errors, ret;

	errors = 0;
	ret = 0;
	last = NULL;
	for (lp = LAGG_FIRST(sc); lp != NULL; lp = LAGG_NEXT(lp)) {
		if (!LAGG_PORTACTIVE(lp))
			continue;
		if (last != NULL) {
			m0 = m_copym(m, 0, M_COPYALL, M_NOWAIT);
			if (m0 == NULL) {
				ret = ENOBUFS;
				errors++;
				break;
			}
			if (lagg_enqueue(last->lp_ifp, m0) != 0)
				errors++;
		}
		last = lp;
	}
	if (last == NULL) {
		m_freem(m);
		return (ENOENT);
	}
	ret = lagg_enqueue(last->lp_ifp, m);
	if (errors != 0)
		if_inc_counter(sc->sc_ifp, IFCOUNTER_OERRORS, errors);
	return (ret);
}

static int
lagg_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct lagg_softc *sc = ifp->if_softc;
	struct epoch_tracker et;
	int error, proto;

	M_ASSERTPKTHDR(m);
#ifndef SNDTAG_VARIANT_WRAPPER_PASSTHRU
	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG)
		KASSERT(m->m_pkthdr.snd_tag->ifp == ifp,
		    ("tag ifp mismatch: lagg %s got a tag of %s",
		    ifp->if_xname, m->m_pkthdr.snd_tag->ifp->if_xname));
#endif

	NET_EPOCH_ENTER(et);
	proto = __atomic_load_n(&sc->sc_proto, __ATOMIC_RELAXED);
	if (proto == LAGG_PROTO_NONE || LAGG_FIRST(sc) == NULL ||
	    lagg_nesting >= LAGG_MAX_NESTING) {
		NET_EPOCH_EXIT(et);
		m_freem(m);
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		return (lagg_nesting >= LAGG_MAX_NESTING ? ELOOP : ENXIO);
	}

	lagg_nesting++;
	switch (proto) {
	case LAGG_PROTO_ROUNDROBIN:
		error = lagg_rr_start(sc, m);
		break;
	case LAGG_PROTO_FAILOVER:
		error = lagg_fail_start(sc, m);
		break;
	case LAGG_PROTO_LOADBALANCE:
		error = lagg_lb_start(sc, m);
		break;
	case LAGG_PROTO_LACP:
		error = lagg_lacp_start(sc, m);
		break;
	case LAGG_PROTO_BROADCAST:
	default:
		error = lagg_bcast_start(sc, m);
		break;
	}
	lagg_nesting--;
	NET_EPOCH_EXIT(et);
	return (error);
}

static void
lagg_qflush(struct ifnet *ifp __unused)
{
	/* No queue of our own: packets go straight to a port. */
}

/*
 * Send tags.
 */
static const struct if_snd_tag_sw * __unused
lagg_snd_tag_sw_for(const struct m_snd_tag *inner)
{
	switch (inner->sw != NULL ? inner->sw->type :
	    IF_SND_TAG_TYPE_RATE_LIMIT) {
	case IF_SND_TAG_TYPE_UNLIMITED:
		return (&lagg_snd_tag_ul_sw);
	case IF_SND_TAG_TYPE_TLS:
		return (&lagg_snd_tag_tls_sw);
	case IF_SND_TAG_TYPE_TLS_RATE_LIMIT:
		return (&lagg_snd_tag_tls_rl_sw);
	default:
		return (&lagg_snd_tag_rl_sw);
	}
}

static int
lagg_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **ppmt)
{
	struct lagg_softc *sc = ifp->if_softc;
	struct lagg_port *lp;
	struct ifnet *lp_ifp;
	int error;

	if (lagg_nesting >= LAGG_MAX_NESTING)
		return (ELOOP);
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
	/*
	 * Historic race: the port is looked up without entering the net
	 * epoch, so a concurrent port removal may free it under us.
	 */
	CANARY_REACHED(CANARY_RACE_LAGG_EPOCH);
	__atomic_fetch_add(&sc->sc_unsafe_readers, 1, __ATOMIC_SEQ_CST);
	lp = lookup_snd_tag_port(sc, params->hdr.flowid, params->hdr.flowtype);
	if (lp == NULL) {
		__atomic_fetch_sub(&sc->sc_unsafe_readers, 1, __ATOMIC_SEQ_CST);
		return (EOPNOTSUPP);
	}
	/* The window: a removal here frees lp once no epoch reader is in. */
	sched_point(SP_EXPLICIT, sc, "lagg_snd_tag_alloc port");
	lp_ifp = lp->lp_ifp;
	if_ref(lp_ifp);
	__atomic_fetch_sub(&sc->sc_unsafe_readers, 1, __ATOMIC_SEQ_CST);
#else
	struct epoch_tracker et;

	NET_EPOCH_ENTER(et);
	lp = lookup_snd_tag_port(sc, params->hdr.flowid, params->hdr.flowtype);
	if (lp == NULL) {
		NET_EPOCH_EXIT(et);
		return (EOPNOTSUPP);
	}
	/* A removal here cannot free lp: we are inside the epoch. */
	sched_point(SP_EXPLICIT, sc, "lagg_snd_tag_alloc port");
	lp_ifp = lp->lp_ifp;
	if_ref(lp_ifp);
	NET_EPOCH_EXIT(et);
#endif

#ifdef SNDTAG_VARIANT_WRAPPER_PASSTHRU
	/* Historic: hand out the port's own tag. */
	CANARY_REACHED(CANARY_WRAPPER_PASSTHRU);
	lagg_nesting++;
	error = m_snd_tag_alloc(lp_ifp, params, ppmt);
	lagg_nesting--;
	if_rele(lp_ifp);
	/* Bug condition: the inp gets a tag that is not the lagg's. */
	if (error == 0 && (*ppmt)->ifp != ifp)
		CANARY_TRIGGERED(CANARY_WRAPPER_PASSTHRU);
	return (error);
#else
	struct lagg_snd_tag *lst;

	lst = malloc(sizeof(*lst), M_LAGG, M_NOWAIT | M_ZERO);
	if (lst == NULL) {
		if_rele(lp_ifp);
		return (ENOMEM);
	}
	lagg_nesting++;
	error = m_snd_tag_alloc(lp_ifp, params, &lst->tag);
	lagg_nesting--;
	if_rele(lp_ifp);
	if (error != 0) {
		free(lst, M_LAGG);
		return (error);
	}
	m_snd_tag_init(&lst->com, ifp, lagg_snd_tag_sw_for(lst->tag));
	*ppmt = &lst->com;
	return (0);
#endif
}

static int
lagg_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	struct m_snd_tag *inner = mst_to_lst(mst)->tag;

	if (inner->sw == NULL || inner->sw->snd_tag_modify == NULL)
		return (EOPNOTSUPP);
	return (inner->sw->snd_tag_modify(inner, params));
}

static int
lagg_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct m_snd_tag *inner = mst_to_lst(mst)->tag;

	if (inner->sw == NULL || inner->sw->snd_tag_query == NULL)
		return (EOPNOTSUPP);
	return (inner->sw->snd_tag_query(inner, params));
}

static void
lagg_snd_tag_free(struct m_snd_tag *mst)
{
	struct lagg_snd_tag *lst = mst_to_lst(mst);

	wrapper_snd_tag_rele_inner(lst->tag);
	free(lst, M_LAGG);
}

static struct m_snd_tag *
lagg_next_snd_tag(struct m_snd_tag *mst)
{
	return (mst_to_lst(mst)->tag);
}

/*
 * Port list writers (lagg_sx held).
 */
static void
lagg_port_free(epoch_context_t ctx)
{
	struct lagg_port *lp;

	lp = (struct lagg_port *)((char *)ctx -
	    offsetof(struct lagg_port, lp_epoch_ctx));
	if_rele(lp->lp_ifp);
	free(lp, M_LAGG);
}

static struct lagg_port *
lagg_port_find_locked(struct lagg_softc *sc, struct ifnet *ifp)
{
	struct lagg_port *lp;

	sx_assert(&lagg_sx, SA_XLOCKED);
	for (lp = sc->sc_ports; lp != NULL; lp = lp->lp_next)
		if (lp->lp_ifp == ifp)
			return (lp);
	return (NULL);
}

/*
 * lagg_setcaps: ask a port (through its own ioctl, lagg_port_ioctl
 * stands in front of it) for this set of send-tag capabilities.  The
 * driver turns on or off what it supports.
 */
static void
lagg_setcaps(struct lagg_port *lp, int cap)
{
	struct ifnet *ifp = lp->lp_ifp;
	struct ifreq ifr;
	int ena;

	sx_assert(&lagg_sx, SA_XLOCKED);
	ena = if_getcapenable(ifp);
	if ((ena & IFCAP_SNDTAG_MASK) == cap || lp->lp_ioctl == NULL ||
	    (if_getflags(ifp) & IFF_DYING) != 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_reqcap = (ena & ~IFCAP_SNDTAG_MASK) | cap;
	(void)lp->lp_ioctl(ifp, SIOCSIFCAP, (caddr_t)&ifr);
}

/*
 * lagg_capabilities: the lagg can do, and has enabled, what every port
 * can do and has enabled (nothing without ports), and the ports are
 * brought to that common set.  Only the send-tag bits are modelled.
 * The caller tells the lagg's vlans after dropping lagg_sx.
 */
static void
lagg_capabilities(struct lagg_softc *sc)
{
	struct ifnet *ifp = sc->sc_ifp;
	struct lagg_port *lp;
	int cap, ena, pena;

	sx_assert(&lagg_sx, SA_XLOCKED);
	cap = ena = IFCAP_SNDTAG_MASK;
	for (lp = sc->sc_ports; lp != NULL; lp = lp->lp_next) {
		cap &= if_getcapabilities(lp->lp_ifp);
		ena &= if_getcapenable(lp->lp_ifp);
	}
	if (sc->sc_ports == NULL)
		cap = ena = 0;
	/* A driver may refuse a bit: repeat until the set settles. */
	do {
		pena = ena;
		for (lp = sc->sc_ports; lp != NULL; lp = lp->lp_next) {
			lagg_setcaps(lp, ena);
			ena &= if_getcapenable(lp->lp_ifp);
		}
	} while (pena != ena);
	__atomic_store_n(&ifp->if_capabilities,
	    (if_getcapabilities(ifp) & ~IFCAP_SNDTAG_MASK) | cap,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&ifp->if_capenable,
	    (if_getcapenable(ifp) & ~IFCAP_SNDTAG_MASK) | ena,
	    __ATOMIC_RELAXED);
}

/*
 * SIOCSIFCAP on a port goes to its driver, then the lagg recomputes its
 * own set (which may turn the bit off on the other ports too) and its
 * vlans follow.
 */
static int
lagg_port_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct lagg_port *lp;
	struct ifnet *lifp;
	if_ioctl_fn_t *fn;
	int error;

	lagg_init();
	sx_xlock(&lagg_sx);
	lp = ifp->if_lagg;
	if (lp == NULL) {
		/* Left the lagg meanwhile: its own ioctl is back. */
		sx_xunlock(&lagg_sx);
		fn = if_getioctlfn(ifp);
		if (fn == NULL || fn == lagg_port_ioctl)
			return (ENXIO);
		return (fn(ifp, cmd, data));
	}
	if (lp->lp_ioctl == NULL) {
		sx_xunlock(&lagg_sx);
		return (EINVAL);
	}
	error = lp->lp_ioctl(ifp, cmd, data);
	if (error != 0 || cmd != SIOCSIFCAP) {
		sx_xunlock(&lagg_sx);
		return (error);
	}
	lagg_capabilities(lp->lp_softc);
	lifp = lp->lp_softc->sc_ifp;
	if_ref(lifp);
	sx_xunlock(&lagg_sx);
	VLAN_CAPABILITIES(lifp);
	if_rele(lifp);
	return (0);
}

/*
 * SIOCSIFCAP on the lagg goes to every port's own ioctl, and only then is
 * the common set recomputed: one port at a time through lagg_port_ioctl
 * would be pulled back by the others.
 */
static int
lagg_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct lagg_softc *sc = ifp->if_softc;
	struct lagg_port *lp;

	if (cmd != SIOCSIFCAP)
		return (EINVAL);
	lagg_init();
	sx_xlock(&lagg_sx);
	if (sc->sc_dead) {
		sx_xunlock(&lagg_sx);
		return (ENXIO);
	}
	for (lp = sc->sc_ports; lp != NULL; lp = lp->lp_next)
		if (lp->lp_ioctl != NULL &&
		    (if_getflags(lp->lp_ifp) & IFF_DYING) == 0)
			(void)lp->lp_ioctl(lp->lp_ifp, cmd, data);
	lagg_capabilities(sc);
	sx_xunlock(&lagg_sx);
	VLAN_CAPABILITIES(ifp);
	return (0);
}

static void
lagg_port_unlink_locked(struct lagg_softc *sc, struct lagg_port *lp,
    bool detaching)
{
	struct lagg_port **lpp;
	if_ioctl_fn_t *fn;

	sx_assert(&lagg_sx, SA_XLOCKED);
	/* Its own ioctl back, unless if_dead already replaced ours. */
	fn = lagg_port_ioctl;
	__atomic_compare_exchange_n(&lp->lp_ifp->if_ioctl, &fn, lp->lp_ioctl,
	    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (!detaching)
		lagg_setcaps(lp, lp->lp_ifcapenable & IFCAP_SNDTAG_MASK);
	for (lpp = &sc->sc_ports; *lpp != lp; lpp = &(*lpp)->lp_next)
		MPASS(*lpp != NULL);
	/* lp keeps its next pointer for readers standing on it. */
	sched_access(sc, "lagg port unlink");
	__atomic_store_n(lpp, lp->lp_next, __ATOMIC_RELEASE);
	sc->sc_count--;
	/* ether_input reads if_lagg without our lock. */
	__atomic_store_n(&lp->lp_ifp->if_lagg, NULL, __ATOMIC_RELAXED);
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
	if (__atomic_load_n(&sc->sc_unsafe_readers, __ATOMIC_SEQ_CST) != 0)
		CANARY_TRIGGERED(CANARY_RACE_LAGG_EPOCH);
#endif
	NET_EPOCH_CALL(lagg_port_free, &lp->lp_epoch_ctx);
	lagg_capabilities(sc);
}

/*
 * lagg_linkstate: the lagg's link follows its ports (up while one of
 * them is: every protocol modelled here uses any active port).  The
 * state is computed under lagg_sx and announced after it is dropped,
 * since the announcement runs the link listeners (lagg_port_state, and
 * the vlans over this lagg) which take their own locks.
 */
static struct ifnet *
lagg_linkstate_locked(struct lagg_softc *sc, int *statep)
{
	struct lagg_port *lp;

	sx_assert(&lagg_sx, SA_XLOCKED);
	if (sc->sc_dead)
		return (NULL);
	*statep = LINK_STATE_DOWN;
	for (lp = sc->sc_ports; lp != NULL; lp = lp->lp_next)
		if (LAGG_PORTACTIVE(lp)) {
			*statep = LINK_STATE_UP;
			break;
		}
	if_ref(sc->sc_ifp);
	return (sc->sc_ifp);
}

static void
lagg_linkstate_announce(struct ifnet *ifp, int state)
{
	if (ifp == NULL)
		return;
	if_link_state_change(ifp, state);
	if_rele(ifp);
}

int
lagg_port_create(struct ifnet *lagg, struct ifnet *ifp)
{
	struct lagg_softc *sc;
	struct lagg_port *lp, **lpp;
	struct ifnet *lifp;
	int error, state;

	if (!lagg_is_ours(lagg) || ifp == NULL)
		return (EINVAL);
	sc = lagg->if_softc;
	/* No lagg in a lagg (this one included). */
	if (ifp->if_type == IFT_IEEE8023ADLAG)
		return (EINVAL);
	if (ifp->if_type != IFT_ETHER && ifp->if_type != IFT_L2VLAN)
		return (EPROTONOSUPPORT);

	lp = malloc(sizeof(*lp), M_LAGG, M_WAITOK | M_ZERO);
	lagg_init();
	sx_xlock(&lagg_sx);
	error = 0;
	if (sc->sc_dead)
		error = ENXIO;
	else if (lagg_port_find_locked(sc, ifp) != NULL)
		error = EEXIST;
	else if (sc->sc_count >= LAGG_MAX_PORTS)
		error = ENOSPC;
	else if (vlan_lagg_reaches(ifp, lagg))
		error = EINVAL;		/* a vlan over this lagg */
	else if (ifp->if_lagg != NULL)
		error = EBUSY;		/* member of another lagg */
	if (error != 0) {
		sx_xunlock(&lagg_sx);
		free(lp, M_LAGG);
		return (error);
	}

	if_ref(ifp);
	lp->lp_ifp = ifp;
	lp->lp_softc = sc;
	lp->lp_next = NULL;
	lp->lp_link_state = __atomic_load_n(&ifp->if_link_state,
	    __ATOMIC_RELAXED);
	lp->lp_ifcapenable = if_getcapenable(ifp);
	lp->lp_ioctl = if_getioctlfn(ifp);
	__atomic_store_n(&ifp->if_ioctl, lagg_port_ioctl, __ATOMIC_RELAXED);
	/* Published to ether_input, which reads it without our lock. */
	__atomic_store_n(&ifp->if_lagg, lp, __ATOMIC_RELEASE);
	for (lpp = &sc->sc_ports; *lpp != NULL; lpp = &(*lpp)->lp_next)
		;
	sched_access(sc, "lagg port link");
	__atomic_store_n(lpp, lp, __ATOMIC_RELEASE);
	sc->sc_count++;
	lagg_capabilities(sc);
	lifp = lagg_linkstate_locked(sc, &state);
	sx_xunlock(&lagg_sx);
	VLAN_CAPABILITIES(lagg);
	lagg_linkstate_announce(lifp, state);
	return (0);
}

int
lagg_port_destroy(struct ifnet *lagg, struct ifnet *ifp)
{
	struct lagg_softc *sc;
	struct lagg_port *lp;
	struct ifnet *lifp;
	int state;

	if (!lagg_is_ours(lagg) || ifp == NULL)
		return (EINVAL);
	sc = lagg->if_softc;
	lagg_init();
	sx_xlock(&lagg_sx);
	lp = lagg_port_find_locked(sc, ifp);
	if (lp == NULL) {
		sx_xunlock(&lagg_sx);
		return (ENOENT);
	}
	lagg_port_unlink_locked(sc, lp, false);
	lifp = lagg_linkstate_locked(sc, &state);
	sx_xunlock(&lagg_sx);
	VLAN_CAPABILITIES(lagg);
	lagg_linkstate_announce(lifp, state);
	return (0);
}

/* ifnet departure event: a port going away leaves its lagg. */
static void
lagg_port_ifdetach(void *arg __unused, struct ifnet *ifp)
{
	struct lagg_softc *sc;
	struct lagg_port *lp;
	struct ifnet *lifp = NULL;
	int state = LINK_STATE_UNKNOWN;

	lagg_init();
	sx_xlock(&lagg_sx);
	/* if_lagg changes only under lagg_sx. */
	lp = ifp->if_lagg;
	if (lp != NULL) {
		sc = lp->lp_softc;
		lagg_port_unlink_locked(sc, lp, true);
		lifp = lagg_linkstate_locked(sc, &state);
	}
	sx_xunlock(&lagg_sx);
	if (lifp != NULL)
		VLAN_CAPABILITIES(lifp);
	lagg_linkstate_announce(lifp, state);
}

/*
 * Link event: failover and LACP follow the ports' link state, and the
 * lagg's own link follows them (lagg_linkstate).
 */
static void
lagg_port_state(void *arg __unused, struct ifnet *ifp, int state)
{
	struct lagg_port *lp;
	struct ifnet *lifp = NULL;
	int lstate = LINK_STATE_UNKNOWN;

	lagg_init();
	sx_xlock(&lagg_sx);
	lp = ifp->if_lagg;
	if (lp != NULL) {
		__atomic_store_n(&lp->lp_link_state, state, __ATOMIC_RELAXED);
		lifp = lagg_linkstate_locked(lp->lp_softc, &lstate);
	}
	sx_xunlock(&lagg_sx);
	lagg_linkstate_announce(lifp, lstate);
}

int
lagg_set_proto(struct ifnet *lagg, int proto)
{
	struct lagg_softc *sc;

	if (!lagg_is_ours(lagg))
		return (EINVAL);
	if (proto < 0 || proto >= LAGG_PROTO_MAX)
		return (EPROTONOSUPPORT);
	sc = lagg->if_softc;
	lagg_init();
	sx_xlock(&lagg_sx);
	if (sc->sc_dead) {
		sx_xunlock(&lagg_sx);
		return (ENXIO);
	}
	/* Existing tags stay; their next packet may find another port. */
	__atomic_store_n(&sc->sc_proto, proto, __ATOMIC_RELAXED);
	sx_xunlock(&lagg_sx);
	return (0);
}

int
lagg_set_opts(struct ifnet *lagg, int opts)
{
	struct lagg_softc *sc;
	int bits, cur;

	if (!lagg_is_ours(lagg) || opts == INT_MIN)
		return (EINVAL);
	bits = opts < 0 ? -opts : opts;
	if ((bits & ~LAGG_OPT_USE_FLOWID) != 0)
		return (EINVAL);
	if (bits == 0)
		return (0);
	sc = lagg->if_softc;
	lagg_init();
	sx_xlock(&lagg_sx);
	if (sc->sc_dead) {
		sx_xunlock(&lagg_sx);
		return (ENXIO);
	}
	cur = sc->sc_opts;
	cur = opts > 0 ? (cur | bits) : (cur & ~bits);
	__atomic_store_n(&sc->sc_opts, cur, __ATOMIC_RELAXED);
	sx_xunlock(&lagg_sx);
	return (0);
}

int
lagg_port_count(struct ifnet *lagg)
{
	struct epoch_tracker et;
	int n;

	if (!lagg_is_ours(lagg))
		return (0);
	NET_EPOCH_ENTER(et);
	n = lagg_nports(lagg->if_softc);
	NET_EPOCH_EXIT(et);
	return (n);
}

struct ifnet *
lagg_port_ifp(struct ifnet *lagg, int i)
{
	struct epoch_tracker et;
	struct lagg_port *lp;
	struct ifnet *ifp;

	if (!lagg_is_ours(lagg) || i < 0)
		return (NULL);
	NET_EPOCH_ENTER(et);
	lp = lagg_nth_port(lagg->if_softc, i);
	ifp = lp != NULL ? lp->lp_ifp : NULL;
	NET_EPOCH_EXIT(et);
	return (ifp);
}

int
lagg_get_proto(struct ifnet *lagg)
{
	struct lagg_softc *sc;

	if (!lagg_is_ours(lagg))
		return (-1);
	sc = lagg->if_softc;
	return (__atomic_load_n(&sc->sc_proto, __ATOMIC_RELAXED));
}

/* Last if_rele of the lagg ifnet. */
static void
lagg_free_softc(struct ifnet *ifp)
{
	struct lagg_softc *sc = ifp->if_softc;

	MPASS(sc->sc_ports == NULL);
	ifp->if_softc = NULL;
	free(sc, M_LAGG);
}

struct ifnet *
lagg_clone_create(int unit, int proto)
{
	struct lagg_softc *sc;
	struct ifnet *ifp;

	if (proto < 0 || proto >= LAGG_PROTO_MAX || unit < 0)
		return (NULL);
	sc = malloc(sizeof(*sc), M_LAGG, M_WAITOK | M_ZERO);
	ifp = if_alloc(IFT_IEEE8023ADLAG);
	if (ifp == NULL) {
		free(sc, M_LAGG);
		return (NULL);
	}
	sc->sc_ifp = ifp;
	sc->sc_proto = proto;
	sc->sc_flowid_shift = LAGG_DEF_FLOWID_SHIFT;

	if_initname(ifp, "lagg", unit);
	ifp->if_softc = sc;
	ifp->if_flags = IFF_UP;
	ifp->if_drv_flags = IFF_DRV_RUNNING;
	ifp->if_link_state = LINK_STATE_UP;
	ifp->if_mtu = 1500;
	/* What every port has (lagg_capabilities): none yet. */
	ifp->if_capabilities = ifp->if_capenable = 0;
	ifp->if_output = ether_output;
	ifp->if_transmit = lagg_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = lagg_qflush;
	ifp->if_ioctl = lagg_ioctl;
	ifp->if_snd_tag_alloc = lagg_snd_tag_alloc;
	ifp->if_free_softc = lagg_free_softc;
	if_attach(ifp);

	lagg_init();
	sx_xlock(&lagg_sx);
	if (lagg_nsoftc++ == 0) {
		if_link_event_register(lagg_port_state, NULL);
		if_departure_event_register(lagg_port_ifdetach, NULL);
	}
	sx_xunlock(&lagg_sx);
	return (ifp);
}

void
lagg_clone_destroy(struct ifnet *ifp)
{
	struct lagg_softc *sc;

	if (!lagg_is_ours(ifp))
		return;
	sc = ifp->if_softc;

	lagg_init();
	sx_xlock(&lagg_sx);
	if (sc->sc_dead) {
		sx_xunlock(&lagg_sx);
		return;
	}
	sc->sc_dead = true;
	while (sc->sc_ports != NULL)
		lagg_port_unlink_locked(sc, sc->sc_ports, false);
	if (--lagg_nsoftc == 0) {
		if_departure_event_deregister(lagg_port_ifdetach, NULL);
		if_link_event_deregister(lagg_port_state, NULL);
	}
	sx_xunlock(&lagg_sx);

	/* Tags and queued packets keep the ifnet (and softc) alive. */
	if_detach(ifp);
	if_free(ifp);
}
