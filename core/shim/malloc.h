/*
 * Userspace shim: malloc(9).
 *
 * Real heap memory underneath, so ASan sees every object.  On top of it:
 *  - per-type accounting (live objects and bytes per malloc type), which the
 *    teardown ledger reads;
 *  - fault injection: the scenario arms "fail the N-th M_NOWAIT allocation
 *    from now on (optionally only of one type)";
 *  - a byte budget: an M_NOWAIT allocation past it fails like a real
 *    out-of-memory, so a scenario cannot eat the machine.
 *
 * The model spells the kernel's three-argument malloc()/two-argument free()
 * as FreeBSD does; the macros below map them onto kmalloc()/kfree().
 *
 * Exactly one of M_NOWAIT and M_WAITOK.  M_WAITOK never fails and may
 * sleep (witness_check_sleep); only M_NOWAIT sees faults and the budget.
 * free() with another type than the allocation's panics
 * "malloc: free with wrong type: ...".
 */
#ifndef _SHIM_MALLOC_H_
#define	_SHIM_MALLOC_H_

#include "shim/systm.h"

#define	M_NOWAIT	0x0001
#define	M_WAITOK	0x0002
#define	M_ZERO		0x0100

/*
 * A zone-like cache of freed blocks (kern_malloc.c): one FIFO per power
 * of two from 32 to 4096 bytes, as malloc(9) draws from its malloc-32 ..
 * malloc-4096 UMA zones, but per type.  Freed blocks wait poisoned
 * (ASan) before reuse, as a UMA zone's items are checked in the kernel:
 * behind KMALLOC_CACHE_DELAY younger frees of their class, or until the
 * next input (malloc_reset), so within an input a use after free always
 * finds poison.
 */
#define	KMALLOC_CACHE_SIZES	8	/* 32, 64, ... 4096 */
#define	KMALLOC_CACHE_MIN	32
#define	KMALLOC_CACHE_LARGEST	4096
#define	KMALLOC_CACHE_DELAY	64	/* frees before a block is reused */
struct kmalloc_cache {
	uint32_t	 kc_count;	/* blocks waiting */
	void		*kc_head;	/* oldest freed */
	void		*kc_tail;
};

struct malloc_type {
	const char	*ks_shortdesc;
	struct malloc_type *ks_next;	/* registry, for the ledger */
	uint64_t	 ks_inuse;	/* live objects */
	uint64_t	 ks_bytes;	/* live bytes */
	uint64_t	 ks_calls;	/* allocations ever */
	bool		 ks_registered;
	bool		 ks_cached;	/* MALLOC_DEFINE_CACHED */
	int		 ks_cache_lock;
	struct kmalloc_cache ks_cache[KMALLOC_CACHE_SIZES];
};

/* MALLOC_DEFINE(M_FOO, "foo", "long description") */
#define	MALLOC_DEFINE(type, shortdesc, longdesc)			\
	struct malloc_type type[1] = { { .ks_shortdesc = (shortdesc) } }
/*
 * The same, with freed blocks of up to KMALLOC_CACHE_LARGEST bytes kept
 * for reuse (not under TSan, where reuse would order the freeing thread
 * before the allocating one).  For the per-packet types: it spares the
 * C library allocator's (and ASan's) per-call cost; a use after free is
 * still reported, as use-after-poison.
 */
#define	MALLOC_DEFINE_CACHED(type, shortdesc, longdesc)			\
	struct malloc_type type[1] = { { .ks_shortdesc = (shortdesc),	\
	    .ks_cached = true } }
#define	MALLOC_DECLARE(type)	extern struct malloc_type type[1]

MALLOC_DECLARE(M_DEVBUF);
MALLOC_DECLARE(M_TEMP);

void	*kmalloc(size_t size, struct malloc_type *type, int flags);
void	 kfree(void *addr, struct malloc_type *type);

#define	malloc(size, type, flags)	kmalloc((size), (type), (flags))
#define	free(addr, type)		kfree((addr), (type))

/*
 * Fault injection.  malloc_fail_arm(n, type): the n-th (1-based) M_NOWAIT
 * allocation from now, counting only allocations of 'type' when it is not
 * NULL, returns NULL.  One armed fault at a time; arming again replaces it.
 */
void	malloc_fail_arm(uint32_t nth, struct malloc_type *type);
void	malloc_fail_disarm(void);
uint64_t malloc_fail_count(void);	/* injected failures so far */
/*
 * M_NOWAIT requests so far that an armed fault of any type would count:
 * the difference over an operation is the n-th values that fail inside it.
 */
uint64_t malloc_fail_points(void);

/* Byte budget for M_NOWAIT allocations (0: unlimited). */
void	malloc_set_budget(size_t bytes);

/* Ledger: live objects of every type; calls cb for each with inuse != 0. */
uint64_t malloc_live_total(void);
void	malloc_foreach_live(void (*cb)(const struct malloc_type *, void *),
	    void *arg);

/*
 * Between inputs: zero the call counters and the injected-failure count,
 * disarm the fault, lift the budget, and start a generation: a cached
 * block freed before it may be reused without waiting out the delay.
 * Live counts describe memory that exists and are kept (world_fini has
 * checked them).
 */
void	malloc_reset(void);

/* Blocks waiting in a cached type's cache (tests). */
uint32_t malloc_cache_count(const struct malloc_type *type);

/*
 * Cache every type's blocks, not only MALLOC_DEFINE_CACHED ones: for the
 * executables that run inputs back to back (fuzz/fuzz_init.c).
 * Tools that replay one input leave it off, so that ASan reports a use
 * after free with the stack that freed the block.  Blocks remember how
 * they were allocated: switching it at any time is safe.
 */
void	malloc_cache_all(bool on);

#endif /* !_SHIM_MALLOC_H_ */
