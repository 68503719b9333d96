/*
 * Structure-aware protobuf-c mutator over runtime descriptors.  See
 * pbmutate.h for what it does; this file is the how.
 */
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbmutate.h"
#include "pbmutate_int.h"

#define	DEF_MAX_REPEATED	64
#define	DEF_MAX_STRING		32
#define	MAX_ROUNDS		8	/* mutations per call, at most */
#define	SPLICE_RUN		8	/* elements a splice copies, at most */
#define	SHRINK_ROUNDS		64
#define	RETRIES			4	/* attempts at an output != input */
#define	GENERATE_ONE_IN		100	/* hooks->generate, not a mutation */
#define	PROGRAM_SHARE		64	/* of 256 mutations: hooks->program's */

static _Thread_local char last_desc[96];
struct pbmutate_stats pbm_stats;

const struct pbmutate_stats *
pbmutate_get_stats(void)
{

	return (&pbm_stats);
}

static void
ctx_init(struct mctx *c, uint64_t seed, const struct pbmutate_hooks *h)
{

	memset(c, 0, sizeof(*c));
	c->rs = seed ^ UINT64_C(0x5bd1e9955bd1e995);
	c->max_rep = h != NULL && h->max_repeated != 0 ? h->max_repeated :
	    DEF_MAX_REPEATED;
	c->max_str = h != NULL && h->max_string != 0 ? h->max_string :
	    DEF_MAX_STRING;
	c->h = h;
}

/* Record "what:name" in the description, keeping only safe characters. */
static void
note(struct mctx *c, const char *what, const char *name)
{
	const char *parts[3] = { what, ":", name };
	const char *s;
	int i;

	if (c->dlen > 0 && c->dlen + 1 < sizeof(c->desc))
		c->desc[c->dlen++] = ',';
	for (i = 0; i < 3; i++) {
		for (s = parts[i]; *s != '\0' && c->dlen + 1 < sizeof(c->desc);
		    s++) {
			if (isalnum((unsigned char)*s) || *s == '_' ||
			    *s == ':' || *s == '+' || *s == '-')
				c->desc[c->dlen++] = *s;
		}
	}
	c->desc[c->dlen] = '\0';
}

static void
save_desc(const struct mctx *c)
{

	memcpy(last_desc, c->desc, sizeof(last_desc));
}

const char *
pbmutate_last(void)
{

	return (last_desc);
}

/* ---------------------------------------------------------------------- */
/* Where to mutate */

enum { K_REP, K_ONEOF, K_VALUE, K_SUBMSG, K_N };
static const unsigned kind_weight[K_N] = { 30, 15, 45, 10 };

struct site {
	ProtobufCMessage		*m;
	const ProtobufCFieldDescriptor	*f;
	size_t				 idx;
	int				 depth;
};

struct pick {
	struct mctx	*c;
	uint64_t	 n[K_N];
	struct site	 s[K_N];
};

/* Reservoir sampling: each site of a kind is equally likely. */
static void
offer(struct pick *pk, int kind, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t idx, int depth)
{

	pk->n[kind]++;
	if (rbelow(pk->c, pk->n[kind]) == 0) {
		pk->s[kind].m = m;
		pk->s[kind].f = f;
		pk->s[kind].idx = idx;
		pk->s[kind].depth = depth;
	}
}

static int
visit_sites(ProtobufCMessage *m, int depth, void *arg)
{
	const struct pbmsg_plan *p;
	const struct pbmsg_plan_entry *e;
	const ProtobufCFieldDescriptor *f;
	struct pick *pk = arg;
	size_t n, i;
	unsigned k;

	if ((p = pbmsg_plan(m->descriptor)) == NULL)
		return (-1);
	for (k = 0; k < p->nall; k++) {
		e = &p->all[k];
		f = e->f;
		switch (e->kind) {
		case PBMSG_PE_REPEATED:
			offer(pk, K_REP, m, f, 0, depth);
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				break;
			n = pbmsg_count(m, f);
			for (i = 0; i < n; i++)
				offer(pk, K_VALUE, m, f, i, depth);
			break;
		case PBMSG_PE_ONEOF:
			offer(pk, K_ONEOF, m, f, 0, depth);
			f = pbmsg_oneof_active(m, f);
			if (f != NULL && f->type != PROTOBUF_C_TYPE_MESSAGE)
				offer(pk, K_VALUE, m, f, 0, depth);
			break;
		default:
			offer(pk, f->type == PROTOBUF_C_TYPE_MESSAGE ?
			    K_SUBMSG : K_VALUE, m, f, 0, depth);
			break;
		}
	}
	return (0);
}

/* ---------------------------------------------------------------------- */
/* Mutations */

static void
mutate_value(struct mctx *c, const struct site *s)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;
	ProtobufCMessage *m = s->m;
	const ProtobufCFieldDescriptor *f = s->f;

	note(c, "val", f->name);
	if (pbmsg_uses_has(f)) {
		if (!*(protobuf_c_boolean *)PBMSG_MEMBER(m,
		    f->quantifier_offset)) {
			pbm_set_random(c, m, f, s->depth);
			return;
		}
		if (rchance(c, 1, 10)) {
			pbmsg_clear(m, f);
			return;
		}
	}
	c->cur = m->descriptor;
	if (pbm_new_value(c, f, pbmsg_slot(m, f, s->idx), &v, s->depth) == 0)
		pbmsg_set(m, f, s->idx, &v);
}

static void
swap_elts(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i,
    size_t j)
{
	unsigned char tmp[sizeof(ProtobufCBinaryData) + sizeof(uint64_t)];
	size_t sz = pbmsg_elt_size(f->type);

	memcpy(tmp, pbmsg_slot(m, f, i), sz);
	memcpy(pbmsg_slot(m, f, i), pbmsg_slot(m, f, j), sz);
	memcpy(pbmsg_slot(m, f, j), tmp, sz);
}

/* Move element i to position j (0 <= i, j < n) without reallocating. */
static void
move_elt(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i,
    size_t j)
{
	unsigned char tmp[sizeof(ProtobufCBinaryData) + sizeof(uint64_t)];
	size_t sz = pbmsg_elt_size(f->type);
	char *arr = pbmsg_slot(m, f, 0);

	memcpy(tmp, arr + i * sz, sz);
	if (i < j)
		memmove(arr + i * sz, arr + (i + 1) * sz, (j - i) * sz);
	else
		memmove(arr + (j + 1) * sz, arr + j * sz, (i - j) * sz);
	memcpy(arr + j * sz, tmp, sz);
}

/* Insert deep copies of src's elements [from, from+len) at pos of m. */
static void
insert_copies(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    size_t pos, const ProtobufCMessage *src, size_t from, size_t len)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;
	size_t i;

	for (i = 0; i < len; i++) {
		if (pbmsg_copy_value(f, &v, pbmsg_slot(src, f, from + i),
		    true) != 0)
			return;
		if (pbmsg_insert(m, f, pos + i, &v) != 0) {
			pbmsg_free_value(f, &v, true);
			return;
		}
	}
}

struct same_field {
	struct mctx			*c;
	const ProtobufCMessage		*not;
	const ProtobufCFieldDescriptor	*f;
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage		*found;
	uint64_t			 n;
};

/* Nodes of type d (other than 'not') whose repeated field f is non-empty. */
static int
visit_same_field(ProtobufCMessage *m, int depth, void *arg)
{
	struct same_field *sf = arg;

	if (m->descriptor != sf->d || m == sf->not ||
	    (sf->f != NULL && pbmsg_count(m, sf->f) == 0))
		return (0);
	sf->n++;
	if (rbelow(sf->c, sf->n) == 0)
		sf->found = m;
	return (0);
}

static ProtobufCMessage *
find_same(struct mctx *c, const ProtobufCMessage *tree,
    const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    const ProtobufCMessage *not)
{
	struct same_field sf = { c, not, f, d, NULL, 0 };

	/* The walk does not modify the tree. */
	(void)pbmsg_walk((ProtobufCMessage *)(uintptr_t)tree, PBMSG_MAX_DEPTH,
	    visit_same_field, &sf);
	return (sf.found);
}

/*
 * Copy a run of elements of field f from src (a node of the same type)
 * into m at a random position, sometimes overwriting.  The run is copied
 * before m changes: src may lie inside what gets overwritten.
 */
static bool
splice_run(struct mctx *c, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, const ProtobufCMessage *src)
{
	size_t n1 = pbmsg_count(m, f), n2 = pbmsg_count(src, f);
	size_t sz = pbmsg_elt_size(f->type), from, len, pos, i, done;
	char *tmp;

	if (n2 == 0)
		return (false);
	from = rbelow(c, n2);
	len = n2 - from < SPLICE_RUN ? n2 - from : SPLICE_RUN;
	len = 1 + rbelow(c, len);
	pos = rbelow(c, n1 + 1);
	tmp = calloc(len, sz);
	if (tmp == NULL)
		return (false);
	for (done = 0; done < len; done++) {
		if (pbmsg_copy_value(f, tmp + done * sz,
		    pbmsg_slot(src, f, from + done), true) != 0)
			break;
	}
	if (rchance(c, 1, 3) || n1 + done > c->max_rep) {
		/* Overwrite instead of growing. */
		pbmsg_remove(m, f, pos, done);
		n1 = pbmsg_count(m, f);
	}
	for (i = 0; i < done; i++) {
		if (n1 + i >= c->max_rep ||
		    pbmsg_insert(m, f, pos + i, tmp + i * sz) != 0)
			break;
	}
	for (; i < done; i++)
		pbmsg_free_value(f, tmp + i * sz, true);
	free(tmp);
	return (true);
}

static void
mutate_repeated(struct mctx *c, ProtobufCMessage *root, const struct site *s)
{
	ProtobufCMessage *m = s->m, *other;
	const ProtobufCFieldDescriptor *f = s->f;
	size_t n = pbmsg_count(m, f), i, j, len;
	unsigned op;

	op = n == 0 ? 0 : (unsigned)rbelow(c, 15);
	if (op >= 9 && op <= 11 && n < 2)
		op = 3;
	if (n >= c->max_rep && (op <= 4 || op >= 12))
		op = 5;
	switch (op) {
	case 0:
	case 1:
	case 2:
		note(c, "ins", f->name);
		pbm_insert_random(c, m, f, rbelow(c, n + 1), s->depth, true);
		break;
	case 3:
	case 4:
		note(c, "dup", f->name);
		insert_copies(m, f, rbelow(c, n + 1), m, rbelow(c, n), 1);
		break;
	case 5:
	case 6:
	case 7:
		note(c, "del", f->name);
		pbmsg_remove(m, f, rbelow(c, n), 1);
		break;
	case 8:
		note(c, "delrun", f->name);
		i = rbelow(c, n);
		pbmsg_remove(m, f, i, 1 + rbelow(c, n - i));
		break;
	case 9:
	case 10:
		note(c, "swap", f->name);
		i = rbelow(c, n);
		j = (i + 1 + rbelow(c, n - 1)) % n;
		swap_elts(m, f, i, j);
		break;
	case 11:
		note(c, "move", f->name);
		move_elt(m, f, rbelow(c, n), rbelow(c, n));
		break;
	case 12:
		note(c, "duprun", f->name);
		i = rbelow(c, n);
		len = 1 + rbelow(c, n - i < SPLICE_RUN ? n - i : SPLICE_RUN);
		if (len > c->max_rep - n)
			len = c->max_rep - n;
		/* Copy from a snapshot position: insert after the run. */
		j = i + len + rbelow(c, n - i - len + 1);
		insert_copies(m, f, j, m, i, len);
		break;
	case 13:
		/*
		 * A burst: one element repeated 2, 4, 8 or 16 times in a
		 * row (AFL's havoc inserts repeated blocks for the same
		 * reason).  Queues, rings and credits fill only under a
		 * burst, one copy per mutation rarely gets there.
		 */
		note(c, "burst", f->name);
		len = (size_t)2 << rbelow(c, 4);
		if (len > c->max_rep - n)
			len = c->max_rep - n;
		i = rbelow(c, n);
		for (j = 0; j < len; j++)
			insert_copies(m, f, i + 1, m, i, 1);
		break;
	default:
		/* Splice from the same field of another node in this tree. */
		other = find_same(c, root, m->descriptor, f, m);
		if (other != NULL) {
			note(c, "splice", f->name);
			(void)splice_run(c, m, f, other);
		} else {
			note(c, "dup", f->name);
			insert_copies(m, f, rbelow(c, n + 1), m, rbelow(c, n),
			    1);
		}
		break;
	}
}

static void
switch_oneof(struct mctx *c, const struct site *s)
{
	const ProtobufCMessageDescriptor *d = s->m->descriptor;
	const ProtobufCFieldDescriptor *cur, *to;
	size_t n, k;

	cur = pbmsg_oneof_active(s->m, s->f);
	n = pbmsg_oneof_members(d, s->f, NULL, 0);
	if (cur != NULL && rchance(c, 1, 16)) {
		note(c, "unset", cur->name);
		pbmsg_clear(s->m, cur);
		return;
	}
	k = pbm_oneof_pick(c, d, s->f, n);
	to = pbm_oneof_nth(d, s->f, k);
	if (to == cur && n > 1)
		to = pbm_oneof_nth(d, s->f, (k + 1) % n);
	note(c, "oneof", to->name);
	pbm_set_filled(c, s->m, to, s->depth);
}

static void
mutate_submsg(struct mctx *c, const struct site *s)
{
	ProtobufCMessage *sub;

	sub = *(ProtobufCMessage **)PBMSG_MEMBER(s->m, s->f->offset);
	if (sub != NULL && s->f->label != PROTOBUF_C_LABEL_REQUIRED &&
	    rchance(c, 1, 3)) {
		note(c, "clear", s->f->name);
		pbmsg_clear(s->m, s->f);
		return;
	}
	note(c, "new", s->f->name);
	pbm_set_random(c, s->m, s->f, s->depth);
}

/*
 * A mutation of the program's call list (hooks->program), or false if
 * this one is not.  Half insert a fresh call, as syzkaller's insertCall;
 * the rest are the repeated field's own mix.
 */
static bool
mutate_program(struct mctx *c, ProtobufCMessage *root)
{
	struct site s;
	size_t n;

	if (c->h == NULL || c->h->program == 0 ||
	    root->descriptor != c->h->program_type)
		return (false);
	s.f = protobuf_c_message_descriptor_get_field(root->descriptor,
	    c->h->program);
	if (s.f == NULL || s.f->label != PROTOBUF_C_LABEL_REPEATED ||
	    s.f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    !rchance(c, PROGRAM_SHARE, 256))
		return (false);
	s.m = root;
	s.idx = 0;
	s.depth = 0;
	n = pbmsg_count(root, s.f);
	if (n < c->max_rep && rchance(c, 1, 2)) {
		note(c, "ins", s.f->name);
		pbm_insert_random(c, root, s.f, rbelow(c, n + 1), 0, true);
	} else
		mutate_repeated(c, root, &s);
	return (true);
}

static void
mutate_once(struct mctx *c, ProtobufCMessage *root)
{
	struct pick pk;
	uint64_t total = 0, r;
	int k;

	if (mutate_program(c, root))
		return;
	memset(&pk, 0, sizeof(pk));
	pk.c = c;
	(void)pbmsg_walk(root, PBMSG_MAX_DEPTH, visit_sites, &pk);
	for (k = 0; k < K_N; k++)
		if (pk.n[k] > 0)
			total += kind_weight[k];
	if (total == 0)
		return;
	r = rbelow(c, total);
	for (k = 0; k < K_N; k++) {
		if (pk.n[k] == 0)
			continue;
		if (r < kind_weight[k])
			break;
		r -= kind_weight[k];
	}
	switch (k) {
	case K_REP:
		mutate_repeated(c, root, &pk.s[k]);
		break;
	case K_ONEOF:
		switch_oneof(c, &pk.s[k]);
		break;
	case K_VALUE:
		mutate_value(c, &pk.s[k]);
		break;
	default:
		mutate_submsg(c, &pk.s[k]);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* Crossover */

/* Make dst's field f (or f's oneof) what it is in src, deep-copied. */
static void
copy_field(ProtobufCMessage *dst, const ProtobufCMessage *src,
    const ProtobufCFieldDescriptor *f)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;
	const ProtobufCFieldDescriptor *act;

	if (pbmsg_is_repeated(f)) {
		pbmsg_clear(dst, f);
		insert_copies(dst, f, 0, src, 0, pbmsg_count(src, f));
		return;
	}
	if (pbmsg_is_oneof(f)) {
		act = pbmsg_oneof_active(src, f);
		if (act == NULL) {
			act = pbmsg_oneof_active(dst, f);
			if (act != NULL)
				pbmsg_clear(dst, act);
			return;
		}
		if (pbmsg_copy_value(act, &v, PBMSG_MEMBER(src, act->offset),
		    false) == 0)
			pbmsg_set(dst, act, 0, &v);
		return;
	}
	if (pbmsg_uses_has(f) && !*(const protobuf_c_boolean *)PBMSG_MEMBER(src,
	    f->quantifier_offset)) {
		pbmsg_clear(dst, f);
		return;
	}
	if (pbmsg_copy_value(f, &v, PBMSG_MEMBER(src, f->offset), false) == 0)
		pbmsg_set(dst, f, 0, &v);
}

struct any_node {
	struct mctx		*c;
	ProtobufCMessage	*found;
	uint64_t		 n;
};

static int
visit_any(ProtobufCMessage *m, int depth, void *arg)
{
	struct any_node *an = arg;

	if (m->descriptor->n_fields == 0)
		return (0);
	an->n++;
	if (rbelow(an->c, an->n) == 0)
		an->found = m;
	return (0);
}

static bool
cross_splice(struct mctx *c, ProtobufCMessage *m, const ProtobufCMessage *other)
{
	ProtobufCMessage *src;
	struct pick pk;

	memset(&pk, 0, sizeof(pk));
	pk.c = c;
	(void)pbmsg_walk(m, PBMSG_MAX_DEPTH, visit_sites, &pk);
	if (pk.n[K_REP] == 0)
		return (false);
	src = find_same(c, other, pk.s[K_REP].m->descriptor, pk.s[K_REP].f,
	    NULL);
	if (src == NULL)
		return (false);
	note(c, "xsplice", pk.s[K_REP].f->name);
	return (splice_run(c, pk.s[K_REP].m, pk.s[K_REP].f, src));
}

static bool
cross_field(struct mctx *c, ProtobufCMessage *m, const ProtobufCMessage *other)
{
	struct any_node an = { c, NULL, 0 };
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *src;

	(void)pbmsg_walk(m, PBMSG_MAX_DEPTH, visit_any, &an);
	if (an.found == NULL)
		return (false);
	src = find_same(c, other, an.found->descriptor, NULL, NULL);
	if (src == NULL)
		return (false);
	f = &an.found->descriptor->fields[rbelow(c,
	    an.found->descriptor->n_fields)];
	note(c, "xfield", f->name);
	copy_field(an.found, src, f);
	return (true);
}

static void
cross_roots(struct mctx *c, ProtobufCMessage *m, const ProtobufCMessage *other)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	unsigned k;

	note(c, "xmix", "");
	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (pbmsg_is_oneof(f) && !pbmsg_oneof_first(d, f))
			continue;
		if (rchance(c, 1, 2))
			copy_field(m, other, f);
	}
}

static void
cross_once(struct mctx *c, ProtobufCMessage *m, const ProtobufCMessage *other)
{
	unsigned r = (unsigned)rbelow(c, 10);

	if (r < 5 && cross_splice(c, m, other))
		return;
	if (r < 8 && cross_field(c, m, other))
		return;
	cross_roots(c, m, other);
}

/* ---------------------------------------------------------------------- */
/* Decode, fit, pack */

/*
 * The message fit() packed last, with its bytes.  libFuzzer mutates its
 * last output again (up to -mutate_depth times per corpus input), so
 * decode takes the message back instead of unpacking what was just
 * packed.  Only for exactly those bytes, which unpack to the same
 * message (no unknown fields; set oneofs and has_ flags pack as they
 * are), so a mutation never depends on whether it hit.
 */
static struct {
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage	*m;		/* in pbmsg's pool */
	uint8_t			*buf;		/* malloc */
	size_t			 len;
} chain;

static void
chain_drop(void)
{

	pbmsg_free(chain.m);
	free(chain.buf);
	chain.m = NULL;
	chain.buf = NULL;
	chain.len = 0;
}

static ProtobufCMessage *
chain_take(const ProtobufCMessageDescriptor *d, const uint8_t *data,
    size_t size)
{
	ProtobufCMessage *m;

	if (chain.m == NULL || chain.d != d || size == 0 ||
	    size != chain.len || memcmp(chain.buf, data, size) != 0)
		return (NULL);
	m = chain.m;
	chain.m = NULL;
	pbm_stats.reused++;
	return (m);
}

/*
 * Unpack; an empty input or one that does not decode becomes a minimal
 * message, built up by hooks->generate when c is given and there is one.
 */
static ProtobufCMessage *
decode(struct mctx *c, const ProtobufCMessageDescriptor *d,
    const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = NULL;

	if ((m = chain_take(d, data, size)) != NULL)
		return (m);
	if (size > 0)
		m = protobuf_c_message_unpack(d, pbmsg_allocator(), size,
		    data);
	if (m != NULL) {
		pbmsg_strip_unknown(m);
		return (m);
	}
	m = pbmsg_new_minimal(d);
	if (m != NULL && c != NULL && c->h != NULL && c->h->generate != NULL) {
		c->h->generate(m, rnext(c), c->h->arg);
		note(c, "gen", d->short_name);
		c->generated = true;
		pbm_stats.generated++;
	}
	return (m);
}

/*
 * Crossover partners, decoded.  libFuzzer takes the second input from its
 * corpus, so the same few thousand inputs were unpacked again and again.
 * An entry is decode()'s result for exactly its bytes (hashed, then
 * compared) and is only read (cross_once leaves 'other' unchanged), so a
 * hit hands the crossover the message a miss would build.  Inputs up to
 * PARTNER_MAX bytes; one entry per slot, the newest wins.
 */
#define	PARTNERS	4096		/* a power of two */
#define	PARTNER_MAX	2048

static struct partner {
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage	*m;		/* in pbmsg's pool */
	uint8_t			*bytes;		/* malloc */
	size_t			 len;
	uint64_t		 h;
} partners[PARTNERS];

static void
partners_drop(void)
{
	struct partner *p;

	for (p = partners; p < partners + PARTNERS; p++) {
		if (p->m == NULL)
			continue;
		pbmsg_free(p->m);
		free(p->bytes);
		memset(p, 0, sizeof(*p));
	}
}

uint64_t
pbmutate_hash(const uint8_t *data, size_t size)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(0x100000001b3);
	return (h);
}

/* The decoded partner, owned by the cache; NULL: decode it yourself. */
static const ProtobufCMessage *
partner_get(const ProtobufCMessageDescriptor *d, const uint8_t *data,
    size_t size)
{
	struct partner *p;
	ProtobufCMessage *m;
	uint8_t *copy;
	uint64_t h;

	if (size == 0 || size > PARTNER_MAX)
		return (NULL);
	h = pbmutate_hash(data, size);
	p = &partners[h & (PARTNERS - 1)];
	if (p->m != NULL && p->d == d && p->h == h && p->len == size &&
	    memcmp(p->bytes, data, size) == 0) {
		pbm_stats.partner_hits++;
		return (p->m);
	}
	if ((copy = malloc(size)) == NULL)
		return (NULL);
	if ((m = decode(NULL, d, data, size)) == NULL) {
		free(copy);
		return (NULL);
	}
	memcpy(copy, data, size);
	if (p->m != NULL) {
		pbmsg_free(p->m);
		free(p->bytes);
	}
	*p = (struct partner){ d, m, copy, size, h };
	return (m);
}

static void
repair(const struct pbmutate_hooks *h, ProtobufCMessage *m)
{

	if (h != NULL && h->repair != NULL)
		h->repair(m, h->arg);
}

struct longest {
	ProtobufCMessage		*m;
	const ProtobufCFieldDescriptor	*f;
	size_t				 n;
	size_t				 len;	/* string or bytes length */
};

static int
visit_longest(ProtobufCMessage *m, int depth, void *arg)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	struct longest *lg = arg;
	const char *s;
	size_t n, len;
	unsigned k;

	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (pbmsg_is_repeated(f)) {
			n = pbmsg_count(m, f);
			if (n > lg->n) {
				lg->m = m;
				lg->f = f;
				lg->n = n;
			}
			continue;
		}
		if (lg->n > 0 || !pbmsg_present(m, f))
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			s = *(const char **)PBMSG_MEMBER(m, f->offset);
			len = s != NULL ? strlen(s) : 0;
		} else if (f->type == PROTOBUF_C_TYPE_BYTES)
			len = ((ProtobufCBinaryData *)PBMSG_MEMBER(m,
			    f->offset))->len;
		else
			continue;
		if (len > lg->len) {
			lg->m = m;
			lg->f = f;
			lg->len = len;
		}
	}
	return (0);
}

/*
 * One step towards max: drop trailing elements of the longest repeated
 * field (in proportion to the excess), else clear the longest string or
 * bytes value.  False when there is nothing left to drop.
 */
static bool
shrink_step(ProtobufCMessage *m, size_t size, size_t max)
{
	struct longest lg = { NULL, NULL, 0, 0 };
	uint64_t k;

	(void)pbmsg_walk(m, PBMSG_MAX_DEPTH, visit_longest, &lg);
	if (lg.n > 0) {
		k = (uint64_t)lg.n * (uint64_t)(size - max) / size;
		if (k < 1)
			k = 1;
		pbmsg_remove(lg.m, lg.f, lg.n - (size_t)k, (size_t)k);
		return (true);
	}
	if (lg.m != NULL) {
		pbmsg_clear(lg.m, lg.f);
		return (true);
	}
	return (false);
}

/*
 * Repair, shrink to max, pack; consumes m.  The bytes stay in the chain
 * (with m) until the next fit or pbmutate_forget().
 */
static const uint8_t *
fit(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m,
    const struct pbmutate_hooks *h, size_t max, size_t *lenp)
{
	uint8_t *buf;
	size_t size;
	int round;

	*lenp = 0;
	repair(h, m);
	size = protobuf_c_message_get_packed_size(m);
	if (size > max)
		pbm_stats.shrunk++;
	for (round = 0; size > max && round < SHRINK_ROUNDS; round++) {
		if (!shrink_step(m, size, max))
			break;
		repair(h, m);
		size = protobuf_c_message_get_packed_size(m);
	}
	if (size > max) {
		pbmsg_free(m);
		m = pbmsg_new_minimal(d);
		if (m == NULL)
			return (NULL);
		repair(h, m);
		size = protobuf_c_message_get_packed_size(m);
		if (size > max) {
			pbmsg_free(m);
			return (NULL);
		}
	}
	/* size is m's packed size already: pack without measuring again. */
	buf = malloc(size == 0 ? 1 : size);
	if (buf == NULL) {
		pbmsg_free(m);
		return (NULL);
	}
	*lenp = protobuf_c_message_pack(m, buf);
	chain_drop();
	chain.d = d;
	chain.m = m;
	chain.buf = buf;
	chain.len = *lenp;
	return (buf);
}

void
pbmutate_message(ProtobufCMessage *m, unsigned rounds, uint64_t seed,
    const struct pbmutate_hooks *hooks)
{
	struct mctx c;
	unsigned i;

	ctx_init(&c, seed, hooks);
	c.root = m;
	for (i = 0; i < rounds; i++)
		mutate_once(&c, m);
	save_desc(&c);
}

void
pbmutate_insert_fresh(ProtobufCMessage *root, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t pos, uint64_t seed,
    const struct pbmutate_hooks *hooks)
{
	struct mctx c;

	ctx_init(&c, seed, hooks);
	c.root = root;
	pbm_insert_random(&c, m, f, pos, 0, true);
}

void
pbmutate_cross_message(ProtobufCMessage *m, const ProtobufCMessage *other,
    uint64_t seed, const struct pbmutate_hooks *hooks)
{
	struct mctx c;

	ctx_init(&c, seed, hooks);
	c.root = m;
	cross_once(&c, m, other);
	save_desc(&c);
}

static size_t
mutate_bytes(const ProtobufCMessageDescriptor *d, uint8_t *data,
    size_t size, size_t max_size, uint32_t seed,
    const struct pbmutate_hooks *hooks)
{
	ProtobufCMessage *m;
	struct mctx c;
	unsigned rounds, i, attempt;
	const uint8_t *buf;
	size_t len = 0;

	ctx_init(&c, seed, hooks);
	pbm_stats.calls++;
	for (attempt = 0; attempt < RETRIES; attempt++) {
		c.dlen = 0;
		c.desc[0] = '\0';
		c.generated = false;
		/*
		 * Now and then a new message from nothing, as syzkaller
		 * generates one program in a hundred: mutation alone stays
		 * near what the corpus already holds.
		 */
		if (hooks != NULL && hooks->generate != NULL &&
		    rchance(&c, 1, GENERATE_ONE_IN))
			m = decode(&c, d, NULL, 0);
		else
			m = decode(&c, d, data, size);
		if (m == NULL)
			break;
		c.root = m;
		rounds = 1;
		while (rounds < MAX_ROUNDS && rchance(&c, 1, 2))
			rounds++;
		/* A generated message is new enough as it is. */
		if (c.generated)
			rounds = 0;
		for (i = 0; i < rounds; i++)
			mutate_once(&c, m);
		buf = fit(d, m, hooks, max_size, &len);
		c.root = NULL;
		/* A mutation that changed nothing: try again. */
		if (attempt + 1 < RETRIES && len == size &&
		    (len == 0 || memcmp(buf, data, len) == 0)) {
			pbm_stats.unchanged++;
			continue;
		}
		if (len > size)
			pbm_stats.grew++;
		if (len > 0)
			memcpy(data, buf, len);
		save_desc(&c);
		return (len);
	}
	pbm_stats.gave_up++;
	save_desc(&c);
	return (size <= max_size ? size : 0);
}

static size_t
crossover_bytes(const ProtobufCMessageDescriptor *d, const uint8_t *data1,
    size_t size1, const uint8_t *data2, size_t size2, uint8_t *out,
    size_t max_out, uint32_t seed, const struct pbmutate_hooks *hooks)
{
	ProtobufCMessage *m1, *m2;
	const ProtobufCMessage *other;
	struct mctx c;
	const uint8_t *buf;
	size_t len;

	ctx_init(&c, seed, hooks);
	pbm_stats.calls++;
	m1 = decode(&c, d, data1, size1);
	m2 = NULL;
	if ((other = partner_get(d, data2, size2)) == NULL)
		other = m2 = decode(NULL, d, data2, size2);
	if (m1 == NULL || other == NULL) {
		pbmsg_free(m1);
		pbmsg_free(m2);
		return (0);
	}
	c.root = m1;
	cross_once(&c, m1, other);
	if (rchance(&c, 1, 3))
		cross_once(&c, m1, other);
	c.root = NULL;
	pbmsg_free(m2);
	buf = fit(d, m1, hooks, max_out, &len);
	if (len > 0)
		memcpy(out, buf, len);
	save_desc(&c);
	return (len);
}

/*
 * The byte-level entry points make and free every message they touch, so
 * they run in pbmsg's pool (pbmsg_pool.c): no ASan malloc per field.
 */
size_t
pbmutate_mutate(const ProtobufCMessageDescriptor *d, uint8_t *data,
    size_t size, size_t max_size, uint32_t seed,
    const struct pbmutate_hooks *hooks)
{
	size_t n;

	pbmsg_pool_enter();
	n = mutate_bytes(d, data, size, max_size, seed, hooks);
	pbmsg_pool_exit();
	return (n);
}

void
pbmutate_forget(void)
{

	pbmsg_pool_enter();
	chain_drop();
	partners_drop();
	pbmsg_pool_exit();
}

size_t
pbmutate_crossover(const ProtobufCMessageDescriptor *d, const uint8_t *data1,
    size_t size1, const uint8_t *data2, size_t size2, uint8_t *out,
    size_t max_out, uint32_t seed, const struct pbmutate_hooks *hooks)
{
	size_t n;

	pbmsg_pool_enter();
	n = crossover_bytes(d, data1, size1, data2, size2, out, max_out, seed,
	    hooks);
	pbmsg_pool_exit();
	return (n);
}
