/*
 * Model of sys/netinet/in_pcb.c: inpcb allocation, detach, drop and free,
 * and the RATELIMIT send-tag functions (spec §5).
 *
 * inp_snd_tag owns one reference on its tag and changes only under the
 * inp write lock.  The output fast path holds at least the read lock and
 * upgrades it (try only) when it has to change the tag.
 */
#include <pthread.h>

#include "netinet/in_pcb.h"
#include "sys/socketvar.h"
#include "shim/refcount.h"
#include "shim/canary.h"
#include "shim/sched.h"
#include "shim/epoch.h"
#include "net/route.h"

MALLOC_DEFINE(M_PCB, "pcb", "protocol control block");

/*
 * Every inpcb whose memory is allocated, for the teardown ledger.  The
 * list lock is taken only with no inp lock held (after in_pcbrele_wlocked
 * has dropped it), so it never orders against the inp locks.
 */
static struct mtx inp_list_mtx;
static pthread_once_t inp_list_once = PTHREAD_ONCE_INIT;
static struct inpcb *inp_list;
static int inp_live;

static void
inp_list_init(void)
{
	mtx_init(&inp_list_mtx, "inpcb list", NULL, MTX_DEF);
}

static void
inp_list_lock(void)
{
	pthread_once(&inp_list_once, inp_list_init);
	mtx_lock(&inp_list_mtx);
}

static void
inp_list_unlock(void)
{
	mtx_unlock(&inp_list_mtx);
}

int
in_pcballoc(struct socket *so, int proto, int vflag)
{
	struct inpcb *inp;

	KASSERT(so != NULL && so->so_pcb == NULL,
	    ("inpcb: in_pcballoc on socket %p that has a pcb", so));
	KASSERT(vflag == INP_IPV4 || vflag == INP_IPV6,
	    ("inpcb: bad vflag %d", vflag));
	inp = malloc(sizeof(*inp), M_PCB, M_NOWAIT | M_ZERO);
	if (inp == NULL)
		return (ENOBUFS);
	INP_LOCK_INIT(inp, "inp", proto == IPPROTO_TCP ? "tcpinp" : "udpinp");
	inp->inp_vflag = (u_char)vflag;
	inp->inp_proto = (u_char)proto;
	inp->inp_flowtype = M_HASHTYPE_NONE;
	/* The socket's reference; in_pcbfree drops it. */
	refcount_init(&inp->inp_refcount, 1);
	inp->inp_socket = so;
	so->so_pcb = inp;

	inp_list_lock();
	inp->inp_next = inp_list;
	inp_list = inp;
	inp_live++;
	inp_list_unlock();
	return (0);
}

/*
 * The socket goes away.  The tag is released first, while inp_socket is
 * still set: a TCP inp may outlive its socket and must not keep a tag (and
 * with it the ifnet) pinned.  Packets queued in drivers keep their own
 * references.
 */
void
in_pcbdetach(struct inpcb *inp)
{
	INP_WLOCK_ASSERT(inp);
	KASSERT(inp->inp_socket != NULL,
	    ("inpcb: in_pcbdetach: inp %p has no socket", inp));

	if (inp->inp_snd_tag != NULL)
		in_pcbdetach_txrtlmt(inp);
	inp->inp_socket->so_pcb = NULL;
	inp->inp_socket = NULL;
}

/* The protocol is done with the connection (tcp_close): INP_DROPPED. */
void
in_pcbdrop(struct inpcb *inp)
{
	INP_WLOCK_ASSERT(inp);
	inp->inp_flags |= INP_DROPPED;
}

void
in_pcbref(struct inpcb *inp)
{
	KASSERT(refcount_load(&inp->inp_refcount) > 0,
	    ("inpcb: in_pcbref on a dead inp %p", inp));
	refcount_acquire(&inp->inp_refcount);
}

/* The last reference is gone and the inp unlocked: free the memory. */
static void
in_pcbfree_mem(struct inpcb *inp)
{
	struct inpcb **pp;
	bool found;

	found = false;
	inp_list_lock();
	for (pp = &inp_list; *pp != NULL; pp = &(*pp)->inp_next) {
		if (*pp == inp) {
			*pp = inp->inp_next;
			found = true;
			break;
		}
	}
	KASSERT(found, ("inpcb: %p not on the list", inp));
	inp_live--;
	inp_list_unlock();

	INP_LOCK_DESTROY(inp);
	free(inp, M_PCB);
}

static void
in_pcbrele_last(struct inpcb *inp)
{
	KASSERT(inp->inp_flags & INP_FREED,
	    ("inpcb: last reference on %p dropped before in_pcbfree", inp));
	KASSERT(inp->inp_snd_tag == NULL,
	    ("tag after drop: inp %p freed holding tag %p", inp,
	    inp->inp_snd_tag));
}

/*
 * Drop a reference with the write lock held.  Returns true when this was
 * the last one: the inp is unlocked and freed and must not be touched.
 */
bool
in_pcbrele_wlocked(struct inpcb *inp)
{
	INP_WLOCK_ASSERT(inp);
	if (!refcount_release(&inp->inp_refcount))
		return (false);
	in_pcbrele_last(inp);
	INP_WUNLOCK(inp);
	in_pcbfree_mem(inp);
	return (true);
}

/* The same with the read lock held (nobody else can hold it at zero). */
bool
in_pcbrele_rlocked(struct inpcb *inp)
{
	INP_RLOCK_ASSERT(inp);
	if (!refcount_release(&inp->inp_refcount))
		return (false);
	in_pcbrele_last(inp);
	INP_RUNLOCK(inp);
	in_pcbfree_mem(inp);
	return (true);
}

/*
 * Called write-locked after in_pcbdetach.  Returns with the inp unlocked
 * (and freed unless someone else still holds a reference).
 */
void
in_pcbfree(struct inpcb *inp)
{
	INP_WLOCK_ASSERT(inp);
	KASSERT(inp->inp_socket == NULL,
	    ("inpcb: in_pcbfree: inp %p still has socket %p", inp,
	    inp->inp_socket));
	KASSERT((inp->inp_flags & INP_FREED) == 0,
	    ("inpcb: in_pcbfree twice on %p", inp));
	/*
	 * in_pcbdetach released the tag and nothing can attach one without
	 * a socket (in_pcboutput_txrtlmt returns early), so a tag here was
	 * allocated after the detach.
	 */
	KASSERT(inp->inp_snd_tag == NULL,
	    ("tag after drop: inp %p holds tag %p after in_pcbdetach", inp,
	    inp->inp_snd_tag));
	inp->inp_flags |= INP_FREED;
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
}

int
inpcb_live_count(void)
{
	int n;

	inp_list_lock();
	n = inp_live;
	inp_list_unlock();
	return (n);
}

/* Between inputs: forget the list (the ledger has already judged it). */
void
in_pcb_reset(void)
{
	inp_list_lock();
	inp_list = NULL;
	inp_live = 0;
	inp_list_unlock();
}

/*
 * Harness: set the inp's hash type, e.g. M_HASHTYPE_NONE, so the
 * "no RSS hash yet" EAGAIN path of in_pcboutput_txrtlmt is reachable.
 */
int
in_pcb_set_flowtype(struct inpcb *inp, uint32_t flowtype)
{
	if (inp == NULL)
		return (EINVAL);
	INP_WLOCK(inp);
	inp->inp_flowtype = flowtype;
	INP_WUNLOCK(inp);
	return (0);
}

/* in_pcb.h: the model looks the route up (FreeBSD caches it). */
struct ifnet *
in_pcbroute_ifp(struct inpcb *inp)
{
	struct epoch_tracker et;
	struct ifnet *ifp;

	NET_EPOCH_ENTER(et);
	ifp = in_pcbroute_lookup(inp);
	if (ifp != NULL)
		if_ref(ifp);
	NET_EPOCH_EXIT(et);
	return (ifp);
}

struct ifnet *
in_pcbroute_lookup(struct inpcb *inp)
{
	NET_EPOCH_ASSERT();
	return ((inp->inp_vflag & INP_IPV6) != 0 ?
	    rt_lookup(AF_INET6, &inp->in6p_faddr) :
	    rt_lookup(AF_INET, &inp->inp_faddr));
}

/*
 * RATELIMIT.
 */

/*
 * Allocate a send tag for the inp on ifp.  *st is normally
 * &inp->inp_snd_tag; the write lock serialises it against every other
 * writer.
 */
int
in_pcbattach_txrtlmt(struct inpcb *inp, struct ifnet *ifp,
    uint32_t flowtype, uint32_t flowid, uint32_t max_pacing_rate,
    struct m_snd_tag **st)
{
	union if_snd_tag_alloc_params params;
	int error;

	INP_WLOCK_ASSERT(inp);

	/*
	 * A dropped inp is being torn down: a tag allocated now would be
	 * owned by nobody who will release it, leaking the tag and pinning
	 * the ifnet.
	 */
	if (*st != NULL || (inp->inp_flags & INP_DROPPED) != 0)
		return (EINVAL);

	memset(&params, 0, sizeof(params));
	params.hdr.type = (max_pacing_rate == -1U) ?
	    IF_SND_TAG_TYPE_UNLIMITED : IF_SND_TAG_TYPE_RATE_LIMIT;
	params.hdr.flowid = flowid;
	params.hdr.flowtype = flowtype;
	params.rate_limit.max_rate = max_pacing_rate;
	params.rate_limit.flags = M_NOWAIT;

	error = m_snd_tag_alloc(ifp, &params, st);
	if (st == &inp->inp_snd_tag)
		sched_access(inp, "inp_snd_tag set");
	/* The check above runs under the same write lock: cannot fire. */
	KASSERT(error != 0 || (inp->inp_flags & INP_DROPPED) == 0,
	    ("tag after drop: tag %p allocated for dropped inp %p", *st,
	    inp));
	return (error);
}

/* Drop the inp's tag: take the pointer out, NULL it, then release. */
void
in_pcbdetach_txrtlmt(struct inpcb *inp)
{
	struct m_snd_tag *mst;

	INP_WLOCK_ASSERT(inp);

	mst = inp->inp_snd_tag;
	sched_access(inp, "inp_snd_tag clear");
	inp->inp_snd_tag = NULL;
	if (mst == NULL)
		return;
#ifdef SNDTAG_VARIANT_NOREF
	/*
	 * Historic: mbufs held bare copies of the pointer, so the inp's
	 * reference is the only one and this release frees the tag at once,
	 * whatever is still queued in the drivers (m_snd_tag_destroy's scan
	 * of the live mbufs triggers the canary).
	 */
	CANARY_REACHED(CANARY_NOREF);
#endif
	m_snd_tag_rele(mst);
}

int
in_pcbmodify_txrtlmt(struct inpcb *inp, uint32_t max_pacing_rate)
{
	union if_snd_tag_modify_params params;
	struct m_snd_tag *mst;

	INP_WLOCK_ASSERT(inp);

	mst = inp->inp_snd_tag;
	if (mst == NULL)
		return (EINVAL);
	if (mst->sw == NULL || mst->sw->snd_tag_modify == NULL)
		return (EOPNOTSUPP);
	memset(&params, 0, sizeof(params));
	params.rate_limit.max_rate = max_pacing_rate;
	params.rate_limit.flags = M_NOWAIT;
	return (mst->sw->snd_tag_modify(mst, &params));
}

static int
in_pcbquery_common(struct inpcb *inp, union if_snd_tag_query_params *params)
{
	struct m_snd_tag *mst;

	INP_LOCK_ASSERT(inp);

	mst = inp->inp_snd_tag;
	if (mst == NULL)
		return (EINVAL);
	if (mst->sw == NULL || mst->sw->snd_tag_query == NULL)
		return (EOPNOTSUPP);
	memset(params, 0, sizeof(*params));
	return (mst->sw->snd_tag_query(mst, params));
}

int
in_pcbquery_txrtlmt(struct inpcb *inp, uint32_t *p_max_pacing_rate)
{
	union if_snd_tag_query_params params;
	int error;

	error = in_pcbquery_common(inp, &params);
	if (error == 0 && p_max_pacing_rate != NULL)
		*p_max_pacing_rate = (uint32_t)params.rate_limit.max_rate;
	return (error);
}

int
in_pcbquerylevel_txrtlmt(struct inpcb *inp, uint32_t *p_txqueue_level)
{
	union if_snd_tag_query_params params;
	int error;

	error = in_pcbquery_common(inp, &params);
	if (error == 0 && p_txqueue_level != NULL)
		*p_txqueue_level = params.rate_limit.queue_level;
	return (error);
}

/*
 * Re-evaluate the inp's tag for output on ifp.  Called from the send
 * helpers with the inp at least read-locked.
 */
void
in_pcboutput_txrtlmt(struct inpcb *inp, struct ifnet *ifp, struct mbuf *mb)
{
	struct socket *socket;
	uint32_t max_pacing_rate;
	bool did_upgrade;
	int error;

	if (inp == NULL)
		return;
	INP_LOCK_ASSERT(inp);
	socket = inp->inp_socket;
	if (socket == NULL)
		return;

	if (!INP_WLOCKED(inp)) {
		/*
		 * Read-locked (UDP).  If another reader is in, leave the tag
		 * alone; the next packet tries again.
		 */
		if (!INP_TRY_UPGRADE(inp))
			return;
		did_upgrade = true;
	} else
		did_upgrade = false;

	/* Read without the socket lock, as FreeBSD does: one word. */
	max_pacing_rate = __atomic_load_n(&socket->so_max_pacing_rate,
	    __ATOMIC_RELAXED);

	/*
	 * Route change: the tag belongs to another ifnet.  Drop it and keep
	 * CHANGED set until an allocation on the new ifnet settles.
	 */
	if (inp->inp_snd_tag != NULL && inp->inp_snd_tag->ifp != ifp) {
		in_pcbdetach_txrtlmt(inp);
		inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	}

	if (max_pacing_rate == 0 && inp->inp_snd_tag == NULL) {
		error = 0;
	} else if ((if_getcapenable(ifp) & IFCAP_TXRTLMT) == 0) {
		if (inp->inp_snd_tag != NULL)
			in_pcbdetach_txrtlmt(inp);
		error = 0;
	} else if (inp->inp_snd_tag == NULL) {
		/* Pacing with RSS needs a valid hash to pick the queue. */
		if (M_HASHTYPE_GET(mb) == M_HASHTYPE_NONE)
			error = EAGAIN;
		else
			error = in_pcbattach_txrtlmt(inp, ifp,
			    M_HASHTYPE_GET(mb), mb->m_pkthdr.flowid,
			    max_pacing_rate, &inp->inp_snd_tag);
	} else
		error = in_pcbmodify_txrtlmt(inp, max_pacing_rate);

	/* Accounting: what the driver's tag now carries, or a failure. */
	if (error != 0)
		INP_TXSTAT_INC(inp, its_rl_fail);
	else if (inp->inp_snd_tag != NULL)
		__atomic_store_n(&inp->inp_txstat.its_rl_rate,
		    (uint64_t)max_pacing_rate, __ATOMIC_RELAXED);

	if (error == 0 || error == EOPNOTSUPP)
		inp->inp_flags2 &= ~INP_RATE_LIMIT_CHANGED;

	if (did_upgrade)
		INP_DOWNGRADE(inp);
}

/*
 * The output path got EAGAIN (tag/ifp mismatch here or in a wrapper
 * below): drop the tag so the next packet allocates a fresh one.
 */
void
in_pcboutput_eagain(struct inpcb *inp)
{
	bool did_upgrade;

	if (inp == NULL)
		return;
	INP_LOCK_ASSERT(inp);
	if (inp->inp_socket == NULL || inp->inp_snd_tag == NULL)
		return;

	if (!INP_WLOCKED(inp)) {
		if (!INP_TRY_UPGRADE(inp))
			return;
		did_upgrade = true;
	} else
		did_upgrade = false;

	in_pcbdetach_txrtlmt(inp);
	inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;

	if (did_upgrade)
		INP_DOWNGRADE(inp);
}
