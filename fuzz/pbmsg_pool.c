/*
 * pbmsg's allocator: malloc, or, between pbmsg_pool_enter() and
 * pbmsg_pool_exit(), a size-class free list that keeps its blocks.
 *
 * A mutation unpacks one or two inputs, edits and packs them, and frees
 * everything: some hundred small allocations that ASan's allocator
 * (stack unwinding, quarantine) made a fifth of a campaign's time.  Free
 * blocks stay poisoned while they wait, so a use after free in the
 * mutator is still reported; a block is unpoisoned only up to the size
 * asked for, so an overflow past it is too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define	PBMSG_ASAN	1
#endif
#endif
#if !defined(PBMSG_ASAN) && defined(__SANITIZE_ADDRESS__)
#define	PBMSG_ASAN	1
#endif
#ifdef PBMSG_ASAN
#include <sanitizer/asan_interface.h>
#define	POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define	UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define	POISON(p, n)	((void)(p), (void)(n))
#define	UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define	POOL_MIN_SHIFT	4		/* 16 bytes */
#define	POOL_NCLASS	9		/* up to 4 KiB; larger: malloc */
#define	POOL_BIG	POOL_NCLASS
#define	POOL_MAGIC	0x70626d70u

/* Before every block (32 bytes: blocks stay 16-aligned); never poisoned. */
struct pool_hdr {
	struct pool_hdr	*next;		/* free list */
	uint32_t	 cls;		/* size class, or POOL_BIG */
	uint32_t	 magic;
	size_t		 size;		/* asked for */
	size_t		 pad;
};

static struct pool_hdr *pool_free[POOL_NCLASS];
static int pool_depth;

static unsigned
pool_class(size_t n)
{
	unsigned c = 0;

	while (c < POOL_NCLASS && ((size_t)1 << (c + POOL_MIN_SHIFT)) < n)
		c++;
	return (c);
}

static size_t
pool_class_size(unsigned c)
{

	return ((size_t)1 << (c + POOL_MIN_SHIFT));
}

static void *
pool_get(size_t n)
{
	struct pool_hdr *h;
	unsigned c = pool_class(n == 0 ? 1 : n);

	if (c == POOL_BIG) {
		h = malloc(sizeof(*h) + n);
		if (h == NULL)
			return (NULL);
	} else if ((h = pool_free[c]) != NULL) {
		pool_free[c] = h->next;
	} else {
		h = malloc(sizeof(*h) + pool_class_size(c));
		if (h == NULL)
			return (NULL);
		POISON(h + 1, pool_class_size(c));
	}
	h->next = NULL;
	h->cls = c;
	h->magic = POOL_MAGIC;
	h->size = n;
	UNPOISON(h + 1, n);
	return (h + 1);
}

static void
pool_put(void *p)
{
	struct pool_hdr *h = (struct pool_hdr *)p - 1;

	if (h->magic != POOL_MAGIC)
		abort();	/* not ours: a mutator ownership bug */
	if (h->cls == POOL_BIG) {
		h->magic = 0;
		free(h);
		return;
	}
	POISON(p, pool_class_size(h->cls));
	h->next = pool_free[h->cls];
	pool_free[h->cls] = h;
}

void
pbmsg_pool_enter(void)
{

	pool_depth++;
}

void
pbmsg_pool_exit(void)
{

	if (pool_depth > 0)
		pool_depth--;
}

void *
pbmsg_mem_alloc(size_t n)
{

	return (pool_depth > 0 ? pool_get(n) : malloc(n));
}

void
pbmsg_mem_free(void *p)
{

	if (p == NULL)
		return;
	if (pool_depth > 0)
		pool_put(p);
	else
		free(p);
}

void *
pbmsg_mem_realloc(void *p, size_t n)
{
	struct pool_hdr *h;
	size_t old;
	void *q;

	if (pool_depth == 0)
		return (realloc(p, n));
	if (p == NULL)
		return (pool_get(n));
	h = (struct pool_hdr *)p - 1;
	old = h->size;
	if (h->cls != POOL_BIG && n <= pool_class_size(h->cls)) {
		if (n < old)
			POISON((char *)p + n, old - n);
		UNPOISON(p, n);
		h->size = n;
		return (p);
	}
	q = pool_get(n);
	if (q == NULL)
		return (NULL);
	memcpy(q, p, old < n ? old : n);
	pool_put(p);
	return (q);
}

void *
pbmsg_mem_calloc(size_t k, size_t n)
{
	void *p;

	if (n != 0 && k > SIZE_MAX / n)
		return (NULL);
	p = pbmsg_mem_alloc(k * n);
	if (p != NULL)
		memset(p, 0, k * n);
	return (p);
}

char *
pbmsg_mem_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	p = pbmsg_mem_alloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return (p);
}

static void *
pa_alloc(void *arg, size_t n)
{

	(void)arg;
	return (pbmsg_mem_alloc(n));
}

static void
pa_free(void *arg, void *p)
{

	(void)arg;
	pbmsg_mem_free(p);
}

static ProtobufCAllocator pool_allocator = { pa_alloc, pa_free, NULL };

ProtobufCAllocator *
pbmsg_allocator(void)
{

	return (pool_depth > 0 ? &pool_allocator : NULL);
}
