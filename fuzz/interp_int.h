/*
 * Harness: the interpreter's parts and what one calls in another.
 * interp.c owns the lifecycle, the interface and socket tables and the
 * run; interp_setup.c builds the topology; interp_ops.c runs one
 * operation.  interp.h is the API; nothing outside these three files
 * includes this header.
 */
#ifndef _FUZZ_INTERP_INT_H_
#define	_FUZZ_INTERP_INT_H_

#include <limits.h>

#include "fuzz/interp.h"
#include "scenario.pb-c.h"

#include "net/if_var.h"
#include "netinet/in.h"

struct socket;

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
	uint32_t	 files_hw;	/* slots ever used: the first ones */
	/* Budgets. */
	uint32_t	 packets;	/* relaxed atomic */
	/* Sequential trace: a send's accounting line, after its op line. */
	char		 txline[TRACE_LINE];
};

#define	SKIP	INT_MIN		/* op result: nothing to act on */

static inline uint32_t
clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return (v < lo ? lo : v > hi ? hi : v);
}

/* The scenario's address family as the kernel's. */
static inline int
af_of(int af)
{
	return (af == AF__V6 ? AF_INET6 : AF_INET);
}

/* Destination d and the source of received packets (interp_names.c). */
static inline struct in_addr
dst4(uint32_t d)
{
	struct in_addr a;

	a.s_addr = interp_addr4(d, 32, false);
	return (a);
}

static inline struct in6_addr
dst6(uint32_t d)
{
	struct in6_addr a;

	interp_addr6(a.s6_addr, d, 128, false);
	return (a);
}

static inline struct in_addr
src4(void)
{
	struct in_addr a;

	a.s_addr = interp_addr4(0, 32, true);
	return (a);
}

static inline struct in6_addr
src6(void)
{
	struct in6_addr a;

	interp_addr6(a.s6_addr, 0, 128, true);
	return (a);
}

static inline int
iface_state(const struct interp_iface *ifc)
{
	return (__atomic_load_n(&ifc->state, __ATOMIC_RELAXED));
}

/* interp.c: tracing. */
void	ctx_printf(struct interp_opctx *c, const char *fmt, ...)
	    __printflike(2, 3);
const char *errname(int error, char *buf, size_t len);

/* interp.c: the interface table. */
struct ifnet *iface_hold(struct interp_iface *ifc, struct interp_opctx *c);
struct interp_iface *iface_any(struct interp *ip, uint32_t ref);
struct interp_iface *iface_kind(struct interp *ip, int kind, uint32_t ref);
bool	iface_detach(struct interp *ip, struct interp_iface *ifc);
struct interp_iface *iface_add(struct interp *ip, int kind,
	    struct ifnet *ifp);
bool	iface_is_leaf(const struct interp_iface *ifc);
bool	vlan_would_loop(struct interp *ip, struct interp_iface *v,
	    struct interp_iface *parent);

/* interp.c: the socket table. */
bool	file_live(const struct interp_file *f);
int	file_drop(struct interp_file *f);
int	sock_get(struct interp *ip, uint32_t ref, struct socket **sop);

/* interp_setup.c: the topology; a route call (setup and ops). */
void	setup_topology(struct interp *ip);
int	route_call(int which, int af, uint32_t d, int prefix,
	    struct ifnet *ifp);

/* interp_ops.c: one operation; its name for witness and traces. */
int	op_dispatch(struct interp *ip, const Op *op, struct interp_opctx *c);
const char *op_name(const Op *op);

#endif /* !_FUZZ_INTERP_INT_H_ */
