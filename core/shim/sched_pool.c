/*
 * The controlled scheduler's worker threads; see sched_pool.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/sched_ctl.h"
#include "shim/sched_futex.h"
#include "shim/sched_pool.h"
#include "shim/systm.h"

#define	NOTSAN	__attribute__((no_sanitize("thread")))

struct sched_worker {
	pthread_t	 tid;
	bool		 alive;
	int		 job_go;	/* futex word: a job is waiting */
	int		 idle;		/* futex word: the job returned */
	bool		 reuse;		/* the thread is at rest after it */
	void		*(*fn)(void *);
	void		*arg;
};

/* Touched only by sched_run's thread (sched_busy) and the hand-off. */
static struct sched_worker sched_workers[SCHED_MAX_THREADS];
static pthread_once_t sched_pool_once = PTHREAD_ONCE_INIT;

/* TSan's interface, when the binary has TSan. */
void	__tsan_acquire(void *) __attribute__((weak));
void	__tsan_release(void *) __attribute__((weak));

NOTSAN static void
tsan_acquire(void *addr)
{
	if (__tsan_acquire != NULL)
		__tsan_acquire(addr);
}

NOTSAN static void
tsan_release(void *addr)
{
	if (__tsan_release != NULL)
		__tsan_release(addr);
}

/* A forked child has only the thread that forked: no workers. */
NOTSAN static void
sched_pool_forget(void)
{
	memset(sched_workers, 0, sizeof(sched_workers));
}

/*
 * Before a fork and at exit the idle workers end and are joined.  TSan
 * does not let a child of a multi-threaded process start threads
 * (die_after_fork), and it sleeps a second at exit while other threads
 * live (atexit_sleep_ms), which a sweep would pay per run.  A worker
 * still in a job (fork or exit from a model thread) is left alone.
 */
NOTSAN static void
sched_pool_end(void)
{
	struct sched_worker *w;
	int i;

	for (i = 0; i < SCHED_MAX_THREADS; i++) {
		w = &sched_workers[i];
		if (!w->alive || __atomic_load_n(&w->idle, __ATOMIC_SEQ_CST) ==
		    0 || pthread_equal(w->tid, pthread_self()))
			continue;
		w->fn = NULL;
		sched_futex_give(&w->job_go);
		(void)pthread_join(w->tid, NULL);
		w->alive = false;
	}
}

NOTSAN static void
sched_pool_init(void)
{
	(void)pthread_atfork(sched_pool_end, NULL, sched_pool_forget);
	(void)atexit(sched_pool_end);
}

NOTSAN static void *
sched_worker_main(void *arg)
{
	struct sched_worker *w = arg;
	bool reuse;

	for (;;) {
		sched_futex_wait(&w->job_go);
		__atomic_store_n(&w->job_go, 0, __ATOMIC_SEQ_CST);
		if (w->fn == NULL)
			return (NULL);		/* sched_pool_end */
		tsan_acquire(w);
		(void)w->fn(w->arg);
		reuse = witness_held_count() == 0 && !in_epoch(NULL);
		w->reuse = reuse;
		tsan_release(w);
		sched_futex_give(&w->idle);
		if (!reuse)
			return (NULL);
	}
}

NOTSAN int
sched_pool_start(int slot, void *(*fn)(void *), void *arg)
{
	struct sched_worker *w;
	int error;

	KASSERT(slot >= 0 && slot < SCHED_MAX_THREADS,
	    ("sched: worker slot %d out of range", slot));
	(void)pthread_once(&sched_pool_once, sched_pool_init);
	w = &sched_workers[slot];
	w->fn = fn;
	w->arg = arg;
	__atomic_store_n(&w->idle, 0, __ATOMIC_SEQ_CST);
	if (!w->alive) {
		error = pthread_create(&w->tid, NULL, sched_worker_main, w);
		if (error != 0)
			return (error);
		w->alive = true;
	}
	tsan_release(w);
	sched_futex_give(&w->job_go);
	return (0);
}

NOTSAN void
sched_pool_wait(int slot)
{
	struct sched_worker *w = &sched_workers[slot];

	sched_futex_wait(&w->idle);
	tsan_acquire(w);
	if (!w->reuse) {
		(void)pthread_join(w->tid, NULL);
		w->alive = false;
	}
}
