/*
 * The controlled scheduler's interleaving bookkeeping (threaded mode,
 * fuzz_threads): features for the fuzzer and switch candidates, from the
 * preemption points the scheduler sees.  Internal to core/shim/
 * sched_ctl.c, which calls it only from the thread on CPU; like it, this
 * file is compiled without TSan instrumentation.
 *
 * Features, each setting one byte of the caller's map to 1:
 *	pair	two points over the same object (a lock, a refcount, an
 *		inp, a lagg's port list) that ran back to back on different
 *		threads: (site of the earlier, site of the later), in order
 *	state	(site, how many scenario threads could run there)
 *	lock	(innermost lock held, lock being acquired): lock order
 *	block	(site) where a thread blocked
 * A site is the point's name with what its thread was doing (the kind of
 * the op it runs, or the actor), so "refcount_release in close" and
 * "refcount_release in send" differ.  Objects are told apart by address
 * within one run only; features are names and kinds, the same in every
 * run of the same input (Krace's alias coverage, Snowboard's pairs).
 *
 * Candidates: for every pair, the switches that would reorder it: each
 * of the earlier thread's last accesses to the object (op, point) with
 * the later thread as target, and the later access with the earlier
 * thread as target; distinct, a reservoir once full.
 */
#ifndef _SHIM_SCHED_ILV_H_
#define	_SHIM_SCHED_ILV_H_

#include <stddef.h>
#include <stdint.h>

#include "shim/sched.h"
#include "shim/sched_ctl.h"

struct sched_ilv;

/* NULL: no memory. */
struct sched_ilv *sched_ilv_new(uint8_t *map, size_t len,
	    struct sched_switch *cand, size_t cand_max);
void	sched_ilv_free(struct sched_ilv *v);

/* Thread tid, running op 'op' (UINT32_MAX: none) at its point 'point'. */
void	sched_ilv_point(struct sched_ilv *v, uint32_t tid, uint32_t op,
	    uint32_t point, uint32_t ctx, enum sched_point_kind kind,
	    const void *obj, const char *what, uint32_t nrunnable);
void	sched_ilv_block(struct sched_ilv *v, uint32_t ctx, const char *what);
size_t	sched_ilv_ncandidates(const struct sched_ilv *v);

uint32_t sched_ilv_name_hash(const char *s);

#endif /* !_SHIM_SCHED_ILV_H_ */
