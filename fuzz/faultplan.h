/*
 * Harness: systematic fault injection for the structured target, as
 * syzkaller's fail_nth: after an input reaches something new, fail each
 * M_NOWAIT allocation of each of its operations, one variant per
 * allocation, by inserting a FailAlloc op (nth = k, any type) just before
 * the operation.  A random FailAlloc op only hits the allocation a bug
 * needs by luck: the k-th of the op's allocations is a number the input
 * cannot know, so the run itself counts them.
 *
 *	fault_rec_begin(&rec);	before a sequential run: counts, per op,
 *	interp_run_bytes(...);	    the allocations a fault could hit
 *	fault_rec_end();
 *	faultplan_set(&plan, data, size, &rec, budget);   the input to vary
 *	while (faultplan_next(&plan, &op, &nth))
 *		n = fault_insert(plan.data, plan.size, op, nth, out, max);
 *
 * No libFuzzer in here: fuzz_scenario.c calls it from its custom
 * mutator's pre hook, the self-test directly.
 */
#ifndef _FUZZ_FAULTPLAN_H_
#define	_FUZZ_FAULTPLAN_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define	FAULT_MAX_OPS	256	/* interp_default_limits.max_ops */
#define	FAULT_MAX_INPUT	8192	/* fuzz_scenario's max_len */

struct fault_rec {
	uint32_t	allocs[FAULT_MAX_OPS];	/* fault points per op */
	uint32_t	nops;			/* ops that ran */
	uint64_t	start;			/* malloc_fail_points() at op start */
};

struct faultplan {
	uint8_t		data[FAULT_MAX_INPUT];
	size_t		size;
	uint32_t	allocs[FAULT_MAX_OPS];
	uint32_t	nops;
	uint32_t	total;		/* fault points, all ops */
	uint32_t	stride;		/* coprime with total */
	uint32_t	i;		/* variants handed out */
	uint32_t	left;		/* variants still to hand out */
};

/* Count the fault points of each op of the next sequential run(s). */
void	fault_rec_begin(struct fault_rec *r);
void	fault_rec_end(void);

/*
 * Vary this input next (a copy is kept), at most budget variants; an
 * input too large to keep leaves the plan empty.
 */
void	faultplan_set(struct faultplan *p, const uint8_t *data, size_t size,
	    const struct fault_rec *r, uint32_t budget);
/*
 * The next (op, nth) to try: op's nth fault point; false when done.
 * Every fault point once, in a scattered order (a stride of about
 * 0.618 x total through them), so a plan cut short by the next new
 * input has tried ops from the whole input, not only its first ones.
 */
bool	faultplan_next(struct faultplan *p, uint32_t *op, uint32_t *nth);

/*
 * The Scenario in data with FailAlloc { nth } inserted before ops[op],
 * packed into out; 0 if data is not a Scenario, op is past its ops or
 * the result is larger than max.
 */
size_t	fault_insert(const uint8_t *data, size_t size, uint32_t op,
	    uint32_t nth, uint8_t *out, size_t max);

/* Failures injected in the input that ran last (the shim's count). */
uint64_t fault_injected(void);

#endif /* !_FUZZ_FAULTPLAN_H_ */
