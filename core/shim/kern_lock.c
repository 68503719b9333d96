/*
 * Userspace shim: mutex(9), rwlock(9), sx(9) and a small WITNESS.
 *
 * Each lock is a state machine {exclusively owned, reader count} in one
 * atomic word; waiters sleep on the word (futex), or, under the controlled
 * scheduler, hand the CPU to the scheduler with sched_block() and are
 * woken by sched_wake() on every release.
 *
 * WITNESS state is per thread (the stack of held locks, thread-local) plus
 * one global table of lock orders keyed by lock type name.  The table is
 * touched only from SHIM_NO_TSAN code under a shim_spin, so witness adds
 * no happens-before edge between model threads (see shim/spin.h).
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <limits.h>
#include <unistd.h>

#include "shim/lock.h"
#include "shim/epoch.h"
#include "shim/spin.h"

#define	WITNESS_MAXHELD		32
#define	WITNESS_MAXNAMES	1024
#define	WITNESS_NAMELEN		96
#define	WITNESS_WORDS		(WITNESS_MAXNAMES / 64)

struct held_lock {
	struct lock_object *hl_lock;
	bool		 hl_excl;
	u_int		 hl_recurse;	/* extra acquisitions */
};

static _Thread_local struct held_lock witness_held[WITNESS_MAXHELD];
static _Thread_local int witness_nheld;

/* Global order table: witness_order[a] has bit b when a -> b was seen. */
static int witness_spin;
static u_int witness_gen = 1;
static int witness_nnames;
static char witness_names[WITNESS_MAXNAMES][WITNESS_NAMELEN];
static uint64_t witness_order[WITNESS_MAXNAMES][WITNESS_WORDS];

static int witness_live;

/*
 * Per-thread held-lock stack.
 */
static struct held_lock *
witness_find(const struct lock_object *lo)
{
	int i;

	for (i = witness_nheld - 1; i >= 0; i--)
		if (witness_held[i].hl_lock == lo)
			return (&witness_held[i]);
	return (NULL);
}

static void
witness_push(struct lock_object *lo, bool excl)
{
	KASSERT(witness_nheld < WITNESS_MAXHELD,
	    ("witness: too many locks held (%d) acquiring %s",
	    WITNESS_MAXHELD, lo->lo_name));
	witness_held[witness_nheld].hl_lock = lo;
	witness_held[witness_nheld].hl_excl = excl;
	witness_held[witness_nheld].hl_recurse = 0;
	witness_nheld++;
}

static void
witness_remove(struct held_lock *hl)
{
	int i = (int)(hl - witness_held);

	for (; i < witness_nheld - 1; i++)
		witness_held[i] = witness_held[i + 1];
	witness_nheld--;
}

/*
 * Lock order table.  A type name is interned once per generation and the
 * index cached in lo_witness as (generation << 16 | index + 1).  When the
 * table is full, further names are not tracked (no false reports).
 *
 * The helpers below are SHIM_NO_TSAN and call no C library function: TSan
 * intercepts those (strcmp, memset, ...) even from uninstrumented code.
 */
static SHIM_NO_TSAN bool
witness_name_eq(const char *table, const char *name)
{
	int i;

	for (i = 0; i < WITNESS_NAMELEN - 1; i++) {
		if (table[i] != name[i])
			return (false);
		if (name[i] == '\0')
			return (true);
	}
	return (true);		/* equal up to the stored length */
}

static SHIM_NO_TSAN void
witness_name_copy(char *table, const char *name)
{
	int i;

	for (i = 0; i < WITNESS_NAMELEN - 1 && name[i] != '\0'; i++)
		table[i] = name[i];
	table[i] = '\0';
}

static SHIM_NO_TSAN int
witness_index_locked(struct lock_object *lo)
{
	u_int w = lo->lo_witness;
	int i;

	if ((w >> 16) == (witness_gen & 0xffff) && (w & 0xffff) != 0)
		return ((int)(w & 0xffff) - 1);
	for (i = 0; i < witness_nnames; i++)
		if (witness_name_eq(witness_names[i], lo->lo_type))
			break;
	if (i == witness_nnames) {
		if (i == WITNESS_MAXNAMES)
			return (-1);
		witness_name_copy(witness_names[i], lo->lo_type);
		witness_nnames++;
	}
	lo->lo_witness = ((witness_gen & 0xffff) << 16) | (u_int)(i + 1);
	return (i);
}

/*
 * Before a blocking acquire of lo: with every held lock A, record A -> lo,
 * unless lo -> A was recorded, in which case return the offending A.
 */
static SHIM_NO_TSAN struct lock_object *
witness_order_check(struct lock_object *lo)
{
	struct lock_object *bad = NULL;
	int a, b, i;

	shim_spin_lock(&witness_spin);
	b = witness_index_locked(lo);
	for (i = 0; b >= 0 && i < witness_nheld; i++) {
		a = witness_index_locked(witness_held[i].hl_lock);
		/* Two locks of one type: witness only warns; so do we. */
		if (a < 0 || a == b)
			continue;
		if ((witness_order[b][a / 64] & (1ULL << (a % 64))) != 0) {
			bad = witness_held[i].hl_lock;
			break;
		}
		witness_order[a][b / 64] |= 1ULL << (b % 64);
	}
	shim_spin_unlock(&witness_spin);
	return (bad);
}

static void
witness_checkorder(struct lock_object *lo)
{
	struct lock_object *a;

	/* Nothing held, no order to record (most acquisitions). */
	if (witness_nheld == 0)
		return;
	a = witness_order_check(lo);
	if (a != NULL)
		panic("witness: lock order reversal: %s -> %s "
		    "(established %s -> %s)", a->lo_name, lo->lo_name,
		    lo->lo_name, a->lo_name);
}

/* sx may sleep: acquiring one with a mutex or rwlock held is a bug. */
static void
witness_check_sleepable(struct lock_object *lo)
{
	int i;

	for (i = 0; i < witness_nheld; i++)
		if ((witness_held[i].hl_lock->lo_flags & LO_SLEEPABLE) == 0)
			panic("witness: sleepable lock %s acquired with "
			    "non-sleepable %s held", lo->lo_name,
			    witness_held[i].hl_lock->lo_name);
}

/*
 * Already held by this thread: a recursion, legal only on a recursable
 * lock of the same mode.  Returns true when the recursion was recorded.
 */
static bool
witness_recurse(struct lock_object *lo, bool excl)
{
	struct held_lock *hl;

	hl = witness_find(lo);
	if (hl == NULL)
		return (false);
	if (hl->hl_excl && !excl)
		panic("witness: shared lock of %s while exclusively locked",
		    lo->lo_name);
	if (!hl->hl_excl && excl)
		panic("witness: exclusive lock of %s while share locked",
		    lo->lo_name);
	if ((lo->lo_flags & LO_RECURSABLE) == 0)
		panic("witness: recursed on non-recursive lock %s",
		    lo->lo_name);
	hl->hl_recurse++;
	return (true);
}

/*
 * Release bookkeeping.  Returns true when only a recursion was dropped
 * (the lock stays held).
 */
static bool
witness_unlock(struct lock_object *lo, bool excl, const char *op)
{
	struct held_lock *hl;

	hl = witness_find(lo);
	if (hl == NULL)
		panic("witness: %s of %s, not held by this thread", op,
		    lo->lo_name);
	if (hl->hl_excl != excl)
		panic("witness: %s of %s, which is %s locked", op,
		    lo->lo_name, hl->hl_excl ? "exclusively" : "share");
	if (hl->hl_recurse > 0) {
		hl->hl_recurse--;
		return (true);
	}
	witness_remove(hl);
	return (false);
}

void
witness_assert_unlocked(const char *op)
{
	if (witness_nheld != 0)
		panic("witness: lock held on return from %s: %s", op,
		    witness_held[witness_nheld - 1].hl_lock->lo_name);
}

void
witness_check_sleep(const char *why)
{
	int i;

	for (i = 0; i < witness_nheld; i++)
		if ((witness_held[i].hl_lock->lo_flags & LO_SLEEPABLE) == 0)
			panic("witness: sleeping (%s) with non-sleepable lock "
			    "%s held", why, witness_held[i].hl_lock->lo_name);
	if (in_epoch(net_epoch_preempt))
		panic("witness: sleeping (%s) inside an epoch section", why);
}

int
witness_held_count(void)
{
	return (witness_nheld);
}

int
witness_held_names(const char **names, int max)
{
	int i;

	for (i = 0; i < witness_nheld && i < max; i++)
		names[i] = witness_held[i].hl_lock->lo_name;
	return (i);
}

static SHIM_NO_TSAN void
witness_reset_table(void)
{
	volatile uint64_t *p;
	size_t i, j, words;

	shim_spin_lock(&witness_spin);
	/*
	 * Orders are only ever recorded between names that exist, so
	 * clearing the rows and words of the names in use clears them all
	 * (and is cheap: this runs once per input).  volatile: a loop the
	 * compiler cannot turn into memset().
	 */
	words = howmany((size_t)witness_nnames, 64);
	for (i = 0; i < (size_t)witness_nnames; i++) {
		p = &witness_order[i][0];
		for (j = 0; j < words; j++)
			p[j] = 0;
	}
	/* Names of per-instance locks could pile up over a campaign. */
	if (witness_nnames > WITNESS_MAXNAMES / 2) {
		witness_nnames = 0;
		witness_gen++;
		if ((witness_gen & 0xffff) == 0)
			witness_gen++;
	}
	shim_spin_unlock(&witness_spin);
}

void
witness_reset(void)
{
	witness_reset_table();
	witness_nheld = 0;
}

int
witness_live_locks(void)
{
	return (__atomic_load_n(&witness_live, __ATOMIC_RELAXED));
}

/*
 * The lock state machine: one atomic word, LS_XOWNED or a reader count,
 * plus LS_WAITERS while a thread sleeps on it (futex; only without the
 * controlled scheduler).  Every change is a sequentially consistent
 * read-modify-write, so each operation on a lock is ordered after every
 * earlier one on the same lock (for TSan, a happens-before edge).  A
 * release that finds LS_WAITERS clears it and wakes every sleeper; those
 * that still cannot go set it again.  The waiter flag lives in the word
 * itself because the word is the last thing a release may touch: the
 * next owner may free the lock at once (the wakeup only names its
 * address).
 */
#define	LS_XOWNED	0x40000000
#define	LS_WAITERS	0x20000000
#define	LS_READERS(s)	((s) & ~(LS_XOWNED | LS_WAITERS))

static int
lock_state(const struct lock_object *lo)
{
	return (__atomic_load_n(&lo->lo_state, __ATOMIC_SEQ_CST));
}

static bool
lock_free_for(int s, bool excl)
{
	if ((s & LS_XOWNED) != 0)
		return (false);
	return (!excl || LS_READERS(s) == 0);
}

static bool
lock_cas(struct lock_object *lo, int s, int n)
{
	return (__atomic_compare_exchange_n(&lo->lo_state, &s, n, false,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

static void
lock_init(struct lock_object *lo, const char *name, const char *type,
    u_int flags)
{
	KASSERT(name != NULL, ("witness: lock at %p initialised without a "
	    "name", (void *)lo));
	memset(lo, 0, sizeof(*lo));
	lo->lo_name = name;
	lo->lo_type = type != NULL ? type : name;
	lo->lo_flags = flags | LO_INITIALIZED;
	__atomic_fetch_add(&witness_live, 1, __ATOMIC_RELAXED);
}

static void
lock_check_init(const struct lock_object *lo, const char *op)
{
	if ((lo->lo_flags & LO_INITIALIZED) == 0)
		panic("witness: %s of uninitialized or destroyed lock %p", op,
		    (const void *)lo);
}

static void
lock_destroy(struct lock_object *lo, const char *op)
{
	lock_check_init(lo, op);
	if (lock_state(lo) != 0)
		panic("witness: %s of %s while it is locked", op,
		    lo->lo_name);
	lo->lo_flags = 0;
	__atomic_fetch_sub(&witness_live, 1, __ATOMIC_RELAXED);
}

/* One attempt; the waiter flag stays for the next release to see. */
static bool
lock_take(struct lock_object *lo, int s, bool excl)
{
	return (lock_free_for(s, excl) && lock_cas(lo, s,
	    excl ? LS_XOWNED | (s & LS_WAITERS) : s + 1));
}

static void
lock_wait_acquire(struct lock_object *lo, bool excl)
{
	int s;

	for (;;) {
		s = lock_state(lo);
		if (lock_take(lo, s, excl))
			return;
		if (lock_free_for(s, excl))
			continue;	/* lost a race; the lock is free */
		if (sched_controlled()) {
			/* Never block for real: the scheduler picks who runs. */
			sched_block(lo, lo->lo_name);
			continue;
		}
		if ((s & LS_WAITERS) == 0 &&
		    !lock_cas(lo, s, s | LS_WAITERS))
			continue;
		(void)syscall(SYS_futex, &lo->lo_state, FUTEX_WAIT_PRIVATE,
		    s | LS_WAITERS, NULL, NULL, 0);
	}
}

static bool
lock_try_acquire(struct lock_object *lo, bool excl)
{
	int s;

	do {
		s = lock_state(lo);
		if (!lock_free_for(s, excl))
			return (false);
	} while (!lock_take(lo, s, excl));
	return (true);
}

/* After a release that cleared LS_WAITERS: the sleepers try again. */
static void
lock_wake(struct lock_object *lo, int old)
{
	if ((old & LS_WAITERS) != 0)
		(void)syscall(SYS_futex, &lo->lo_state, FUTEX_WAKE_PRIVATE,
		    INT_MAX, NULL, NULL, 0);
	sched_wake(lo);
}

static void
lock_release(struct lock_object *lo, bool excl)
{
	int n, s;

	if (excl) {
		s = __atomic_exchange_n(&lo->lo_state, 0, __ATOMIC_SEQ_CST);
		KASSERT((s & LS_XOWNED) != 0, ("witness: %s released but "
		    "not exclusively owned", lo->lo_name));
	} else {
		/* The last reader out clears the flag: writers may go. */
		do {
			s = lock_state(lo);
			KASSERT(LS_READERS(s) > 0 && (s & LS_XOWNED) == 0,
			    ("witness: %s released but has no readers",
			    lo->lo_name));
			n = LS_READERS(s) == 1 ? 0 : s - 1;
		} while (!lock_cas(lo, s, n));
		if (n != 0)
			s &= ~LS_WAITERS;	/* nobody can go yet */
	}
	lock_wake(lo, s);
}

/* A blocking acquire, shared by all classes. */
static void
lock_acquire(struct lock_object *lo, bool excl, const char *op)
{
	lock_check_init(lo, op);
	sched_point(SP_LOCK, lo, lo->lo_name);
	if ((lo->lo_flags & LO_SLEEPABLE) != 0)
		witness_check_sleepable(lo);
	if (witness_recurse(lo, excl))
		return;
	witness_checkorder(lo);
	lock_wait_acquire(lo, excl);
	witness_push(lo, excl);
}

static void
lock_unlock(struct lock_object *lo, bool excl, const char *op)
{
	const char *name = lo->lo_name;

	lock_check_init(lo, op);
	if (witness_unlock(lo, excl, op))
		return;
	/* Once released, the lock may be freed by its next owner. */
	lock_release(lo, excl);
	sched_point(SP_UNLOCK, lo, name);
}

static bool
lock_held(const struct lock_object *lo, bool *excl)
{
	struct held_lock *hl;

	hl = witness_find(lo);
	if (hl == NULL)
		return (false);
	if (excl != NULL)
		*excl = hl->hl_excl;
	return (true);
}

static void
lock_assert_fail(const struct lock_object *lo, const char *what,
    const char *func, const char *file, int line)
{
	kern_panic_print(file, line, "witness: %s not %s at %s", lo->lo_name,
	    what, func);
	abort();
}

/*
 * mtx(9)
 */
void
mtx_init(struct mtx *m, const char *name, const char *type, int opts)
{
	lock_init(&m->lock_object, name, type,
	    (opts & MTX_RECURSE) != 0 ? LO_RECURSABLE : 0);
	m->mtx_recurse = 0;
}

void
mtx_destroy(struct mtx *m)
{
	struct lock_object *lo = &m->lock_object;
	struct held_lock *hl;

	/* As in FreeBSD, the owner may destroy a mutex it holds once. */
	lock_check_init(lo, "mtx_destroy");
	hl = witness_find(lo);
	if (hl != NULL) {
		if (hl->hl_recurse != 0)
			panic("witness: mtx_destroy of recursed %s",
			    lo->lo_name);
		witness_remove(hl);
		lock_release(lo, true);
	}
	lock_destroy(lo, "mtx_destroy");
}

void
mtx_lock(struct mtx *m)
{
	struct lock_object *lo = &m->lock_object;

	lock_acquire(lo, true, "mtx_lock");
	m->mtx_recurse = witness_find(lo)->hl_recurse;
}

void
mtx_unlock(struct mtx *m)
{
	struct lock_object *lo = &m->lock_object;
	const char *name = lo->lo_name;

	lock_check_init(lo, "mtx_unlock");
	if (witness_unlock(lo, true, "mtx_unlock")) {
		m->mtx_recurse--;
		return;
	}
	/* Once released, the lock may be freed by its next owner. */
	lock_release(lo, true);
	sched_point(SP_UNLOCK, lo, name);
}

int
mtx_trylock(struct mtx *m)
{
	struct lock_object *lo = &m->lock_object;
	struct held_lock *hl;

	lock_check_init(lo, "mtx_trylock");
	sched_point(SP_LOCK, lo, lo->lo_name);
	hl = witness_find(lo);
	if (hl != NULL) {
		/* FreeBSD: recursion if allowed, else the try just fails. */
		if ((lo->lo_flags & LO_RECURSABLE) == 0)
			return (0);
		hl->hl_recurse++;
		m->mtx_recurse++;
		return (1);
	}
	/* A try never waits, so it establishes no order. */
	if (!lock_try_acquire(lo, true))
		return (0);
	witness_push(lo, true);
	return (1);
}

int
mtx_owned(struct mtx *m)
{
	return (lock_held(&m->lock_object, NULL));
}

void
_mtx_assert(struct mtx *m, int what, const char *func, const char *file,
    int line)
{
	bool held = lock_held(&m->lock_object, NULL);

	if ((what & MA_OWNED) != 0 && !held)
		lock_assert_fail(&m->lock_object, "owned", func, file, line);
	if ((what & MA_NOTOWNED) != 0 && held)
		lock_assert_fail(&m->lock_object, "unowned", func, file, line);
}

void
(mtx_assert)(struct mtx *m, int what)
{
	_mtx_assert(m, what, "?", __FILE__, __LINE__);
}

/*
 * rwlock(9)
 */
void
rw_init(struct rwlock *rw, const char *name)
{
	lock_init(&rw->lock_object, name, NULL, 0);
}

void
rw_destroy(struct rwlock *rw)
{
	lock_destroy(&rw->lock_object, "rw_destroy");
}

void
rw_rlock(struct rwlock *rw)
{
	lock_acquire(&rw->lock_object, false, "rw_rlock");
}

void
rw_runlock(struct rwlock *rw)
{
	lock_unlock(&rw->lock_object, false, "rw_runlock");
}

void
rw_wlock(struct rwlock *rw)
{
	lock_acquire(&rw->lock_object, true, "rw_wlock");
}

void
rw_wunlock(struct rwlock *rw)
{
	lock_unlock(&rw->lock_object, true, "rw_wunlock");
}

int
rw_try_upgrade(struct rwlock *rw)
{
	struct lock_object *lo = &rw->lock_object;
	struct held_lock *hl;
	bool ok;
	int s;

	lock_check_init(lo, "rw_try_upgrade");
	hl = witness_find(lo);
	if (hl == NULL || hl->hl_excl)
		panic("witness: rw_try_upgrade of %s, not read-locked by "
		    "this thread", lo->lo_name);
	sched_point(SP_LOCK, lo, lo->lo_name);
	/* Only the sole reader may become the writer, without waiting. */
	ok = false;
	while (hl->hl_recurse == 0 && !ok) {
		s = lock_state(lo);
		if (LS_READERS(s) != 1)
			break;
		/* A failed swap saw a waiter arrive or a reader come. */
		ok = lock_cas(lo, s, LS_XOWNED | (s & LS_WAITERS));
	}
	if (ok)
		hl->hl_excl = true;
	return (ok);
}

void
rw_downgrade(struct rwlock *rw)
{
	struct lock_object *lo = &rw->lock_object;
	struct held_lock *hl;
	int s;

	lock_check_init(lo, "rw_downgrade");
	hl = witness_find(lo);
	if (hl == NULL || !hl->hl_excl)
		panic("witness: rw_downgrade of %s, not write-locked by this "
		    "thread", lo->lo_name);
	if (hl->hl_recurse != 0)
		panic("witness: rw_downgrade of recursed %s", lo->lo_name);
	s = __atomic_exchange_n(&lo->lo_state, 1, __ATOMIC_SEQ_CST);
	hl->hl_excl = false;
	lock_wake(lo, s);		/* readers may come in */
	sched_point(SP_UNLOCK, lo, lo->lo_name);
}

int
rw_wowned(struct rwlock *rw)
{
	bool excl;

	return (lock_held(&rw->lock_object, &excl) && excl);
}

/* RA_* and SA_* share their values; only the words differ. */
CTASSERT(RA_LOCKED == SA_LOCKED && RA_RLOCKED == SA_SLOCKED &&
    RA_WLOCKED == SA_XLOCKED && RA_UNLOCKED == SA_UNLOCKED);

static void
rwsx_assert(struct lock_object *lo, int what, bool rw, const char *func,
    const char *file, int line)
{
	bool excl = false, held;

	held = lock_held(lo, &excl);
	if ((what & RA_LOCKED) != 0 && !held)
		lock_assert_fail(lo, "locked", func, file, line);
	if ((what & RA_RLOCKED) != 0 && (!held || excl))
		lock_assert_fail(lo, rw ? "rlocked" : "slocked", func, file,
		    line);
	if ((what & RA_WLOCKED) != 0 && (!held || !excl))
		lock_assert_fail(lo, rw ? "wlocked" : "xlocked", func, file,
		    line);
	if ((what & RA_UNLOCKED) != 0 && held)
		lock_assert_fail(lo, "unlocked", func, file, line);
}

void
_rw_assert(struct rwlock *rw, int what, const char *func, const char *file,
    int line)
{
	rwsx_assert(&rw->lock_object, what, true, func, file, line);
}

void
(rw_assert)(struct rwlock *rw, int what)
{
	_rw_assert(rw, what, "?", __FILE__, __LINE__);
}

/*
 * sx(9)
 */
void
sx_init(struct sx *sx, const char *name)
{
	lock_init(&sx->lock_object, name, NULL, LO_SLEEPABLE);
}

void
sx_destroy(struct sx *sx)
{
	lock_destroy(&sx->lock_object, "sx_destroy");
}

void
sx_xlock(struct sx *sx)
{
	lock_acquire(&sx->lock_object, true, "sx_xlock");
}

void
sx_xunlock(struct sx *sx)
{
	lock_unlock(&sx->lock_object, true, "sx_xunlock");
}

void
sx_slock(struct sx *sx)
{
	lock_acquire(&sx->lock_object, false, "sx_slock");
}

void
sx_sunlock(struct sx *sx)
{
	lock_unlock(&sx->lock_object, false, "sx_sunlock");
}

int
sx_xlocked(struct sx *sx)
{
	bool excl;

	return (lock_held(&sx->lock_object, &excl) && excl);
}

void
_sx_assert(struct sx *sx, int what, const char *func, const char *file,
    int line)
{
	rwsx_assert(&sx->lock_object, what, false, func, file, line);
}

void
(sx_assert)(struct sx *sx, int what)
{
	_sx_assert(sx, what, "?", __FILE__, __LINE__);
}
