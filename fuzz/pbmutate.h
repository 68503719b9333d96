/*
 * Structure-aware mutator for any protobuf-c message type, driven by the
 * runtime descriptors (no generated code needed).  It unpacks the input
 * (an input that does not decode is replaced by a minimal message), applies
 * one or more mutations, lets a repair hook restore the schema's own
 * invariants (valid object references, ...), and packs the result.
 *
 * With hooks->generate, an empty input (and one call in a hundred) is
 * built from nothing by the application's generator first.
 *
 * Mutations, picked by kind and then uniformly over the places they apply
 * (a share of them first to the program's call list, hooks->program):
 *   repeated fields  insert a fresh element (filled: its oneofs chosen, its
 *                    scalars set), insert a copy, delete
 *                    one or a run, swap, move, duplicate a run, splice a run
 *                    from another list of the same field
 *   oneofs           switch to another member (a filled fresh message) or
 *                    unset
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
	 * freeable by pbmsg_free(): every hook that stores heap memory in a
	 * message (a string, bytes, an array, a sub-message) allocates it
	 * with pbmsg.h's functions (pbmsg_new, pbmsg_set, pbmsg_insert,
	 * pbmsg_mem_strdup, ...), never with malloc, because pbmutate_mutate
	 * and pbmutate_crossover run in pbmsg's pool.
	 */
	void	(*repair)(ProtobufCMessage *msg, void *arg);
	void	*arg;
	/* Longest the mutator grows a repeated field (0: 64). */
	size_t	max_repeated;
	/* Longest string or bytes value the mutator creates (0: 32). */
	size_t	max_string;
	/*
	 * Domain knowledge, all optional.  values: the values the
	 * application finds interesting for scalar field f of message type
	 * d (object indices, sizes around its boundaries, its own limits);
	 * writes at most nvals into vals and returns how many (0: none, the
	 * generic tables are used).
	 */
	size_t	(*values)(const ProtobufCMessageDescriptor *d,
		    const ProtobufCFieldDescriptor *f, uint64_t *vals,
		    size_t nvals, void *arg);
	/*
	 * inserted: the mutator has just put a fresh element at m.f[idx];
	 * the application may add what that element needs to mean anything
	 * (the producers of the resources it refers to, as syzkaller adds a
	 * socket() before a send()) anywhere in root.  rnd is fresh
	 * randomness; the mutator is deterministic as long as the hook is.
	 */
	void	(*inserted)(ProtobufCMessage *root, ProtobufCMessage *m,
		    const ProtobufCFieldDescriptor *f, size_t idx,
		    uint64_t rnd, void *arg);
	/*
	 * generate: build a first message into root (a minimal message)
	 * when the input is empty or does not decode, as a generator
	 * builds a program from nothing.  NULL: mutate the minimal message.
	 */
	void	(*generate)(ProtobufCMessage *root, uint64_t rnd, void *arg);
	/*
	 * choose: which member of the oneof whose first member is f a new
	 * or switched message of type d gets: an index into the oneof's
	 * members in declaration order, or -1 to pick uniformly.  root is
	 * the whole message (NULL while a detached sub-tree is built), so
	 * the choice can follow what the message already holds, as
	 * syzkaller's choice table prefers calls related to the program's
	 * resources.
	 */
	int	(*choose)(const ProtobufCMessage *root,
		    const ProtobufCMessageDescriptor *d,
		    const ProtobufCFieldDescriptor *f, size_t n_members,
		    uint64_t rnd, void *arg);
	/*
	 * mutate_bytes: the engine's byte mutator (libFuzzer's
	 * LLVMFuzzerMutate), applied now and then to a scalar's bytes, so
	 * the engine's comparison tracing and dictionary reach the fields
	 * as libprotobuf-mutator lets them.  NULL: never.
	 */
	size_t	(*mutate_bytes)(uint8_t *data, size_t size, size_t max_size);
	/*
	 * program: the repeated message field (its number, in messages of
	 * type program_type) that holds the input's calls, if the schema
	 * has one.  A quarter of the mutations then work on that list
	 * alone, half of those inserting a fresh call and the rest
	 * deleting, copying, moving or splicing calls: the order of the
	 * calls is what a program is, and syzkaller spends about half of
	 * its mutations inserting calls.  0: the list is one repeated
	 * field among the schema's others, which in an input with a few
	 * lists gets a few percent of the inserts.
	 */
	const ProtobufCMessageDescriptor *program_type;
	uint32_t	program;
};

/*
 * Insert a fresh random element of repeated field f of m at pos (the
 * mutator's own "ins" step, hooks->inserted included); for generators
 * and hooks that build messages out of random parts.  root is the whole
 * message m belongs to.
 */
void	pbmutate_insert_fresh(ProtobufCMessage *root, ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, size_t pos, uint64_t seed,
	    const struct pbmutate_hooks *hooks);

/*
 * Counters of what the mutator did since the process started (for
 * docs/FUZZING.md's analysis; the last line of SNDTAG_MUTLOG has them).
 */
struct pbmutate_stats {
	uint64_t	calls;		/* pbmutate_mutate + crossover */
	uint64_t	generated;	/* empty input, built by generate */
	uint64_t	unchanged;	/* attempts whose output == input */
	uint64_t	gave_up;	/* calls returning the input as is */
	uint64_t	shrunk;		/* outputs cut down to max_size */
	uint64_t	grew;		/* outputs longer than the input */
	uint64_t	domain_values;	/* scalars from hooks->values */
	uint64_t	byte_mutations;	/* scalars through mutate_bytes */
	uint64_t	reused;		/* inputs taken from the chain */
	uint64_t	partner_hits;	/* crossover partners already decoded */
};
const struct pbmutate_stats *pbmutate_get_stats(void);

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
 * Drop the mutator's caches: the message the last mutation packed, which
 * the next one takes back instead of unpacking the same bytes, and the
 * decoded crossover partners.  Dropping them never changes a mutation.
 */
void	pbmutate_forget(void);

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

/*
 * FNV-1a, 64 bits, of bytes: how the library and its libFuzzer glue name
 * an input (the partner cache, the mutation log; tools/mutstats.c reads
 * the log with its own copy, both pinned to the same values by tests).
 */
uint64_t pbmutate_hash(const uint8_t *data, size_t size);

#endif /* !_FUZZ_PBMUTATE_H_ */
