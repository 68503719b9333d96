/*
 * Harness: the scenario interpreter (see interp.h).
 *
 * Operations' errors (EAGAIN, ENOBUFS, EOPNOTSUPP, ...) are results, not
 * failures: they are traced and the run goes on.  A reference that finds
 * no live object of its kind makes the op a traced "skip".  Only the
 * model's own checks (panics, sanitizers, the ledger) end a run.
 */
#include "fuzz/interp.h"
#include "fuzz/decode_arena.h"
#include "fuzz/interp_feedback.h"
#include "fuzz/interp_expect.h"
#include "fuzz/interp_ktls.h"

#include <limits.h>
#include <stdarg.h>

#include "scenario.pb-c.h"

#include "harness/packet.h"
#include "harness/world.h"
#include "net/if_epair.h"
#include "net/if_lagg.h"
#include "net/if_loop.h"
#include "net/if_var.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/sched.h"
#include "shim/sched_ctl.h"
#include "shim/taskqueue.h"
#include "sys/socketvar.h"
#include "dev/cxgbe/adapter.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/nic/if_nic.h"

/*
 * The model spells malloc(9)/free(9) with three and two arguments; the
 * interpreter's own memory comes from libc, called as (free)(p).
 */
#define	LIBC_FREE(p)	(free)(p)

/*
 * Malloc types defined in model files, not declared in a shared header.
 * Weak, so a build without one still links; FailAlloc on a missing type
 * is a traced skip.
 */
extern struct malloc_type M_VLAN[1] __attribute__((weak));
extern struct malloc_type M_LAGG[1] __attribute__((weak));
extern struct malloc_type M_NIC[1] __attribute__((weak));
extern struct malloc_type M_CXGBE[1] __attribute__((weak));
extern struct malloc_type M_MLX5EN[1] __attribute__((weak));
extern struct malloc_type M_RTABLE[1] __attribute__((weak));
extern struct malloc_type M_EPAIR[1] __attribute__((weak));

static const char *const iface_kind_name[IK_N] = {
	"nic", "lo", "epair", "vlan", "lagg", "cxgbe", "mlx5"
};

/* Interface states (relaxed atomics: a CAS picks the one detacher). */
#define	IS_NONE		0	/* not created (creation failed) */
#define	IS_LIVE		1
#define	IS_DEAD		2

struct interp_iface {
	struct ifnet	*ifp;
	int		 kind;
	int		 kind_index;	/* n-th of its kind (epair: pair) */
	int		 peer;		/* epair: the other side, else -1 */
	int		 n_workers;	/* mlx5 */
	int		 state;		/* IS_* */
	char		 name[24];	/* deterministic trace name */
};

/*
 * A socket slot, used like a file descriptor: the table holds one
 * reference, each op holds one while it runs, the last drop closes the
 * socket (as fdrop does).  The pointer is published with release and read
 * with acquire (the fd table's publication); the count is refcount(9)
 * shaped, so two ops on one socket get no happens-before edge from the
 * table and TSan still sees races between them.
 */
struct interp_file {
	struct socket	*so;
	u_int		 refs;		/* 0: not open */
	int		 busy;		/* slot reserved (open .. last drop) */
	int		 closing;	/* close has dropped the table's ref */
};

struct interp_opctx {
	char	*buf;
	size_t	 len;
	size_t	 size;
	const char *skip;	/* why the op was a skip */
	struct ifnet *held[2];	/* if_ref'd by iface_hold, released by run_op */
	int	 nheld;
	int	 sock;		/* the socket slot the op resolved, or -1 */
	int	 delivered;	/* epair_deliver: packets delivered */
};

#define	TRACE_LINE	192

struct interp {
	const Scenario	*sc;
	struct interp_limits lim;
	FILE		*trace;
	bool		 set_up;
	bool		 finished;
	bool		 sequential;
	/* Ops, their dense thread ids. */
	uint32_t	 n_ops;
	uint8_t		*op_thread;
	int		 n_threads;
	uint32_t	 ops_run;	/* relaxed atomic */
	char		*lines;		/* threaded mode: one line per op */
	uint8_t		*line_done;
	/* Interfaces, in creation order. */
	struct interp_iface ifaces[INTERP_MAX_IFACES];
	int		 n_ifaces;
	int		 n_kind[IK_N];
	/* Socket slots. */
	struct interp_file files[INTERP_MAX_SOCKETS];
	uint32_t	 files_hw;	/* slots ever used: the first files_hw */
	/* Budgets. */
	uint32_t	 packets;	/* relaxed atomic */
	/* Sequential trace: a send's accounting line, after its op line. */
	char		 txline[TRACE_LINE];
};

static struct interp *interp_current;	/* the interpreter set up now */
static const char *interp_reject_why = "";

const char *
interp_reject_reason(void)
{
	return (interp_reject_why);
}

static int
interp_reject(const char *why)
{
	interp_reject_why = why;
	return (-1);
}

/* ---- tracing ------------------------------------------------------- */

static void __printflike(2, 3)
ctx_printf(struct interp_opctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->buf == NULL || c->len >= c->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->len, c->size - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len = MIN(c->size - 1, c->len + (size_t)n);
}

static const char *
errname(int error, char *buf, size_t len)
{
	static const struct { int e; const char *n; } tab[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { E2BIG, "E2BIG" },
		{ EBADF, "EBADF" }, { ENOMEM, "ENOMEM" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
		{ ENOSPC, "ENOSPC" },
		{ EPIPE, "EPIPE" }, { ERANGE, "ERANGE" }, { EAGAIN, "EAGAIN" },
		{ EINPROGRESS, "EINPROGRESS" }, { EALREADY, "EALREADY" },
		{ EDESTADDRREQ, "EDESTADDRREQ" }, { EMSGSIZE, "EMSGSIZE" },
		{ EPROTOTYPE, "EPROTOTYPE" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ EADDRINUSE, "EADDRINUSE" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ENETDOWN, "ENETDOWN" },
		{ ENETUNREACH, "ENETUNREACH" },
		{ ECONNABORTED, "ECONNABORTED" },
		{ ECONNRESET, "ECONNRESET" }, { ENOBUFS, "ENOBUFS" },
		{ EISCONN, "EISCONN" }, { ENOTCONN, "ENOTCONN" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EHOSTUNREACH, "EHOSTUNREACH" },
	};
	size_t i;

	if (error == 0)
		return ("0");
	for (i = 0; i < nitems(tab); i++)
		if (tab[i].e == error)
			return (tab[i].n);
	snprintf(buf, len, "%d", error);
	return (buf);
}

static void __printflike(2, 3)
trace_setup(struct interp *ip, const char *fmt, ...)
{
	va_list ap;

	if (ip->trace == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(ip->trace, fmt, ap);
	va_end(ap);
	fputc('\n', ip->trace);
}

/* ---- addresses ----------------------------------------------------- */

/* Destination d: 198.18.d.1 and 2001:db8:0:d::1. */
static struct in_addr
dst4(uint32_t d)
{
	struct in_addr a;

	a.s_addr = (198u << 24) | (18u << 16) | ((d % INTERP_NDST) << 8) | 1;
	return (a);
}

static struct in6_addr
dst6(uint32_t d)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0x20;
	a.s6_addr[1] = 0x01;
	a.s6_addr[2] = 0x0d;
	a.s6_addr[3] = 0xb8;
	a.s6_addr[7] = (uint8_t)(d % INTERP_NDST);
	a.s6_addr[15] = 1;
	return (a);
}

/* The source of received packets: 198.19.0.2 / 2001:db8:ffff::2. */
static struct in_addr
src4(void)
{
	struct in_addr a;

	a.s_addr = (198u << 24) | (19u << 16) | 2;
	return (a);
}

static struct in6_addr
src6(void)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0x20;
	a.s6_addr[1] = 0x01;
	a.s6_addr[2] = 0x0d;
	a.s6_addr[3] = 0xb8;
	a.s6_addr[4] = 0xff;
	a.s6_addr[5] = 0xff;
	a.s6_addr[15] = 2;
	return (a);
}

static int
plen_of(int af, int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return (af == AF_INET ? 32 : 128);
	case PREFIX_KIND__PREFIX_DEFAULT:
		return (0);
	default:
		return (af == AF_INET ? 24 : 64);
	}
}

static const char *
prefix_name(int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return ("host");
	case PREFIX_KIND__PREFIX_DEFAULT:
		return ("default");
	default:
		return ("net");
	}
}

/* The prefix address of a route: masked to plen. */
static void
route_dst(int af, uint32_t d, int plen, struct in_addr *a4,
    struct in6_addr *a6)
{
	int i;

	if (af == AF_INET) {
		*a4 = dst4(d);
		a4->s_addr = plen == 0 ? 0 :
		    a4->s_addr & (0xffffffffu << (32 - plen));
	} else {
		*a6 = dst6(d);
		for (i = 0; i < 16; i++) {
			if (plen >= (i + 1) * 8)
				continue;
			if (plen <= i * 8)
				a6->s6_addr[i] = 0;
			else
				a6->s6_addr[i] &= (uint8_t)(0xff <<
				    (8 - (plen - i * 8)));
		}
	}
}

static const char *
lagg_proto_name(uint32_t proto)
{
	static const char *const names[LAGG_PROTO_MAX] = { "none",
	    "roundrobin", "failover", "loadbalance", "lacp", "broadcast" };

	return (names[proto % LAGG_PROTO_MAX]);
}

static int
af_of(int af)
{
	return (af == AF__V6 ? AF_INET6 : AF_INET);
}

static const char *
af_name(int af)
{
	return (af == AF__V6 ? "v6" : "v4");
}

/* ---- interfaces ---------------------------------------------------- */

static int
iface_state(const struct interp_iface *ifc)
{
	return (__atomic_load_n(&ifc->state, __ATOMIC_RELAXED));
}

/*
 * Use an interface that another thread may destroy the way a kernel
 * caller does (ifunit_ref): look at it inside the net epoch, which keeps
 * its memory, and take a reference before leaving, unless it is detached
 * or its last reference is gone.  The op then runs on a held ifnet, like
 * an ioctl; run_op drops the reference when the op is done.
 */
static struct ifnet *
iface_hold(struct interp_iface *ifc, struct interp_opctx *c)
{
	struct epoch_tracker et;
	struct ifnet *ifp = NULL;

	KASSERT(c->nheld < (int)nitems(c->held),
	    ("interp: more than %d interfaces held by one op",
	    (int)nitems(c->held)));
	NET_EPOCH_ENTER(et);
	if (iface_state(ifc) == IS_LIVE && if_try_ref(ifc->ifp))
		ifp = ifc->ifp;
	NET_EPOCH_EXIT(et);
	if (ifp != NULL)
		c->held[c->nheld++] = ifp;
	return (ifp);
}

static void
iface_release_all(struct interp_opctx *c)
{
	while (c->nheld > 0)
		if_rele(c->held[--c->nheld]);
}

/* Resolve a reference among every interface (creation order). */
static struct interp_iface *
iface_any(struct interp *ip, uint32_t ref)
{
	if (ip->n_ifaces == 0)
		return (NULL);
	return (&ip->ifaces[ref % (uint32_t)ip->n_ifaces]);
}

/* The n-th interface of a kind (epair: its side a), modulo their count. */
static struct interp_iface *
iface_kind(struct interp *ip, int kind, uint32_t ref)
{
	uint32_t k;
	int i;

	if (ip->n_kind[kind] == 0)
		return (NULL);
	k = ref % (uint32_t)ip->n_kind[kind];
	for (i = 0; i < ip->n_ifaces; i++)
		if (ip->ifaces[i].kind == kind &&
		    ip->ifaces[i].kind_index == (int)k)
			return (&ip->ifaces[i]);
	return (NULL);
}

static void
iface_destroy_ifp(int kind, struct ifnet *ifp)
{
	switch (kind) {
	case IK_NIC:
		nic_detach(ifp);
		break;
	case IK_LOOP:
		loop_detach(ifp);
		break;
	case IK_EPAIR:
		epair_clone_destroy(ifp);
		break;
	case IK_VLAN:
		vlan_clone_destroy(ifp);
		break;
	case IK_LAGG:
		lagg_clone_destroy(ifp);
		break;
	case IK_CXGBE:
		cxgbe_detach(ifp);
		break;
	case IK_MLX5:
		mlx5e_detach(ifp);
		break;
	}
}

/*
 * Detach an interface exactly once (the CAS picks one caller); an epair
 * takes both sides with it.  Returns false if it was not live.
 */
static bool
iface_detach(struct interp *ip, struct interp_iface *ifc)
{
	int live = IS_LIVE;

	if (!__atomic_compare_exchange_n(&ifc->state, &live, IS_DEAD, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return (false);
	if (ifc->peer >= 0)
		__atomic_store_n(&ip->ifaces[ifc->peer].state, IS_DEAD,
		    __ATOMIC_RELAXED);
	iface_destroy_ifp(ifc->kind, ifc->ifp);
	return (true);
}

/* world_teardown's destroy hook: skip what an op already detached. */
static void
interp_world_destroy(struct ifnet *ifp)
{
	struct interp *ip = interp_current;
	int i;

	KASSERT(ip != NULL, ("interp: world destroy with no interpreter"));
	for (i = 0; i < ip->n_ifaces; i++) {
		if (ip->ifaces[i].ifp == ifp) {
			(void)iface_detach(ip, &ip->ifaces[i]);
			return;
		}
	}
	panic("interp: world destroy of an unknown ifnet %s", ifp->if_xname);
}

static struct interp_iface *
iface_add(struct interp *ip, int kind, struct ifnet *ifp)
{
	struct interp_iface *ifc;

	KASSERT(ip->n_ifaces < INTERP_MAX_IFACES, ("interp: iface overflow"));
	ifc = &ip->ifaces[ip->n_ifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->ifp = ifp;
	ifc->kind = kind;
	ifc->kind_index = ip->n_kind[kind];
	ifc->peer = -1;
	ifc->state = ifp != NULL ? IS_LIVE : IS_NONE;
	snprintf(ifc->name, sizeof(ifc->name), "%s%d", iface_kind_name[kind],
	    ifc->kind_index);
	if (ifp != NULL)
		world_add_ifnet(ifp, interp_world_destroy);
	return (ifc);
}

/* Kinds that may be a lagg port or sit under a vlan without a loop. */
static bool
iface_is_leaf(const struct interp_iface *ifc)
{
	return (ifc->kind != IK_VLAN && ifc->kind != IK_LAGG);
}

/* Would making 'parent' the parent of vlan 'v' close a loop? */
static bool
vlan_would_loop(struct interp *ip, struct interp_iface *v,
    struct interp_iface *parent)
{
	struct ifnet *p;
	int depth, i;

	p = parent->ifp;
	for (depth = 0; depth < INTERP_MAX_IFACES && p != NULL; depth++) {
		if (p == v->ifp)
			return (true);
		for (i = 0; i < ip->n_ifaces; i++)
			if (ip->ifaces[i].ifp == p)
				break;
		if (i == ip->n_ifaces || ip->ifaces[i].kind != IK_VLAN ||
		    iface_state(&ip->ifaces[i]) != IS_LIVE)
			return (false);
		p = vlan_trunkdev(p);
	}
	return (p != NULL);
}

/* ---- sockets ------------------------------------------------------- */

static bool
file_live(const struct interp_file *f)
{
	return (__atomic_load_n(&f->refs, __ATOMIC_RELAXED) != 0 &&
	    !__atomic_load_n(&f->closing, __ATOMIC_RELAXED));
}

/* Take a use reference; NULL if the slot is not open. */
static struct socket *
file_get(struct interp_file *f)
{
	u_int old;

	old = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);
	do {
		if (old == 0)
			return (NULL);
	} while (!__atomic_compare_exchange_n(&f->refs, &old, old + 1, true,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (__atomic_load_n(&f->so, __ATOMIC_ACQUIRE));
}

/* Drop a reference; the last one closes the socket (fdrop). */
static int
file_drop(struct interp_file *f)
{
	struct socket *so;
	int error = 0;

	if (__atomic_fetch_sub(&f->refs, 1, __ATOMIC_RELEASE) != 1)
		return (0);
	/*
	 * Acquire every earlier drop (they head the release sequence this
	 * RMW ends).  A load, not a fence: TSan does not model fences.
	 */
	(void)__atomic_load_n(&f->refs, __ATOMIC_ACQUIRE);
	so = f->so;
	__atomic_store_n(&f->so, NULL, __ATOMIC_RELAXED);
	error = soclose(so);
	__atomic_store_n(&f->closing, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->busy, 0, __ATOMIC_RELEASE);
	return (error);
}

/*
 * Resolve a socket reference: slot ref % max_sockets, or the next open
 * slot after it.  Returns the slot with a use reference held, or -1.
 */
static int
sock_get(struct interp *ip, uint32_t ref, struct socket **sop)
{
	uint32_t n = ip->lim.max_sockets, i, s;
	struct socket *so;

	for (i = 0; i < n; i++) {
		s = (ref + i) % n;
		if (!file_live(&ip->files[s]))
			continue;
		so = file_get(&ip->files[s]);
		if (so == NULL)
			continue;
		if (__atomic_load_n(&ip->files[s].closing, __ATOMIC_RELAXED)) {
			(void)file_drop(&ip->files[s]);
			continue;
		}
		*sop = so;
		return ((int)s);
	}
	return (-1);
}

/* ---- malloc types -------------------------------------------------- */

static const char *
malloc_kind_name(int k)
{
	static const char *const names[] = {
		"any", "mbuf", "cluster", "socket", "pcb", "ifnet", "vlan",
		"lagg", "nic", "cxgbe", "mlx5", "route", "devbuf", "temp",
		"epair"
	};

	if (k < 0 || (size_t)k >= nitems(names))
		return ("any");
	return (names[k]);
}

/* NULL with *ok false: the type is not in this build. */
static struct malloc_type *
malloc_kind_type(int k, bool *ok)
{
	struct malloc_type *t = NULL;

	*ok = true;
	switch (k) {
	case MALLOC_KIND__MT_MBUF:
		t = M_MBUF;
		break;
	case MALLOC_KIND__MT_CLUSTER:
		t = M_MBUF_CLUSTER;
		break;
	case MALLOC_KIND__MT_SOCKET:
		t = M_SOCKET;
		break;
	case MALLOC_KIND__MT_PCB:
		t = M_PCB;
		break;
	case MALLOC_KIND__MT_IFNET:
		t = M_IFNET;
		break;
	case MALLOC_KIND__MT_VLAN:
		t = M_VLAN;
		break;
	case MALLOC_KIND__MT_LAGG:
		t = M_LAGG;
		break;
	case MALLOC_KIND__MT_NIC:
		t = M_NIC;
		break;
	case MALLOC_KIND__MT_CXGBE:
		t = M_CXGBE;
		break;
	case MALLOC_KIND__MT_MLX5:
		t = M_MLX5EN;
		break;
	case MALLOC_KIND__MT_ROUTE:
		t = M_RTABLE;
		break;
	case MALLOC_KIND__MT_DEVBUF:
		t = M_DEVBUF;
		break;
	case MALLOC_KIND__MT_TEMP:
		t = M_TEMP;
		break;
	case MALLOC_KIND__MT_EPAIR:
		t = M_EPAIR;
		break;
	default:
		return (NULL);		/* any */
	}
	if (t == NULL)
		*ok = false;
	return (t);
}

/* ---- construction -------------------------------------------------- */

static uint32_t
clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return (v < lo ? lo : v > hi ? hi : v);
}

static int
iface_count_of(const Iface *ifc)
{
	return (ifc->kind_case == IFACE__KIND_EPAIR ? 2 : 1);
}

struct interp *
interp_new(const Scenario *sc, const struct interp_options *o)
{
	const struct interp_limits *lim;
	struct interp *ip;
	uint32_t i, n_if = 0;
	uint8_t seen[INTERP_MAX_THREADS];
	int dense[INTERP_MAX_THREADS];
	int nt;

	interp_reject_why = "";
	if (sc == NULL) {
		interp_reject("no scenario");
		return (NULL);
	}
	lim = (o != NULL && o->limits != NULL) ? o->limits :
	    &interp_default_limits;
	if (sc->n_ops > lim->max_ops) {
		interp_reject("too many operations");
		return (NULL);
	}
	if (sc->topology != NULL) {
		for (i = 0; i < sc->topology->n_ifaces; i++) {
			n_if += (uint32_t)iface_count_of(
			    sc->topology->ifaces[i]);
			if (n_if > lim->max_ifaces ||
			    n_if > INTERP_MAX_IFACES) {
				interp_reject("too many interfaces");
				return (NULL);
			}
		}
		if (sc->topology->n_routes + sc->topology->n_addrs >
		    INTERP_MAX_ROUTES) {
			interp_reject("too many routes and addresses");
			return (NULL);
		}
	}
	ip = calloc(1, sizeof(*ip));
	if (ip == NULL) {
		interp_reject("out of memory");
		return (NULL);
	}
	ip->sc = sc;
	ip->lim = *lim;
	ip->lim.max_sockets = clamp_u32(ip->lim.max_sockets, 1,
	    INTERP_MAX_SOCKETS);
	ip->trace = o != NULL ? o->trace : NULL;
	ip->n_ops = (uint32_t)sc->n_ops;
	ip->op_thread = calloc(ip->n_ops + 1, 1);
	if (ip->op_thread == NULL) {
		LIBC_FREE(ip);
		interp_reject("out of memory");
		return (NULL);
	}
	/* Dense thread ids, numbered by first appearance. */
	memset(seen, 0, sizeof(seen));
	nt = 0;
	for (i = 0; i < ip->n_ops; i++) {
		uint32_t t = sc->ops[i]->thread % INTERP_MAX_THREADS;

		if (!seen[t]) {
			seen[t] = 1;
			dense[t] = nt++;
		}
		ip->op_thread[i] = (uint8_t)dense[t];
	}
	ip->n_threads = nt;
	return (ip);
}

int
interp_thread_count(const struct interp *ip)
{
	return (ip->n_threads);
}

uint32_t
interp_ops_run(const struct interp *ip)
{
	return (__atomic_load_n(&ip->ops_run, __ATOMIC_RELAXED));
}

const struct interp_limits *
interp_limits_of(const struct interp *ip)
{
	return (&ip->lim);
}

void
interp_iface_params(const Iface *d, struct interp_iface_params *p)
{
	const Nic *n;

	memset(p, 0, sizeof(*p));
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
	case IFACE__KIND_EPAIR:
	case IFACE__KIND_LAGG:
		break;
	case IFACE__KIND_VLAN:
		p->vid = clamp_u32(d->vlan->vid, 1, 4094);
		break;
	case IFACE__KIND_CXGBE:
		p->etids = clamp_u32(d->cxgbe->n_etids, 1,
		    INTERP_CXGBE_ETIDS_MAX);
		p->classes = clamp_u32(d->cxgbe->n_classes, 1,
		    INTERP_CXGBE_CLASSES_MAX);
		p->credits = clamp_u32(d->cxgbe->tx_credits,
		    CXGBE_CREDITS_MIN, INTERP_CXGBE_CREDITS_MAX);
		p->backlog = clamp_u32(d->cxgbe->max_backlog, 1,
		    INTERP_CXGBE_BACKLOG_MAX);
		break;
	case IFACE__KIND_MLX5:
		p->workers = clamp_u32(d->mlx5->workers, 1,
		    INTERP_MLX5_WORKERS_MAX);
		p->rl_per_worker = clamp_u32(d->mlx5->channels_per_worker, 1,
		    INTERP_MLX5_RL_PER_WORKER_MAX);
		p->channels = clamp_u32(d->mlx5->tx_channels, 1,
		    INTERP_MLX5_CHANNELS_MAX);
		p->sq_size = clamp_u32(d->mlx5->sq_size, 1,
		    INTERP_MLX5_SQ_MAX);
		break;
	default:
		/* A Nic, or an unset kind: a default Nic. */
		n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		p->mtu = n != NULL ? clamp_u32(n->mtu, INTERP_MTU_MIN,
		    INTERP_MTU_MAX) : 1500;
		p->ring = n != NULL ? clamp_u32(n->ring_size, 1,
		    INTERP_NIC_RING_MAX) : NIC_RING_DEFAULT;
		break;
	}
}

static void
setup_iface(struct interp *ip, const Iface *d)
{
	struct interp_iface_params pa;
	struct interp_iface *ifc, *p;
	struct ifnet *ifp, *a, *b;
	char ebuf[16];
	int error, flags;
	uint32_t i;

	interp_iface_params(d, &pa);
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
		ifp = loop_attach(ip->n_kind[IK_LOOP]);
		ifc = iface_add(ip, IK_LOOP, ifp);
		ip->n_kind[IK_LOOP]++;
		trace_setup(ip, "iface %s%s", ifc->name,
		    ifp == NULL ? " failed" : "");
		break;
	case IFACE__KIND_EPAIR:
		a = b = NULL;
		error = epair_clone_create(ip->n_kind[IK_EPAIR], &a, &b);
		if (error != 0)
			a = b = NULL;
		ifc = iface_add(ip, IK_EPAIR, a);
		p = iface_add(ip, IK_EPAIR, b);
		/* Both sides share the pair's kind index. */
		p->kind_index = ifc->kind_index;
		snprintf(ifc->name, sizeof(ifc->name), "epair%da",
		    ifc->kind_index);
		snprintf(p->name, sizeof(p->name), "epair%db", p->kind_index);
		ifc->peer = (int)(p - ip->ifaces);
		p->peer = (int)(ifc - ip->ifaces);
		ip->n_kind[IK_EPAIR]++;
		trace_setup(ip, "iface %s %s -> %s", ifc->name, p->name,
		    errname(error, ebuf, sizeof(ebuf)));
		break;
	case IFACE__KIND_VLAN: {
		const Vlan *v = d->vlan;
		uint16_t vid = (uint16_t)pa.vid;

		p = NULL;
		if (v->has_parent && ip->n_ifaces > 0) {
			p = &ip->ifaces[v->parent % (uint32_t)ip->n_ifaces];
			if (iface_state(p) != IS_LIVE)
				p = NULL;
		}
		ifp = vlan_clone_create(ip->n_kind[IK_VLAN], vid,
		    p != NULL ? p->ifp : NULL);
		ifc = iface_add(ip, IK_VLAN, ifp);
		ip->n_kind[IK_VLAN]++;
		trace_setup(ip, "iface %s vid=%u parent=%s%s", ifc->name,
		    vid, p != NULL ? p->name : "none",
		    ifp == NULL ? " failed" : "");
		break;
	}
	case IFACE__KIND_LAGG: {
		const Lagg *l = d->lagg;
		int proto = (int)(l->proto % LAGG_PROTO_MAX);

		ifp = lagg_clone_create(ip->n_kind[IK_LAGG], proto);
		ifc = iface_add(ip, IK_LAGG, ifp);
		ip->n_kind[IK_LAGG]++;
		trace_setup(ip, "iface %s proto=%s use_flowid=%d%s",
		    ifc->name, lagg_proto_name((uint32_t)proto),
		    l->use_flowid ? 1 : 0,
		    ifp == NULL ? " failed" : "");
		if (ifp == NULL)
			break;
		if (l->use_flowid) {
			error = lagg_set_opts(ifp, LAGG_OPT_USE_FLOWID);
			trace_setup(ip, "  %s opts use_flowid -> %s",
			    ifc->name, errname(error, ebuf, sizeof(ebuf)));
		}
		for (i = 0; i < l->n_ports; i++) {
			/* Earlier interfaces only (this lagg is last). */
			if (ip->n_ifaces <= 1)
				break;
			p = &ip->ifaces[l->ports[i] %
			    (uint32_t)(ip->n_ifaces - 1)];
			if (!iface_is_leaf(p) || iface_state(p) != IS_LIVE) {
				trace_setup(ip, "  %s laggport %s -> skip",
				    ifc->name, p->name);
				continue;
			}
			error = lagg_port_create(ifp, p->ifp);
			trace_setup(ip, "  %s laggport %s -> %s", ifc->name,
			    p->name, errname(error, ebuf, sizeof(ebuf)));
		}
		break;
	}
	case IFACE__KIND_CXGBE: {
		struct cxgbe_params cp;

		cp.n_etids = (int)pa.etids;
		cp.n_classes = (int)pa.classes;
		cp.tx_credits = (int)pa.credits;
		cp.max_backlog = (int)pa.backlog;
		ifp = cxgbe_attach(ip->n_kind[IK_CXGBE], &cp);
		ifc = iface_add(ip, IK_CXGBE, ifp);
		ip->n_kind[IK_CXGBE]++;
		trace_setup(ip, "iface %s etids=%d classes=%d credits=%d "
		    "backlog=%d%s", ifc->name, cp.n_etids, cp.n_classes,
		    cp.tx_credits, cp.max_backlog,
		    ifp == NULL ? " failed" : "");
		break;
	}
	case IFACE__KIND_MLX5: {
		struct mlx5e_params mp;

		mp.n_workers = (int)pa.workers;
		mp.channels_per_worker = (int)pa.rl_per_worker;
		mp.n_channels = (int)pa.channels;
		mp.sq_size = (int)pa.sq_size;
		mp.packet_pacing = d->mlx5->packet_pacing != 0;
		ifp = mlx5e_attach(ip->n_kind[IK_MLX5], &mp);
		ifc = iface_add(ip, IK_MLX5, ifp);
		ifc->n_workers = mp.n_workers;
		ip->n_kind[IK_MLX5]++;
		trace_setup(ip, "iface %s workers=%d channels_per_worker=%d "
		    "tx_channels=%d sq_size=%d pacing=%d%s", ifc->name,
		    mp.n_workers, mp.channels_per_worker, mp.n_channels,
		    mp.sq_size, mp.packet_pacing ? 1 : 0,
		    ifp == NULL ? " failed" : "");
		break;
	}
	default: {
		/* A Nic, or an unset kind: a default Nic. */
		const Nic *n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		u_long mtu = pa.mtu;
		int ring = (int)pa.ring;

		flags = 0;
		if (n != NULL && n->txrtlmt)
			flags |= NIC_F_TXRTLMT;
		if (n != NULL && n->tso)
			flags |= NIC_F_TSO;
		ifp = nic_attach("nic", ip->n_kind[IK_NIC], flags, ring, mtu);
		ifc = iface_add(ip, IK_NIC, ifp);
		ip->n_kind[IK_NIC]++;
		trace_setup(ip, "iface %s%s%s mtu=%lu ring=%d%s", ifc->name,
		    (flags & NIC_F_TXRTLMT) ? " txrtlmt" : "",
		    (flags & NIC_F_TSO) ? " tso" : "", mtu, ring,
		    ifp == NULL ? " failed" : "");
		break;
	}
	}
}

static int
route_call(int which, int af, uint32_t d, int prefix, struct ifnet *ifp)
{
	struct in_addr a4;
	struct in6_addr a6;
	int plen = plen_of(af, prefix);
	const void *dst;

	route_dst(af, d, plen, &a4, &a6);
	dst = af == AF_INET ? (const void *)&a4 : (const void *)&a6;
	switch (which) {
	case 0:
		return (rt_add(af, dst, plen, ifp));
	case 1:
		return (rt_change(af, dst, plen, ifp));
	default:
		return (rt_delete(af, dst, plen));
	}
}

/* Threaded mode: one trace line per op, printed in op order at finish. */
static void
alloc_lines(struct interp *ip)
{
	if (ip->trace == NULL || ip->lines != NULL)
		return;
	ip->lines = calloc((size_t)ip->n_ops + 1, TRACE_LINE);
	ip->line_done = calloc((size_t)ip->n_ops + 1, 1);
}

int
interp_setup(struct interp *ip)
{
	const Topology *t = ip->sc->topology;
	struct world_limits wl;
	struct interp_iface *ifc;
	char ebuf[16];
	uint32_t i;
	int error;

	KASSERT(!ip->set_up, ("interp: set up twice"));
	KASSERT(interp_current == NULL,
	    ("interp: another interpreter is set up"));
	wl.max_quiesce_steps = (int)clamp_u32(ip->lim.max_quiesce_steps, 1,
	    INT_MAX);
	wl.max_bytes = ip->lim.max_bytes;
	world_init(&wl);
	interp_current = ip;
	ip->set_up = true;
	alloc_lines(ip);
	if (t == NULL)
		return (0);
	V_ipforwarding = t->forwarding ? 1 : 0;
	V_ip6_forwarding = t->forwarding ? 1 : 0;
	V_ip_defttl = INTERP_TTL;
	V_ip6_defhlim = INTERP_TTL;
	if (t->forwarding)
		trace_setup(ip, "forwarding on");
	for (i = 0; i < t->n_ifaces; i++)
		setup_iface(ip, t->ifaces[i]);
	for (i = 0; i < t->n_addrs; i++) {
		const LocalAddr *a = t->addrs[i];
		int af = af_of(a->af);

		ifc = iface_any(ip, a->iface);
		if (ifc == NULL || iface_state(ifc) != IS_LIVE) {
			trace_setup(ip, "addr %s dst=%u -> skip",
			    af_name(a->af), a->dst % INTERP_NDST);
			continue;
		}
		if (af == AF_INET) {
			error = in_ifaddr_add(ifc->ifp, dst4(a->dst));
		} else {
			struct in6_addr a6 = dst6(a->dst);

			error = in6_ifaddr_add(ifc->ifp, &a6);
		}
		trace_setup(ip, "addr %s dst=%u iface=%s -> %s",
		    af_name(a->af), a->dst % INTERP_NDST, ifc->name,
		    errname(error, ebuf, sizeof(ebuf)));
		witness_assert_unlocked("setup addr");
	}
	for (i = 0; i < t->n_routes; i++) {
		const Route *r = t->routes[i];
		int af = af_of(r->af);

		ifc = iface_any(ip, r->iface);
		if (ifc == NULL || iface_state(ifc) != IS_LIVE) {
			trace_setup(ip, "route %s dst=%u -> skip",
			    af_name(r->af), r->dst % INTERP_NDST);
			continue;
		}
		error = route_call(0, af, r->dst, (int)r->prefix, ifc->ifp);
		trace_setup(ip, "route %s dst=%u %s iface=%s -> %s",
		    af_name(r->af), r->dst % INTERP_NDST,
		    prefix_name((int)r->prefix), ifc->name,
		    errname(error, ebuf, sizeof(ebuf)));
		witness_assert_unlocked("setup route");
	}
	witness_assert_unlocked("setup");
	return (0);
}


/* ---- operations ---------------------------------------------------- */

#define	SKIP	INT_MIN		/* op result: nothing to act on */

static bool
packet_budget(struct interp *ip, uint32_t n)
{
	uint32_t old;

	old = __atomic_fetch_add(&ip->packets, n, __ATOMIC_RELAXED);
	return (old + n <= ip->lim.max_packets && old + n >= old);
}

static uint32_t
clamp_size(struct interp *ip, uint32_t size)
{
	return (MIN(size, ip->lim.max_send_size));
}

/* One for the send, one per KiB it may segment or fragment into. */
uint32_t
interp_send_packets(uint32_t size)
{
	return (1 + size / 1024);
}

/* At most the send size, and what fits the IP header's length field. */
uint32_t
interp_receive_size(const Receive *o, const struct interp_limits *lim)
{
	uint32_t size = MIN(o->size, lim->max_send_size);

	if (af_of(o->af) == AF_INET)
		return (MIN(size, IP_MAXPACKET - (uint32_t)sizeof(struct ip)));
	return (MIN(size, IPV6_MAXPACKET));
}

uint32_t
interp_taskqueue_rounds(const TaskqueueRun *t)
{
	return (clamp_u32(t->rounds, 1, INTERP_TASKQUEUE_ROUNDS_MAX));
}

static void
sockaddr_of(int af, uint32_t d, struct sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (af == AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_len = sizeof(sin);
		sin.sin_family = AF_INET;
		sin.sin_port = (uint16_t)(5000 + d % INTERP_NDST);
		sin.sin_addr = dst4(d);
		memcpy(sa, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_len = sizeof(sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = (uint16_t)(5000 + d % INTERP_NDST);
		sin6.sin6_addr = dst6(d);
		CTASSERT(sizeof(sin6) <= sizeof(struct sockaddr));
		memcpy(sa, &sin6, sizeof(sin6));
	}
}

static int
op_open(struct interp *ip, const SockOpen *o, struct interp_opctx *c)
{
	struct interp_file *f = NULL;
	struct socket *so;
	struct sockaddr sa;
	int af = af_of(o->af), udp = o->proto == L4__UDP;
	int busy, error;
	uint32_t s;

	ctx_printf(c, "open %s %s", af_name(o->af), udp ? "udp" : "tcp");
	if (o->has_dst)
		ctx_printf(c, " dst=%u", o->dst % INTERP_NDST);
	for (s = 0; s < ip->lim.max_sockets; s++) {
		busy = 0;
		if (__atomic_compare_exchange_n(&ip->files[s].busy, &busy, 1,
		    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			f = &ip->files[s];
			break;
		}
	}
	if (f == NULL) {
		c->skip = "no free slot";
		return (SKIP);
	}
	ctx_printf(c, " sock=%u", s);
	if (__atomic_load_n(&ip->files_hw, __ATOMIC_RELAXED) <= s)
		__atomic_store_n(&ip->files_hw, s + 1, __ATOMIC_RELAXED);
	error = socreate(af, &so, udp ? SOCK_DGRAM : SOCK_STREAM,
	    udp ? IPPROTO_UDP : IPPROTO_TCP);
	if (error != 0) {
		__atomic_store_n(&f->busy, 0, __ATOMIC_RELEASE);
		return (error);
	}
	__atomic_store_n(&f->closing, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->so, so, __ATOMIC_RELEASE);
	__atomic_store_n(&f->refs, 1, __ATOMIC_RELEASE);
	if (!o->has_dst)
		return (0);
	sockaddr_of(af, o->dst, &sa);
	return (soconnect(so, &sa));
}

static int
op_close(struct interp *ip, const Close *o, struct interp_opctx *c)
{
	struct interp_file *f;
	struct socket *so;
	int s, closing = 0, error;

	s = sock_get(ip, o->sock, &so);
	if (s < 0) {
		ctx_printf(c, "close");
		c->skip = "no socket";
		return (SKIP);
	}
	ctx_printf(c, "close sock=%d", s);
	f = &ip->files[s];
	if (!__atomic_compare_exchange_n(&f->closing, &closing, 1, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		(void)file_drop(f);
		c->skip = "closing";
		return (SKIP);
	}
	(void)file_drop(f);		/* the table's reference */
	error = file_drop(f);		/* ours: closes unless in use */
	return (error);
}

/* The ops that act on one open socket. */
static int
op_sock(struct interp *ip, const Op *op, struct interp_opctx *c)
{
	struct socket *so;
	struct inpcb *inp;
	struct sockaddr sa;
	struct interp_ktls_args ka;
	uint32_t ref, rate = 0, size;
	int s, error = 0;
	const char *name;
	char kbuf[64];

	switch (op->op_case) {
	case OP__OP_CONNECT:
		name = "connect";
		ref = op->connect->sock;
		break;
	case OP__OP_SET_RATE:
		name = "set_rate";
		ref = op->set_rate->sock;
		break;
	case OP__OP_FLOWTYPE_NONE:
		name = "flowtype_none";
		ref = op->flowtype_none->sock;
		break;
	case OP__OP_SEND:
		name = "send";
		ref = op->send->sock;
		break;
	case OP__OP_TCPDROP:
		name = "tcpdrop";
		ref = op->tcpdrop->sock;
		break;
	case OP__OP_TAG_MODIFY:
		name = "tag_modify";
		ref = op->tag_modify->sock;
		break;
	case OP__OP_TAG_QUERY:
		name = "tag_query";
		ref = op->tag_query->sock;
		break;
	default:
		/* Kernel TLS and pacing users (interp_ktls.c). */
		(void)interp_ktls_args(op, &ka);
		name = ka.name;
		ref = ka.sock;
		break;
	}
	ctx_printf(c, "%s", name);
	s = sock_get(ip, ref, &so);
	if (s < 0) {
		c->skip = "no socket";
		return (SKIP);
	}
	ctx_printf(c, " sock=%d", s);
	c->sock = s;
	switch (op->op_case) {
	case OP__OP_CONNECT:
		ctx_printf(c, " dst=%u", op->connect->dst % INTERP_NDST);
		sockaddr_of(so->so_family, op->connect->dst, &sa);
		error = soconnect(so, &sa);
		break;
	case OP__OP_SET_RATE:
		ctx_printf(c, " rate=%u", op->set_rate->rate);
		error = sosetopt_max_pacing_rate(so, op->set_rate->rate);
		break;
	case OP__OP_FLOWTYPE_NONE:
		/* A flow with no RSS hash: no tag can be allocated for it. */
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_WLOCK(inp);
		inp->inp_flowtype = M_HASHTYPE_NONE;
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
		break;
	case OP__OP_SEND:
		size = clamp_size(ip, op->send->size);
		ctx_printf(c, " size=%u", size);
		if (!packet_budget(ip, interp_send_packets(size))) {
			c->skip = "packet budget";
			error = SKIP;
			break;
		}
		error = sosend(so, (int)size, 0);
		break;
	case OP__OP_TCPDROP:
		error = tcp_drop_socket(so);
		break;
	case OP__OP_TAG_MODIFY:
		ctx_printf(c, " rate=%u", op->tag_modify->rate);
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_WLOCK(inp);
		error = in_pcbmodify_txrtlmt(inp, op->tag_modify->rate);
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
		break;
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		interp_ktls_detail(&ka, kbuf, sizeof(kbuf));
		ctx_printf(c, "%s", kbuf);
		if (!packet_budget(ip, interp_ktls_packets(&ka))) {
			c->skip = "packet budget";
			error = SKIP;
			break;
		}
		error = interp_ktls_run(so, &ka);
		break;
	default:
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_RLOCK(inp);
		error = in_pcbquery_txrtlmt(inp, &rate);
		if (error == 0) {
			uint32_t level = 0;

			ctx_printf(c, " rate=%u", rate);
			if (in_pcbquerylevel_txrtlmt(inp, &level) == 0)
				ctx_printf(c, " level=%u", level);
		}
		if (!in_pcbrele_rlocked(inp))
			INP_RUNLOCK(inp);
		break;
	}
	(void)file_drop(&ip->files[s]);
	return (error);
}

static int
op_receive(struct interp *ip, const Receive *o, struct interp_opctx *c)
{
	struct interp_iface *ifc;
	struct epoch_tracker et;
	struct mbuf *m;
	uint32_t size = interp_receive_size(o, &ip->lim);
	uint8_t proto = o->proto == L4__TCP ? IPPROTO_TCP : IPPROTO_UDP;
	int af = af_of(o->af);

	ifc = iface_any(ip, o->iface);
	ctx_printf(c, "receive %s dst=%u size=%u %s", af_name(o->af),
	    o->dst % INTERP_NDST, size, proto == IPPROTO_TCP ? "tcp" : "udp");
	if (ifc == NULL || iface_hold(ifc, c) == NULL) {
		c->skip = ifc == NULL ? "no iface" : "detached";
		return (SKIP);
	}
	ctx_printf(c, " iface=%s", ifc->name);
	if (ifc->kind != IK_NIC && if_getinputfn(ifc->ifp) == NULL) {
		c->skip = "no input";
		return (SKIP);
	}
	if (!packet_budget(ip, 1)) {
		c->skip = "packet budget";
		return (SKIP);
	}
	if (af == AF_INET) {
		m = packet_build_ip4(src4(), dst4(o->dst), proto, (int)size,
		    M_NOWAIT);
	} else {
		struct in6_addr s6 = src6(), d6 = dst6(o->dst);

		m = packet_build_ip6(&s6, &d6, proto, (int)size, M_NOWAIT);
	}
	if (m == NULL)
		return (ENOBUFS);
	if (ifc->kind == IK_NIC) {
		nic_rx(ifc->ifp, m);
	} else {
		/* What a driver's receive interrupt does. */
		NET_EPOCH_ENTER(et);
		m->m_pkthdr.rcvif = ifc->ifp;
		if_getinputfn(ifc->ifp)(ifc->ifp, m);
		NET_EPOCH_EXIT(et);
	}
	return (0);
}

static struct interp_iface *
op_iface_kind(struct interp *ip, int kind, uint32_t ref,
    struct interp_opctx *c)
{
	struct interp_iface *ifc = iface_kind(ip, kind, ref);

	if (ifc == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	ctx_printf(c, " %s", ifc->name);
	if (iface_hold(ifc, c) == NULL) {
		c->skip = "detached";
		return (NULL);
	}
	return (ifc);
}

static struct interp_iface *
op_iface_any(struct interp *ip, const char *what, uint32_t ref,
    struct interp_opctx *c)
{
	struct interp_iface *ifc = iface_any(ip, ref);

	if (ifc == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	ctx_printf(c, " %s=%s", what, ifc->name);
	if (iface_hold(ifc, c) == NULL) {
		c->skip = "detached";
		return (NULL);
	}
	return (ifc);
}

static int
op_route(struct interp *ip, int which, const Route *r, struct interp_opctx *c)
{
	static const char *const names[] = { "route_add", "route_change",
	    "route_delete" };
	struct interp_iface *ifc = NULL;
	int af = af_of(r->af);

	ctx_printf(c, "%s %s dst=%u %s", names[which], af_name(r->af),
	    r->dst % INTERP_NDST, prefix_name((int)r->prefix));
	if (which != 2) {
		ifc = op_iface_any(ip, "iface", r->iface, c);
		if (ifc == NULL)
			return (SKIP);
	}
	return (route_call(which, af, r->dst, (int)r->prefix,
	    ifc != NULL ? ifc->ifp : NULL));
}

static int
op_other(struct interp *ip, const Op *op, struct interp_opctx *c)
{
	struct interp_iface *ifc, *p;
	uint32_t n;
	int error;

	switch (op->op_case) {
	case OP__OP_EPAIR_DELIVER:
		n = op->epair_deliver->count;
		ctx_printf(c, "epair_deliver count=%u", n);
		error = epair_deliver(n == 0 ? INT_MAX : (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		c->delivered = error;
		return (0);
	case OP__OP_ROUTE_ADD:
		return (op_route(ip, 0, op->route_add, c));
	case OP__OP_ROUTE_CHANGE:
		return (op_route(ip, 1, op->route_change, c));
	case OP__OP_ROUTE_DELETE:
		return (op_route(ip, 2, op->route_delete, c));
	case OP__OP_VLAN_REPARENT: {
		const VlanReparent *v = op->vlan_reparent;

		ctx_printf(c, "vlan_reparent");
		ifc = op_iface_kind(ip, IK_VLAN, v->vlan, c);
		if (ifc == NULL)
			return (SKIP);
		if (!v->has_parent) {
			ctx_printf(c, " parent=none");
			return (vlan_setparent(ifc->ifp, NULL));
		}
		p = op_iface_any(ip, "parent", v->parent, c);
		if (p == NULL)
			return (SKIP);
		if (p == ifc || vlan_would_loop(ip, ifc, p)) {
			c->skip = "loop";
			return (SKIP);
		}
		return (vlan_setparent(ifc->ifp, p->ifp));
	}
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE: {
		const LaggPort *l = op->op_case == OP__OP_LAGG_PORT_ADD ?
		    op->lagg_port_add : op->lagg_port_remove;
		bool add = op->op_case == OP__OP_LAGG_PORT_ADD;

		ctx_printf(c, "%s", add ? "lagg_port_add" : "lagg_port_remove");
		ifc = op_iface_kind(ip, IK_LAGG, l->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		p = op_iface_any(ip, "port", l->port, c);
		if (p == NULL)
			return (SKIP);
		if (!iface_is_leaf(p)) {
			c->skip = "not a port kind";
			return (SKIP);
		}
		return (add ? lagg_port_create(ifc->ifp, p->ifp) :
		    lagg_port_destroy(ifc->ifp, p->ifp));
	}
	case OP__OP_LINK:
		ctx_printf(c, "link %s", op->link->up ? "up" : "down");
		ifc = op_iface_any(ip, "iface", op->link->iface, c);
		if (ifc == NULL)
			return (SKIP);
		if_link_state_change(ifc->ifp, op->link->up ? LINK_STATE_UP :
		    LINK_STATE_DOWN);
		return (0);
	case OP__OP_LAGG_PROTO:
		ctx_printf(c, "lagg_proto proto=%s",
		    lagg_proto_name(op->lagg_proto->proto));
		ifc = op_iface_kind(ip, IK_LAGG, op->lagg_proto->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		return (lagg_set_proto(ifc->ifp,
		    (int)(op->lagg_proto->proto % LAGG_PROTO_MAX)));
	case OP__OP_LAGG_OPTS:
		ctx_printf(c, "lagg_opts use_flowid=%d",
		    op->lagg_opts->use_flowid ? 1 : 0);
		ifc = op_iface_kind(ip, IK_LAGG, op->lagg_opts->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		return (lagg_set_opts(ifc->ifp, op->lagg_opts->use_flowid ?
		    LAGG_OPT_USE_FLOWID : -LAGG_OPT_USE_FLOWID));
	case OP__OP_IFCAP:
		ctx_printf(c, "ifcap txrtlmt=%s", op->ifcap->txrtlmt ? "on" :
		    "off");
		ifc = op_iface_any(ip, "iface", op->ifcap->iface, c);
		if (ifc == NULL)
			return (SKIP);
		return (ifconfig_setcap(ifc->ifp, IFCAP_TXRTLMT,
		    op->ifcap->txrtlmt));
	case OP__OP_DETACH:
		ctx_printf(c, "detach");
		ifc = op_iface_any(ip, "iface", op->detach->iface, c);
		if (ifc == NULL)
			return (SKIP);
		if (!iface_detach(ip, ifc)) {
			c->skip = "detached";
			return (SKIP);
		}
		return (0);
	case OP__OP_NIC_TXEOF:
		n = op->nic_txeof->count;
		ctx_printf(c, "nic_txeof count=%u", n);
		ifc = op_iface_kind(ip, IK_NIC, op->nic_txeof->nic, c);
		if (ifc == NULL)
			return (SKIP);
		error = nic_txeof(ifc->ifp, n == 0 ? INT_MAX :
		    (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_MLX5_COMPLETE:
		n = op->mlx5_complete->count;
		ctx_printf(c, "mlx5_complete count=%u", n);
		ifc = op_iface_kind(ip, IK_MLX5, op->mlx5_complete->mlx5, c);
		if (ifc == NULL)
			return (SKIP);
		error = mlx5e_tx_complete(ifc->ifp, n == 0 ? INT_MAX :
		    (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_CXGBE_ACK: {
		const CxgbeAck *a = op->cxgbe_ack;
		int k, etid;

		ctx_printf(c, "cxgbe_ack credits=%u", a->credits);
		ifc = op_iface_kind(ip, IK_CXGBE, a->cxgbe, c);
		if (ifc == NULL)
			return (SKIP);
		k = cxgbe_etids_in_use(ifc->ifp);
		if (k <= 0) {
			c->skip = "no flow";
			return (SKIP);
		}
		etid = cxgbe_etid_nth(ifc->ifp, (int)(a->flow % (uint32_t)k));
		ctx_printf(c, " flow=%u", a->flow % (uint32_t)k);
		if (etid < 0) {
			c->skip = "no flow";
			return (SKIP);
		}
		return (cxgbe_fw4_ack(ifc->ifp, etid,
		    (int)MIN(a->credits, INT_MAX)));
	}
	case OP__OP_MLX5_WORKER:
		ctx_printf(c, "mlx5_worker");
		ifc = op_iface_kind(ip, IK_MLX5, op->mlx5_worker->mlx5, c);
		if (ifc == NULL)
			return (SKIP);
		n = op->mlx5_worker->worker % (uint32_t)ifc->n_workers;
		ctx_printf(c, " worker=%u", n);
		error = mlx5e_rl_worker_run(ifc->ifp, (int)n);
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_TASKQUEUE:
		n = interp_taskqueue_rounds(op->taskqueue);
		ctx_printf(c, "taskqueue rounds=%u", n);
		error = 0;
		while (n-- > 0)
			error += taskqueue_run_all();
		ctx_printf(c, " ran=%d", error);
		return (0);
	case OP__OP_EPOCH:
		error = epoch_drain_callbacks();
		ctx_printf(c, "epoch ran=%d", error);
		return (0);
	case OP__OP_DELIVER_ALL:
		ctx_printf(c, "deliver_all");
		return (world_progress_all());
	case OP__OP_FAIL_ALLOC: {
		const FailAlloc *fa = op->fail_alloc;
		struct malloc_type *mt;
		bool ok;

		ctx_printf(c, "fail_alloc nth=%u type=%s", fa->nth,
		    malloc_kind_name((int)fa->type));
		if (fa->nth == 0) {
			malloc_fail_disarm();
			return (0);
		}
		mt = malloc_kind_type((int)fa->type, &ok);
		if (!ok) {
			c->skip = "type not in this build";
			return (SKIP);
		}
		malloc_fail_arm(fa->nth, mt);
		return (0);
	}
	default:
		ctx_printf(c, "nop");
		return (0);
	}
}

static const char *
op_name(const Op *op)
{
	switch (op->op_case) {
	case OP__OP_OPEN: return ("op open");
	case OP__OP_CONNECT: return ("op connect");
	case OP__OP_SET_RATE: return ("op set_rate");
	case OP__OP_FLOWTYPE_NONE: return ("op flowtype_none");
	case OP__OP_SEND: return ("op send");
	case OP__OP_CLOSE: return ("op close");
	case OP__OP_TCPDROP: return ("op tcpdrop");
	case OP__OP_RECEIVE: return ("op receive");
	case OP__OP_EPAIR_DELIVER: return ("op epair_deliver");
	case OP__OP_ROUTE_ADD: return ("op route_add");
	case OP__OP_ROUTE_CHANGE: return ("op route_change");
	case OP__OP_ROUTE_DELETE: return ("op route_delete");
	case OP__OP_VLAN_REPARENT: return ("op vlan_reparent");
	case OP__OP_LAGG_PORT_ADD: return ("op lagg_port_add");
	case OP__OP_LAGG_PORT_REMOVE: return ("op lagg_port_remove");
	case OP__OP_LINK: return ("op link");
	case OP__OP_LAGG_PROTO: return ("op lagg_proto");
	case OP__OP_LAGG_OPTS: return ("op lagg_opts");
	case OP__OP_DETACH: return ("op detach");
	case OP__OP_NIC_TXEOF: return ("op nic_txeof");
	case OP__OP_MLX5_COMPLETE: return ("op mlx5_complete");
	case OP__OP_CXGBE_ACK: return ("op cxgbe_ack");
	case OP__OP_MLX5_WORKER: return ("op mlx5_worker");
	case OP__OP_TASKQUEUE: return ("op taskqueue");
	case OP__OP_EPOCH: return ("op epoch");
	case OP__OP_DELIVER_ALL: return ("op deliver_all");
	case OP__OP_TAG_MODIFY: return ("op tag_modify");
	case OP__OP_TAG_QUERY: return ("op tag_query");
	case OP__OP_FAIL_ALLOC: return ("op fail_alloc");
	case OP__OP_TLS_ENABLE: return ("op tls_enable");
	case OP__OP_TLS_SEND: return ("op tls_send");
	case OP__OP_PACING: return ("op pacing");
	case OP__OP_IFCAP: return ("op ifcap");
	default: return ("op nop");
	}
}

/*
 * The socket's transmit accounting (struct inp_txstat) after a send, as
 * an indented trace line of its own (sndtag-cprog reads only op lines).
 */
static void
tx_line(struct interp *ip, int s)
{
	const struct inp_txstat *st;
	struct socket *so = ip->files[s].so;
	struct inpcb *inp;

	ip->txline[0] = '\0';
	if (so == NULL || (inp = so->so_pcb) == NULL)
		return;
	st = &inp->inp_txstat;
	snprintf(ip->txline, sizeof(ip->txline), "    tx sock=%d tagged=%ju "
	    "untagged=%ju drop_mismatch=%ju drop_other=%ju rl_fail=%ju "
	    "rl_rate=%ju tag=%s", s, (uintmax_t)st->its_tagged,
	    (uintmax_t)st->its_untagged, (uintmax_t)st->its_drop_mismatch,
	    (uintmax_t)st->its_drop_other, (uintmax_t)st->its_rl_fail,
	    (uintmax_t)st->its_rl_rate, inp->inp_snd_tag != NULL ?
	    inp->inp_snd_tag->ifp->if_xname : "none");
}

/* The behaviour oracles' view (interp_expect.h): open sockets, live ifnets. */
static void
expect_view_fill(struct interp *ip, const Op *op, struct expect_view *v)
{
	uint32_t s, hw;
	int k;

	/*
	 * Only the first nso and nifp entries are read: no memset of the
	 * arrays (twice per op, it was most of this function's time).  Slots
	 * never used in this input are always empty: nso stops there.
	 */
	v->op_case = (int)op->op_case;
	v->sock = -1;
	v->error = 0;
	v->delivered = 0;
	v->nifp = 0;
	v->ndead = 0;
	hw = __atomic_load_n(&ip->files_hw, __ATOMIC_RELAXED);
	for (s = 0; s < hw && s < EXPECT_MAX_SOCKS; s++)
		v->so[s] = file_live(&ip->files[s]) ? ip->files[s].so : NULL;
	v->nso = (int)s;
	for (k = 0; k < ip->n_ifaces && v->nifp < EXPECT_MAX_IFPS; k++)
		if (ip->ifaces[k].state == IS_LIVE) {
			v->kind[v->nifp] = ip->ifaces[k].kind;
			v->ifp[v->nifp++] = ip->ifaces[k].ifp;
		} else if (ip->ifaces[k].state == IS_DEAD)
			v->ndead++;
}

/* Run op i; its trace line goes to buf. */
/*
 * State feedback (interp_feedback.h) after an op of a sequential run: the
 * tag state of every open socket.  Plain reads are fine here, nothing
 * else runs; the threaded mode never calls it.
 */
static void
op_feedback(struct interp *ip, const Op *op, int error)
{
	struct fb_sock st[INTERP_MAX_SOCKETS];
	struct m_snd_tag *mst;
	struct inpcb *inp;
	struct socket *so;
	uint32_t s;
	int n = 0, k;

	for (s = 0; s < ip->lim.max_sockets; s++) {
		if (!file_live(&ip->files[s]) || (so = ip->files[s].so) == NULL)
			continue;
		memset(&st[n], 0, sizeof(st[n]));
		inp = so->so_pcb;
		if (inp == NULL) {
			st[n++].no_pcb = true;
			continue;
		}
		st[n].changed = (inp->inp_flags2 &
		    INP_RATE_LIMIT_CHANGED) != 0;
		st[n].dropped = (inp->inp_flags & INP_DROPPED) != 0;
		if ((mst = inp->inp_snd_tag) != NULL) {
			st[n].has_tag = true;
			st[n].tag_refs = mst->refcount;
			/* Compare only: the tag pins its ifnet. */
			for (k = 0; k < ip->n_ifaces; k++) {
				if (ip->ifaces[k].ifp != mst->ifp)
					continue;
				st[n].tag_kind = (uint8_t)(ip->ifaces[k].kind +
				    1);
				st[n].tag_if_dead = ip->ifaces[k].state ==
				    IS_DEAD;
				break;
			}
		}
		n++;
	}
	fb_op((int)op->op_case, error, st, n, num_snd_tags(),
	    mbuf_live_count());
}

static void
run_op(struct interp *ip, uint32_t i, char *buf, size_t size)
{
	const Op *op = ip->sc->ops[i];
	struct interp_opctx c = { buf, 0, size, NULL, { NULL, NULL }, 0, -1,
	    0 };
	struct expect_view ev;
	char ebuf[16];
	int error;

	ctx_printf(&c, "#%u t%u ", i, ip->op_thread[i]);
	if (ip->sequential && ip->trace != NULL) {
		/* Shown even if the op panics. */
		fputs(buf, ip->trace);
		fflush(ip->trace);
		c.len = 0;
		buf[0] = '\0';
	}
	if (ip->sequential) {
		expect_view_fill(ip, op, &ev);
		expect_op_begin(&ev);
	}
	switch (op->op_case) {
	case OP__OP_OPEN:
		error = op_open(ip, op->open, &c);
		break;
	case OP__OP_CLOSE:
		error = op_close(ip, op->close, &c);
		break;
	case OP__OP_CONNECT:
	case OP__OP_SET_RATE:
	case OP__OP_FLOWTYPE_NONE:
	case OP__OP_SEND:
	case OP__OP_TCPDROP:
	case OP__OP_TAG_MODIFY:
	case OP__OP_TAG_QUERY:
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		error = op_sock(ip, op, &c);
		break;
	case OP__OP_RECEIVE:
		error = op_receive(ip, op->receive, &c);
		break;
	default:
		error = op_other(ip, op, &c);
		break;
	}
	iface_release_all(&c);
	witness_assert_unlocked(op_name(op));
	if (ip->sequential) {
		op_feedback(ip, op, error);
		expect_view_fill(ip, op, &ev);
		ev.sock = c.sock;
		ev.error = error;
		ev.delivered = c.delivered;
		expect_op_end(&ev);
	}
	if (ip->sequential && ip->trace != NULL &&
	    op->op_case == OP__OP_SEND && c.sock >= 0)
		tx_line(ip, c.sock);
	if (error == SKIP)
		ctx_printf(&c, " -> skip (%s)", c.skip != NULL ? c.skip :
		    "nothing to do");
	else
		ctx_printf(&c, " -> %s", errname(error, ebuf, sizeof(ebuf)));
	__atomic_fetch_add(&ip->ops_run, 1, __ATOMIC_RELAXED);
}

static void (*interp_op_hook)(void *, int, int);
static void *interp_op_hook_arg;

void
interp_set_op_hook(void (*fn)(void *, int, int), void *arg)
{
	interp_op_hook = fn;
	interp_op_hook_arg = arg;
}

int
interp_run_sequential(struct interp *ip)
{
	char line[TRACE_LINE];
	uint32_t i;

	KASSERT(ip->set_up && !ip->finished, ("interp: not set up"));
	ip->sequential = true;
	fb_reset();
	expect_reset();
	for (i = 0; i < ip->n_ops; i++) {
		if (interp_op_hook != NULL)
			interp_op_hook(interp_op_hook_arg,
			    (int)ip->sc->ops[i]->op_case, 0);
		/* No trace: skip formatting the line altogether. */
		run_op(ip, i, ip->trace != NULL ? line : NULL, sizeof(line));
		if (interp_op_hook != NULL)
			interp_op_hook(interp_op_hook_arg,
			    (int)ip->sc->ops[i]->op_case, 1);
		if (ip->trace != NULL) {
			fputs(line, ip->trace);
			fputc('\n', ip->trace);
			if (ip->txline[0] != '\0')
				fprintf(ip->trace, "%s\n", ip->txline);
			ip->txline[0] = '\0';
		}
	}
	return (0);
}

int
interp_run_thread(struct interp *ip, int tid)
{
	uint32_t i;

	if (tid < 0 || tid >= ip->n_threads || !ip->set_up || ip->finished)
		return (-1);
	for (i = 0; i < ip->n_ops; i++) {
		if (ip->op_thread[i] != tid)
			continue;
		/* Under the controlled scheduler, a switch between ops. */
		sched_op_begin(i, (uint32_t)ip->sc->ops[i]->op_case);
		sched_point(SP_EXPLICIT, ip->sc->ops[i], "interp op");
		if (ip->lines != NULL && ip->line_done != NULL) {
			run_op(ip, i, ip->lines + (size_t)i * TRACE_LINE,
			    TRACE_LINE);
			__atomic_store_n(&ip->line_done[i], 1,
			    __ATOMIC_RELAXED);
		} else {
			char line[TRACE_LINE];

			/* No trace: skip formatting the line altogether. */
		run_op(ip, i, ip->trace != NULL ? line : NULL, sizeof(line));
		}
	}
	return (0);
}

/* Per-interface accounting at the end of a run, one indented line each. */
static void
trace_ifstat(struct ifnet *ifp, void *arg)
{
	const struct if_txstat *st = &ifp->if_txstat;

	fprintf((FILE *)arg, "    if %s tagged=%ju untagged=%ju "
	    "drop_mismatch=%ju drop_nobufs=%ju drop_other=%ju opackets=%ju "
	    "oerrors=%ju ipackets=%ju ierrors=%ju\n", ifp->if_xname,
	    (uintmax_t)st->ifts_tagged, (uintmax_t)st->ifts_untagged,
	    (uintmax_t)st->ifts_drop_mismatch,
	    (uintmax_t)st->ifts_drop_nobufs, (uintmax_t)st->ifts_drop_other,
	    (uintmax_t)counter_u64_fetch(ifp->if_opackets),
	    (uintmax_t)counter_u64_fetch(ifp->if_oerrors),
	    (uintmax_t)counter_u64_fetch(ifp->if_ipackets),
	    (uintmax_t)counter_u64_fetch(ifp->if_ierrors));
}

void
interp_finish(struct interp *ip)
{
	uint32_t i;

	if (!ip->set_up || ip->finished)
		return;
	if (ip->lines != NULL && ip->trace != NULL) {
		for (i = 0; i < ip->n_ops; i++)
			if (ip->line_done[i])
				fprintf(ip->trace, "%s\n",
				    ip->lines + (size_t)i * TRACE_LINE);
	}
	/* After the ops only: sndtag-cprog takes earlier lines for setup. */
	if (ip->trace != NULL && ip->n_ops > 0)
		ifnet_foreach_live(trace_ifstat, ip->trace);
	/* Teardown is not part of the fuzzed interleaving. */
	malloc_fail_disarm();
	world_teardown();
	world_check_ledger();
	world_fini();
	if (ip->trace != NULL)
		fprintf(ip->trace, "teardown: ledger clean\n");
	ip->finished = true;
	interp_current = NULL;
}

void
interp_free(struct interp *ip)
{
	if (ip == NULL)
		return;
	if (ip->set_up && !ip->finished)
		interp_finish(ip);
	LIBC_FREE(ip->op_thread);
	LIBC_FREE(ip->lines);
	LIBC_FREE(ip->line_done);
	LIBC_FREE(ip);
}

int
interp_run_bytes(const uint8_t *data, size_t size,
    const struct interp_options *o)
{
	struct interp *ip;
	Scenario *sc;

	interp_reject_why = "";
	/* One arena for the whole Scenario, dropped at once (cheap). */
	sc = scenario__unpack(decode_arena(), size, data);
	if (sc == NULL) {
		decode_arena_drop(NULL);
		return (interp_reject(
		    "not a scenario (protobuf decode failed)"));
	}
	ip = interp_new(sc, o);
	if (ip == NULL) {
		decode_arena_drop(&sc->base);
		return (-1);
	}
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
	decode_arena_drop(&sc->base);
	return (0);
}
