/*
 * The AFL++ custom mutator (afl_pb_mutator.c, compiled into this test for
 * the pbtest.Node schema) driven the way afl-fuzz drives it: fuzz outputs
 * are non-empty, fit max_size and decode, with and without a splice
 * buffer; describe names the mutation; trimming removes list elements
 * one at a time, keeps what the "coverage" oracle accepts, restores what
 * it rejects, and never returns more than it was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbcheck.h"
#include "pbmsg.h"
#include "pbmutate.h"
#include "pbtest.pb-c.h"
#include "pbtext.h"

void	*afl_custom_init(void *afl, unsigned int seed);
size_t	 afl_custom_fuzz(void *data, unsigned char *buf, size_t buf_size,
	    unsigned char **out_buf, unsigned char *add_buf,
	    size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
int32_t	 afl_custom_init_trim(void *data, unsigned char *buf,
	    size_t buf_size);
size_t	 afl_custom_trim(void *data, unsigned char **out_buf);
int32_t	 afl_custom_post_trim(void *data, unsigned char success);
void	 afl_custom_deinit(void *data);

/* Referenced by -DPB_HOOKS: keeps every op on thread 0. */
static void
zero_threads(ProtobufCMessage *msg, void *arg)
{
	Pbtest__Node *n = (Pbtest__Node *)msg;
	size_t i;

	(*(unsigned *)arg)++;
	for (i = 0; i < n->n_ops; i++)
		n->ops[i]->thread = 0;
}

static unsigned hook_calls;
const struct pbmutate_hooks pbtest_afl_hooks = { zero_threads, &hook_calls,
    0, 0 };

static void
test_fuzz(void)
{
	static unsigned char in[4096], other[4096];
	unsigned char *out;
	size_t len = 0, olen = 0, n, i;
	const char *desc;
	Pbtest__Node *node;
	void *st;
	unsigned k;

	st = afl_custom_init(NULL, 7);
	CHECK(st != NULL);
	for (k = 0; k < 2000; k++) {
		n = afl_custom_fuzz(st, in, len, &out, k % 3 ? other : NULL,
		    olen, k % 7 == 0 ? 16 : sizeof(in));
		CHECK(n > 0);
		CHECK(n <= (k % 7 == 0 ? 16 : sizeof(in)));
		node = pbtest__node__unpack(NULL, n, out);
		CHECK(node != NULL || n == 1);
		if (node != NULL) {
			for (i = 0; i < node->n_ops; i++)
				CHECK(node->ops[i]->thread == 0);
			pbtest__node__free_unpacked(node, NULL);
		}
		desc = afl_custom_describe(st, 200);
		CHECK(strncmp(desc, "pb-", 3) == 0 && strlen(desc) > 4);
		CHECK(strchr(desc, '/') == NULL);
		desc = afl_custom_describe(st, 5);
		CHECK(strlen(desc) <= 5);
		if (k % 2) {
			memcpy(in, out, n);
			len = n;
		} else {
			memcpy(other, out, n);
			olen = n;
		}
	}
	CHECK(hook_calls >= 2000);
	/* An input larger than max_size is shrunk to fit, not cut. */
	for (k = 0; k < 5000 && len < 1000; k++) {
		n = afl_custom_fuzz(st, in, len, &out, NULL, 0, sizeof(in));
		memcpy(in, out, n);
		len = n;
	}
	CHECK(len >= 1000);
	for (k = 0; k < 50; k++) {
		n = afl_custom_fuzz(st, in, len, &out, NULL, 0, 100);
		CHECK(n > 0 && n <= 100);
		node = pbtest__node__unpack(NULL, n, out);
		CHECK(node != NULL);
		pbtest__node__free_unpacked(node, NULL);
	}
	afl_custom_deinit(st);
}

static int
count_sends(const unsigned char *buf, size_t len)
{
	Pbtest__Node *n;
	size_t i;
	int c = 0;

	n = pbtest__node__unpack(NULL, len, buf);
	CHECK(n != NULL);
	for (i = 0; i < n->n_ops; i++)
		if (n->ops[i]->op_case == PBTEST__OP__OP_SEND)
			c++;
	pbtest__node__free_unpacked(n, NULL);
	return (c);
}

static void
test_trim(void)
{
	static const char *text =
	    "name: \"t\"\n"
	    "ops { wait: 1 }\n"
	    "ops { send { len: 1 } }\n"
	    "ops { note: \"x\" }\n"
	    "ops { send { len: 2 } }\n"
	    "repeats { ri32: [1, 2, 3] rstr: [\"a\", \"b\"] }\n"
	    "tree { kids { kids { } } kids { } }\n";
	unsigned char *in, *out, *last = NULL;
	ProtobufCMessage *m;
	Pbtest__Node *n;
	size_t len, tlen, lastlen = 0;
	int32_t steps, idx;
	char err[200], *t;
	void *st;

	m = pbtext_parse(&pbtest__node__descriptor, text, strlen(text), err,
	    sizeof(err));
	CHECK(m != NULL);
	in = pbmsg_pack(m, &len);
	pbmsg_free(m);
	st = afl_custom_init(NULL, 1);
	steps = afl_custom_init_trim(st, in, len);
	/* 4 ops + 3 ri32 + 2 rstr + 2 kids + 1 nested kid */
	CHECK_EQ(steps, 12);
	idx = 0;
	while (idx < steps) {
		tlen = afl_custom_trim(st, &out);
		CHECK(tlen > 0 && tlen <= len);
		/* The "coverage" oracle: keep inputs with a send op. */
		idx = afl_custom_post_trim(st, count_sends(out, tlen) > 0);
		CHECK(idx >= 0);
		if (count_sends(out, tlen) > 0) {
			free(last);
			last = malloc(tlen);
			CHECK(last != NULL);
			memcpy(last, out, tlen);
			lastlen = tlen;
		}
	}
	/* Everything but one send op went; that one stayed. */
	CHECK(last != NULL);
	n = pbtest__node__unpack(NULL, lastlen, last);
	CHECK(n != NULL);
	CHECK_EQ(n->n_ops, 1);
	CHECK_EQ(n->ops[0]->op_case, PBTEST__OP__OP_SEND);
	CHECK(n->repeats != NULL && n->repeats->n_ri32 == 0);
	CHECK(n->tree != NULL && n->tree->n_kids == 0);
	CHECK(strcmp(n->name, "t") == 0);
	CHECK(pbtext_format(&n->base, &t, &tlen) == 0);
	CHECK(strcmp(t, "name: \"t\"\nrepeats {}\nops {\n  send {\n"
	    "    len: 1\n  }\n}\ntree {}\n") == 0);
	free(t);
	pbtest__node__free_unpacked(n, NULL);

	/* Trimming abandoned half way, and a non-decoding input. */
	CHECK(afl_custom_init_trim(st, in, len) == 12);
	(void)afl_custom_trim(st, &out);
	CHECK(afl_custom_init_trim(st, (unsigned char *)"\xff\xff", 2) == 0);
	afl_custom_deinit(st);
	free(last);
	free(in);
}

int
main(void)
{

	RUN(test_fuzz);
	RUN(test_trim);
	fprintf(stderr, "test_afl_mutator: all passed\n");
	return (0);
}
