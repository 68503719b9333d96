/*
 * Userspace shim: the parts of <sys/systm.h> and <sys/param.h> the model
 * uses.  KASSERT, MPASS and panic are always on (the model is an
 * INVARIANTS kernel) and are macros, so the frame under abort() is the
 * caller's and crash buckets stay distinct per call site.
 *
 * Every panic prints exactly one first line:
 *	panic: <invariant>: <details>
 * so crash buckets are named after what broke.
 */
#ifndef _SHIM_SYSTM_H_
#define	_SHIM_SYSTM_H_

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef char		*caddr_t;
typedef unsigned int	 u_int;
typedef unsigned long	 u_long;
typedef unsigned short	 u_short;
typedef unsigned char	 u_char;

#ifndef __predict_true
#define	__predict_true(exp)	__builtin_expect((exp), 1)
#define	__predict_false(exp)	__builtin_expect((exp), 0)
#endif
#ifndef __unused
#define	__unused		__attribute__((__unused__))
#endif
#define	__printflike(f, a)	__attribute__((__format__(__printf__, f, a)))
/*
 * Harness bookkeeping the fuzzer's coverage must not see (the route
 * table's walks, the interpreter's per-op views): counted per iteration,
 * its loops follow how many objects an input made, not what the model
 * did.  Not inlined either: inlined into an instrumented caller it is
 * instrumented as the caller's code.
 */
#define	__no_sancov	__attribute__((__no_sanitize__("coverage"), \
			    __noinline__))

#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif
#ifndef MIN
#define	MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define	MAX(a, b)	(((a) > (b)) ? (a) : (b))
#endif
#define	howmany(x, y)	(((x) + ((y) - 1)) / (y))
#define	roundup2(x, y)	(((x) + ((y) - 1)) & (~((y) - 1)))

/* FreeBSD errno values that glibc spells differently or lacks. */
#ifndef EOPNOTSUPP
#define	EOPNOTSUPP	ENOTSUP
#endif

/*
 * Print "panic: <formatted message>" on one line, flush, then let the
 * macro abort in the caller's frame.  kern_panic_print() never returns
 * control flow decisions; the abort() is in the macro on purpose.
 */
void	kern_panic_print(const char *file, int line, const char *fmt, ...)
	    __printflike(3, 4);

#define	panic(...) do {							\
	kern_panic_print(__FILE__, __LINE__, __VA_ARGS__);		\
	abort();							\
} while (0)

/* KASSERT(exp, ("fmt", args)): the FreeBSD double-parenthesis form. */
#define	KASSERT(exp, msg) do {						\
	if (__predict_false(!(exp))) {					\
		kern_panic_print(__FILE__, __LINE__, "%s",		\
		    kern_panic_fmt msg);				\
		abort();						\
	}								\
} while (0)

#define	MPASS(ex)							\
	KASSERT((ex), ("MPASS: assertion %s failed at %s:%d", #ex,	\
	    __FILE__, __LINE__))

/* Formats a KASSERT message into a per-thread buffer. */
const char *kern_panic_fmt(const char *fmt, ...) __printflike(1, 2);

/*
 * Called once after the panic line is printed and before the abort, e.g.
 * by the threaded scheduler to show where every model thread stands.
 */
extern void (*kern_panic_hook)(void);

#define	CTASSERT(x)	_Static_assert((x), #x)

/* Preemption point for the controlled scheduler (no-op when inactive). */
#include "shim/sched.h"

#endif /* !_SHIM_SYSTM_H_ */
