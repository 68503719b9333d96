/*
 * Harness: the structure-aware mutator's hooks for Scenario messages,
 * shared by fuzz_scenario (libFuzzer) and the AFL++ custom mutator.
 */
#ifndef _FUZZ_SCENARIO_HOOKS_H_
#define	_FUZZ_SCENARIO_HOOKS_H_

#include "pbmutate.h"

/* repair = interp_clamp() with the default limits, then ops of no kind go. */
extern const struct pbmutate_hooks scenario_mutator_hooks;
/*
 * fuzz_threads: the same (but ops of no kind stay: switches name ops by
 * index), and Switch fields (an op of the scenario or an actor, an early
 * point, a thread that exists), new ops spread over a few logical
 * threads, generated scenarios with threads and switches.
 */
extern const struct pbmutate_hooks threads_mutator_hooks;

#endif /* !_FUZZ_SCENARIO_HOOKS_H_ */
