/* malloc(9) shim: accounting, M_ZERO, fault injection, budget, type checks. */
#include "tests/testlib.h"
#include "shim/counter.h"
#include "shim/lock.h"
#include "shim/malloc.h"

#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

MALLOC_DEFINE(M_TEST1, "test1", "first test type");
MALLOC_DEFINE(M_TEST2, "test2", "second test type");
MALLOC_DEFINE_CACHED(M_TESTC, "testc", "cached test type");
MALLOC_DEFINE_CACHED(M_TESTZ, "testz", "cached type for size classes");
MALLOC_DEFINE_CACHED(M_TESTG, "testg", "cached type for generations");

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	T_NO_CACHE	1
#endif
#if __has_feature(address_sanitizer)
#define	T_ASAN		1
#endif
#endif

static void
fresh(void)
{
	malloc_reset();
	witness_reset();
}

static void
test_accounting_per_type(void)
{
	uint64_t base = malloc_live_total();
	void *a, *b, *c;

	fresh();
	a = malloc(10, M_TEST1, M_NOWAIT);
	b = malloc(20, M_TEST1, M_WAITOK);
	c = malloc(5, M_TEST2, M_NOWAIT);
	CHECK(a != NULL && b != NULL && c != NULL);
	CHECK_EQ(M_TEST1->ks_inuse, 2);
	CHECK_EQ(M_TEST1->ks_bytes, 30);
	CHECK_EQ(M_TEST2->ks_inuse, 1);
	CHECK_EQ(M_TEST2->ks_bytes, 5);
	CHECK(M_TEST1->ks_registered && M_TEST2->ks_registered);
	CHECK_EQ(malloc_live_total(), base + 3);
	free(b, M_TEST1);
	CHECK_EQ(M_TEST1->ks_inuse, 1);
	CHECK_EQ(M_TEST1->ks_bytes, 10);
	free(a, M_TEST1);
	free(c, M_TEST2);
	free(NULL, M_TEST2);
	CHECK_EQ(M_TEST1->ks_inuse, 0);
	CHECK_EQ(M_TEST1->ks_bytes, 0);
	CHECK_EQ(malloc_live_total(), base);
	CHECK_EQ(M_TEST1->ks_calls, 2);
	malloc_reset();
	CHECK_EQ(M_TEST1->ks_calls, 0);
}

static void
test_zero(void)
{
	unsigned char *p;
	int i, nonzero = 0;

	fresh();
	p = malloc(4096, M_TEMP, M_NOWAIT | M_ZERO);
	CHECK(p != NULL);
	for (i = 0; i < 4096; i++)
		nonzero += p[i] != 0;
	CHECK_EQ(nonzero, 0);
	free(p, M_TEMP);
}

static void
test_fail_nth(void)
{
	void *p[5];
	int i;

	fresh();
	malloc_fail_arm(3, NULL);
	for (i = 0; i < 5; i++)
		p[i] = malloc(8, (i & 1) ? M_TEST1 : M_TEST2, M_NOWAIT);
	CHECK(p[0] != NULL && p[1] != NULL && p[3] != NULL && p[4] != NULL);
	CHECK(p[2] == NULL);
	CHECK_EQ(malloc_fail_count(), 1);
	for (i = 0; i < 5; i++)
		free(p[i], (i & 1) ? M_TEST1 : M_TEST2);
	/* One-shot: nothing else fails. */
	p[0] = malloc(8, M_TEST1, M_NOWAIT);
	CHECK(p[0] != NULL);
	free(p[0], M_TEST1);
	CHECK_EQ(malloc_fail_count(), 1);
	malloc_reset();
	CHECK_EQ(malloc_fail_count(), 0);
}

static void
test_fail_counts_only_nowait(void)
{
	void *a, *b;

	fresh();
	malloc_fail_arm(1, NULL);
	a = malloc(8, M_TEST1, M_WAITOK);
	CHECK(a != NULL);
	b = malloc(8, M_TEST1, M_NOWAIT);
	CHECK(b == NULL);
	CHECK_EQ(malloc_fail_count(), 1);
	free(a, M_TEST1);
}

static void
test_fail_by_type(void)
{
	void *a, *b, *c, *d;

	fresh();
	malloc_fail_arm(2, M_TEST2);
	a = malloc(8, M_TEST2, M_NOWAIT);	/* 1st of test2 */
	b = malloc(8, M_TEST1, M_NOWAIT);	/* not counted */
	c = malloc(8, M_TEST1, M_NOWAIT);	/* not counted */
	d = malloc(8, M_TEST2, M_NOWAIT);	/* 2nd of test2: fails */
	CHECK(a != NULL && b != NULL && c != NULL);
	CHECK(d == NULL);
	CHECK_EQ(malloc_fail_count(), 1);
	free(a, M_TEST2);
	free(b, M_TEST1);
	free(c, M_TEST1);
}

static void
test_disarm_and_rearm(void)
{
	void *a;

	fresh();
	malloc_fail_arm(1, NULL);
	malloc_fail_disarm();
	a = malloc(8, M_TEST1, M_NOWAIT);
	CHECK(a != NULL);
	free(a, M_TEST1);
	/* Arming again replaces the armed fault. */
	malloc_fail_arm(5, NULL);
	malloc_fail_arm(1, M_TEST2);
	a = malloc(8, M_TEST1, M_NOWAIT);
	CHECK(a != NULL);
	free(a, M_TEST1);
	a = malloc(8, M_TEST2, M_NOWAIT);
	CHECK(a == NULL);
	CHECK_EQ(malloc_fail_count(), 1);
	malloc_reset();
	a = malloc(8, M_TEST2, M_NOWAIT);
	CHECK(a != NULL);
	free(a, M_TEST2);
}

static void
test_budget(void)
{
	void *a, *b, *c;

	fresh();
	CHECK_EQ(malloc_live_total(), 0);
	malloc_set_budget(1000);
	a = malloc(600, M_TEST1, M_NOWAIT);
	CHECK(a != NULL);
	b = malloc(600, M_TEST1, M_NOWAIT);
	CHECK(b == NULL);
	/* M_WAITOK never fails, budget or not. */
	c = malloc(600, M_TEST1, M_WAITOK);
	CHECK(c != NULL);
	free(c, M_TEST1);
	b = malloc(300, M_TEST1, M_NOWAIT);
	CHECK(b != NULL);
	free(a, M_TEST1);
	free(b, M_TEST1);
	/* Budget failures are not injected faults. */
	CHECK_EQ(malloc_fail_count(), 0);
	malloc_set_budget(0);
	a = malloc(1 << 20, M_TEST1, M_NOWAIT);
	CHECK(a != NULL);
	free(a, M_TEST1);
}

static void
wrong_type_free(void *arg)
{
	void *p = malloc(16, M_TEST1, M_NOWAIT);

	free(p, M_TEST2);
}

static void
test_wrong_type_free_panics(void)
{
	CHECK_PANICS(wrong_type_free, NULL,
	    "malloc: free with wrong type");
	CHECK_PANICS(wrong_type_free, NULL, "allocated as test1, freed as test2");
}

static void
bad_flags(void *arg)
{
	void *p = malloc(16, M_TEST1, M_ZERO);

	free(p, M_TEST1);
}

static void
test_bad_flags_panic(void)
{
	CHECK_PANICS(bad_flags, NULL, "malloc: flags");
}

static void
waitok_with_mutex(void *arg)
{
	struct mtx m;
	void *p;

	mtx_init(&m, "test mtx", NULL, MTX_DEF);
	mtx_lock(&m);
	p = malloc(16, M_TEST1, M_WAITOK);
	free(p, M_TEST1);
	mtx_unlock(&m);
	mtx_destroy(&m);
}

static void
test_waitok_with_mutex_panics(void)
{
	CHECK_PANICS(waitok_with_mutex, NULL,
	    "witness: sleeping (malloc(M_WAITOK)) with non-sleepable lock "
	    "test mtx held");
}

static void
test_waitok_with_sx_is_fine(void)
{
	struct sx sx;
	void *p;

	fresh();
	sx_init(&sx, "test sx");
	sx_xlock(&sx);
	p = malloc(16, M_TEST1, M_WAITOK);
	CHECK(p != NULL);
	free(p, M_TEST1);
	sx_xunlock(&sx);
	sx_destroy(&sx);
}

struct live_seen {
	int	test1, test2, others;
};

static void
note_live(const struct malloc_type *mtp, void *arg)
{
	struct live_seen *s = arg;

	if (mtp == M_TEST1)
		s->test1 += (int)mtp->ks_inuse;
	else if (mtp == M_TEST2)
		s->test2 += (int)mtp->ks_inuse;
	else
		s->others++;
}

static void
test_foreach_live(void)
{
	struct live_seen s = { 0 };
	void *a, *b;

	fresh();
	a = malloc(1, M_TEST2, M_NOWAIT);
	b = malloc(1, M_TEST2, M_NOWAIT);
	malloc_foreach_live(note_live, &s);
	CHECK_EQ(s.test1, 0);
	CHECK_EQ(s.test2, 2);
	free(a, M_TEST2);
	free(b, M_TEST2);
	memset(&s, 0, sizeof(s));
	malloc_foreach_live(note_live, &s);
	CHECK_EQ(s.test2, 0);
}

static void
test_counter_is_accounted(void)
{
	counter_u64_t c;

	fresh();
	c = counter_u64_alloc(M_WAITOK);
	CHECK(c != NULL);
	CHECK_EQ(M_COUNTER->ks_inuse, 1);
	CHECK_EQ(counter_u64_fetch(c), 0);
	counter_u64_add(c, 5);
	counter_u64_add(c, -2);
	CHECK_EQ(counter_u64_fetch(c), 3);
	counter_u64_free(c);
	CHECK_EQ(M_COUNTER->ks_inuse, 0);
	/* counter(9) allocations are subject to fault injection too. */
	malloc_fail_arm(1, M_COUNTER);
	c = counter_u64_alloc(M_NOWAIT);
	CHECK(c == NULL);
}

/*
 * A cached type reuses a freed block only after KMALLOC_CACHE_DELAY more
 * frees of its size, oldest first; M_ZERO still zeroes a reused block.
 */
static void
test_cache_delays_reuse(void)
{
	void *p[KMALLOC_CACHE_DELAY + 2], *first, *q;
	int i;

	fresh();
	for (i = 0; i < KMALLOC_CACHE_DELAY + 2; i++) {
		p[i] = malloc(96, M_TESTC, M_NOWAIT);
		CHECK(p[i] != NULL);
		memset(p[i], 0x5a, 96);
	}
	first = p[0];
	for (i = 0; i < KMALLOC_CACHE_DELAY + 1; i++)
		free(p[i], M_TESTC);
	CHECK_EQ(M_TESTC->ks_inuse, 1);
#ifdef T_NO_CACHE
	CHECK_EQ(malloc_cache_count(M_TESTC), 0);
	free(p[KMALLOC_CACHE_DELAY + 1], M_TESTC);
#else
	CHECK_EQ(malloc_cache_count(M_TESTC), KMALLOC_CACHE_DELAY + 1);
	/* Past the delay: the oldest comes back, zeroed. */
	q = malloc(96, M_TESTC, M_NOWAIT | M_ZERO);
	CHECK(q == first);
	for (i = 0; i < 96; i++)
		CHECK_EQ(((unsigned char *)q)[i], 0);
	/* Now at the delay again: a fresh block, not a waiting one. */
	CHECK_EQ(malloc_cache_count(M_TESTC), KMALLOC_CACHE_DELAY);
	p[0] = malloc(96, M_TESTC, M_NOWAIT);
	for (i = 1; i < KMALLOC_CACHE_DELAY + 1; i++)
		CHECK(p[0] != p[i]);
	/* One more free: the oldest (p[1]) comes back, not M_ZERO: filled. */
	free(p[KMALLOC_CACHE_DELAY + 1], M_TESTC);
	q = malloc(96, M_TESTC, M_NOWAIT);
	CHECK(q == p[1]);
	CHECK_EQ(((unsigned char *)q)[0], 0xbe);
	CHECK_EQ(((unsigned char *)q)[95], 0xbe);
	free(q, M_TESTC);
	free(p[0], M_TESTC);
	free(first, M_TESTC);
#endif
	CHECK_EQ(M_TESTC->ks_inuse, 0);
}

static void
cached_double_free(void *arg)
{
	void *p = malloc(96, M_TESTC, M_NOWAIT);

	(void)arg;
	free(p, M_TESTC);
	free(p, M_TESTC);
}

/* The header stays readable in the cache: a double free still panics. */
static void
test_cache_double_free_panics(void)
{
	CHECK_PANICS(cached_double_free, NULL, "freed twice");
}

#ifdef T_ASAN
static void
cached_use_after_free(void)
{
	volatile char *p = malloc(96, M_TESTC, M_NOWAIT);

	free((void *)(uintptr_t)p, M_TESTC);
	p[40] = 1;
}

/* 70 bytes in the 128-byte class: the byte past the request is slack. */
static void
cached_overrun(void)
{
	volatile char *p = malloc(70, M_TESTC, M_NOWAIT);

	p[70] = 1;
}

/* Runs fn in a child; its stderr must name the report and fn. */
static void
check_child_report(void (*fn)(void), const char *report, const char *name)
{
	char buf[8192];
	size_t got = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	CHECK(pipe(fds) == 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(buf) - 1 &&
	    (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	while (read(fds[0], &(char){0}, 1) > 0)
		;
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
	CHECK(strstr(buf, report) != NULL);
	CHECK(strstr(buf, name) != NULL);
}
#endif

/*
 * A block waiting in the cache is poisoned like a freed one: ASan reports
 * a write to it (use-after-poison) and the process dies.
 */
static void
test_cache_use_after_free_is_reported(void)
{
#ifdef T_ASAN
	check_child_report(cached_use_after_free,
	    "AddressSanitizer: use-after-poison", "cached_use_after_free");
#endif
}

/* A size-class block's bytes past the request are not the caller's. */
static void
test_cache_overrun_is_reported(void)
{
#ifdef T_ASAN
	check_child_report(cached_overrun,
	    "AddressSanitizer: use-after-poison", "cached_overrun");
#endif
}

/*
 * Blocks are cached by power-of-two class: a freed 70-byte block comes
 * back (past the delay) for a 100-byte request, not for a 200-byte one.
 */
static void
test_cache_size_class(void)
{
	void *p[KMALLOC_CACHE_DELAY + 1], *q, *r;
	int i;

	fresh();
	for (i = 0; i < KMALLOC_CACHE_DELAY + 1; i++)
		p[i] = malloc(70, M_TESTZ, M_NOWAIT);
	for (i = 0; i < KMALLOC_CACHE_DELAY + 1; i++)
		free(p[i], M_TESTZ);
	r = malloc(200, M_TESTZ, M_NOWAIT);
	q = malloc(100, M_TESTZ, M_NOWAIT | M_ZERO);
#ifdef T_NO_CACHE
	CHECK_EQ(malloc_cache_count(M_TESTZ), 0);
#else
	CHECK_EQ(malloc_cache_count(M_TESTZ), KMALLOC_CACHE_DELAY);
	for (i = 0; i < KMALLOC_CACHE_DELAY + 1; i++)
		CHECK(r != p[i]);
	CHECK(q == p[0]);
	for (i = 0; i < 100; i++)
		CHECK_EQ(((unsigned char *)q)[i], 0);
#endif
	free(q, M_TESTZ);
	free(r, M_TESTZ);
	CHECK_EQ(M_TESTZ->ks_inuse, 0);
}

/*
 * A block freed by an earlier input (before malloc_reset) comes back at
 * once; one freed by this input waits out the delay.
 */
static void
test_cache_next_input_reuses(void)
{
	void *p, *q, *r;

	fresh();
	p = malloc(50, M_TESTG, M_NOWAIT);
	free(p, M_TESTG);
	q = malloc(50, M_TESTG, M_NOWAIT);
	free(q, M_TESTG);
	fresh();
	r = malloc(50, M_TESTG, M_NOWAIT);
#ifdef T_NO_CACHE
	CHECK_EQ(malloc_cache_count(M_TESTG), 0);
#else
	/* p waits (this input freed it); q was the C library's. */
	CHECK(q != p);
	CHECK(r == p);
	CHECK_EQ(malloc_cache_count(M_TESTG), 1);
#endif
	free(r, M_TESTG);
	CHECK_EQ(M_TESTG->ks_inuse, 0);
}

/*
 * malloc_cache_all caches every type; a block is freed the way it was
 * allocated, whatever the switch says by then.
 */
static void
test_cache_all_switch(void)
{
	void *exact, *zoned;

	fresh();
	CHECK_EQ(malloc_cache_count(M_TEST2), 0);
	exact = malloc(40, M_TEST2, M_NOWAIT);
	malloc_cache_all(true);
	zoned = malloc(40, M_TEST2, M_NOWAIT);
	free(exact, M_TEST2);
	CHECK_EQ(malloc_cache_count(M_TEST2), 0);
	malloc_cache_all(false);
	free(zoned, M_TEST2);
#ifdef T_NO_CACHE
	CHECK_EQ(malloc_cache_count(M_TEST2), 0);
#else
	CHECK_EQ(malloc_cache_count(M_TEST2), 1);
#endif
	/* Off again: a plain type's block goes back to the C library. */
	exact = malloc(40, M_TEST2, M_NOWAIT);
	free(exact, M_TEST2);
#ifndef T_NO_CACHE
	CHECK_EQ(malloc_cache_count(M_TEST2), 1);
#endif
	CHECK_EQ(M_TEST2->ks_inuse, 0);
}

int
main(void)
{
	RUN(test_accounting_per_type);
	RUN(test_zero);
	RUN(test_fail_nth);
	RUN(test_fail_counts_only_nowait);
	RUN(test_fail_by_type);
	RUN(test_disarm_and_rearm);
	RUN(test_budget);
	RUN(test_wrong_type_free_panics);
	RUN(test_bad_flags_panic);
	RUN(test_waitok_with_mutex_panics);
	RUN(test_waitok_with_sx_is_fine);
	RUN(test_foreach_live);
	RUN(test_counter_is_accounted);
	RUN(test_cache_delays_reuse);
	RUN(test_cache_double_free_panics);
	RUN(test_cache_use_after_free_is_reported);
	RUN(test_cache_overrun_is_reported);
	RUN(test_cache_size_class);
	RUN(test_cache_all_switch);
	RUN(test_cache_next_input_reuses);
	return (t_done());
}
