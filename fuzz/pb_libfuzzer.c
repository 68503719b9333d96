/*
 * libFuzzer glue of the structure-aware mutator (pb_libfuzzer_mutator.h):
 * what the engine does not do for a custom mutator, kept per process.
 * Compiled without coverage, like the mutator: none of this is the
 * target's behaviour.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_libfuzzer_mutator.h"

/*
 * Novelty: whether this run hit a counter no earlier run of the process
 * hit, among the binary's SanitizerCoverage counters (edges) and
 * libFuzzer's extra counters (a target's own features; fuzz_scenario's
 * lifecycle states, fuzz/interp_feedback.c).  Whether, not how often:
 * a hit-count bucket is how often, and how often an edge runs grows with
 * the input's length, so buckets would follow ever longer inputs
 * (measured: docs/FUZZING.md, "Following new states").  Counters past
 * COV_WATCH in a section are not looked at (fixed buffers: this runs
 * inside the target).
 */
#define	COV_WATCH	65536

extern uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak));
extern uint8_t __start___libfuzzer_extra_counters[] __attribute__((weak));
extern uint8_t __stop___libfuzzer_extra_counters[] __attribute__((weak));
static uint8_t cov_seen[COV_WATCH];
static uint8_t extra_seen[COV_WATCH];

/* Mostly zero: a word at a time, bytes only where one is set. */
static bool
scan(const uint8_t *c, const uint8_t *stop, uint8_t *seen)
{
	size_t i, j, n;
	uint64_t w;
	bool novel = false;

	if (c == NULL || stop <= c)
		return (false);
	n = (size_t)(stop - c);
	if (n > COV_WATCH)
		n = COV_WATCH;
	for (i = 0; i < n; i += 8) {
		if (i + 8 <= n) {
			memcpy(&w, c + i, sizeof(w));
			if (w == 0)
				continue;
		}
		for (j = i; j < n && j < i + 8; j++) {
			if (c[j] != 0 && seen[j] == 0) {
				seen[j] = 1;
				novel = true;
			}
		}
	}
	return (novel);
}

bool
pb_cov_novel(void)
{
	bool edges, extra;

	/* Both, so both record what this run reached. */
	edges = scan(__start___sancov_cntrs, __stop___sancov_cntrs, cov_seen);
	extra = scan(__start___libfuzzer_extra_counters,
	    __stop___libfuzzer_extra_counters, extra_seen);
	return (edges || extra);
}

/* Mutation log (SNDTAG_MUTLOG). */

static FILE *mutlog;
static int mutlog_state;	/* 0: not looked, 1: on, -1: off */

static void
mutlog_close(void)
{
	const struct pbmutate_stats *st = pbmutate_get_stats();

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
	const char *last, *path;

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
	/* A target's own (pre) mutation has no pbmutate steps. */
	last = strcmp(kind, "pre") != 0 ? pbmutate_last() : "";
	fprintf(mutlog, "%016jx %zu %zu %s %s\n",
	    (uintmax_t)pbmutate_hash(data, out), in, out, kind,
	    last[0] != '\0' ? last : "-");
}

/*
 * Inputs to follow (pb_libfuzzer_mutator.h): a ring, the newest at
 * follow_head, the oldest overwritten when it is full.  Fixed buffers:
 * pb_follow runs inside the target, where a malloc would look like a
 * leak to libFuzzer's malloc/free accounting.
 */
#define	FOLLOW_DEPTH	16
#define	FOLLOW_MAX	8192	/* fuzz_scenario's max_len; larger: not followed */
#define	FOLLOW_USES	256

static struct {
	uint8_t		data[FOLLOW_MAX];
	size_t		size;
	unsigned	uses;
} follow[FOLLOW_DEPTH];
static unsigned follow_head;	/* the newest */
static unsigned follow_n;	/* entries in use */

void
pb_follow(const uint8_t *data, size_t size)
{

	if (mutlog != NULL)
		fprintf(mutlog, "new %016jx\n",
		    (uintmax_t)pbmutate_hash(data, size));
	if (size == 0 || size > FOLLOW_MAX)
		return;
	follow_head = (follow_head + 1) % FOLLOW_DEPTH;
	memcpy(follow[follow_head].data, data, size);
	follow[follow_head].size = size;
	follow[follow_head].uses = FOLLOW_USES;
	if (follow_n < FOLLOW_DEPTH)
		follow_n++;
}

size_t
pb_follow_peek(const uint8_t **datap, size_t max_size, unsigned int seed)
{
	size_t n;

	/* Half the calls: the top bit of a multiplicative hash of seed. */
	if (follow_n == 0 || ((uint32_t)seed * 0x9e3779b1u) >> 31 == 0)
		return (0);
	n = follow[follow_head].size;
	if (n > max_size)
		n = 0;
	else
		*datap = follow[follow_head].data;
	if (--follow[follow_head].uses == 0 || n == 0) {
		follow_head = (follow_head + FOLLOW_DEPTH - 1) % FOLLOW_DEPTH;
		follow_n--;
	}
	return (n);
}

size_t
pb_follow_take(uint8_t *data, size_t max_size, unsigned int seed)
{
	const uint8_t *p;
	size_t n;

	if ((n = pb_follow_peek(&p, max_size, seed)) != 0)
		memcpy(data, p, n);
	return (n);
}
