/* epoch(9) shim: sections, deferred callbacks, waits, sleep checks. */
#include <pthread.h>
#include <sched.h>

#include "tests/testlib.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"

struct obj {
	struct epoch_context	 ctx;	/* first: the callback's argument */
	int			 id;
};

static int order[16];
static int norder;

static void
record_cb(epoch_context_t ctx)
{
	struct obj *o = (struct obj *)ctx;

	order[norder++] = o->id;
}

static void
fresh(void)
{
	epoch_reset();
	witness_reset();
	norder = 0;
}

static void
test_enter_exit(void)
{
	struct epoch_tracker et, et2;

	fresh();
	CHECK(!in_epoch(net_epoch_preempt));
	CHECK_EQ(epoch_readers(), 0);
	NET_EPOCH_ENTER(et);
	CHECK(in_epoch(net_epoch_preempt));
	NET_EPOCH_ASSERT();
	CHECK_EQ(epoch_readers(), 1);
	/* Nested sections count one reader thread. */
	NET_EPOCH_ENTER(et2);
	CHECK_EQ(epoch_readers(), 1);
	NET_EPOCH_EXIT(et2);
	CHECK(in_epoch(net_epoch_preempt));
	NET_EPOCH_EXIT(et);
	CHECK(!in_epoch(net_epoch_preempt));
	CHECK_EQ(epoch_readers(), 0);
}

static void
exit_without_enter(void *arg)
{
	struct epoch_tracker et = { 0 };

	NET_EPOCH_EXIT(et);
}

static void
assert_outside(void *arg)
{
	NET_EPOCH_ASSERT();
}

static void
test_exit_without_enter_panics(void)
{
	CHECK_PANICS(exit_without_enter, NULL, "epoch: exit without enter");
	CHECK_PANICS(assert_outside, NULL, "epoch: not in the net epoch");
}

static void
sleep_in_epoch(void *arg)
{
	struct epoch_tracker et;

	NET_EPOCH_ENTER(et);
	witness_check_sleep("test sleep");
}

static void
waitok_in_epoch(void *arg)
{
	struct epoch_tracker et;
	void *p;

	NET_EPOCH_ENTER(et);
	p = malloc(8, M_TEMP, M_WAITOK);
	free(p, M_TEMP);
}

static void
wait_in_epoch(void *arg)
{
	struct epoch_tracker et;

	NET_EPOCH_ENTER(et);
	NET_EPOCH_WAIT();
}

static void
test_sleeping_inside_epoch_panics(void)
{
	CHECK_PANICS(sleep_in_epoch, NULL,
	    "witness: sleeping (test sleep) inside an epoch section");
	CHECK_PANICS(waitok_in_epoch, NULL,
	    "witness: sleeping (malloc(M_WAITOK)) inside an epoch section");
	CHECK_PANICS(wait_in_epoch, NULL,
	    "witness: sleeping (epoch_wait) inside an epoch section");
}

static void
test_callbacks_run_in_order_after_readers(void)
{
	struct epoch_tracker et;
	struct obj o[3];
	int i;

	fresh();
	NET_EPOCH_ENTER(et);
	for (i = 0; i < 3; i++) {
		o[i].id = i + 1;
		NET_EPOCH_CALL(record_cb, &o[i].ctx);
	}
	CHECK_EQ(epoch_pending(), 3);
	/* Our own section is still open: nothing may run. */
	CHECK_EQ(epoch_drain_callbacks(), 0);
	CHECK_EQ(norder, 0);
	NET_EPOCH_EXIT(et);
	CHECK_EQ(epoch_drain_callbacks(), 3);
	CHECK_EQ(epoch_pending(), 0);
	CHECK_EQ(norder, 3);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 2);
	CHECK_EQ(order[2], 3);
	CHECK_EQ(epoch_drain_callbacks(), 0);
}

/* A callback that queues another: the new one waits for the next drain. */
static struct obj chained;

static void
chain_cb(epoch_context_t ctx)
{
	record_cb(ctx);
	chained.id = 99;
	NET_EPOCH_CALL(record_cb, &chained.ctx);
}

static void
test_callback_queued_by_callback_waits(void)
{
	struct obj first = { .id = 7 };

	fresh();
	NET_EPOCH_CALL(chain_cb, &first.ctx);
	CHECK_EQ(epoch_drain_callbacks(), 1);
	CHECK_EQ(epoch_pending(), 1);
	CHECK_EQ(epoch_drain_callbacks(), 1);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 7);
	CHECK_EQ(order[1], 99);
}

/* A reader on another thread holds callbacks back until it leaves. */
struct epoch_reader {
	int	inside;
	int	leave;
	int	done;		/* written inside the section */
	int	*victim;	/* read inside the section */
	int	seen;
};

static void *
epoch_reader_main(void *arg)
{
	struct epoch_reader *r = arg;
	struct epoch_tracker et;
	int i;

	NET_EPOCH_ENTER(et);
	__atomic_store_n(&r->inside, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->leave, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < 100; i++)
		sched_yield();
	r->seen = *r->victim;
	r->done = 1;
	NET_EPOCH_EXIT(et);
	return (NULL);
}

struct victim {
	struct epoch_context	 ctx;
	int			 value;
};

static void
free_victim_cb(epoch_context_t ctx)
{
	free(ctx, M_TEMP);
}

static void
test_reader_thread_holds_callbacks(void)
{
	struct epoch_reader r = { 0 };
	struct victim *v;
	pthread_t td;

	fresh();
	v = malloc(sizeof(*v), M_TEMP, M_WAITOK | M_ZERO);
	v->value = 42;
	r.victim = &v->value;
	CHECK_EQ(pthread_create(&td, NULL, epoch_reader_main, &r), 0);
	while (!__atomic_load_n(&r.inside, __ATOMIC_ACQUIRE))
		sched_yield();
	CHECK_EQ(epoch_readers(), 1);
	NET_EPOCH_CALL(free_victim_cb, &v->ctx);
	/* The reader may still dereference v: the free must wait. */
	CHECK_EQ(epoch_drain_callbacks(), 0);
	CHECK_EQ(epoch_pending(), 1);
	__atomic_store_n(&r.leave, 1, __ATOMIC_RELEASE);
	/* epoch_wait returns only once the reader has left. */
	NET_EPOCH_WAIT();
	CHECK_EQ(r.done, 1);
	CHECK_EQ(r.seen, 42);
	CHECK_EQ(epoch_drain_callbacks(), 1);
	CHECK_EQ(pthread_join(td, NULL), 0);
	CHECK_EQ(epoch_pending(), 0);
}

/* Under a controlled scheduler epoch_wait blocks and the last exit wakes. */
static int n_epoch_points, n_block, n_wake;

static void
fake_point(enum sched_point_kind kind, const void *obj, const char *what)
{
	if (kind == SP_EPOCH)
		__atomic_fetch_add(&n_epoch_points, 1, __ATOMIC_RELAXED);
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

static int seam_inside, seam_left;

static void *
seam_reader_main(void *arg)
{
	struct epoch_tracker et;

	NET_EPOCH_ENTER(et);
	__atomic_store_n(&seam_inside, 1, __ATOMIC_RELEASE);
	/* Leave only once the waiter is parked in block(). */
	while (__atomic_load_n(&n_block, __ATOMIC_RELAXED) == 0)
		sched_yield();
	seam_left = 1;
	NET_EPOCH_EXIT(et);
	return (NULL);
}

static void
test_wait_under_scheduler(void)
{
	pthread_t td;

	fresh();
	sched_active_ops = &fake_ops;
	CHECK_EQ(pthread_create(&td, NULL, seam_reader_main, NULL), 0);
	while (!__atomic_load_n(&seam_inside, __ATOMIC_ACQUIRE))
		sched_yield();
	NET_EPOCH_WAIT();
	CHECK_EQ(seam_left, 1);
	/* The wake follows the decrement: look once the reader is gone. */
	CHECK_EQ(pthread_join(td, NULL), 0);
	CHECK(__atomic_load_n(&n_wake, __ATOMIC_RELAXED) >= 1);
	sched_active_ops = NULL;
	CHECK_EQ(n_epoch_points, 2);
}

static void
test_wait_sequential_returns(void)
{
	fresh();
	NET_EPOCH_WAIT();
	CHECK_EQ(epoch_readers(), 0);
}

int
main(void)
{
	RUN(test_enter_exit);
	RUN(test_exit_without_enter_panics);
	RUN(test_sleeping_inside_epoch_panics);
	RUN(test_callbacks_run_in_order_after_readers);
	RUN(test_callback_queued_by_callback_waits);
	RUN(test_reader_thread_holds_callbacks);
	RUN(test_wait_sequential_returns);
	RUN(test_wait_under_scheduler);
	return (t_done());
}
