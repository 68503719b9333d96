/*
 * Generic access to protobuf-c messages through their runtime descriptors,
 * shared by the text format (pbtext) and the mutator (pbmutate), and
 * available to repair hooks.
 *
 * Ownership follows protobuf_c_message_free_unpacked() with the default
 * (malloc) allocator: every string, bytes buffer, sub-message and repeated
 * array reachable from a message is heap memory owned by that message,
 * except a singular string or bytes value that still points at its
 * field's static default_value.  Every function here keeps that invariant,
 * so any message they return or modify can be freed with pbmsg_free() (or,
 * outside pbmsg's pool, protobuf_c_message_free_unpacked(m, NULL)) at any
 * point.
 */
#ifndef _FUZZ_PBMSG_H_
#define	_FUZZ_PBMSG_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Deepest sub-message level the walkers visit: bounds recursion on
 * recursive schemas (deeper levels are left alone).
 */
#define	PBMSG_MAX_DEPTH		100

/* Address of the member at byte offset 'off' of a message struct. */
#define	PBMSG_MEMBER(msg, off)	((void *)((char *)(msg) + (off)))

/* Size of one value of this type in a message struct or repeated array. */
size_t	pbmsg_elt_size(ProtobufCType type);

bool	pbmsg_is_repeated(const ProtobufCFieldDescriptor *f);
bool	pbmsg_is_oneof(const ProtobufCFieldDescriptor *f);
/* The field has a has_<name> flag (proto2 optional scalar or bytes). */
bool	pbmsg_uses_has(const ProtobufCFieldDescriptor *f);
/* The value is a pointer (string, message). */
bool	pbmsg_is_pointer(const ProtobufCFieldDescriptor *f);

/*
 * Oneofs: protobuf-c descriptors carry no oneof names; a oneof is the set
 * of fields flagged ONEOF that share a quantifier_offset (the case member).
 */
bool	pbmsg_same_oneof(const ProtobufCFieldDescriptor *a,
	    const ProtobufCFieldDescriptor *b);
/* f is the first member of its oneof in descriptor order. */
bool	pbmsg_oneof_first(const ProtobufCMessageDescriptor *d,
	    const ProtobufCFieldDescriptor *f);
/* The member of f's oneof selected in m, or NULL. */
const ProtobufCFieldDescriptor *pbmsg_oneof_active(const ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f);
/* Members of f's oneof: fills up to 'max' pointers, returns the count. */
size_t	pbmsg_oneof_members(const ProtobufCMessageDescriptor *d,
	    const ProtobufCFieldDescriptor *f,
	    const ProtobufCFieldDescriptor **out, size_t max);

/* Number of elements of a repeated field. */
size_t	pbmsg_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/*
 * Address of a value: the member itself for a singular field (idx must be
 * 0), &array[idx] for a repeated field.
 */
void	*pbmsg_slot(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	    size_t idx);
/*
 * The field would be packed: repeated with elements, selected oneof
 * member with a value, has_ set, non-default pointer, non-zero proto3
 * scalar (bitwise, so -0.0 counts), required.
 */
bool	pbmsg_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* A fresh message with its defaults; NULL on allocation failure. */
ProtobufCMessage *pbmsg_new(const ProtobufCMessageDescriptor *d);
/*
 * Like pbmsg_new(), plus every required sub-message (recursively, bounded
 * depth), so that the packed message unpacks again.
 */
ProtobufCMessage *pbmsg_new_minimal(const ProtobufCMessageDescriptor *d);
/* Deep copy; unknown fields are not copied.  NULL on allocation failure. */
ProtobufCMessage *pbmsg_clone(const ProtobufCMessage *m);
void	pbmsg_free(ProtobufCMessage *m);
/* Drop unknown fields in m and its sub-messages (to PBMSG_MAX_DEPTH). */
void	pbmsg_strip_unknown(ProtobufCMessage *m);

/*
 * Deep copy of one value of field f from *src into *dst (uninitialised);
 * 'repeated' says whether src is an array element (never a default).
 * Returns 0, or -1 on allocation failure with *dst zeroed.
 */
int	pbmsg_copy_value(const ProtobufCFieldDescriptor *f, void *dst,
	    const void *src, bool repeated);
/* Free what a value owns ('repeated' as above) and zero it. */
void	pbmsg_free_value(const ProtobufCFieldDescriptor *f, void *slot,
	    bool repeated);

/*
 * Reset a field to its initial state: repeated emptied, selected oneof
 * member unselected (other members: no-op), singular back to its default
 * with has_ cleared.  Frees what the old value owned.
 */
void	pbmsg_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/*
 * Store *val (ownership moves to m) as the value of a singular field,
 * selecting it if it is a oneof member (the previous member is freed) and
 * setting has_.  For a repeated field, replaces element idx.
 */
void	pbmsg_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	    size_t idx, const void *val);
/*
 * Repeated fields: insert *val (ownership moves to m on success) before
 * element idx (idx == count appends); -1 on allocation failure, val not
 * taken.  pbmsg_remove frees 'count' elements from idx on.
 */
int	pbmsg_insert(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	    size_t idx, const void *val);
void	pbmsg_remove(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
	    size_t idx, size_t count);

/*
 * Pre-order walk over m and its sub-messages (set singular fields,
 * selected oneof members, repeated elements), at most 'max_depth' levels
 * below m.  fn returns non-zero to stop; the walk returns that value,
 * or -1 if it could not allocate its per-type plan (it stops there).
 */
typedef int	pbmsg_visit_fn(ProtobufCMessage *m, int depth, void *arg);
int	pbmsg_walk(ProtobufCMessage *m, int max_depth, pbmsg_visit_fn *fn,
	    void *arg);

/*
 * A message type's fields as the walkers see them, built once per type
 * and thread: a oneof is one entry (PBMSG_PE_ONEOF, at its first member's
 * place, f its first member) whose selected member pbmsg_oneof_active
 * finds by its case.  all[] holds every field so; msg[], in the same
 * order, only those that can hold a sub-message (message fields, and
 * oneofs with a message member).  NULL if it cannot be allocated.
 */
enum { PBMSG_PE_SINGLE, PBMSG_PE_REPEATED, PBMSG_PE_ONEOF };

struct pbmsg_plan_entry {
	const ProtobufCFieldDescriptor *f;
	int		 kind;
};

struct pbmsg_plan {
	const ProtobufCMessageDescriptor *d;
	unsigned	 nmsg;		/* entries of msg[] */
	unsigned	 nall;		/* entries of all[] */
	struct pbmsg_plan_entry *msg;
	struct pbmsg_plan_entry all[];
};

const struct pbmsg_plan *pbmsg_plan(const ProtobufCMessageDescriptor *d);

/* Packed bytes of m in a malloc'd buffer (NULL on failure; *len set). */
uint8_t	*pbmsg_pack(const ProtobufCMessage *m, size_t *len);

/*
 * Allocation.  Every allocation of pbmsg (and of protobuf-c when it is
 * given pbmsg_allocator()) goes through these: plain malloc, or between
 * pbmsg_pool_enter() and pbmsg_pool_exit() a free-list pool
 * (pbmsg_pool.c).  A message must be freed in the mode it was made in:
 * pbmutate enters the pool only around work whose messages it creates
 * and frees itself.
 */
void	pbmsg_pool_enter(void);
void	pbmsg_pool_exit(void);
void	*pbmsg_mem_alloc(size_t n);
void	*pbmsg_mem_calloc(size_t k, size_t n);
void	*pbmsg_mem_realloc(void *p, size_t n);
void	pbmsg_mem_free(void *p);
char	*pbmsg_mem_strdup(const char *s);
/* For protobuf-c's unpack and free_unpacked: NULL outside the pool. */
ProtobufCAllocator *pbmsg_allocator(void);

#endif /* !_FUZZ_PBMSG_H_ */
