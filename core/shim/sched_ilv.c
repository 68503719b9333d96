/*
 * Interleaving bookkeeping of the controlled scheduler; see sched_ilv.h.
 * Compiled with sched_ctl.c, without TSan instrumentation: it runs on
 * whichever model thread is on CPU, and its tables must not look like
 * data the model threads share.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "shim/hash.h"
#include "shim/lock.h"
#include "shim/sched_ilv.h"

#define	NOTSAN	__attribute__((no_sanitize("thread")))

#define	ILV_OBJS	1024	/* objects tracked per run (power of 2) */
#define	ILV_HIST	8	/* a thread's last accesses kept per object */
#define	ILV_HELD	8

enum { ILV_PAIR = 1, ILV_STATE, ILV_LOCK, ILV_BLOCK };

struct ilv_obj {
	const void	*obj;
	uint32_t	 tid;		/* last to touch it, or UINT32_MAX */
	uint32_t	 site;		/* hash of (point, context) */
	/* Where tid's last accesses were: op and point in it. */
	uint32_t	 nhist;
	uint32_t	 op[ILV_HIST];
	uint32_t	 point[ILV_HIST];
};

struct sched_ilv {
	uint8_t		*map;
	size_t		 len;
	struct sched_switch *cand;
	size_t		 cand_max;
	size_t		 ncand;
	uint64_t	 cand_seen;	/* distinct candidates offered */
	int		 nobj;
	struct ilv_obj	 obj[ILV_OBJS];
};

NOTSAN uint32_t
sched_ilv_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (s != NULL && *s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return (h);
}

NOTSAN struct sched_ilv *
sched_ilv_new(uint8_t *map, size_t len, struct sched_switch *cand,
    size_t cand_max)
{
	struct sched_ilv *v;

	if (map == NULL || len == 0)
		return (NULL);
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return (NULL);
	v->map = map;
	v->len = len;
	v->cand = cand;
	v->cand_max = cand != NULL ? cand_max : 0;
	return (v);
}

NOTSAN void
sched_ilv_free(struct sched_ilv *v)
{
	free(v);
}

NOTSAN size_t
sched_ilv_ncandidates(const struct sched_ilv *v)
{
	return (v->ncand);
}

NOTSAN static void
ilv_set(struct sched_ilv *v, uint32_t kind, uint32_t a, uint32_t b)
{
	v->map[fnv_mix3(kind, a, b) % v->len] = 1;
}

NOTSAN static struct ilv_obj *
ilv_lookup(struct sched_ilv *v, const void *obj)
{
	uintptr_t p = (uintptr_t)obj;
	uint32_t i;

	i = (uint32_t)((p >> 4) ^ (p >> 16)) & (ILV_OBJS - 1);
	for (;;) {
		if (v->obj[i].obj == obj)
			return (&v->obj[i]);
		if (v->obj[i].obj == NULL) {
			/* Full: later objects go untracked, in every run. */
			if (v->nobj >= ILV_OBJS * 3 / 4)
				return (NULL);
			v->nobj++;
			v->obj[i].obj = obj;
			v->obj[i].tid = UINT32_MAX;
			return (&v->obj[i]);
		}
		i = (i + 1) & (ILV_OBJS - 1);
	}
}

NOTSAN static void
add_candidate(struct sched_ilv *v, uint32_t op, uint32_t point, uint32_t to)
{
	struct sched_switch *c = v->cand;
	size_t i;

	if (c == NULL || op == UINT32_MAX || v->cand_max == 0)
		return;
	for (i = 0; i < v->ncand; i++)
		if (c[i].op == op && c[i].point == point && c[i].to == to)
			return;
	/* A reservoir: late pairs count as much as the first ones. */
	v->cand_seen++;
	if (v->ncand < v->cand_max) {
		c[v->ncand++] = (struct sched_switch){ op, point, to };
		return;
	}
	i = (size_t)(fnv_mix3((uint32_t)v->cand_seen, op, point) % v->cand_seen);
	if (i < v->cand_max)
		c[i] = (struct sched_switch){ op, point, to };
}

NOTSAN void
sched_ilv_point(struct sched_ilv *v, uint32_t tid, uint32_t op,
    uint32_t point, uint32_t ctx, enum sched_point_kind kind,
    const void *obj, const char *what, uint32_t nrunnable)
{
	const char *held[ILV_HELD];
	struct ilv_obj *o;
	uint32_t site, i;
	int n;

	site = fnv_mix3(sched_ilv_name_hash(what), (uint32_t)kind, ctx);
	ilv_set(v, ILV_STATE, site, nrunnable < 3 ? nrunnable : 3);
	if (obj != NULL && (o = ilv_lookup(v, obj)) != NULL) {
		if (o->tid != UINT32_MAX && o->tid != tid) {
			ilv_set(v, ILV_PAIR, o->site, site);
			/*
			 * Any of the other thread's last accesses may open
			 * the window (a lookup before its use), not only the
			 * last one.
			 */
			for (i = 0; i < o->nhist && i < ILV_HIST; i++)
				add_candidate(v, o->op[i], o->point[i], tid);
			add_candidate(v, op, point, o->tid);
			o->nhist = 0;
		}
		o->tid = tid;
		o->site = site;
		o->op[o->nhist % ILV_HIST] = op;
		o->point[o->nhist % ILV_HIST] = point;
		o->nhist++;
	}
	if (kind == SP_LOCK) {
		n = witness_held_names(held, ILV_HELD);
		if (n > 0 && n <= ILV_HELD)
			ilv_set(v, ILV_LOCK, sched_ilv_name_hash(held[n - 1]),
			    sched_ilv_name_hash(what));
	}
}

NOTSAN void
sched_ilv_block(struct sched_ilv *v, uint32_t ctx, const char *what)
{
	ilv_set(v, ILV_BLOCK, sched_ilv_name_hash(what), ctx);
}
