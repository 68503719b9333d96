/*
 * fuzz_threads: the threaded target.  The input is a packed Scenario
 * whose ops run on their logical threads, each a real pthread, beside
 * the actor threads (completions, firmware, workers, epoch, taskqueues),
 * under the controlled scheduler with the "switch" strategy: a thread
 * runs on until the input's Switch list preempts it (fuzz/scenario.proto).
 * The mutator (threads_mutator_hooks) mutates ops and switches together;
 * every input replays exactly with
 *	sndtag-replay --threaded --strategy switch FILE
 * Beside code coverage the engine sees interleaving features (which
 * points ran back to back on different threads over the same object,
 * lock order, where threads blocked; core/shim/sched_ctl.c).
 *
 * Where to switch: the scheduler also reports, for each run, the points
 * where two threads touched one object (both ends of each pair, as
 * Snowboard picks its shared-memory pairs).  One mutation in three adds
 * a switch at one of them (its point, or one or two either side): the
 * switch that would reorder that pair.  Random points almost never land
 * inside the few steps of a race window; these start there.  The
 * candidates of an input come from running it once more the first time
 * the mutator picks it (cached by the input's hash), so only corpus
 * entries pay for it; libFuzzer resets its coverage maps before every
 * execution, so that run leaves no trace in the feedback.
 * SNDTAG_TRACE=1 prints the op trace, SNDTAG_TRACE=2 adds every switch
 * and the run's switch candidates (below).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/decode_arena.h"
#include "fuzz/interp.h"
#include "fuzz/interp_feedback.h"
#include "fuzz/scenario_hooks.h"
#include "fuzz/threaded.h"
#include "fuzz/pb_libfuzzer_mutator.h"
#include "shim/hash.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The scheduler writes features here from whichever model thread runs;
 * they reach the engine's counters after the run (fb_merge).
 */
static uint8_t ilv_map[FB_MAP_SIZE];

/* Switch candidates per input, by the input's hash (direct-mapped). */
#define	CAND_MAX	128
#define	CAND_SLOTS	4096

struct cand_entry {
	uint64_t	 hash;
	uint32_t	 n;
	struct sched_switch c[CAND_MAX];
};

static struct cand_entry cand_tab[CAND_SLOTS];
static uint8_t cand_map[FB_MAP_SIZE];	/* the candidate run's features */
static struct sched_switch cand_run[CAND_MAX];	/* SNDTAG_TRACE=2 only */

static uint64_t
input_hash(const uint8_t *data, size_t size)
{
	return (fnv1a64(data, size) | 1);	/* 0: an empty slot */
}

/* The candidates of the input in data: cached, else from one run. */
static const struct cand_entry *
candidates_of(const uint8_t *data, size_t size)
{
	struct threaded_options o;
	struct threaded_result res;
	struct cand_entry *e;
	uint64_t h = input_hash(data, size);
	Scenario *sc;

	e = &cand_tab[h % CAND_SLOTS];
	if (e->hash == h)
		return (e);
	e->hash = h;
	e->n = 0;
	sc = scenario__unpack(decode_arena(), size, data);
	if (sc == NULL) {
		decode_arena_drop(NULL);
		return (e);
	}
	memset(&o, 0, sizeof(o));
	o.strategy = SCHED_SWITCH;
	o.feedback = cand_map;
	o.feedback_len = sizeof(cand_map);
	o.candidates = e->c;
	o.candidates_max = CAND_MAX;
	if (threaded_run(sc, &o, &res) == 0)
		e->n = (uint32_t)res.sched.ncandidates;
	decode_arena_drop(&sc->base);
	return (e);
}

/*
 * Append one Switch (Scenario field 4) at a candidate of this input: a
 * repeated field's element may come anywhere in the encoding, so the
 * input's own bytes stay as they are.
 */
static size_t
threads_pre(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	static const int delta[] = { 0, 0, 1, -1, 2 };
	const struct cand_entry *e;
	struct sched_switch c;
	Switch sw;
	uint64_t r = seed * 0x9e3779b97f4a7c15ULL;
	size_t n;
	int64_t pt;

	if ((r >> 60) % 3 != 0)
		return (0);
	e = candidates_of(data, size);
	if (e->n == 0)
		return (0);
	c = e->c[(r >> 8) % e->n];
	pt = (int64_t)c.point + delta[(r >> 24) % 5];
	if (pt < 0 || pt > INTERP_MAX_SWITCH_POINT)
		return (0);
	switch__init(&sw);
	sw.has_op = sw.has_point = sw.has_to = 1;
	sw.op = c.op;
	sw.point = (uint32_t)pt;
	sw.to = c.to;
	n = switch__get_packed_size(&sw);	/* a few bytes: one length byte */
	if (n > 127 || size + 2 + n > max_size)
		return (0);
	data[size] = 0x22;			/* field 4, length-delimited */
	data[size + 1] = (uint8_t)n;
	switch__pack(&sw, data + size + 2);
	return (size + 2 + n);
}

PB_DEFINE_LIBFUZZER_MUTATOR_PRE(&scenario__descriptor, &threads_mutator_hooks,
    threads_pre);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interp_options io = { NULL, NULL };
	struct threaded_options o;
	struct threaded_result res;
	const char *tr = getenv("SNDTAG_TRACE");
	Scenario *sc;
	int error;

	sc = scenario__unpack(decode_arena(), size, data);
	if (sc == NULL) {
		decode_arena_drop(NULL);
		return (-1);
	}
	memset(&o, 0, sizeof(o));
	o.strategy = SCHED_SWITCH;
	if (tr != NULL && (tr[0] == '1' || tr[0] == '2'))
		io.trace = stderr;
	if (tr != NULL && tr[0] == '2')
		o.sched_trace = stderr;
	o.interp = &io;
	memset(ilv_map, 0, sizeof(ilv_map));
	o.feedback = ilv_map;
	o.feedback_len = sizeof(ilv_map);
	if (o.sched_trace != NULL) {
		o.candidates = cand_run;
		o.candidates_max = CAND_MAX;
	}
	fb_reset();
	error = threaded_run(sc, &o, &res);
	if (error == 0) {
		fb_merge(ilv_map, sizeof(ilv_map));
		if (o.sched_trace != NULL)
			for (size_t k = 0; k < res.sched.ncandidates; k++)
				fprintf(stderr, "candidate: switches { op: %u "
				    "point: %u to: %u }\n", cand_run[k].op,
				    cand_run[k].point, cand_run[k].to);
	}
	decode_arena_drop(&sc->base);
	/* -1 keeps inputs the interpreter rejects out of the corpus. */
	return (error == 0 ? 0 : -1);
}
