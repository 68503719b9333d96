/*
 * The controlled scheduler with the shims' real locks and epoch: lock
 * hand-over, deadlock reports that name held locks, the panic hook that
 * shows every thread, epoch_wait under the scheduler, and that the same
 * seed gives the same interleaving of locked sections.
 */
#include <string.h>

#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/sched.h"
#include "shim/sched_ctl.h"
#include "tests/testlib.h"

static struct mtx m1, m2;
static int forever;

static void
locks_init(void)
{
	witness_reset();
	mtx_init(&m1, "sched-test-m1", NULL, MTX_DEF);
	mtx_init(&m2, "sched-test-m2", NULL, MTX_DEF);
}

static void
locks_fini(void)
{
	mtx_destroy(&m1);
	mtx_destroy(&m2);
}

/* alpha takes m1 and waits for what never comes; beta wants m1. */
static void
alpha_fn(void *arg)
{
	mtx_lock(&m1);
	sched_block(&forever, "wait-forever");
}

static void
beta_fn(void *arg)
{
	mtx_lock(&m1);
	mtx_unlock(&m1);
}

static void
held_lock_deadlock(void *arg)
{
	struct sched_thread t[2] = {
		{ "alpha", alpha_fn, NULL, false },
		{ "beta", beta_fn, NULL, false },
	};
	/* No bytes: the lowest id runs first, so alpha holds m1. */
	struct sched_config cfg = { .strategy = SCHED_INPUT };

	locks_init();
	(void)sched_run(t, 2, &cfg, NULL);
}

static void
test_deadlock_names_held_locks(void)
{
	CHECK_PANICS(held_lock_deadlock, NULL,
	    "panic: deadlock: 2 threads blocked");
	CHECK_PANICS(held_lock_deadlock, NULL,
	    "thread alpha: blocked at wait-forever; holding sched-test-m1");
	CHECK_PANICS(held_lock_deadlock, NULL,
	    "thread beta: blocked at sched-test-m1; holding nothing");
}

/*
 * ABBA: witness sees the second order before the cycle closes, so the
 * report is a lock order reversal, and the hook shows both threads.
 */
static void
ab_fn(void *arg)
{
	mtx_lock(&m1);
	sched_point(SP_EXPLICIT, NULL, "between");
	mtx_lock(&m2);
	mtx_unlock(&m2);
	mtx_unlock(&m1);
}

static void
ba_fn(void *arg)
{
	mtx_lock(&m2);
	sched_point(SP_EXPLICIT, NULL, "between");
	mtx_lock(&m1);
	mtx_unlock(&m1);
	mtx_unlock(&m2);
}

static void
abba(void *arg)
{
	struct sched_thread t[2] = {
		{ "ab", ab_fn, NULL, false },
		{ "ba", ba_fn, NULL, false },
	};
	/* ab takes m1, ba takes m2, then each wants the other's. */
	static const uint8_t bytes[] = { 0, 0, 0, 1, 1, 1, 0, 0 };
	struct sched_config cfg = { .strategy = SCHED_INPUT,
	    .schedule = bytes, .schedule_len = sizeof(bytes) };

	locks_init();
	(void)sched_run(t, 2, &cfg, NULL);
}

static void
test_abba(void)
{
	CHECK_PANICS(abba, NULL, "panic: witness: lock order reversal");
	CHECK_PANICS(abba, NULL, "thread ab: ");
	CHECK_PANICS(abba, NULL, "thread ba: ");
	CHECK_PANICS(abba, NULL, "holding sched-test-m");
}

/* Any panic during a run lists the threads, e.g. a KASSERT. */
static void
kassert_fn(void *arg)
{
	mtx_lock(&m2);
	sched_point(SP_EXPLICIT, NULL, "about-to-fail");
	KASSERT(arg == NULL, ("sched test: deliberate failure"));
	mtx_unlock(&m2);
}

static void
kassert_run(void *arg)
{
	struct sched_thread t[2] = {
		{ "waiter", alpha_fn, NULL, false },
		{ "failer", kassert_fn, &forever, false },
	};
	struct sched_config cfg = { .strategy = SCHED_INPUT };

	locks_init();
	(void)sched_run(t, 2, &cfg, NULL);
}

static void
test_panic_hook_lists_threads(void)
{
	CHECK_PANICS(kassert_run, NULL,
	    "panic: sched test: deliberate failure");
	CHECK_PANICS(kassert_run, NULL,
	    "thread waiter: blocked at wait-forever; holding sched-test-m1");
	CHECK_PANICS(kassert_run, NULL,
	    "thread failer: running at about-to-fail; holding sched-test-m2");
}

/* Locked counters under every strategy: no lost update, same result. */
static int shared;		/* protected by m1 */
static int order[64], norder;	/* protected by m1 */

static void
incr_fn(void *arg)
{
	int i, v, id = *(int *)arg;

	for (i = 0; i < 8; i++) {
		mtx_lock(&m1);
		v = shared;
		sched_point(SP_EXPLICIT, NULL, "inside");
		shared = v + 1;
		if (norder < 64)
			order[norder++] = id;
		mtx_unlock(&m1);
	}
}

static uint64_t
run_incr(enum sched_strategy s, uint64_t seed, int *out_order)
{
	static int ids[3] = { 0, 1, 2 };
	struct sched_thread t[3] = {
		{ "i0", incr_fn, &ids[0], false },
		{ "i1", incr_fn, &ids[1], false },
		{ "i2", incr_fn, &ids[2], false },
	};
	struct sched_config cfg = { .strategy = s, .seed = seed, .depth = 3,
	    .pct_steps = 80 };
	struct sched_result r;

	locks_init();
	shared = 0;
	norder = 0;
	CHECK_EQ(sched_run(t, 3, &cfg, &r), 0);
	CHECK_EQ(shared, 24);
	CHECK_EQ(norder, 24);
	CHECK_EQ(witness_held_count(), 0);
	if (out_order != NULL)
		memcpy(out_order, order, sizeof(order));
	locks_fini();
	return (r.trace_hash);
}

static void
test_locked_sections_deterministic(void)
{
	int a[64], b[64];
	uint64_t seed, h1, h2;
	int i, differ = 0;

	for (seed = 1; seed <= 6; seed++) {
		h1 = run_incr(SCHED_PCT, seed, a);
		h2 = run_incr(SCHED_PCT, seed, b);
		CHECK(h1 == h2);
		for (i = 0; i < 24; i++)
			CHECK_EQ(a[i], b[i]);
		h1 = run_incr(SCHED_RANDOM, seed, a);
		h2 = run_incr(SCHED_RANDOM, seed, b);
		CHECK(h1 == h2);
		for (i = 0; i < 24; i++)
			CHECK_EQ(a[i], b[i]);
	}
	/* Random seeds do interleave the sections differently. */
	(void)run_incr(SCHED_RANDOM, 1, a);
	for (seed = 2; seed <= 6 && !differ; seed++) {
		(void)run_incr(SCHED_RANDOM, seed, b);
		differ = memcmp(a, b, 24 * sizeof(int)) != 0;
	}
	CHECK(differ);
	(void)run_incr(SCHED_FREE, 0, NULL);
}

/* epoch_wait blocks under the scheduler until the reader leaves. */
static int reader_left;		/* atomic */

static void
reader_fn(void *arg)
{
	struct epoch_tracker et;

	NET_EPOCH_ENTER(et);
	sched_point(SP_EXPLICIT, NULL, "reading");
	sched_point(SP_EXPLICIT, NULL, "still-reading");
	__atomic_store_n(&reader_left, 1, __ATOMIC_SEQ_CST);
	NET_EPOCH_EXIT(et);
}

static void
waiter_fn(void *arg)
{
	NET_EPOCH_WAIT();
	/* Whoever entered before the wait has left. */
	CHECK_EQ(__atomic_load_n(&reader_left, __ATOMIC_SEQ_CST), 1);
}

static void
test_epoch_wait_blocks(void)
{
	struct sched_thread t[2] = {
		{ "reader", reader_fn, NULL, false },
		{ "waiter", waiter_fn, NULL, false },
	};
	/*
	 * The reader enters (past the point before the count goes up), then
	 * the waiter runs and must block until the reader has left.
	 */
	static const uint8_t bytes[] = { 0, 0, 1, 1 };
	struct sched_config cfg = { .strategy = SCHED_INPUT,
	    .schedule = bytes, .schedule_len = sizeof(bytes) };
	struct sched_result r;

	epoch_reset();
	__atomic_store_n(&reader_left, 0, __ATOMIC_SEQ_CST);
	CHECK_EQ(sched_run(t, 2, &cfg, &r), 0);
	CHECK_EQ(epoch_readers(), 0);
	CHECK(r.switches >= 2);
}

int
main(void)
{
	RUN(test_deadlock_names_held_locks);
	RUN(test_abba);
	RUN(test_panic_hook_lists_threads);
	RUN(test_locked_sections_deterministic);
	RUN(test_epoch_wait_blocks);
	return (t_done());
}
