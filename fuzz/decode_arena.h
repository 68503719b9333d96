/*
 * Harness: a bump allocator for decoding one input (protobuf-c's
 * ProtobufCAllocator).  interp_run_bytes decodes every input into it and
 * drops the whole decoded Scenario at once, instead of a malloc and a
 * free per message.  Under ASan everything past the live allocations is
 * poisoned, with a poisoned gap after each, so an overrun of a decoded
 * array or a use of the Scenario after its input is still reported.
 *
 * One arena per process, for one decoded input at a time (the core is
 * one world, so only one input runs at a time anyway).
 */
#ifndef _FUZZ_DECODE_ARENA_H_
#define	_FUZZ_DECODE_ARENA_H_

#include <protobuf-c/protobuf-c.h>

/* The arena's allocator; empty on first use. */
ProtobufCAllocator *decode_arena(void);
/*
 * Drop the message decoded into the arena (NULL: none) and everything
 * else in it.  The message tree is walked only if part of it spilled to
 * the heap.
 */
void	decode_arena_drop(ProtobufCMessage *m);

#endif /* !_FUZZ_DECODE_ARENA_H_ */
