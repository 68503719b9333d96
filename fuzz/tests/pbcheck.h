/*
 * Minimal checks for the fuzz tooling tests (these do not link the core,
 * so they do not use tests/testlib).
 */
#ifndef _FUZZ_TESTS_PBCHECK_H_
#define	_FUZZ_TESTS_PBCHECK_H_

#include <stdio.h>
#include <stdlib.h>

#define	CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		exit(1);						\
	}								\
} while (0)

#define	CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, "	\
		    "%s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b);\
		exit(1);						\
	}								\
} while (0)

#define	RUN(fn) do {							\
	fprintf(stderr, "-- %s\n", #fn);				\
	fn();								\
} while (0)

#endif /* !_FUZZ_TESTS_PBCHECK_H_ */
