/*
 * libFuzzer glue for the structure-aware mutator.  In exactly one source
 * file of a structured fuzz target:
 *
 *	#include "pb_libfuzzer_mutator.h"
 *	PB_DEFINE_LIBFUZZER_MUTATOR(&scenario__descriptor, &scenario_hooks);
 *
 * (hooks may be NULL).  libFuzzer then calls pbmutate_mutate() and
 * pbmutate_crossover() instead of its byte mutations, passing its own
 * seed, so runs stay reproducible with -seed=N.  Under AFL++ or the
 * standalone driver the two functions are defined but never called.
 */
#ifndef _FUZZ_PB_LIBFUZZER_MUTATOR_H_
#define	_FUZZ_PB_LIBFUZZER_MUTATOR_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbmutate.h"

/*
 * SNDTAG_MUTLOG=FILE: one line per mutation, "<fnv1a64 of the output>
 * <in size> <out size> <kind> <pbmutate_last()>", so a campaign's corpus
 * files can be traced back to the mutation that made them, and "new
 * <fnv1a64>" for each input handed to pb_follow(), so what reached
 * something new can too (tools/mutstats.c).  Off (one getenv) unless set.
 */
void	pb_mutlog(const uint8_t *data, size_t in, size_t out,
	    const char *kind);

/*
 * Inputs to follow.  A target calls pb_follow() after an input that
 * reached something new by its own measure (for fuzz_scenario: a
 * lifecycle state or an edge of the model no earlier input of the
 * process reached); then half of the next mutations and crossovers
 * start from the newest such input, 256 times each, so its descendants
 * are explored depth first (as AFL fuzzes a new queue entry, havoc and
 * splice alike, before going round the queue again), and the engine's
 * own choice takes over when none is left.  pb_follow_take() copies
 * that input into data and returns its size, or 0; pb_follow_peek()
 * points *datap at it instead (valid until the next pb_follow()).
 */
void	pb_follow(const uint8_t *data, size_t size);
size_t	pb_follow_take(uint8_t *data, size_t max_size, unsigned int seed);
size_t	pb_follow_peek(const uint8_t **datap, size_t max_size,
	    unsigned int seed);

/*
 * After a run: did it hit a counter that no earlier run of the process
 * hit, one of the binary's SanitizerCoverage counters (an edge) or of
 * libFuzzer's extra counters (a target's own features)?  Records them.
 * False when the binary has neither.
 */
bool	pb_cov_novel(void);

/*
 * The hooks with mutate_bytes = LLVMFuzzerMutate when the engine has it
 * (weak: the AFL++ driver and the standalone runner do not).
 */
size_t	LLVMFuzzerMutate(uint8_t *, size_t, size_t) __attribute__((weak));

static inline const struct pbmutate_hooks *
pb_libfuzzer_hooks(const struct pbmutate_hooks *base)
{
	static struct pbmutate_hooks h;
	static int ready;

	if (!ready) {
		if (base != NULL)
			h = *base;
		if (h.mutate_bytes == NULL && LLVMFuzzerMutate != NULL)
			h.mutate_bytes = LLVMFuzzerMutate;
		ready = 1;
	}
	return (&h);
}

#define	PB_DEFINE_LIBFUZZER_MUTATOR(descriptor_ptr, hooks_ptr)		\
	PB_DEFINE_LIBFUZZER_MUTATOR_PRE(descriptor_ptr, hooks_ptr, NULL)

/*
 * The same, with pre(data, size, max_size, seed): a target's own
 * mutation tried first (for what only the target knows, such as what
 * the input did when it ran); it returns the new size, or 0 to leave
 * the input to the structure-aware mutator.
 */
#define	PB_DEFINE_LIBFUZZER_MUTATOR_PRE(descriptor_ptr, hooks_ptr, pre)	\
size_t	LLVMFuzzerCustomMutator(uint8_t *, size_t, size_t, unsigned int);\
size_t	LLVMFuzzerCustomCrossOver(const uint8_t *, size_t,		\
	    const uint8_t *, size_t, uint8_t *, size_t, unsigned int);	\
size_t									\
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,	\
    unsigned int seed)							\
{									\
	size_t (*pre_fn)(uint8_t *, size_t, size_t, unsigned int) = (pre);\
	size_t in = size, out = 0;					\
									\
	if (pre_fn != NULL &&						\
	    (out = pre_fn(data, size, max_size, seed)) != 0) {		\
		pb_mutlog(data, in, out, "pre");			\
		return (out);						\
	}								\
	if ((out = pb_follow_take(data, max_size, seed)) != 0)		\
		size = out;						\
	out = pbmutate_mutate((descriptor_ptr), data, size, max_size,	\
	    seed, pb_libfuzzer_hooks(hooks_ptr));			\
	pb_mutlog(data, in, out, "mut");				\
	return (out);							\
}									\
size_t									\
LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,		\
    const uint8_t *data2, size_t size2, uint8_t *out, size_t max_out,	\
    unsigned int seed)							\
{									\
	const uint8_t *f;						\
	size_t n;							\
									\
	if ((n = pb_follow_peek(&f, SIZE_MAX, seed)) != 0) {		\
		data1 = f;						\
		size1 = n;						\
	}								\
	n = pbmutate_crossover((descriptor_ptr), data1, size1, data2,	\
	    size2, out, max_out, seed, pb_libfuzzer_hooks(hooks_ptr));	\
	pb_mutlog(out, size1, n, "cross");				\
	return (n);							\
}									\
struct pb_libfuzzer_mutator_semicolon

#endif /* !_FUZZ_PB_LIBFUZZER_MUTATOR_H_ */
