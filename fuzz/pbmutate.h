/*
 * Structure-aware mutator for any protobuf-c message type, driven by the
 * runtime descriptors (no generated code needed).  It unpacks the input
 * (an input that does not decode is replaced by a minimal message), applies
 * one or more mutations, lets a repair hook restore the schema's own
 * invariants (valid object references, ...), and packs the result.
 *
 * Mutations, picked by kind and then uniformly over the places they apply:
 *   repeated fields  insert a fresh random element, insert a copy, delete
 *                    one or a run, swap, move, duplicate a run, splice a run
 *                    from another list of the same field
 *   oneofs           switch to another member (fresh sub-message) or unset
 *   scalars          interesting values (0, 1, -1, limits, powers of two,
 *                    values near 1500/9000/65535), small deltas, bit flips,
 *                    small indices; proto2 has_ toggled
 *   enums            a valid value (mostly) or an invalid one
 *   bools            flipped
 *   strings, bytes   bounded edits (hooks->max_string)
 *   sub-messages     created, replaced by a fresh one, or cleared
 * Crossover splices runs of elements of the same repeated field from the
 * second input, copies a field of a same-typed sub-message, or mixes the
 * two roots field by field.
 *
 * Deterministic: the output depends only on the input bytes, the seed and
 * the hooks (a splitmix64 generator seeded from 'seed'; no global state).
 * Unknown fields are dropped.  The output never exceeds max_size: trailing
 * elements of the longest repeated field are dropped (and the hook rerun)
 * until it fits, then a minimal message, then 0 bytes.
 */
#ifndef _FUZZ_PBMUTATE_H_
#define	_FUZZ_PBMUTATE_H_

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct pbmutate_hooks {
	/*
	 * Called on every message before it is packed (again after any
	 * shrinking).  It may change anything as long as the message stays
	 * freeable by protobuf_c_message_free_unpacked(m, NULL); pbmsg.h has
	 * helpers that keep that true.
	 */
	void	(*repair)(ProtobufCMessage *msg, void *arg);
	void	*arg;
	/* Longest the mutator grows a repeated field (0: 64). */
	size_t	max_repeated;
	/* Longest string or bytes value the mutator creates (0: 32). */
	size_t	max_string;
};

/*
 * Mutate the message in data[0..size) in place; data has room for
 * max_size bytes.  Returns the new size (<= max_size).  hooks may be NULL.
 */
size_t	pbmutate_mutate(const ProtobufCMessageDescriptor *d, uint8_t *data,
	    size_t size, size_t max_size, uint32_t seed,
	    const struct pbmutate_hooks *hooks);

/*
 * Cross data1 with data2 into out (max_out bytes, not overlapping the
 * inputs).  Returns the size written (<= max_out).
 */
size_t	pbmutate_crossover(const ProtobufCMessageDescriptor *d,
	    const uint8_t *data1, size_t size1, const uint8_t *data2,
	    size_t size2, uint8_t *out, size_t max_out, uint32_t seed,
	    const struct pbmutate_hooks *hooks);

/*
 * In-place forms over a decoded message (no packing, no size limit, no
 * repair): 'rounds' mutations, or one crossover step taking material from
 * 'other' (left unchanged).
 */
void	pbmutate_message(ProtobufCMessage *m, unsigned rounds, uint64_t seed,
	    const struct pbmutate_hooks *hooks);
void	pbmutate_cross_message(ProtobufCMessage *m,
	    const ProtobufCMessage *other, uint64_t seed,
	    const struct pbmutate_hooks *hooks);

/*
 * Short description of the last mutation or crossover on this thread
 * (e.g. "ins:ops,val:len"), for AFL++'s describe callback: only
 * [A-Za-z0-9_,:+-] characters.
 */
const char *pbmutate_last(void);

#endif /* !_FUZZ_PBMUTATE_H_ */
