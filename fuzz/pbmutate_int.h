/*
 * pbmutate's parts: pbmutate.c (where and how to mutate, crossover,
 * decode and fit) and pbmutate_values.c (new values and messages), and
 * what one calls in the other.  pbmutate.h is the API.
 */
#ifndef _FUZZ_PBMUTATE_INT_H_
#define	_FUZZ_PBMUTATE_INT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbmutate.h"

#define	FRESH_DEPTH		4	/* levels a fresh message fills in */
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

extern struct pbmutate_stats pbm_stats;

/* splitmix64 */
static inline uint64_t
rnext(struct mctx *c)
{
	uint64_t z;

	z = (c->rs += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static inline uint64_t
rbelow(struct mctx *c, uint64_t n)
{

	return (n == 0 ? 0 : rnext(c) % n);
}

static inline bool
rchance(struct mctx *c, unsigned num, unsigned den)
{

	return (rbelow(c, den) < num);
}

/* pbmutate_values.c: a new value for f (0: none), fresh messages. */
int	pbm_new_value(struct mctx *c, const ProtobufCFieldDescriptor *f,
	    const void *oldp, void *out, int depth);
const ProtobufCFieldDescriptor *pbm_oneof_nth(
	    const ProtobufCMessageDescriptor *d,
	    const ProtobufCFieldDescriptor *f, size_t nth);
size_t	pbm_oneof_pick(struct mctx *c, const ProtobufCMessageDescriptor *d,
	    const ProtobufCFieldDescriptor *f, size_t n);
void	pbm_set_random(struct mctx *c, ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, int depth);
void	pbm_set_filled(struct mctx *c, ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, int depth);
void	pbm_insert_random(struct mctx *c, ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, size_t pos, int depth,
	    bool in_root);

#endif /* !_FUZZ_PBMUTATE_INT_H_ */
