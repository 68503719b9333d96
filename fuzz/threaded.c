/*
 * Harness: the threaded execution mode; see threaded.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/threaded.h"
#include "fuzz/interp.h"
#include "scenario.pb-c.h"

#include "harness/world.h"
#include "shim/epoch.h"
#include "shim/sched.h"
#include "shim/taskqueue.h"

/* Generous: sweeps measure about a dozen scheduler events per op. */
#define	PCT_STEPS_PER_OP	16
#define	PCT_STEPS_MIN		64

#define	MAX_ACTORS	(SCHED_MAX_THREADS - INTERP_MAX_THREADS)

_Static_assert(INTERP_MAX_SCHED_THREADS == SCHED_MAX_THREADS,
    "interp_clamp's thread bound is the scheduler's");
_Static_assert(INTERP_MAX_SWITCHES <= SCHED_MAX_SWITCHES,
    "every switch interp_clamp keeps reaches the scheduler");

struct tlogical {
	struct interp	*ip;
	int		 tid;
};

/* One actor thread: a source of asynchronous work. */
struct tactor {
	char		 name[32];
	int		(*pending)(struct tactor *);
	int		(*progress)(struct tactor *);
	struct harness_actor *ha;	/* driver actors */
};

static const char *const logical_names[INTERP_MAX_THREADS] = {
	"T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7"
};

static void
logical_main(void *arg)
{
	struct tlogical *tl = arg;

	(void)interp_run_thread(tl->ip, tl->tid);
}

static int
epoch_actor_pending(struct tactor *ta)
{
	/* Callbacks wait for every reader to leave; nothing to do before. */
	return (epoch_readers() == 0 ? epoch_pending() : 0);
}

static int
epoch_actor_progress(struct tactor *ta)
{
	return (epoch_drain_callbacks());
}

static int
tq_actor_pending(struct tactor *ta)
{
	return (taskqueue_pending_all());
}

static int
tq_actor_progress(struct tactor *ta)
{
	return (taskqueue_run_all());
}

static int
driver_actor_pending(struct tactor *ta)
{
	return (ta->ha->pending != NULL ? ta->ha->pending() : 0);
}

static int
driver_actor_progress(struct tactor *ta)
{
	return (ta->ha->progress != NULL ? ta->ha->progress() : 0);
}

/*
 * An actor delivers whatever is pending, one round at a time, until every
 * logical thread has finished; quiesce delivers the rest.  The check for
 * work is a poll (no switches inside), the delivery is not: that is where
 * actors race the logical threads.
 */
static void
actor_main(void *arg)
{
	struct tactor *ta = arg;
	int pending;

	while (!sched_should_stop()) {
		sched_poll_begin();
		pending = ta->pending(ta);
		sched_poll_end();
		if (pending > 0 && ta->progress(ta) > 0) {
			/* Bounded by the step limit even if work never ends. */
			sched_point(SP_EXPLICIT, NULL, ta->name);
			continue;
		}
		sched_yield_point(ta->name);
	}
}

struct collect {
	struct tactor	*actors;
	int		 n;
};

static void
collect_actor(struct harness_actor *ha, void *arg)
{
	struct collect *c = arg;
	struct tactor *ta;

	if (c->n >= MAX_ACTORS || (ha->pending == NULL && ha->progress == NULL))
		return;
	ta = &c->actors[c->n++];
	snprintf(ta->name, sizeof(ta->name), "%s", ha->name);
	ta->pending = driver_actor_pending;
	ta->progress = driver_actor_progress;
	ta->ha = ha;
}

/*
 * Ops that stand for asynchronous work: in the sequential mode they say
 * when an interrupt or a worker runs; here the actor threads do that work
 * when the scheduler lets them.  Run from a logical thread as well, the
 * same completion path would run on two threads at once, which no kernel
 * does (and deliver_all would call a reader-held epoch a hang).
 */
static bool
delivery_op(const Op *op)
{
	switch (op->op_case) {
	case OP__OP_NIC_TXEOF:
	case OP__OP_MLX5_COMPLETE:
	case OP__OP_CXGBE_ACK:
	case OP__OP_MLX5_WORKER:
	case OP__OP_EPAIR_DELIVER:
	case OP__OP_TASKQUEUE:
	case OP__OP_EPOCH:
	case OP__OP_DELIVER_ALL:
		return (true);
	default:
		return (false);
	}
}

/*
 * A shallow copy of sc whose delivery ops are empty ops on the same
 * thread, so op numbers in traces still match the file.  NULL: no memory.
 */
static Scenario *
without_delivery(const Scenario *sc, Op ***opsp, Op **nopsp, int *ndrop)
{
	Scenario *copy;
	Op **ops, *nops;
	size_t i, k = 0;

	*ndrop = 0;
	copy = calloc(1, sizeof(*copy));
	ops = calloc(sc->n_ops + 1, sizeof(*ops));
	nops = calloc(sc->n_ops + 1, sizeof(*nops));
	if (copy == NULL || ops == NULL || nops == NULL) {
		free(copy);
		free(ops);
		free(nops);
		return (NULL);
	}
	*copy = *sc;
	for (i = 0; i < sc->n_ops; i++) {
		if (sc->ops[i] == NULL || !delivery_op(sc->ops[i])) {
			ops[i] = sc->ops[i];
			continue;
		}
		op__init(&nops[k]);
		nops[k].has_thread = sc->ops[i]->has_thread;
		nops[k].thread = sc->ops[i]->thread;
		ops[i] = &nops[k++];
	}
	copy->ops = ops;
	*opsp = ops;
	*nopsp = nops;
	*ndrop = (int)k;
	return (copy);
}

uint64_t
threaded_pct_steps(uint32_t n_ops)
{
	uint64_t s = (uint64_t)n_ops * PCT_STEPS_PER_OP;

	return (s < PCT_STEPS_MIN ? PCT_STEPS_MIN : s);
}

int
threaded_run(const Scenario *sc, const struct threaded_options *o,
    struct threaded_result *res)
{
	static struct tactor actors[MAX_ACTORS];
	struct tlogical logical[INTERP_MAX_THREADS];
	struct sched_thread th[SCHED_MAX_THREADS];
	struct sched_switch sw[SCHED_MAX_SWITCHES];
	uint8_t *deliver = NULL;
	struct sched_config cfg;
	struct sched_result sr;
	struct collect c;
	struct interp *ip;
	Scenario *run_sc;
	Op **ops = NULL, *nops = NULL;
	int error = 0, i, n, nlog, ndrop;

	memset(&sr, 0, sizeof(sr));
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	run_sc = without_delivery(sc, &ops, &nops, &ndrop);
	if (run_sc == NULL)
		return (ENOMEM);
	ip = interp_new(run_sc, o->interp);
	if (ip == NULL) {
		free(run_sc);
		free(ops);
		free(nops);
		return (-1);
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.strategy = o->strategy;
	cfg.seed = o->seed;
	cfg.depth = o->depth;
	cfg.pct_steps = o->pct_steps != 0 ? o->pct_steps :
	    threaded_pct_steps((uint32_t)sc->n_ops);
	cfg.max_steps = o->max_steps;
	cfg.trace = o->sched_trace;
	if (o->strategy == SCHED_SWITCH) {
		if (o->switches != NULL) {
			cfg.switches = o->switches;
			cfg.nswitches = o->nswitches;
		} else {
			for (i = 0; i < (int)sc->n_switches &&
			    i < SCHED_MAX_SWITCHES; i++)
				sw[i] = (struct sched_switch){
				    sc->switches[i]->op, sc->switches[i]->point,
				    sc->switches[i]->to };
			cfg.switches = sw;
			cfg.nswitches = (size_t)i;
		}
		if (cfg.nswitches > SCHED_MAX_SWITCHES)
			cfg.nswitches = SCHED_MAX_SWITCHES;
		cfg.n_ops = (uint32_t)sc->n_ops;
		/* Delivery ops hand the CPU to the actors there. */
		deliver = calloc(sc->n_ops + 1, 1);
		if (deliver == NULL) {
			interp_free(ip);
			free(run_sc);
			free(ops);
			free(nops);
			return (ENOMEM);
		}
		for (i = 0; i < (int)sc->n_ops; i++)
			deliver[i] = sc->ops[i] != NULL &&
			    delivery_op(sc->ops[i]);
		cfg.deliver = deliver;
	}
	cfg.feedback = o->feedback;
	cfg.feedback_len = o->feedback_len;
	cfg.candidates = o->candidates;
	cfg.candidates_max = o->candidates_max;
	if (o->schedule != NULL) {
		cfg.schedule = o->schedule;
		cfg.schedule_len = o->schedule_len;
	} else if (sc->has_schedule) {
		cfg.schedule = sc->schedule.data;
		cfg.schedule_len = sc->schedule.len;
	}

	n = 0;
	nlog = 0;
	if (interp_setup(ip) == 0) {
		nlog = interp_thread_count(ip);
		for (i = 0; i < nlog && i < INTERP_MAX_THREADS; i++) {
			logical[i].ip = ip;
			logical[i].tid = i;
			th[n++] = (struct sched_thread){ logical_names[i],
			    logical_main, &logical[i], false };
		}
		/* Actors only exist once the topology has attached them. */
		memset(actors, 0, sizeof(actors));
		c.actors = actors;
		c.n = 0;
		snprintf(actors[c.n].name, sizeof(actors[0].name), "epoch");
		actors[c.n].pending = epoch_actor_pending;
		actors[c.n++].progress = epoch_actor_progress;
		snprintf(actors[c.n].name, sizeof(actors[0].name),
		    "taskqueue");
		actors[c.n].pending = tq_actor_pending;
		actors[c.n++].progress = tq_actor_progress;
		harness_actor_foreach(collect_actor, &c);
		for (i = 0; i < c.n; i++)
			th[n++] = (struct sched_thread){ actors[i].name,
			    actor_main, &actors[i], true };
		if (nlog > 0)
			error = sched_run(th, n, &cfg, &sr);
	}
	if (res != NULL) {
		res->sched = sr;
		res->logical_threads = nlog;
		res->actor_threads = n - nlog;
		res->ops_run = interp_ops_run(ip);
		res->pct_steps = cfg.pct_steps;
		res->delivery_ops = ndrop;
	}
	interp_finish(ip);
	interp_free(ip);
	free(run_sc);
	free(ops);
	free(nops);
	free(deliver);
	return (error);
}
