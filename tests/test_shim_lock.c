/* Locks and WITNESS: order, recursion, held-on-return, upgrade; refcount. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/testlib.h"
#include "shim/lock.h"
#include "shim/refcount.h"

static void
test_mtx_basics(void)
{
	struct mtx m;
	int live = witness_live_locks();

	witness_reset();
	mtx_init(&m, "basic", NULL, MTX_DEF);
	CHECK_EQ(witness_live_locks(), live + 1);
	CHECK(!mtx_owned(&m));
	mtx_assert(&m, MA_NOTOWNED);
	mtx_lock(&m);
	CHECK(mtx_owned(&m));
	mtx_assert(&m, MA_OWNED);
	CHECK_EQ(witness_held_count(), 1);
	mtx_unlock(&m);
	CHECK_EQ(witness_held_count(), 0);
	CHECK(mtx_trylock(&m));
	CHECK(!mtx_trylock(&m));	/* own non-recursive: try fails */
	mtx_unlock(&m);
	mtx_destroy(&m);
	CHECK_EQ(witness_live_locks(), live);
}

static void
test_mtx_recurse(void)
{
	struct mtx m;

	witness_reset();
	mtx_init(&m, "recursive", NULL, MTX_DEF | MTX_RECURSE);
	mtx_lock(&m);
	mtx_lock(&m);
	CHECK_EQ(m.mtx_recurse, 1);
	CHECK_EQ(witness_held_count(), 1);
	mtx_unlock(&m);
	CHECK(mtx_owned(&m));
	mtx_unlock(&m);
	CHECK(!mtx_owned(&m));
	mtx_destroy(&m);
}

static void
recurse_nonrecursive(void *arg)
{
	struct mtx m;

	mtx_init(&m, "plain", NULL, MTX_DEF);
	mtx_lock(&m);
	mtx_lock(&m);
}

static void
test_recursion_panics(void)
{
	CHECK_PANICS(recurse_nonrecursive, NULL,
	    "witness: recursed on non-recursive lock plain");
}

static struct mtx lor_a, lor_b;

static void
lor_init(void)
{
	witness_reset();
	mtx_init(&lor_a, "lock A", NULL, MTX_DEF);
	mtx_init(&lor_b, "lock B", NULL, MTX_DEF);
}

static void
lor_fini(void)
{
	mtx_destroy(&lor_a);
	mtx_destroy(&lor_b);
}

static void
lock_reversed(void *arg)
{
	lor_init();
	mtx_lock(&lor_a);
	mtx_lock(&lor_b);
	mtx_unlock(&lor_b);
	mtx_unlock(&lor_a);
	mtx_lock(&lor_b);
	mtx_lock(&lor_a);
}

static void
test_lock_order_reversal_panics(void)
{
	CHECK_PANICS(lock_reversed, NULL, "witness: lock order reversal: "
	    "lock B -> lock A (established lock A -> lock B)");
}

static void
test_consistent_order_is_fine(void)
{
	int i;

	lor_init();
	for (i = 0; i < 3; i++) {
		mtx_lock(&lor_a);
		mtx_lock(&lor_b);
		/* Releasing out of order is allowed. */
		mtx_unlock(&lor_a);
		mtx_unlock(&lor_b);
	}
	/* Each one alone says nothing about order. */
	mtx_lock(&lor_b);
	mtx_unlock(&lor_b);
	/* witness_reset forgets orders between inputs. */
	witness_reset();
	mtx_lock(&lor_b);
	mtx_lock(&lor_a);
	mtx_unlock(&lor_a);
	mtx_unlock(&lor_b);
	lor_fini();
}

/* Orders are per name: a second pair of locks with the same names. */
static void
lock_reversed_by_name(void *arg)
{
	struct mtx a2, b2;

	lor_init();
	mtx_init(&a2, "lock A", NULL, MTX_DEF);
	mtx_init(&b2, "lock B", NULL, MTX_DEF);
	mtx_lock(&lor_a);
	mtx_lock(&lor_b);
	mtx_unlock(&lor_b);
	mtx_unlock(&lor_a);
	mtx_lock(&b2);
	mtx_lock(&a2);
}

static void
test_order_is_keyed_by_name(void)
{
	CHECK_PANICS(lock_reversed_by_name, NULL,
	    "witness: lock order reversal");
}

/* A held read lock counts for order too. */
static void
lock_reversed_rw(void *arg)
{
	struct rwlock rw;
	struct mtx m;

	witness_reset();
	rw_init(&rw, "inp");
	mtx_init(&m, "ifnet lock", NULL, MTX_DEF);
	rw_rlock(&rw);
	mtx_lock(&m);
	mtx_unlock(&m);
	rw_runlock(&rw);
	mtx_lock(&m);
	rw_wlock(&rw);
}

static void
test_read_lock_counts_for_order(void)
{
	CHECK_PANICS(lock_reversed_rw, NULL, "witness: lock order reversal: "
	    "ifnet lock -> inp (established inp -> ifnet lock)");
}

static void
held_on_return(void *arg)
{
	struct mtx m;

	witness_reset();
	mtx_init(&m, "leaky", NULL, MTX_DEF);
	mtx_lock(&m);
	witness_assert_unlocked("ip_output");
}

static void
test_lock_held_on_return_panics(void)
{
	CHECK_PANICS(held_on_return, NULL,
	    "witness: lock held on return from ip_output: leaky");
}

static void
unlock_not_held(void *arg)
{
	struct mtx m;

	mtx_init(&m, "never locked", NULL, MTX_DEF);
	mtx_unlock(&m);
}

static void
runlock_of_wlock(void *arg)
{
	struct rwlock rw;

	rw_init(&rw, "rwl");
	rw_wlock(&rw);
	rw_runlock(&rw);
}

static void
destroy_locked_rw(void *arg)
{
	struct rwlock rw;

	rw_init(&rw, "busy rw");
	rw_rlock(&rw);
	rw_destroy(&rw);
}

static void
use_uninitialized(void *arg)
{
	struct mtx m;

	memset(&m, 0, sizeof(m));
	mtx_lock(&m);
}

static void
test_misuse_panics(void)
{
	CHECK_PANICS(unlock_not_held, NULL,
	    "witness: mtx_unlock of never locked, not held");
	CHECK_PANICS(runlock_of_wlock, NULL,
	    "witness: rw_runlock of rwl, which is exclusively locked");
	CHECK_PANICS(destroy_locked_rw, NULL,
	    "witness: rw_destroy of busy rw while it is locked");
	CHECK_PANICS(use_uninitialized, NULL,
	    "witness: mtx_lock of uninitialized");
}

static void
inp_wlock_assert_on_rlock(void *arg)
{
	struct rwlock rw;

	rw_init(&rw, "inp");
	rw_rlock(&rw);
	rw_assert(&rw, RA_WLOCKED);
}

static void
inp_lock_assert_unlocked(void *arg)
{
	struct rwlock rw;

	rw_init(&rw, "inp");
	rw_assert(&rw, RA_LOCKED);
}

static void
mtx_assert_not_owned(void *arg)
{
	struct mtx m;

	mtx_init(&m, "sc mtx", NULL, MTX_DEF);
	mtx_assert(&m, MA_OWNED);
}

static void
test_asserts(void)
{
	struct rwlock rw;
	struct sx sx;

	witness_reset();
	rw_init(&rw, "inp");
	rw_assert(&rw, RA_UNLOCKED);
	rw_rlock(&rw);
	rw_assert(&rw, RA_LOCKED);
	rw_assert(&rw, RA_RLOCKED);
	rw_runlock(&rw);
	rw_wlock(&rw);
	rw_assert(&rw, RA_LOCKED);
	rw_assert(&rw, RA_WLOCKED);
	CHECK(rw_wowned(&rw));
	rw_wunlock(&rw);
	CHECK(!rw_wowned(&rw));
	rw_destroy(&rw);
	sx_init(&sx, "sx");
	sx_assert(&sx, SA_UNLOCKED);
	sx_slock(&sx);
	sx_assert(&sx, SA_SLOCKED);
	CHECK(!sx_xlocked(&sx));
	sx_sunlock(&sx);
	sx_xlock(&sx);
	sx_assert(&sx, SA_XLOCKED);
	CHECK(sx_xlocked(&sx));
	sx_xunlock(&sx);
	sx_destroy(&sx);

	CHECK_PANICS(inp_wlock_assert_on_rlock, NULL,
	    "witness: inp not wlocked at inp_wlock_assert_on_rlock");
	CHECK_PANICS(inp_lock_assert_unlocked, NULL,
	    "witness: inp not locked at inp_lock_assert_unlocked");
	CHECK_PANICS(mtx_assert_not_owned, NULL,
	    "witness: sc mtx not owned at mtx_assert_not_owned");
}

static void
sx_under_mutex(void *arg)
{
	struct mtx m;
	struct sx sx;

	witness_reset();
	mtx_init(&m, "non-sleepable", NULL, MTX_DEF);
	sx_init(&sx, "sleepable");
	mtx_lock(&m);
	sx_xlock(&sx);
}

static void
test_sx_sleepable(void)
{
	struct mtx m;
	struct sx sx;

	witness_reset();
	mtx_init(&m, "non-sleepable", NULL, MTX_DEF);
	sx_init(&sx, "sleepable");
	/* sx first, then a mutex: fine, and sleeping under sx is fine. */
	sx_xlock(&sx);
	witness_check_sleep("test");
	mtx_lock(&m);
	mtx_unlock(&m);
	sx_xunlock(&sx);
	mtx_destroy(&m);
	sx_destroy(&sx);
	CHECK_PANICS(sx_under_mutex, NULL, "witness: sleepable lock "
	    "sleepable acquired with non-sleepable non-sleepable held");
}

static void
sleep_with_rw(void *arg)
{
	struct rwlock rw;

	witness_reset();
	rw_init(&rw, "inp");
	rw_rlock(&rw);
	witness_check_sleep("tsleep");
}

static void
test_sleep_with_rwlock_panics(void)
{
	CHECK_PANICS(sleep_with_rw, NULL, "witness: sleeping (tsleep) with "
	    "non-sleepable lock inp held");
}

/*
 * rw_try_upgrade: a second reader is a real thread, so the reader count is
 * the lock's, not witness's.
 */
struct reader {
	struct rwlock	*rw;
	int		 holding;
	int		 release;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;

	rw_rlock(r->rw);
	__atomic_store_n(&r->holding, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->release, __ATOMIC_ACQUIRE))
		sched_yield();
	rw_runlock(r->rw);
	return (NULL);
}

struct writer {
	struct rwlock	*rw;
	int		 started;
	int		 done;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	__atomic_store_n(&w->started, 1, __ATOMIC_SEQ_CST);
	rw_wlock(w->rw);
	rw_wunlock(w->rw);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return (NULL);
}

static void
test_try_upgrade(void)
{
	struct rwlock rw;
	struct reader r = { &rw, 0, 0 };
	struct writer w = { &rw, 0, 0 };
	pthread_t td;

	witness_reset();
	rw_init(&rw, "inp");
	/* Sole reader: succeeds. */
	rw_rlock(&rw);
	CHECK(rw_try_upgrade(&rw));
	CHECK(rw_wowned(&rw));
	rw_downgrade(&rw);
	CHECK(!rw_wowned(&rw));
	rw_assert(&rw, RA_RLOCKED);

	/* Two readers: fails, and we keep our read lock. */
	CHECK_EQ(pthread_create(&td, NULL, reader_main, &r), 0);
	while (!__atomic_load_n(&r.holding, __ATOMIC_ACQUIRE))
		sched_yield();
	CHECK(!rw_try_upgrade(&rw));
	rw_assert(&rw, RA_RLOCKED);
	CHECK(!rw_wowned(&rw));
	__atomic_store_n(&r.release, 1, __ATOMIC_RELEASE);
	CHECK_EQ(pthread_join(td, NULL), 0);

	/* The other reader left: now we are alone again. */
	CHECK(rw_try_upgrade(&rw));
	rw_wunlock(&rw);
	CHECK_EQ(witness_held_count(), 0);

	/* A writer asleep on the lock is not a reader: still ours. */
	rw_rlock(&rw);
	w.started = 0;
	CHECK_EQ(pthread_create(&td, NULL, writer_main, &w), 0);
	while (!__atomic_load_n(&w.started, __ATOMIC_SEQ_CST))
		sched_yield();
	usleep(2000);		/* long enough to be asleep on the lock */
	CHECK(rw_try_upgrade(&rw));
	rw_wunlock(&rw);
	CHECK_EQ(pthread_join(td, NULL), 0);
	CHECK_EQ(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 1);
	rw_destroy(&rw);
}

static void
upgrade_unlocked(void *arg)
{
	struct rwlock rw;

	rw_init(&rw, "inp");
	rw_try_upgrade(&rw);
}

static void
test_upgrade_needs_read_lock(void)
{
	CHECK_PANICS(upgrade_unlocked, NULL,
	    "witness: rw_try_upgrade of inp, not read-locked");
}

/* Mutual exclusion across real threads, and TSan must see it. */
struct shared {
	struct mtx	 m;
	struct rwlock	 rw;
	long		 counter;
	long		 rw_counter;
};

#define	CONTEND_LOOPS	2000

static void *
contender_main(void *arg)
{
	struct shared *s = arg;
	long seen;
	int i;

	for (i = 0; i < CONTEND_LOOPS; i++) {
		mtx_lock(&s->m);
		s->counter++;
		mtx_unlock(&s->m);
		rw_wlock(&s->rw);
		s->rw_counter++;
		rw_wunlock(&s->rw);
		rw_rlock(&s->rw);
		seen = s->rw_counter;
		rw_runlock(&s->rw);
		(void)seen;
	}
	return (NULL);
}

static void
test_mutual_exclusion_across_threads(void)
{
	struct shared s = { .counter = 0 };
	pthread_t td[2];
	int i;

	witness_reset();
	mtx_init(&s.m, "counter mtx", NULL, MTX_DEF);
	rw_init(&s.rw, "counter rw");
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&td[i], NULL, contender_main, &s), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(td[i], NULL), 0);
	CHECK_EQ(s.counter, 2 * CONTEND_LOOPS);
	CHECK_EQ(s.rw_counter, 2 * CONTEND_LOOPS);
	mtx_destroy(&s.m);
	rw_destroy(&s.rw);
}

/*
 * A release that wakes a sleeping waiter hands it the lock, and the
 * waiter may free the lock at once: the release must not touch the lock
 * after that (ASan sees a use after free, TSan a race with free()).
 */
struct handoff {
	struct mtx	*m;
	int		 started;
};

static void *
freer_main(void *arg)
{
	struct handoff *h = arg;

	__atomic_store_n(&h->started, 1, __ATOMIC_SEQ_CST);
	mtx_lock(h->m);		/* sleeps: the main thread holds it */
	mtx_unlock(h->m);
	mtx_destroy(h->m);
	free(h->m);
	return (NULL);
}

static void
test_sleeper_frees_lock(void)
{
	struct handoff h;
	pthread_t td;
	int i;

	witness_reset();
	for (i = 0; i < 20; i++) {
		h.m = malloc(sizeof(*h.m));
		CHECK(h.m != NULL);
		mtx_init(h.m, "handoff mtx", NULL, MTX_DEF);
		h.started = 0;
		mtx_lock(h.m);
		CHECK_EQ(pthread_create(&td, NULL, freer_main, &h), 0);
		while (!__atomic_load_n(&h.started, __ATOMIC_SEQ_CST))
			sched_yield();
		usleep(2000);	/* long enough to be asleep on the lock */
		mtx_unlock(h.m);
		CHECK_EQ(pthread_join(td, NULL), 0);
	}
}

static void
test_held_names(void)
{
	struct mtx a, b;
	const char *names[4];

	witness_reset();
	mtx_init(&a, "first", NULL, MTX_DEF);
	mtx_init(&b, "second", NULL, MTX_DEF);
	mtx_lock(&a);
	mtx_lock(&b);
	CHECK_EQ(witness_held_names(names, 4), 2);
	CHECK(strcmp(names[0], "first") == 0);
	CHECK(strcmp(names[1], "second") == 0);
	CHECK_EQ(witness_held_names(names, 1), 1);
	mtx_unlock(&b);
	mtx_unlock(&a);
	mtx_destroy(&a);
	mtx_destroy(&b);
}

/*
 * The scheduler seam: under a controlled scheduler a contended acquire
 * must hand over with block() (never sleep on the condvar), every release
 * must wake(), and lock operations are preemption points.  The fake
 * scheduler here lets real threads run and only counts.
 */
static int n_point[SP_NKINDS], n_block, n_wake;

static void
fake_point(enum sched_point_kind kind, const void *obj, const char *what)
{
	__atomic_fetch_add(&n_point[kind], 1, __ATOMIC_RELAXED);
}

static void
fake_block(const void *obj, const char *what)
{
	__atomic_fetch_add(&n_block, 1, __ATOMIC_RELAXED);
	sched_yield();
}

static void
fake_wake(const void *obj)
{
	__atomic_fetch_add(&n_wake, 1, __ATOMIC_RELAXED);
}

static const struct sched_ops fake_ops = {
	.point = fake_point,
	.block = fake_block,
	.wake = fake_wake,
};

struct seam {
	struct mtx	 m;
	int		 got;
};

static void *
seam_main(void *arg)
{
	struct seam *s = arg;

	mtx_lock(&s->m);
	s->got = 1;
	mtx_unlock(&s->m);
	return (NULL);
}

static void
test_sched_seam(void)
{
	struct seam s = { .got = 0 };
	pthread_t td;

	witness_reset();
	mtx_init(&s.m, "seam", NULL, MTX_DEF);
	sched_active_ops = &fake_ops;
	CHECK(sched_controlled());
	mtx_lock(&s.m);
	CHECK_EQ(pthread_create(&td, NULL, seam_main, &s), 0);
	/* The other thread is parked in block(), not in a condvar. */
	while (__atomic_load_n(&n_block, __ATOMIC_RELAXED) == 0)
		sched_yield();
	CHECK_EQ(__atomic_load_n(&n_wake, __ATOMIC_RELAXED), 0);
	mtx_unlock(&s.m);
	CHECK(__atomic_load_n(&n_wake, __ATOMIC_RELAXED) >= 1);
	CHECK_EQ(pthread_join(td, NULL), 0);
	sched_active_ops = NULL;
	CHECK_EQ(s.got, 1);
	CHECK(n_point[SP_LOCK] >= 2);
	CHECK(n_point[SP_UNLOCK] >= 2);
	mtx_destroy(&s.m);
}

static void
refcount_underflow(void *arg)
{
	volatile u_int c;

	refcount_init(&c, 1);
	refcount_release(&c);
	refcount_release(&c);
}

static void
refcount_acquire_dead(void *arg)
{
	volatile u_int c;

	refcount_init(&c, 0);
	refcount_acquire(&c);
}

static void
test_refcount(void)
{
	volatile u_int c;

	refcount_init(&c, 1);
	refcount_acquire(&c);
	CHECK_EQ(refcount_load(&c), 2);
	CHECK(!refcount_release(&c));
	CHECK(refcount_release(&c));
	CHECK_EQ(refcount_load(&c), 0);
	CHECK_PANICS(refcount_underflow, NULL, "refcount: underflow");
	CHECK_PANICS(refcount_acquire_dead, NULL,
	    "refcount: acquire on a dead or saturated count");
}

int
main(void)
{
	RUN(test_mtx_basics);
	RUN(test_mtx_recurse);
	RUN(test_recursion_panics);
	RUN(test_lock_order_reversal_panics);
	RUN(test_consistent_order_is_fine);
	RUN(test_order_is_keyed_by_name);
	RUN(test_read_lock_counts_for_order);
	RUN(test_lock_held_on_return_panics);
	RUN(test_misuse_panics);
	RUN(test_asserts);
	RUN(test_sx_sleepable);
	RUN(test_sleep_with_rwlock_panics);
	RUN(test_try_upgrade);
	RUN(test_upgrade_needs_read_lock);
	RUN(test_mutual_exclusion_across_threads);
	RUN(test_sleeper_frees_lock);
	RUN(test_held_names);
	RUN(test_sched_seam);
	RUN(test_refcount);
	return (t_done());
}
