/*
 * Harness: state feedback for the engines (see interp_feedback.h).
 */
#include "fuzz/interp_feedback.h"
#include "shim/hash.h"

#include <errno.h>
#include <string.h>

/*
 * libFuzzer clears this section before every input and treats each
 * counter like an edge's; fb_hit only ever sets 1 (and reports an AFL++
 * guard once per input), so a feature has no hit-count buckets.  Outside
 * libFuzzer it is plain data.
 */
static uint8_t fb_map[FB_MAP_SIZE]
    __attribute__((used, aligned(64), section("__libfuzzer_extra_counters")));
static int fb_prev;

/*
 * AFL++ does not read libFuzzer's extra counters, but it reads every
 * SanitizerCoverage guard registered with it: in an AFL++ binary (its
 * runtime is linked in) each feature slot is also a guard,
 * registered before main and so before the fork server sizes its map, and
 * a hit is reported as that guard's edge.  (__afl_manual_init, a function
 * of AFL++'s runtime, tells an AFL++ binary; the map pointer itself is
 * declared by AFL++'s compiler pass with its own type.)
 */
void	__afl_manual_init(void) __attribute__((weak));
void	__sanitizer_cov_trace_pc_guard_init(uint32_t *, uint32_t *)
	    __attribute__((weak));
void	__sanitizer_cov_trace_pc_guard(uint32_t *) __attribute__((weak));
static uint32_t fb_guards[FB_MAP_SIZE];
static int fb_afl;

__attribute__((constructor)) static void
fb_afl_init(void)
{
	if (__afl_manual_init == NULL ||
	    __sanitizer_cov_trace_pc_guard_init == NULL ||
	    __sanitizer_cov_trace_pc_guard == NULL)
		return;
	__sanitizer_cov_trace_pc_guard_init(fb_guards,
	    fb_guards + FB_MAP_SIZE);
	fb_afl = 1;
}

enum { F_OUTCOME = 1, F_SOCK, F_GLOBAL, F_ORDER };

static void
fb_hit(uint32_t kind, uint32_t a, uint32_t b)
{
	uint32_t i = fnv_mix3(kind, a, b) % FB_MAP_SIZE;

	if (fb_map[i] != 0)
		return;
	fb_map[i] = 1;
	if (fb_afl)
		__sanitizer_cov_trace_pc_guard(&fb_guards[i]);
}

/* 0, 1, 2, 3-4, 5-8, 9+: counts matter near zero, not beyond. */
static uint32_t
bucket(uint64_t v)
{
	if (v < 3)
		return ((uint32_t)v);
	if (v <= 4)
		return (3);
	if (v <= 8)
		return (4);
	return (5);
}

static uint32_t
outcome(int error)
{
	switch (error) {
	case 0:
		return (0);
	case EAGAIN:
		return (1);
	case EOPNOTSUPP:
		return (2);
	case ENOBUFS:
		return (3);
	case ENOMEM:
		return (4);
	case EINVAL:
		return (5);
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTUNREACH:
		return (6);
	case ENXIO:
		return (7);
	case EBADF:
	case ENOTCONN:
		return (8);
	default:
		return (error < 0 ? 9 : 10);	/* skips are negative */
	}
}

void
fb_reset(void)
{
	memset(fb_map, 0, sizeof(fb_map));
	fb_prev = 0;
}

void
fb_op(int op_kind, int error, const struct fb_sock *socks, int n,
    uint64_t tags, uint32_t mbufs)
{
	const struct fb_sock *s;
	uint32_t st;
	int i;

	fb_hit(F_OUTCOME, (uint32_t)op_kind, outcome(error));
	for (i = 0; i < n; i++) {
		s = &socks[i];
		st = (uint32_t)s->has_tag | (uint32_t)s->tag_kind << 1 |
		    (uint32_t)s->tag_if_dead << 5 |
		    bucket(s->tag_refs) << 6 | (uint32_t)s->changed << 9 |
		    (uint32_t)s->dropped << 10 | (uint32_t)s->no_pcb << 11;
		fb_hit(F_SOCK, st, 0);
	}
	fb_hit(F_GLOBAL, bucket(tags), bucket(mbufs));
	if (tags > 0)
		fb_hit(F_ORDER, (uint32_t)fb_prev, (uint32_t)op_kind);
	fb_prev = op_kind;
}

void
fb_merge(const uint8_t *map, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (map[i] != 0)
			fb_hit(0, (uint32_t)i, 0);
}

uint32_t
fb_features(void)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < FB_MAP_SIZE; i++)
		n += fb_map[i] != 0;
	return (n);
}
