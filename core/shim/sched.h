/*
 * Userspace shim: the seam between the model and the controlled scheduler
 * of the threaded execution mode (fuzz/ and tools/ drive it).
 *
 * In the sequential mode no scheduler is installed and every call here is
 * a cheap no-op.  In the threaded mode exactly one model thread runs at a
 * time and may be switched out at each preemption point.  The scheduler
 * itself lives in an uninstrumented translation unit so that its hand-off
 * is invisible to TSan; the model's own synchronisation (pthread locks,
 * atomics) is what TSan judges.
 */
#ifndef _SHIM_SCHED_H_
#define	_SHIM_SCHED_H_

#include <stdbool.h>
#include <stddef.h>

/* Kinds of preemption point, for traces and input-driven schedules. */
enum sched_point_kind {
	SP_EXPLICIT = 0,	/* an explicit point in model code */
	SP_LOCK,		/* before a lock acquire */
	SP_UNLOCK,		/* after a lock release */
	SP_REFCOUNT,		/* around a refcount operation */
	SP_EPOCH,		/* epoch enter/exit */
	SP_NKINDS
};

struct sched_ops {
	/* Possibly switch to another runnable thread. */
	void	(*point)(enum sched_point_kind kind, const void *obj,
		    const char *what);
	/* Block the caller until someone calls wake(obj). */
	void	(*block)(const void *obj, const char *what);
	/* Make every thread blocked on obj runnable again. */
	void	(*wake)(const void *obj);
	/* Shared data obj is written here (feedback only); may be NULL. */
	void	(*access)(const void *obj, const char *what);
};

/* Non-NULL only while a controlled scheduler runs model threads. */
extern const struct sched_ops *sched_active_ops;

static inline void
sched_point(enum sched_point_kind kind, const void *obj, const char *what)
{
	const struct sched_ops *ops = sched_active_ops;

	if (ops != NULL)
		ops->point(kind, obj, what);
}

/*
 * A write to shared data that readers reach at a preemption point over
 * the same obj (a list they walk, a pointer they load): never a switch,
 * so schedules and their numbering stay as they are, but the threaded
 * fuzzer's interleaving feedback sees both sides of the pair.
 */
static inline void
sched_access(const void *obj, const char *what)
{
	const struct sched_ops *ops = sched_active_ops;

	if (ops != NULL && ops->access != NULL)
		ops->access(obj, what);
}

static inline bool
sched_controlled(void)
{
	return (sched_active_ops != NULL);
}

static inline void
sched_block(const void *obj, const char *what)
{
	if (sched_active_ops != NULL)
		sched_active_ops->block(obj, what);
}

static inline void
sched_wake(const void *obj)
{
	if (sched_active_ops != NULL)
		sched_active_ops->wake(obj);
}

#endif /* !_SHIM_SCHED_H_ */
