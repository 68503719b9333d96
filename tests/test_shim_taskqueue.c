/* taskqueue(9) shim: coalescing, order, rounds, drains, cancel. */
#include <pthread.h>

#include "tests/testlib.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/taskqueue.h"

struct tctx {
	struct task	 task;
	int		 id;
	int		 runs;
	int		 last_pending;
	int		 pending_seen_in_run;
	int		 requeue;	/* times to requeue itself */
	struct taskqueue *tq;
};

static int order[32];
static int norder;

static void
task_fn(void *arg, int pending)
{
	struct tctx *t = arg;

	t->runs++;
	t->last_pending = pending;
	t->pending_seen_in_run = t->task.ta_pending;
	if (norder < 32)
		order[norder++] = t->id;
	if (t->requeue > 0) {
		t->requeue--;
		taskqueue_enqueue(t->tq, &t->task);
	}
}

static void
tctx_init(struct tctx *t, struct taskqueue *tq, int id)
{
	memset(t, 0, sizeof(*t));
	TASK_INIT(&t->task, 0, task_fn, t);
	t->id = id;
	t->tq = tq;
}

static struct taskqueue *
fresh(void)
{
	struct taskqueue *tq;

	taskqueue_reset();
	witness_reset();
	norder = 0;
	tq = taskqueue_create("test tq", M_WAITOK);
	CHECK(tq != NULL);
	return (tq);
}

static void
test_pending_coalesces(void)
{
	struct taskqueue *tq = fresh();
	struct tctx t;

	tctx_init(&t, tq, 1);
	taskqueue_enqueue(tq, &t.task);
	taskqueue_enqueue(tq, &t.task);
	taskqueue_enqueue(tq, &t.task);
	CHECK_EQ(taskqueue_pending(tq), 1);
	CHECK_EQ(t.task.ta_pending, 3);
	CHECK_EQ(taskqueue_run_one(tq), 1);
	CHECK_EQ(t.runs, 1);
	CHECK_EQ(t.last_pending, 3);
	/* The count was handed over and cleared before the call. */
	CHECK_EQ(t.pending_seen_in_run, 0);
	CHECK_EQ(t.task.ta_pending, 0);
	CHECK_EQ(taskqueue_run_one(tq), 0);
	CHECK_EQ(taskqueue_pending(tq), 0);
	taskqueue_free(tq);
}

static void
test_fifo_order(void)
{
	struct taskqueue *tq = fresh();
	struct tctx t[4];
	int i;

	for (i = 0; i < 4; i++)
		tctx_init(&t[i], tq, i + 1);
	taskqueue_enqueue(tq, &t[2].task);
	taskqueue_enqueue(tq, &t[0].task);
	taskqueue_enqueue(tq, &t[3].task);
	taskqueue_enqueue(tq, &t[1].task);
	taskqueue_enqueue(tq, &t[0].task);	/* coalesced, keeps place */
	CHECK_EQ(taskqueue_pending(tq), 4);
	taskqueue_drain_all(tq);
	CHECK_EQ(norder, 4);
	CHECK_EQ(order[0], 3);
	CHECK_EQ(order[1], 1);
	CHECK_EQ(order[2], 4);
	CHECK_EQ(order[3], 2);
	CHECK_EQ(t[0].last_pending, 2);
	taskqueue_free(tq);
}

static void
test_cancel(void)
{
	struct taskqueue *tq = fresh();
	struct tctx a, b, c;
	u_int pend = 99;

	tctx_init(&a, tq, 1);
	tctx_init(&b, tq, 2);
	tctx_init(&c, tq, 3);
	taskqueue_enqueue(tq, &a.task);
	taskqueue_enqueue(tq, &b.task);
	taskqueue_enqueue(tq, &b.task);
	taskqueue_enqueue(tq, &c.task);
	CHECK_EQ(taskqueue_cancel(tq, &b.task, &pend), 1);
	CHECK_EQ(pend, 2);
	CHECK_EQ(taskqueue_cancel(tq, &b.task, &pend), 0);
	CHECK_EQ(pend, 0);
	/* Cancelling the tail keeps the queue appendable. */
	CHECK_EQ(taskqueue_cancel(tq, &c.task, NULL), 1);
	taskqueue_enqueue(tq, &b.task);
	taskqueue_drain_all(tq);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 2);
	CHECK_EQ(c.runs, 0);
	taskqueue_free(tq);
}

static void
test_run_all_is_one_round(void)
{
	struct taskqueue *tq = fresh();
	struct taskqueue *tq2;
	struct tctx a, b;

	tq2 = taskqueue_create("second", M_NOWAIT);
	CHECK(tq2 != NULL);
	tctx_init(&a, tq, 1);
	tctx_init(&b, tq2, 2);
	a.requeue = 2;
	taskqueue_enqueue(tq, &a.task);
	taskqueue_enqueue(tq2, &b.task);
	CHECK_EQ(taskqueue_pending_all(), 2);
	/* What a task queues waits for the next round. */
	CHECK_EQ(taskqueue_run_all(), 2);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(taskqueue_pending_all(), 1);
	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK_EQ(taskqueue_run_all(), 1);
	CHECK_EQ(taskqueue_run_all(), 0);
	CHECK_EQ(a.runs, 3);
	/* Queues are visited in creation order. */
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 2);
	taskqueue_free(tq2);
	taskqueue_free(tq);
}

static void
count_queue(struct taskqueue *tq, void *arg)
{
	(*(int *)arg)++;
}

static void
test_queue_registry_and_accounting(void)
{
	struct taskqueue *tq = fresh(), *tq2;
	struct tctx t;
	uint64_t live;
	int n = 0;

	live = malloc_live_total();
	tq2 = taskqueue_create("extra", M_WAITOK);
	CHECK_EQ(malloc_live_total(), live + 1);
	CHECK(strcmp(taskqueue_name(tq2), "extra") == 0);
	taskqueue_foreach(count_queue, &n);
	CHECK_EQ(n, 2);
	/* Freeing a queue runs what is left, as its thread would. */
	tctx_init(&t, tq2, 5);
	taskqueue_enqueue(tq2, &t.task);
	taskqueue_free(tq2);
	CHECK_EQ(t.runs, 1);
	CHECK_EQ(malloc_live_total(), live);
	n = 0;
	taskqueue_foreach(count_queue, &n);
	CHECK_EQ(n, 1);
	/* taskqueue_create honours M_NOWAIT failure. */
	malloc_fail_arm(1, NULL);
	CHECK(taskqueue_create("fails", M_NOWAIT) == NULL);
	malloc_fail_disarm();
	taskqueue_free(tq);
}

static void
test_drain_one_task(void)
{
	struct taskqueue *tq = fresh();
	struct tctx a, b;

	tctx_init(&a, tq, 1);
	tctx_init(&b, tq, 2);
	taskqueue_enqueue(tq, &a.task);
	taskqueue_enqueue(tq, &b.task);
	taskqueue_drain(tq, &b.task);
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(a.runs, 0);
	CHECK_EQ(taskqueue_pending(tq), 1);
	taskqueue_drain(tq, &b.task);	/* not pending: nothing */
	CHECK_EQ(b.runs, 1);
	taskqueue_free(tq);
	CHECK_EQ(a.runs, 1);
}

static void
endless_drain(void *arg)
{
	struct taskqueue *tq = fresh();
	static struct tctx t;

	tctx_init(&t, tq, 1);
	t.requeue = 1 << 30;
	taskqueue_enqueue(tq, &t.task);
	taskqueue_drain_all(tq);
}

static struct mtx task_mtx;

static void
locking_task(void *arg, int pending)
{
	mtx_lock(&task_mtx);
}

static void
task_returns_locked(void *arg)
{
	struct taskqueue *tq = fresh();
	static struct task t;

	mtx_init(&task_mtx, "task mtx", NULL, MTX_DEF);
	TASK_INIT(&t, 0, locking_task, NULL);
	taskqueue_enqueue(tq, &t);
	taskqueue_run_one(tq);
}

static void
test_panics(void)
{
	CHECK_PANICS(endless_drain, NULL, "taskqueue: drain did not finish");
	CHECK_PANICS(task_returns_locked, NULL,
	    "witness: lock held on return from task of test tq");
}

/* Enqueued on one thread, run on another. */
struct producer {
	struct taskqueue *tq;
	struct tctx	 t[8];
};

static void *
producer_main(void *arg)
{
	struct producer *p = arg;
	int i;

	for (i = 0; i < 8; i++)
		taskqueue_enqueue(p->tq, &p->t[i].task);
	return (NULL);
}

static void
test_cross_thread(void)
{
	struct producer p;
	pthread_t td;
	int i;

	p.tq = fresh();
	for (i = 0; i < 8; i++)
		tctx_init(&p.t[i], p.tq, i + 1);
	CHECK_EQ(pthread_create(&td, NULL, producer_main, &p), 0);
	CHECK_EQ(pthread_join(td, NULL), 0);
	CHECK_EQ(taskqueue_pending(p.tq), 8);
	taskqueue_drain_all(p.tq);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(p.t[i].runs, 1);
		CHECK_EQ(order[i], i + 1);
	}
	taskqueue_free(p.tq);
	CHECK_EQ(taskqueue_pending_all(), 0);
}

int
main(void)
{
	RUN(test_pending_coalesces);
	RUN(test_fifo_order);
	RUN(test_cancel);
	RUN(test_run_all_is_one_round);
	RUN(test_queue_registry_and_accounting);
	RUN(test_drain_one_task);
	RUN(test_panics);
	RUN(test_cross_thread);
	return (t_done());
}
