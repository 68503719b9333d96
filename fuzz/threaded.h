/*
 * Harness: the threaded execution mode (race sweeps).
 *
 * threaded_run() sets a scenario up, runs each logical thread of it
 * (interp_run_thread) on its own pthread under the controlled scheduler
 * (core/shim/sched_ctl.h), together with one actor thread per source of
 * asynchronous kernel work (epoch callbacks, taskqueues, and every
 * registered driver actor: tx completions, firmware credits, workers),
 * and then quiesces and checks the ledger on the calling thread
 * (interp_finish).
 *
 * Delivery ops (nic_txeof, mlx5_complete, cxgbe_ack, mlx5_worker,
 * epair_deliver, taskqueue, epoch, deliver_all) are how the sequential
 * mode says when asynchronous work runs.  Here the actor threads run it
 * whenever the scheduler picks them, so those ops become empty: the same
 * completion path never runs on two threads at once, as in a kernel.
 * Under the switch strategy an emptied delivery op still says when: the
 * thread that reaches it hands the CPU to the actors until they are idle
 * (sched_config.deliver), as an interrupt would run there.
 *
 * The run is a function of (scenario, strategy, seed, depth) or of the
 * scenario's schedule bytes or switches: replaying the same arguments
 * gives the same interleaving, the same trace and the same report.
 */
#ifndef _FUZZ_THREADED_H_
#define	_FUZZ_THREADED_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "shim/sched_ctl.h"

typedef struct Scenario Scenario;
struct interp_options;

struct threaded_options {
	enum sched_strategy strategy;
	uint64_t	 seed;
	int		 depth;		/* PCT */
	uint64_t	 pct_steps;	/* PCT; 0: estimated from the ops */
	uint64_t	 max_steps;	/* 0: SCHED_DEFAULT_MAX_STEPS */
	/*
	 * INPUT: these bytes, or (when NULL) the scenario's own
	 * "schedule" field.
	 */
	const uint8_t	*schedule;
	size_t		 schedule_len;
	/*
	 * SWITCH: these switches, or (when NULL) the scenario's own
	 * "switches" field (at most SCHED_MAX_SWITCHES are used).
	 */
	const struct sched_switch *switches;
	size_t		 nswitches;
	/* Interleaving feedback and switch candidates (sched_config). */
	uint8_t		*feedback;
	size_t		 feedback_len;
	struct sched_switch *candidates;
	size_t		 candidates_max;
	FILE		*sched_trace;	/* one line per switch, or NULL */
	const struct interp_options *interp;	/* NULL: defaults */
};

struct threaded_result {
	struct sched_result sched;
	int		 logical_threads;
	int		 actor_threads;
	uint32_t	 ops_run;
	uint64_t	 pct_steps;	/* what PCT drew its change points over */
	int		 delivery_ops;	/* left to the actor threads */
};

/*
 * 0 when the scenario ran (a bug panics or is a sanitizer report
 * instead), -1 when the interpreter rejected it (interp_reject_reason()),
 * or an errno from the scheduler.
 */
int	threaded_run(const Scenario *sc, const struct threaded_options *o,
	    struct threaded_result *res);

/* The PCT step estimate threaded_run uses for a scenario of n ops. */
uint64_t threaded_pct_steps(uint32_t n_ops);

#endif /* !_FUZZ_THREADED_H_ */
