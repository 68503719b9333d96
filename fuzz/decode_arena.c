/*
 * Harness: the decode arena (see decode_arena.h).
 */
#include "fuzz/decode_arena.h"

#include <stdint.h>
#include <stdlib.h>

#include <sanitizer/asan_interface.h>

/*
 * A decoded Scenario within the interpreter's limits (256 ops of a few
 * dozen bytes each, 16 interfaces, 64 routes) takes well under this; an
 * input past it (to be rejected anyway) spills to malloc.
 */
#define	ARENA_SIZE	(256 * 1024)
#define	ARENA_ALIGN	16
#define	ARENA_GAP	16	/* poisoned after each allocation */

static struct {
	uint8_t		*base;
	size_t		 used;
	size_t		 spilled;	/* allocations on the heap */
	ProtobufCAllocator alloc;
} arena;

static void *
arena_alloc(void *data, size_t size)
{
	size_t need;
	void *p;

	(void)data;
	need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (arena.base == NULL || need > ARENA_SIZE - ARENA_GAP ||
	    arena.used + need + ARENA_GAP > ARENA_SIZE) {
		arena.spilled++;
		return (malloc(size));
	}
	p = arena.base + arena.used;
	arena.used += need + ARENA_GAP;
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	return (p);
}

static void
arena_free(void *data, void *p)
{
	uint8_t *b = p;

	(void)data;
	/* Arena memory goes at the next reset; spills are the heap's. */
	if (b != NULL && (arena.base == NULL || b < arena.base ||
	    b >= arena.base + ARENA_SIZE))
		free(p);
}

ProtobufCAllocator *
decode_arena(void)
{
	if (arena.base == NULL) {
		arena.base = aligned_alloc(ARENA_ALIGN, ARENA_SIZE);
		if (arena.base != NULL)
			ASAN_POISON_MEMORY_REGION(arena.base, ARENA_SIZE);
		arena.alloc.alloc = arena_alloc;
		arena.alloc.free = arena_free;
		arena.alloc.allocator_data = NULL;
	}
	return (&arena.alloc);
}

void
decode_arena_drop(ProtobufCMessage *m)
{
	if (m != NULL && arena.spilled != 0)
		protobuf_c_message_free_unpacked(m, &arena.alloc);
	if (arena.base != NULL)
		ASAN_POISON_MEMORY_REGION(arena.base, arena.used);
	arena.used = 0;
	arena.spilled = 0;
}
