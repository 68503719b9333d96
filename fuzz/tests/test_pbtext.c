/*
 * pbtext: exact round trips (text -> message -> text, and packed bytes),
 * every scalar kind at its limits, float bit patterns, all byte values,
 * proto2 presence and defaults, the accepted syntax variants, a table of
 * malformed inputs with their line:column errors, depth and size limits,
 * and a bounded loop of random and corrupted inputs.
 *
 * usage: test_pbtext <pbtest_seed.txt>
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbcheck.h"
#include "pbmsg.h"
#include "pbtest.pb-c.h"
#include "pbtest2.pb-c.h"
#include "pbtext.h"

static const char *seed_path;

static uint64_t rs = 0x1234567;

static uint64_t
rnd(void)
{
	uint64_t z = (rs += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	CHECK(fp != NULL);
	CHECK(fseek(fp, 0, SEEK_END) == 0);
	n = ftell(fp);
	CHECK(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	CHECK(buf != NULL);
	CHECK(fread(buf, 1, (size_t)n, fp) == (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return (buf);
}

static bool
pack_eq(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	uint8_t *pa, *pb;
	size_t la, lb;
	bool eq;

	pa = pbmsg_pack(a, &la);
	pb = pbmsg_pack(b, &lb);
	CHECK(pa != NULL && pb != NULL);
	eq = la == lb && memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return (eq);
}

static ProtobufCMessage *
parse_ok(const ProtobufCMessageDescriptor *d, const char *text)
{
	ProtobufCMessage *m;
	char err[200];

	m = pbtext_parse(d, text, strlen(text), err, sizeof(err));
	if (m == NULL)
		fprintf(stderr, "unexpected parse error: %s\nin:\n%s\n", err,
		    text);
	CHECK(m != NULL);
	return (m);
}

/*
 * The round-trip contract: print(m) parses, the result packs like m and
 * prints the same text.  Returns the text (caller frees).
 */
static char *
roundtrip(const ProtobufCMessage *m)
{
	ProtobufCMessage *m2;
	char *t1, *t2;
	size_t l1, l2;

	CHECK(pbtext_format(m, &t1, &l1) == 0);
	CHECK(strlen(t1) == l1);
	m2 = parse_ok(m->descriptor, t1);
	if (!pack_eq(m, m2)) {
		fprintf(stderr, "packed bytes differ after parse of:\n%s\n", t1);
		CHECK(0);
	}
	CHECK(pbtext_format(m2, &t2, &l2) == 0);
	if (l1 != l2 || strcmp(t1, t2) != 0) {
		fprintf(stderr, "text differs:\n%s\n--- vs ---\n%s\n", t1, t2);
		CHECK(0);
	}
	free(t2);
	pbmsg_free(m2);
	return (t1);
}

static void
test_seed_roundtrip(void)
{
	Pbtest__Node *n;
	char *text, *out;
	size_t len;

	text = read_file(seed_path, &len);
	n = (Pbtest__Node *)parse_ok(&pbtest__node__descriptor, text);
	CHECK(strcmp(n->name, "eth0") == 0);
	CHECK(n->scalars != NULL);
	CHECK_EQ(n->scalars->i32, -5);
	CHECK_EQ(n->scalars->i64, -9000000000LL);
	CHECK(n->scalars->u32 == UINT32_MAX);
	CHECK(n->scalars->u64 == UINT64_MAX);
	CHECK(n->scalars->s32 == INT32_MIN);
	CHECK(n->scalars->s64 == INT64_MIN);
	CHECK_EQ(n->scalars->f32, 1500);
	CHECK_EQ(n->scalars->sf32, -1);
	CHECK(n->scalars->b);
	CHECK_EQ(n->scalars->color, PBTEST__COLOR__BLUE);
	CHECK(strcmp(n->scalars->str,
	    "tab\there \"quoted\" back\\slash \xc3\xa9") == 0);
	CHECK_EQ(n->scalars->data.len, 3);
	CHECK(memcmp(n->scalars->data.data, "\x00\x01\xff", 3) == 0);
	CHECK(n->scalars->fl == 0.1f);
	CHECK(n->scalars->db == -2.5e-300);
	CHECK_EQ(n->repeats->n_ri32, 2);
	CHECK_EQ(n->repeats->ri32[1], -1);
	CHECK_EQ(n->repeats->n_rc, 2);
	CHECK_EQ(n->repeats->rc[1], 99);
	CHECK_EQ(n->repeats->n_rstr, 2);
	CHECK(strcmp(n->repeats->rstr[1], "") == 0);
	CHECK(isinf(n->repeats->rdb[0]) && signbit(n->repeats->rdb[1]));
	CHECK(isnan(n->repeats->rfl[0]));
	CHECK_EQ(n->n_ops, 5);
	CHECK_EQ(n->ops[0]->op_case, PBTEST__OP__OP_OPEN);
	CHECK_EQ(n->ops[0]->thread, 1);
	CHECK(n->ops[0]->open->v6);
	CHECK_EQ(n->ops[1]->send->len, 9000);
	CHECK_EQ(n->ops[2]->op_case, PBTEST__OP__OP_CLOSE);
	CHECK(n->ops[2]->close != NULL);
	CHECK_EQ(n->ops[3]->op_case, PBTEST__OP__OP_WAIT);
	CHECK_EQ(n->ops[4]->paint, PBTEST__COLOR__NEGATIVE);
	CHECK_EQ(n->tree->n_kids, 2);
	CHECK_EQ(n->tree->kids[0]->n_kids, 1);
	CHECK_EQ(n->mode_case, PBTEST__NODE__MODE_TAG);
	/* The seed is written in canonical form: printing reproduces it. */
	out = roundtrip(&n->base);
	if (strcmp(out, text) != 0) {
		fprintf(stderr, "canonical form differs:\n%s\n", out);
		CHECK(0);
	}
	free(out);
	free(text);
	pbmsg_free(&n->base);
}

static void
test_scalar_limits(void)
{
	Pbtest__Scalars s = PBTEST__SCALARS__INIT;
	char *t;
	int i;

	for (i = 0; i < 3; i++) {
		s.i32 = i == 0 ? INT32_MIN : i == 1 ? INT32_MAX : -1;
		s.i64 = i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : -1;
		s.u32 = i == 0 ? 1 : i == 1 ? UINT32_MAX : 0x80000000u;
		s.u64 = i == 0 ? 1 : i == 1 ? UINT64_MAX : UINT64_C(1) << 63;
		s.s32 = s.i32;
		s.s64 = s.i64;
		s.f32 = s.u32;
		s.f64 = s.u64;
		s.sf32 = s.i32;
		s.sf64 = s.i64;
		s.b = i & 1;
		s.color = i == 0 ? -2147483647 - 1 : i == 1 ? 12345 :
		    PBTEST__COLOR__NEGATIVE;
		t = roundtrip(&s.base);
		free(t);
	}
}

static void
test_float_bits(void)
{
	static const uint32_t fbits[] = {
		0x00000000, 0x80000000, 0x3dcccccd, 0x7f800000, 0xff800000,
		0x7fc00000, 0xffc00000, 0x7f800001, 0xffbfffff, 0x00000001,
		0x7f7fffff, 0x80800000, 0x4b800000,
	};
	static const uint64_t dbits[] = {
		0, UINT64_C(0x8000000000000000), UINT64_C(0x3fb999999999999a),
		UINT64_C(0x7ff0000000000000), UINT64_C(0x7ff8000000000000),
		UINT64_C(0xfff8000000000000), UINT64_C(0x7ff0000000000001),
		UINT64_C(0xfff4000000000abc), 1, UINT64_C(0x7fefffffffffffff),
		UINT64_C(0x0010000000000000), UINT64_C(0x4340000000000001),
	};
	Pbtest__Repeats r = PBTEST__REPEATS__INIT;
	Pbtest__Repeats *back;
	float fv[sizeof(fbits) / sizeof(fbits[0])];
	double dv[sizeof(dbits) / sizeof(dbits[0])];
	uint32_t b32;
	uint64_t b64;
	size_t i;
	char *t;

	for (i = 0; i < sizeof(fbits) / sizeof(fbits[0]); i++)
		memcpy(&fv[i], &fbits[i], sizeof(float));
	for (i = 0; i < sizeof(dbits) / sizeof(dbits[0]); i++)
		memcpy(&dv[i], &dbits[i], sizeof(double));
	r.n_rfl = sizeof(fv) / sizeof(fv[0]);
	r.rfl = fv;
	r.n_rdb = sizeof(dv) / sizeof(dv[0]);
	r.rdb = dv;
	t = roundtrip(&r.base);
	back = (Pbtest__Repeats *)parse_ok(&pbtest__repeats__descriptor, t);
	CHECK(back->n_rfl == r.n_rfl && back->n_rdb == r.n_rdb);
	for (i = 0; i < r.n_rfl; i++) {
		memcpy(&b32, &back->rfl[i], sizeof(b32));
		CHECK(b32 == fbits[i]);
	}
	for (i = 0; i < r.n_rdb; i++) {
		memcpy(&b64, &back->rdb[i], sizeof(b64));
		CHECK(b64 == dbits[i]);
	}
	/* Readable where it can be: 0.1f prints as 0.1. */
	CHECK(strstr(t, "rfl: 0.1\n") != NULL);
	CHECK(strstr(t, "rfl: -0\n") != NULL);
	CHECK(strstr(t, "rfl: -inf\n") != NULL);
	CHECK(strstr(t, "rfl: nan(0x7f800001)\n") != NULL);
	CHECK(strstr(t, "rdb: -nan\n") != NULL);
	pbmsg_free(&back->base);
	free(t);
}

static void
test_all_bytes(void)
{
	Pbtest__Repeats r = PBTEST__REPEATS__INIT;
	ProtobufCBinaryData bd[2];
	uint8_t all[256];
	char str[256], *strs[3], *t;
	int i;

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (i = 1; i < 256; i++)
		str[i - 1] = (char)i;
	str[255] = '\0';
	bd[0].len = sizeof(all);
	bd[0].data = all;
	bd[1].len = 5;
	bd[1].data = (uint8_t *)"a\"b\\c";
	strs[0] = str;
	strs[1] = "";
	strs[2] = "x\x01y";
	r.n_rdata = 2;
	r.rdata = bd;
	r.n_rstr = 3;
	r.rstr = strs;
	t = roundtrip(&r.base);
	/* Bytes that are all printable stay readable. */
	CHECK(strstr(t, "rdata: \"a\\\"b\\\\c\"\n") != NULL);
	CHECK(strstr(t, "rstr: \"x\\x01y\"\n") != NULL);
	free(t);
}

static void
test_proto2(void)
{
	Pbtest2__Root2 *r;
	Pbtest2__Item *it;
	char *t;

	r = (Pbtest2__Root2 *)pbmsg_new_minimal(&pbtest2__root2__descriptor);
	CHECK(r != NULL && r->head != NULL);
	CHECK(r->head->s == pbtest2__inner__s__default_value);
	t = roundtrip(&r->base);
	/* Defaults stay unprinted; required fields always print. */
	if (strcmp(t, "title: \"\"\nkind: K_A\nhead {\n  id: 0\n}\n") != 0) {
		fprintf(stderr, "got:\n%s", t);
		CHECK(0);
	}
	free(t);
	pbmsg_free(&r->base);

	r = (Pbtest2__Root2 *)parse_ok(&pbtest2__root2__descriptor,
	    "title: \"t\" kind: K_C head { id: 3 s: \"dflt\" b: \"\\x01\\x02\" }"
	    "items { x: 42 flag: false inner { id: 1 } }"
	    "items { big: 0 w: \"\" blob: \"\" note: \"\" }"
	    "items { z: -7 kind: K_B }"
	    "ratio: 0.5 sf: -9");
	/* Set explicitly to the default value: present, and packed. */
	CHECK(r->head->s != pbtest2__inner__s__default_value);
	CHECK(r->has_ratio && r->ratio == 0.5);
	it = r->items[0];
	CHECK(it->has_x && it->x == 42 && it->has_flag && !it->flag);
	CHECK(it->pick_case == PBTEST2__ITEM__PICK_INNER);
	CHECK(r->items[1]->has_big && r->items[1]->has_blob);
	CHECK(r->items[1]->blob.len == 0);
	CHECK(r->items[1]->pick_case == PBTEST2__ITEM__PICK_W);
	CHECK(!r->items[2]->has_x && r->items[2]->x == 42);
	t = roundtrip(&r->base);
	CHECK(strstr(t, "  x: 42\n") != NULL);
	CHECK(strstr(t, "  note: \"\"\n") != NULL);
	free(t);
	pbmsg_free(&r->base);
}

static void
test_syntax_variants(void)
{
	static const char *in =
	    "# leading comment\n"
	    "name: 'x\"y' ;\n"
	    "ops <wait: 1>, ops: { note: \"a\" 'b' \"\\n\" }  # trailing\n"
	    "repeats { ri32: [1, -2, 0x10] rstr: [] rb: [t, False, 1] "
	    "rc: [RED, -3, 7] rdb: [1e3, -Infinity, .5, 2.5f] }\n"
	    "scalars { s64: -0x10 u64: 0x0 data: '' fl: 1.25 }\n"
	    "level: 0\n"
	    "more [{ i32: 1 }, { }]\n";
	static const char *want =
	    "name: \"x\\\"y\"\n"
	    "scalars {\n  s64: -16\n  fl: 1.25\n}\n"
	    "repeats {\n  ri32: 1\n  ri32: -2\n  ri32: 16\n"
	    "  rb: true\n  rb: false\n  rb: true\n"
	    "  rc: RED\n  rc: NEGATIVE\n  rc: BLUE\n"
	    "  rdb: 1000\n  rdb: -inf\n  rdb: 0.5\n  rdb: 2.5\n}\n"
	    "ops {\n  wait: 1\n}\n"
	    "ops {\n  note: \"ab\\n\"\n}\n"
	    "level: 0\n"
	    "more {\n  i32: 1\n}\n"
	    "more {}\n";
	ProtobufCMessage *m;
	char *t;
	size_t len;

	m = parse_ok(&pbtest__node__descriptor, in);
	CHECK(pbtext_format(m, &t, &len) == 0);
	if (strcmp(t, want) != 0) {
		fprintf(stderr, "got:\n%s---\nwant:\n%s", t, want);
		CHECK(0);
	}
	free(t);
	t = roundtrip(m);
	free(t);
	pbmsg_free(m);

	/* Empty input and whitespace-only input are the empty message. */
	m = parse_ok(&pbtest__node__descriptor, "");
	CHECK(protobuf_c_message_get_packed_size(m) == 0);
	pbmsg_free(m);
	m = parse_ok(&pbtest__node__descriptor, " \n\t# nothing\n");
	CHECK(protobuf_c_message_get_packed_size(m) == 0);
	pbmsg_free(m);
}

static const struct bad {
	const char	*text;
	const char	*where;		/* "line:col: " */
	const char	*what;
} bad_inputs[] = {
	{ "nme: 1", "1:1: ", "unknown field 'nme' in pbtest.Node" },
	{ "name 1", "1:6: ", "expected ':' after 'name'" },
	{ "name: 1", "1:7: ", "expected a quoted string" },
	{ "scalars { i32: 2147483648 }", "1:16: ",
	    "2147483648 out of range for int32 field 'i32'" },
	{ "scalars { i32: -2147483649 }", "1:16: ", "out of range" },
	{ "scalars {\n  u32: -1\n}", "2:8: ",
	    "-1 out of range for uint32 field 'u32'" },
	{ "scalars { u64: 18446744073709551616 }", "1:16: ",
	    "invalid integer" },
	{ "scalars { sf64: 9223372036854775808 }", "1:17: ", "out of range" },
	{ "scalars { u64: 0x }", "1:16: ", "invalid integer" },
	{ "scalars { i32: 1e3 }", "1:16: ", "invalid integer" },
	{ "scalars { color: PURPLE }", "1:18: ",
	    "unknown value 'PURPLE' of enum pbtest.Color" },
	{ "scalars { color: 2147483648 }", "1:18: ", "out of range" },
	{ "scalars { b: yes }", "1:14: ", "invalid bool 'yes'" },
	{ "scalars { fl: 1.2.3 }", "1:15: ", "invalid float" },
	{ "scalars { db: e5 }", "1:15: ", "invalid double" },
	{ "scalars { db: nan(0x1) }", "1:15: ", "not a NaN" },
	{ "scalars { fl: nan(0x7ff8000000000000) }", "1:15: ",
	    "too wide for float" },
	{ "scalars { db: nan(12) }", "1:15: ", "invalid nan(0x...)" },
	{ "scalars { i32: }", "1:16: ", "expected a value for field 'i32'" },
	{ "scalars { i32: \"1\" }", "1:16: ", "unexpected string" },
	{ "name: \"abc", "1:7: ", "unterminated string" },
	{ "name: 'x\"", "1:7: ", "unterminated string" },
	{ "name: \"a\nb\"", "1:9: ", "newline in string" },
	{ "name: \"\\q\"", "1:8: ", "unknown escape '\\q'" },
	{ "name: \"\\x\"", "1:8: ", "\\x without hex digits" },
	{ "name: \"\\400\"", "1:8: ", "octal escape out of range" },
	{ "name: \"a\\0b\"", "1:7: ", "NUL in string field 'name'" },
	{ "name: \"\\", "1:7: ", "unterminated string" },
	{ "name: \"a\" name: \"b\"", "1:11: ", "field 'name' given twice" },
	{ "level: 1 tag: \"x\"", "1:10: ",
	    "field 'level' and 'tag' are in the same oneof" },
	{ "ops { open { sock: 1 } close { } }", "1:24: ",
	    "field 'open' and 'close' are in the same oneof" },
	{ "scalars { i32: 1", "1:17: ", "missing '}' at end of input" },
	{ "scalars < i32: 1 }", "1:18: ", "unexpected '}', expected '>'" },
	{ "}", "1:1: ", "unexpected '}' at top level" },
	{ "name: \"\" >", "1:10: ", "unexpected '>' at top level" },
	{ "\x01", "1:1: ", "expected a field name, got '?'" },
	{ "scalars: 5", "1:10: ", "expected '{' for message field 'scalars'" },
	{ "name: [\"a\"]", "1:7: ", "list for non-repeated field 'name'" },
	{ "repeats { ri32: [1 2] }", "1:20: ", "expected ',' or ']' in list" },
	{ "repeats { ri32: [1, ] }", "1:21: ", "expected a value" },
	{ "repeats { ri32: [1", "1:19: ", "expected ',' or ']' in list" },
	{ "\n\n  tree { kids { kids { lable: \"x\" } } }", "3:24: ",
	    "unknown field 'lable' in pbtest.Tree" },
	{ "name: \"x\" \"y", "1:11: ", "unterminated string" },
	{ "ops { thread: 1 thread: 2 }", "1:17: ", "given twice" },
};

static void
test_bad_inputs(void)
{
	ProtobufCMessage *m;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad *b = &bad_inputs[i];

		memset(err, 'Z', sizeof(err));
		m = pbtext_parse(&pbtest__node__descriptor, b->text,
		    strlen(b->text), err, sizeof(err));
		if (m != NULL || strncmp(err, b->where, strlen(b->where)) != 0 ||
		    strstr(err, b->what) == NULL || strchr(err, '\n') != NULL) {
			fprintf(stderr, "bad input %zu: got %s, error '%s'; "
			    "want '%s%s'\n", i, m != NULL ? "a message" : "NULL",
			    m != NULL ? "" : err, b->where, b->what);
			CHECK(0);
		}
	}
	/*
	 * Long number tokens: parsed up to 398 digits (the buffer's edge,
	 * where a fuzzer once found an overflow), refused beyond.
	 */
	{
		static const size_t digits[] = { 398, 399, 600 };
		char text[700];
		float fv;

		for (i = 0; i < 3; i++) {
			size_t nd = digits[i], o;

			o = (size_t)sprintf(text, "scalars { fl: ");
			memset(text + o, '1', nd);
			o += nd;
			strcpy(text + o, " }");
			m = pbtext_parse(&pbtest__node__descriptor, text,
			    strlen(text), err, sizeof(err));
			if (i == 0) {
				CHECK(m != NULL);
				fv = ((Pbtest__Node *)m)->scalars->fl;
				CHECK(fv > 0 && isinf(fv));
				pbmsg_free(m);
			} else {
				CHECK(m == NULL);
				CHECK(strstr(err, "1:15: invalid float") == err);
			}
		}
	}
	/* A NULL or zero-size error buffer is fine. */
	CHECK(pbtext_parse(&pbtest__node__descriptor, "x", 1, NULL, 0) == NULL);
	CHECK(pbtext_parse(&pbtest__node__descriptor, "x", 1, err, 0) == NULL);
	/* Tiny buffers get a truncated, terminated message. */
	CHECK(pbtext_parse(&pbtest__node__descriptor, "x", 1, err, 4) == NULL);
	CHECK(strcmp(err, "1:1") == 0);
	/* The length bounds the text: a NUL or junk after it is unseen. */
	m = pbtext_parse(&pbtest__node__descriptor, "name: \"a\"\0junk", 9,
	    err, sizeof(err));
	CHECK(m != NULL);
	pbmsg_free(m);
	CHECK(pbtext_parse(&pbtest__node__descriptor, "name: \"a\"\0junk", 14,
	    err, sizeof(err)) == NULL);
	CHECK(strncmp(err, "1:10: ", 6) == 0);
}

static void
test_limits(void)
{
	char *text, *t, err[200];
	ProtobufCMessage *m;
	Pbtest__Tree *tr;
	size_t len, i;
	int depth, rv;

	/* PBTEXT_MAX_DEPTH levels of nesting parse; one more does not. */
	for (depth = PBTEXT_MAX_DEPTH; depth <= PBTEXT_MAX_DEPTH + 1;
	    depth++) {
		text = malloc((size_t)depth * 8 + 16);
		CHECK(text != NULL);
		len = 0;
		len += (size_t)sprintf(text + len, "tree ");
		for (i = 1; i < (size_t)depth; i++)
			len += (size_t)sprintf(text + len, "{ kids ");
		len += (size_t)sprintf(text + len, "{ ");
		for (i = 0; i < (size_t)depth; i++)
			text[len++] = '}';
		m = pbtext_parse(&pbtest__node__descriptor, text, len, err,
		    sizeof(err));
		if (depth == PBTEXT_MAX_DEPTH) {
			CHECK(m != NULL);
			t = roundtrip(m);
			free(t);
			pbmsg_free(m);
		} else {
			CHECK(m == NULL);
			CHECK(strstr(err, "nesting deeper than") != NULL);
		}
		free(text);
	}
	/* Printing deeper than that notes the omission and says so. */
	tr = (Pbtest__Tree *)pbmsg_new(&pbtest__tree__descriptor);
	{
		Pbtest__Tree *cur = tr, *kid;

		for (i = 0; i < PBTEXT_MAX_DEPTH + 3; i++) {
			kid = (Pbtest__Tree *)pbmsg_new(&pbtest__tree__descriptor);
			CHECK(pbmsg_insert(&cur->base,
			    &pbtest__tree__descriptor.fields[1], 0, &kid) == 0);
			cur = kid;
		}
	}
	rv = pbtext_format(&tr->base, &t, &len);
	CHECK(rv == 1);
	CHECK(strstr(t, "nested deeper than") != NULL);
	m = parse_ok(&pbtest__tree__descriptor, t);
	pbmsg_free(m);
	free(t);
	pbmsg_free(&tr->base);

	/* Text over PBTEXT_MAX_INPUT is refused up front. */
	len = (size_t)PBTEXT_MAX_INPUT + 1;
	text = malloc(len);
	CHECK(text != NULL);
	memset(text, ' ', len);
	CHECK(pbtext_parse(&pbtest__node__descriptor, text, len, err,
	    sizeof(err)) == NULL);
	CHECK(strncmp(err, "1:1: input too large", 20) == 0);
	/* Just under it, whitespace is fine. */
	m = pbtext_parse(&pbtest__node__descriptor, text, len - 1, err,
	    sizeof(err));
	CHECK(m != NULL);
	pbmsg_free(m);
	/* A message bigger than PBTEXT_MAX_ALLOC is refused. */
	memset(text, ' ', len);
	for (i = 0; i + 9 < len - 1; i += 9)
		memcpy(text + i, "more { }\n", 9);
	CHECK(pbtext_parse(&pbtest__node__descriptor, text, i, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "input too large: message exceeds") != NULL);
	free(text);
}

static void
test_unknown_fields(void)
{
	Pbtest__Node n = PBTEST__NODE__INIT;
	ProtobufCMessage *m;
	uint8_t buf[64];
	size_t len;
	char *t;

	n.name = "u";
	len = pbtest__node__pack(&n, buf);
	/* field 100, varint 5 */
	buf[len++] = 0xa0;
	buf[len++] = 0x06;
	buf[len++] = 0x05;
	m = protobuf_c_message_unpack(&pbtest__node__descriptor, NULL, len,
	    buf);
	CHECK(m != NULL && m->n_unknown_fields == 1);
	CHECK(pbtext_format(m, &t, &len) == 1);
	CHECK(strstr(t, "# unknown field 100 (wire type 0") != NULL);
	free(t);
	pbmsg_strip_unknown(m);
	CHECK(m->n_unknown_fields == 0);
	free(roundtrip(m));
	pbmsg_free(m);
}

static void
test_oneof_edge(void)
{
	Pbtest__Node n = PBTEST__NODE__INIT;
	Pbtest__Node *back;
	char *t;

	/* Selected message member with no message: packs nothing. */
	n.mode_case = PBTEST__NODE__MODE_EXTRA;
	n.extra = NULL;
	t = roundtrip(&n.base);
	CHECK(strcmp(t, "") == 0);
	free(t);
	/* Selected scalar member with value 0: packs, prints. */
	n.mode_case = PBTEST__NODE__MODE_LEVEL;
	n.level = 0;
	t = roundtrip(&n.base);
	CHECK(strcmp(t, "level: 0\n") == 0);
	back = (Pbtest__Node *)parse_ok(&pbtest__node__descriptor, t);
	CHECK(back->mode_case == PBTEST__NODE__MODE_LEVEL);
	pbmsg_free(&back->base);
	free(t);
}

/* Random text biased towards the grammar's characters. */
static size_t
random_text(char *buf, size_t max)
{
	static const char *const toks[] = {
		"name", "scalars", "repeats", "ops", "tree", "kids", "label",
		"i32", "u64", "fl", "db", "color", "RED", "BLUE", "str", "data",
		"rb", "ri32", "rdb", "open", "send", "wait", "note", "level",
		"tag", "extra", "more", "true", "nan", "inf", "-", "0x", "{",
		"}", "<", ">", "[", "]", ":", ",", ";", "\"", "'", "\\", "\\x",
		"#", "\n", " ", "1", "9", "0", ".", "e", "f", "(", ")",
		"2147483648", "\\377", "\x80",
	};
	size_t len = 0, n, want;
	const char *t;

	want = (size_t)(rnd() % max);
	while (len < want) {
		if (rnd() % 8 == 0) {
			buf[len++] = (char)(rnd() & 0xff);
			continue;
		}
		t = toks[rnd() % (sizeof(toks) / sizeof(toks[0]))];
		n = strlen(t);
		if (len + n > max)
			break;
		memcpy(buf + len, t, n);
		len += n;
	}
	return (len);
}

static void
test_random_inputs(void)
{
	char *seed, buf[512], err[200], *t;
	ProtobufCMessage *m;
	size_t seedlen, len, i, k, at, parsed = 0, rejected = 0;

	for (i = 0; i < 20000; i++) {
		len = random_text(buf, sizeof(buf));
		m = pbtext_parse(&pbtest__node__descriptor, buf, len, err,
		    sizeof(err));
		if (m == NULL) {
			CHECK(err[0] >= '1' && err[0] <= '9');
			CHECK(strstr(err, ": ") != NULL);
			rejected++;
			continue;
		}
		parsed++;
		t = roundtrip(m);
		free(t);
		pbmsg_free(m);
	}
	/* Corrupted copies of a valid text: byte flips, cuts, inserts. */
	seed = read_file(seed_path, &seedlen);
	for (i = 0; i < 5000; i++) {
		char *c = malloc(seedlen + 8);

		CHECK(c != NULL);
		memcpy(c, seed, seedlen);
		len = seedlen;
		for (k = 0; k < 1 + rnd() % 3; k++) {
			at = (size_t)(rnd() % len);
			switch (rnd() % 3) {
			case 0:
				c[at] = (char)(rnd() & 0xff);
				break;
			case 1:
				memmove(c + at, c + at + 1, len - at - 1);
				len--;
				break;
			default:
				memmove(c + at + 1, c + at, len - at);
				c[at] = "{}:\"\\#\n0-[]"[rnd() % 11];
				len++;
				break;
			}
		}
		m = pbtext_parse(&pbtest__node__descriptor, c, len, err,
		    sizeof(err));
		if (m != NULL) {
			parsed++;
			t = roundtrip(m);
			free(t);
			pbmsg_free(m);
		} else
			rejected++;
		free(c);
	}
	free(seed);
	fprintf(stderr, "   random inputs: %zu parsed, %zu rejected\n", parsed,
	    rejected);
	/* Both outcomes must be exercised for the loop to mean anything. */
	CHECK(parsed > 100 && rejected > 100);
}

int
main(int argc, char **argv)
{

	if (argc != 2) {
		fprintf(stderr, "usage: %s pbtest_seed.txt\n", argv[0]);
		return (2);
	}
	seed_path = argv[1];
	RUN(test_seed_roundtrip);
	RUN(test_scalar_limits);
	RUN(test_float_bits);
	RUN(test_all_bytes);
	RUN(test_proto2);
	RUN(test_syntax_variants);
	RUN(test_bad_inputs);
	RUN(test_limits);
	RUN(test_unknown_fields);
	RUN(test_oneof_edge);
	RUN(test_random_inputs);
	fprintf(stderr, "test_pbtext: all passed\n");
	return (0);
}
