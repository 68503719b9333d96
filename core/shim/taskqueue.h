/*
 * Userspace shim: taskqueue(9), also used for driver worker threads.
 *
 * A task runs later: in the sequential mode when the scenario asks for
 * taskqueue progress or quiesce drains it; in the threaded mode on the
 * queue's actor thread.  As in FreeBSD, enqueueing a task that is already
 * pending only bumps ta_pending.
 *
 * Threaded mode: an actor thread with nothing to run may
 * sched_block(tq, ...); taskqueue_enqueue() and the end of every task
 * call sched_wake(tq).  A task that returns with more locks held than it
 * was called with panics "witness: lock held on return from task of <q>".
 */
#ifndef _SHIM_TASKQUEUE_H_
#define	_SHIM_TASKQUEUE_H_

#include "shim/systm.h"

struct task {
	struct task	*ta_next;
	u_short		 ta_pending;
	void		(*ta_func)(void *context, int pending);
	void		*ta_context;
};

#define	TASK_INIT(task, priority, func, context) do {			\
	(task)->ta_next = NULL;						\
	(task)->ta_pending = 0;						\
	(task)->ta_func = (func);					\
	(task)->ta_context = (context);					\
} while (0)

struct taskqueue;

struct taskqueue *taskqueue_create(const char *name, int mflags);
void	taskqueue_free(struct taskqueue *tq);
int	taskqueue_enqueue(struct taskqueue *tq, struct task *task);
/* Remove a pending task without running it; returns 1 if it was queued. */
int	taskqueue_cancel(struct taskqueue *tq, struct task *task, u_int *pendp);
/* Run everything queued now (and what it queues), as taskqueue_drain_all. */
void	taskqueue_drain_all(struct taskqueue *tq);
/*
 * Wait until task is neither pending nor running.  Sequentially nobody
 * else would run it, so a pending task runs here, in the caller.
 */
void	taskqueue_drain(struct taskqueue *tq, struct task *task);
const char *taskqueue_name(const struct taskqueue *tq);

/* The system queue (taskqueue_thread in FreeBSD). */
extern struct taskqueue *taskqueue_thread;

/* Harness side: run at most one task of tq; returns 1 if one ran. */
int	taskqueue_run_one(struct taskqueue *tq);
/* Pending tasks in tq, and in every queue. */
int	taskqueue_pending(const struct taskqueue *tq);
int	taskqueue_pending_all(void);
/* One round over every queue: run what is pending now; returns count. */
int	taskqueue_run_all(void);
/* Call cb for every existing queue (ledger, interpreter). */
void	taskqueue_foreach(void (*cb)(struct taskqueue *, void *), void *arg);
void	taskqueue_reset(void);

#endif /* !_SHIM_TASKQUEUE_H_ */
