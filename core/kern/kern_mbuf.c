/*
 * Model of sys/kern/kern_mbuf.c: mbuf and cluster allocation and free, and
 * the send-tag life cycle (m_snd_tag_alloc/init/ref/rele/destroy).
 *
 * Every mbuf is its own malloc(M_MBUF) object and every cluster its own
 * malloc(M_MBUF_CLUSTER) buffer with a separately allocated shared count,
 * so ASan sees each object and fault injection reaches each M_NOWAIT
 * allocation.
 */
#include "sys/mbuf.h"
#include "sys/ktls.h"
#include "net/if_var.h"
#include "shim/canary.h"
#include "shim/refcount.h"

#include <sched.h>

/* Per-packet types: zone-like caches, as UMA zones back them in FreeBSD. */
MALLOC_DEFINE_CACHED(M_MBUF, "mbuf", "mbufs");
MALLOC_DEFINE_CACHED(M_MBUF_CLUSTER, "mbuf_cluster", "mbuf clusters");

/* kern.ipc.num_snd_tags */
static uint64_t snd_tag_count;

/* Live mbufs: a counter and a registry the harness can walk. */
static u_int mbuf_live;

/*
 * The registry is harness bookkeeping, not kernel behaviour, so it must
 * not add happens-before edges between model threads: a global mutex here
 * would order every m_get against every m_free and hide the very races the
 * TSan sweeps look for.  It is a spinlock on relaxed atomics with fences
 * (TSan models neither as synchronisation) and the list code is left
 * uninstrumented; the fences give real ordering on the hardware.
 */
static struct {
	int		 lock;
	struct mbuf	*head;
} mbuf_registry;
static _Thread_local bool mbuf_registry_walking;

#define	MBUF_NO_TSAN	__attribute__((no_sanitize("thread")))

static MBUF_NO_TSAN void
mbuf_registry_lock(void)
{
	while (__atomic_exchange_n(&mbuf_registry.lock, 1,
	    __ATOMIC_RELAXED) != 0)
		sched_yield();
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static MBUF_NO_TSAN void
mbuf_registry_unlock(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&mbuf_registry.lock, 0, __ATOMIC_RELAXED);
}

static MBUF_NO_TSAN void
mbuf_registry_insert(struct mbuf *m)
{
	KASSERT(!mbuf_registry_walking,
	    ("mbuf: allocation inside mbuf_foreach_live"));
	mbuf_registry_lock();
	m->m_live_prev = NULL;
	m->m_live_next = mbuf_registry.head;
	if (mbuf_registry.head != NULL)
		mbuf_registry.head->m_live_prev = m;
	mbuf_registry.head = m;
	mbuf_registry_unlock();
	__atomic_fetch_add(&mbuf_live, 1, __ATOMIC_RELAXED);
}

static MBUF_NO_TSAN void
mbuf_registry_remove(struct mbuf *m)
{
	u_int old;

	KASSERT(!mbuf_registry_walking,
	    ("mbuf: free inside mbuf_foreach_live"));
	mbuf_registry_lock();
	if (m->m_live_prev != NULL)
		m->m_live_prev->m_live_next = m->m_live_next;
	else
		mbuf_registry.head = m->m_live_next;
	if (m->m_live_next != NULL)
		m->m_live_next->m_live_prev = m->m_live_prev;
	m->m_live_next = m->m_live_prev = NULL;
	mbuf_registry_unlock();
	old = __atomic_fetch_sub(&mbuf_live, 1, __ATOMIC_RELAXED);
	KASSERT(old > 0, ("mbuf: live count underflow"));
}

u_int
mbuf_live_count(void)
{
	return (__atomic_load_n(&mbuf_live, __ATOMIC_RELAXED));
}

void
mbuf_foreach_live(void (*cb)(struct mbuf *, void *), void *arg)
{
	struct mbuf *m, *next;

	mbuf_registry_lock();
	mbuf_registry_walking = true;
	for (m = mbuf_registry.head; m != NULL; m = next) {
		next = m->m_live_next;
		cb(m, arg);
	}
	mbuf_registry_walking = false;
	mbuf_registry_unlock();
}

void
mbuf_reset(void)
{
	u_int live;

	live = mbuf_live_count();
	KASSERT(live == 0, ("ledger: mbuf_reset with %u mbufs still live",
	    live));
}

/*
 * Allocation.  Storage is zeroed so that reading bytes nobody wrote is
 * deterministic.
 */
struct mbuf *
m_get(int how, short type)
{
	struct mbuf *m;

	m = malloc(sizeof(*m), M_MBUF, how | M_ZERO);
	if (m == NULL)
		return (NULL);
	m->m_next = NULL;
	m->m_nextpkt = NULL;
	m->m_data = m->m_dat;
	m->m_len = 0;
	m->m_flags = 0;
	m->m_type = (uint8_t)type;
	mbuf_registry_insert(m);
	return (m);
}

struct mbuf *
m_gethdr(int how, short type)
{
	struct mbuf *m;

	m = m_get(how, type);
	if (m == NULL)
		return (NULL);
	m->m_flags |= M_PKTHDR;
	(void)m_pkthdr_init(m, how);
	return (m);
}

int
m_pkthdr_init(struct mbuf *m, int how)
{
	KASSERT((m->m_flags & M_PKTHDR) == 0 ||
	    (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: m_pkthdr_init on a tagged mbuf would leak its "
	    "reference"));
	memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
	return (0);
}

/* Attach a cluster to m.  Returns non-zero on success, as FreeBSD's. */
int
m_clget(struct mbuf *m, int how)
{
	volatile u_int *cnt;
	char *buf;

	KASSERT((m->m_flags & M_EXT) == 0,
	    ("mbuf: m_clget on an mbuf that already has storage"));
	/* Not zeroed, as in the kernel: data is written before it is read. */
	buf = malloc(MCLBYTES, M_MBUF_CLUSTER, how);
	if (buf == NULL)
		return (0);
	cnt = malloc(sizeof(*cnt), M_MBUF_CLUSTER, how);
	if (cnt == NULL) {
		free(buf, M_MBUF_CLUSTER);
		return (0);
	}
	refcount_init(cnt, 1);
	m->m_ext.ext_buf = buf;
	m->m_ext.ext_size = MCLBYTES;
	m->m_ext.ext_cnt = cnt;
	m->m_ext.ext_tls = NULL;
	m->m_flags |= M_EXT;
	m->m_data = buf;
	return (1);
}

struct mbuf *
m_getcl(int how, short type, int flags)
{
	struct mbuf *m;

	if (flags & M_PKTHDR)
		m = m_gethdr(how, type);
	else
		m = m_get(how, type);
	if (m == NULL)
		return (NULL);
	if (m_clget(m, how) == 0) {
		(void)m_free(m);
		return (NULL);
	}
	return (m);
}

static void
mb_free_ext(struct mbuf *m)
{
	volatile u_int *cnt = m->m_ext.ext_cnt;

	if (refcount_release(cnt)) {
		/* mb_free_extpg: the record's session reference goes too. */
		if (m->m_ext.ext_tls != NULL)
			ktls_free(m->m_ext.ext_tls);
		free(m->m_ext.ext_buf, M_MBUF_CLUSTER);
		free((void *)(uintptr_t)cnt, M_MBUF_CLUSTER);
	}
	m->m_ext.ext_buf = NULL;
	m->m_ext.ext_cnt = NULL;
	m->m_ext.ext_tls = NULL;
}

/*
 * Free one mbuf, return its successor.  Only the flag says the union holds
 * a tag (and that this mbuf owns one reference on it).
 */
struct mbuf *
m_free(struct mbuf *m)
{
	struct mbuf *n;

	n = m->m_next;
	if (m->m_flags & M_PKTHDR) {
#if defined(SNDTAG_VARIANT_NOREF)
		/* Historic: the mbuf's tag pointer was a bare copy. */
		if (m->m_pkthdr.csum_flags & CSUM_SND_TAG)
			CANARY_REACHED(CANARY_NOREF);
#elif defined(SNDTAG_VARIANT_RCVIF_AS_TAG)
		/* Historic: "has a tag" decided by the pointer. */
		CANARY_REACHED(CANARY_RCVIF_AS_TAG);
		if (m->m_pkthdr.snd_tag != NULL &&
		    (m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0)
			CANARY_TRIGGERED(CANARY_RCVIF_AS_TAG);
		if (m->m_pkthdr.snd_tag != NULL)
			m_snd_tag_rele(m->m_pkthdr.snd_tag);
#else
		if (m->m_pkthdr.csum_flags & CSUM_SND_TAG)
			m_snd_tag_rele(m->m_pkthdr.snd_tag);
#endif
	}
	if (m->m_flags & M_EXT)
		mb_free_ext(m);
	mbuf_registry_remove(m);
	free(m, M_MBUF);
	return (n);
}

void
m_freem(struct mbuf *m)
{
	while (m != NULL)
		m = m_free(m);
}

/*
 * Send tags.
 */
#define	SND_TAG_REFCOUNT_MAX	0x40000000u

int
m_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **mstp)
{
	if_snd_tag_alloc_t *fn;
	int error;

	/* if_detach may be swapping in the dead method right now. */
	fn = if_getsndtagallocfn(ifp);
	if (fn == NULL)
		return (EOPNOTSUPP);
	error = fn(ifp, params, mstp);
	/*
	 * The tag belongs to the ifnet it was asked of: a wrapper (vlan,
	 * lagg) hands out its own tag, never the lower ifnet's, or
	 * ip_output's ifp check could never pass.
	 */
	KASSERT(error != 0 || (*mstp)->ifp == ifp,
	    ("tag ifp mismatch: %s allocated a tag of %s", ifp->if_xname,
	    (*mstp)->ifp != NULL ? (*mstp)->ifp->if_xname : "(none)"));
	return (error);
}

/*
 * Called by the tag's owner once its private state is ready; the caller
 * owns the first reference.  The tag pins its ifnet until destroy.
 */
void
m_snd_tag_init(struct m_snd_tag *mst, struct ifnet *ifp,
    const struct if_snd_tag_sw *sw)
{
	KASSERT(ifp != NULL, ("snd_tag refcount: m_snd_tag_init without an "
	    "ifnet"));
	KASSERT(sw != NULL && sw->snd_tag_free != NULL,
	    ("snd_tag destroy: tag on %s has no free method", ifp->if_xname));
#ifdef SNDTAG_VARIANT_NO_IFP_PIN
	/* Historic: the tag held no reference on its ifnet. */
	CANARY_REACHED(CANARY_NO_IFP_PIN);
#else
	if_ref(ifp);
#endif
	mst->ifp = ifp;
	mst->sw = sw;
	refcount_init(&mst->refcount, 1);
	__atomic_fetch_add(&snd_tag_count, 1, __ATOMIC_RELAXED);
	counter_u64_add(ifp->if_snd_tags, 1);
}

struct m_snd_tag *
m_snd_tag_ref(struct m_snd_tag *mst)
{
#ifdef SNDTAG_VARIANT_RACE_REFCOUNT
	u_int old;

	/* Race variant: a plain read-modify-write; TSan sees the race. */
	CANARY_REACHED(CANARY_RACE_REFCOUNT);
	old = mst->refcount;
	KASSERT(old != 0 && old < SND_TAG_REFCOUNT_MAX,
	    ("snd_tag refcount: m_snd_tag_ref on a tag whose count is %u",
	    old));
	sched_point(SP_REFCOUNT, (const void *)&mst->refcount,
	    "m_snd_tag_ref");
	if (mst->refcount != old)
		CANARY_TRIGGERED(CANARY_RACE_REFCOUNT);
	mst->refcount = old + 1;
#else
	u_int cnt;

	cnt = refcount_load(&mst->refcount);
	KASSERT(cnt != 0 && cnt < SND_TAG_REFCOUNT_MAX,
	    ("snd_tag refcount: m_snd_tag_ref on a tag whose count is %u",
	    cnt));
	refcount_acquire(&mst->refcount);
#endif
	return (mst);
}

void
m_snd_tag_rele(struct m_snd_tag *mst)
{
	u_int old;

#ifdef SNDTAG_VARIANT_RACE_REFCOUNT
	CANARY_REACHED(CANARY_RACE_REFCOUNT);
	old = mst->refcount;
	KASSERT(old != 0 && old < SND_TAG_REFCOUNT_MAX,
	    ("snd_tag refcount: m_snd_tag_rele on a tag whose count is %u",
	    old));
	sched_point(SP_REFCOUNT, (const void *)&mst->refcount,
	    "m_snd_tag_rele");
	if (mst->refcount != old)
		CANARY_TRIGGERED(CANARY_RACE_REFCOUNT);
	mst->refcount = old - 1;
	if (old == 1)
		m_snd_tag_destroy(mst);
#else
	old = refcount_load(&mst->refcount);
	KASSERT(old != 0 && old < SND_TAG_REFCOUNT_MAX,
	    ("snd_tag refcount: m_snd_tag_rele on a tag whose count is %u",
	    old));
	if (refcount_release(&mst->refcount))
		m_snd_tag_destroy(mst);
#endif
}

#ifdef SNDTAG_VARIANT_NOREF
struct snd_tag_scan {
	const struct m_snd_tag *mst;
	int		 hits;
};

static void
snd_tag_scan_cb(struct mbuf *m, void *arg)
{
	struct snd_tag_scan *s = arg;

	if ((m->m_flags & M_PKTHDR) &&
	    (m->m_pkthdr.csum_flags & CSUM_SND_TAG) &&
	    m->m_pkthdr.snd_tag == s->mst)
		s->hits++;
}
#endif

/*
 * Runs once, from the release that reached zero, in that caller's context.
 * The owner's free method frees the tag memory, so ifp is read first.
 */
void
m_snd_tag_destroy(struct m_snd_tag *mst)
{
	struct ifnet *ifp;
	uint64_t old;

	ifp = mst->ifp;
	KASSERT(refcount_load(&mst->refcount) == 0,
	    ("snd_tag destroy: tag on %s destroyed with %u references",
	    ifp->if_xname, refcount_load(&mst->refcount)));
#ifdef SNDTAG_VARIANT_NOREF
	{
		/* Bug condition: a live mbuf still points at the tag. */
		struct snd_tag_scan s = { .mst = mst, .hits = 0 };

		CANARY_REACHED(CANARY_NOREF);
		mbuf_foreach_live(snd_tag_scan_cb, &s);
		if (s.hits != 0)
			CANARY_TRIGGERED(CANARY_NOREF);
	}
#endif
#ifdef SNDTAG_VARIANT_NO_IFP_PIN
	/*
	 * Historic: no if_rele here.  The bug condition (the ifnet's memory
	 * goes while this tag still points at it) is counted in if_destroy.
	 */
	CANARY_REACHED(CANARY_NO_IFP_PIN);
#endif
	mst->sw->snd_tag_free(mst);
	/* The tag memory is gone; only ifp remains. */
	counter_u64_add(ifp->if_snd_tags, -1);
#ifndef SNDTAG_VARIANT_NO_IFP_PIN
	if_rele(ifp);
#endif
	old = __atomic_fetch_sub(&snd_tag_count, 1, __ATOMIC_RELAXED);
	KASSERT(old > 0, ("snd_tag destroy: num_snd_tags underflow"));
}

uint64_t
num_snd_tags(void)
{
	return (__atomic_load_n(&snd_tag_count, __ATOMIC_RELAXED));
}
