/*
 * Harness: the scenario interpreter (see interp.h).
 *
 * Operations' errors (EAGAIN, ENOBUFS, EOPNOTSUPP, ...) are results, not
 * failures: they are traced and the run goes on.  A reference that finds
 * no live object of its kind makes the op a traced "skip".  Only the
 * model's own checks (panics, sanitizers, the ledger) end a run.
 */
#include "fuzz/interp_int.h"
#include "fuzz/decode_arena.h"
#include "fuzz/interp_feedback.h"
#include "fuzz/interp_expect.h"

#include <limits.h>
#include <stdarg.h>

#include <sanitizer/asan_interface.h>

#include "harness/world.h"
#include "net/if_epair.h"
#include "net/if_lagg.h"
#include "net/if_loop.h"
#include "net/if_vlan_var.h"
#include "netinet/in_pcb.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/sched_ctl.h"
#include "sys/socketvar.h"
#include "dev/cxgbe/adapter.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/nic/if_nic.h"

/*
 * The model spells malloc(9)/free(9) with three and two arguments; the
 * interpreter's own memory comes from libc, called as (free)(p).
 */
#define	LIBC_FREE(p)	(free)(p)

static struct interp *interp_current;	/* the interpreter set up now */
/*
 * One freed interpreter kept for the next input (a campaign makes one per
 * execution; ASan's allocator and quarantine made it 2% of the time).
 * Poisoned while it waits, so a use after interp_free is still reported.
 */
static struct interp *interp_spare;
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

void __printflike(2, 3)
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

const char *
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

/* ---- interfaces ---------------------------------------------------- */

/*
 * Use an interface that another thread may destroy the way a kernel
 * caller does (ifunit_ref): look at it inside the net epoch, which keeps
 * its memory, and take a reference before leaving, unless it is detached
 * or its last reference is gone.  The op then runs on a held ifnet, like
 * an ioctl; run_op drops the reference when the op is done.
 */
struct ifnet *
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
struct interp_iface *
iface_any(struct interp *ip, uint32_t ref)
{
	if (ip->n_ifaces == 0)
		return (NULL);
	return (&ip->ifaces[ref % (uint32_t)ip->n_ifaces]);
}

/* The n-th interface of a kind (epair: its side a), modulo their count. */
struct interp_iface *
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
bool
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

struct interp_iface *
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
	snprintf(ifc->name, sizeof(ifc->name), "%s%d",
	    interp_iface_kind_name(kind), ifc->kind_index);
	if (ifp != NULL)
		world_add_ifnet(ifp, interp_world_destroy);
	return (ifc);
}

/* Kinds that may be a lagg port or sit under a vlan without a loop. */
bool
iface_is_leaf(const struct interp_iface *ifc)
{
	return (ifc->kind != IK_VLAN && ifc->kind != IK_LAGG);
}

/* Would making 'parent' the parent of vlan 'v' close a loop? */
bool
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

bool
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
int
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

/* interp_sock_resolve's take: a use reference on an open slot. */
struct sock_take {
	struct interp	*ip;
	struct socket	*so;
};

static bool
sock_take(void *arg, uint32_t s)
{
	struct sock_take *t = arg;
	struct interp_file *f = &t->ip->files[s];

	if (!file_live(f) || (t->so = file_get(f)) == NULL)
		return (false);
	if (__atomic_load_n(&f->closing, __ATOMIC_RELAXED)) {
		(void)file_drop(f);
		return (false);
	}
	return (true);
}

/*
 * Resolve a socket reference (interp_sock_resolve's rule).  Returns the
 * slot with a use reference held, or -1.
 */
int
sock_get(struct interp *ip, uint32_t ref, struct socket **sop)
{
	struct sock_take t = { ip, NULL };
	int s;

	s = interp_sock_resolve(ref, ip->lim.max_sockets, sock_take, &t);
	if (s >= 0)
		*sop = t.so;
	return (s);
}

/* ---- construction -------------------------------------------------- */

static void
interp_put(struct interp *ip)
{
	struct interp *none = NULL;

	ASAN_POISON_MEMORY_REGION(ip, sizeof(*ip));
	if (!__atomic_compare_exchange_n(&interp_spare, &none, ip, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		ASAN_UNPOISON_MEMORY_REGION(ip, sizeof(*ip));
		LIBC_FREE(ip);
	}
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
	ip = __atomic_exchange_n(&interp_spare, NULL, __ATOMIC_ACQ_REL);
	if (ip != NULL) {
		ASAN_UNPOISON_MEMORY_REGION(ip, sizeof(*ip));
		memset(ip, 0, sizeof(*ip));
	} else if ((ip = calloc(1, sizeof(*ip))) == NULL) {
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
		interp_put(ip);
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
	struct world_limits wl;

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
	setup_topology(ip);
	return (0);
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

/*
 * The oracles' view and the state feedback below read the interpreter's
 * tables around every op: __no_sancov bookkeeping (their comparisons also
 * fed the engine's cmp tracing values no mutation should try).  What they
 * read reaches the fuzzer through interp_feedback.c's counters.
 */

/* The behaviour oracles' view (interp_expect.h): open sockets, live ifnets. */
static __no_sancov void
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
static __no_sancov void
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
	error = op_dispatch(ip, op, &c);
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
			run_op(ip, i, ip->trace != NULL ? line : NULL,
			    sizeof(line));
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
	interp_put(ip);
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
