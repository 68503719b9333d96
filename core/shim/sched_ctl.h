/*
 * The controlled scheduler of the threaded execution mode (race sweeps).
 *
 * sched_run() starts one pthread per sched_thread and lets exactly one of
 * them run at a time.  A switch happens only at a preemption point (the
 * shims' sched_point(), sched_block(), a thread's exit, or
 * sched_yield_point()), and which thread runs next depends only on the
 * strategy, the seed or schedule bytes, and the sequence of points, never
 * on time or addresses: the same (threads, config) gives the same
 * schedule, the same trace and the same trace_hash.
 *
 * The hand-off is futex wait/wake on per-thread words in a translation
 * unit TSan does not instrument, so TSan sees no synchronisation between
 * model threads other than the model's own locks and atomics, and still
 * reports their races.
 *
 * Oracles of the scheduler itself (both abort):
 *	panic: deadlock: <n> threads blocked	(+ one line per thread)
 *	panic: quiesce: hang: scheduler exceeded <n> steps
 */
#ifndef _SHIM_SCHED_CTL_H_
#define	_SHIM_SCHED_CTL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sched_strategy {
	SCHED_PCT,	/* random priorities + depth-1 priority change points */
	SCHED_RANDOM,	/* a random runnable thread at every point */
	SCHED_INPUT,	/* schedule bytes choose; then lowest id runnable */
	SCHED_FREE,	/* no scheduler: real threads run freely (stress) */
	SCHED_SWITCH	/* run on; switch only where the input's switches say */
};

#define	SCHED_MAX_THREADS	32
#define	SCHED_MAX_DEPTH		64
#define	SCHED_DEFAULT_MAX_STEPS	1000000
#define	SCHED_DEFAULT_PCT_STEPS	1000
#define	SCHED_MAX_SWITCHES	64
/*
 * SWITCH: an actor that has run this many points since it got the CPU
 * lets a logical thread that can run go first, as an interrupt handler
 * returns; work that renews itself would otherwise starve the scenario.
 */
#define	SCHED_ACTOR_SLICE	256
#define	SCHED_DRAIN_POINTS	4096

/*
 * SWITCH: when the thread running op #op reaches its point-th preemption
 * point inside that op (sched_op_begin() numbers them; 0 is the point
 * before the op), switch to thread 'to' (modulo the thread count; if it
 * cannot run, the next id that can).  op >= n_ops names the actor whose
 * ordinal among the actors is op - n_ops, counting its points since it
 * last got the CPU.  Without a switch the running thread runs on; when it
 * cannot, the thread preempted last resumes, else the lowest id.
 */
struct sched_switch {
	uint32_t	 op;
	uint32_t	 point;
	uint32_t	 to;
};

struct sched_config {
	enum sched_strategy strategy;
	uint64_t	 seed;		/* PCT, RANDOM */
	int		 depth;		/* PCT: d >= 1 (0 means 1) */
	/*
	 * PCT: the change points are drawn uniformly over this many steps
	 * (points other than yields); 0 means SCHED_DEFAULT_PCT_STEPS.
	 */
	uint64_t	 pct_steps;
	const uint8_t	*schedule;	/* INPUT */
	size_t		 schedule_len;
	uint64_t	 max_steps;	/* 0 means SCHED_DEFAULT_MAX_STEPS */
	FILE		*trace;		/* one line per switch, or NULL */
	/* SWITCH: at most SCHED_MAX_SWITCHES; n_ops numbers the actors. */
	const struct sched_switch *switches;
	size_t		 nswitches;
	uint32_t	 n_ops;
	/*
	 * SWITCH: deliver[i] != 0 when op i (i < n_ops) is a delivery op
	 * (nic_txeof, deliver_all, ...): where the thread running it starts
	 * that op, the actors run until none has work left (at most
	 * SCHED_DRAIN_POINTS points), then it resumes.  NULL: none.
	 */
	const uint8_t	*deliver;
	/*
	 * Interleaving feedback (any strategy but FREE), or NULL: features
	 * set to 1 in feedback[0..feedback_len), see sched_ctl.c.  Written
	 * by whichever model thread is on CPU, invisibly to TSan; read it
	 * after sched_run returns.
	 */
	uint8_t		*feedback;
	size_t		 feedback_len;
	/*
	 * With feedback: where a switch would reorder two threads' accesses
	 * to one object (both ends of every cross-thread pair: the earlier
	 * access's op and point with the later thread as target, and the
	 * reverse), at most candidates_max of them, distinct, in the order
	 * found; how many in sched_result.ncandidates.  NULL: not recorded.
	 */
	struct sched_switch *candidates;
	size_t		 candidates_max;
};

struct sched_thread {
	const char	*name;
	void		(*fn)(void *arg);
	void		*arg;
	/* Actors poll for work and return once sched_should_stop(). */
	bool		 actor;
};

struct sched_result {
	uint64_t	 steps;		/* scheduling decisions */
	uint64_t	 events;	/* steps that were progress (not polls) */
	uint64_t	 switches;	/* decisions that changed thread */
	uint64_t	 preemptions;	/* switches away from a runnable thread */
	uint64_t	 trace_hash;	/* hash of every decision */
	size_t		 schedule_used;	/* INPUT: bytes consumed */
	uint32_t	 switches_taken; /* SWITCH: switches that fired */
	size_t		 ncandidates;	/* see sched_config.candidates */
};

/*
 * Run the threads to completion under cfg.  Returns 0, or EINVAL for a
 * bad argument, EBUSY when a run is already in progress, or the error of
 * pthread_create.  A deadlock or step-limit overrun panics instead.
 */
int	sched_run(const struct sched_thread *t, int n,
	    const struct sched_config *cfg, struct sched_result *res);

/*
 * Actors: bracket the check for pending work.  Points inside neither
 * switch threads nor count as progress (a sched_block still switches).
 */
void	sched_poll_begin(void);
void	sched_poll_end(void);
/*
 * Actors, when the poll found nothing: the caller stays ineligible until
 * another thread makes progress, so pollers never starve anyone.
 */
void	sched_yield_point(const char *what);
/* Actors: every non-actor thread has returned. */
bool	sched_should_stop(void);
/*
 * A logical thread is about to run op #op (of kind 'kind', for the
 * feedback): its points are numbered from 0 again.  No-op outside a run.
 */
void	sched_op_begin(uint32_t op, uint32_t kind);

const char *sched_strategy_name(enum sched_strategy s);
/* "pct", "random", "input", "free", "switch"; returns 0 or -1. */
int	sched_strategy_parse(const char *name, enum sched_strategy *s);

#endif /* !_SHIM_SCHED_CTL_H_ */
