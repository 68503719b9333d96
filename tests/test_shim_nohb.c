/*
 * The shims must not synchronise model threads behind the model's back:
 * witness bookkeeping, malloc accounting and epoch sections/calls on one
 * thread give TSan no happens-before edge to another thread that uses
 * different locks.  Otherwise the race sweeps would miss real races.
 *
 * Each scenario races on a plain int around one kind of shim call; the
 * test passes when TSan (in a forked child) reports the race.  Without
 * TSan there is nothing to observe and the cases are not run.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testlib.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	HAVE_TSAN	1
#endif
#endif

MALLOC_DEFINE(M_NOHB, "nohb", "no-happens-before test");

static int racy;
static volatile int sink;
static int flag;
static struct mtx lock_a, lock_b;
static struct epoch_context ctx_a, ctx_b;

static void
nop_cb(epoch_context_t ctx)
{
}

static void
shim_ops(int scenario, bool first)
{
	struct epoch_tracker et;
	void *p;

	switch (scenario) {
	case 0:		/* witness: different locks, same order table */
		mtx_lock(first ? &lock_a : &lock_b);
		mtx_unlock(first ? &lock_a : &lock_b);
		break;
	case 1:		/* malloc: same type, shared counters */
		p = malloc(32, M_NOHB, M_NOWAIT);
		free(p, M_NOHB);
		break;
	case 2:		/* epoch readers never synchronise with each other */
		NET_EPOCH_ENTER(et);
		NET_EPOCH_EXIT(et);
		break;
	case 3:		/* deferring work does not order two writers */
		NET_EPOCH_CALL(nop_cb, first ? &ctx_a : &ctx_b);
		break;
	}
}

static int scenario;

static void *
first_main(void *arg)
{
	racy = 1;
	shim_ops(scenario, true);
	__atomic_store_n(&flag, 1, __ATOMIC_RELAXED);
	return (NULL);
}

/* Child: returns normally only if TSan did not halt on a report. */
static void
run_scenario(int s)
{
	pthread_t td;

	scenario = s;
	mtx_init(&lock_a, "nohb A", NULL, MTX_DEF);
	mtx_init(&lock_b, "nohb B", NULL, MTX_DEF);
	pthread_create(&td, NULL, first_main, NULL);
	while (!__atomic_load_n(&flag, __ATOMIC_RELAXED))
		sched_yield();
	shim_ops(s, false);
	sink = racy;
	pthread_join(td, NULL);
}

static bool
tsan_reports_race(int s)
{
	char buf[65536];
	size_t got = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
		return (false);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		run_scenario(s);
		fflush(stderr);
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
	if (strstr(buf, "ThreadSanitizer: data race") != NULL)
		return (true);
	fprintf(stderr, "scenario %d: no race reported; output:\n%s\n", s,
	    buf);
	return (false);
}

#ifdef HAVE_TSAN
static void
test_witness_adds_no_edge(void)
{
	CHECK(tsan_reports_race(0));
}

static void
test_malloc_adds_no_edge(void)
{
	CHECK(tsan_reports_race(1));
}

static void
test_epoch_readers_add_no_edge(void)
{
	CHECK(tsan_reports_race(2));
}

static void
test_epoch_call_adds_no_edge(void)
{
	CHECK(tsan_reports_race(3));
}
#endif

int
main(void)
{
#ifdef HAVE_TSAN
	RUN(test_witness_adds_no_edge);
	RUN(test_malloc_adds_no_edge);
	RUN(test_epoch_readers_add_no_edge);
	RUN(test_epoch_call_adds_no_edge);
#else
	(void)tsan_reports_race;
	printf("# not built with TSan: nothing to observe\n");
#endif
	return (t_done());
}
