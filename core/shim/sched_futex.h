/*
 * The controlled scheduler's hand-off words (sched_ctl.c, sched_pool.c):
 * a futex word is 0 while its owner must wait and 1 once it may go.
 * Only __atomic builtins and raw futex calls, in files TSan does not
 * instrument, so no hand-off is ever synchronisation to TSan.
 */
#ifndef _SHIM_SCHED_FUTEX_H_
#define	_SHIM_SCHED_FUTEX_H_

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline __attribute__((no_sanitize("thread"))) void
sched_futex_wait(int *word)
{
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0)
		(void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, NULL,
		    NULL, 0);
}

static inline __attribute__((no_sanitize("thread"))) void
sched_futex_give(int *word)
{
	__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#endif /* !_SHIM_SCHED_FUTEX_H_ */
