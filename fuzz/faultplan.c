/*
 * Harness: systematic fault injection (see faultplan.h).
 */
#include "fuzz/faultplan.h"

#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/decode_arena.h"
#include "fuzz/interp.h"
#include "shim/malloc.h"

static void
rec_hook(void *arg, int op_case, int after)
{
	struct fault_rec *r = arg;
	uint64_t now = malloc_fail_points();

	(void)op_case;
	if (!after) {
		r->start = now;
		return;
	}
	if (r->nops < FAULT_MAX_OPS)
		r->allocs[r->nops] = (uint32_t)(now - r->start);
	r->nops++;
}

void
fault_rec_begin(struct fault_rec *r)
{

	r->nops = 0;
	interp_set_op_hook(rec_hook, r);
}

void
fault_rec_end(void)
{

	interp_set_op_hook(NULL, NULL);
}

static uint32_t
gcd(uint32_t a, uint32_t b)
{
	uint32_t t;

	while (b != 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return (a);
}

void
faultplan_set(struct faultplan *p, const uint8_t *data, size_t size,
    const struct fault_rec *r, uint32_t budget)
{
	uint64_t total = 0;
	uint32_t k, s;

	p->left = 0;
	if (size == 0 || size > sizeof(p->data) || r->nops > FAULT_MAX_OPS)
		return;
	for (k = 0; k < r->nops; k++)
		total += r->allocs[k];
	if (total == 0 || total > UINT32_MAX / 2)
		return;
	memcpy(p->data, data, size);
	p->size = size;
	p->nops = r->nops;
	memcpy(p->allocs, r->allocs, r->nops * sizeof(p->allocs[0]));
	p->total = (uint32_t)total;
	for (s = (uint32_t)(total * 618 / 1000) + 1; gcd(s, p->total) != 1;
	    s--)
		;
	p->stride = s;
	p->i = 0;
	p->left = budget < p->total ? budget : p->total;
}

bool
faultplan_next(struct faultplan *p, uint32_t *op, uint32_t *nth)
{
	uint32_t idx, k;

	if (p->left == 0)
		return (false);
	idx = (uint32_t)(((uint64_t)p->i * p->stride) % p->total);
	for (k = 0; idx >= p->allocs[k]; k++)
		idx -= p->allocs[k];
	*op = k;
	*nth = idx + 1;
	p->i++;
	p->left--;
	return (true);
}

size_t
fault_insert(const uint8_t *data, size_t size, uint32_t op, uint32_t nth,
    uint8_t *out, size_t max)
{
	Op *ops[FAULT_MAX_OPS + 1], fop = OP__INIT, **old;
	FailAlloc fa = FAIL_ALLOC__INIT;
	Scenario *sc;
	size_t n, len = 0;

	if ((sc = scenario__unpack(decode_arena(), size, data)) == NULL) {
		decode_arena_drop(NULL);
		return (0);
	}
	n = sc->n_ops;
	if (op < n && n < FAULT_MAX_OPS) {
		fa.has_nth = 1;
		fa.nth = nth;
		fop.op_case = OP__OP_FAIL_ALLOC;
		fop.fail_alloc = &fa;
		memcpy(ops, sc->ops, op * sizeof(ops[0]));
		ops[op] = &fop;
		memcpy(ops + op + 1, sc->ops + op, (n - op) * sizeof(ops[0]));
		old = sc->ops;
		sc->ops = ops;
		sc->n_ops = n + 1;
		if (scenario__get_packed_size(sc) <= max)
			len = scenario__pack(sc, out);
		/* The arena owns the decoded ops, not these. */
		sc->ops = old;
		sc->n_ops = n;
	}
	decode_arena_drop(&sc->base);
	return (len);
}

uint64_t
fault_injected(void)
{

	return (malloc_fail_count());
}
