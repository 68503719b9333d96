/*
 * Harness: the scenario interpreter.  Runs one decoded Scenario
 * (fuzz/scenario.proto) against the core.
 *
 * Sequential mode (fuzzing default):
 *	ip = interp_new(sc, &opts);		NULL: rejected (limits)
 *	if (interp_setup(ip) == 0)		world_init + topology
 *		interp_run_sequential(ip);	every op in input order
 *	interp_finish(ip);			teardown, ledger, world_fini
 *	interp_free(ip);
 *
 * Threaded mode (race sweeps): after interp_setup, one pthread per
 * logical thread calls interp_run_thread(ip, tid) under a controlled
 * scheduler; then interp_finish.  The interpreter's own tables are safe
 * to share: socket slots work like a file descriptor table (a reference
 * per use, the last drop closes), interface states are atomics, and
 * trace lines go to one buffer per op.  No harness lock is taken around
 * model calls, so TSan judges only the model's own synchronisation.
 *
 * Only one interpreter can be set up at a time (the core is one world).
 * The Scenario must outlive the interpreter.
 */
#ifndef _FUZZ_INTERP_H_
#define	_FUZZ_INTERP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An interface's driver, as the scenario created it. */
enum iface_kind {
	IK_NIC = 0,
	IK_LOOP,
	IK_EPAIR,
	IK_VLAN,
	IK_LAGG,
	IK_CXGBE,
	IK_MLX5,
	IK_N
};

typedef struct Scenario Scenario;
typedef struct Iface Iface;
typedef struct Receive Receive;
typedef struct TaskqueueRun TaskqueueRun;

struct interp_limits {
	uint32_t	max_ops;		/* operations in one input */
	uint32_t	max_ifaces;		/* an epair counts two */
	uint32_t	max_sockets;		/* socket slots */
	uint32_t	max_packets;		/* received + sent packets */
	uint32_t	max_send_size;		/* bytes per send/receive */
	uint32_t	max_quiesce_steps;	/* rounds before "hang" */
	size_t		max_bytes;		/* M_NOWAIT byte budget */
};

/*
 * 256 ops, 16 ifaces, 16 sockets, 256 packets, 18 KiB, 10000, 8 MiB (the
 * reason for each is beside it in interp_clamp.c).
 */
extern const struct interp_limits interp_default_limits;

/*
 * Interface and driver parameter ranges: interp.c clamps every value to
 * them and interp_clamp() repairs to them.  Each upper bound is the
 * smallest that still reaches every behaviour of the model; past it a
 * value only adds objects that every execution pays to set up, walk on
 * each quiesce round and tear down, or packets that fill nothing new.
 * Where the schema has a default it is the bound, so the default
 * topology is unchanged.
 */
#define	INTERP_MTU_MIN		576	/* IPv4 minimum reassembly size */
#define	INTERP_MTU_MAX		9000	/* jumbo: the TSO/no-fragment case */
/*
 * Sends and received packets: a datagram of the largest size fragments
 * into three even at the largest MTU (9000: 8976-byte fragments), so
 * ip_fragment's first, middle and last fragment all occur on every
 * interface, and a TCP send exceeds every MSS (a TSO burst or segments).
 * Not reached any more: a UDP datagram past IP_MAXPACKET (EMSGSIZE) and
 * a second TSO burst in one send (> 64 KiB); a 64 KiB send cost as much
 * as ten ordinary inputs.
 */
#define	INTERP_SEND_MAX		18432
/* nic tx ring: full (ENOBUFS) after a handful of fragmented sends. */
#define	INTERP_NIC_RING_MAX	64
/*
 * mlx5: rate-limit tags are spread over workers by flowid, so two
 * workers reach the cross-worker orders; four channels per worker reach
 * free-list reuse and, with up to 16 sockets, exhaustion (ENOMEM); tx
 * channels are picked by flowid for unlimited tags, two reach a shared
 * and a separate channel tag; a 64-deep send queue fills (ENOBUFS)
 * within the packet budget.
 */
#define	INTERP_MLX5_WORKERS_MAX	2
#define	INTERP_MLX5_RL_PER_WORKER_MAX 4
#define	INTERP_MLX5_CHANNELS_MAX 2
#define	INTERP_MLX5_SQ_MAX	64
/*
 * cxgbe: 8 etids (one per flow) and 4 scheduling classes (one per
 * distinct rate) run out within 16 sockets; 1024 credits stall a flow
 * within a few full-size packets; 64 backlogged packets fill within the
 * packet budget.
 */
#define	INTERP_CXGBE_ETIDS_MAX	8
#define	INTERP_CXGBE_CLASSES_MAX 4
#define	INTERP_CXGBE_CREDITS_MAX 1024
#define	INTERP_CXGBE_BACKLOG_MAX 64
/*
 * TaskqueueRun: a round runs only the tasks pending at its start, so a
 * chain of tasks that queue the next one needs a round per link.
 */
#define	INTERP_TASKQUEUE_ROUNDS_MAX 16

/*
 * net.inet.ip.ttl and net.inet6.ip6.hlim for every scenario.  The world
 * is one host, so a packet that leaves and comes back to be forwarded
 * again is in a loop (an epair whose both ends are lagg ports, a route
 * out of the interface it came in on); a loop ends at TTL expiry, which
 * any TTL reaches.  At FreeBSD's 64 a broadcast lagg over an epair
 * doubled its packets every hop up to the epair queue's bound, 0.3 s of
 * an ASan execution; at 8 such a storm stays within a few hundred
 * packet hops.
 */
#define	INTERP_TTL		8

/* Hard ceilings: limits above these are lowered to them. */
#define	INTERP_MAX_THREADS	8
/*
 * Switches of the threaded mode (Scenario.switches): as many as the
 * scheduler takes; an op's points (a send through lagg and vlan with
 * fragments passes a few hundred); threads and actors the scheduler runs.
 */
#define	INTERP_MAX_SWITCHES	64
#define	INTERP_MAX_SWITCH_POINT	1023
#define	INTERP_MAX_SCHED_THREADS 32
#define	INTERP_MAX_IFACES	64
#define	INTERP_MAX_SOCKETS	64
#define	INTERP_MAX_ROUTES	64	/* topology routes + local addresses */
#define	INTERP_NDST		16	/* destination indices */

struct interp_options {
	const struct interp_limits *limits;	/* NULL: defaults */
	FILE		*trace;			/* NULL: no trace */
};

struct interp;

struct interp *interp_new(const Scenario *sc, const struct interp_options *o);
int	interp_setup(struct interp *ip);
int	interp_thread_count(const struct interp *ip);
int	interp_run_thread(struct interp *ip, int tid);
int	interp_run_sequential(struct interp *ip);
void	interp_finish(struct interp *ip);
void	interp_free(struct interp *ip);
/* Decode, new, setup, run sequentially, finish, free; -1: rejected. */
int	interp_run_bytes(const uint8_t *data, size_t size,
	    const struct interp_options *o);

/*
 * Why the last interp_new/interp_run_bytes rejected its input (static
 * string, "" if it did not).
 */
const char *interp_reject_reason(void);

/*
 * In the sequential mode, fn(arg, op_case, 0) runs before each
 * operation and fn(arg, op_case, 1) after it: a benchmark charges time
 * to operation kinds (tools/bench.c), fuzz_scenario counts each op's
 * fault points (faultplan.c).  NULL: none.
 */
void	interp_set_op_hook(void (*fn)(void *, int, int), void *arg);

/* The number of operations that ran (for summaries). */
uint32_t interp_ops_run(const struct interp *ip);

/*
 * What the interpreter makes of a scenario's values, in one place so that
 * sndtag-cprog (repro/cprog_*.c) writes the same calls.
 *
 * An interface's parameters: d's values clamped to the ranges above; only
 * those of d's kind are set (an unset kind is a default Nic).
 */
struct interp_iface_params {
	uint32_t	mtu;		/* Nic */
	uint32_t	ring;		/* Nic; NIC_RING_DEFAULT: unset kind */
	uint32_t	vid;		/* Vlan */
	uint32_t	etids;		/* Cxgbe */
	uint32_t	classes;
	uint32_t	credits;
	uint32_t	backlog;
	uint32_t	workers;	/* Mlx5 */
	uint32_t	rl_per_worker;
	uint32_t	channels;
	uint32_t	sq_size;
};
void	interp_iface_params(const Iface *d, struct interp_iface_params *p);
/* The limits an interpreter runs with (max_sockets within its ceiling). */
const struct interp_limits *interp_limits_of(const struct interp *ip);
/* Packet budget units of a send of size (clamped) bytes. */
uint32_t interp_send_packets(uint32_t size);
/* A received packet's size in bytes. */
uint32_t interp_receive_size(const Receive *o,
	    const struct interp_limits *lim);
uint32_t interp_taskqueue_rounds(const TaskqueueRun *t);

/*
 * Addresses, prefixes, socket slots and trace names (interp_names.c).
 * af and prefix are the scenario's enums (AF__V4/AF__V6, PrefixKind).
 */
/* 198.18.d.1 (source: 198.19.0.2), host order, masked to plen bits. */
uint32_t interp_addr4(uint32_t d, int plen, bool source);
/* 2001:db8:0:d::1 (source: 2001:db8:ffff::2), masked to plen bits. */
void	interp_addr6(uint8_t a[16], uint32_t d, int plen, bool source);
int	interp_plen(int af, int prefix);
const char *interp_prefix_name(int prefix);
const char *interp_af_name(int af);
const char *interp_lagg_proto_name(uint32_t proto);
const char *interp_iface_kind_name(int kind);
const char *interp_malloc_kind_name(int k);
/*
 * The slot a socket reference names: the first of ref % n, ref % n + 1,
 * ... (wrapping) for which take(arg, slot) is true (the slot is open, and
 * the caller got hold of it); -1 if none.
 */
int	interp_sock_resolve(uint32_t ref, uint32_t n,
	    bool (*take)(void *arg, uint32_t slot), void *arg);

/*
 * Clamp a scenario in place so every value is in the range the
 * interpreter uses and every limit holds (drops ops and interfaces past
 * the limits).  The mutator's repair hook calls it; decoding never needs
 * it.  Returns the number of fields changed.
 */
int	interp_clamp(Scenario *sc, const struct interp_limits *lim);

#endif /* !_FUZZ_INTERP_H_ */
