/*
 * fuzz_scenario: the structured target.  The input is a packed Scenario
 * (fuzz/scenario.proto); the custom mutator (fuzz/pbmutate.h) mutates it
 * as a message and the repair hook (fuzz/scenario_hooks.c) keeps it
 * inside the interpreter's limits with canonical references.
 * SNDTAG_TRACE=1 in the environment prints the trace on stderr.
 */
#include <stdint.h>
#include <stdlib.h>

#include "scenario.pb-c.h"
#include "fuzz/faultplan.h"
#include "fuzz/interp.h"
#include "fuzz/scenario_hooks.h"
#include "fuzz/pb_libfuzzer_mutator.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Systematic fault injection (fuzz/faultplan.h) for the newest input
 * that reached something new: one mutation in 32 while it has variants
 * left, at most FAULT_BUDGET of them; the next new input takes the plan
 * over.  A small share because a failed allocation runs an error path
 * few other runs reach, and libFuzzer's entropic schedule pays for every
 * rare feature a run hits (one in eight cost a campaign 15% of its
 * exec/s, one in 32 4%; docs/FUZZING.md).
 */
#define	FAULT_BUDGET	128

static struct fault_rec rec;
static struct faultplan plan;

static size_t
fault_pre(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint32_t op, nth;
	size_t n;

	(void)size;		/* the variant replaces the engine's input */
	if (((uint32_t)seed * 0x9e3779b1u) >> 27 != 3)
		return (0);
	while (faultplan_next(&plan, &op, &nth))
		if ((n = fault_insert(plan.data, plan.size, op, nth, data,
		    max_size)) != 0)
			return (n);
	return (0);
}

PB_DEFINE_LIBFUZZER_MUTATOR_PRE(&scenario__descriptor, &scenario_mutator_hooks,
    fault_pre);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interp_options opts = { NULL, NULL };
	const char *tr = getenv("SNDTAG_TRACE");
	int error;

	if (tr != NULL && tr[0] == '1')
		opts.trace = stderr;
	fault_rec_begin(&rec);
	error = interp_run_bytes(data, size, &opts);
	fault_rec_end();
	/* -1 keeps inputs that are not scenarios out of the corpus. */
	if (error < 0)
		return (-1);
	/*
	 * An edge of the model or a lifecycle state (interp_feedback.c's
	 * extra counters) no input reached before: follow it, and fail its
	 * allocations in turn (libFuzzer's custom mutator; under AFL++ the
	 * mutator is afl-fuzz's, and these copies go unused).
	 */
	if (pb_cov_novel()) {
		pb_follow(data, size);
		faultplan_set(&plan, data, size, &rec, FAULT_BUDGET);
	}
	return (0);
}
