/*
 * Userspace shim: counter(9).  One atomic 64-bit cell per counter (the
 * kernel's per-CPU split is a performance detail the invariants never
 * see).  Counters are plain heap objects of malloc type M_COUNTER, so a
 * leaked counter shows in the ledger like any other object.
 */
#ifndef _SHIM_COUNTER_H_
#define	_SHIM_COUNTER_H_

#include "shim/malloc.h"

typedef uint64_t *counter_u64_t;

MALLOC_DECLARE(M_COUNTER);

static inline counter_u64_t
counter_u64_alloc(int flags)
{
	return (malloc(sizeof(uint64_t), M_COUNTER, flags | M_ZERO));
}

static inline void
counter_u64_free(counter_u64_t c)
{
	free(c, M_COUNTER);
}

static inline void
counter_u64_add(counter_u64_t c, int64_t inc)
{
	__atomic_fetch_add(c, (uint64_t)inc, __ATOMIC_RELAXED);
}

static inline uint64_t
counter_u64_fetch(counter_u64_t c)
{
	return (__atomic_load_n(c, __ATOMIC_RELAXED));
}

static inline void
counter_u64_zero(counter_u64_t c)
{
	__atomic_store_n(c, 0, __ATOMIC_RELAXED);
}

#endif /* !_SHIM_COUNTER_H_ */
