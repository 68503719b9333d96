/*
 * AFL++ custom mutator (AFL_CUSTOM_MUTATOR_LIBRARY) over pbmutate, for one
 * protobuf-c root message chosen at build time:
 *
 *	-DPB_ROOT_DESCRIPTOR=scenario__descriptor	(required)
 *	-DPB_HOOKS=scenario_mutator_hooks		(optional, a
 *					const struct pbmutate_hooks)
 *
 * sndtag_add_afl_mutator() in fuzz/CMakeLists.txt builds it as <name>.so,
 * uninstrumented and unsanitised, since afl-fuzz itself loads it.
 *
 * fuzz: mutate the queue entry, or (one call in five) cross it with the
 * splice candidate AFL++ passes in add_buf.  trim: remove elements of
 * repeated fields one at a time, last first, keeping every removal that
 * AFL++ reports as preserving coverage; structure survives, unlike with
 * AFL++'s byte-range trimming.
 *
 * The functions follow AFL++ 4.04c's custom mutator API (its headers are
 * not installed, so the types are spelled out: s32 = int32_t, u8 =
 * unsigned char).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbmutate.h"

#ifndef PB_ROOT_DESCRIPTOR
#error "define PB_ROOT_DESCRIPTOR to the root message descriptor's symbol"
#endif
extern const ProtobufCMessageDescriptor PB_ROOT_DESCRIPTOR;
#ifdef PB_HOOKS
extern const struct pbmutate_hooks PB_HOOKS;
#define	ROOT_HOOKS	(&PB_HOOKS)
#else
#define	ROOT_HOOKS	NULL
#endif

#define	TRIM_UNITS_MAX	1024	/* executions per trim, at most */
#define	FUZZ_TRIES	4

/* One removable element: element idx of repeated field f of node m. */
struct trim_unit {
	ProtobufCMessage		*m;
	const ProtobufCFieldDescriptor	*f;
	size_t				 idx;
};

struct pb_afl {
	uint64_t	 rs;		/* per-call seeds */
	uint8_t		*buf;		/* fuzz output */
	size_t		 cap;
	char		 desc[128];

	ProtobufCMessage *tm;		/* trimming: working message */
	struct trim_unit *units;
	size_t		 nunits;
	size_t		 step;		/* units tried so far */
	size_t		 orig_size;
	uint8_t		*tbuf;		/* trim output, <= orig_size */
	size_t		 tlen;
	uint8_t		*good;		/* last output AFL++ accepted */
	size_t		 goodlen;
	unsigned char	 held[sizeof(ProtobufCBinaryData) + 8];
	bool		 holding;	/* held = the removed element */
};

void	*afl_custom_init(void *afl, unsigned int seed);
size_t	 afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size,
	    unsigned char **out_buf, unsigned char *add_buf,
	    size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
int32_t	 afl_custom_init_trim(void *data, unsigned char *buf,
	    size_t buf_size);
size_t	 afl_custom_trim(void *data, unsigned char **out_buf);
int32_t	 afl_custom_post_trim(void *data, unsigned char success);
void	 afl_custom_deinit(void *data);

static uint32_t
next_seed(struct pb_afl *st)
{
	uint64_t z;

	z = (st->rs += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return ((uint32_t)(z ^ (z >> 31)));
}

void *
afl_custom_init(void *afl, unsigned int seed)
{
	struct pb_afl *st;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return (NULL);
	st->rs = seed;
	return (st);
}

size_t
afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size,
    unsigned char **out_buf, unsigned char *add_buf, size_t add_buf_size,
    size_t max_size)
{
	struct pb_afl *st = data;
	size_t len = 0, need;
	uint8_t *nb;
	uint32_t seed;
	int i;

	if (max_size == 0)
		max_size = 1;
	/* Room for the whole input: an oversized one is shrunk, not cut. */
	need = buf_size > max_size ? buf_size : max_size;
	if (st->cap < need) {
		nb = realloc(st->buf, need);
		if (nb == NULL) {
			*out_buf = buf;
			return (buf_size);
		}
		st->buf = nb;
		st->cap = need;
	}
	/* AFL++ wants a non-empty output: retry an empty result. */
	for (i = 0; i < FUZZ_TRIES && len == 0; i++) {
		seed = next_seed(st);
		if (add_buf != NULL && add_buf_size > 0 && seed % 5 == 0)
			len = pbmutate_crossover(&PB_ROOT_DESCRIPTOR, buf,
			    buf_size, add_buf, add_buf_size, st->buf, max_size,
			    seed, ROOT_HOOKS);
		else {
			if (buf_size > 0)
				memcpy(st->buf, buf, buf_size);
			len = pbmutate_mutate(&PB_ROOT_DESCRIPTOR, st->buf,
			    buf_size, max_size, seed, ROOT_HOOKS);
		}
	}
	snprintf(st->desc, sizeof(st->desc), "pb-%s", pbmutate_last());
	if (len == 0) {
		/* Still empty: hand back the input (or one byte). */
		if (buf_size > 0 && buf_size <= max_size) {
			memcpy(st->buf, buf, buf_size);
			len = buf_size;
		} else {
			st->buf[0] = 0;
			len = 1;
		}
	}
	*out_buf = st->buf;
	return (len);
}

const char *
afl_custom_describe(void *data, size_t max_description_len)
{
	struct pb_afl *st = data;

	if (max_description_len < sizeof(st->desc))
		st->desc[max_description_len] = '\0';
	return (st->desc);
}

static int
collect_units(ProtobufCMessage *m, int depth, void *arg)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	struct pb_afl *st = arg;
	size_t n, i;
	unsigned k;

	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (!pbmsg_is_repeated(f))
			continue;
		n = pbmsg_count(m, f);
		for (i = 0; i < n; i++) {
			if (st->nunits == TRIM_UNITS_MAX)
				return (1);
			st->units[st->nunits].m = m;
			st->units[st->nunits].f = f;
			st->units[st->nunits].idx = i;
			st->nunits++;
		}
	}
	return (0);
}

static void
trim_reset(struct pb_afl *st)
{
	struct trim_unit *u;

	if (st->holding && st->tm != NULL) {
		/* Trimming abandoned mid-step: the element is ours to free. */
		u = &st->units[st->nunits - 1 - st->step];
		pbmsg_free_value(u->f, st->held, true);
	}
	pbmsg_free(st->tm);
	st->tm = NULL;
	free(st->units);
	st->units = NULL;
	free(st->tbuf);
	st->tbuf = NULL;
	free(st->good);
	st->good = NULL;
	st->nunits = st->step = st->tlen = st->goodlen = 0;
	st->holding = false;
}

int32_t
afl_custom_init_trim(void *data, unsigned char *buf, size_t buf_size)
{
	struct pb_afl *st = data;

	trim_reset(st);
	if (buf_size == 0)
		return (0);
	st->tm = protobuf_c_message_unpack(&PB_ROOT_DESCRIPTOR, NULL,
	    buf_size, buf);
	st->units = calloc(TRIM_UNITS_MAX, sizeof(*st->units));
	st->good = malloc(buf_size);
	if (st->tm == NULL || st->units == NULL || st->good == NULL) {
		trim_reset(st);
		return (0);
	}
	memcpy(st->good, buf, buf_size);
	st->goodlen = st->orig_size = buf_size;
	(void)pbmsg_walk(st->tm, PBMSG_MAX_DEPTH, collect_units, st);
	return ((int32_t)st->nunits);
}

/*
 * Units are tried in reverse pre-order: removing a later unit never moves
 * an earlier one (its node is not inside the removed element, and its
 * index is lower).
 */
size_t
afl_custom_trim(void *data, unsigned char **out_buf)
{
	struct pb_afl *st = data;
	struct trim_unit *u;
	size_t sz, len;
	uint8_t *packed;
	char *arr;

	free(st->tbuf);
	st->tbuf = NULL;
	st->holding = false;
	if (st->tm == NULL || st->step >= st->nunits) {
		*out_buf = st->good;
		return (st->goodlen);
	}
	u = &st->units[st->nunits - 1 - st->step];
	sz = pbmsg_elt_size(u->f->type);
	/* Take the element out without freeing it: post_trim may restore. */
	arr = pbmsg_slot(u->m, u->f, 0);
	memcpy(st->held, arr + u->idx * sz, sz);
	memmove(arr + u->idx * sz, arr + (u->idx + 1) * sz,
	    (pbmsg_count(u->m, u->f) - u->idx - 1) * sz);
	(*(size_t *)PBMSG_MEMBER(u->m, u->f->quantifier_offset))--;
	st->holding = true;
	packed = pbmsg_pack(st->tm, &len);
	if (packed == NULL || len == 0 || len > st->orig_size) {
		/*
		 * Re-encoding grew it (non-canonical input) or left nothing:
		 * offer the last good input, and post_trim restores the unit.
		 */
		free(packed);
		*out_buf = st->good;
		return (st->goodlen);
	}
	st->tbuf = packed;
	st->tlen = len;
	*out_buf = st->tbuf;
	return (st->tlen);
}

int32_t
afl_custom_post_trim(void *data, unsigned char success)
{
	struct pb_afl *st = data;
	struct trim_unit *u;
	size_t sz, n;
	char *arr;

	if (st->tm == NULL || st->step >= st->nunits)
		return ((int32_t)st->nunits);
	u = &st->units[st->nunits - 1 - st->step];
	if (st->holding) {
		sz = pbmsg_elt_size(u->f->type);
		if (success && st->tbuf != NULL && st->tlen > 0) {
			pbmsg_free_value(u->f, st->held, true);
			free(st->good);
			st->good = st->tbuf;
			st->goodlen = st->tlen;
			st->tbuf = NULL;
		} else {
			/* Put it back where it was (the array kept its size). */
			n = pbmsg_count(u->m, u->f);
			arr = pbmsg_slot(u->m, u->f, 0);
			memmove(arr + (u->idx + 1) * sz, arr + u->idx * sz,
			    (n - u->idx) * sz);
			memcpy(arr + u->idx * sz, st->held, sz);
			(*(size_t *)PBMSG_MEMBER(u->m,
			    u->f->quantifier_offset))++;
		}
		st->holding = false;
	}
	st->step++;
	return ((int32_t)st->step);
}

void
afl_custom_deinit(void *data)
{
	struct pb_afl *st = data;

	if (st == NULL)
		return;
	trim_reset(st);
	free(st->buf);
	free(st);
}
