/*
 * Userspace shim: taskqueue(9).
 *
 * A queue is a FIFO of tasks under its own pthread mutex, so a task
 * enqueued on one model thread and run on another (the queue's actor in
 * the threaded mode) is ordered for TSan exactly as in the kernel.  Every
 * queue is on a global list, in creation order, so quiesce and the ledger
 * can visit them deterministically.  Queues are M_TASKQUEUE objects: one
 * never freed shows up in the ledger.
 */
#include <limits.h>
#include <pthread.h>

#include "shim/taskqueue.h"
#include "shim/lock.h"
#include "shim/malloc.h"

MALLOC_DEFINE(M_TASKQUEUE, "taskqueue", "taskqueue(9) queues");

#define	TASKQUEUE_DRAIN_MAX	100000

struct taskqueue {
	char		 tq_name[64];
	uint64_t	 tq_id;		/* creation order */
	struct taskqueue *tq_next;	/* global list */
	pthread_mutex_t	 tq_mtx;
	pthread_cond_t	 tq_cv;		/* a running task finished */
	struct task	*tq_head;
	struct task	**tq_tailp;
	int		 tq_npending;
	struct task	*tq_running;
	pthread_t	 tq_runner;	/* valid while tq_running != NULL */
};

struct taskqueue *taskqueue_thread;

static pthread_mutex_t taskqueue_list_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct taskqueue *taskqueue_list;
static uint64_t taskqueue_next_id = 1;

struct taskqueue *
taskqueue_create(const char *name, int mflags)
{
	struct taskqueue *tq, **tqp;

	tq = malloc(sizeof(*tq), M_TASKQUEUE, mflags | M_ZERO);
	if (tq == NULL)
		return (NULL);
	snprintf(tq->tq_name, sizeof(tq->tq_name), "%s",
	    name != NULL ? name : "taskqueue");
	pthread_mutex_init(&tq->tq_mtx, NULL);
	pthread_cond_init(&tq->tq_cv, NULL);
	tq->tq_tailp = &tq->tq_head;

	pthread_mutex_lock(&taskqueue_list_mtx);
	tq->tq_id = taskqueue_next_id++;
	for (tqp = &taskqueue_list; *tqp != NULL; tqp = &(*tqp)->tq_next)
		;
	*tqp = tq;
	pthread_mutex_unlock(&taskqueue_list_mtx);
	return (tq);
}

static void
taskqueue_unlink(struct taskqueue *tq)
{
	struct taskqueue **tqp;

	pthread_mutex_lock(&taskqueue_list_mtx);
	for (tqp = &taskqueue_list; *tqp != NULL; tqp = &(*tqp)->tq_next)
		if (*tqp == tq) {
			*tqp = tq->tq_next;
			break;
		}
	pthread_mutex_unlock(&taskqueue_list_mtx);
}

static void
taskqueue_destroy(struct taskqueue *tq)
{
	pthread_cond_destroy(&tq->tq_cv);
	pthread_mutex_destroy(&tq->tq_mtx);
	free(tq, M_TASKQUEUE);
}

/* As in FreeBSD, the queue's thread runs what is left before it exits. */
void
taskqueue_free(struct taskqueue *tq)
{
	KASSERT(tq != NULL, ("taskqueue: free of a NULL queue"));
	taskqueue_drain_all(tq);
	taskqueue_unlink(tq);
	taskqueue_destroy(tq);
}

const char *
taskqueue_name(const struct taskqueue *tq)
{
	return (tq->tq_name);
}

int
taskqueue_enqueue(struct taskqueue *tq, struct task *task)
{
	KASSERT(tq != NULL && task != NULL && task->ta_func != NULL,
	    ("taskqueue: enqueue of a NULL or uninitialised task"));
	pthread_mutex_lock(&tq->tq_mtx);
	if (task->ta_pending != 0) {
		/* Already queued: coalesce, as the kernel does. */
		if (task->ta_pending < USHRT_MAX)
			task->ta_pending++;
		pthread_mutex_unlock(&tq->tq_mtx);
		return (0);
	}
	task->ta_next = NULL;
	task->ta_pending = 1;
	*tq->tq_tailp = task;
	tq->tq_tailp = &task->ta_next;
	tq->tq_npending++;
	pthread_mutex_unlock(&tq->tq_mtx);
	sched_wake(tq);
	return (0);
}

/* With tq_mtx held: unlink a queued task. */
static void
taskqueue_remove_locked(struct taskqueue *tq, struct task *task)
{
	struct task **tp;

	for (tp = &tq->tq_head; *tp != NULL; tp = &(*tp)->ta_next)
		if (*tp == task) {
			*tp = task->ta_next;
			if (tq->tq_tailp == &task->ta_next)
				tq->tq_tailp = tp;
			task->ta_next = NULL;
			tq->tq_npending--;
			return;
		}
	panic("taskqueue: task %p pending but not on %s", (void *)task,
	    tq->tq_name);
}

int
taskqueue_cancel(struct taskqueue *tq, struct task *task, u_int *pendp)
{
	u_int pending = 0;

	pthread_mutex_lock(&tq->tq_mtx);
	if (task->ta_pending != 0) {
		pending = task->ta_pending;
		taskqueue_remove_locked(tq, task);
		task->ta_pending = 0;
	}
	pthread_mutex_unlock(&tq->tq_mtx);
	if (pendp != NULL)
		*pendp = pending;
	return (pending != 0);
}

/* Run one task already taken off the queue; tq_running is set. */
static void
taskqueue_run_task(struct taskqueue *tq, struct task *task, int pending)
{
	int held;

	held = witness_held_count();
	task->ta_func(task->ta_context, pending);
	if (witness_held_count() > held)
		panic("witness: lock held on return from task of %s",
		    tq->tq_name);
	pthread_mutex_lock(&tq->tq_mtx);
	tq->tq_running = NULL;
	pthread_cond_broadcast(&tq->tq_cv);
	pthread_mutex_unlock(&tq->tq_mtx);
	sched_wake(tq);
}

int
taskqueue_run_one(struct taskqueue *tq)
{
	struct task *task;
	int pending;

	pthread_mutex_lock(&tq->tq_mtx);
	task = tq->tq_head;
	if (task == NULL || tq->tq_running != NULL) {
		pthread_mutex_unlock(&tq->tq_mtx);
		return (0);
	}
	tq->tq_head = task->ta_next;
	if (tq->tq_head == NULL)
		tq->tq_tailp = &tq->tq_head;
	task->ta_next = NULL;
	tq->tq_npending--;
	/* The count is handed over and cleared before the task runs. */
	pending = task->ta_pending;
	task->ta_pending = 0;
	tq->tq_running = task;
	tq->tq_runner = pthread_self();
	pthread_mutex_unlock(&tq->tq_mtx);
	taskqueue_run_task(tq, task, pending);
	return (1);
}

/* Wait for the task another thread is running on tq (threaded mode). */
static void
taskqueue_wait_running(struct taskqueue *tq, struct task *task)
{
	pthread_mutex_lock(&tq->tq_mtx);
	if (tq->tq_running != NULL &&
	    (task == NULL || tq->tq_running == task) &&
	    pthread_equal(tq->tq_runner, pthread_self()))
		panic("taskqueue: drain of %s from its own task, which can "
		    "never finish", tq->tq_name);
	while (tq->tq_running != NULL &&
	    (task == NULL || tq->tq_running == task)) {
		if (sched_controlled()) {
			pthread_mutex_unlock(&tq->tq_mtx);
			sched_block(tq, "taskqueue_drain");
			pthread_mutex_lock(&tq->tq_mtx);
		} else
			pthread_cond_wait(&tq->tq_cv, &tq->tq_mtx);
	}
	pthread_mutex_unlock(&tq->tq_mtx);
}

void
taskqueue_drain_all(struct taskqueue *tq)
{
	int runs;

	KASSERT(tq != NULL, ("taskqueue: drain of a NULL queue"));
	witness_check_sleep("taskqueue_drain_all");
	for (runs = 0; ; runs++) {
		if (runs >= TASKQUEUE_DRAIN_MAX)
			panic("taskqueue: drain did not finish: %s still has "
			    "%d tasks after %d runs", tq->tq_name,
			    taskqueue_pending(tq), runs);
		taskqueue_wait_running(tq, NULL);
		if (taskqueue_run_one(tq) == 0 && taskqueue_pending(tq) == 0)
			break;
	}
	taskqueue_wait_running(tq, NULL);
}

void
taskqueue_drain(struct taskqueue *tq, struct task *task)
{
	int pending;

	KASSERT(tq != NULL && task != NULL,
	    ("taskqueue: drain of a NULL queue or task"));
	witness_check_sleep("taskqueue_drain");
	taskqueue_wait_running(tq, task);
	pthread_mutex_lock(&tq->tq_mtx);
	if (task->ta_pending == 0) {
		pthread_mutex_unlock(&tq->tq_mtx);
		return;
	}
	taskqueue_remove_locked(tq, task);
	pending = task->ta_pending;
	task->ta_pending = 0;
	tq->tq_running = task;
	tq->tq_runner = pthread_self();
	pthread_mutex_unlock(&tq->tq_mtx);
	taskqueue_run_task(tq, task, pending);
}

int
taskqueue_pending(const struct taskqueue *tq)
{
	struct taskqueue *q = (struct taskqueue *)(uintptr_t)tq;
	int n;

	pthread_mutex_lock(&q->tq_mtx);
	n = q->tq_npending;
	pthread_mutex_unlock(&q->tq_mtx);
	return (n);
}

int
taskqueue_pending_all(void)
{
	struct taskqueue *tq;
	int n = 0;

	pthread_mutex_lock(&taskqueue_list_mtx);
	for (tq = taskqueue_list; tq != NULL; tq = tq->tq_next)
		n += taskqueue_pending(tq);
	pthread_mutex_unlock(&taskqueue_list_mtx);
	return (n);
}

/*
 * The queue after the one with id 'after', with its pending count now.
 * Looking queues up again by id lets a task create or free other queues
 * while a round is under way.
 */
static struct taskqueue *
taskqueue_next_after(uint64_t after, int *npending)
{
	struct taskqueue *tq;

	pthread_mutex_lock(&taskqueue_list_mtx);
	for (tq = taskqueue_list; tq != NULL; tq = tq->tq_next)
		if (tq->tq_id > after)
			break;
	if (tq != NULL)
		*npending = taskqueue_pending(tq);
	pthread_mutex_unlock(&taskqueue_list_mtx);
	return (tq);
}

int
taskqueue_run_all(void)
{
	struct taskqueue *tq;
	uint64_t id = 0;
	int i, n, ran = 0;

	while ((tq = taskqueue_next_after(id, &n)) != NULL) {
		id = tq->tq_id;
		/* Only what is pending now; what the tasks queue waits. */
		for (i = 0; i < n; i++)
			ran += taskqueue_run_one(tq);
	}
	return (ran);
}

void
taskqueue_foreach(void (*cb)(struct taskqueue *, void *), void *arg)
{
	struct taskqueue *tq;

	pthread_mutex_lock(&taskqueue_list_mtx);
	for (tq = taskqueue_list; tq != NULL; tq = tq->tq_next)
		cb(tq, arg);
	pthread_mutex_unlock(&taskqueue_list_mtx);
}

/* Between inputs: drop every queue left over, without running tasks. */
void
taskqueue_reset(void)
{
	struct taskqueue *tq;

	pthread_mutex_lock(&taskqueue_list_mtx);
	while ((tq = taskqueue_list) != NULL) {
		taskqueue_list = tq->tq_next;
		taskqueue_destroy(tq);
	}
	pthread_mutex_unlock(&taskqueue_list_mtx);
	taskqueue_thread = NULL;
}
