/*
 * Minimal test support for the ctest suites.
 *
 *	int main(void) {
 *		RUN(test_move_pkthdr_moves_reference);
 *		return (t_done());
 *	}
 *
 * CHECK() failures print the file, line and expression and exit non-zero.
 * expect_panic() runs a function in a forked child and passes when the
 * child dies with a "panic: ..." line containing the given text, which is
 * how a test proves that an oracle fires when an invariant is broken.
 */
#ifndef _TESTLIB_H_
#define	_TESTLIB_H_

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define	CHECK(cond) do {						\
	if (!(cond))							\
		t_fail(__FILE__, __LINE__, #cond);			\
} while (0)

#define	CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		t_fail_eq(__FILE__, __LINE__, #a, #b, _a, _b);		\
} while (0)

#define	RUN(fn)		t_run(#fn, fn)

void	t_run(const char *name, void (*fn)(void));
int	t_done(void);
void	t_fail(const char *file, int line, const char *expr)
	    __attribute__((__noreturn__));
void	t_fail_eq(const char *file, int line, const char *a, const char *b,
	    long long va, long long vb) __attribute__((__noreturn__));

/*
 * Run fn(arg) in a child.  True when the child aborted and its stderr
 * contains 'needle' on a line starting with "panic: ".  On false, the
 * child's output is printed to help debugging.
 */
bool	expect_panic(void (*fn)(void *), void *arg, const char *needle);
#define	CHECK_PANICS(fn, arg, needle)					\
	CHECK(expect_panic((fn), (arg), (needle)))

/* A fresh world for one case, and its teardown plus ledger check. */
void	t_world_begin(void);
void	t_world_end(void);

#endif /* !_TESTLIB_H_ */
