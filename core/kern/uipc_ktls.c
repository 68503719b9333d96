/*
 * Model of the transmit half of sys/kern/uipc_ktls.c (ifnet TLS):
 * sessions, their send tags, the reset task after a route change, and
 * TLS records as mbufs that hold a session reference.  See sys/ktls.h for
 * who owns which reference.
 *
 * Behaviour from FreeBSD's current sources:
 *  - ktls_alloc_snd_tag refuses a dropped, freed or socket-less inp
 *    (ECONNRESET), takes the ifnet from the connection's route, and asks
 *    for a TLS + rate limit tag when the connection is paced and the
 *    ifnet can do it, else a TLS tag;
 *  - ktls_output_eagain queues one reset per session (reset_pending),
 *    holding a session and an inp reference, and returns ENOBUFS;
 *  - ktls_reset_send_tag releases the old tag first (under the inp write
 *    lock the pointer becomes NULL), allocates a new one, and on failure
 *    drops the connection and leaves snd_tag NULL and reset_pending set;
 *  - ktls_cleanup releases snd_tag only when there is one.
 */
#include "sys/ktls.h"
#include "sys/socketvar.h"
#include "netinet/in_pcb.h"
#include "net/route.h"
#include "shim/epoch.h"
#include "shim/refcount.h"

MALLOC_DEFINE(M_KTLS, "ktls", "Kernel TLS sessions");

static volatile int ktls_live;

static void ktls_reset_send_tag(void *context, int pending);

int
ktls_live_count(void)
{
	return (__atomic_load_n(&ktls_live, __ATOMIC_RELAXED));
}

void
ktls_reset(void)
{
	__atomic_store_n(&ktls_live, 0, __ATOMIC_RELAXED);
}

struct ktls_session *
ktls_hold(struct ktls_session *tls)
{
	KASSERT(refcount_load(&tls->refcount) > 0,
	    ("ktls: ktls_hold on a freed session %p", (void *)tls));
	refcount_acquire(&tls->refcount);
	return (tls);
}

/* The IFNET session lets go of its tag; a failed reset left it NULL. */
static void
ktls_cleanup(struct ktls_session *tls)
{
	struct m_snd_tag *mst;

	if (tls->mode == TCP_TLS_MODE_IFNET) {
		mst = tls->snd_tag;
		tls->snd_tag = NULL;
		if (mst != NULL)
			m_snd_tag_rele(mst);
	}
}

static void
ktls_destroy(struct ktls_session *tls)
{
	/*
	 * A queued reset holds a reference, so the last one cannot go
	 * while the task is pending; if it did, the task would run on
	 * freed memory and its inp reference would leak.
	 */
	KASSERT(tls->reset_tag_task.ta_pending == 0,
	    ("ktls: session %p freed with its reset task queued",
	    (void *)tls));
	ktls_cleanup(tls);
	mtx_destroy(&tls->mtx);
	free(tls, M_KTLS);
	__atomic_fetch_sub(&ktls_live, 1, __ATOMIC_RELAXED);
}

void
ktls_free(struct ktls_session *tls)
{
	u_int old;

	old = refcount_load(&tls->refcount);
	KASSERT(old > 0, ("ktls: ktls_free on a freed session %p",
	    (void *)tls));
	if (refcount_release(&tls->refcount))
		ktls_destroy(tls);
}

static struct ktls_session *
ktls_create_session(uint8_t tls_vminor)
{
	struct ktls_session *tls;

	tls = malloc(sizeof(*tls), M_KTLS, M_WAITOK | M_ZERO);
	refcount_init(&tls->refcount, 1);
	mtx_init(&tls->mtx, "ktls session", NULL, MTX_DEF);
	TASK_INIT(&tls->reset_tag_task, 0, ktls_reset_send_tag, tls);
	tls->tls_vmajor = TLS_MAJOR_VER_ONE;
	tls->tls_vminor = tls_vminor;
	tls->mode = TCP_TLS_MODE_NONE;
	__atomic_fetch_add(&ktls_live, 1, __ATOMIC_RELAXED);
	return (tls);
}

/*
 * Allocate a TLS send tag on the interface the connection is routed
 * over (first enable, or a reset after a route change).
 */
static int
ktls_alloc_snd_tag(struct inpcb *inp, struct ktls_session *tls,
    struct m_snd_tag **mstp)
{
	union if_snd_tag_alloc_params params;
	struct ifnet *ifp;
	uint32_t rate;
	int error;

	INP_RLOCK(inp);
	if ((inp->inp_flags & (INP_DROPPED | INP_FREED)) != 0 ||
	    inp->inp_socket == NULL) {
		INP_RUNLOCK(inp);
		return (ECONNRESET);
	}
	/* FreeBSD uses the route cached in the inp. */
	ifp = in_pcbroute_ifp(inp);
	if (ifp == NULL) {
		INP_RUNLOCK(inp);
		return (ENXIO);
	}

	memset(&params, 0, sizeof(params));
	rate = __atomic_load_n(&inp->inp_socket->so_max_pacing_rate,
	    __ATOMIC_RELAXED);
	/* A paced connection gets a TLS + rate limit tag if possible. */
	if (rate != 0 && rate != -1U &&
	    (if_getcapenable(ifp) & IFCAP_TXTLS_RTLMT) != 0) {
		params.hdr.type = IF_SND_TAG_TYPE_TLS_RATE_LIMIT;
		params.tls_rate_limit.inp = inp;
		params.tls_rate_limit.tls = tls;
		params.tls_rate_limit.max_rate = rate;
	} else {
		params.hdr.type = IF_SND_TAG_TYPE_TLS;
		params.tls.inp = inp;
		params.tls.tls = tls;
	}
	params.hdr.flowid = inp->inp_flowid;
	params.hdr.flowtype = inp->inp_flowtype;
	INP_RUNLOCK(inp);

	if ((if_getcapenable(ifp) & IFCAP_MEXTPG) == 0 ||
	    (if_getcapenable(ifp) & ((inp->inp_vflag & INP_IPV6) != 0 ?
	    IFCAP_TXTLS6 : IFCAP_TXTLS4)) == 0)
		error = EOPNOTSUPP;
	else
		error = m_snd_tag_alloc(ifp, &params, mstp);
	if_rele(ifp);
	return (error);
}

int
ktls_enable_tx(struct socket *so, uint8_t tls_vminor)
{
	struct ktls_session *tls;
	struct m_snd_tag *mst;
	struct inpcb *inp;
	int error;

	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	if (so->so_type != SOCK_STREAM) {
		error = EINVAL;
		goto out;
	}
	/* Rekeying is not supported: one session per socket. */
	if (__atomic_load_n(&so->so_snd_tls, __ATOMIC_ACQUIRE) != NULL) {
		error = EALREADY;
		goto out;
	}
	tls = ktls_create_session(tls_vminor);

	/* Prefer ifnet TLS, else software TLS (which cannot fail here). */
	if (ktls_alloc_snd_tag(inp, tls, &mst) == 0) {
		tls->mode = TCP_TLS_MODE_IFNET;
		tls->snd_tag = mst;
	} else
		tls->mode = TCP_TLS_MODE_SW;

	INP_WLOCK(inp);
	if (so->so_snd_tls != NULL || inp->inp_socket == NULL) {
		/* Raced with another enable or with the close. */
		INP_WUNLOCK(inp);
		ktls_free(tls);
		error = inp->inp_socket == NULL ? ECONNRESET : EALREADY;
	} else {
		__atomic_store_n(&so->so_snd_tls, tls, __ATOMIC_RELEASE);
		INP_WUNLOCK(inp);
	}
out:
	INP_RLOCK(inp);
	if (!in_pcbrele_rlocked(inp))
		INP_RUNLOCK(inp);
	return (error);
}

int
ktls_get_tx_mode(struct socket *so)
{
	struct ktls_session *tls;

	tls = __atomic_load_n(&so->so_snd_tls, __ATOMIC_ACQUIRE);
	return (tls == NULL ? TCP_TLS_MODE_NONE : (int)tls->mode);
}

/*
 * Runs on taskqueue_thread, queued by ktls_output_eagain with a session
 * and an inp reference, which it drops.
 */
static void
ktls_reset_send_tag(void *context, int pending)
{
	struct epoch_tracker et;
	struct ktls_session *tls = context;
	struct m_snd_tag *old, *new;
	struct inpcb *inp;
	int error;

	MPASS(pending == 1);
	inp = tls->inp;

	/*
	 * Free the old tag first; ip_output_send treats a NULL tag like a
	 * mismatch and drops TLS records until the new one is there.
	 */
	INP_WLOCK(inp);
	old = tls->snd_tag;
	tls->snd_tag = NULL;
	INP_WUNLOCK(inp);
	if (old != NULL)
		m_snd_tag_rele(old);

	error = ktls_alloc_snd_tag(inp, tls, &new);
	if (error == 0) {
		INP_WLOCK(inp);
		tls->snd_tag = new;
		mtx_lock(&tls->mtx);
		tls->reset_pending = false;
		mtx_unlock(&tls->mtx);
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
	} else {
		NET_EPOCH_ENTER(et);
		INP_WLOCK(inp);
		if (!in_pcbrele_wlocked(inp)) {
			if ((inp->inp_flags & INP_DROPPED) == 0 &&
			    inp->inp_socket != NULL)
				tcp_drop(inp, ECONNABORTED);
			INP_WUNLOCK(inp);
		}
		NET_EPOCH_EXIT(et);
		/*
		 * reset_pending stays set: no more tasks while the socket
		 * goes away.  snd_tag stays NULL.
		 */
	}
	ktls_free(tls);
}

/*
 * The TLS half of ip_output_send/ip6_output_send: stamp the record's
 * packet with a reference on the session's tag.  A NULL tag (a reset is
 * running, or failed) or a tag of another ifnet (route change) is
 * EAGAIN, with the packet freed: the helper consumes it on every path.
 */
int
ktls_output_stamp(struct inpcb *inp, struct ifnet *ifp, struct mbuf *m,
    struct ktls_session *tls)
{
	struct m_snd_tag *mst;

	/* snd_tag changes under the inp write lock; the caller holds it. */
	if (inp != NULL)
		INP_LOCK_ASSERT(inp);
	mst = tls->snd_tag;
	if (mst == NULL || mst->ifp != ifp) {
		m_freem(m);
		return (EAGAIN);
	}
	KASSERT(m->m_pkthdr.rcvif == NULL,
	    ("csum_snd_tag: trying to add a send tag to a forwarded "
	    "packet (rcvif %p)", (void *)m->m_pkthdr.rcvif));
	m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	return (0);
}

int
ktls_output_eagain(struct inpcb *inp, struct ktls_session *tls)
{
	if (inp == NULL)
		return (ENOBUFS);
	INP_LOCK_ASSERT(inp);

	mtx_lock(&tls->mtx);
	if (!tls->reset_pending) {
		(void)ktls_hold(tls);
		in_pcbref(inp);
		tls->inp = inp;
		tls->reset_pending = true;
		taskqueue_enqueue(taskqueue_thread, &tls->reset_tag_task);
	}
	mtx_unlock(&tls->mtx);
	return (ENOBUFS);
}

int
ktls_modify_txrtlmt(struct ktls_session *tls, uint64_t max_pacing_rate)
{
	union if_snd_tag_modify_params params;
	struct m_snd_tag *mst;

	MPASS(tls->mode == TCP_TLS_MODE_IFNET);
	mst = tls->snd_tag;
	/* A reset is re-allocating: it picks the rate up (or loses it). */
	if (mst == NULL)
		return (0);
	if (mst->sw->type != IF_SND_TAG_TYPE_TLS_RATE_LIMIT ||
	    mst->sw->snd_tag_modify == NULL)
		return (EOPNOTSUPP);
	memset(&params, 0, sizeof(params));
	params.tls_rate_limit.max_rate = max_pacing_rate;
	params.tls_rate_limit.flags = M_NOWAIT;
	return (mst->sw->snd_tag_modify(mst, &params));
}

int
ktls_query_txrtlmt(struct ktls_session *tls, uint64_t *max_rate,
    uint32_t *queue_level)
{
	union if_snd_tag_query_params params;
	struct m_snd_tag *mst;
	int error;

	mst = tls->snd_tag;
	if (mst == NULL)
		return (EINVAL);
	if (mst->sw->snd_tag_query == NULL)
		return (EOPNOTSUPP);
	memset(&params, 0, sizeof(params));
	error = mst->sw->snd_tag_query(mst, &params);
	if (error == 0) {
		*max_rate = params.tls_rate_limit.max_rate;
		*queue_level = params.tls_rate_limit.queue_level;
	}
	return (error);
}

/*
 * m_uiotombuf_nomap + ktls_frame: one cluster per record; an IFNET
 * session's records keep a session reference in their storage until
 * the NIC is done with them (software TLS drops it after encryption,
 * so its records carry none).
 */
static struct mbuf *
ktls_records(struct ktls_session *tls, int nrec, int reclen)
{
	struct mbuf *top, *m, **mp;
	int i;

	top = NULL;
	mp = &top;
	for (i = 0; i < nrec; i++) {
		m = m_getcl(M_NOWAIT, MT_DATA, 0);
		if (m == NULL) {
			m_freem(top);
			return (NULL);
		}
		m->m_len = reclen;
		memset(mtod(m, char *), 0x17, (size_t)reclen);
		if (tls != NULL && tls->mode == TCP_TLS_MODE_IFNET)
			m->m_ext.ext_tls = ktls_hold(tls);
		*mp = m;
		mp = &m->m_next;
	}
	return (top);
}

int
ktls_sosend(struct socket *so, int nrec, int reclen)
{
	struct ktls_session *tls;
	struct inpcb *inp;
	struct mbuf *m;
	int error;

	if (so == NULL || nrec < 1 || nrec > KTLS_MAX_RECORDS ||
	    reclen < 1 || reclen > KTLS_MAX_RECORD)
		return (EINVAL);
	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	INP_WLOCK(inp);
	if (so->so_type != SOCK_STREAM)
		error = EINVAL;
	else if (inp->inp_socket == NULL || (inp->inp_flags & INP_DROPPED))
		error = ECONNRESET;
	else if ((so->so_state & SS_ISCONNECTED) == 0)
		error = ENOTCONN;
	else {
		tls = so->so_snd_tls;
		m = ktls_records(tls, nrec, reclen);
		if (m == NULL)
			error = ENOBUFS;
		else
			error = tcp_output(inp, m);
	}
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
	return (error);
}

/* sbdestroy on close: the send buffer's session reference goes. */
void
ktls_sbdestroy(struct socket *so)
{
	struct ktls_session *tls;
	struct inpcb *inp = so->so_pcb;

	/* Under the inp lock: ktls_sosend holds records' references. */
	INP_WLOCK(inp);
	tls = __atomic_exchange_n(&so->so_snd_tls, NULL, __ATOMIC_ACQ_REL);
	INP_WUNLOCK(inp);
	if (tls != NULL)
		ktls_free(tls);
}
