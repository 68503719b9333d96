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
#include "fuzz/interp.h"
#include "fuzz/scenario_hooks.h"
#include "fuzz/pb_libfuzzer_mutator.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

PB_DEFINE_LIBFUZZER_MUTATOR(&scenario__descriptor, &scenario_mutator_hooks);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interp_options opts = { NULL, NULL };
	const char *tr = getenv("SNDTAG_TRACE");

	if (tr != NULL && tr[0] == '1')
		opts.trace = stderr;
	/* -1 keeps inputs that are not scenarios out of the corpus. */
	if (interp_run_bytes(data, size, &opts) < 0)
		return (-1);
	/*
	 * An edge of the model or a lifecycle state (interp_feedback.c's
	 * extra counters) no input reached before: follow it (libFuzzer's
	 * custom mutator; under AFL++ the mutator is afl-fuzz's, and this
	 * copy goes unused).
	 */
	if (pb_cov_novel())
		pb_follow(data, size);
	return (0);
}
