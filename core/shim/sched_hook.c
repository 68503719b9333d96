/*
 * Userspace shim: the scheduler seam.  NULL in the sequential mode; the
 * controlled scheduler (fuzz/, tools/) installs its ops before it starts
 * any model thread and clears them after joining them.
 */
#include <stddef.h>
#include <stdint.h>

#include "shim/sched.h"

const struct sched_ops *sched_active_ops = NULL;

/*
 * A build with coverage for libFuzzer (SNDTAG_FUZZ_INSTRUMENT; the tsan
 * preset has it for fuzz_threads) bumps its edge counters with plain
 * stores in whichever model thread runs, and clang 14's TSan instruments
 * those stores: every edge two model threads pass would be a "race".
 * The counters are the engine's bookkeeping, not the model's memory, so
 * they and only they are declared benign races (TSan's dynamic
 * annotation); a race on anything else is still reported.
 */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak));
void	AnnotateBenignRaceSized(const char *, int, const volatile void *,
	    size_t, const char *) __attribute__((weak));

/*
 * At start-up, here (every binary that runs model code links this file):
 * tests run model threads of their own, without sched_run.
 */
__attribute__((constructor)) static void
sancov_counters_benign(void)
{
	static int done;

	if (done || AnnotateBenignRaceSized == NULL ||
	    __start___sancov_cntrs == NULL ||
	    __stop___sancov_cntrs <= __start___sancov_cntrs)
		return;
	done = 1;
	AnnotateBenignRaceSized(__FILE__, __LINE__, __start___sancov_cntrs,
	    (size_t)(__stop___sancov_cntrs - __start___sancov_cntrs),
	    "sancov edge counters");
}
