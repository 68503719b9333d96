/*
 * Userspace shim: the small hashes the harness shares.  fnv_mix3: the
 * feedback writers' (the sequential state feedback,
 * fuzz/interp_feedback.c, and the threaded mode's interleaving features,
 * shim/sched_ilv.c), FNV-1a over three words with a final fold so the
 * low bits (a map index) mix well.  fnv1a64: FNV-1a, 64 bits, over bytes
 * (not FreeBSD's sys/fnv_hash.h, which is FNV-1): a schedule's trace
 * hash (shim/sched_ctl.c) and fuzz_threads' names of inputs.  The
 * mutator library keeps its own (pbmutate_hash(), fuzz/pbmutate.h): it
 * does not depend on the core.
 */
#ifndef _SHIM_HASH_H_
#define	_SHIM_HASH_H_

#include <stddef.h>
#include <stdint.h>

#define	FNV1A64_INIT	UINT64_C(0xcbf29ce484222325)

static inline uint64_t
fnv1a64_update(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return (h);
}

static inline uint64_t
fnv1a64(const void *p, size_t n)
{
	return (fnv1a64_update(FNV1A64_INIT, p, n));
}

static inline uint32_t
fnv_mix3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t h = 2166136261u;

	h = (h ^ a) * 16777619u;
	h = (h ^ b) * 16777619u;
	h = (h ^ c) * 16777619u;
	return (h ^ (h >> 15));
}

#endif /* !_SHIM_HASH_H_ */
