/*
 * pbmutate properties: every output decodes and fits max_size (for a
 * range of sizes), same input and seed give the same output, different
 * seeds usually differ, crossover likewise, the repair hook runs and its
 * changes persist, every kind of mutation happens, text round trips of
 * mutated messages are exact, garbage inputs are handled, proto2 required
 * fields survive.  ASan/LSan (asan preset) check the memory handling.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbcheck.h"
#include "pbmsg.h"
#include "pbmutate.h"
#include "pb_libfuzzer_mutator.h"
#include "pbtest.pb-c.h"
#include "pbtest2.pb-c.h"
#include "pbtext.h"

#define	BUFSZ	8192

static const ProtobufCMessageDescriptor *const node_d =
    &pbtest__node__descriptor;

struct corpus {
	uint8_t	buf[16][BUFSZ];
	size_t	len[16];
	int	n;
};

static bool
decodes(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len)
{
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(d, NULL, len, p);
	if (m == NULL)
		return (false);
	pbmsg_free(m);
	return (true);
}

static uint32_t
hash(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return (h);
}

static void
test_outputs_decode_and_fit(void)
{
	static const size_t sizes[] = { 0, 1, 2, 5, 16, 64, 256, 1024, 4096 };
	static uint8_t buf[BUFSZ];
	size_t si, len, max;
	unsigned i, grew = 0;

	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		max = sizes[si];
		len = 0;
		for (i = 0; i < 400; i++) {
			len = pbmutate_mutate(node_d, buf, len, max, i * 7919u +
			    (unsigned)si, NULL);
			CHECK(len <= max);
			if (!decodes(node_d, buf, len)) {
				fprintf(stderr, "max %zu iter %u: %zu bytes do "
				    "not decode\n", max, i, len);
				CHECK(0);
			}
			if (len > max / 2)
				grew++;
		}
	}
	/* The chains do grow towards the limit. */
	CHECK(grew > 400);
}

static void
test_shrinks_oversized_input(void)
{
	static uint8_t buf[BUFSZ], out[BUFSZ];
	size_t len = 0, big, small;
	unsigned i;

	/* Grow one input large, then ask for much less room. */
	for (i = 0; i < 3000 && len < 3000; i++)
		len = pbmutate_mutate(node_d, buf, len, sizeof(buf), i, NULL);
	CHECK(len >= 3000);
	big = len;
	for (small = 10; small <= 1000; small *= 10) {
		memcpy(out, buf, big);
		len = pbmutate_mutate(node_d, out, big, small, 99, NULL);
		CHECK(len <= small);
		CHECK(decodes(node_d, out, len));
	}
}

static void
test_deterministic(void)
{
	static uint8_t a[BUFSZ], b[BUFSZ], base[BUFSZ];
	uint32_t hashes[200];
	size_t la, lb, blen = 0;
	unsigned i, j, distinct = 0;

	for (i = 0; i < 50; i++)
		blen = pbmutate_mutate(node_d, base, blen, 2048, i, NULL);
	CHECK(blen > 0);
	for (i = 0; i < 200; i++) {
		memcpy(a, base, blen);
		memcpy(b, base, blen);
		la = pbmutate_mutate(node_d, a, blen, 4096, 1000 + i, NULL);
		lb = pbmutate_mutate(node_d, b, blen, 4096, 1000 + i, NULL);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		hashes[i] = hash(a, la) ^ (uint32_t)la;
	}
	for (i = 0; i < 200; i++) {
		for (j = 0; j < i; j++)
			if (hashes[j] == hashes[i])
				break;
		if (j == i)
			distinct++;
	}
	fprintf(stderr, "   %u distinct outputs of 200 seeds\n", distinct);
	CHECK(distinct >= 150);
}

static void
build_corpus(struct corpus *c)
{
	size_t len = 0;
	unsigned i;
	int k;

	for (k = 0; k < 16; k++) {
		for (i = 0; i < 20 + (unsigned)k * 5; i++)
			len = pbmutate_mutate(node_d, c->buf[k], len, 3000,
			    (unsigned)k * 1000 + i, NULL);
		c->len[k] = len;
		memcpy(c->buf[(k + 1) % 16], c->buf[k], len);
	}
	c->n = 16;
}

static void
test_crossover(void)
{
	static struct corpus c;
	static uint8_t o1[BUFSZ], o2[BUFSZ];
	static const size_t maxes[] = { 0, 3, 50, 500, 5000 };
	uint32_t hashes[300];
	size_t l1, l2, mi;
	unsigned i, j, distinct = 0;
	int a, b;

	build_corpus(&c);
	for (i = 0; i < 300; i++) {
		a = (int)(i % 16);
		b = (int)((i * 7 + 3) % 16);
		mi = i % (sizeof(maxes) / sizeof(maxes[0]));
		l1 = pbmutate_crossover(node_d, c.buf[a], c.len[a], c.buf[b],
		    c.len[b], o1, maxes[mi], i, NULL);
		l2 = pbmutate_crossover(node_d, c.buf[a], c.len[a], c.buf[b],
		    c.len[b], o2, maxes[mi], i, NULL);
		CHECK(l1 <= maxes[mi]);
		CHECK(l1 == l2 && memcmp(o1, o2, l1) == 0);
		CHECK(decodes(node_d, o1, l1));
	}
	/* Same pair, different seeds: usually different children. */
	for (i = 0; i < 100; i++) {
		l1 = pbmutate_crossover(node_d, c.buf[1], c.len[1], c.buf[2],
		    c.len[2], o1, BUFSZ, 5000 + i, NULL);
		hashes[i] = hash(o1, l1);
	}
	for (i = 0; i < 100; i++) {
		for (j = 0; j < i; j++)
			if (hashes[j] == hashes[i])
				break;
		if (j == i)
			distinct++;
	}
	fprintf(stderr, "   %u distinct children of 100 seeds\n", distinct);
	CHECK(distinct >= 40);
	/* Garbage on either side still yields a decodable child. */
	memset(o2, 0xff, 64);
	l1 = pbmutate_crossover(node_d, o2, 64, c.buf[3], c.len[3], o1, BUFSZ,
	    1, NULL);
	CHECK(decodes(node_d, o1, l1));
	l1 = pbmutate_crossover(node_d, c.buf[3], c.len[3], o2, 64, o1, BUFSZ,
	    2, NULL);
	CHECK(decodes(node_d, o1, l1));
}

/* Repair: names every node "fixed", caps ops at 3, threads below 4. */
struct repair_stats {
	unsigned	calls;
};

static void
repair(ProtobufCMessage *msg, void *arg)
{
	struct repair_stats *st = arg;
	Pbtest__Node *n = (Pbtest__Node *)msg;
	const ProtobufCFieldDescriptor *f;
	char *s;
	size_t i;

	CHECK(msg->descriptor == node_d);
	st->calls++;
	f = protobuf_c_message_descriptor_get_field_by_name(node_d, "name");
	s = pbmsg_mem_strdup("fixed");
	CHECK(s != NULL);
	pbmsg_set(msg, f, 0, &s);
	f = protobuf_c_message_descriptor_get_field_by_name(node_d, "ops");
	if (n->n_ops > 3)
		pbmsg_remove(msg, f, 3, n->n_ops - 3);
	for (i = 0; i < n->n_ops; i++)
		n->ops[i]->thread %= 4;
}

static void
test_repair_hook(void)
{
	struct repair_stats st = { 0 };
	struct pbmutate_hooks h = { repair, &st, 0, 0 };
	static uint8_t buf[BUFSZ], out[BUFSZ];
	static struct corpus c;
	Pbtest__Node *n;
	size_t len = 0, i;
	unsigned k, saw_ops = 0;

	for (k = 0; k < 500; k++) {
		len = pbmutate_mutate(node_d, buf, len, 2048, k, &h);
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		CHECK(strcmp(n->name, "fixed") == 0);
		CHECK(n->n_ops <= 3);
		for (i = 0; i < n->n_ops; i++)
			CHECK(n->ops[i]->thread < 4);
		if (n->n_ops > 0)
			saw_ops++;
		pbtest__node__free_unpacked(n, NULL);
	}
	CHECK(st.calls >= 500);
	CHECK(saw_ops > 50);
	build_corpus(&c);
	st.calls = 0;
	for (k = 0; k < 100; k++) {
		len = pbmutate_crossover(node_d, c.buf[k % 16], c.len[k % 16],
		    c.buf[(k + 5) % 16], c.len[(k + 5) % 16], out, BUFSZ, k, &h);
		n = pbtest__node__unpack(NULL, len, out);
		CHECK(n != NULL && strcmp(n->name, "fixed") == 0);
		CHECK(n->n_ops <= 3);
		pbtest__node__free_unpacked(n, NULL);
	}
	CHECK(st.calls >= 100);
}

static void
test_limits_respected(void)
{
	struct pbmutate_hooks h = { NULL, NULL, 5, 4 };
	static uint8_t buf[BUFSZ];
	Pbtest__Node *n;
	size_t len = 0, i;
	unsigned k;

	for (k = 0; k < 1000; k++) {
		len = pbmutate_mutate(node_d, buf, len, BUFSZ, k, &h);
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		CHECK(n->n_ops <= 5 && n->n_more <= 5);
		CHECK(strlen(n->name) <= 4);
		for (i = 0; i < n->n_ops; i++)
			if (n->ops[i]->op_case == PBTEST__OP__OP_SEND &&
			    n->ops[i]->send != NULL)
				CHECK(n->ops[i]->send->payload.len <= 4);
		pbtest__node__free_unpacked(n, NULL);
	}
}

/* Every kind of mutation shows up, and with a visible effect. */
static void
test_mutation_kinds(void)
{
	static const char *const kinds[] = {
		"ins:", "dup:", "del:", "delrun:", "swap:", "move:", "duprun:",
		"splice:", "oneof:", "unset:", "val:", "clear:", "new:",
		"burst:",
	};
	static uint8_t buf[BUFSZ];
	bool seen[sizeof(kinds) / sizeof(kinds[0])] = { false };
	Pbtest__Node *n;
	size_t len = 0, prev_ops = 0, k, i;
	unsigned iter, op_changes = 0, bad_enum = 0, good_enum = 0;
	unsigned ops_grew = 0, ops_shrank = 0, bursts = 0, burst_short = 0;
	int prev_case = -1;

	for (iter = 0; iter < 6000; iter++) {
		len = pbmutate_mutate(node_d, buf, len, 4096, iter, NULL);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strstr(pbmutate_last(), kinds[k]) != NULL)
				seen[k] = true;
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		/* A burst alone adds 2-16 copies of one op. */
		if (strcmp(pbmutate_last(), "burst:ops") == 0 && prev_ops > 0) {
			bursts++;
			if (n->n_ops < prev_ops + 2)
				burst_short++;
		}
		if (n->n_ops > prev_ops)
			ops_grew++;
		if (n->n_ops < prev_ops)
			ops_shrank++;
		prev_ops = n->n_ops;
		if (n->n_ops > 0) {
			if ((int)n->ops[0]->op_case != prev_case)
				op_changes++;
			prev_case = (int)n->ops[0]->op_case;
		}
		for (i = 0; i < n->n_ops; i++) {
			if (n->ops[i]->op_case != PBTEST__OP__OP_PAINT)
				continue;
			if (protobuf_c_enum_descriptor_get_value(
			    &pbtest__color__descriptor,
			    n->ops[i]->paint) != NULL)
				good_enum++;
			else
				bad_enum++;
		}
		pbtest__node__free_unpacked(n, NULL);
		/* Restart now and then so short inputs get mutated too. */
		if (iter % 500 == 499)
			len = 0;
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (!seen[k])
			fprintf(stderr, "mutation '%s' never happened\n",
			    kinds[k]);
		CHECK(seen[k]);
	}
	fprintf(stderr, "   ops grew %u, shrank %u, op[0] changed %u; enums "
	    "valid %u, invalid %u\n", ops_grew, ops_shrank, op_changes,
	    good_enum, bad_enum);
	CHECK(ops_grew > 100 && ops_shrank > 50 && op_changes > 50);
	CHECK(bursts > 0 && burst_short == 0);
	/* Mostly valid enum values, some invalid ones. */
	CHECK(bad_enum > 0 && good_enum > 4 * bad_enum);
}

static void
test_text_roundtrip_mutated(void)
{
	static uint8_t buf[BUFSZ];
	ProtobufCMessage *m, *m2;
	uint8_t *p1, *p2;
	char *t1, *t2, err[200];
	size_t len = 0, l1, l2, tl1, tl2;
	unsigned iter;

	for (iter = 0; iter < 1000; iter++) {
		len = pbmutate_mutate(node_d, buf, len, 4096, 77 + iter, NULL);
		m = protobuf_c_message_unpack(node_d, NULL, len, buf);
		CHECK(m != NULL);
		CHECK(pbtext_format(m, &t1, &tl1) == 0);
		m2 = pbtext_parse(node_d, t1, tl1, err, sizeof(err));
		if (m2 == NULL) {
			fprintf(stderr, "iter %u: %s\n%s", iter, err, t1);
			CHECK(0);
		}
		p1 = pbmsg_pack(m, &l1);
		p2 = pbmsg_pack(m2, &l2);
		/* The mutator's output is canonical: it packs to itself. */
		CHECK(l1 == len && memcmp(p1, buf, len) == 0);
		CHECK(l1 == l2 && memcmp(p1, p2, l1) == 0);
		CHECK(pbtext_format(m2, &t2, &tl2) == 0);
		CHECK(tl1 == tl2 && strcmp(t1, t2) == 0);
		free(p1);
		free(p2);
		free(t1);
		free(t2);
		pbmsg_free(m);
		pbmsg_free(m2);
		if (iter % 250 == 249)
			len = 0;
	}
}

static void
test_garbage_inputs(void)
{
	static uint8_t buf[BUFSZ];
	uint64_t x = 42;
	size_t len, i;
	unsigned k;

	for (k = 0; k < 2000; k++) {
		len = (size_t)(k % 300);
		for (i = 0; i < len; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[i] = (uint8_t)(x >> 56);
		}
		len = pbmutate_mutate(node_d, buf, len, 1024, k, NULL);
		CHECK(len <= 1024);
		CHECK(decodes(node_d, buf, len));
	}
}

static void
test_proto2(void)
{
	const ProtobufCMessageDescriptor *d = &pbtest2__root2__descriptor;
	static uint8_t buf[BUFSZ];
	static uint8_t saved[BUFSZ];
	Pbtest2__Root2 *r;
	size_t len = 0, slen = 0, i;
	unsigned k, had = 0, defaults = 0;
	char *t, err[200];
	ProtobufCMessage *m;

	for (k = 0; k < 1500; k++) {
		len = pbmutate_mutate(d, buf, len, 2048, k, NULL);
		r = pbtest2__root2__unpack(NULL, len, buf);
		if (r == NULL) {
			fprintf(stderr, "iter %u: %zu bytes do not decode\n", k,
			    len);
			CHECK(0);
		}
		CHECK(r->head != NULL);
		for (i = 0; i < r->n_items; i++) {
			if (r->items[i]->has_x)
				had++;
			else if (r->items[i]->x == 42)
				defaults++;
		}
		CHECK(pbtext_format(&r->base, &t, &i) == 0);
		m = pbtext_parse(d, t, i, err, sizeof(err));
		CHECK(m != NULL);
		CHECK(protobuf_c_message_get_packed_size(m) == len);
		pbmsg_free(m);
		free(t);
		pbtest2__root2__free_unpacked(r, NULL);
		if (k == 700) {
			memcpy(saved, buf, len);
			slen = len;
		}
	}
	CHECK(had > 0 && defaults > 0);
	/* Crossover on proto2 keeps required parts too. */
	for (k = 0; k < 200; k++) {
		len = pbmutate_crossover(d, saved, slen, buf, len, buf + 4096,
		    4096, k, NULL);
		memmove(buf, buf + 4096, len);
		CHECK(decodes(d, buf, len));
	}
}

/* The in-place API, and the hook-free message helpers it rests on. */
static void
test_message_api(void)
{
	Pbtest__Node *n, *c;
	uint8_t *p1, *p2;
	size_t l1, l2;
	unsigned k;

	n = (Pbtest__Node *)pbmsg_new(node_d);
	CHECK(n != NULL);
	for (k = 0; k < 300; k++) {
		pbmutate_message(&n->base, 3, k, NULL);
		c = (Pbtest__Node *)pbmsg_clone(&n->base);
		CHECK(c != NULL);
		p1 = pbmsg_pack(&n->base, &l1);
		p2 = pbmsg_pack(&c->base, &l2);
		CHECK(l1 == l2 && memcmp(p1, p2, l1) == 0);
		free(p1);
		free(p2);
		pbmutate_cross_message(&c->base, &n->base, k, NULL);
		pbmutate_cross_message(&n->base, &c->base, k + 1, NULL);
		pbmsg_free(&c->base);
		if (n->n_ops > 40)
			pbmsg_remove(&n->base,
			    protobuf_c_message_descriptor_get_field_by_name(
			    node_d, "ops"), 0, n->n_ops - 40);
	}
	pbmsg_free(&n->base);
}

/* ---- domain hooks ---------------------------------------------------- */

static unsigned hk_inserted, hk_generated, hk_bytes;

/* Scalars.u32 takes its values from this table. */
static size_t
hk_values(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, uint64_t *vals, size_t nvals,
    void *arg)
{
	(void)arg;
	if (d != &pbtest__scalars__descriptor || strcmp(f->name, "u32") != 0 ||
	    nvals < 2)
		return (0);
	vals[0] = 4242;
	vals[1] = 777777;
	return (2);
}

/* Every op the mutator inserts gets a "note" op in front of it. */
static void
hk_inserted_fn(ProtobufCMessage *root, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t idx, uint64_t rnd, void *arg)
{
	Pbtest__Op *op;
	char *note;

	(void)rnd;
	(void)arg;
	CHECK(root->descriptor == node_d);
	if (m != root || strcmp(f->name, "ops") != 0)
		return;
	hk_inserted++;
	op = (Pbtest__Op *)pbmsg_new(&pbtest__op__descriptor);
	note = pbmsg_mem_strdup("dep");
	CHECK(op != NULL && note != NULL);
	pbmsg_set(&op->base, protobuf_c_message_descriptor_get_field_by_name(
	    &pbtest__op__descriptor, "note"), 0, &note);
	CHECK(pbmsg_insert(m, f, idx, &op) == 0);
}

static void
hk_generate(ProtobufCMessage *root, uint64_t rnd, void *arg)
{
	char *name = pbmsg_mem_strdup("generated");

	(void)rnd;
	(void)arg;
	hk_generated++;
	CHECK(name != NULL);
	pbmsg_set(root, protobuf_c_message_descriptor_get_field_by_name(
	    node_d, "name"), 0, &name);
}

static size_t
hk_bytes_fn(uint8_t *data, size_t size, size_t max_size)
{
	hk_bytes++;
	CHECK(size <= max_size);
	if (size > 0)
		data[0] ^= 0x5a;
	return (size);
}

static void
test_domain_hooks(void)
{
	static const struct pbmutate_hooks h = {
		.values = hk_values,
		.inserted = hk_inserted_fn,
		.generate = hk_generate,
		.mutate_bytes = hk_bytes_fn,
	};
	static uint8_t buf[BUFSZ];
	Pbtest__Node *n;
	unsigned iter, table = 0, u32s = 0, notes_before = 0, inserts = 0;
	size_t len, i;

	/* An empty input is generated, not mutated from nothing. */
	len = pbmutate_mutate(node_d, buf, 0, 4096, 1, &h);
	n = pbtest__node__unpack(NULL, len, buf);
	CHECK(n != NULL && hk_generated == 1);
	CHECK(n->name != NULL && strcmp(n->name, "generated") == 0);
	pbtest__node__free_unpacked(n, NULL);
	for (iter = 0; iter < 4000; iter++) {
		unsigned before = hk_inserted;

		len = pbmutate_mutate(node_d, buf, len, 4096, iter, &h);
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		if (n->scalars != NULL && n->scalars->u32 != 0) {
			u32s++;
			table += n->scalars->u32 == 4242 ||
			    n->scalars->u32 == 777777;
		}
		/* Each insert put its dependency right in front of it. */
		if (hk_inserted > before) {
			inserts++;
			for (i = 1; i < n->n_ops; i++)
				if (n->ops[i - 1]->op_case ==
				    PBTEST__OP__OP_NOTE &&
				    strcmp(n->ops[i - 1]->note, "dep") == 0) {
					notes_before++;
					break;
				}
		}
		pbtest__node__free_unpacked(n, NULL);
		if (iter % 400 == 399)
			len = 0;
	}
	fprintf(stderr, "   u32 from the table %u/%u, inserts %u (dependency "
	    "in front %u), generated %u, byte mutations %u\n", table, u32s,
	    inserts, notes_before, hk_generated, hk_bytes);
	/* The table is used about half of the time a u32 gets a value. */
	CHECK(u32s > 50 && table * 4 > u32s);
	CHECK(inserts > 50 && notes_before * 10 >= inserts * 9);
	/* Empty restarts, and about one call in a hundred, generate. */
	CHECK(hk_generated >= 10 + 1);
	CHECK(hk_bytes > 10);
	CHECK(pbmutate_get_stats()->generated >= hk_generated);
}

/*
 * An element inserted to add something is filled: the oneof member it
 * gets is a fresh message with every scalar set, not the minimal one (a
 * send of 0 bytes, a rate of 0 would do nothing); and so is the member a
 * switched oneof gets.
 */
static void
test_inserted_filled(void)
{
	static uint8_t buf[BUFSZ];
	unsigned iter, sends = 0, lens = 0;
	size_t len, i;
	Pbtest__Node *n;

	for (iter = 0; iter < 3000; iter++) {
		len = 0;
		len = pbmutate_mutate(node_d, buf, len, BUFSZ, iter, NULL);
		len = pbmutate_mutate(node_d, buf, len, BUFSZ, iter + 7777, NULL);
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		for (i = 0; i < n->n_ops; i++) {
			if (n->ops[i]->op_case != PBTEST__OP__OP_SEND)
				continue;
			sends++;
			lens += n->ops[i]->send->len != 0;
		}
		pbtest__node__free_unpacked(n, NULL);
	}
	fprintf(stderr, "   %u send ops, %u with a length\n", sends, lens);
	CHECK(sends > 100);
	CHECK(lens * 10 >= sends * 8);
}

/*
 * hooks->program: with Node.ops named the call list, a quarter of the
 * mutations go to it and half of those insert a call, so outputs with
 * more ops than their input are several times as common as when ops is
 * one repeated field among Node's others; a program of another type, or
 * a field number that is not a repeated message, changes nothing.
 */
static unsigned
program_grows(const uint8_t *in, size_t inlen, size_t nops,
    const struct pbmutate_hooks *h)
{
	static uint8_t buf[BUFSZ];
	unsigned iter, grew = 0;
	size_t len;
	Pbtest__Node *n;

	for (iter = 0; iter < 4000; iter++) {
		memcpy(buf, in, inlen);
		len = pbmutate_mutate(node_d, buf, inlen, BUFSZ, iter, h);
		n = pbtest__node__unpack(NULL, len, buf);
		CHECK(n != NULL);
		grew += n->n_ops > nops;
		pbtest__node__free_unpacked(n, NULL);
	}
	return (grew);
}

static void
test_program(void)
{
	static uint8_t in[BUFSZ];
	struct pbmutate_hooks prog, other, bad;
	unsigned seed, with, without, wrong, notrep;
	size_t len = 0, nops = 0;
	Pbtest__Node *n;

	/* A node with a few ops and other fields set. */
	for (seed = 1; nops < 3 || nops > 8; seed++) {
		CHECK(seed < 1000);
		len = pbmutate_mutate(node_d, in, len, BUFSZ, seed, NULL);
		n = pbtest__node__unpack(NULL, len, in);
		CHECK(n != NULL);
		nops = n->n_ops;
		pbtest__node__free_unpacked(n, NULL);
	}
	memset(&prog, 0, sizeof(prog));
	prog.program_type = node_d;
	prog.program = 4;			/* Node.ops */
	other = prog;
	other.program_type = &pbtest__tree__descriptor;
	bad = prog;
	bad.program = 1;			/* Node.name: no list */
	with = program_grows(in, len, nops, &prog);
	without = program_grows(in, len, nops, NULL);
	wrong = program_grows(in, len, nops, &other);
	notrep = program_grows(in, len, nops, &bad);
	fprintf(stderr, "   %zu ops: more ops in %u of 4000 outputs with the "
	    "program hook, %u without (%u, %u with a wrong type, field)\n",
	    nops, with, without, wrong, notrep);
	CHECK(with >= 4000 / 8);
	CHECK(with >= 3 * without);
	CHECK(wrong == without);
	CHECK(notrep == without);
}

/*
 * The mutator's caches (the last packed message, taken back when the next
 * call gets its bytes; decoded crossover partners) are caches: a run that
 * feeds every output back in gives the same outputs as one that drops
 * them before every call, and they are used.
 */
static void
chain_run(const ProtobufCMessageDescriptor *d, bool forget, uint32_t *h,
    unsigned n)
{
	static uint8_t buf[BUFSZ], other[BUFSZ];
	size_t len = 0, olen = 0;
	unsigned k;

	pbmutate_forget();
	for (k = 0; k < n; k++) {
		if (forget)
			pbmutate_forget();
		if (k % 3 == 2 && olen > 0)
			len = pbmutate_crossover(d, buf, len, other, olen, buf,
			    2048, k, NULL);
		else
			len = pbmutate_mutate(d, buf, len, 2048, k, NULL);
		if (k % 7 == 0) {
			memcpy(other, buf, len);
			olen = len;
		}
		h[k] = hash(buf, len) ^ (uint32_t)len;
	}
}

static void
test_chain_is_a_cache(void)
{
	const ProtobufCMessageDescriptor *ds[2] = { node_d,
	    &pbtest2__root2__descriptor };
	static uint32_t ha[2000], hb[2000];
	const struct pbmutate_stats *st = pbmutate_get_stats();
	uint64_t before, pbefore, kept, dropped, pkept, pdropped;
	unsigned i, k;

	for (i = 0; i < 2; i++) {
		before = st->reused;
		pbefore = st->partner_hits;
		chain_run(ds[i], false, ha, 2000);
		kept = st->reused - before;
		pkept = st->partner_hits - pbefore;
		before = st->reused;
		pbefore = st->partner_hits;
		/* Still taken within a call: a retry of an unchanged input. */
		chain_run(ds[i], true, hb, 2000);
		dropped = st->reused - before;
		pdropped = st->partner_hits - pbefore;
		fprintf(stderr, "   %s: %ju inputs from the chain and %ju "
		    "partners from the cache; %ju and %ju when dropped before "
		    "each call\n", ds[i]->short_name, (uintmax_t)kept,
		    (uintmax_t)pkept, (uintmax_t)dropped, (uintmax_t)pdropped);
		CHECK(kept > dropped + 1000);
		CHECK(pkept > 300 && pdropped == 0);
		for (k = 0; k < 2000; k++)
			if (ha[k] != hb[k]) {
				fprintf(stderr, "%s: step %u differs\n",
				    ds[i]->short_name, k);
				CHECK(0);
			}
	}
}

/*
 * pb_follow: the newest followed input comes back on about half the
 * calls, 256 times, then the one before it; one too big for the buffer
 * is dropped, never cut; past 16 the oldest goes.
 */
static void
test_follow(void)
{
	static const uint8_t a[3] = { 1, 2, 3 }, b[2] = { 9, 8 };
	uint8_t buf[32];
	static const uint8_t big[17] = { 0 };
	unsigned seed, got_a = 0, got_b = 0, none = 0, got;
	size_t n, k;

	CHECK_EQ(pb_follow_take(buf, sizeof(buf), 1), 0);
	pb_follow(a, sizeof(a));
	pb_follow(b, sizeof(b));
	for (seed = 0; seed < 4000 && got_a == 0; seed++) {
		n = pb_follow_take(buf, sizeof(buf), seed);
		if (n == 0) {
			none++;
			continue;
		}
		if (n == sizeof(b)) {
			CHECK(memcmp(buf, b, n) == 0);
			got_b++;
		} else {
			CHECK_EQ(n, sizeof(a));
			CHECK(memcmp(buf, a, n) == 0);
			got_a++;
		}
	}
	CHECK_EQ(got_b, 256);
	CHECK_EQ(got_a, 1);
	fprintf(stderr, "   %u calls left to the engine's input, %u taken\n",
	    none, got_a + got_b);
	CHECK(none > 180 && none < 340);
	/* Drain a; then one bigger than the caller's buffer goes unused. */
	for (; seed < 100000; seed++)
		(void)pb_follow_take(buf, sizeof(buf), seed);
	CHECK_EQ(pb_follow_take(buf, sizeof(buf), 1), 0);
	pb_follow(a, sizeof(a));
	for (seed = 0, n = 0; seed < 64 && n == 0; seed++)
		n = pb_follow_take(buf, 2, seed);
	CHECK_EQ(n, 0);
	for (seed = 0; seed < 64; seed++)
		CHECK_EQ(pb_follow_take(buf, sizeof(buf), seed), 0);
	/* 17 followed: the 16 newest come back, newest first. */
	for (k = 1; k <= 17; k++)
		pb_follow(big, k);
	for (seed = 0, k = 17, got = 0; seed < 100000; seed++) {
		if ((n = pb_follow_take(buf, sizeof(buf), seed)) == 0)
			continue;
		if (n != k) {
			CHECK_EQ(got, 256);
			CHECK_EQ(n, k - 1);
			k--;
			got = 0;
		}
		got++;
	}
	CHECK_EQ(k, 2);
	CHECK_EQ(got, 256);
}

/*
 * pbmutate_hash is FNV-1a 64: the values tools/mutstats.c (and its test,
 * tools/tests/mutstats_check.sh) compute for the same bytes.
 */
static void
test_hash(void)
{
	CHECK(pbmutate_hash(NULL, 0) == UINT64_C(0xcbf29ce484222325));
	CHECK(pbmutate_hash((const uint8_t *)"aaa", 3) ==
	    UINT64_C(0xe71cbc19053f4da2));
}

/*
 * pb_cov_novel: new once per counter, never again whatever its count.
 * The counters are this binary's own (when it is built with
 * SanitizerCoverage) and test_extra, in the section a target's own
 * features live in (fuzz_scenario's state map): outside libFuzzer
 * nobody clears them, so a counter the test has never run is poked by
 * hand.
 */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak));
static uint8_t test_extra[64]
    __attribute__((used, aligned(64), section("__libfuzzer_extra_counters")));

static void
test_cov_novel(void)
{
	uint8_t *c = __start___sancov_cntrs;
	size_t n, k;
	unsigned i, pass, spurious = 0;

	if (c == NULL || __stop___sancov_cntrs <= c) {
		fprintf(stderr, "   no SanitizerCoverage counters here\n");
		CHECK(!pb_cov_novel());
		test_extra[5] = 1;
		CHECK(pb_cov_novel());
		CHECK(!pb_cov_novel());
		test_extra[5] = 0;
		return;
	}
	n = (size_t)(__stop___sancov_cntrs - c);
	CHECK(pb_cov_novel());
	/* The second pass runs only edges the first one ran. */
	for (pass = 0; pass < 2; pass++) {
		spurious = 0;
		for (i = 0; i < 20; i++)
			spurious += pb_cov_novel();
	}
	CHECK_EQ(spurious, 0);
	/* A counter still 0 was 0 at every scan: never seen. */
	for (k = n; k > 0 && c[k - 1] != 0; k--)
		;
	CHECK(k > 0);
	k--;
	c[k] = 1;
	CHECK(pb_cov_novel());
	CHECK(!pb_cov_novel());
	c[k] = 200;			/* another count: not new */
	CHECK(!pb_cov_novel());
	c[k] = 0;
	CHECK(!pb_cov_novel());
	/* The same for a target's own features, in the other section. */
	test_extra[5] = 1;
	CHECK(pb_cov_novel());
	CHECK(!pb_cov_novel());
	test_extra[5] = 200;
	CHECK(!pb_cov_novel());
	test_extra[5] = 0;
	test_extra[63] = 1;
	CHECK(pb_cov_novel());
	test_extra[63] = 0;
	CHECK(!pb_cov_novel());
	fprintf(stderr, "   %zu counters, counter %zu poked; extra counters "
	    "5 and 63 poked\n", n, k);
}

int
main(void)
{

	RUN(test_outputs_decode_and_fit);
	RUN(test_shrinks_oversized_input);
	RUN(test_deterministic);
	RUN(test_crossover);
	RUN(test_repair_hook);
	RUN(test_limits_respected);
	RUN(test_mutation_kinds);
	RUN(test_text_roundtrip_mutated);
	RUN(test_garbage_inputs);
	RUN(test_proto2);
	RUN(test_message_api);
	RUN(test_domain_hooks);
	RUN(test_inserted_filled);
	RUN(test_program);
	RUN(test_chain_is_a_cache);
	RUN(test_follow);
	RUN(test_hash);
	RUN(test_cov_novel);
	fprintf(stderr, "test_pbmutate: all passed\n");
	return (0);
}
