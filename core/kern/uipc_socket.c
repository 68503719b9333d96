/*
 * Model of sys/kern/uipc_socket.c and the socket-level halves of
 * in_pcbconnect and ip_ctloutput: create, connect, SO_MAX_PACING_RATE,
 * send and close, plus the socket ledger the teardown checks.
 *
 * Sockets are identified by pointer.  Each call takes an inp reference
 * under so_lock, so a close on another thread never frees the inp under
 * a running send; the socket memory itself stays until soclose_all() so
 * a call on a closed socket is rejected cleanly (EBADF).
 */
#include <pthread.h>

#include "sys/socketvar.h"
#include "sys/ktls.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"

MALLOC_DEFINE(M_SOCKET, "socket", "socket structure");

/* Largest single sosend; keeps one operation's memory bounded. */
#define	SOSEND_MAXLEN	(256 * 1024)
/* Leading space left in the first payload mbuf for the headers. */
#define	SO_HDR_ROOM	96

#define	IPPORT_EPHEMERALFIRST	49152
#define	IPPORT_EPHEMERALCOUNT	16384

#define	SOCK_LOCK(so)		mtx_lock(&(so)->so_lock)
#define	SOCK_UNLOCK(so)		mtx_unlock(&(so)->so_lock)

static struct mtx so_list_mtx;
static pthread_once_t so_list_once = PTHREAD_ONCE_INIT;
static struct socket *so_list;
static int so_live;
static u_int so_next_port;		/* ephemeral port allocator */

static void
so_list_init(void)
{
	mtx_init(&so_list_mtx, "socket list", NULL, MTX_DEF);
}

static void
so_list_lock(void)
{
	pthread_once(&so_list_once, so_list_init);
	mtx_lock(&so_list_mtx);
}

static void
so_list_unlock(void)
{
	mtx_unlock(&so_list_mtx);
}

/*
 * Hand out the socket's inp with a reference, or EBADF once closed.  The
 * caller drops the reference with in_pcbrele_{w,r}locked.
 */
int
sopcbref(struct socket *so, struct inpcb **inpp)
{
	struct inpcb *inp;

	*inpp = NULL;
	if (so == NULL)
		return (EINVAL);
	SOCK_LOCK(so);
	if (so->so_closed) {
		SOCK_UNLOCK(so);
		return (EBADF);
	}
	inp = so->so_pcb;
	KASSERT(inp != NULL, ("socket: open socket %p without pcb", so));
	in_pcbref(inp);
	SOCK_UNLOCK(so);
	*inpp = inp;
	return (0);
}

int
socreate(int dom, struct socket **aso, int type, int proto)
{
	struct socket *so;
	int error, vflag;

	if (aso == NULL)
		return (EINVAL);
	*aso = NULL;
	switch (dom) {
	case AF_INET:
		vflag = INP_IPV4;
		break;
	case AF_INET6:
		vflag = INP_IPV6;
		break;
	default:
		return (EAFNOSUPPORT);
	}
	switch (type) {
	case SOCK_STREAM:
		if (proto == 0)
			proto = IPPROTO_TCP;
		if (proto != IPPROTO_TCP)
			return (EPROTONOSUPPORT);
		break;
	case SOCK_DGRAM:
		if (proto == 0)
			proto = IPPROTO_UDP;
		if (proto != IPPROTO_UDP)
			return (EPROTONOSUPPORT);
		break;
	default:
		return (EPROTOTYPE);
	}

	so = malloc(sizeof(*so), M_SOCKET, M_NOWAIT | M_ZERO);
	if (so == NULL)
		return (ENOBUFS);
	mtx_init(&so->so_lock, "so_lock", NULL, MTX_DEF);
	so->so_type = (short)type;
	so->so_family = dom;
	error = in_pcballoc(so, proto, vflag);
	if (error != 0) {
		mtx_destroy(&so->so_lock);
		free(so, M_SOCKET);
		return (error);
	}

	so_list_lock();
	so->so_next = so_list;
	so_list = so;
	so_live++;
	so_list_unlock();
	*aso = so;
	return (0);
}

/* FNV-1a: a deterministic stand-in for the RSS Toeplitz hash. */
static uint32_t
so_hash(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return (h);
}

static uint16_t
so_ephemeral_port(void)
{
	u_int n;

	n = __atomic_fetch_add(&so_next_port, 1, __ATOMIC_RELAXED);
	return ((uint16_t)(IPPORT_EPHEMERALFIRST + n % IPPORT_EPHEMERALCOUNT));
}

/* Sources when the route's ifnet has no address: 10.0.0.1, fd00::1. */
static const struct in_addr so_default_laddr = { 0x0a000001 };
static const struct in6_addr so_default_laddr6 = { { 0xfd, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

/*
 * in_pcbconnect: set the foreign address, choose a deterministic local
 * address (one configured on the route's ifnet, else a default) and an
 * ephemeral port, and hash the 4-tuple into the flowid.
 */
static int
in_pcbconnect_model(struct inpcb *inp, const struct sockaddr *nam)
{
	struct epoch_tracker et;
	struct ifnet *ifp;
	uint32_t h;

	INP_WLOCK_ASSERT(inp);
	if (inp->inp_vflag & INP_IPV4) {
		const struct sockaddr_in *sin;

		if (nam->sa_family != AF_INET)
			return (EAFNOSUPPORT);
		if (nam->sa_len < sizeof(*sin))
			return (EINVAL);
		sin = (const struct sockaddr_in *)nam;
		if (sin->sin_port == 0 || sin->sin_addr.s_addr == 0)
			return (EADDRNOTAVAIL);
		inp->inp_faddr = sin->sin_addr;
		inp->inp_fport = sin->sin_port;
		inp->inp_laddr = so_default_laddr;
		NET_EPOCH_ENTER(et);
		ifp = rt_lookup(AF_INET, &inp->inp_faddr);
		if (ifp != NULL)
			(void)in_ifaddr_lookup_ifp(ifp, &inp->inp_laddr);
		NET_EPOCH_EXIT(et);
		inp->inp_lport = so_ephemeral_port();
		h = so_hash(2166136261u, &inp->inp_laddr,
		    sizeof(inp->inp_laddr));
		h = so_hash(h, &inp->inp_faddr, sizeof(inp->inp_faddr));
		inp->inp_flowtype = inp->inp_proto == IPPROTO_TCP ?
		    M_HASHTYPE_RSS_TCP_IPV4 : M_HASHTYPE_OPAQUE_HASH;
	} else {
		const struct sockaddr_in6 *sin6;
		static const struct in6_addr any6;

		if (nam->sa_family != AF_INET6)
			return (EAFNOSUPPORT);
		if (nam->sa_len < sizeof(*sin6))
			return (EINVAL);
		sin6 = (const struct sockaddr_in6 *)nam;
		if (sin6->sin6_port == 0 ||
		    memcmp(&sin6->sin6_addr, &any6, sizeof(any6)) == 0)
			return (EADDRNOTAVAIL);
		inp->in6p_faddr = sin6->sin6_addr;
		inp->inp_fport = sin6->sin6_port;
		inp->in6p_laddr = so_default_laddr6;
		NET_EPOCH_ENTER(et);
		ifp = rt_lookup(AF_INET6, &inp->in6p_faddr);
		if (ifp != NULL)
			(void)in6_ifaddr_lookup_ifp(ifp, &inp->in6p_laddr);
		NET_EPOCH_EXIT(et);
		inp->inp_lport = so_ephemeral_port();
		h = so_hash(2166136261u, &inp->in6p_laddr,
		    sizeof(inp->in6p_laddr));
		h = so_hash(h, &inp->in6p_faddr, sizeof(inp->in6p_faddr));
		inp->inp_flowtype = inp->inp_proto == IPPROTO_TCP ?
		    M_HASHTYPE_RSS_TCP_IPV6 : M_HASHTYPE_OPAQUE_HASH;
	}
	h = so_hash(h, &inp->inp_lport, sizeof(inp->inp_lport));
	h = so_hash(h, &inp->inp_fport, sizeof(inp->inp_fport));
	inp->inp_flowid = h;
	return (0);
}

int
soconnect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp;
	int error;

	if (nam == NULL)
		return (EINVAL);
	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	INP_WLOCK(inp);
	if (inp->inp_socket == NULL || (inp->inp_flags & INP_DROPPED))
		error = EINVAL;
	else if (so->so_state & SS_ISCONNECTED)
		error = EISCONN;
	else {
		error = in_pcbconnect_model(inp, nam);
		if (error == 0)
			so->so_state |= SS_ISCONNECTED;
	}
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
	return (error);
}

/*
 * SO_MAX_PACING_RATE: sosetopt stores the rate, then the protocol's
 * ctloutput marks the inp so the next output re-evaluates its tag.  TCP
 * refuses a dropped connection after the rate is already stored, as
 * tcp_ctloutput does.
 */
int
sosetopt_max_pacing_rate(struct socket *so, uint32_t rate)
{
	struct inpcb *inp;
	int error;

	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	__atomic_store_n(&so->so_max_pacing_rate, rate, __ATOMIC_RELAXED);
	INP_WLOCK(inp);
	if (inp->inp_socket == NULL)
		error = EBADF;
	else if (inp->inp_flags & INP_DROPPED)
		error = ECONNRESET;
	else
		inp->inp_flags2 |= INP_RATE_LIMIT_CHANGED;
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
	return (error);
}

/* Payload pattern, built before main() so no thread ever races on it. */
static char so_pattern[512];

static void __attribute__((__constructor__))
so_pattern_init(void)
{
	int i;

	for (i = 0; i < (int)sizeof(so_pattern); i++)
		so_pattern[i] = (char)(i * 7 + 3);
}

static void
so_fill(struct mbuf *m, int off)
{
	char *p = mtod(m, char *);
	int i, n;

	/*
	 * A position-dependent pattern, so a reordered copy shows.  It has
	 * period 256, so copy it from a table instead of computing each
	 * byte: this is the hottest loop of a send.
	 */
	for (i = 0; i < m->m_len; i += n) {
		n = MIN(m->m_len - i, 256);
		memcpy(p + i, so_pattern + ((off + i) & 255), n);
	}
}

/*
 * The payload of one send, like m_uiotombuf: a chain of clusters (the
 * first with M_PKTHDR and room for headers when pkthdr is set).  NULL on
 * allocation failure, with nothing left allocated.
 */
static struct mbuf *
so_payload(int len, bool pkthdr)
{
	struct mbuf *top, *m, **mp;
	int off, room;

	top = NULL;
	mp = &top;
	off = 0;
	do {
		if (pkthdr && top == NULL) {
			if (len + SO_HDR_ROOM <= MHLEN)
				m = m_gethdr(M_NOWAIT, MT_DATA);
			else
				m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
		} else if (len - off <= MLEN)
			m = m_get(M_NOWAIT, MT_DATA);
		else
			m = m_getcl(M_NOWAIT, MT_DATA, 0);
		if (m == NULL) {
			m_freem(top);
			return (NULL);
		}
		if (pkthdr && top == NULL)
			m->m_data += SO_HDR_ROOM;
		room = M_TRAILINGSPACE(m);
		m->m_len = MIN(room, len - off);
		so_fill(m, off);
		off += m->m_len;
		*mp = m;
		mp = &m->m_next;
	} while (off < len);
	if (pkthdr)
		top->m_pkthdr.len = len;
	return (top);
}

int
sosend(struct socket *so, int len, int flags)
{
	struct inpcb *inp;
	struct mbuf *m;
	int error;

	if (so == NULL || len < 0)
		return (EINVAL);
	if (len > SOSEND_MAXLEN)
		return (EMSGSIZE);
	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);

	if (so->so_type == SOCK_STREAM) {
		INP_WLOCK(inp);
		if (inp->inp_socket == NULL || (inp->inp_flags & INP_DROPPED))
			error = ECONNRESET;
		else if ((so->so_state & SS_ISCONNECTED) == 0)
			error = ENOTCONN;
		else if (len > 0) {
			m = so_payload(len, false);
			if (m == NULL)
				error = ENOBUFS;
			else
				error = tcp_output(inp, m);
		}
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
		return (error);
	}

	m = so_payload(len, true);
	if (m == NULL)
		error = ENOBUFS;
	else
		error = udp_output(inp, m);
	INP_RLOCK(inp);
	if (!in_pcbrele_rlocked(inp))
		INP_RUNLOCK(inp);
	return (error);
}

int
soclose(struct socket *so)
{
	struct inpcb *inp;

	if (so == NULL)
		return (EINVAL);
	SOCK_LOCK(so);
	if (so->so_closed) {
		SOCK_UNLOCK(so);
		return (EBADF);
	}
	so->so_closed = true;
	inp = so->so_pcb;
	SOCK_UNLOCK(so);

	/*
	 * The socket's own inp reference keeps inp valid here: only this
	 * path (now serialised by so_closed) drops it.
	 */
	ktls_sbdestroy(so);
	INP_WLOCK(inp);
	in_pcbdetach(inp);
	in_pcbfree(inp);
	return (0);
}

void
soclose_all(void)
{
	struct socket *list, *so;

	so_list_lock();
	list = so_list;
	so_list = NULL;
	so_list_unlock();

	while ((so = list) != NULL) {
		list = so->so_next;
		(void)soclose(so);
		mtx_destroy(&so->so_lock);
		free(so, M_SOCKET);
		so_list_lock();
		so_live--;
		so_list_unlock();
	}
}

int
socket_live_count(void)
{
	int n;

	so_list_lock();
	n = so_live;
	so_list_unlock();
	return (n);
}

void
socket_reset(void)
{
	so_list_lock();
	so_list = NULL;
	so_live = 0;
	so_list_unlock();
	__atomic_store_n(&so_next_port, 0, __ATOMIC_RELAXED);
}
