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

#include <stddef.h>
#include <stdint.h>

#include "pbmutate.h"

#define	PB_DEFINE_LIBFUZZER_MUTATOR(descriptor_ptr, hooks_ptr)		\
size_t	LLVMFuzzerCustomMutator(uint8_t *, size_t, size_t, unsigned int);\
size_t	LLVMFuzzerCustomCrossOver(const uint8_t *, size_t,		\
	    const uint8_t *, size_t, uint8_t *, size_t, unsigned int);	\
size_t									\
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,	\
    unsigned int seed)							\
{									\
									\
	return (pbmutate_mutate((descriptor_ptr), data, size, max_size,	\
	    seed, (hooks_ptr)));					\
}									\
size_t									\
LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,		\
    const uint8_t *data2, size_t size2, uint8_t *out, size_t max_out,	\
    unsigned int seed)							\
{									\
									\
	return (pbmutate_crossover((descriptor_ptr), data1, size1, data2,	\
	    size2, out, max_out, seed, (hooks_ptr)));			\
}									\
struct pb_libfuzzer_mutator_semicolon

#endif /* !_FUZZ_PB_LIBFUZZER_MUTATOR_H_ */
