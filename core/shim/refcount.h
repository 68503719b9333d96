/*
 * Userspace shim: refcount(9) on compiler atomics with the kernel's
 * ordering: release on decrement, acquire when the count reaches zero.
 * Each operation is a preemption point for the controlled scheduler.
 *
 * The race variant SNDTAG_VARIANT_RACE_REFCOUNT (only) makes the tag
 * refcount non-atomic; it does so in kern_mbuf.c, not here.
 */
#ifndef _SHIM_REFCOUNT_H_
#define	_SHIM_REFCOUNT_H_

#include "shim/systm.h"

static inline void
refcount_init(volatile u_int *count, u_int value)
{
	__atomic_store_n(count, value, __ATOMIC_RELAXED);
}

static inline u_int
refcount_load(volatile u_int *count)
{
	return (__atomic_load_n(count, __ATOMIC_RELAXED));
}

static inline void
refcount_acquire(volatile u_int *count)
{
	u_int old;

	sched_point(SP_REFCOUNT, (const void *)count, "refcount_acquire");
	old = __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
	KASSERT(old != 0 && old < 0x80000000u,
	    ("refcount: acquire on a dead or saturated count %p (was %u)",
	    (const void *)count, old));
}

/*
 * Take a reference unless the count is already zero (its object is on
 * its way to being freed); true if one was taken.
 */
static inline bool
refcount_acquire_if_not_zero(volatile u_int *count)
{
	u_int old;

	sched_point(SP_REFCOUNT, (const void *)count,
	    "refcount_acquire_if_not_zero");
	old = __atomic_load_n(count, __ATOMIC_RELAXED);
	do {
		if (old == 0)
			return (false);
		KASSERT(old < 0x80000000u,
		    ("refcount: acquire on a saturated count %p (was %u)",
		    (const void *)count, old));
	} while (!__atomic_compare_exchange_n(count, &old, old + 1, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (true);
}

/* Returns true for the release that dropped the count to zero. */
static inline bool
refcount_release(volatile u_int *count)
{
	u_int old;

	sched_point(SP_REFCOUNT, (const void *)count, "refcount_release");
	old = __atomic_fetch_sub(count, 1, __ATOMIC_RELEASE);
	KASSERT(old > 0, ("refcount: underflow on %p",
	    (const void *)count));
	if (old > 1)
		return (false);
	/*
	 * The kernel uses an acquire fence here.  TSan does not model
	 * standalone fences, so use an acquire load of the final value:
	 * the same ordering (it synchronises with every earlier release
	 * decrement), and visible to TSan, so the last owner's free is not
	 * reported as racing the other owners' last accesses.
	 */
	(void)__atomic_load_n(count, __ATOMIC_ACQUIRE);
	return (true);
}

#endif /* !_SHIM_REFCOUNT_H_ */
