/*
 * Model of sys/net/if_vlan.c: 802.1Q vlan interfaces on a parent ifnet,
 * with the wrapper send tags of r348254 (spec §7).
 *
 * The parent is published through a small "trunk" record read inside the
 * net epoch; reparenting swaps the record under the global vlan sx lock
 * (FreeBSD's VLAN_XLOCK) and the old record (with its if_ref on the old
 * parent) goes through epoch_call, so a transmit or tag allocation that
 * read the old parent can still use it.  Outstanding tags are never
 * touched by reconfiguration: the next tagged packet finds its inner tag
 * on the wrong ifnet and gets EAGAIN.
 *
 * One departure listener serves every vlan; it is registered while any
 * vlan exists, and finds the vlans of a departing parent on the global
 * list, so a listener call can never reach a freed softc.
 */
#include <pthread.h>

#include "shim/systm.h"
#include "shim/malloc.h"
#include "shim/lock.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "shim/canary.h"
#include "sys/mbuf.h"
#include "net/if_var.h"
#include "net/if_vlan_var.h"
#include "net/if_lagg.h"

MALLOC_DEFINE(M_VLAN, "vlan", "802.1Q virtual LAN interface");

#define	EVL_VLID_MASK		0x0fff
#define	ETHERTYPE_VLAN		0x8100
#define	ETHER_VLAN_ENCAP_LEN	4

/*
 * Stacks of vlans and laggs deeper than this are refused at configuration
 * time and, should a concurrent reconfiguration still build a loop, cut
 * off at transmit and tag allocation with ELOOP instead of recursing
 * forever.
 */
#define	VLAN_MAX_NESTING	8
/* Vlans one parent's link event reaches (more than any scenario has). */
#define	VLAN_LINK_MAX		16

struct vlan_trunk {
	struct ifnet		*parent;	/* holds an if_ref */
	struct epoch_context	 ctx;
};

struct vlan_softc {
	struct ifnet		*ifv_ifp;
	struct vlan_trunk	*ifv_trunk;	/* NULL: no parent; epoch */
	struct vlan_softc	*ifv_next;	/* vlan_list, under vlan_sx */
	uint16_t		 ifv_vid;
	int			 ifv_capenable;	/* SIOCSIFCAP's request */
	bool			 ifv_dead;	/* vlan_clone_destroy ran */
};

/* Global configuration lock, created once like if.c's own locks. */
static struct sx vlan_sx;
static pthread_once_t vlan_once = PTHREAD_ONCE_INIT;
static struct vlan_softc *vlan_list;	/* live vlans, under vlan_sx */

static void
vlan_init_lock(void)
{
	sx_init(&vlan_sx, "vlan");
}

static void
vlan_init(void)
{
	pthread_once(&vlan_once, vlan_init_lock);
}

#define	mst_to_vst(mst)							\
	((struct vlan_snd_tag *)((char *)(mst) -			\
	    offsetof(struct vlan_snd_tag, com)))

static _Thread_local int vlan_nesting;

static if_snd_tag_modify_t vlan_snd_tag_modify;
static if_snd_tag_query_t vlan_snd_tag_query;
static if_snd_tag_free_t vlan_snd_tag_free;
static if_next_send_tag_t vlan_next_snd_tag;

static const struct if_snd_tag_sw vlan_snd_tag_rl_sw = {
	.snd_tag_modify = vlan_snd_tag_modify,
	.snd_tag_query = vlan_snd_tag_query,
	.snd_tag_free = vlan_snd_tag_free,
	.next_snd_tag = vlan_next_snd_tag,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static const struct if_snd_tag_sw vlan_snd_tag_ul_sw = {
	.snd_tag_modify = vlan_snd_tag_modify,
	.snd_tag_query = vlan_snd_tag_query,
	.snd_tag_free = vlan_snd_tag_free,
	.next_snd_tag = vlan_next_snd_tag,
	.type = IF_SND_TAG_TYPE_UNLIMITED,
};

/* Kernel TLS tags pass through wrappers as rate-limit tags do. */
static const struct if_snd_tag_sw vlan_snd_tag_tls_sw = {
	.snd_tag_modify = vlan_snd_tag_modify,
	.snd_tag_query = vlan_snd_tag_query,
	.snd_tag_free = vlan_snd_tag_free,
	.next_snd_tag = vlan_next_snd_tag,
	.type = IF_SND_TAG_TYPE_TLS,
};

static const struct if_snd_tag_sw vlan_snd_tag_tls_rl_sw = {
	.snd_tag_modify = vlan_snd_tag_modify,
	.snd_tag_query = vlan_snd_tag_query,
	.snd_tag_free = vlan_snd_tag_free,
	.next_snd_tag = vlan_next_snd_tag,
	.type = IF_SND_TAG_TYPE_TLS_RATE_LIMIT,
};

/*
 * The wrapper swap and its order check (see if_vlan_var.h), shared with
 * lagg.
 */
static _Thread_local struct m_snd_tag *wrapper_swap_inner;

void
wrapper_snd_tag_swap_begin(struct m_snd_tag *inner)
{
	KASSERT(wrapper_swap_inner == NULL,
	    ("snd_tag refcount: nested wrapper swap (%p inside %p)",
	    (void *)inner, (void *)wrapper_swap_inner));
	wrapper_swap_inner = inner;
}

void
wrapper_snd_tag_swap_end(void)
{
	wrapper_swap_inner = NULL;
}

void
wrapper_snd_tag_rele_inner(struct m_snd_tag *inner)
{
	/*
	 * A swap in progress on this thread has either taken its reference
	 * on 'inner' already (count >= 2 here, ours and the packet's) or it
	 * released the outer reference first and this release would free
	 * the tag it is about to reference.
	 */
	KASSERT(inner != wrapper_swap_inner ||
	    refcount_load(&inner->refcount) > 1,
	    ("snd_tag refcount: wrapper swap released the outer reference "
	    "before taking the inner one (inner tag %p of %s would be freed)",
	    (void *)inner, inner->ifp != NULL ? inner->ifp->if_xname : "?"));
	m_snd_tag_rele(inner);
}

void
wrapper_snd_tag_swap(struct mbuf *m, struct m_snd_tag *inner)
{
	struct m_snd_tag *outer;

	M_ASSERTPKTHDR(m);
	KASSERT(m->m_pkthdr.csum_flags & CSUM_SND_TAG,
	    ("snd_tag refcount: swap on an untagged packet"));
	outer = m->m_pkthdr.snd_tag;
#ifdef SNDTAG_VARIANT_NOREF
	/* Historic: mbufs hold bare pointers, nothing to move. */
	CANARY_REACHED(CANARY_NOREF);
	(void)outer;
	m->m_pkthdr.snd_tag = inner;
#else
	wrapper_snd_tag_swap_begin(inner);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(inner);
	m_snd_tag_rele(outer);
	wrapper_snd_tag_swap_end();
#endif
}

static struct ifnet *
vlan_parent(struct vlan_softc *sc)
{
	struct vlan_trunk *trunk;

	NET_EPOCH_ASSERT();
	trunk = __atomic_load_n(&sc->ifv_trunk, __ATOMIC_ACQUIRE);
	return (trunk != NULL ? trunk->parent : NULL);
}

static void vlan_free_softc(struct ifnet *ifp);

/* One of our ifnets (the hook stays set after if_detach). */
static bool
vlan_is_ours(struct ifnet *ifp)
{
	return (ifp->if_free_softc == vlan_free_softc &&
	    ifp->if_softc != NULL);
}

static bool
vlan_lagg_reaches_depth(struct ifnet *ifp, struct ifnet *target, int depth)
{
	struct ifnet *next;
	int i, n;

	NET_EPOCH_ASSERT();
	if (ifp == target)
		return (true);
	if (depth >= VLAN_MAX_NESTING)
		return (true);
	if (vlan_is_ours(ifp)) {
		next = vlan_parent(ifp->if_softc);
		return (next != NULL &&
		    vlan_lagg_reaches_depth(next, target, depth + 1));
	}
	if (ifp->if_type == IFT_IEEE8023ADLAG) {
		n = lagg_port_count(ifp);
		for (i = 0; i < n; i++) {
			next = lagg_port_ifp(ifp, i);
			if (next != NULL &&
			    vlan_lagg_reaches_depth(next, target, depth + 1))
				return (true);
		}
	}
	return (false);
}

bool
vlan_lagg_reaches(struct ifnet *ifp, struct ifnet *target)
{
	struct epoch_tracker et;
	bool r;

	NET_EPOCH_ENTER(et);
	r = vlan_lagg_reaches_depth(ifp, target, 0);
	NET_EPOCH_EXIT(et);
	return (r);
}

/* Deferred until no epoch reader can still be using the old parent. */
static void
vlan_trunk_free(epoch_context_t ctx)
{
	struct vlan_trunk *trunk;

	trunk = (struct vlan_trunk *)((char *)ctx -
	    offsetof(struct vlan_trunk, ctx));
	if_rele(trunk->parent);
	free(trunk, M_VLAN);
}

/*
 * The send-tag capabilities (IFCAP_SNDTAG_MASK: rate limit, TLS) follow
 * the parent: what it has, and what it has enabled and the vlan's own
 * SIOCSIFCAP left on.  Written only when they change.
 */
static void
vlan_capabilities(struct vlan_softc *sc, struct ifnet *parent)
{
	struct ifnet *ifp = sc->ifv_ifp;
	int cap, ena, pcap, pena;

	pcap = pena = 0;
	if (parent != NULL) {
		pcap = if_getcapabilities(parent) & IFCAP_SNDTAG_MASK;
		pena = if_getcapenable(parent) & IFCAP_SNDTAG_MASK &
		    sc->ifv_capenable;
	}
	cap = if_getcapabilities(ifp);
	ena = if_getcapenable(ifp);
	if ((cap & IFCAP_SNDTAG_MASK) != pcap)
		__atomic_store_n(&ifp->if_capabilities,
		    (cap & ~IFCAP_SNDTAG_MASK) | pcap, __ATOMIC_RELAXED);
	if ((ena & IFCAP_SNDTAG_MASK) != pena)
		__atomic_store_n(&ifp->if_capenable,
		    (ena & ~IFCAP_SNDTAG_MASK) | pena, __ATOMIC_RELAXED);
}

void
vlan_trunk_capabilities(struct ifnet *ifp)
{
	struct vlan_softc *sc;

	vlan_init();
	sx_xlock(&vlan_sx);
	for (sc = vlan_list; sc != NULL; sc = sc->ifv_next)
		if (!sc->ifv_dead && sc->ifv_trunk != NULL &&
		    sc->ifv_trunk->parent == ifp)
			vlan_capabilities(sc, ifp);
	sx_xunlock(&vlan_sx);
}

/*
 * SIOCSIFCAP on the vlan: remembered, so a parent turning a capability
 * back on does not turn it on here (vlan_capabilities' mask).
 */
static int
vlan_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	struct vlan_softc *sc = ifp->if_softc;
	struct ifreq *ifr = (struct ifreq *)data;

	if (cmd != SIOCSIFCAP)
		return (EINVAL);
	vlan_init();
	sx_xlock(&vlan_sx);
	if (sc->ifv_dead) {
		sx_xunlock(&vlan_sx);
		return (ENXIO);
	}
	sc->ifv_capenable = ifr->ifr_reqcap;
	vlan_capabilities(sc, sc->ifv_trunk != NULL ?
	    sc->ifv_trunk->parent : NULL);
	sx_xunlock(&vlan_sx);
	return (0);
}

/* Under vlan_sx: publish 'trunk' and return the record it replaces. */
static struct vlan_trunk *
vlan_set_trunk_locked(struct vlan_softc *sc, struct vlan_trunk *trunk)
{
	struct vlan_trunk *old;

	sx_assert(&vlan_sx, SA_XLOCKED);
	old = sc->ifv_trunk;
	__atomic_store_n(&sc->ifv_trunk, trunk, __ATOMIC_RELEASE);
	vlan_capabilities(sc, trunk != NULL ? trunk->parent : NULL);
	return (old);
}

int
vlan_setparent(struct ifnet *ifp, struct ifnet *parent)
{
	struct vlan_softc *sc;
	struct vlan_trunk *trunk, *old;

	if (ifp == NULL || !vlan_is_ours(ifp))
		return (EINVAL);
	sc = ifp->if_softc;
	trunk = NULL;
	if (parent != NULL) {
		switch (parent->if_type) {
		case IFT_ETHER:
		case IFT_L2VLAN:
		case IFT_IEEE8023ADLAG:
			break;
		default:
			return (EPROTONOSUPPORT);
		}
		/* Allocated before the lock: configuration may sleep. */
		trunk = malloc(sizeof(*trunk), M_VLAN, M_WAITOK | M_ZERO);
	}

	vlan_init();
	sx_xlock(&vlan_sx);
	if (sc->ifv_dead) {
		sx_xunlock(&vlan_sx);
		if (trunk != NULL)
			free(trunk, M_VLAN);
		return (ENXIO);
	}
	if (sc->ifv_trunk != NULL && sc->ifv_trunk->parent == parent) {
		/* Nothing changes. */
		sx_xunlock(&vlan_sx);
		free(trunk, M_VLAN);
		return (0);
	}
	if (parent != NULL) {
		if (vlan_lagg_reaches(parent, ifp)) {
			sx_xunlock(&vlan_sx);
			free(trunk, M_VLAN);
			return (EINVAL);
		}
		if_ref(parent);
		trunk->parent = parent;
	}
	old = vlan_set_trunk_locked(sc, trunk);
	sx_xunlock(&vlan_sx);

	if (old != NULL)
		NET_EPOCH_CALL(vlan_trunk_free, &old->ctx);
	/* vlan_config: the vlan's link is its parent's; none: down. */
	if_link_state_change(ifp, parent != NULL ?
	    __atomic_load_n(&parent->if_link_state, __ATOMIC_RELAXED) :
	    LINK_STATE_DOWN);
	return (0);
}

/* ifnet departure event: a parent going away leaves its vlans parentless. */
static void
vlan_ifdetach(void *arg __unused, struct ifnet *ifp)
{
	struct ifnet *v[VLAN_LINK_MAX];
	struct vlan_softc *sc;
	struct vlan_trunk *old;
	int i, n;

	n = 0;
	vlan_init();
	sx_xlock(&vlan_sx);
	for (sc = vlan_list; sc != NULL; sc = sc->ifv_next) {
		if (sc->ifv_trunk == NULL || sc->ifv_trunk->parent != ifp)
			continue;
		old = vlan_set_trunk_locked(sc, NULL);
		NET_EPOCH_CALL(vlan_trunk_free, &old->ctx);
		if (!sc->ifv_dead && n < VLAN_LINK_MAX) {
			if_ref(sc->ifv_ifp);
			v[n++] = sc->ifv_ifp;
		}
	}
	sx_xunlock(&vlan_sx);
	/* Parentless: the link goes down (after the lock, as above). */
	for (i = 0; i < n; i++) {
		if_link_state_change(v[i], LINK_STATE_DOWN);
		if_rele(v[i]);
	}
}

/*
 * Link event: a vlan's link follows its parent's (vlan_link_state).  The
 * vlans are collected under vlan_sx and told after it is dropped, since
 * the announcement runs the link listeners (a lagg with this vlan as a
 * port) which take their own locks.
 */
static void
vlan_link_state(void *arg __unused, struct ifnet *ifp, int state)
{
	struct ifnet *v[VLAN_LINK_MAX];
	struct vlan_softc *sc;
	int i, n;

	n = 0;
	vlan_init();
	sx_xlock(&vlan_sx);
	for (sc = vlan_list; sc != NULL && n < VLAN_LINK_MAX;
	    sc = sc->ifv_next) {
		if (sc->ifv_dead || sc->ifv_trunk == NULL ||
		    sc->ifv_trunk->parent != ifp)
			continue;
		if_ref(sc->ifv_ifp);
		v[n++] = sc->ifv_ifp;
	}
	sx_xunlock(&vlan_sx);
	for (i = 0; i < n; i++) {
		if_link_state_change(v[i], state);
		if_rele(v[i]);
	}
}

struct ifnet *
vlan_trunkdev(struct ifnet *ifp)
{
	struct epoch_tracker et;
	struct ifnet *parent;

	if (ifp == NULL || !vlan_is_ours(ifp))
		return (NULL);
	NET_EPOCH_ENTER(et);
	parent = vlan_parent(ifp->if_softc);
	NET_EPOCH_EXIT(et);
	return (parent);
}

uint16_t
vlan_tag(struct ifnet *ifp)
{
	struct vlan_softc *sc;

	if (ifp == NULL || !vlan_is_ours(ifp))
		return (0);
	sc = ifp->if_softc;
	return (sc->ifv_vid);
}

/*
 * Hardware tagging: the vlan id goes in the packet header.  A packet that
 * already carries one (vlan on vlan) gets that one written into the frame
 * first.
 */
static struct mbuf *
vlan_encap(struct mbuf *m, uint16_t vid)
{
	uint8_t *p;

	if (m->m_flags & M_VLANTAG) {
		M_PREPEND(m, ETHER_VLAN_ENCAP_LEN, M_NOWAIT);
		if (m == NULL)
			return (NULL);
		p = mtod(m, uint8_t *);
		p[0] = ETHERTYPE_VLAN >> 8;
		p[1] = ETHERTYPE_VLAN & 0xff;
		p[2] = m->m_pkthdr.ether_vtag >> 8;
		p[3] = m->m_pkthdr.ether_vtag & 0xff;
	}
	m->m_flags |= M_VLANTAG;
	m->m_pkthdr.ether_vtag = vid;
	return (m);
}

static int
vlan_transmit(struct ifnet *ifp, struct mbuf *m)
{
	struct vlan_softc *sc = ifp->if_softc;
	struct epoch_tracker et;
	struct ifnet *parent;
	struct m_snd_tag *mst;
	int error;

	M_ASSERTPKTHDR(m);
	NET_EPOCH_ENTER(et);
	parent = vlan_parent(sc);
	if (parent == NULL || vlan_nesting >= VLAN_MAX_NESTING) {
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		NET_EPOCH_EXIT(et);
		m_freem(m);
		return (parent == NULL ? ENETDOWN : ELOOP);
	}

	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG) {
		mst = m->m_pkthdr.snd_tag;
#ifdef SNDTAG_VARIANT_WRAPPER_PASSTHRU
		/*
		 * Historic: no wrapper, no check, the packet goes on with
		 * whatever tag it has.  The bug fires when that tag is
		 * about to reach a driver it was not allocated on.
		 */
		CANARY_REACHED(CANARY_WRAPPER_PASSTHRU);
		if (mst->ifp != parent && !vlan_is_ours(parent) &&
		    parent->if_type != IFT_IEEE8023ADLAG)
			CANARY_TRIGGERED(CANARY_WRAPPER_PASSTHRU);
#else
		struct vlan_snd_tag *vst;

		KASSERT(mst->ifp == ifp,
		    ("tag ifp mismatch: vlan %s got a tag of %s",
		    ifp->if_xname, mst->ifp->if_xname));
		vst = mst_to_vst(mst);
		if (vst->tag->ifp != parent) {
			/* Reparented since the tag was made. */
			if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
			NET_EPOCH_EXIT(et);
			m_freem(m);
			return (EAGAIN);
		}
		wrapper_snd_tag_swap(m, vst->tag);
#endif
	}

	m = vlan_encap(m, sc->ifv_vid);
	if (m == NULL) {
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		NET_EPOCH_EXIT(et);
		return (ENOBUFS);
	}
	vlan_nesting++;
	/* if_detach may be swapping in the dead methods right now. */
	error = if_gettransmitfn(parent)(parent, m);
	vlan_nesting--;
	if_inc_counter(ifp, error == 0 ? IFCOUNTER_OPACKETS :
	    IFCOUNTER_OERRORS, 1);
	NET_EPOCH_EXIT(et);
	return (error);
}

static void
vlan_qflush(struct ifnet *ifp __unused)
{
	/* No queue of our own: packets go straight to the parent. */
}

static const struct if_snd_tag_sw * __unused
vlan_snd_tag_sw_for(const struct m_snd_tag *inner)
{
	switch (inner->sw != NULL ? inner->sw->type :
	    IF_SND_TAG_TYPE_RATE_LIMIT) {
	case IF_SND_TAG_TYPE_UNLIMITED:
		return (&vlan_snd_tag_ul_sw);
	case IF_SND_TAG_TYPE_TLS:
		return (&vlan_snd_tag_tls_sw);
	case IF_SND_TAG_TYPE_TLS_RATE_LIMIT:
		return (&vlan_snd_tag_tls_rl_sw);
	default:
		return (&vlan_snd_tag_rl_sw);
	}
}

static int
vlan_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **ppmt)
{
	struct vlan_softc *sc = ifp->if_softc;
	struct epoch_tracker et;
	struct ifnet *parent;
	int error;

	NET_EPOCH_ENTER(et);
	parent = vlan_parent(sc);
	if (parent == NULL || if_getsndtagallocfn(parent) == NULL) {
		NET_EPOCH_EXIT(et);
		return (EOPNOTSUPP);
	}
	if (vlan_nesting >= VLAN_MAX_NESTING) {
		NET_EPOCH_EXIT(et);
		return (ELOOP);
	}
	if_ref(parent);
	NET_EPOCH_EXIT(et);

#ifdef SNDTAG_VARIANT_WRAPPER_PASSTHRU
	/* Historic: hand out the parent's own tag. */
	CANARY_REACHED(CANARY_WRAPPER_PASSTHRU);
	vlan_nesting++;
	error = m_snd_tag_alloc(parent, params, ppmt);
	vlan_nesting--;
	if_rele(parent);
	/* Bug condition: the inp gets a tag that is not the vlan's. */
	if (error == 0 && (*ppmt)->ifp != ifp)
		CANARY_TRIGGERED(CANARY_WRAPPER_PASSTHRU);
	return (error);
#else
	struct vlan_snd_tag *vst;

	vst = malloc(sizeof(*vst), M_VLAN, M_NOWAIT | M_ZERO);
	if (vst == NULL) {
		if_rele(parent);
		return (ENOMEM);
	}
	vlan_nesting++;
	error = m_snd_tag_alloc(parent, params, &vst->tag);
	vlan_nesting--;
	if_rele(parent);
	if (error != 0) {
		free(vst, M_VLAN);
		return (error);
	}
	m_snd_tag_init(&vst->com, ifp, vlan_snd_tag_sw_for(vst->tag));
	*ppmt = &vst->com;
	return (0);
#endif
}

static int
vlan_snd_tag_modify(struct m_snd_tag *mst,
    union if_snd_tag_modify_params *params)
{
	struct m_snd_tag *inner = mst_to_vst(mst)->tag;

	if (inner->sw == NULL || inner->sw->snd_tag_modify == NULL)
		return (EOPNOTSUPP);
	return (inner->sw->snd_tag_modify(inner, params));
}

static int
vlan_snd_tag_query(struct m_snd_tag *mst,
    union if_snd_tag_query_params *params)
{
	struct m_snd_tag *inner = mst_to_vst(mst)->tag;

	if (inner->sw == NULL || inner->sw->snd_tag_query == NULL)
		return (EOPNOTSUPP);
	return (inner->sw->snd_tag_query(inner, params));
}

static void
vlan_snd_tag_free(struct m_snd_tag *mst)
{
	struct vlan_snd_tag *vst = mst_to_vst(mst);

	wrapper_snd_tag_rele_inner(vst->tag);
	free(vst, M_VLAN);
}

static struct m_snd_tag *
vlan_next_snd_tag(struct m_snd_tag *mst)
{
	return (mst_to_vst(mst)->tag);
}

/*
 * Last if_rele of the vlan ifnet: no tag or late caller can reach the
 * softc any more.
 */
static void
vlan_free_softc(struct ifnet *ifp)
{
	struct vlan_softc *sc = ifp->if_softc;

	ifp->if_softc = NULL;
	free(sc, M_VLAN);
}

struct ifnet *
vlan_clone_create(int unit, uint16_t vid, struct ifnet *parent)
{
	struct vlan_softc *sc;
	struct ifnet *ifp;

	if (vid > EVL_VLID_MASK || unit < 0)
		return (NULL);
	sc = malloc(sizeof(*sc), M_VLAN, M_WAITOK | M_ZERO);
	ifp = if_alloc(IFT_L2VLAN);
	if (ifp == NULL) {
		free(sc, M_VLAN);
		return (NULL);
	}
	sc->ifv_ifp = ifp;
	sc->ifv_vid = vid;
	sc->ifv_capenable = ~0;

	if_initname(ifp, "vlan", unit);
	ifp->if_softc = sc;
	ifp->if_flags = IFF_UP;
	ifp->if_drv_flags = IFF_DRV_RUNNING;
	ifp->if_link_state = LINK_STATE_UP;
	ifp->if_mtu = parent != NULL ? parent->if_mtu : 1500;
	ifp->if_output = ether_output;
	ifp->if_transmit = vlan_transmit;
	ifp->if_input = ether_input;
	ifp->if_qflush = vlan_qflush;
	ifp->if_ioctl = vlan_ioctl;
	ifp->if_snd_tag_alloc = vlan_snd_tag_alloc;
	ifp->if_free_softc = vlan_free_softc;
	if_attach(ifp);

	vlan_init();
	sx_xlock(&vlan_sx);
	if (vlan_list == NULL) {
		if_departure_event_register(vlan_ifdetach, NULL);
		if_link_event_register(vlan_link_state, NULL);
	}
	sc->ifv_next = vlan_list;
	vlan_list = sc;
	sx_xunlock(&vlan_sx);

	if (parent != NULL && vlan_setparent(ifp, parent) != 0) {
		vlan_clone_destroy(ifp);
		return (NULL);
	}
	return (ifp);
}

void
vlan_clone_destroy(struct ifnet *ifp)
{
	struct vlan_softc *sc, **scp;
	struct vlan_trunk *old;

	if (ifp == NULL || !vlan_is_ours(ifp))
		return;
	sc = ifp->if_softc;

	vlan_init();
	sx_xlock(&vlan_sx);
	if (sc->ifv_dead) {
		sx_xunlock(&vlan_sx);
		return;
	}
	sc->ifv_dead = true;
	old = vlan_set_trunk_locked(sc, NULL);
	for (scp = &vlan_list; *scp != sc; scp = &(*scp)->ifv_next)
		MPASS(*scp != NULL);
	*scp = sc->ifv_next;
	if (vlan_list == NULL) {
		if_link_event_deregister(vlan_link_state, NULL);
		if_departure_event_deregister(vlan_ifdetach, NULL);
	}
	sx_xunlock(&vlan_sx);
	if (old != NULL)
		NET_EPOCH_CALL(vlan_trunk_free, &old->ctx);

	/* Tags and queued packets keep the ifnet (and softc) alive. */
	if_detach(ifp);
	if_free(ifp);
}
