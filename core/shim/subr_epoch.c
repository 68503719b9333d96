/*
 * Userspace shim: epoch(9).
 *
 * One global reader count and a per-thread nesting depth.  Entering is a
 * relaxed increment (readers never synchronise with each other, as in the
 * kernel); leaving is a release decrement and whoever runs deferred work
 * reads the count with acquire, so TSan sees every reader's accesses
 * happen before the callbacks that free what they read.
 *
 * epoch_call() pushes on a lock-free stack with a release CAS, so two
 * threads deferring work do not synchronise with each other (a global
 * mutex there would hide races between them from TSan).  The drainer
 * takes the stack with acquire, moves it in call order onto its own FIFO,
 * and runs that FIFO only when no reader is inside.
 */
#include <pthread.h>

#include "shim/epoch.h"
#include "shim/lock.h"

struct epoch {
	const char	*e_name;
};

static struct epoch net_epoch_store = { .e_name = "net_epoch_preempt" };
epoch_t net_epoch_preempt = &net_epoch_store;

static int epoch_nreaders;
static _Thread_local int epoch_depth;

static struct epoch_context *epoch_cb_stack;	/* newest first */
static int epoch_cb_count;			/* queued, not yet run */

/* The drainer's FIFO: callbacks taken off the stack, oldest first. */
static pthread_mutex_t epoch_drain_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct epoch_context *epoch_fifo_head;
static struct epoch_context **epoch_fifo_tailp = &epoch_fifo_head;

void
epoch_enter_preempt(epoch_t epoch, struct epoch_tracker *et)
{
	KASSERT(epoch != NULL, ("epoch: enter of a NULL epoch"));
	sched_point(SP_EPOCH, epoch, "epoch_enter");
	et->et_depth = 1;
	if (epoch_depth++ == 0)
		__atomic_fetch_add(&epoch_nreaders, 1, __ATOMIC_RELAXED);
}

void
epoch_exit_preempt(epoch_t epoch, struct epoch_tracker *et)
{
	KASSERT(epoch != NULL, ("epoch: exit of a NULL epoch"));
	KASSERT(epoch_depth > 0, ("epoch: exit without enter (%s)",
	    epoch->e_name));
	KASSERT(et->et_depth == 1, ("epoch: exit with a tracker that was "
	    "not entered (depth %d)", et->et_depth));
	et->et_depth = 0;
	if (--epoch_depth == 0 &&
	    __atomic_sub_fetch(&epoch_nreaders, 1, __ATOMIC_RELEASE) == 0)
		sched_wake(epoch);
	sched_point(SP_EPOCH, epoch, "epoch_exit");
}

bool
in_epoch(epoch_t epoch)
{
	return (epoch_depth > 0);
}

void
epoch_call(epoch_t epoch, void (*cb)(epoch_context_t), epoch_context_t ctx)
{
	struct epoch_context *head;

	KASSERT(epoch != NULL && cb != NULL && ctx != NULL,
	    ("epoch: epoch_call with a NULL argument"));
	ctx->ec_callback = cb;
	__atomic_fetch_add(&epoch_cb_count, 1, __ATOMIC_RELAXED);
	head = __atomic_load_n(&epoch_cb_stack, __ATOMIC_RELAXED);
	do {
		ctx->ec_next = head;
	} while (!__atomic_compare_exchange_n(&epoch_cb_stack, &head, ctx,
	    true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void
epoch_wait_preempt(epoch_t epoch)
{
	KASSERT(epoch != NULL, ("epoch: wait on a NULL epoch"));
	witness_check_sleep("epoch_wait");
	/*
	 * The caller is outside any section (checked above), so waiting
	 * for the count to reach zero waits for every reader inside now.
	 * Sequentially nobody is inside and this returns at once.
	 */
	while (__atomic_load_n(&epoch_nreaders, __ATOMIC_ACQUIRE) != 0) {
		if (sched_controlled())
			sched_block(epoch, "epoch_wait");
		else
			sched_yield();
	}
}

int
epoch_pending(void)
{
	return (__atomic_load_n(&epoch_cb_count, __ATOMIC_RELAXED));
}

int
epoch_drain_callbacks(void)
{
	struct epoch_context *stack, *next, *list, *ctx;
	struct epoch_context **tailp;
	int n = 0;

	pthread_mutex_lock(&epoch_drain_mtx);
	/* Move what was called so far onto the FIFO, oldest first. */
	stack = __atomic_exchange_n(&epoch_cb_stack, NULL, __ATOMIC_ACQUIRE);
	list = NULL;
	for (; stack != NULL; stack = next) {
		next = stack->ec_next;
		stack->ec_next = list;
		list = stack;
	}
	if (list != NULL) {
		*epoch_fifo_tailp = list;
		for (tailp = &list->ec_next; *tailp != NULL;
		    tailp = &(*tailp)->ec_next)
			;
		epoch_fifo_tailp = tailp;
	}
	/*
	 * Everything on the FIFO was called before this check, so a zero
	 * count means nobody who could still see its object is inside.
	 */
	if (epoch_fifo_head == NULL ||
	    __atomic_load_n(&epoch_nreaders, __ATOMIC_ACQUIRE) != 0) {
		pthread_mutex_unlock(&epoch_drain_mtx);
		return (0);
	}
	list = epoch_fifo_head;
	epoch_fifo_head = NULL;
	epoch_fifo_tailp = &epoch_fifo_head;
	pthread_mutex_unlock(&epoch_drain_mtx);

	while ((ctx = list) != NULL) {
		list = ctx->ec_next;
		__atomic_fetch_sub(&epoch_cb_count, 1, __ATOMIC_RELAXED);
		ctx->ec_callback(ctx);
		n++;
	}
	return (n);
}

int
epoch_readers(void)
{
	return (__atomic_load_n(&epoch_nreaders, __ATOMIC_RELAXED));
}

/* Between inputs: forget queued work (teardown has drained it). */
void
epoch_reset(void)
{
	pthread_mutex_lock(&epoch_drain_mtx);
	__atomic_store_n(&epoch_cb_stack, NULL, __ATOMIC_RELAXED);
	epoch_fifo_head = NULL;
	epoch_fifo_tailp = &epoch_fifo_head;
	__atomic_store_n(&epoch_cb_count, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&epoch_drain_mtx);
	__atomic_store_n(&epoch_nreaders, 0, __ATOMIC_RELAXED);
	epoch_depth = 0;
}
