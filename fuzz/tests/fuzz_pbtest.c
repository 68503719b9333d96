/*
 * Structured fuzz target over the test schema, to exercise the libFuzzer
 * glue end to end: libFuzzer mutates only through pbmutate (custom
 * mutator and crossover), with a repair hook keeping op threads below 4.
 * With PBTEST_STRICT=1 in the environment (the ctest run under
 * libFuzzer) every non-empty input must decode and satisfy the hook's
 * invariant, and the target aborts otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb_libfuzzer_mutator.h"
#include "pbtest.pb-c.h"

static void
clamp_threads(ProtobufCMessage *msg, void *arg)
{
	Pbtest__Node *n = (Pbtest__Node *)msg;
	size_t i;

	for (i = 0; i < n->n_ops; i++)
		n->ops[i]->thread %= 4;
}

static const struct pbmutate_hooks hooks = { clamp_threads, NULL, 16, 16 };

PB_DEFINE_LIBFUZZER_MUTATOR(&pbtest__node__descriptor, &hooks);

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int strict = -1;
	Pbtest__Node *n;
	size_t i;

	if (strict < 0)
		strict = getenv("PBTEST_STRICT") != NULL;
	n = pbtest__node__unpack(NULL, size, data);
	if (n == NULL) {
		/* "\n" is libFuzzer's own seed for an empty corpus. */
		if (strict && size > 0 && !(size == 1 && data[0] == '\n')) {
			fprintf(stderr, "pbtest: mutator output does not "
			    "decode\n");
			abort();
		}
		return (0);
	}
	for (i = 0; i < n->n_ops; i++) {
		if (strict && n->ops[i]->thread >= 4) {
			fprintf(stderr, "pbtest: repair hook not applied\n");
			abort();
		}
	}
	pbtest__node__free_unpacked(n, NULL);
	return (0);
}
