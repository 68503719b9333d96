/*
 * Harness: mutator hooks for Scenario (see scenario_hooks.h).  The repair
 * step clamps every value into the interpreter's ranges, drops what is
 * past a limit and makes references canonical (modulo the live objects of
 * their kind), so a mutated input is almost never rejected and two inputs
 * that run the same are the same bytes.
 */
#include "fuzz/scenario_hooks.h"

#include "scenario.pb-c.h"
#include "fuzz/interp.h"

static void
scenario_repair(ProtobufCMessage *msg, void *arg)
{
	if (msg->descriptor == &scenario__descriptor)
		(void)interp_clamp((Scenario *)msg,
		    (const struct interp_limits *)arg);
}

const struct pbmutate_hooks scenario_mutator_hooks = {
	.repair = scenario_repair,
	.arg = NULL,			/* interp_default_limits */
	.max_repeated = 256,		/* interp_default_limits.max_ops */
	.max_string = 0,
};
