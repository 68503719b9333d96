/*
 * Userspace shim: the small hash the feedback writers share (the
 * sequential state feedback, fuzz/interp_feedback.c, and the threaded
 * mode's interleaving features, shim/sched_ilv.c): FNV-1a over three
 * words, with a final fold so the low bits (a map index) mix well.
 */
#ifndef _SHIM_HASH_H_
#define	_SHIM_HASH_H_

#include <stdint.h>

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
