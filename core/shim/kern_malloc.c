/*
 * Userspace shim: malloc(9) on the C library heap, with per-type
 * accounting for the teardown ledger, fault injection and a byte budget.
 *
 * Every block carries a 16-byte header {type, size, magic} so that free()
 * can check the malloc type the way the kernel's redzone/memguard builds
 * would, and so the accounting never needs a lookup table.  The header
 * keeps the C library's 16-byte alignment.
 *
 * Counters are relaxed atomics and the type registry is touched only from
 * uninstrumented code (shim/spin.h): allocating must never give TSan a
 * happens-before edge the model itself does not have.
 */
#include "shim/malloc.h"
#include "shim/counter.h"
#include "shim/lock.h"
#include "shim/spin.h"

#include <sanitizer/asan_interface.h>

#undef malloc
#undef free

/* Reuse would give TSan a happens-before edge the model does not have. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	KMALLOC_NO_CACHE
#endif
#endif
#ifdef __SANITIZE_THREAD__
#define	KMALLOC_NO_CACHE
#endif

/*
 * Cached types (MALLOC_DEFINE_CACHED, or every type after
 * malloc_cache_all).  A block of up to KMALLOC_CACHE_LARGEST bytes is
 * allocated at its power-of-two size class, the bytes past the request
 * poisoned so an overrun is still reported.  A freed block is reused only
 * by a later input or when KMALLOC_CACHE_DELAY younger blocks of its
 * class wait behind it, so a stale pointer stays poisoned for the rest
 * of its input or at least that many frees (for other blocks ASan's
 * quarantine plays this part); past KMALLOC_CACHE_MAX the
 * oldest goes back to the C library.  A reused block is filled as ASan
 * fills a fresh one (0xbe, the first 4 KiB) unless M_ZERO, so what an
 * input reads does not depend on what ran before it.
 */
#define	KMALLOC_CACHE_MAX	1024
#define	KMALLOC_FILL_BYTE	0xbe
#define	KMALLOC_FILL_MAX	4096

MALLOC_DEFINE(M_DEVBUF, "devbuf", "device driver memory");
MALLOC_DEFINE(M_TEMP, "temp", "misc temporary data buffers");
/* Every ifnet allocates a dozen: cached like the per-packet types. */
MALLOC_DEFINE_CACHED(M_COUNTER, "counter", "counter(9) cells");

#define	KMALLOC_MAGIC	0x6b6d616cU	/* live block, exact size */
#define	KMALLOC_ZONED	0x6b6d617aU	/* live block, size class */
#define	KMALLOC_FREED	0x66726565U	/* freed block, for double frees */

struct kmalloc_hdr {
	union {
		struct malloc_type *kh_type;	/* live */
		struct kmalloc_hdr *kh_next;	/* waiting in a cache */
	};
	union {
		uint32_t kh_size;	/* live */
		uint32_t kh_gen;	/* waiting: kmalloc_gen at its free */
	};
	uint32_t	 kh_magic;
};
CTASSERT(sizeof(struct kmalloc_hdr) == 16);
/* One FIFO per class: the largest class is the last slot's. */
CTASSERT((KMALLOC_CACHE_MIN << (KMALLOC_CACHE_SIZES - 1)) ==
    KMALLOC_CACHE_LARGEST);

static struct malloc_type *kmalloc_types;	/* registry, append-only */
static int kmalloc_types_lock;

static uint32_t kmalloc_fail_nth;	/* 0: disarmed */
static struct malloc_type *kmalloc_fail_type;
static uint64_t kmalloc_fail_injected;
static uint64_t kmalloc_fail_points;	/* M_NOWAIT requests a fault counts */
static uint64_t kmalloc_budget;		/* 0: unlimited */
static uint64_t kmalloc_live_bytes;	/* all types */
static bool kmalloc_cache_every;	/* malloc_cache_all */
static uint32_t kmalloc_gen;		/* inputs run: malloc_reset */

/*
 * First use of a type links it into the registry.  Types are never
 * unlinked (they are static objects), so readers walk the list with
 * atomic loads and no lock.
 */
static SHIM_NO_TSAN void
kmalloc_register(struct malloc_type *mtp)
{
	shim_spin_lock(&kmalloc_types_lock);
	if (!__atomic_load_n(&mtp->ks_registered, __ATOMIC_RELAXED)) {
		struct malloc_type **tailp = &kmalloc_types;

		/* Append, so the ledger names types in first-use order. */
		while (*tailp != NULL)
			tailp = &(*tailp)->ks_next;
		mtp->ks_next = NULL;
		__atomic_store_n(tailp, mtp, __ATOMIC_RELEASE);
		__atomic_store_n(&mtp->ks_registered, true, __ATOMIC_RELEASE);
	}
	shim_spin_unlock(&kmalloc_types_lock);
}

static struct malloc_type *
kmalloc_first(void)
{
	return (__atomic_load_n(&kmalloc_types, __ATOMIC_ACQUIRE));
}

static struct malloc_type *
kmalloc_next(const struct malloc_type *mtp)
{
	return (__atomic_load_n(&mtp->ks_next, __ATOMIC_ACQUIRE));
}

/* True when the armed fault hits this M_NOWAIT allocation. */
static bool
kmalloc_fault(struct malloc_type *mtp)
{
	struct malloc_type *ftype;
	uint32_t n;

	__atomic_fetch_add(&kmalloc_fail_points, 1, __ATOMIC_RELAXED);
	n = __atomic_load_n(&kmalloc_fail_nth, __ATOMIC_RELAXED);
	while (n != 0) {
		ftype = __atomic_load_n(&kmalloc_fail_type, __ATOMIC_RELAXED);
		if (ftype != NULL && ftype != mtp)
			return (false);
		if (__atomic_compare_exchange_n(&kmalloc_fail_nth, &n, n - 1,
		    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			if (n != 1)
				return (false);
			__atomic_fetch_add(&kmalloc_fail_injected, 1,
			    __ATOMIC_RELAXED);
			return (true);
		}
	}
	return (false);
}

/* Size class index of a cacheable request. */
static int
kmalloc_class(size_t size)
{
	int c = 0;

	while ((size_t)KMALLOC_CACHE_MIN << c < size)
		c++;
	return (c);
}

static size_t
kmalloc_class_size(int c)
{
	return ((size_t)KMALLOC_CACHE_MIN << c);
}

/*
 * The oldest block of class c, if it waits behind KMALLOC_CACHE_DELAY
 * younger ones or was freed by an earlier input (malloc_reset starts a
 * generation), else NULL.  The second rule is what lets the caches stay
 * at one input's worth: blocks freed by the last input serve the next,
 * and a run allocates fresh memory only beyond what the inputs before it
 * used (libFuzzer takes a run with more mallocs than frees for a leak and
 * runs LeakSanitizer over the whole heap).  The head's header is cold: the
 * next one's is fetched now, for the next call.  Headers are never
 * poisoned, so ASan's checks here would only add the shadow's misses.
 */
static SHIM_NO_TSAN __attribute__((no_sanitize("address")))
struct kmalloc_hdr *
kmalloc_cache_get(struct malloc_type *mtp, int c)
{
	struct kmalloc_cache *kc = &mtp->ks_cache[c];
	struct kmalloc_hdr *kh = NULL;

	shim_spin_lock(&mtp->ks_cache_lock);
	if (kc->kc_count > KMALLOC_CACHE_DELAY || (kc->kc_head != NULL &&
	    ((struct kmalloc_hdr *)kc->kc_head)->kh_gen !=
	    __atomic_load_n(&kmalloc_gen, __ATOMIC_RELAXED))) {
		kh = kc->kc_head;
		kc->kc_head = kh->kh_next;
		if (kc->kc_head == NULL)
			kc->kc_tail = NULL;
		else
			__builtin_prefetch(kc->kc_head, 1);
		kc->kc_count--;
	}
	shim_spin_unlock(&mtp->ks_cache_lock);
	return (kh);
}

/*
 * Queue a freed (already poisoned) block of class c; returns the oldest
 * block if the class is over its bound (the caller frees it), else NULL.
 */
static SHIM_NO_TSAN struct kmalloc_hdr *
kmalloc_cache_put(struct malloc_type *mtp, struct kmalloc_hdr *kh, int c)
{
	struct kmalloc_cache *kc = &mtp->ks_cache[c];
	struct kmalloc_hdr *evict = NULL;

	kh->kh_gen = __atomic_load_n(&kmalloc_gen, __ATOMIC_RELAXED);
	shim_spin_lock(&mtp->ks_cache_lock);
	kh->kh_next = NULL;
	if (kc->kc_tail != NULL)
		((struct kmalloc_hdr *)kc->kc_tail)->kh_next = kh;
	else
		kc->kc_head = kh;
	kc->kc_tail = kh;
	if (++kc->kc_count > KMALLOC_CACHE_MAX) {
		evict = kc->kc_head;
		kc->kc_head = evict->kh_next;
		evict->kh_next = NULL;
		kc->kc_count--;
	}
	shim_spin_unlock(&mtp->ks_cache_lock);
	return (evict);
}

void
malloc_cache_all(bool on)
{
	__atomic_store_n(&kmalloc_cache_every, on, __ATOMIC_RELAXED);
}

uint32_t
malloc_cache_count(const struct malloc_type *mtp)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < KMALLOC_CACHE_SIZES; i++)
		n += __atomic_load_n(&mtp->ks_cache[i].kc_count,
		    __ATOMIC_RELAXED);
	return (n);
}

void *
kmalloc(size_t size, struct malloc_type *mtp, int flags)
{
	struct kmalloc_hdr *kh;
	uint64_t budget, live;
	uint32_t magic;
	size_t alloc;

	KASSERT(mtp != NULL, ("malloc: NULL malloc type"));
	KASSERT(((flags & M_NOWAIT) != 0) != ((flags & M_WAITOK) != 0),
	    ("malloc: flags %#x need exactly one of M_NOWAIT and M_WAITOK "
	    "(type %s)", flags, mtp->ks_shortdesc));
	if (!__atomic_load_n(&mtp->ks_registered, __ATOMIC_ACQUIRE))
		kmalloc_register(mtp);

	if ((flags & M_WAITOK) != 0) {
		witness_check_sleep("malloc(M_WAITOK)");
		KASSERT(size <= UINT32_MAX, ("malloc: M_WAITOK request of "
		    "%zu bytes of %s can never be satisfied", size,
		    mtp->ks_shortdesc));
	} else {
		if (size > UINT32_MAX || kmalloc_fault(mtp))
			return (NULL);
		budget = __atomic_load_n(&kmalloc_budget, __ATOMIC_RELAXED);
		live = __atomic_load_n(&kmalloc_live_bytes, __ATOMIC_RELAXED);
		if (budget != 0 && live + size > budget)
			return (NULL);
	}

	kh = NULL;
	magic = KMALLOC_MAGIC;
	alloc = sizeof(*kh) + size;
#ifndef KMALLOC_NO_CACHE
	if ((mtp->ks_cached ||
	    __atomic_load_n(&kmalloc_cache_every, __ATOMIC_RELAXED)) &&
	    size <= KMALLOC_CACHE_LARGEST) {
		int c = kmalloc_class(size);

		magic = KMALLOC_ZONED;
		alloc = sizeof(*kh) + kmalloc_class_size(c);
		if ((kh = kmalloc_cache_get(mtp, c)) != NULL) {
			ASAN_UNPOISON_MEMORY_REGION(kh + 1, size);
			if ((flags & M_ZERO) != 0)
				memset(kh + 1, 0, size);
			else
				memset(kh + 1, KMALLOC_FILL_BYTE,
				    MIN(size, KMALLOC_FILL_MAX));
		}
	}
#endif
	if (kh != NULL)
		;
	else if ((flags & M_ZERO) != 0)
		kh = calloc(1, alloc);
	else
		kh = malloc(alloc);
	if (kh == NULL) {
		KASSERT((flags & M_NOWAIT) != 0, ("malloc: out of memory "
		    "for an M_WAITOK request of %zu bytes of %s", size,
		    mtp->ks_shortdesc));
		return (NULL);
	}
	/* A class block's slack is never the caller's: overruns report. */
	if (alloc > sizeof(*kh) + size)
		ASAN_POISON_MEMORY_REGION((char *)(kh + 1) + size,
		    alloc - sizeof(*kh) - size);
	kh->kh_type = mtp;
	kh->kh_size = (uint32_t)size;
	kh->kh_magic = magic;
	__atomic_fetch_add(&mtp->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&mtp->ks_bytes, size, __ATOMIC_RELAXED);
	__atomic_fetch_add(&mtp->ks_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&kmalloc_live_bytes, size, __ATOMIC_RELAXED);
	return (kh + 1);
}

void
kfree(void *addr, struct malloc_type *mtp)
{
	struct kmalloc_hdr *kh;
	bool zoned;

	if (addr == NULL)
		return;
	KASSERT(mtp != NULL, ("malloc: free of %p with a NULL type", addr));
	kh = (struct kmalloc_hdr *)addr - 1;
	KASSERT(kh->kh_magic == KMALLOC_MAGIC || kh->kh_magic == KMALLOC_ZONED,
	    ("malloc: free of %p (type %s) that is not a live allocation%s",
	    addr, mtp->ks_shortdesc,
	    kh->kh_magic == KMALLOC_FREED ? " (freed twice)" : ""));
	KASSERT(kh->kh_type == mtp,
	    ("malloc: free with wrong type: %p allocated as %s, freed as %s",
	    addr, kh->kh_type->ks_shortdesc, mtp->ks_shortdesc));
	__atomic_fetch_sub(&mtp->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&mtp->ks_bytes, kh->kh_size, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&kmalloc_live_bytes, kh->kh_size,
	    __ATOMIC_RELAXED);
	zoned = kh->kh_magic == KMALLOC_ZONED;
	kh->kh_magic = KMALLOC_FREED;
#ifndef KMALLOC_NO_CACHE
	if (zoned) {
		struct kmalloc_hdr *old;
		int c = kmalloc_class(kh->kh_size);

		/* Poisoned before another thread can take it. */
		ASAN_POISON_MEMORY_REGION(kh + 1, kmalloc_class_size(c));
		if ((old = kmalloc_cache_put(mtp, kh, c)) == NULL)
			return;
		ASAN_UNPOISON_MEMORY_REGION(old + 1, kmalloc_class_size(c));
		kh = old;
	}
#else
	(void)zoned;
#endif
	free(kh);
}

void
malloc_fail_arm(uint32_t nth, struct malloc_type *type)
{
	/* Type first: a racing allocation never sees a stale filter. */
	__atomic_store_n(&kmalloc_fail_nth, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&kmalloc_fail_type, type, __ATOMIC_RELAXED);
	__atomic_store_n(&kmalloc_fail_nth, nth, __ATOMIC_RELAXED);
}

void
malloc_fail_disarm(void)
{
	__atomic_store_n(&kmalloc_fail_nth, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&kmalloc_fail_type, NULL, __ATOMIC_RELAXED);
}

uint64_t
malloc_fail_count(void)
{
	return (__atomic_load_n(&kmalloc_fail_injected, __ATOMIC_RELAXED));
}

uint64_t
malloc_fail_points(void)
{
	return (__atomic_load_n(&kmalloc_fail_points, __ATOMIC_RELAXED));
}

void
malloc_set_budget(size_t bytes)
{
	__atomic_store_n(&kmalloc_budget, (uint64_t)bytes, __ATOMIC_RELAXED);
}

uint64_t
malloc_live_total(void)
{
	const struct malloc_type *mtp;
	uint64_t n = 0;

	for (mtp = kmalloc_first(); mtp != NULL; mtp = kmalloc_next(mtp))
		n += __atomic_load_n(&mtp->ks_inuse, __ATOMIC_RELAXED);
	return (n);
}

void
malloc_foreach_live(void (*cb)(const struct malloc_type *, void *),
    void *arg)
{
	const struct malloc_type *mtp;

	for (mtp = kmalloc_first(); mtp != NULL; mtp = kmalloc_next(mtp))
		if (__atomic_load_n(&mtp->ks_inuse, __ATOMIC_RELAXED) != 0)
			cb(mtp, arg);
}

/*
 * Between inputs.  Live-object counts describe memory that really exists
 * (world_fini has already insisted they are zero), so they are kept: a
 * later free of an object allocated before the reset stays consistent.
 */
void
malloc_reset(void)
{
	struct malloc_type *mtp;

	malloc_fail_disarm();
	__atomic_fetch_add(&kmalloc_gen, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&kmalloc_fail_injected, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&kmalloc_budget, 0, __ATOMIC_RELAXED);
	for (mtp = kmalloc_first(); mtp != NULL; mtp = kmalloc_next(mtp))
		__atomic_store_n(&mtp->ks_calls, 0, __ATOMIC_RELAXED);
}
