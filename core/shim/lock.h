/*
 * Userspace shim: mutex(9), rwlock(9), sx(9) and a small WITNESS.
 *
 * Every lock is a small state machine (exclusively owned, or a reader
 * count) in one atomic word changed only by sequentially consistent
 * read-modify-writes, so TSan sees a happens-before edge from each
 * operation on a lock to the next, and rw_try_upgrade is exact.  Under the
 * controlled scheduler an acquire that would block yields to the
 * scheduler instead (sched_block; every release calls sched_wake), so
 * exactly one model thread runs at a time and a lock cycle is reported as
 * a deadlock, not a hang.
 *
 * WITNESS (always on).  Held locks are tracked per thread; every check
 * panics with a "witness: ..." line:
 *  - lock order is recorded per pair of lock type names (mtx_init's type,
 *    else the name; held read locks count): acquiring B while holding A
 *    after B->A was seen panics
 *	"witness: lock order reversal: A -> B (established B -> A)";
 *  - witness_assert_unlocked(op) panics
 *	"witness: lock held on return from <op>: <name>";
 *  - witness_check_sleep(why), the WITNESS_WARN of anything that may
 *    sleep (malloc M_WAITOK, epoch_wait, taskqueue drains), panics
 *	"witness: sleeping (<why>) with non-sleepable lock <name> held" or
 *	"witness: sleeping (<why>) inside an epoch section";
 *  - acquiring an sx with a mutex or rwlock held panics
 *	"witness: sleepable lock <sx> acquired with non-sleepable <name> held";
 *  - mtx_assert/rw_assert/sx_assert panic
 *	"witness: <name> not <owned|unowned|locked|rlocked|wlocked|slocked|
 *	xlocked|unlocked> at <function>";
 *  - recursion on a non-recursive lock, unlocking a lock this thread does
 *    not hold (or in the other mode), using an uninitialised lock and
 *    destroying a locked one panic as well.  As in FreeBSD, the owner may
 *    mtx_destroy a mutex it holds (not recursed); rw and sx must be
 *    unlocked.
 *  - A try-lock never waits, so it records no order.
 * The order table is invisible to TSan (shim/spin.h): witness adds no
 * happens-before edge between threads.
 */
#ifndef _SHIM_LOCK_H_
#define	_SHIM_LOCK_H_

#include "shim/systm.h"

struct lock_object {
	const char	*lo_name;	/* for messages */
	const char	*lo_type;	/* witness keys orders by this name */
	u_int		 lo_flags;
	u_int		 lo_witness;	/* index in the witness name table */
	int		 lo_state;	/* LS_*: owner or readers, waiters */
};

#define	LO_INITIALIZED	0x0001
#define	LO_SLEEPABLE	0x0002	/* sx: may be held while sleeping */
#define	LO_RECURSABLE	0x0004

/* mtx(9) */
struct mtx {
	struct lock_object lock_object;
	u_int		 mtx_recurse;
};

#define	MTX_DEF		0x0000
#define	MTX_RECURSE	0x0004

void	mtx_init(struct mtx *m, const char *name, const char *type, int opts);
void	mtx_destroy(struct mtx *m);
void	mtx_lock(struct mtx *m);
void	mtx_unlock(struct mtx *m);
int	mtx_trylock(struct mtx *m);
int	mtx_owned(struct mtx *m);

#define	MA_OWNED	0x01
#define	MA_NOTOWNED	0x02
void	mtx_assert(struct mtx *m, int what);
void	_mtx_assert(struct mtx *m, int what, const char *func,
	    const char *file, int line);
#define	mtx_assert(m, what)						\
	_mtx_assert((m), (what), __func__, __FILE__, __LINE__)

/* rwlock(9) */
struct rwlock {
	struct lock_object lock_object;
};

void	rw_init(struct rwlock *rw, const char *name);
void	rw_destroy(struct rwlock *rw);
void	rw_rlock(struct rwlock *rw);
void	rw_runlock(struct rwlock *rw);
void	rw_wlock(struct rwlock *rw);
void	rw_wunlock(struct rwlock *rw);
/* Upgrade a read lock to a write lock if we are the only reader. */
int	rw_try_upgrade(struct rwlock *rw);
void	rw_downgrade(struct rwlock *rw);
int	rw_wowned(struct rwlock *rw);

#define	RA_LOCKED	0x01
#define	RA_RLOCKED	0x02
#define	RA_WLOCKED	0x04
#define	RA_UNLOCKED	0x08
void	rw_assert(struct rwlock *rw, int what);
void	_rw_assert(struct rwlock *rw, int what, const char *func,
	    const char *file, int line);
#define	rw_assert(rw, what)						\
	_rw_assert((rw), (what), __func__, __FILE__, __LINE__)

/* sx(9): sleepable shared/exclusive lock. */
struct sx {
	struct lock_object lock_object;
};

void	sx_init(struct sx *sx, const char *name);
void	sx_destroy(struct sx *sx);
void	sx_xlock(struct sx *sx);
void	sx_xunlock(struct sx *sx);
void	sx_slock(struct sx *sx);
void	sx_sunlock(struct sx *sx);
int	sx_xlocked(struct sx *sx);

#define	SA_LOCKED	0x01
#define	SA_SLOCKED	0x02
#define	SA_XLOCKED	0x04
#define	SA_UNLOCKED	0x08
void	sx_assert(struct sx *sx, int what);
void	_sx_assert(struct sx *sx, int what, const char *func,
	    const char *file, int line);
#define	sx_assert(sx, what)						\
	_sx_assert((sx), (what), __func__, __FILE__, __LINE__)

/* WITNESS */
void	witness_assert_unlocked(const char *op);
void	witness_check_sleep(const char *why);
int	witness_held_count(void);	/* locks held by the calling thread */
/* Names of the locks the calling thread holds, for deadlock reports. */
int	witness_held_names(const char **names, int max);
/* Forget every recorded order (between inputs). */
void	witness_reset(void);
/* Live (initialised, not destroyed) lock objects, for the ledger. */
int	witness_live_locks(void);

#endif /* !_SHIM_LOCK_H_ */
