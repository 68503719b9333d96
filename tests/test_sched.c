/*
 * The controlled scheduler (core/shim/sched_ctl.c): determinism, the
 * strategies, PCT depth, yield fairness, deadlock and step-limit panics,
 * its worker threads (sched_pool.c), and that TSan still sees races
 * between scheduled threads, also on workers an earlier run used.
 *
 * Threads here record what they did with atomics only, so the tests
 * themselves never race; the one deliberate race is in its own child.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/epoch.h"
#include "shim/sched.h"
#include "shim/sched_ctl.h"
#include "tests/testlib.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	T_TSAN	1
#endif
#endif
#if !defined(T_TSAN) && defined(__SANITIZE_THREAD__)
#define	T_TSAN	1
#endif

/* An order log written with atomics. */
#define	LOGMAX	512
static int	 log_ids[LOGMAX];
static int	 log_len;

static void
log_reset(void)
{
	int i;

	for (i = 0; i < LOGMAX; i++)
		__atomic_store_n(&log_ids[i], -1, __ATOMIC_RELAXED);
	__atomic_store_n(&log_len, 0, __ATOMIC_RELAXED);
}

static void
log_add(int id)
{
	int i = __atomic_fetch_add(&log_len, 1, __ATOMIC_RELAXED);

	if (i < LOGMAX)
		__atomic_store_n(&log_ids[i], id, __ATOMIC_RELAXED);
}

static int
log_get(int i)
{
	return (__atomic_load_n(&log_ids[i], __ATOMIC_RELAXED));
}

/* A worker: log its id then pass a point, 'rounds' times. */
struct worker {
	int	 id;
	int	 rounds;
};

static void
worker_fn(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < w->rounds; i++) {
		log_add(w->id);
		sched_point(SP_EXPLICIT, w, "work");
	}
}

static const char *const names[] = { "t0", "t1", "t2", "t3" };

static void
make_workers(struct sched_thread *t, struct worker *w, int n, int rounds)
{
	int i;

	for (i = 0; i < n; i++) {
		w[i].id = i;
		w[i].rounds = rounds;
		t[i] = (struct sched_thread){ names[i], worker_fn, &w[i],
		    false };
	}
}

/* Run n workers; the trace text goes to *text (caller frees). */
static struct sched_result
run_workers(int n, int rounds, const struct sched_config *cfg, char **text)
{
	struct sched_thread t[4];
	struct worker w[4];
	struct sched_config c = *cfg;
	struct sched_result r;
	size_t len;
	FILE *f = NULL;

	make_workers(t, w, n, rounds);
	log_reset();
	if (text != NULL) {
		f = open_memstream(text, &len);
		CHECK(f != NULL);
		c.trace = f;
	}
	CHECK_EQ(sched_run(t, n, &c, &r), 0);
	if (f != NULL)
		fclose(f);
	CHECK_EQ(__atomic_load_n(&log_len, __ATOMIC_RELAXED), n * rounds);
	return (r);
}

static void
check_same_runs(const struct sched_config *cfg)
{
	struct sched_result r[3];
	char *text[3];
	int first[LOGMAX];
	int i, k;

	for (k = 0; k < 3; k++) {
		r[k] = run_workers(3, 12, cfg, &text[k]);
		if (k == 0) {
			for (i = 0; i < 36; i++)
				first[i] = log_get(i);
		} else {
			for (i = 0; i < 36; i++)
				CHECK_EQ(log_get(i), first[i]);
		}
	}
	for (k = 1; k < 3; k++) {
		CHECK(r[k].trace_hash == r[0].trace_hash);
		CHECK_EQ(r[k].steps, r[0].steps);
		CHECK_EQ(r[k].switches, r[0].switches);
		CHECK(strcmp(text[k], text[0]) == 0);
	}
	CHECK(r[0].steps >= 36);
	CHECK(strstr(text[0], "sched 0: main -> t") == text[0]);
	for (k = 0; k < 3; k++)
		free(text[k]);
}

static void
test_same_seed_same_schedule(void)
{
	struct sched_config cfg = { .strategy = SCHED_PCT, .seed = 7,
	    .depth = 3, .pct_steps = 40 };
	static const uint8_t bytes[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5 };

	check_same_runs(&cfg);
	cfg.strategy = SCHED_RANDOM;
	check_same_runs(&cfg);
	cfg.strategy = SCHED_INPUT;
	cfg.schedule = bytes;
	cfg.schedule_len = sizeof(bytes);
	check_same_runs(&cfg);
}

/*
 * SWITCH: a worker whose rounds are ops (id * 10 + round), its points
 * over obj (its own, or one shared by all when shared is set).
 */
static int op_shared;

static void
op_worker_fn(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < w->rounds; i++) {
		sched_op_begin((uint32_t)(w->id * 10 + i), 7);
		log_add(w->id);
		sched_point(SP_REFCOUNT, op_shared ? (void *)&op_shared :
		    (void *)w, "work");
	}
}

static struct worker one_worker = { 0, 1 };
static const struct sched_thread one_thread[1] = {
	{ "t0", worker_fn, &one_worker, false }
};

static struct sched_result
run_op_workers(const struct sched_config *cfg)
{
	struct sched_thread t[2];
	struct worker w[2];
	struct sched_result r;
	int i;

	for (i = 0; i < 2; i++) {
		w[i].id = i;
		w[i].rounds = 3;
		t[i] = (struct sched_thread){ names[i], op_worker_fn, &w[i],
		    false };
	}
	log_reset();
	CHECK_EQ(sched_run(t, 2, cfg, &r), 0);
	CHECK_EQ(__atomic_load_n(&log_len, __ATOMIC_RELAXED), 6);
	return (r);
}

static void
test_switch_schedule(void)
{
	/* t0's op 1, at its first point: to thread 3 % 2 = t1. */
	static const struct sched_switch one[] = { { 1, 0, 3 } };
	/* Never reached: op 1 has one point; op 99 does not exist. */
	static const struct sched_switch none[] = { { 1, 1, 1 },
	    { 99, 0, 1 } };
	static const int want_plain[] = { 0, 0, 0, 1, 1, 1 };
	static const int want_one[] = { 0, 0, 1, 1, 1, 0 };
	struct sched_config cfg = { .strategy = SCHED_SWITCH };
	struct sched_result r;
	int i;

	/* No switch: the running thread runs on. */
	r = run_op_workers(&cfg);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_plain[i]);
	CHECK_EQ(r.switches_taken, 0);
	CHECK_EQ(r.preemptions, 0);

	cfg.switches = none;
	cfg.nswitches = 2;
	r = run_op_workers(&cfg);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_plain[i]);
	CHECK_EQ(r.switches_taken, 0);

	/* t1 preempts t0 and runs to its end; then t0 resumes. */
	cfg.switches = one;
	cfg.nswitches = 1;
	r = run_op_workers(&cfg);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_one[i]);
	CHECK_EQ(r.switches_taken, 1);
	CHECK_EQ(r.preemptions, 1);
	check_same_runs(&cfg);

	cfg.nswitches = SCHED_MAX_SWITCHES + 1;
	CHECK_EQ(sched_run(one_thread, 1, &cfg, NULL), EINVAL);
}

/*
 * Interleaving feedback: the same run gives the same features, and two
 * threads over one object give a pair that private objects do not.
 */
static void
test_interleaving_feedback(void)
{
	static uint8_t map[3][4096];
	static const uint8_t alt[] = { 0, 1, 0, 1, 0, 1 };
	struct sched_config cfg = { .strategy = SCHED_INPUT,
	    .schedule = alt, .schedule_len = sizeof(alt),
	    .feedback_len = sizeof(map[0]) };
	int i, n[3];

	memset(map, 0, sizeof(map));
	for (i = 0; i < 3; i++) {
		op_shared = i < 2;
		cfg.feedback = map[i];
		(void)run_op_workers(&cfg);
	}
	op_shared = 0;
	CHECK(memcmp(map[0], map[1], sizeof(map[0])) == 0);
	for (i = 0; i < 3; i++) {
		int k;

		n[i] = 0;
		for (k = 0; k < 4096; k++)
			n[i] += map[i][k] != 0;
	}
	CHECK(n[2] > 0);
	CHECK_EQ(n[0], n[2] + 1);	/* (work, work) across threads */
	cfg.feedback_len = 0;
	CHECK_EQ(sched_run(one_thread, 1, &cfg, NULL), EINVAL);
}

static void
test_different_seeds_differ(void)
{
	struct sched_config cfg = { .strategy = SCHED_RANDOM };
	uint64_t h[8];
	int i, j;

	for (i = 0; i < 8; i++) {
		cfg.seed = (uint64_t)i + 1;
		h[i] = run_workers(3, 10, &cfg, NULL).trace_hash;
		for (j = 0; j < i; j++)
			CHECK(h[i] != h[j]);
	}
	/* PCT at depth 3: the seed moves priorities and change points. */
	cfg.strategy = SCHED_PCT;
	cfg.depth = 3;
	cfg.pct_steps = 30;
	for (i = 0; i < 8; i++) {
		cfg.seed = (uint64_t)i + 100;
		h[i] = run_workers(3, 10, &cfg, NULL).trace_hash;
	}
	for (i = 1; i < 8; i++)
		if (h[i] != h[0])
			break;
	CHECK(i < 8);
}

/* INPUT: each byte picks among the runnable; then the lowest id runs. */
static void
test_input_schedule(void)
{
	static const uint8_t one[] = { 1 };
	static const uint8_t alt[] = { 0, 1, 0, 1, 0, 1 };
	static const int want_one[] = { 1, 0, 0, 0, 1, 1 };
	static const int want_alt[] = { 0, 1, 0, 1, 0, 1 };
	static const int want_none[] = { 0, 0, 0, 1, 1, 1 };
	struct sched_config cfg = { .strategy = SCHED_INPUT };
	struct sched_result r;
	char *text;
	int i;

	r = run_workers(2, 3, &cfg, NULL);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_none[i]);
	CHECK_EQ(r.schedule_used, 0);

	cfg.schedule = one;
	cfg.schedule_len = sizeof(one);
	r = run_workers(2, 3, &cfg, &text);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_one[i]);
	CHECK_EQ(r.schedule_used, 1);
	CHECK(strstr(text, "sched 0: main -> t1 at start\n") == text);
	CHECK(strstr(text, "sched 1: t1 -> t0 at point work\n") != NULL);
	CHECK(strstr(text, "t0 -> t1 at exit t0\n") != NULL);
	free(text);

	/* Bytes are consumed only where there is a choice (2 runnable). */
	cfg.schedule = alt;
	cfg.schedule_len = sizeof(alt);
	r = run_workers(2, 3, &cfg, NULL);
	for (i = 0; i < 6; i++)
		CHECK_EQ(log_get(i), want_alt[i]);
	CHECK_EQ(r.schedule_used, 6);
	CHECK_EQ(r.switches, 7);	/* + back to t0, and its exit */
}

/* PCT: no change point at depth 1; at most d-1 preemptions at depth d. */
static void
test_pct_depth(void)
{
	struct sched_config cfg = { .strategy = SCHED_PCT, .pct_steps = 40 };
	struct sched_result r;
	uint64_t maxp;
	int d, i, seed;

	for (d = 1; d <= 4; d++) {
		maxp = 0;
		for (seed = 1; seed <= 20; seed++) {
			cfg.depth = d;
			cfg.seed = (uint64_t)seed;
			r = run_workers(2, 20, &cfg, NULL);
			CHECK(r.preemptions <= (uint64_t)(d - 1));
			if (r.preemptions > maxp)
				maxp = r.preemptions;
			if (d == 1) {
				/* One thread runs to its end, then the other. */
				for (i = 1; i < 20; i++)
					CHECK_EQ(log_get(i), log_get(0));
				CHECK(log_get(20) != log_get(0));
				CHECK_EQ(r.switches, 1);
			}
		}
		/* Change points inside the run do preempt for some seed. */
		if (d > 1)
			CHECK(maxp >= 1);
	}
}

/* A tiny sched-aware lock, as the shim's mtx does it. */
struct tlock {
	pthread_mutex_t	 m;
};

static void
tlock_lock(struct tlock *l)
{
	sched_point(SP_LOCK, l, "tlock");
	if (!sched_controlled()) {
		pthread_mutex_lock(&l->m);
		return;
	}
	while (pthread_mutex_trylock(&l->m) != 0)
		sched_block(l, "tlock");
}

static void
tlock_unlock(struct tlock *l)
{
	pthread_mutex_unlock(&l->m);
	sched_wake(l);
	sched_point(SP_UNLOCK, l, "tlock");
}

static struct tlock counter_lock = { PTHREAD_MUTEX_INITIALIZER };
static int counter;		/* protected by counter_lock */

static void
locked_incr_fn(void *arg)
{
	int i, v;

	for (i = 0; i < 10; i++) {
		tlock_lock(&counter_lock);
		v = counter;
		sched_point(SP_EXPLICIT, NULL, "inside");
		counter = v + 1;
		tlock_unlock(&counter_lock);
	}
}

static void
run_locked(enum sched_strategy s, uint64_t seed)
{
	struct sched_thread t[3] = {
		{ "a", locked_incr_fn, NULL, false },
		{ "b", locked_incr_fn, NULL, false },
		{ "c", locked_incr_fn, NULL, false },
	};
	struct sched_config cfg = { .strategy = s, .seed = seed, .depth = 3,
	    .pct_steps = 60 };
	struct sched_result r;

	counter = 0;
	CHECK_EQ(sched_run(t, 3, &cfg, &r), 0);
	CHECK_EQ(counter, 30);
}

/* Contended locks block and wake; no lost update under any schedule. */
static void
test_block_and_wake(void)
{
	uint64_t seed;

	for (seed = 1; seed <= 10; seed++) {
		run_locked(SCHED_PCT, seed);
		run_locked(SCHED_RANDOM, seed);
	}
	run_locked(SCHED_INPUT, 0);
	run_locked(SCHED_FREE, 0);
}

/* Actors poll with sched_yield_point and never starve the workers. */
static int work_posted;		/* atomics */
static int work_done;
static int actor_polls;

static void
producer_fn(void *arg)
{
	int i;

	for (i = 0; i < 5; i++) {
		__atomic_fetch_add(&work_posted, 1, __ATOMIC_SEQ_CST);
		sched_point(SP_EXPLICIT, NULL, "post");
		sched_point(SP_EXPLICIT, NULL, "other");
	}
}

static void
consumer_fn(void *arg)
{
	int pending;

	while (!sched_should_stop()) {
		sched_poll_begin();
		__atomic_fetch_add(&actor_polls, 1, __ATOMIC_SEQ_CST);
		pending = __atomic_load_n(&work_posted, __ATOMIC_SEQ_CST) -
		    __atomic_load_n(&work_done, __ATOMIC_SEQ_CST);
		/* Points while polling neither switch nor count. */
		sched_point(SP_EXPLICIT, NULL, "peek");
		sched_poll_end();
		if (pending > 0) {
			__atomic_fetch_add(&work_done, 1, __ATOMIC_SEQ_CST);
			sched_point(SP_EXPLICIT, NULL, "deliver");
		} else
			sched_yield_point("idle");
	}
}

static void
test_yield_fairness(void)
{
	struct sched_thread t[3] = {
		{ "producer", producer_fn, NULL, false },
		{ "actor1", consumer_fn, NULL, true },
		{ "actor2", consumer_fn, NULL, true },
	};
	struct sched_config cfg = { .depth = 2, .pct_steps = 20,
	    .max_steps = 2000 };
	struct sched_result r;
	enum sched_strategy s;
	uint64_t seed;

	for (s = SCHED_PCT; s <= SCHED_INPUT; s++) {
		for (seed = 1; seed <= 10; seed++) {
			cfg.strategy = s;
			cfg.seed = seed;
			__atomic_store_n(&work_posted, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&work_done, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&actor_polls, 0, __ATOMIC_SEQ_CST);
			CHECK_EQ(sched_run(t, 3, &cfg, &r), 0);
			CHECK_EQ(__atomic_load_n(&work_posted,
			    __ATOMIC_SEQ_CST), 5);
			/*
			 * Idle pollers wait for progress: each producer step
			 * buys each actor at most a few polls.
			 */
			CHECK(r.steps < 200);
			CHECK(__atomic_load_n(&actor_polls,
			    __ATOMIC_SEQ_CST) < 100);
		}
	}
	/* Actors alone stop at once: there is no non-actor to wait for. */
	CHECK_EQ(sched_run(&t[1], 2, &cfg, &r), 0);
}

/* Deadlock: two threads block on what nobody wakes. */
static int obj_a, obj_b;

static void
block_a_fn(void *arg)
{
	sched_point(SP_EXPLICIT, NULL, "before-a");
	sched_block(&obj_a, "wait-for-a");
}

static void
block_b_fn(void *arg)
{
	sched_block(&obj_b, "wait-for-b");
}

static void
deadlock_child(void *arg)
{
	struct sched_thread t[3] = {
		{ "alpha", block_a_fn, NULL, false },
		{ "beta", block_b_fn, NULL, false },
		{ "actor", consumer_fn, NULL, true },
	};
	struct sched_config cfg = { .strategy = SCHED_RANDOM, .seed = 3 };

	(void)sched_run(t, arg != NULL ? 3 : 2, &cfg, NULL);
}

static void
test_deadlock_detected(void)
{
	CHECK_PANICS(deadlock_child, NULL, "panic: deadlock: 2 threads blocked");
	CHECK_PANICS(deadlock_child, NULL,
	    "thread alpha: blocked at wait-for-a; holding nothing");
	CHECK_PANICS(deadlock_child, NULL,
	    "thread beta: blocked at wait-for-b; holding nothing");
	/* An idle actor cannot wake them either. */
	CHECK_PANICS(deadlock_child, &obj_a, "deadlock: 2 threads blocked");
	CHECK_PANICS(deadlock_child, &obj_a, "thread actor: idle at idle");
}

static void
spin_fn(void *arg)
{
	for (;;)
		sched_point(SP_EXPLICIT, NULL, "spin");
}

static void
hang_child(void *arg)
{
	struct sched_thread t[2] = {
		{ "spin", spin_fn, NULL, false },
		{ "w", worker_fn, &(struct worker){ 0, 3 }, false },
	};
	struct sched_config cfg = { .strategy = SCHED_PCT, .seed = 1,
	    .max_steps = 100 };

	(void)sched_run(t, 2, &cfg, NULL);
}

static void
test_step_limit(void)
{
	CHECK_PANICS(hang_child, NULL,
	    "quiesce: hang: scheduler exceeded 100 steps");
}

static void
test_bad_arguments(void)
{
	struct sched_thread t[1] = { { "x", worker_fn,
	    &(struct worker){ 0, 1 }, false } };
	struct sched_thread nofn[1] = { { "x", NULL, NULL, false } };
	struct sched_config cfg = { .strategy = SCHED_PCT };
	struct sched_config bad = cfg;
	enum sched_strategy s;

	CHECK_EQ(sched_run(t, 0, &cfg, NULL), EINVAL);
	CHECK_EQ(sched_run(t, SCHED_MAX_THREADS + 1, &cfg, NULL), EINVAL);
	CHECK_EQ(sched_run(nofn, 1, &cfg, NULL), EINVAL);
	CHECK_EQ(sched_run(t, 1, NULL, NULL), EINVAL);
	bad.depth = SCHED_MAX_DEPTH + 1;
	CHECK_EQ(sched_run(t, 1, &bad, NULL), EINVAL);
	bad = cfg;
	bad.strategy = (enum sched_strategy)17;
	CHECK_EQ(sched_run(t, 1, &bad, NULL), EINVAL);
	bad = cfg;
	bad.schedule_len = 3;
	CHECK_EQ(sched_run(t, 1, &bad, NULL), EINVAL);
	CHECK_EQ(sched_strategy_parse("random", &s), 0);
	CHECK_EQ(s, SCHED_RANDOM);
	CHECK_EQ(sched_strategy_parse("bogus", &s), -1);
	CHECK(strcmp(sched_strategy_name(SCHED_PCT), "pct") == 0);
	/* Nothing installed outside a run. */
	CHECK(!sched_controlled());
	log_reset();
	CHECK_EQ(sched_run(t, 1, &cfg, NULL), 0);
	CHECK(!sched_controlled());
}

/* FREE: real threads, no scheduler installed; actors still stop. */
static void
free_check_fn(void *arg)
{
	int *seen = arg;

	__atomic_store_n(seen, sched_controlled() ? 1 : 2, __ATOMIC_SEQ_CST);
}

static void
test_free_mode(void)
{
	int seen = 0;
	struct sched_thread t[2] = {
		{ "w", free_check_fn, &seen, false },
		{ "actor", consumer_fn, NULL, true },
	};
	struct sched_config cfg = { .strategy = SCHED_FREE };
	struct sched_result r;

	__atomic_store_n(&work_posted, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&work_done, 0, __ATOMIC_SEQ_CST);
	CHECK_EQ(sched_run(t, 2, &cfg, &r), 0);
	CHECK_EQ(seen, 2);
	CHECK(r.trace_hash == 0);
	CHECK_EQ(r.steps, 0);
}

/*
 * Workers (sched_pool.c): a run's threads execute on the OS threads of
 * the run before, unless one ended inside an epoch or holding a lock,
 * which must not carry into the next run.
 */
static long pool_tid[2];

static void
pool_tid_fn(void *arg)
{
	__atomic_store_n(&pool_tid[*(int *)arg], (long)syscall(SYS_gettid),
	    __ATOMIC_SEQ_CST);
}

static void
pool_epoch_fn(void *arg)
{
	struct epoch_tracker et;

	pool_tid_fn(arg);
	NET_EPOCH_ENTER(et);	/* and never leaves */
}

static void
run_pool(void (*fn0)(void *), long tid[2])
{
	static int ids[2] = { 0, 1 };
	struct sched_thread t[2] = {
		{ "p0", fn0, &ids[0], false },
		{ "p1", pool_tid_fn, &ids[1], false },
	};
	struct sched_config cfg = { .strategy = SCHED_PCT, .seed = 3 };

	CHECK_EQ(sched_run(t, 2, &cfg, NULL), 0);
	tid[0] = __atomic_load_n(&pool_tid[0], __ATOMIC_SEQ_CST);
	tid[1] = __atomic_load_n(&pool_tid[1], __ATOMIC_SEQ_CST);
}

static void
test_pool_reuse(void)
{
	long a[2], b[2], c[2];

	run_pool(pool_tid_fn, a);
	run_pool(pool_epoch_fn, b);
	run_pool(pool_tid_fn, c);
	CHECK(a[0] != a[1]);
	/* Clean workers are reused... */
	CHECK_EQ(b[0], a[0]);
	CHECK_EQ(b[1], a[1]);
	CHECK_EQ(c[1], b[1]);
	/* ...the one that stayed in the epoch was replaced. */
	CHECK(c[0] != b[0]);
	CHECK(!in_epoch(net_epoch_preempt));
	epoch_reset();
}

/*
 * The hand-off must be invisible to TSan: two scheduled threads that
 * touch a plain variable without a lock are a race TSan reports, and the
 * same accesses under a lock are not.
 */
#ifdef T_TSAN
static int racy;

static void
racy_fn(void *arg)
{
	int i;

	for (i = 0; i < 4; i++) {
		racy = racy + 1;
		sched_point(SP_EXPLICIT, NULL, "racy");
	}
}

static void
race_child(bool locked, enum sched_strategy s)
{
	struct sched_thread t[2] = {
		{ "r0", locked ? locked_incr_fn : racy_fn, NULL, false },
		{ "r1", locked ? locked_incr_fn : racy_fn, NULL, false },
	};
	struct sched_config cfg = { .strategy = s, .seed = 5, .depth = 2 };
	struct sched_thread warm[2] = {
		{ "w0", locked_incr_fn, NULL, false },
		{ "w1", locked_incr_fn, NULL, false },
	};

	/* On workers a run used before, as in a campaign. */
	(void)sched_run(warm, 2, &cfg, NULL);
	(void)sched_run(t, 2, &cfg, NULL);
}

/* Fork; returns the exit status and the child's stderr in buf. */
static int
run_child(bool locked, enum sched_strategy s, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	CHECK(pipe(fds) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		race_child(locked, s);
		_exit(0);
	}
	close(fds[1]);
	while (got < size - 1 &&
	    (n = read(fds[0], buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	while (read(fds[0], &(char){0}, 1) > 0)
		;
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	return (status);
}
#endif

static void
test_tsan_sees_races(void)
{
#ifdef T_TSAN
	static char buf[65536];
	enum sched_strategy s;
	int status;

	for (s = SCHED_PCT; s <= SCHED_SWITCH; s++) {
		status = run_child(false, s, buf, sizeof(buf));
		if (strstr(buf, "WARNING: ThreadSanitizer: data race") ==
		    NULL)
			fprintf(stderr, "strategy %s: no race report; "
			    "status %#x, output:\n%s\n",
			    sched_strategy_name(s), status, buf);
		CHECK(strstr(buf, "WARNING: ThreadSanitizer: data race") !=
		    NULL);
		CHECK(strstr(buf, "racy_fn") != NULL);

		status = run_child(true, s, buf, sizeof(buf));
		if (strstr(buf, "ThreadSanitizer") != NULL)
			fprintf(stderr, "%s\n", buf);
		CHECK(strstr(buf, "ThreadSanitizer") == NULL);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
#else
	printf("# skipped: the race check needs the tsan preset\n");
#endif
}

int
main(void)
{
	RUN(test_same_seed_same_schedule);
	RUN(test_different_seeds_differ);
	RUN(test_input_schedule);
	RUN(test_switch_schedule);
	RUN(test_interleaving_feedback);
	RUN(test_pct_depth);
	RUN(test_block_and_wake);
	RUN(test_yield_fairness);
	RUN(test_deadlock_detected);
	RUN(test_step_limit);
	RUN(test_bad_arguments);
	RUN(test_free_mode);
	RUN(test_pool_reuse);
	RUN(test_tsan_sees_races);
	return (t_done());
}
