/*
 * Generic protobuf-c message access over runtime descriptors.  See pbmsg.h
 * for the ownership rules every function here keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"

/* Required sub-messages are created at most this deep (cycles are bugs). */
#define	PBMSG_MINIMAL_DEPTH	32

size_t
pbmsg_elt_size(ProtobufCType type)
{

	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return (sizeof(uint32_t));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return (sizeof(uint64_t));
	case PROTOBUF_C_TYPE_FLOAT:
		return (sizeof(float));
	case PROTOBUF_C_TYPE_DOUBLE:
		return (sizeof(double));
	case PROTOBUF_C_TYPE_BOOL:
		return (sizeof(protobuf_c_boolean));
	case PROTOBUF_C_TYPE_ENUM:
		return (sizeof(int));
	case PROTOBUF_C_TYPE_STRING:
		return (sizeof(char *));
	case PROTOBUF_C_TYPE_BYTES:
		return (sizeof(ProtobufCBinaryData));
	case PROTOBUF_C_TYPE_MESSAGE:
		return (sizeof(ProtobufCMessage *));
	}
	return (0);
}

bool
pbmsg_is_repeated(const ProtobufCFieldDescriptor *f)
{

	return (f->label == PROTOBUF_C_LABEL_REPEATED);
}

bool
pbmsg_is_oneof(const ProtobufCFieldDescriptor *f)
{

	return ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0);
}

bool
pbmsg_is_pointer(const ProtobufCFieldDescriptor *f)
{

	return (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE);
}

bool
pbmsg_uses_has(const ProtobufCFieldDescriptor *f)
{

	return (f->label == PROTOBUF_C_LABEL_OPTIONAL && !pbmsg_is_oneof(f) &&
	    !pbmsg_is_pointer(f));
}

bool
pbmsg_same_oneof(const ProtobufCFieldDescriptor *a,
    const ProtobufCFieldDescriptor *b)
{

	return (pbmsg_is_oneof(a) && pbmsg_is_oneof(b) &&
	    a->quantifier_offset == b->quantifier_offset);
}

bool
pbmsg_oneof_first(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f)
{
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		if (pbmsg_same_oneof(&d->fields[i], f))
			return (&d->fields[i] == f);
	}
	return (false);
}

const ProtobufCFieldDescriptor *
pbmsg_oneof_active(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCFieldDescriptor *a;
	uint32_t which;

	which = *(const uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset);
	if (which == 0)
		return (NULL);
	/* By number (a binary search), not by testing every member. */
	a = protobuf_c_message_descriptor_get_field(m->descriptor, which);
	return (a != NULL && pbmsg_same_oneof(a, f) ? a : NULL);
}

size_t
pbmsg_oneof_members(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, const ProtobufCFieldDescriptor **out,
    size_t max)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		if (pbmsg_same_oneof(&d->fields[i], f)) {
			if (n < max)
				out[n] = &d->fields[i];
			n++;
		}
	}
	return (n);
}

size_t
pbmsg_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{

	if (!pbmsg_is_repeated(f))
		return (0);
	return (*(const size_t *)PBMSG_MEMBER(m, f->quantifier_offset));
}

void *
pbmsg_slot(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    size_t idx)
{
	char *arr;

	if (!pbmsg_is_repeated(f))
		return (PBMSG_MEMBER(m, f->offset));
	arr = *(char **)PBMSG_MEMBER(m, f->offset);
	return (arr + idx * pbmsg_elt_size(f->type));
}

static bool
bits_nonzero(const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != 0)
			return (true);
	return (false);
}

bool
pbmsg_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *slot = PBMSG_MEMBER(m, f->offset);
	const void *ptr;

	if (pbmsg_is_repeated(f))
		return (pbmsg_count(m, f) > 0);
	if (pbmsg_is_oneof(f)) {
		if (*(const uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset) !=
		    f->id)
			return (false);
		if (pbmsg_is_pointer(f)) {
			ptr = *(const void * const *)slot;
			return (ptr != NULL && ptr != f->default_value);
		}
		return (true);
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return (*(const void * const *)slot != NULL);
		return (true);
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (pbmsg_uses_has(f))
			return (*(const protobuf_c_boolean *)PBMSG_MEMBER(m,
			    f->quantifier_offset) != 0);
		ptr = *(const void * const *)slot;
		return (ptr != NULL && ptr != f->default_value);
	default:
		break;
	}
	/* proto3 singular: present when not zero. */
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		ptr = *(const char * const *)slot;
		return (ptr != NULL && *(const char *)ptr != '\0');
	case PROTOBUF_C_TYPE_MESSAGE:
		return (*(const void * const *)slot != NULL);
	case PROTOBUF_C_TYPE_BYTES:
		return (((const ProtobufCBinaryData *)slot)->len != 0);
	default:
		return (bits_nonzero(slot, pbmsg_elt_size(f->type)));
	}
}

ProtobufCMessage *
pbmsg_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m;

	m = pbmsg_mem_alloc(d->sizeof_message);
	if (m == NULL)
		return (NULL);
	d->message_init(m);
	return (m);
}

static ProtobufCMessage *
new_minimal(const ProtobufCMessageDescriptor *d, int depth)
{
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m, *sub;
	unsigned i;

	m = pbmsg_new(d);
	if (m == NULL || depth >= PBMSG_MINIMAL_DEPTH)
		return (m);
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REQUIRED ||
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		sub = new_minimal(f->descriptor, depth + 1);
		if (sub == NULL) {
			pbmsg_free(m);
			return (NULL);
		}
		*(ProtobufCMessage **)PBMSG_MEMBER(m, f->offset) = sub;
	}
	return (m);
}

ProtobufCMessage *
pbmsg_new_minimal(const ProtobufCMessageDescriptor *d)
{

	return (new_minimal(d, 0));
}

void
pbmsg_free(ProtobufCMessage *m)
{

	if (m != NULL)
		protobuf_c_message_free_unpacked(m, pbmsg_allocator());
}

int
pbmsg_copy_value(const ProtobufCFieldDescriptor *f, void *dst, const void *src,
    bool repeated)
{
	const ProtobufCBinaryData *sb, *db;
	ProtobufCBinaryData *bd;
	const char *s;
	const ProtobufCMessage *sm;
	ProtobufCMessage *cm;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char * const *)src;
		if (s == NULL || (!repeated && s == f->default_value)) {
			*(const char **)dst = s;
			return (0);
		}
		*(char **)dst = pbmsg_mem_strdup(s);
		return (*(char **)dst == NULL ? -1 : 0);
	case PROTOBUF_C_TYPE_BYTES:
		sb = src;
		bd = dst;
		db = f->default_value;
		if (!repeated && db != NULL && sb->data == db->data) {
			*bd = *sb;
			return (0);
		}
		bd->len = 0;
		bd->data = NULL;
		if (sb->len == 0)
			return (0);
		bd->data = pbmsg_mem_alloc(sb->len);
		if (bd->data == NULL)
			return (-1);
		memcpy(bd->data, sb->data, sb->len);
		bd->len = sb->len;
		return (0);
	case PROTOBUF_C_TYPE_MESSAGE:
		sm = *(const ProtobufCMessage * const *)src;
		if (sm == NULL) {
			*(ProtobufCMessage **)dst = NULL;
			return (0);
		}
		cm = pbmsg_clone(sm);
		*(ProtobufCMessage **)dst = cm;
		return (cm == NULL ? -1 : 0);
	default:
		memcpy(dst, src, pbmsg_elt_size(f->type));
		return (0);
	}
}

void
pbmsg_free_value(const ProtobufCFieldDescriptor *f, void *slot, bool repeated)
{
	const ProtobufCBinaryData *db;
	ProtobufCBinaryData *bd;
	char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		s = *(char **)slot;
		if (s != NULL && (repeated || s != f->default_value))
			pbmsg_mem_free(s);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = slot;
		db = f->default_value;
		if (bd->data != NULL &&
		    (repeated || db == NULL || db->data != bd->data))
			pbmsg_mem_free(bd->data);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		pbmsg_free(*(ProtobufCMessage **)slot);
		break;
	default:
		break;
	}
	memset(slot, 0, pbmsg_elt_size(f->type));
}

/* Store the field's initial value (what message_init put there). */
static void
set_default(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *slot = PBMSG_MEMBER(m, f->offset);

	memset(slot, 0, pbmsg_elt_size(f->type));
	if (f->default_value == NULL)
		return;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		*(const void **)slot = f->default_value;
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	default:
		memcpy(slot, f->default_value, pbmsg_elt_size(f->type));
		break;
	}
}

void
pbmsg_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	size_t *np, i;
	char *arr;

	if (pbmsg_is_repeated(f)) {
		np = PBMSG_MEMBER(m, f->quantifier_offset);
		arr = *(char **)PBMSG_MEMBER(m, f->offset);
		for (i = 0; i < *np; i++)
			pbmsg_free_value(f, arr + i * pbmsg_elt_size(f->type),
			    true);
		pbmsg_mem_free(arr);
		*np = 0;
		*(char **)PBMSG_MEMBER(m, f->offset) = NULL;
		return;
	}
	if (pbmsg_is_oneof(f)) {
		if (*(uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset) !=
		    f->id)
			return;
		pbmsg_free_value(f, PBMSG_MEMBER(m, f->offset), false);
		*(uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset) = 0;
		return;
	}
	pbmsg_free_value(f, PBMSG_MEMBER(m, f->offset), false);
	set_default(m, f);
	if (pbmsg_uses_has(f))
		*(protobuf_c_boolean *)PBMSG_MEMBER(m, f->quantifier_offset) =
		    0;
}

void
pbmsg_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t idx,
    const void *val)
{
	const ProtobufCFieldDescriptor *cur;
	size_t sz = pbmsg_elt_size(f->type);
	void *slot;

	if (pbmsg_is_repeated(f)) {
		slot = pbmsg_slot(m, f, idx);
		pbmsg_free_value(f, slot, true);
		memcpy(slot, val, sz);
		return;
	}
	if (pbmsg_is_oneof(f)) {
		cur = pbmsg_oneof_active(m, f);
		if (cur != NULL)
			pbmsg_clear(m, cur);
		memcpy(PBMSG_MEMBER(m, f->offset), val, sz);
		*(uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset) = f->id;
		return;
	}
	slot = PBMSG_MEMBER(m, f->offset);
	pbmsg_free_value(f, slot, false);
	memcpy(slot, val, sz);
	if (pbmsg_uses_has(f))
		*(protobuf_c_boolean *)PBMSG_MEMBER(m, f->quantifier_offset) =
		    1;
}

int
pbmsg_insert(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    size_t idx, const void *val)
{
	size_t sz = pbmsg_elt_size(f->type);
	size_t *np = PBMSG_MEMBER(m, f->quantifier_offset);
	char **arrp = PBMSG_MEMBER(m, f->offset);
	char *arr;

	if (idx > *np)
		idx = *np;
	arr = pbmsg_mem_realloc(*arrp, (*np + 1) * sz);
	if (arr == NULL)
		return (-1);
	memmove(arr + (idx + 1) * sz, arr + idx * sz, (*np - idx) * sz);
	memcpy(arr + idx * sz, val, sz);
	*arrp = arr;
	(*np)++;
	return (0);
}

void
pbmsg_remove(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    size_t idx, size_t count)
{
	size_t sz = pbmsg_elt_size(f->type);
	size_t *np = PBMSG_MEMBER(m, f->quantifier_offset);
	char **arrp = PBMSG_MEMBER(m, f->offset);
	size_t i;

	if (idx >= *np)
		return;
	if (count > *np - idx)
		count = *np - idx;
	for (i = idx; i < idx + count; i++)
		pbmsg_free_value(f, *arrp + i * sz, true);
	memmove(*arrp + idx * sz, *arrp + (idx + count) * sz,
	    (*np - idx - count) * sz);
	*np -= count;
	if (*np == 0) {
		pbmsg_mem_free(*arrp);
		*arrp = NULL;
	}
}

ProtobufCMessage *
pbmsg_clone(const ProtobufCMessage *src)
{
	const ProtobufCMessageDescriptor *d = src->descriptor;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *m;
	size_t n, i, sz, *np;
	char *sarr, *darr;
	unsigned k;

	m = pbmsg_new(d);
	if (m == NULL)
		return (NULL);
	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		sz = pbmsg_elt_size(f->type);
		if (pbmsg_is_repeated(f)) {
			n = pbmsg_count(src, f);
			if (n == 0)
				continue;
			darr = pbmsg_mem_calloc(n, sz);
			if (darr == NULL)
				goto fail;
			np = PBMSG_MEMBER(m, f->quantifier_offset);
			*(char **)PBMSG_MEMBER(m, f->offset) = darr;
			sarr = *(char **)PBMSG_MEMBER(src, f->offset);
			for (i = 0; i < n; i++) {
				if (pbmsg_copy_value(f, darr + i * sz,
				    sarr + i * sz, true) != 0)
					goto fail;
				*np = i + 1;
			}
			continue;
		}
		if (pbmsg_is_oneof(f)) {
			if (*(const uint32_t *)PBMSG_MEMBER(src,
			    f->quantifier_offset) != f->id)
				continue;
			if (pbmsg_copy_value(f, PBMSG_MEMBER(m, f->offset),
			    PBMSG_MEMBER(src, f->offset), false) != 0)
				goto fail;
			*(uint32_t *)PBMSG_MEMBER(m, f->quantifier_offset) =
			    f->id;
			continue;
		}
		/* The fresh message holds only defaults: nothing to free. */
		if (pbmsg_copy_value(f, PBMSG_MEMBER(m, f->offset),
		    PBMSG_MEMBER(src, f->offset), false) != 0) {
			set_default(m, f);
			goto fail;
		}
		if (pbmsg_uses_has(f))
			*(protobuf_c_boolean *)PBMSG_MEMBER(m,
			    f->quantifier_offset) =
			    *(const protobuf_c_boolean *)PBMSG_MEMBER(src,
			    f->quantifier_offset);
	}
	return (m);
fail:
	pbmsg_free(m);
	return (NULL);
}

static int
strip_one(ProtobufCMessage *m, int depth, void *arg)
{
	unsigned i;

	for (i = 0; i < m->n_unknown_fields; i++)
		pbmsg_mem_free(m->unknown_fields[i].data);
	pbmsg_mem_free(m->unknown_fields);
	m->unknown_fields = NULL;
	m->n_unknown_fields = 0;
	return (0);
}

void
pbmsg_strip_unknown(ProtobufCMessage *m)
{

	(void)pbmsg_walk(m, PBMSG_MAX_DEPTH, strip_one, NULL);
}

/*
 * The per-type plans (pbmsg.h): the walk is most of what a mutation of a
 * long scenario costs, and an Op has thirty-odd oneof members.
 */
#define	PBMSG_PLANS	256		/* message types, a power of two */

static _Thread_local struct pbmsg_plan *pbmsg_plans[PBMSG_PLANS];

static bool
plan_holds_msg(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f)
{
	unsigned k;

	if (!pbmsg_is_oneof(f))
		return (f->type == PROTOBUF_C_TYPE_MESSAGE);
	for (k = 0; k < d->n_fields; k++)
		if (pbmsg_same_oneof(&d->fields[k], f) &&
		    d->fields[k].type == PROTOBUF_C_TYPE_MESSAGE)
			return (true);
	return (false);
}

static struct pbmsg_plan *
plan_make(const ProtobufCMessageDescriptor *d)
{
	const ProtobufCFieldDescriptor *f;
	struct pbmsg_plan_entry e;
	struct pbmsg_plan *p;
	unsigned k;

	p = malloc(sizeof(*p) + 2 * (size_t)d->n_fields * sizeof(p->all[0]));
	if (p == NULL)
		return (NULL);
	p->d = d;
	p->nmsg = p->nall = 0;
	p->msg = p->all + d->n_fields;
	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (pbmsg_is_oneof(f)) {
			if (!pbmsg_oneof_first(d, f))
				continue;
			e = (struct pbmsg_plan_entry){ f, PBMSG_PE_ONEOF };
		} else
			e = (struct pbmsg_plan_entry){ f, pbmsg_is_repeated(f) ?
			    PBMSG_PE_REPEATED : PBMSG_PE_SINGLE };
		p->all[p->nall++] = e;
		if (plan_holds_msg(d, f))
			p->msg[p->nmsg++] = e;
	}
	return (p);
}

const struct pbmsg_plan *
pbmsg_plan(const ProtobufCMessageDescriptor *d)
{
	uintptr_t h = (uintptr_t)d >> 4;
	unsigned i, slot;

	for (i = 0; i < PBMSG_PLANS; i++) {
		slot = (unsigned)(h + i) & (PBMSG_PLANS - 1);
		if (pbmsg_plans[slot] == NULL) {
			pbmsg_plans[slot] = plan_make(d);
			return (pbmsg_plans[slot]);
		}
		if (pbmsg_plans[slot]->d == d)
			return (pbmsg_plans[slot]);
	}
	return (NULL);
}

static int
walk(ProtobufCMessage *m, int depth, int max_depth, pbmsg_visit_fn *fn,
    void *arg)
{
	const struct pbmsg_plan *p;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *sub, **subs;
	size_t n, i;
	unsigned k;
	int rv;

	rv = fn(m, depth, arg);
	if (rv != 0 || (max_depth >= 0 && depth >= max_depth))
		return (rv);
	if ((p = pbmsg_plan(m->descriptor)) == NULL)
		return (-1);
	for (k = 0; k < p->nmsg; k++) {
		f = p->msg[k].f;
		switch (p->msg[k].kind) {
		case PBMSG_PE_REPEATED:
			n = *(size_t *)PBMSG_MEMBER(m, f->quantifier_offset);
			subs = *(ProtobufCMessage ***)PBMSG_MEMBER(m,
			    f->offset);
			for (i = 0; i < n; i++) {
				if (subs[i] == NULL)
					continue;
				rv = walk(subs[i], depth + 1, max_depth, fn,
				    arg);
				if (rv != 0)
					return (rv);
			}
			continue;
		case PBMSG_PE_ONEOF:
			f = pbmsg_oneof_active(m, f);
			if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
				continue;
			break;
		default:
			break;
		}
		sub = *(ProtobufCMessage **)PBMSG_MEMBER(m, f->offset);
		if (sub == NULL || sub == f->default_value)
			continue;
		rv = walk(sub, depth + 1, max_depth, fn, arg);
		if (rv != 0)
			return (rv);
	}
	return (0);
}

int
pbmsg_walk(ProtobufCMessage *m, int max_depth, pbmsg_visit_fn *fn, void *arg)
{

	return (walk(m, 0, max_depth, fn, arg));
}

uint8_t *
pbmsg_pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;
	size_t n;

	n = protobuf_c_message_get_packed_size(m);
	buf = malloc(n == 0 ? 1 : n);
	if (buf == NULL) {
		*len = 0;
		return (NULL);
	}
	*len = protobuf_c_message_pack(m, buf);
	return (buf);
}
