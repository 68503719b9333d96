/*
 * Userspace shim, internal: a spinlock TSan cannot see.
 *
 * The shims keep a little global bookkeeping (witness lock orders, the
 * malloc type registry).  Guarding it with a pthread mutex would give TSan
 * a happens-before edge between any two model threads that take any lock
 * or allocate, hiding exactly the races the sweeps look for.  The state
 * behind a shim_spin is touched only from SHIM_NO_TSAN functions, so it is
 * invisible to TSan and adds no edges.
 *
 * SHIM_NO_TSAN code must not call C library functions either: TSan's
 * interceptors (memset, strcmp, snprintf, ...) record accesses even when
 * called from uninstrumented code.  (no_sanitize("thread") would not do:
 * TSan still instruments atomics there.)
 *
 * Never call a scheduler hook while holding one: under the controlled
 * scheduler the holder must not be switched out.
 */
#ifndef _SHIM_SPIN_H_
#define	_SHIM_SPIN_H_

#include <sched.h>

#define	SHIM_NO_TSAN	__attribute__((__disable_sanitizer_instrumentation__, \
			    __noinline__))

static SHIM_NO_TSAN void
shim_spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0) {
		while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
			sched_yield();
	}
}

static SHIM_NO_TSAN void
shim_spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif /* !_SHIM_SPIN_H_ */
