/*
 * Userspace shim: epoch(9) and the NET_EPOCH macros.
 *
 * Readers enter and leave sections; epoch_call() defers a callback until
 * no reader can still see the object.  In the sequential mode no reader is
 * ever inside a section between operations, so deferred callbacks run when
 * the scenario (or quiesce) calls epoch_drain_callbacks(); in the threaded
 * mode the epoch actor does the same once the reader count drops to zero.
 */
#ifndef _SHIM_EPOCH_H_
#define	_SHIM_EPOCH_H_

#include "shim/systm.h"

struct epoch;
typedef struct epoch *epoch_t;

struct epoch_context {
	struct epoch_context *ec_next;
	void	(*ec_callback)(struct epoch_context *);
};
typedef struct epoch_context *epoch_context_t;

struct epoch_tracker {
	int	et_depth;		/* sanity: entered exactly once */
};

extern epoch_t net_epoch_preempt;

void	epoch_enter_preempt(epoch_t epoch, struct epoch_tracker *et);
void	epoch_exit_preempt(epoch_t epoch, struct epoch_tracker *et);
bool	in_epoch(epoch_t epoch);
void	epoch_call(epoch_t epoch, void (*cb)(epoch_context_t),
	    epoch_context_t ctx);
/* Sleeps until every reader inside a section at the call has left. */
void	epoch_wait_preempt(epoch_t epoch);

#define	NET_EPOCH_ENTER(et)	epoch_enter_preempt(net_epoch_preempt, &(et))
#define	NET_EPOCH_EXIT(et)	epoch_exit_preempt(net_epoch_preempt, &(et))
#define	NET_EPOCH_WAIT()	epoch_wait_preempt(net_epoch_preempt)
#define	NET_EPOCH_CALL(f, c)	epoch_call(net_epoch_preempt, (f), (c))
#define	NET_EPOCH_ASSERT()						\
	KASSERT(in_epoch(net_epoch_preempt),				\
	    ("epoch: not in the net epoch (%s)", __func__))

/* Harness side. */
int	epoch_pending(void);		/* deferred callbacks queued */
int	epoch_drain_callbacks(void);	/* run them; returns how many ran */
int	epoch_readers(void);		/* threads inside any section */
void	epoch_reset(void);

#endif /* !_SHIM_EPOCH_H_ */
