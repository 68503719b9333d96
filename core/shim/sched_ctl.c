/*
 * The controlled scheduler; see sched_ctl.h.
 *
 * This file is compiled without TSan instrumentation (sndtag_sched in
 * core/CMakeLists.txt) and every function is marked no_sanitize("thread")
 * as well: the scheduler's own state and hand-off must not look like
 * synchronisation to TSan, or it would hide the very races we look for.
 * The hand-off therefore uses only __atomic builtins and raw futex calls,
 * never pthread mutexes or condition variables.  The attribute alone is
 * not enough: TSan still instruments atomics inside no_sanitize
 * functions, and the futex words' atomics would then order the threads
 * and hide their races (tests/test_sched.c checks this).
 *
 * Exactly one managed thread (or the main thread, while it waits for the
 * run to finish) is "on CPU"; every other managed thread sleeps on its own
 * futex word.  All scheduler state is touched only by the thread on CPU,
 * and the seq_cst stores and loads of the futex words order it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "shim/hash.h"
#include "shim/lock.h"
#include "shim/sched.h"
#include "shim/sched_ctl.h"
#include "shim/sched_futex.h"
#include "shim/sched_ilv.h"
#include "shim/sched_pool.h"
#include "shim/systm.h"

#define	NOTSAN	__attribute__((no_sanitize("thread")))

#define	SCHED_MAX_HELD	8
#define	SCHED_NAME_LEN	48

enum sthread_state {
	ST_RUNNABLE,
	ST_BLOCKED,
	ST_DONE
};

struct sthread {
	int		 id;
	const char	*name;
	void		(*fn)(void *);
	void		*arg;
	bool		 actor;
	bool		 started;	/* on its worker (sched_pool.c) */

	int		 go;		/* futex word: 1 = may run */
	enum sthread_state state;
	const void	*blocked_on;
	const char	*last_what;	/* last point, for deadlock reports */
	bool		 in_poll;
	bool		 yielded;
	uint64_t	 yield_events;	/* ineligible while events == this */
	uint64_t	 seen_events;	/* events at our last look at the world */
	uint64_t	 prio;		/* PCT */
	/* SWITCH and feedback */
	uint32_t	 ordinal;	/* among the actors */
	uint32_t	 op;		/* op being run (actors: n_ops + ordinal) */
	uint32_t	 ctx;		/* feedback: op kind, or actor name hash */
	uint32_t	 npoints;	/* points in op (actors: since on CPU) */
	uint64_t	 preempted;	/* SWITCH: stamp when preempted, or 0 */
	bool		 deliver;	/* SWITCH: drain at the next point */
	/* Locks held when last switched out (copies: locks may go away). */
	int		 nheld;
	char		 held[SCHED_MAX_HELD][SCHED_NAME_LEN];
};

struct sched_state {
	struct sched_config cfg;
	struct sthread	 th[SCHED_MAX_THREADS];
	int		 n;
	int		 nonactors;
	int		 nonactors_done;	/* atomic in FREE mode */
	int		 done;
	int		 main_go;		/* futex word for sched_run */
	struct sthread	*running;

	uint64_t	 rng;
	uint64_t	 steps;
	uint64_t	 events;		/* progress: points, blocks, exits */
	uint64_t	 switches;
	uint64_t	 preemptions;
	uint64_t	 hash;
	size_t		 sched_pos;
	uint64_t	 max_steps;
	int		 nchange;
	uint64_t	 change_at[SCHED_MAX_DEPTH];
	uint64_t	 pct_window;		/* events PCT draws over */

	/* SWITCH */
	struct sched_switch sw[SCHED_MAX_SWITCHES];
	bool		 sw_used[SCHED_MAX_SWITCHES];
	size_t		 nsw;
	int		 want;			/* target of a firing switch */
	bool		 draining;		/* a delivery op runs actors */
	uint32_t	 drain_left;
	uint64_t	 preempt_seq;
	uint32_t	 switches_taken;

	struct sched_ilv *ilv;			/* feedback, or NULL */
};

static struct sched_state *S;
static __thread struct sthread *self;
static int sched_busy;
static void (*saved_panic_hook)(void);

static void	ctl_point(enum sched_point_kind, const void *, const char *);
static void	ctl_block(const void *, const char *);
static void	ctl_wake(const void *);
static void	ctl_access(const void *, const char *);

static const struct sched_ops ctl_ops = {
	.point = ctl_point,
	.block = ctl_block,
	.wake = ctl_wake,
	.access = ctl_access,
};

static const char *const kind_names[SP_NKINDS] = {
	[SP_EXPLICIT] = "point",
	[SP_LOCK] = "lock",
	[SP_UNLOCK] = "unlock",
	[SP_REFCOUNT] = "refcount",
	[SP_EPOCH] = "epoch",
};

/* Pseudo-kinds of decision, beyond the shims' point kinds. */
#define	DK_START	"start"
#define	DK_BLOCK	"block"
#define	DK_EXIT		"exit"
#define	DK_YIELD	"yield"

NOTSAN static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z;

	z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

NOTSAN static void
hash_bytes(const void *p, size_t len)
{
	S->hash = fnv1a64_update(S->hash, p, len);
}

/*
 * No libc string functions on shared state in here: TSan intercepts them
 * even when called from this uninstrumented file.
 */
NOTSAN static size_t
str_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return (n);
}

/* Append src to dst[size] at *pos, always NUL-terminated. */
NOTSAN static void
str_cat(char *dst, size_t size, size_t *pos, const char *src)
{
	while (src != NULL && *src != '\0' && *pos + 1 < size)
		dst[(*pos)++] = *src++;
	dst[*pos] = '\0';
}

NOTSAN static void
hash_str(const char *s)
{
	if (s != NULL)
		hash_bytes(s, str_len(s) + 1);
	else
		hash_bytes("", 1);
}

NOTSAN static bool
eligible(const struct sthread *t)
{
	if (t->state != ST_RUNNABLE)
		return (false);
	return (!(t->yielded && t->yield_events == S->events));
}

/* Called by the thread itself: witness keeps held locks per thread. */
NOTSAN static void
record_held(struct sthread *t)
{
	const char *names[SCHED_MAX_HELD];
	int i, n;

	n = witness_held_names(names, SCHED_MAX_HELD);
	if (n < 0)
		n = 0;
	if (n > SCHED_MAX_HELD)
		n = SCHED_MAX_HELD;
	for (i = 0; i < n; i++) {
		size_t pos = 0;

		str_cat(t->held[i], SCHED_NAME_LEN, &pos,
		    names[i] != NULL ? names[i] : "?");
	}
	t->nheld = n;
}

/* The line is built on our own stack: see str_len(). */
NOTSAN static void
print_thread(struct sthread *t)
{
	char line[128 + SCHED_MAX_HELD * (SCHED_NAME_LEN + 2)];
	const char *state;
	size_t pos = 0;
	int i;

	str_cat(line, sizeof(line), &pos, "  thread ");
	str_cat(line, sizeof(line), &pos, t->name);
	if (t->state == ST_DONE) {
		str_cat(line, sizeof(line), &pos, ": done\n");
		fputs(line, stderr);
		return;
	}
	if (t->state == ST_BLOCKED)
		state = ": blocked at ";
	else if (t->yielded && t->yield_events == S->events)
		state = ": idle at ";
	else if (t == self && t == S->running) {
		state = ": running at ";
		record_held(t);
	} else
		state = ": runnable at ";
	str_cat(line, sizeof(line), &pos, state);
	str_cat(line, sizeof(line), &pos,
	    t->last_what != NULL ? t->last_what : "(start)");
	str_cat(line, sizeof(line), &pos, "; holding");
	if (t->nheld == 0)
		str_cat(line, sizeof(line), &pos, " nothing");
	for (i = 0; i < t->nheld; i++) {
		str_cat(line, sizeof(line), &pos, i == 0 ? " " : ", ");
		str_cat(line, sizeof(line), &pos, t->held[i]);
	}
	str_cat(line, sizeof(line), &pos, "\n");
	fputs(line, stderr);
}

/* After any panic line during a run: where every model thread stands. */
NOTSAN static void
sched_panic_hook(void)
{
	int i;

	if (S == NULL)
		return;
	if (S->cfg.trace != NULL)
		fflush(S->cfg.trace);
	for (i = 0; i < S->n; i++)
		print_thread(&S->th[i]);
	fflush(stderr);
}

NOTSAN static void __attribute__((__noreturn__))
deadlock(int nblocked)
{
	int i;

	if (S->cfg.trace != NULL)
		fflush(S->cfg.trace);
	fflush(stdout);
	/* Only the threads still alive, after the panic line. */
	kern_panic_hook = NULL;
	kern_panic_print(__FILE__, __LINE__, "deadlock: %d threads blocked",
	    nblocked);
	for (i = 0; i < S->n; i++)
		if (S->th[i].state != ST_DONE)
			print_thread(&S->th[i]);
	fflush(stderr);
	abort();
}

NOTSAN static void
count_step(void)
{
	S->steps++;
	if (S->steps > S->max_steps) {
		if (S->cfg.trace != NULL)
			fflush(S->cfg.trace);
		fflush(stdout);
		kern_panic_print(__FILE__, __LINE__,
		    "quiesce: hang: scheduler exceeded %llu steps",
		    (unsigned long long)S->max_steps);
		abort();
	}
}

/* Progress by t (NULL: the scheduler itself); PCT change points. */
NOTSAN static void
count_event(struct sthread *t)
{
	int j;

	S->events++;
	if (t == NULL)
		return;
	t->seen_events = S->events;
	if (S->cfg.strategy != SCHED_PCT)
		return;
	for (j = 0; j < S->nchange; j++)
		if (S->change_at[j] == S->events)
			t->prio = (uint64_t)j + 1;
}

/*
 * SWITCH: a firing switch's target (or the next eligible id after it);
 * else the running thread; else the one preempted last; else the lowest
 * id.  An actor past its slice yields to a logical thread.
 */
NOTSAN static int
choose_switch(const int *el, int nel)
{
	struct sthread *cur = S->running, *t;
	int i, best = -1;

	if (S->want >= 0) {
		for (i = 0; i < nel; i++)
			if (el[i] >= S->want)
				return (el[i]);
		return (el[0]);
	}
	/* A delivery op: the actors, one after another, until all idle. */
	if (S->draining && S->drain_left > 0) {
		if (cur != NULL && cur->actor && eligible(cur) &&
		    cur->npoints < SCHED_ACTOR_SLICE)
			return (cur->id);
		for (i = 0; i < nel; i++)
			if (S->th[el[i]].actor && &S->th[el[i]] != cur)
				return (el[i]);
		if (cur != NULL && cur->actor && eligible(cur))
			return (cur->id);
	}
	S->draining = false;
	if (cur != NULL && eligible(cur) && !(cur->actor &&
	    cur->npoints >= SCHED_ACTOR_SLICE))
		return (cur->id);
	for (i = 0; i < nel; i++) {
		t = &S->th[el[i]];
		if (t->preempted != 0 && (best < 0 ||
		    t->preempted > S->th[best].preempted))
			best = el[i];
	}
	if (best >= 0)
		return (best);
	for (i = 0; i < nel; i++)
		if (!S->th[el[i]].actor)
			return (el[i]);
	return (el[0]);
}

/*
 * Choose the next thread among the eligible ones; -1 when none is.
 * Only this function consumes randomness or schedule bytes, so the
 * decision sequence is a function of the seed and the points alone.
 */
NOTSAN static int
choose(void)
{
	int el[SCHED_MAX_THREADS];
	int i, best, nel = 0;
	uint8_t b;

	for (i = 0; i < S->n; i++)
		if (eligible(&S->th[i]))
			el[nel++] = i;
	if (nel == 0)
		return (-1);
	if (nel == 1) {
		/* A drain ends when a scenario thread gets the CPU back. */
		if (!S->th[el[0]].actor)
			S->draining = false;
		return (el[0]);
	}
	switch (S->cfg.strategy) {
	case SCHED_PCT:
		/*
		 * Past the window the change points are drawn over, fixed
		 * priorities would let an actor whose work renews itself (a
		 * forwarding storm bounded only by TTL) starve the scenario's
		 * threads for millions of steps, which no kernel scheduler
		 * does to a runnable thread.  There the scenario's threads go
		 * first (by priority); actors run when none of them can.
		 */
		best = -1;
		if (S->events > S->pct_window)
			for (i = 0; i < nel; i++)
				if (!S->th[el[i]].actor && (best < 0 ||
				    S->th[el[i]].prio > S->th[best].prio))
					best = el[i];
		if (best >= 0)
			return (best);
		best = el[0];
		for (i = 1; i < nel; i++)
			if (S->th[el[i]].prio > S->th[best].prio)
				best = el[i];
		return (best);
	case SCHED_RANDOM:
		return (el[splitmix64(&S->rng) % (uint64_t)nel]);
	case SCHED_INPUT:
		if (S->sched_pos < S->cfg.schedule_len) {
			b = S->cfg.schedule[S->sched_pos++];
			return (el[b % nel]);
		}
		return (el[0]);
	case SCHED_SWITCH:
		return (choose_switch(el, nel));
	case SCHED_FREE:
		break;
	}
	return (el[0]);
}

/*
 * Nobody is eligible.  Pollers that found nothing are let go again when
 * the run is ending (they then see sched_should_stop()) or when no thread
 * is blocked; otherwise nothing can ever change: deadlock.
 */
NOTSAN static int
choose_or_deadlock(void)
{
	int i, next, nblocked = 0, nidle = 0;

	next = choose();
	if (next >= 0)
		return (next);
	for (i = 0; i < S->n; i++) {
		if (S->th[i].state == ST_BLOCKED)
			nblocked++;
		else if (S->th[i].state == ST_RUNNABLE)
			nidle++;
	}
	if (nidle > 0 && (S->nonactors_done == S->nonactors || nblocked == 0)) {
		count_event(NULL);
		next = choose();
		if (next >= 0)
			return (next);
	}
	if (nblocked == 0)
		return (-1);	/* everyone is done */
	deadlock(nblocked);
}

NOTSAN static void
note_decision(struct sthread *from, int next, const char *kind,
    const char *what)
{
	uint32_t v;

	v = (uint32_t)next;
	hash_bytes(&v, sizeof(v));
	hash_str(kind);
	hash_str(what);
	if (from != NULL && from->id == next)
		return;
	if (from != NULL) {
		S->switches++;
		if (eligible(from))
			S->preemptions++;
	}
	if (S->cfg.trace != NULL) {
		char line[256], num[24];
		size_t pos = 0, k = sizeof(num) - 1;
		uint64_t x = S->steps;

		num[k] = '\0';
		do {
			num[--k] = (char)('0' + x % 10);
			x /= 10;
		} while (x != 0);
		str_cat(line, sizeof(line), &pos, "sched ");
		str_cat(line, sizeof(line), &pos, num + k);
		str_cat(line, sizeof(line), &pos, ": ");
		str_cat(line, sizeof(line), &pos,
		    from != NULL ? from->name : "main");
		str_cat(line, sizeof(line), &pos, " -> ");
		str_cat(line, sizeof(line), &pos, S->th[next].name);
		str_cat(line, sizeof(line), &pos, " at ");
		str_cat(line, sizeof(line), &pos, kind);
		if (what != NULL) {
			str_cat(line, sizeof(line), &pos, " ");
			str_cat(line, sizeof(line), &pos, what);
		}
		str_cat(line, sizeof(line), &pos, "\n");
		fputs(line, S->cfg.trace);
	}
}

/* Hand the CPU from t to next; t (if still alive) sleeps until chosen. */
NOTSAN static void
switch_to(struct sthread *t, int next, bool wait)
{
	struct sthread *n = &S->th[next];

	if (t == n)
		return;
	if (t != NULL && eligible(t))
		t->preempted = ++S->preempt_seq;
	n->preempted = 0;
	if (n->actor)
		n->npoints = 0;
	if (t != NULL && t->state != ST_DONE)
		record_held(t);
	if (t != NULL)
		__atomic_store_n(&t->go, 0, __ATOMIC_SEQ_CST);
	S->running = n;
	sched_futex_give(&n->go);
	if (wait && t != NULL)
		sched_futex_wait(&t->go);
}

/* Interleaving feedback for t's point (sched_ilv.h). */
NOTSAN static void
ilv_point(struct sthread *t, enum sched_point_kind kind, const void *obj,
    const char *what)
{
	uint32_t nrun = 0;
	int i;

	for (i = 0; i < S->n; i++)
		if (!S->th[i].actor && eligible(&S->th[i]))
			nrun++;
	sched_ilv_point(S->ilv, (uint32_t)t->id, t->op, t->npoints, t->ctx,
	    kind, obj, what, nrun);
}

/* A write to shared data: feedback and candidates, no switch. */
NOTSAN static void
ctl_access(const void *obj, const char *what)
{
	struct sthread *t = self;

	if (t == NULL || S == NULL || t->in_poll || S->ilv == NULL)
		return;
	ilv_point(t, SP_EXPLICIT, obj, what);
}

/* SWITCH: the target of the switch that fires at t's point, or -1. */
NOTSAN static int
switch_fires(const struct sthread *t)
{
	size_t i;

	for (i = 0; i < S->nsw; i++) {
		if (S->sw_used[i] || S->sw[i].op != t->op ||
		    S->sw[i].point != t->npoints)
			continue;
		S->sw_used[i] = true;
		return ((int)(S->sw[i].to % (uint32_t)S->n));
	}
	return (-1);
}

NOTSAN static void
ctl_point(enum sched_point_kind kind, const void *obj, const char *what)
{
	struct sthread *t = self;
	const char *kn;
	int next;

	if (t == NULL || S == NULL || t->in_poll)
		return;
	kn = (unsigned)kind < SP_NKINDS ? kind_names[kind] : "point";
	t->last_what = what;
	count_step();
	count_event(t);
	if (S->ilv != NULL)
		ilv_point(t, kind, obj, what);
	if (S->cfg.strategy == SCHED_SWITCH) {
		S->want = switch_fires(t);
		if (t->deliver) {
			t->deliver = false;
			S->draining = true;
			S->drain_left = SCHED_DRAIN_POINTS;
		}
		if (S->draining && S->drain_left > 0)
			S->drain_left--;
	}
	t->npoints++;
	next = choose_or_deadlock();
	if (S->want >= 0 && next != t->id)
		S->switches_taken++;
	S->want = -1;
	note_decision(t, next, kn, what);
	switch_to(t, next, true);
}

NOTSAN static void
ctl_block(const void *obj, const char *what)
{
	struct sthread *t = self;
	int next;

	if (t == NULL || S == NULL) {
		kern_panic_print(__FILE__, __LINE__,
		    "sched: block on %s from a thread the scheduler does "
		    "not run", what != NULL ? what : "?");
		abort();
	}
	record_held(t);
	t->state = ST_BLOCKED;
	t->blocked_on = obj;
	t->last_what = what;
	if (S->ilv != NULL)
		sched_ilv_block(S->ilv, t->ctx, what);
	count_step();
	count_event(t);
	next = choose_or_deadlock();
	note_decision(t, next, DK_BLOCK, what);
	switch_to(t, next, true);
}

NOTSAN static void
ctl_wake(const void *obj)
{
	int i;

	if (S == NULL)
		return;
	for (i = 0; i < S->n; i++) {
		if (S->th[i].state == ST_BLOCKED &&
		    S->th[i].blocked_on == obj) {
			S->th[i].state = ST_RUNNABLE;
			S->th[i].blocked_on = NULL;
		}
	}
}

NOTSAN void
sched_poll_begin(void)
{
	struct sthread *t = self;

	if (t == NULL || S == NULL || S->cfg.strategy == SCHED_FREE)
		return;
	t->in_poll = true;
	t->seen_events = S->events;
}

NOTSAN void
sched_poll_end(void)
{
	struct sthread *t = self;

	if (t != NULL)
		t->in_poll = false;
}

NOTSAN void
sched_yield_point(const char *what)
{
	struct sthread *t = self;
	int next;

	if (S == NULL)
		return;
	if (S->cfg.strategy == SCHED_FREE) {
		sched_yield();
		return;
	}
	if (t == NULL)
		return;
	t->in_poll = false;
	t->last_what = what;
	count_step();
	/* Idle only if nobody changed anything since we last looked. */
	if (S->events == t->seen_events) {
		t->yielded = true;
		t->yield_events = S->events;
		record_held(t);
	}
	next = choose_or_deadlock();
	note_decision(t, next, DK_YIELD, what);
	switch_to(t, next, true);
	t->yielded = false;
}

NOTSAN void
sched_op_begin(uint32_t op, uint32_t kind)
{
	struct sthread *t = self;

	if (t == NULL || S == NULL)
		return;
	t->op = op;
	t->ctx = kind;
	t->npoints = 0;
	t->deliver = S->cfg.strategy == SCHED_SWITCH &&
	    S->cfg.deliver != NULL && op < S->cfg.n_ops &&
	    S->cfg.deliver[op] != 0;
}

NOTSAN bool
sched_should_stop(void)
{
	if (S == NULL)
		return (true);
	return (__atomic_load_n(&S->nonactors_done, __ATOMIC_SEQ_CST) ==
	    S->nonactors);
}

NOTSAN static void
thread_exit(struct sthread *t)
{
	int next;

	if (S->cfg.strategy == SCHED_FREE) {
		if (!t->actor)
			__atomic_fetch_add(&S->nonactors_done, 1,
			    __ATOMIC_SEQ_CST);
		return;
	}
	t->state = ST_DONE;
	t->nheld = 0;
	if (!t->actor)
		S->nonactors_done++;
	S->done++;
	count_event(t);
	/*
	 * SWITCH: when a scenario thread ends, the asynchronous work it
	 * left runs before a preempted thread resumes, as pending
	 * interrupts and callbacks would.
	 */
	if (S->cfg.strategy == SCHED_SWITCH && !t->actor) {
		S->draining = true;
		S->drain_left = SCHED_DRAIN_POINTS;
	}
	if (S->done == S->n) {
		S->running = NULL;
		sched_futex_give(&S->main_go);
		return;
	}
	next = choose_or_deadlock();
	note_decision(t, next, DK_EXIT, t->name);
	__atomic_store_n(&t->go, 0, __ATOMIC_SEQ_CST);
	switch_to(t, next, false);
}

NOTSAN static void *
thread_main(void *arg)
{
	struct sthread *t = arg;

	self = t;
	sched_futex_wait(&t->go);
	t->fn(t->arg);
	thread_exit(t);
	self = NULL;
	return (NULL);
}

NOTSAN static void
pct_setup(void)
{
	int perm[SCHED_MAX_THREADS];
	uint64_t steps;
	int i, j, tmp, depth;

	for (i = 0; i < S->n; i++)
		perm[i] = i;
	for (i = S->n - 1; i > 0; i--) {
		j = (int)(splitmix64(&S->rng) % (uint64_t)(i + 1));
		tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	depth = S->cfg.depth < 1 ? 1 : S->cfg.depth;
	/* Initial priorities are all above every change-point priority. */
	for (i = 0; i < S->n; i++)
		S->th[i].prio = (uint64_t)depth + (uint64_t)perm[i];
	steps = S->cfg.pct_steps != 0 ? S->cfg.pct_steps :
	    SCHED_DEFAULT_PCT_STEPS;
	S->nchange = depth - 1;
	S->pct_window = steps;
	for (j = 0; j < S->nchange; j++)
		S->change_at[j] = 1 + splitmix64(&S->rng) % steps;
}

NOTSAN static int
check_args(const struct sched_thread *t, int n,
    const struct sched_config *cfg)
{
	int i;

	if (t == NULL || cfg == NULL || n < 1 || n > SCHED_MAX_THREADS)
		return (EINVAL);
	if (cfg->strategy != SCHED_PCT && cfg->strategy != SCHED_RANDOM &&
	    cfg->strategy != SCHED_INPUT && cfg->strategy != SCHED_FREE &&
	    cfg->strategy != SCHED_SWITCH)
		return (EINVAL);
	if (cfg->nswitches > SCHED_MAX_SWITCHES ||
	    (cfg->switches == NULL && cfg->nswitches != 0))
		return (EINVAL);
	if (cfg->feedback != NULL && cfg->feedback_len == 0)
		return (EINVAL);
	if (cfg->depth < 0 || cfg->depth > SCHED_MAX_DEPTH)
		return (EINVAL);
	if (cfg->schedule == NULL && cfg->schedule_len != 0)
		return (EINVAL);
	for (i = 0; i < n; i++)
		if (t[i].fn == NULL || t[i].name == NULL)
			return (EINVAL);
	return (0);
}

NOTSAN int
sched_run(const struct sched_thread *t, int n,
    const struct sched_config *cfg, struct sched_result *res)
{
	struct sched_state *st;
	uint32_t nact = 0;
	int error, i, first;

	error = check_args(t, n, cfg);
	if (error != 0)
		return (error);
	if (__atomic_exchange_n(&sched_busy, 1, __ATOMIC_SEQ_CST) != 0)
		return (EBUSY);
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		__atomic_store_n(&sched_busy, 0, __ATOMIC_SEQ_CST);
		return (ENOMEM);
	}
	st->cfg = *cfg;
	st->n = n;
	st->max_steps = cfg->max_steps != 0 ? cfg->max_steps :
	    SCHED_DEFAULT_MAX_STEPS;
	st->rng = cfg->seed ^ 0x5344544147534348ULL;	/* "SDTAGSCH" */
	st->hash = FNV1A64_INIT;
	for (i = 0; i < n; i++) {
		st->th[i].id = i;
		st->th[i].name = t[i].name;
		st->th[i].fn = t[i].fn;
		st->th[i].arg = t[i].arg;
		st->th[i].actor = t[i].actor;
		st->th[i].state = ST_RUNNABLE;
		if (t[i].actor) {
			st->th[i].ordinal = nact++;
			st->th[i].op = cfg->n_ops + st->th[i].ordinal;
			st->th[i].ctx = sched_ilv_name_hash(t[i].name);
		} else
			st->th[i].op = UINT32_MAX;	/* no op yet */
		/* Free-running threads never wait for a hand-off. */
		st->th[i].go = cfg->strategy == SCHED_FREE ? 1 : 0;
		if (!t[i].actor)
			st->nonactors++;
	}
	st->want = -1;
	if (cfg->strategy == SCHED_SWITCH) {
		st->nsw = cfg->nswitches;
		for (i = 0; i < (int)cfg->nswitches; i++)
			st->sw[i] = cfg->switches[i];
	}
	if (cfg->strategy != SCHED_FREE && cfg->feedback != NULL) {
		st->ilv = sched_ilv_new(cfg->feedback, cfg->feedback_len,
		    cfg->candidates, cfg->candidates_max);
		if (st->ilv == NULL) {
			free(st);
			__atomic_store_n(&sched_busy, 0, __ATOMIC_SEQ_CST);
			return (ENOMEM);
		}
	}
	S = st;
	if (cfg->strategy == SCHED_PCT)
		pct_setup();
	if (cfg->strategy != SCHED_FREE) {
		saved_panic_hook = kern_panic_hook;
		kern_panic_hook = sched_panic_hook;
		sched_active_ops = &ctl_ops;
	}

	for (i = 0; i < n; i++) {
		error = sched_pool_start(i, thread_main, &st->th[i]);
		if (error != 0)
			break;
		st->th[i].started = true;
	}
	if (error != 0) {
		/* Let the ones that exist run to completion unscheduled. */
		sched_active_ops = NULL;
		st->cfg.strategy = SCHED_FREE;
		for (i = 0; i < n; i++)
			if (st->th[i].started)
				sched_futex_give(&st->th[i].go);
	} else if (cfg->strategy != SCHED_FREE) {
		first = choose();
		note_decision(NULL, first, DK_START, NULL);
		switch_to(NULL, first, false);
		sched_futex_wait(&st->main_go);
	}
	for (i = 0; i < n; i++)
		if (st->th[i].started)
			sched_pool_wait(i);
	sched_active_ops = NULL;
	if (cfg->strategy != SCHED_FREE)
		kern_panic_hook = saved_panic_hook;
	if (res != NULL) {
		memset(res, 0, sizeof(*res));
		res->steps = st->steps;
		res->events = st->events;
		res->switches = st->switches;
		res->preemptions = st->preemptions;
		res->trace_hash = cfg->strategy == SCHED_FREE ? 0 : st->hash;
		res->schedule_used = st->sched_pos;
		res->switches_taken = st->switches_taken;
		res->ncandidates = st->ilv != NULL ?
		    sched_ilv_ncandidates(st->ilv) : 0;
	}
	if (cfg->trace != NULL)
		fflush(cfg->trace);
	S = NULL;
	sched_ilv_free(st->ilv);
	free(st);
	__atomic_store_n(&sched_busy, 0, __ATOMIC_SEQ_CST);
	return (error);
}

NOTSAN const char *
sched_strategy_name(enum sched_strategy s)
{
	switch (s) {
	case SCHED_PCT:
		return ("pct");
	case SCHED_RANDOM:
		return ("random");
	case SCHED_INPUT:
		return ("input");
	case SCHED_FREE:
		return ("free");
	case SCHED_SWITCH:
		return ("switch");
	}
	return ("?");
}

NOTSAN int
sched_strategy_parse(const char *name, enum sched_strategy *s)
{
	static const enum sched_strategy all[] = {
		SCHED_PCT, SCHED_RANDOM, SCHED_INPUT, SCHED_FREE,
		SCHED_SWITCH
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, sched_strategy_name(all[i])) == 0) {
			*s = all[i];
			return (0);
		}
	}
	return (-1);
}
