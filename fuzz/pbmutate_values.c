/*
 * The mutator's values (see pbmutate.h): new scalars, strings and bytes
 * for a field, from the old value, the hooks' domain values, the engine's
 * byte mutator or a table of interesting ones; new and random messages.
 */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbmutate.h"
#include "pbmutate_int.h"

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
	pbm_stats.domain_values++;
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
	pbm_stats.byte_mutations++;
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
		    const ProtobufCMessageDescriptor *d, int depth, bool whole);

/*
 * A new value for field f into *out (elt_size bytes), mutated from *oldp
 * when oldp != NULL.  Heap parts belong to the caller.  -1: no memory.
 */
int
pbm_new_value(struct mctx *c, const ProtobufCFieldDescriptor *f,
    const void *oldp, void *out, int depth)
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
			m = fresh(c, f->descriptor, depth + 1, false);
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

const ProtobufCFieldDescriptor *
pbm_oneof_nth(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, size_t nth)
{
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		if (pbmsg_same_oneof(&d->fields[i], f) && nth-- == 0)
			return (&d->fields[i]);
	}
	return (NULL);
}

/* A member index for the oneof of f (n members): the hook's, or uniform. */
size_t
pbm_oneof_pick(struct mctx *c, const ProtobufCMessageDescriptor *d,
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
void
pbm_set_random(struct mctx *c, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, int depth)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;

	c->cur = m->descriptor;
	if (pbm_new_value(c, f, NULL, &v, depth) == 0)
		pbmsg_set(m, f, 0, &v);
}

/*
 * Set a singular field or oneof member to something that acts: a message
 * gets a fresh one filled as an inserted element is (every oneof chosen,
 * every scalar set), not the minimal message pbm_set_random gives half
 * the time.  A member chosen to add or change what an op does is no use
 * at its defaults: a rate of 0, a send of 0 bytes.
 */
void
pbm_set_filled(struct mctx *c, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, int depth)
{
	ProtobufCMessage *sub;

	if (f->type != PROTOBUF_C_TYPE_MESSAGE || depth >= FRESH_DEPTH) {
		pbm_set_random(c, m, f, depth);
		return;
	}
	c->cur = m->descriptor;
	if ((sub = fresh(c, f->descriptor, depth + 1, true)) != NULL)
		pbmsg_set(m, f, 0, &sub);
}

/*
 * Insert a fresh element at m.f[pos].  in_root: m is part of c->root (not
 * a sub-tree fresh() is still building), so hooks->inserted may look at
 * and extend the whole message.
 */
void
pbm_insert_random(struct mctx *c, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t pos, int depth, bool in_root)
{
	union {
		uint64_t	u;
		void		*p;
		ProtobufCBinaryData bd;
	} v;

	c->cur = m->descriptor;
	/*
	 * An element is inserted to add something: a message element gets
	 * its oneofs chosen, not the minimal message a singular field may
	 * get (half the inserted ops of a scenario used to be empty ones).
	 */
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < FRESH_DEPTH) {
		if ((v.p = fresh(c, f->descriptor, depth + 1, true)) == NULL)
			return;
	} else if (pbm_new_value(c, f, NULL, &v, depth) != 0)
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
 * A fresh message: required parts, most oneofs selected (all when whole),
 * some scalars set, some sub-messages and list elements, FRESH_DEPTH
 * levels deep.
 */
static ProtobufCMessage *
fresh(struct mctx *c, const ProtobufCMessageDescriptor *d, int depth,
    bool whole)
{
	const ProtobufCFieldDescriptor *f, *mf;
	ProtobufCMessage *m;
	size_t n;
	unsigned i;

	m = pbmsg_new_minimal(d);
	if (m == NULL)
		return (NULL);
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (pbmsg_is_oneof(f)) {
			if (!pbmsg_oneof_first(d, f) ||
			    (!whole && !rchance(c, 7, 8)))
				continue;
			n = pbmsg_oneof_members(d, f, NULL, 0);
			mf = pbm_oneof_nth(d, f, pbm_oneof_pick(c, d, f, n));
			if (whole)
				pbm_set_filled(c, m, mf, depth);
			else
				pbm_set_random(c, m, mf, depth);
		} else if (pbmsg_is_repeated(f)) {
			if (depth < FRESH_DEPTH && rchance(c, 1, 4))
				pbm_insert_random(c, m, f, 0, depth, false);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label != PROTOBUF_C_LABEL_REQUIRED &&
			    depth < FRESH_DEPTH && rchance(c, 1, 3))
				pbm_set_random(c, m, f, depth);
		} else if (whole || rchance(c, 1, 2))
			pbm_set_random(c, m, f, depth);
	}
	return (m);
}

