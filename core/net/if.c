/*
 * Model of sys/net/if.c: ifnet allocation, attach/detach, references,
 * link state and departure events, lookups and counters.
 *
 * References: if_alloc returns one (the driver's), if_free drops it; send
 * tags and routes hold their own.  The memory goes only after if_detach
 * (if it was attached) and the last if_rele, and then through the net
 * epoch, so a reader that found the ifnet on the list may still use it.
 */
#include "net/if_var.h"
#include "net/route.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/canary.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/refcount.h"

#include <pthread.h>

MALLOC_DEFINE(M_IFNET, "ifnet", "interface internals");

/*
 * V_ifnet: attached ifnets.  Writers hold ifnet_sxlock; readers walk it in
 * the net epoch, so links are published with release stores and read
 * with acquire loads (FreeBSD uses CK lists for the same reason).
 */
static struct ifnet *ifnet_head;
static struct sx ifnet_sxlock;

/* Every allocated ifnet, for the ledger. */
static struct ifnet *ifnet_live_head;
static int ifnet_live_n;
static struct mtx ifnet_live_mtx;

/*
 * Event listeners (FreeBSD's ifnet_link_event and departure handlers): one
 * small table per event, like an EVENTHANDLER(9) list.  fn is stored
 * untyped and cast back to the event's type by its caller.
 */
#define	IF_EVENT_MAX	16
struct if_listener {
	void		(*fn)(void);
	void		*arg;
};
static struct if_listener if_link_listeners[IF_EVENT_MAX];
static struct if_listener if_departure_listeners[IF_EVENT_MAX];
static struct mtx ifnet_event_mtx;

/* Copy the listeners out, so they run without ifnet_event_mtx held. */
static int
if_listener_snap(const struct if_listener *tab,
    struct if_listener snap[IF_EVENT_MAX])
{
	int i, n;

	mtx_lock(&ifnet_event_mtx);
	for (i = n = 0; i < IF_EVENT_MAX; i++)
		if (tab[i].fn != NULL)
			snap[n++] = tab[i];
	mtx_unlock(&ifnet_event_mtx);
	return (n);
}

static pthread_once_t if_init_once = PTHREAD_ONCE_INIT;

static void
if_init_locks(void)
{
	sx_init(&ifnet_sxlock, "ifnet_sx");
	mtx_init(&ifnet_live_mtx, "ifnet_live", NULL, MTX_DEF);
	mtx_init(&ifnet_event_mtx, "ifnet_event", NULL, MTX_DEF);
}

static void
if_init(void)
{
	pthread_once(&if_init_once, if_init_locks);
}

static inline struct ifnet *
if_next_load(struct ifnet *const *linkp)
{
	return (__atomic_load_n(linkp, __ATOMIC_ACQUIRE));
}

static inline void
if_next_store(struct ifnet **linkp, struct ifnet *ifp)
{
	__atomic_store_n(linkp, ifp, __ATOMIC_RELEASE);
}

struct ifnet *
if_alloc(u_char type)
{
	struct ifnet *ifp;

	if_init();
	ifp = malloc(sizeof(*ifp), M_IFNET, M_WAITOK | M_ZERO);
	ifp->if_type = type;
	ifp->if_mtu = 1500;
	ifp->if_link_state = LINK_STATE_UNKNOWN;
	ifp->if_opackets = counter_u64_alloc(M_WAITOK);
	ifp->if_oerrors = counter_u64_alloc(M_WAITOK);
	ifp->if_ipackets = counter_u64_alloc(M_WAITOK);
	ifp->if_ierrors = counter_u64_alloc(M_WAITOK);
	ifp->if_snd_tags = counter_u64_alloc(M_WAITOK);
	refcount_init(&ifp->if_refcount, 1);
	mtx_lock(&ifnet_live_mtx);
	ifp->if_live_next = ifnet_live_head;
	ifnet_live_head = ifp;
	ifnet_live_n++;
	mtx_unlock(&ifnet_live_mtx);
	return (ifp);
}

void
if_initname(struct ifnet *ifp, const char *name, int unit)
{
	ifp->if_dname = name;
	if (unit < 0)
		snprintf(ifp->if_xname, sizeof(ifp->if_xname), "%s", name);
	else
		snprintf(ifp->if_xname, sizeof(ifp->if_xname), "%s%d", name,
		    unit);
}

/* Lowest index not used by an attached ifnet; ifnet_sxlock held. */
static u_short
ifindex_alloc(void)
{
	struct ifnet *ifp;
	u_short idx;

	for (idx = 1; idx != 0; idx++) {
		for (ifp = ifnet_head; ifp != NULL; ifp = ifp->if_next)
			if (ifp->if_index == idx)
				break;
		if (ifp == NULL)
			return (idx);
	}
	panic("ifnet: out of interface indices");
}

void
if_attach(struct ifnet *ifp)
{
	struct ifnet **linkp;

	if_init();
	KASSERT(!ifp->if_attached, ("ifnet: if_attach of %s, already "
	    "attached", ifp->if_xname));
	KASSERT((if_getflags(ifp) & IFF_DYING) == 0,
	    ("ifnet: if_attach of %s, which is dying", ifp->if_xname));
	sx_xlock(&ifnet_sxlock);
	ifp->if_index = ifindex_alloc();
	ifp->if_next = NULL;
	for (linkp = &ifnet_head; *linkp != NULL; linkp = &(*linkp)->if_next)
		;
	ifp->if_attached = true;
	if_next_store(linkp, ifp);
	sx_xunlock(&ifnet_sxlock);
}

/*
 * Take ifp off the list, tell the listeners, drop its routes and
 * addresses, and replace its methods with dead stubs.  Tags and in-flight
 * mbufs keep the memory alive; the driver still owes if_free.
 */
void
if_detach(struct ifnet *ifp)
{
	struct if_listener snap[IF_EVENT_MAX];
	struct ifnet **linkp;
	int i, n;

	if_init();
	sx_xlock(&ifnet_sxlock);
	KASSERT(ifp->if_attached, ("ifnet: if_detach of %s, which is not "
	    "attached", ifp->if_xname));
	for (linkp = &ifnet_head; *linkp != NULL && *linkp != ifp;
	    linkp = &(*linkp)->if_next)
		;
	KASSERT(*linkp == ifp, ("ifnet: %s not on the ifnet list",
	    ifp->if_xname));
	/* Readers still inside the epoch may continue from ifp. */
	if_next_store(linkp, ifp->if_next);
	ifp->if_attached = false;
	sx_xunlock(&ifnet_sxlock);

	if_setflagbits(ifp, IFF_DYING, IFF_UP);
	if_setdrvflagbits(ifp, 0, IFF_DRV_RUNNING);

	/* Listeners run without our locks (vlan and lagg take their own). */
	n = if_listener_snap(if_departure_listeners, snap);
	for (i = 0; i < n; i++)
		((if_departure_event_t *)snap[i].fn)(snap[i].arg, ifp);

	rt_flush_ifp(ifp);
	in_ifaddr_purge(ifp);
	in6_ifaddr_purge(ifp);
	if_dead(ifp);
}

/* Deferred: the last reference is gone and no epoch reader can see ifp. */
static void
if_destroy(epoch_context_t ctx)
{
	struct ifnet *ifp, **pp;
	uint64_t tags;

	ifp = (struct ifnet *)((char *)ctx -
	    offsetof(struct ifnet, if_epoch_ctx));
	KASSERT(!ifp->if_attached, ("ifnet: %s freed while attached",
	    ifp->if_xname));
	tags = counter_u64_fetch(ifp->if_snd_tags);
#ifdef SNDTAG_VARIANT_NO_IFP_PIN
	/* Bug condition: the memory goes while unpinned tags point at it. */
	if (tags != 0)
		CANARY_TRIGGERED(CANARY_NO_IFP_PIN);
#endif
	KASSERT(tags == 0, ("ifnet: %s freed while %ju send tags point at it",
	    ifp->if_xname, (uintmax_t)tags));
	if (ifp->if_free_softc != NULL)
		ifp->if_free_softc(ifp);
	mtx_lock(&ifnet_live_mtx);
	for (pp = &ifnet_live_head; *pp != NULL && *pp != ifp;
	    pp = &(*pp)->if_live_next)
		;
	KASSERT(*pp == ifp, ("ifnet: %s not on the live list",
	    ifp->if_xname));
	*pp = ifp->if_live_next;
	ifnet_live_n--;
	mtx_unlock(&ifnet_live_mtx);
	counter_u64_free(ifp->if_opackets);
	counter_u64_free(ifp->if_oerrors);
	counter_u64_free(ifp->if_ipackets);
	counter_u64_free(ifp->if_ierrors);
	counter_u64_free(ifp->if_snd_tags);
	free(ifp, M_IFNET);
}

/* Drop the if_alloc reference. */
void
if_free(struct ifnet *ifp)
{
	KASSERT(!ifp->if_attached, ("ifnet: if_free of %s while attached; "
	    "if_detach first", ifp->if_xname));
	if_setflagbits(ifp, IFF_DYING, 0);
	if_rele(ifp);
}

void
if_ref(struct ifnet *ifp)
{
	u_int cnt;

	cnt = refcount_load(&ifp->if_refcount);
	KASSERT(cnt != 0, ("ifnet: if_ref on %s, whose last reference is "
	    "gone", ifp->if_xname));
	refcount_acquire(&ifp->if_refcount);
}

/*
 * A reference on an ifnet found in the net epoch (FreeBSD's if_try_ref):
 * its memory is safe until the section ends, but it is kept only if the
 * last reference is not gone already.
 */
bool
if_try_ref(struct ifnet *ifp)
{
	NET_EPOCH_ASSERT();
	return (refcount_acquire_if_not_zero(&ifp->if_refcount));
}

void
if_rele(struct ifnet *ifp)
{
	u_int cnt;

	cnt = refcount_load(&ifp->if_refcount);
	KASSERT(cnt != 0, ("ifnet: if_rele underflow on %s", ifp->if_xname));
	if (!refcount_release(&ifp->if_refcount))
		return;
	NET_EPOCH_CALL(if_destroy, &ifp->if_epoch_ctx);
}

void
if_link_state_change(struct ifnet *ifp, int link_state)
{
	struct if_listener snap[IF_EVENT_MAX];
	int i, n;

	if_init();
	if (link_state != LINK_STATE_UNKNOWN && link_state != LINK_STATE_DOWN &&
	    link_state != LINK_STATE_UP)
		return;
	if (if_getflags(ifp) & IFF_DYING)
		return;
	if (__atomic_exchange_n(&ifp->if_link_state, link_state,
	    __ATOMIC_RELAXED) == link_state)
		return;
	n = if_listener_snap(if_link_listeners, snap);
	for (i = 0; i < n; i++)
		((if_link_event_t *)snap[i].fn)(snap[i].arg, ifp, link_state);
}

/*
 * The interface ioctls of ifhwioctl the model has.  SIOCSIFCAP only
 * passes the request on: each driver flips the if_capenable bits it
 * supports (and tells its vlans and lagg); tags already allocated are
 * left alone, as in FreeBSD.
 */
int
ifhwioctl(u_long cmd, struct ifnet *ifp, caddr_t data)
{
	struct ifreq *ifr = (struct ifreq *)data;
	if_ioctl_fn_t *fn;

	switch (cmd) {
	case SIOCGIFCAP:
		ifr->ifr_reqcap = if_getcapabilities(ifp);
		ifr->ifr_curcap = if_getcapenable(ifp);
		return (0);
	case SIOCSIFCAP:
		fn = if_getioctlfn(ifp);
		if (fn == NULL)
			return (EOPNOTSUPP);
		if ((ifr->ifr_reqcap & ~if_getcapabilities(ifp)) != 0)
			return (EINVAL);
		return (fn(ifp, cmd, data));
	default:
		return (ENOTTY);
	}
}

int
ifconfig_setcap(struct ifnet *ifp, int cap, bool on)
{
	struct ifreq ifr;
	int error;

	memset(&ifr, 0, sizeof(ifr));
	if ((error = ifhwioctl(SIOCGIFCAP, ifp, (caddr_t)&ifr)) != 0)
		return (error);
	ifr.ifr_reqcap = on ? ifr.ifr_curcap | cap : ifr.ifr_curcap & ~cap;
	return (ifhwioctl(SIOCSIFCAP, ifp, (caddr_t)&ifr));
}

static void
if_listener_add(struct if_listener *tab, void (*fn)(void), void *arg,
    const char *what)
{
	int i;

	if_init();
	mtx_lock(&ifnet_event_mtx);
	for (i = 0; i < IF_EVENT_MAX; i++)
		if (tab[i].fn == NULL)
			break;
	KASSERT(i < IF_EVENT_MAX, ("ifnet: too many %s listeners", what));
	tab[i].fn = fn;
	tab[i].arg = arg;
	mtx_unlock(&ifnet_event_mtx);
}

static void
if_listener_del(struct if_listener *tab, void (*fn)(void), void *arg)
{
	int i;

	if_init();
	mtx_lock(&ifnet_event_mtx);
	for (i = 0; i < IF_EVENT_MAX; i++)
		if (tab[i].fn == fn && tab[i].arg == arg) {
			tab[i].fn = NULL;
			tab[i].arg = NULL;
			break;
		}
	mtx_unlock(&ifnet_event_mtx);
}

void
if_link_event_register(if_link_event_t *fn, void *arg)
{
	if_listener_add(if_link_listeners, (void (*)(void))fn, arg, "link");
}

void
if_link_event_deregister(if_link_event_t *fn, void *arg)
{
	if_listener_del(if_link_listeners, (void (*)(void))fn, arg);
}

void
if_departure_event_register(if_departure_event_t *fn, void *arg)
{
	if_listener_add(if_departure_listeners, (void (*)(void))fn, arg,
	    "departure");
}

void
if_departure_event_deregister(if_departure_event_t *fn, void *arg)
{
	if_listener_del(if_departure_listeners, (void (*)(void))fn, arg);
}

/* No reference is taken: the result is only safe while nothing detaches. */
struct ifnet *
ifunit(const char *name)
{
	struct epoch_tracker et;
	struct ifnet *ifp;

	if_init();
	NET_EPOCH_ENTER(et);
	for (ifp = if_next_load(&ifnet_head); ifp != NULL;
	    ifp = if_next_load(&ifp->if_next))
		if (strncmp(ifp->if_xname, name, IFNAMSIZ) == 0)
			break;
	NET_EPOCH_EXIT(et);
	return (ifp);
}

struct ifnet *
ifnet_byindex(u_short idx)
{
	struct epoch_tracker et;
	struct ifnet *ifp;

	if_init();
	NET_EPOCH_ENTER(et);
	for (ifp = if_next_load(&ifnet_head); ifp != NULL;
	    ifp = if_next_load(&ifp->if_next))
		if (ifp->if_index == idx)
			break;
	NET_EPOCH_EXIT(et);
	return (ifp);
}

void
if_inc_counter(struct ifnet *ifp, int cnt, int64_t inc)
{
	switch (cnt) {
	case IFCOUNTER_OPACKETS:
		counter_u64_add(ifp->if_opackets, inc);
		break;
	case IFCOUNTER_OERRORS:
		counter_u64_add(ifp->if_oerrors, inc);
		break;
	case IFCOUNTER_IPACKETS:
		counter_u64_add(ifp->if_ipackets, inc);
		break;
	case IFCOUNTER_IERRORS:
		counter_u64_add(ifp->if_ierrors, inc);
		break;
	default:
		KASSERT(0, ("ifnet: if_inc_counter: bad counter %d", cnt));
	}
}

void
if_txstat_count(struct ifnet *ifp, bool tagged, int error)
{
	uint64_t *c;

	if (error == 0)
		c = tagged ? &ifp->if_txstat.ifts_tagged :
		    &ifp->if_txstat.ifts_untagged;
	else if (error == EAGAIN)
		c = &ifp->if_txstat.ifts_drop_mismatch;
	else if (error == ENOBUFS)
		c = &ifp->if_txstat.ifts_drop_nobufs;
	else
		c = &ifp->if_txstat.ifts_drop_other;
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

int
ifnet_live_count(void)
{
	int n;

	if_init();
	mtx_lock(&ifnet_live_mtx);
	n = ifnet_live_n;
	mtx_unlock(&ifnet_live_mtx);
	return (n);
}

/* cb must not allocate or free ifnets. */
void
ifnet_foreach_live(void (*cb)(struct ifnet *, void *), void *arg)
{
	struct ifnet *ifp;

	if_init();
	mtx_lock(&ifnet_live_mtx);
	for (ifp = ifnet_live_head; ifp != NULL; ifp = ifp->if_live_next)
		cb(ifp, arg);
	mtx_unlock(&ifnet_live_mtx);
}

bool
ifnet_gone_or_dying(const struct ifnet *ifp)
{
	struct ifnet *it;
	bool gone = true;

	if_init();
	mtx_lock(&ifnet_live_mtx);
	for (it = ifnet_live_head; it != NULL; it = it->if_live_next)
		if (it == ifp) {
			gone = (if_getflags(it) & IFF_DYING) != 0;
			break;
		}
	mtx_unlock(&ifnet_live_mtx);
	return (gone);
}

/*
 * Between inputs.  The previous world must have freed every ifnet (the
 * ledger checks that first); listeners registered by modules stay.
 */
void
if_reset(void)
{
	int n;

	if_init();
	n = ifnet_live_count();
	KASSERT(n == 0, ("ledger: if_reset with %d ifnets still allocated",
	    n));
	KASSERT(ifnet_head == NULL, ("ledger: if_reset with ifnets attached"));
}
