/*
 * The controlled scheduler's threads (threaded mode): the OS threads a
 * run's model threads execute on, kept from one run to the next.  A
 * fresh thread per model thread per input cost more than the input did:
 * clone, the sanitizers' per-thread set-up, and at exit an munmap whose
 * TLB shoot-down interrupts the other core.  Internal to sched_ctl.c;
 * like it, compiled without TSan instrumentation.
 *
 * To TSan a job looks like a thread of its own: sched_pool_start() is
 * pthread_create (what the caller wrote before happens before the job)
 * and sched_pool_wait() is pthread_join; nothing else of the hand-off is
 * synchronisation.  A worker whose job ended with a lock held or inside
 * an epoch exits instead of taking another job, so no per-thread state
 * outlives the run that made it.  Idle workers end before a fork and at
 * exit, so a forked child starts threads of its own.
 */
#ifndef _SHIM_SCHED_POOL_H_
#define	_SHIM_SCHED_POOL_H_

/* Run fn(arg) on worker slot (0 .. SCHED_MAX_THREADS - 1); 0 or errno. */
int	sched_pool_start(int slot, void *(*fn)(void *), void *arg);
/* Wait for the job started on slot to return. */
void	sched_pool_wait(int slot);

#endif /* !_SHIM_SCHED_POOL_H_ */
