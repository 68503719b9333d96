/*
 * Structure-aware protobuf-c mutator over runtime descriptors.  See
 * pbmutate.h for what it does; this file is the how.
 */
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbmutate.h"

#define	DEF_MAX_REPEATED	64
#define	DEF_MAX_STRING		32
#define	FRESH_DEPTH		4	/* levels a fresh message fills in */
#define	MAX_ROUNDS		8	/* mutations per call, at most */
#define	SPLICE_RUN		8	/* elements one splice copies, at most */
#define	SHRINK_ROUNDS		64
#define	RETRIES			4	/* attempts at an output != input */
#define	GENERATE_ONE_IN		100	/* hooks->generate instead of mutating */

#define	N_DOMAIN_VALUES		32	/* hooks->values, at most */

struct mctx {
	uint64_t	rs;		/* splitmix64 state */
	size_t		max_rep;
	size_t		max_str;
	const struct pbmutate_hooks *h;	/* NULL: none */
	ProtobufCMessage *root;		/* the message being mutated */
	const ProtobufCMessageDescriptor *cur;	/* type holding the field */
	bool		generated;	/* decode() built the message */
	char		desc[96];
	size_t		dlen;
};

static _Thread_local char last_desc[96];
static struct pbmutate_stats stats;

const struct pbmutate_stats *
pbmutate_get_stats(void)
{

	return (&stats);
}

static uint64_t
rnext(struct mctx *c)
{
	uint64_t z;

	z = (c->rs += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static uint64_t
rbelow(struct mctx *c, uint64_t n)
{

	return (n == 0 ? 0 : rnext(c) % n);
}

static bool
rchance(struct mctx *c, unsigned num, unsigned den)
{

	return (rbelow(c, den) < num);
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
			if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '_' || *s == ':' ||
			    *s == '+' || *s == '-')
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
/* Values */

static const int64_t interesting[] = {
	0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255,
	256, 511, 512, 1000, 1023, 1024, 1280, 1400, 1499, 1500, 1501, 1514,
	1518, 2047, 2048, 4095, 4096, 8191, 8192, 8999, 9000, 9001, 9216,
	16383, 16384, 32767, 32768, 65534, 65535, 65536, 65537, 1000000,
	INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN, UINT32_MAX,
	(int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN, -2, -128, -129, -32768,
	-65536,
};
#define	N_INTERESTING	(sizeof(interesting) / sizeof(interesting[0]))

static const char *const words[] = {
	"", "0", "1", "a", " ", "lo0", "eth0", "vlan0", "lagg0", "cxl0",
	"mce0", "epair0a", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%s%n%x",
	"\xff\xfe", "..", "/",
};
#define	N_WORDS		(sizeof(words) / sizeof(words[0]))

static uint64_t
rand_int(struct mctx *c, uint64_t old, unsigned bits)
{
	uint64_t v, d;

	switch (rbelow(c, 10)) {
	case 0:
	case 1:
	case 2:
		v = (uint64_t)interesting[rbelow(c, N_INTERESTING)];
		break;
	case 3:
	case 4:
		d = 1 + rbelow(c, 16);
		v = rchance(c, 1, 2) ? old + d : old - d;
		break;
	case 5:
		v = UINT64_C(1) << rbelow(c, bits);
		if (rchance(c, 1, 3))
			v--;
		else if (rchance(c, 1, 2))
			v++;
		break;
	case 6:
		v = old ^ (UINT64_C(1) << rbelow(c, bits));
		break;
	case 7:
	case 8:
		/* Small values: indices into the scenario's object tables. */
		v = rbelow(c, 17);
		break;
	default:
		v = rnext(c);
		break;
	}
	return (v);
}

static int
rand_enum(struct mctx *c, const ProtobufCEnumDescriptor *ed, int old)
{
	int v, lo, hi;
	unsigned i;

	if (ed->n_values > 0 && !rchance(c, 1, 10)) {
		i = (unsigned)rbelow(c, ed->n_values);
		v = ed->values[i].value;
		if (v == old && ed->n_values > 1)
			v = ed->values[(i + 1) % ed->n_values].value;
		return (v);
	}
	lo = hi = 0;
	for (i = 0; i < ed->n_values; i++) {
		if (i == 0 || ed->values[i].value < lo)
			lo = ed->values[i].value;
		if (i == 0 || ed->values[i].value > hi)
			hi = ed->values[i].value;
	}
	switch (rbelow(c, 5)) {
	case 0:
		return (hi < INT_MAX ? hi + 1 : INT_MIN);
	case 1:
		return (lo > INT_MIN ? lo - 1 : INT_MAX);
	case 2:
		return (-1);
	case 3:
		return (INT32_MAX);
	default:
		return ((int)(int32_t)(uint32_t)rnext(c));
	}
}

static double
rand_double(struct mctx *c, double old)
{
	static const double table[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 1500.0, 9000.0, 65535.0, 1e-300,
		DBL_MIN, DBL_MAX, -DBL_MAX, DBL_EPSILON, 4.9e-324,
	};

	switch (rbelow(c, 8)) {
	case 0:
	case 1:
	case 2:
		return (table[rbelow(c, sizeof(table) / sizeof(table[0]))]);
	case 3:
		return (old + 1.0);
	case 4:
		return (old * 2.0);
	case 5:
		return (-old);
	case 6:
		return (rchance(c, 1, 2) ? HUGE_VAL : -HUGE_VAL);
	default:
		return (rchance(c, 1, 2) ? NAN : (double)(int64_t)rbelow(c,
		    100000) / 8.0);
	}
}

static float
rand_float(struct mctx *c, float old)
{
	static const float table[] = {
		0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1500.0f, 9000.0f, 65535.0f,
		FLT_MIN, FLT_MAX, -FLT_MAX, FLT_EPSILON, 1.4e-45f,
	};

	switch (rbelow(c, 8)) {
	case 0:
	case 1:
	case 2:
		return (table[rbelow(c, sizeof(table) / sizeof(table[0]))]);
	case 3:
		return (old + 1.0f);
	case 4:
		return (old * 2.0f);
	case 5:
		return (-old);
	case 6:
		return (rchance(c, 1, 2) ? HUGE_VALF : -HUGE_VALF);
	default:
		return (rchance(c, 1, 2) ? NAN : (float)rbelow(c, 100000) /
		    8.0f);
	}
}

/*
 * An integer from the application's values for this field, half of the
 * time when it has any: the values the program compares against are few
 * and known to it, uniform 32-bit randoms almost never hit them.
 */
static bool
domain_int(struct mctx *c, const ProtobufCFieldDescriptor *f, uint64_t *v)
{
	uint64_t vals[N_DOMAIN_VALUES];
	size_t n;

	if (c->h == NULL || c->h->values == NULL || c->cur == NULL ||
	    !rchance(c, 1, 2))
		return (false);
	n = c->h->values(c->cur, f, vals, N_DOMAIN_VALUES, c->h->arg);
	if (n == 0)
		return (false);
	if (n > N_DOMAIN_VALUES)
		n = N_DOMAIN_VALUES;
	*v = vals[rbelow(c, n)];
	stats.domain_values++;
	return (true);
}

/*
 * The engine's byte mutator over the value's little-endian bytes, now
 * and then: its comparison tracing (values the program just compared
 * with) and its dictionary then reach scalar fields too.
 */
static bool
engine_int(struct mctx *c, uint64_t old, unsigned bytes, uint64_t *v)
{
	uint8_t b[8];
	unsigned i;
	size_t n;

	if (c->h == NULL || c->h->mutate_bytes == NULL || !rchance(c, 1, 8))
		return (false);
	for (i = 0; i < bytes; i++)
		b[i] = (uint8_t)(old >> (8 * i));
	n = c->h->mutate_bytes(b, bytes, bytes);
	if (n > bytes)
		n = bytes;
	for (i = (unsigned)n; i < bytes; i++)
		b[i] = 0;
	*v = 0;
	for (i = 0; i < bytes; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	stats.byte_mutations++;
	return (true);
}

/*
 * A new value for a numeric, bool or enum field into *out; oldp is the
 * current value or NULL.
 */
static void
rand_scalar(struct mctx *c, const ProtobufCFieldDescriptor *f,
    const void *oldp, void *out)
{
	uint32_t o32 = 0;
	uint64_t o64 = 0;
	double od = 0;
	float of = 0;
	int oe = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (oldp != NULL)
			memcpy(&o32, oldp, sizeof(o32));
		if (domain_int(c, f, &o64) || engine_int(c, o32, 4, &o64))
			o32 = (uint32_t)o64;
		else
			o32 = (uint32_t)rand_int(c, o32, 32);
		memcpy(out, &o32, sizeof(o32));
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (oldp != NULL)
			memcpy(&o64, oldp, sizeof(o64));
		if (!domain_int(c, f, &o64) && !engine_int(c, o64, 8, &o64))
			o64 = rand_int(c, o64, 64);
		memcpy(out, &o64, sizeof(o64));
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)out = oldp != NULL ?
		    !*(const protobuf_c_boolean *)oldp : (int)rbelow(c, 2);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		if (oldp != NULL)
			memcpy(&oe, oldp, sizeof(oe));
		oe = rand_enum(c, f->descriptor, oe);
		memcpy(out, &oe, sizeof(oe));
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		if (oldp != NULL)
			memcpy(&of, oldp, sizeof(of));
		of = rand_float(c, of);
		memcpy(out, &of, sizeof(of));
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (oldp != NULL)
			memcpy(&od, oldp, sizeof(od));
		od = rand_double(c, od);
		memcpy(out, &od, sizeof(od));
		break;
	default:
		break;
	}
}

static unsigned char
rand_byte(struct mctx *c, bool allow_nul)
{

	if (!rchance(c, 1, 8))
		return ((unsigned char)(0x20 + rbelow(c, 0x5f)));
	if (allow_nul)
		return ((unsigned char)rbelow(c, 256));
	return ((unsigned char)(1 + rbelow(c, 255)));
}

/*
 * A mutated copy of old[0..oldlen) (old may be NULL) in a new heap buffer
 * with a NUL after the *newlen bytes.  Without allow_nul (strings) the
 * result holds no NUL byte.  Grows only up to max_str.
 */
static unsigned char *
mut_buf(struct mctx *c, const unsigned char *old, size_t oldlen, bool allow_nul,
    size_t *newlen)
{
	size_t cap, len, i, n, at;
	unsigned char *b;
	const char *w;

	cap = (oldlen > c->max_str ? oldlen : c->max_str) + 1;
	b = pbmsg_mem_alloc(cap);
	if (b == NULL)
		return (NULL);
	len = oldlen;
	if (len > 0)
		memcpy(b, old, len);
	switch (oldlen == 0 ? rbelow(c, 3) : rbelow(c, 9)) {
	case 0:
		/* Random content. */
		n = 1 + rbelow(c, c->max_str < 8 ? c->max_str : 8);
		for (len = 0; len < n; len++)
			b[len] = rand_byte(c, allow_nul);
		break;
	case 1:
		w = words[rbelow(c, N_WORDS)];
		len = strlen(w);
		if (len > cap - 1)
			len = cap - 1;
		memcpy(b, w, len);
		break;
	case 2:
		/* Append. */
		n = 1 + rbelow(c, 4);
		for (i = 0; i < n && len < c->max_str; i++)
			b[len++] = rand_byte(c, allow_nul);
		break;
	case 3:
		len = 0;
		break;
	case 4:
		at = rbelow(c, len);
		memmove(b + at, b + at + 1, len - at - 1);
		len--;
		break;
	case 5:
		b[rbelow(c, len)] = rand_byte(c, allow_nul);
		break;
	case 6:
		at = rbelow(c, len);
		b[at] ^= (unsigned char)(1u << rbelow(c, 8));
		break;
	case 7:
		/* Repeat the content. */
		for (i = 0; len < c->max_str && i < oldlen; i++)
			b[len++] = b[i];
		break;
	default:
		len = rbelow(c, len);
		break;
	}
	if (!allow_nul) {
		for (i = 0; i < len; i++)
			if (b[i] == '\0')
				b[i] = '0';
	}
	b[len] = '\0';
	*newlen = len;
	return (b);
}

static ProtobufCMessage *fresh(struct mctx *c,
		    const ProtobufCMessageDescriptor *d, int depth);

/*
 * A new value for field f into *out (elt_size bytes), mutated from *oldp
 * when oldp != NULL.  Heap parts belong to the caller.  -1: no memory.
 */
static int
new_value(struct mctx *c, const ProtobufCFieldDescriptor *f, const void *oldp,
    void *out, int depth)
{
	const ProtobufCBinaryData *ob;
	ProtobufCBinaryData *bd;
	ProtobufCMessage *m;
	const char *os;
	unsigned char *b;
	size_t n;

	memset(out, 0, pbmsg_elt_size(f->type));
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		if (rchance(c, 1, 2) || depth >= FRESH_DEPTH)
			m = pbmsg_new_minimal(f->descriptor);
		else
			m = fresh(c, f->descriptor, depth + 1);
		*(ProtobufCMessage **)out = m;
		return (m == NULL ? -1 : 0);
	case PROTOBUF_C_TYPE_STRING:
		os = oldp != NULL ? *(const char * const *)oldp : NULL;
		b = mut_buf(c, (const unsigned char *)os,
		    os != NULL ? strlen(os) : 0, false, &n);
		*(char **)out = (char *)b;
		return (b == NULL ? -1 : 0);
	case PROTOBUF_C_TYPE_BYTES:
		ob = oldp;
		b = mut_buf(c, ob != NULL ? ob->data : NULL,
		    ob != NULL ? ob->len : 0, true, &n);
		if (b == NULL)
			return (-1);
		bd = out;
		if (n == 0) {
			pbmsg_mem_free(b);
			b = NULL;
		}
		bd->data = b;
		bd->len = n;
		return (0);
	default:
		rand_scalar(c, f, oldp, out);
		return (0);
	}
}

static const ProtobufCFieldDescriptor *
oneof_nth(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    size_t nth)
{
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		if (pbmsg_same_oneof(&d->fields[i], f) && nth-- == 0)
			return (&d->fields[i]);
	}
	return (NULL);
}

/* A member index for the oneof of f (n members): the hook's, or uniform. */
static size_t
oneof_pick(struct mctx *c, const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, size_t n)
{
	int k;

	if (c->h != NULL && c->h->choose != NULL && rchance(c, 3, 4)) {
		k = c->h->choose(c->root, d, f, n, rnext(c), c->h->arg);
		if (k >= 0 && (size_t)k < n)
			return ((size_t)k);
	}
	return (rbelow(c, n));
}

/* Set a singular field (or oneof member) to a new random value. */
static void
set_random(struct mctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    int depth)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;

	c->cur = m->descriptor;
	if (new_value(c, f, NULL, &v, depth) == 0)
		pbmsg_set(m, f, 0, &v);
}

/*
 * Insert a fresh element at m.f[pos].  in_root: m is part of c->root (not
 * a sub-tree fresh() is still building), so hooks->inserted may look at
 * and extend the whole message.
 */
static void
insert_random(struct mctx *c, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t pos, int depth, bool in_root)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;

	c->cur = m->descriptor;
	if (new_value(c, f, NULL, &v, depth) != 0)
		return;
	if (pbmsg_insert(m, f, pos, &v) != 0) {
		pbmsg_free_value(f, &v, true);
		return;
	}
	if (in_root && c->h != NULL && c->h->inserted != NULL &&
	    c->root != NULL)
		c->h->inserted(c->root, m, f, pos, rnext(c), c->h->arg);
}

/*
 * A fresh message: required parts, most oneofs selected, some scalars
 * set, some sub-messages and list elements, FRESH_DEPTH levels deep.
 */
static ProtobufCMessage *
fresh(struct mctx *c, const ProtobufCMessageDescriptor *d, int depth)
{
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m;
	size_t n;
	unsigned i;

	m = pbmsg_new_minimal(d);
	if (m == NULL)
		return (NULL);
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (pbmsg_is_oneof(f)) {
			if (!pbmsg_oneof_first(d, f) || !rchance(c, 7, 8))
				continue;
			n = pbmsg_oneof_members(d, f, NULL, 0);
			set_random(c, m, oneof_nth(d, f, oneof_pick(c, d, f, n)),
			    depth);
		} else if (pbmsg_is_repeated(f)) {
			if (depth < FRESH_DEPTH && rchance(c, 1, 4))
				insert_random(c, m, f, 0, depth, false);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label != PROTOBUF_C_LABEL_REQUIRED &&
			    depth < FRESH_DEPTH && rchance(c, 1, 3))
				set_random(c, m, f, depth);
		} else if (rchance(c, 1, 2))
			set_random(c, m, f, depth);
	}
	return (m);
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
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	struct pick *pk = arg;
	size_t n, i;
	unsigned k;

	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (pbmsg_is_repeated(f)) {
			offer(pk, K_REP, m, f, 0, depth);
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				continue;
			n = pbmsg_count(m, f);
			for (i = 0; i < n; i++)
				offer(pk, K_VALUE, m, f, i, depth);
		} else if (pbmsg_is_oneof(f)) {
			if (pbmsg_oneof_first(d, f))
				offer(pk, K_ONEOF, m, f, 0, depth);
			if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
			    pbmsg_oneof_active(m, f) == f)
				offer(pk, K_VALUE, m, f, 0, depth);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			offer(pk, K_SUBMSG, m, f, 0, depth);
		else
			offer(pk, K_VALUE, m, f, 0, depth);
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
			set_random(c, m, f, s->depth);
			return;
		}
		if (rchance(c, 1, 10)) {
			pbmsg_clear(m, f);
			return;
		}
	}
	c->cur = m->descriptor;
	if (new_value(c, f, pbmsg_slot(m, f, s->idx), &v, s->depth) == 0)
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
splice_run(struct mctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const ProtobufCMessage *src)
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
		insert_random(c, m, f, rbelow(c, n + 1), s->depth, true);
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
	k = oneof_pick(c, d, s->f, n);
	to = oneof_nth(d, s->f, k);
	if (to == cur && n > 1)
		to = oneof_nth(d, s->f, (k + 1) % n);
	note(c, "oneof", to->name);
	set_random(c, s->m, to, s->depth);
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
	set_random(c, s->m, s->f, s->depth);
}

static void
mutate_once(struct mctx *c, ProtobufCMessage *root)
{
	struct pick pk;
	uint64_t total = 0, r;
	int k;

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
 * Unpack; an empty input or one that does not decode becomes a minimal
 * message, built up by hooks->generate when c is given and there is one.
 */
static ProtobufCMessage *
decode(struct mctx *c, const ProtobufCMessageDescriptor *d,
    const uint8_t *data, size_t size)
{
	ProtobufCMessage *m = NULL;

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
		stats.generated++;
	}
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

/* Repair, shrink to max, pack into a new buffer; consumes m. */
static uint8_t *
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
		stats.shrunk++;
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
	buf = pbmsg_pack(m, lenp);
	pbmsg_free(m);
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
	insert_random(&c, m, f, pos, 0, true);
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
	uint8_t *buf;
	size_t len = 0;

	ctx_init(&c, seed, hooks);
	stats.calls++;
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
			stats.unchanged++;
			free(buf);
			continue;
		}
		if (len > size)
			stats.grew++;
		if (len > 0)
			memcpy(data, buf, len);
		free(buf);
		save_desc(&c);
		return (len);
	}
	stats.gave_up++;
	save_desc(&c);
	return (size <= max_size ? size : 0);
}

static size_t
crossover_bytes(const ProtobufCMessageDescriptor *d, const uint8_t *data1,
    size_t size1, const uint8_t *data2, size_t size2, uint8_t *out,
    size_t max_out, uint32_t seed, const struct pbmutate_hooks *hooks)
{
	ProtobufCMessage *m1, *m2;
	struct mctx c;
	uint8_t *buf;
	size_t len;

	ctx_init(&c, seed, hooks);
	stats.calls++;
	m1 = decode(&c, d, data1, size1);
	m2 = decode(NULL, d, data2, size2);
	if (m1 == NULL || m2 == NULL) {
		pbmsg_free(m1);
		pbmsg_free(m2);
		return (0);
	}
	c.root = m1;
	cross_once(&c, m1, m2);
	if (rchance(&c, 1, 3))
		cross_once(&c, m1, m2);
	c.root = NULL;
	pbmsg_free(m2);
	buf = fit(d, m1, hooks, max_out, &len);
	if (len > 0)
		memcpy(out, buf, len);
	free(buf);
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

/* ---------------------------------------------------------------------- */
/* Mutation log (SNDTAG_MUTLOG, see pb_libfuzzer_mutator.h) */

static FILE *mutlog;
static int mutlog_state;	/* 0: not looked, 1: on, -1: off */

static void
mutlog_close(void)
{
	const struct pbmutate_stats *st = &stats;

	if (mutlog == NULL)
		return;
	fprintf(mutlog, "# stats calls=%ju generated=%ju unchanged=%ju "
	    "gave_up=%ju shrunk=%ju grew=%ju domain_values=%ju "
	    "byte_mutations=%ju\n", (uintmax_t)st->calls,
	    (uintmax_t)st->generated, (uintmax_t)st->unchanged,
	    (uintmax_t)st->gave_up, (uintmax_t)st->shrunk,
	    (uintmax_t)st->grew, (uintmax_t)st->domain_values,
	    (uintmax_t)st->byte_mutations);
	fclose(mutlog);
	mutlog = NULL;
}

void
pb_mutlog(const uint8_t *data, size_t in, size_t out, const char *kind)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	const char *path;
	size_t i;

	if (mutlog_state == 0) {
		path = getenv("SNDTAG_MUTLOG");
		mutlog_state = -1;
		if (path != NULL && path[0] != '\0' &&
		    (mutlog = fopen(path, "a")) != NULL) {
			mutlog_state = 1;
			atexit(mutlog_close);
		}
	}
	if (mutlog_state < 0)
		return;
	for (i = 0; i < out; i++)
		h = (h ^ data[i]) * UINT64_C(0x100000001b3);
	fprintf(mutlog, "%016jx %zu %zu %s %s\n", (uintmax_t)h, in, out, kind,
	    last_desc[0] != '\0' ? last_desc : "-");
}
