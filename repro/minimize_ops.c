/*
 * sndtag-minimize: the passes over the operations (pass 1: all at once,
 * ddmin, one at a time) and over the schedule of a threaded scenario
 * (pass 4).  Both keep the switches naming the ops they named.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "repro/minimize_int.h"

/* ---- pass 1: operations --------------------------------------------- */

/* Try the current scenario without ops [from, from + n). */
static bool
ops_without(size_t from, size_t n)
{
	Scenario v = *min_state.sc;
	char what[64];
	size_t i, k = 0;
	Switch **sws = NULL, *swv = NULL;
	Op **ops;
	bool ok;

	ops = calloc(min_state.sc->n_ops + 1, sizeof(*ops));
	if (ops == NULL)
		return (false);
	for (i = 0; i < min_state.sc->n_ops; i++)
		if (i < from || i >= from + n)
			ops[k++] = min_state.sc->ops[i];
	v.ops = ops;
	v.n_ops = k;
	/* Switches keep naming the same ops and actors. */
	if (min_state.sc->n_switches > 0) {
		sws = calloc(min_state.sc->n_switches, sizeof(*sws));
		swv = calloc(min_state.sc->n_switches, sizeof(*swv));
		if (sws == NULL || swv == NULL) {
			free(sws);
			free(swv);
			free(ops);
			return (false);
		}
		for (i = 0, k = 0; i < min_state.sc->n_switches; i++) {
			uint32_t op = min_state.sc->switches[i]->op;

			if (op >= from && op < from + n)
				continue;
			swv[k] = *min_state.sc->switches[i];
			if (op >= from + n)
				swv[k].op = op - (uint32_t)n;
			sws[k] = &swv[k];
			k++;
		}
		v.switches = sws;
		v.n_switches = k;
	}
	if (n == 1)
		snprintf(what, sizeof(what), "removed op #%zu", from);
	else
		snprintf(what, sizeof(what), "removed ops #%zu-#%zu", from,
		    from + n - 1);
	ok = min_try_view(&v, what);
	free(ops);
	free(sws);
	free(swv);
	return (ok);
}

bool
min_pass_ops(void)
{
	size_t n = 2, len, chunk, start, cnt, i;
	bool any = false, reduced;

	min_progress("operations: %zu (ddmin)", min_state.sc->n_ops);
	/* A crash in setup or teardown may need no operation at all. */
	if (min_state.sc->n_ops > 0 && ops_without(0, min_state.sc->n_ops))
		return (true);
	while ((len = min_state.sc->n_ops) >= 2 && !min_state.out_of_tries) {
		if (n > len)
			n = len;
		chunk = (len + n - 1) / n;
		reduced = false;
		for (start = 0; start < len; start += chunk) {
			cnt = chunk < len - start ? chunk : len - start;
			if (ops_without(start, cnt)) {
				reduced = true;
				break;
			}
		}
		if (reduced) {
			any = true;
			n = n > 2 ? n - 1 : 2;
			continue;
		}
		if (n >= len)
			break;
		n = n * 2 < len ? n * 2 : len;
	}
	/* ddmin ends at single ops; once more, last to first. */
	for (i = min_state.sc->n_ops; i-- > 0 && !min_state.out_of_tries;)
		if (i < min_state.sc->n_ops && ops_without(i, 1))
			any = true;
	return (any);
}

/* ---- pass 4: the schedule (--threaded) ------------------------------ */

/* Try the current scenario without switch i (all of them: i == n). */
static bool
switch_without(size_t i)
{
	Scenario v = *min_state.sc;
	Switch **sws;
	size_t j, k = 0;
	char what[64];
	bool ok;

	sws = calloc(min_state.sc->n_switches + 1, sizeof(*sws));
	if (sws == NULL)
		return (false);
	if (i < min_state.sc->n_switches)
		for (j = 0; j < min_state.sc->n_switches; j++)
			if (j != i)
				sws[k++] = min_state.sc->switches[j];
	v.switches = sws;
	v.n_switches = k;
	if (i < min_state.sc->n_switches)
		snprintf(what, sizeof(what), "removed switch %zu", i);
	else
		snprintf(what, sizeof(what), "removed every switch");
	ok = min_try_view(&v, what);
	free(sws);
	return (ok);
}

/* Try switch i with its point at p. */
static bool
switch_point(size_t i, uint32_t p)
{
	Scenario v = *min_state.sc;
	Switch **sws, one;
	char what[64];
	bool ok;

	sws = calloc(min_state.sc->n_switches, sizeof(*sws));
	if (sws == NULL)
		return (false);
	memcpy(sws, min_state.sc->switches,
	    min_state.sc->n_switches * sizeof(*sws));
	one = *min_state.sc->switches[i];
	one.point = p;
	one.has_point = 1;
	sws[i] = &one;
	v.switches = sws;
	snprintf(what, sizeof(what), "switch %zu at point %u", i, p);
	ok = min_try_view(&v, what);
	free(sws);
	return (ok);
}

bool
min_pass_switches(void)
{
	uint32_t lo, hi, mid;
	bool any = false;
	size_t i;

	if (!min_state.threaded || min_state.sc->n_switches == 0)
		return (false);
	min_progress("schedule: %zu switches", min_state.sc->n_switches);
	if (switch_without(min_state.sc->n_switches))
		return (true);
	for (i = min_state.sc->n_switches; i-- > 0 && !min_state.out_of_tries;)
		if (i < min_state.sc->n_switches && switch_without(i))
			any = true;
	/* Earliest point that still gives the bucket (bisect, then 0). */
	for (i = 0; i < min_state.sc->n_switches && !min_state.out_of_tries;
	    i++) {
		hi = min_state.sc->switches[i]->point;
		if (hi == 0)
			continue;
		if (switch_point(i, 0)) {
			any = true;
			continue;
		}
		lo = 0;
		while (hi - lo > 1 && !min_state.out_of_tries) {
			mid = lo + (hi - lo) / 2;
			if (switch_point(i, mid)) {
				hi = mid;
				any = true;
			} else
				lo = mid;
		}
	}
	return (any);
}
