/*
 * Harness (not FreeBSD): the "world" one scenario runs in, its teardown
 * and the ledger that checks it (spec §10 invariants 3 and 11).
 *
 * Life of one input:
 *	world_init();			fresh kernel state, nothing left over
 *	... create ifnets (world_add_ifnet), sockets, run operations ...
 *	world_teardown();		quiesce, close sockets, destroy ifnets,
 *					quiesce again
 *	world_check_ledger();		panic("ledger: ...") on anything left
 *	world_fini();			free the world's own objects
 *
 * Asynchronous kernel work (driver tx completions, firmware credits,
 * worker threads, taskqueues, epoch callbacks) is represented by actors.
 * In the sequential mode an actor only runs when an operation or quiesce
 * asks it to, so the input controls every interleaving.
 */
#ifndef _HARNESS_WORLD_H_
#define	_HARNESS_WORLD_H_

#include "shim/systm.h"

struct ifnet;

struct ledger {
	int		 problems;
	char		 first[512];	/* first problem, for the panic line */
};

/* Record one problem; the first one names the panic. */
void	ledger_fail(struct ledger *l, const char *fmt, ...) __printflike(2, 3);

struct harness_actor {
	const char	*name;
	/* Events this actor could deliver right now. */
	int		(*pending)(void);
	/* Deliver what is pending (one round); returns events delivered. */
	int		(*progress)(void);
	/*
	 * After teardown: report every resource still held (ledger_fail).
	 * May be NULL.
	 */
	void		(*ledger)(struct ledger *l);
	/*
	 * Work that is outstanding but that no event can ever complete
	 * (a credit that will never come): reported as a hang.  May be NULL.
	 */
	int		(*stuck)(void);
	struct harness_actor *next;
	bool		 registered;
};

/* Idempotent: drivers call this from their attach routine. */
void	harness_actor_register(struct harness_actor *a);
/*
 * Call cb for every registered actor in registration order (the threaded
 * runner, fuzz/threaded.c, gives each one its own thread).
 */
void	harness_actor_foreach(void (*cb)(struct harness_actor *, void *),
	    void *arg);

/* Resource limits of one input (explicit and enforced). */
struct world_limits {
	int		max_quiesce_steps;	/* rounds before "hang" */
	size_t		max_bytes;		/* M_NOWAIT byte budget */
};
extern const struct world_limits world_default_limits;

void	world_init(const struct world_limits *lim);	/* NULL: defaults */
/* destroy(ifp) detaches and frees an ifnet of the given driver. */
void	world_add_ifnet(struct ifnet *ifp, void (*destroy)(struct ifnet *));
/* Remove from the world's list (the scenario destroyed it itself). */
void	world_forget_ifnet(struct ifnet *ifp);
/* Deliver pending asynchronous work until none is left; 0 or hang. */
int	world_progress_all(void);
int	world_quiesce(void);
void	world_teardown(void);
void	world_check_ledger(void);
void	world_fini(void);

/* Counters of one run, for summaries. */
struct world_stats {
	uint64_t	quiesce_steps;
	uint64_t	events_delivered;
};
extern struct world_stats world_stats;

#endif /* !_HARNESS_WORLD_H_ */
