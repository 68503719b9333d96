/*
 * Text form of protobuf-c messages: printer and parser.  See pbtext.h for
 * the format and the round-trip guarantee.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbtext.h"

/* ---------------------------------------------------------------------- */
/* Printer */

struct obuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 nomem;
	bool	 lossy;
};

static void
ob_write(struct obuf *ob, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (ob->nomem)
		return;
	if (ob->len + n + 1 > ob->cap) {
		ncap = ob->cap == 0 ? 256 : ob->cap;
		while (ob->len + n + 1 > ncap)
			ncap *= 2;
		np = realloc(ob->p, ncap);
		if (np == NULL) {
			ob->nomem = true;
			return;
		}
		ob->p = np;
		ob->cap = ncap;
	}
	memcpy(ob->p + ob->len, s, n);
	ob->len += n;
	ob->p[ob->len] = '\0';
}

static void
ob_puts(struct obuf *ob, const char *s)
{

	ob_write(ob, s, strlen(s));
}

static void __attribute__((__format__(__printf__, 2, 3)))
ob_printf(struct obuf *ob, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Every caller prints a number or a short name. */
	ob_write(ob, buf, (size_t)n < sizeof(buf) ? (size_t)n :
	    sizeof(buf) - 1);
}

static void
ob_indent(struct obuf *ob, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		ob_write(ob, "  ", 2);
}

static bool
is_print(unsigned char c)
{

	return (c >= 0x20 && c < 0x7f);
}

/*
 * Quoted string.  'hex_all' escapes every byte as \xNN (binary bytes
 * values); otherwise printable ASCII stays as is.  \x always takes two
 * digits so the parser never swallows a following hex digit.
 */
static void
print_quoted(struct obuf *ob, const unsigned char *s, size_t n, bool hex_all)
{
	char esc[5];
	size_t i;

	ob_write(ob, "\"", 1);
	for (i = 0; i < n; i++) {
		if (!hex_all) {
			switch (s[i]) {
			case '"':
				ob_write(ob, "\\\"", 2);
				continue;
			case '\\':
				ob_write(ob, "\\\\", 2);
				continue;
			case '\n':
				ob_write(ob, "\\n", 2);
				continue;
			case '\t':
				ob_write(ob, "\\t", 2);
				continue;
			case '\r':
				ob_write(ob, "\\r", 2);
				continue;
			default:
				if (is_print(s[i])) {
					ob_write(ob, (const char *)&s[i], 1);
					continue;
				}
			}
		}
		snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
		ob_write(ob, esc, 4);
	}
	ob_write(ob, "\"", 1);
}

static void
print_double(struct obuf *ob, double v)
{
	char buf[64];
	uint64_t bits, back;
	double r;
	int prec;

	memcpy(&bits, &v, sizeof(bits));
	if (isnan(v)) {
		if (bits == UINT64_C(0x7ff8000000000000))
			ob_puts(ob, "nan");
		else if (bits == UINT64_C(0xfff8000000000000))
			ob_puts(ob, "-nan");
		else
			ob_printf(ob, "nan(0x%016" PRIx64 ")", bits);
		return;
	}
	if (isinf(v)) {
		ob_puts(ob, v < 0 ? "-inf" : "inf");
		return;
	}
	/*
	 * Shortest decimal that reads back to the same bits: fixed
	 * notation in the everyday range (1000, not 1e+03), else %g.
	 */
	if (fabs(v) >= 1e-4 && fabs(v) < 1e15) {
		for (prec = 0; prec <= 20; prec++) {
			snprintf(buf, sizeof(buf), "%.*f", prec, v);
			r = strtod(buf, NULL);
			memcpy(&back, &r, sizeof(back));
			if (back == bits) {
				ob_puts(ob, buf);
				return;
			}
		}
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		r = strtod(buf, NULL);
		memcpy(&back, &r, sizeof(back));
		if (back == bits)
			break;
	}
	ob_puts(ob, buf);
}

static void
print_float(struct obuf *ob, float v)
{
	char buf[64];
	uint32_t bits, back;
	float r;
	int prec;

	memcpy(&bits, &v, sizeof(bits));
	if (isnan(v)) {
		if (bits == UINT32_C(0x7fc00000))
			ob_puts(ob, "nan");
		else if (bits == UINT32_C(0xffc00000))
			ob_puts(ob, "-nan");
		else
			ob_printf(ob, "nan(0x%08" PRIx32 ")", bits);
		return;
	}
	if (isinf(v)) {
		ob_puts(ob, v < 0 ? "-inf" : "inf");
		return;
	}
	if (fabsf(v) >= 1e-4f && fabsf(v) < 1e9f) {
		for (prec = 0; prec <= 12; prec++) {
			snprintf(buf, sizeof(buf), "%.*f", prec, (double)v);
			r = strtof(buf, NULL);
			memcpy(&back, &r, sizeof(back));
			if (back == bits) {
				ob_puts(ob, buf);
				return;
			}
		}
	}
	for (prec = 1; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)v);
		r = strtof(buf, NULL);
		memcpy(&back, &r, sizeof(back));
		if (back == bits)
			break;
	}
	ob_puts(ob, buf);
}

static void	print_message(struct obuf *ob, const ProtobufCMessage *m,
		    int depth);

static void
print_value(struct obuf *ob, const ProtobufCFieldDescriptor *f,
    const void *slot, int depth)
{
	const ProtobufCEnumDescriptor *ed;
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *bd;
	const ProtobufCMessage *sub;
	const char *s;
	size_t i, mark;
	bool hex;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ob_printf(ob, "%" PRId32, *(const int32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ob_printf(ob, "%" PRIu32, *(const uint32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		ob_printf(ob, "%" PRId64, *(const int64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		ob_printf(ob, "%" PRIu64, *(const uint64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		print_float(ob, *(const float *)slot);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		print_double(ob, *(const double *)slot);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		ob_puts(ob, *(const protobuf_c_boolean *)slot ? "true" :
		    "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ed = f->descriptor;
		ev = protobuf_c_enum_descriptor_get_value(ed,
		    *(const int *)slot);
		if (ev != NULL)
			ob_puts(ob, ev->name);
		else
			ob_printf(ob, "%d", *(const int *)slot);
		break;
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char * const *)slot;
		if (s == NULL)
			s = "";
		print_quoted(ob, (const unsigned char *)s, strlen(s), false);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = slot;
		hex = false;
		for (i = 0; i < bd->len; i++)
			if (!is_print(bd->data[i]))
				hex = true;
		print_quoted(ob, bd->data, bd->len, hex);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		sub = *(const ProtobufCMessage * const *)slot;
		ob_puts(ob, "{\n");
		mark = ob->len;
		if (sub != NULL)
			print_message(ob, sub, depth + 1);
		if (!ob->nomem && ob->len == mark) {
			/* Empty: "name {}" on one line. */
			ob->len = mark - 1;
			ob->p[ob->len] = '\0';
		} else
			ob_indent(ob, depth);
		ob_puts(ob, "}");
		break;
	}
}

static void
print_field(struct obuf *ob, const ProtobufCFieldDescriptor *f,
    const void *slot, int depth)
{
	ob_indent(ob, depth);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth + 1 > PBTEXT_MAX_DEPTH) {
		ob_printf(ob, "# %.60s: nested deeper than %d levels, omitted\n",
		    f->name, PBTEXT_MAX_DEPTH);
		ob->lossy = true;
		return;
	}
	ob_puts(ob, f->name);
	ob_puts(ob, f->type == PROTOBUF_C_TYPE_MESSAGE ? " " : ": ");
	print_value(ob, f, slot, depth);
	ob_write(ob, "\n", 1);
}

static void
print_message(struct obuf *ob, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessageUnknownField *uf;
	size_t n, i;
	unsigned k;

	for (k = 0; k < d->n_fields; k++) {
		f = &d->fields[k];
		if (!pbmsg_present(m, f))
			continue;
		if (pbmsg_is_repeated(f)) {
			n = pbmsg_count(m, f);
			for (i = 0; i < n; i++)
				print_field(ob, f, pbmsg_slot(m, f, i), depth);
		} else
			print_field(ob, f, PBMSG_MEMBER(m, f->offset), depth);
	}
	for (k = 0; k < m->n_unknown_fields; k++) {
		uf = &m->unknown_fields[k];
		ob_indent(ob, depth);
		ob_printf(ob, "# unknown field %" PRIu32 " (wire type %d, %zu "
		    "bytes) omitted\n", uf->tag, (int)uf->wire_type, uf->len);
		ob->lossy = true;
	}
}

int
pbtext_format(const ProtobufCMessage *msg, char **out, size_t *len)
{
	struct obuf ob = { 0 };

	ob_write(&ob, "", 0);
	print_message(&ob, msg, 0);
	if (ob.nomem) {
		free(ob.p);
		*out = NULL;
		*len = 0;
		return (-1);
	}
	*out = ob.p;
	*len = ob.len;
	return (ob.lossy ? 1 : 0);
}

int
pbtext_print(const ProtobufCMessage *msg, FILE *fp)
{
	size_t len;
	char *s;
	int rv;

	rv = pbtext_format(msg, &s, &len);
	if (rv < 0)
		return (-1);
	if (fwrite(s, 1, len, fp) != len)
		rv = -1;
	free(s);
	return (rv);
}

/* ---------------------------------------------------------------------- */
/* Parser */

struct parser {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	size_t		 budget;	/* bytes of message still allowed */
	bool		 failed;
	char		*err;
	size_t		 errlen;
};

static int __attribute__((__format__(__printf__, 3, 4)))
perr(struct parser *p, size_t at, const char *fmt, ...)
{
	char msg[160];
	unsigned line = 1, col = 1;
	va_list ap;
	size_t i;

	if (p->failed)
		return (-1);
	p->failed = true;
	if (p->err == NULL || p->errlen == 0)
		return (-1);
	if (at > p->len)
		at = p->len;
	for (i = 0; i < at; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%u:%u: %s", line, col, msg);
	return (-1);
}

/* A token quoted for an error message: printable, at most 40 chars. */
static const char *
tokstr(char *buf, size_t bufsz, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < bufsz && i < 40; i++)
		buf[o++] = is_print((unsigned char)s[i]) ? s[i] : '?';
	if (i < n && o + 4 < bufsz) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o] = '\0';
	return (buf);
}

static int
charge(struct parser *p, size_t n)
{

	if (n > p->budget)
		return (perr(p, p->pos, "input too large: message exceeds %u "
		    "bytes", PBTEXT_MAX_ALLOC));
	p->budget -= n;
	return (0);
}

static int
peek(struct parser *p)
{

	return (p->pos < p->len ? (unsigned char)p->s[p->pos] : -1);
}

static void
skip_space(struct parser *p)
{
	int c;

	while ((c = peek(p)) != -1) {
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\v' || c == '\f')
			p->pos++;
		else if (c == '#') {
			while ((c = peek(p)) != -1 && c != '\n')
				p->pos++;
		} else
			break;
	}
}

static bool
ident_start(int c)
{

	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_');
}

static bool
ident_char(int c)
{

	return (ident_start(c) || (c >= '0' && c <= '9'));
}

static int
hexval(int c)
{

	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Append to a growable byte buffer charged to the budget. */
struct sbuf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static int
sb_add(struct parser *p, struct sbuf *sb, unsigned char c)
{
	unsigned char *np;
	size_t ncap;

	if (sb->len + 1 >= sb->cap) {
		ncap = sb->cap == 0 ? 32 : sb->cap * 2;
		if (charge(p, ncap - sb->cap) != 0)
			return (-1);
		np = realloc(sb->p, ncap);
		if (np == NULL)
			return (perr(p, p->pos, "out of memory"));
		sb->p = np;
		sb->cap = ncap;
	}
	sb->p[sb->len++] = c;
	return (0);
}

/* One or more adjacent quoted literals into sb. */
static int
parse_string(struct parser *p, struct sbuf *sb)
{
	size_t start, epos;
	int c, q, v, d, i;

	while ((q = peek(p)) == '"' || q == '\'') {
		start = p->pos++;
		for (;;) {
			c = peek(p);
			if (c == -1)
				return (perr(p, start, "unterminated string"));
			if (c == '\n')
				return (perr(p, p->pos, "newline in string"));
			p->pos++;
			if (c == q)
				break;
			if (c != '\\') {
				if (sb_add(p, sb, (unsigned char)c) != 0)
					return (-1);
				continue;
			}
			epos = p->pos - 1;
			c = peek(p);
			if (c == -1)
				return (perr(p, start, "unterminated string"));
			p->pos++;
			switch (c) {
			case 'n': v = '\n'; break;
			case 't': v = '\t'; break;
			case 'r': v = '\r'; break;
			case 'a': v = '\a'; break;
			case 'b': v = '\b'; break;
			case 'f': v = '\f'; break;
			case 'v': v = '\v'; break;
			case '\\': case '\'': case '"': case '?': v = c; break;
			case 'x': case 'X':
				v = 0;
				for (i = 0; i < 2 && (d = hexval(peek(p))) >= 0;
				    i++) {
					v = v * 16 + d;
					p->pos++;
				}
				if (i == 0)
					return (perr(p, epos,
					    "\\x without hex digits"));
				break;
			case '0': case '1': case '2': case '3':
			case '4': case '5': case '6': case '7':
				v = c - '0';
				for (i = 1; i < 3 && (c = peek(p)) >= '0' &&
				    c <= '7'; i++) {
					v = v * 8 + (c - '0');
					p->pos++;
				}
				if (v > 255)
					return (perr(p, epos, "octal escape "
					    "out of range"));
				break;
			default:
				return (perr(p, epos, "unknown escape '\\%c'",
				    is_print((unsigned char)c) ? c : '?'));
			}
			if (sb_add(p, sb, (unsigned char)v) != 0)
				return (-1);
		}
		skip_space(p);
	}
	return (0);
}

/*
 * A bare word: an optional '-', then letters, digits, '_', '.', and a
 * sign right after a decimal exponent 'e'.
 */
static void
read_word(struct parser *p, size_t *start, size_t *n)
{
	bool hex;
	int c, prev = 0;

	*start = p->pos;
	if (peek(p) == '-')
		p->pos++;
	hex = p->pos + 1 < p->len && p->s[p->pos] == '0' &&
	    (p->s[p->pos + 1] == 'x' || p->s[p->pos + 1] == 'X');
	while ((c = peek(p)) != -1) {
		if (ident_char(c) || c == '.' ||
		    ((c == '+' || c == '-') && !hex &&
		    (prev == 'e' || prev == 'E')))
			p->pos++;
		else
			break;
		prev = c;
	}
	*n = p->pos - *start;
}

static bool
word_is(const char *w, size_t n, const char *lit)
{

	return (strlen(lit) == n && memcmp(w, lit, n) == 0);
}

static bool
word_is_ci(const char *w, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return (false);
	for (i = 0; i < n; i++) {
		if ((w[i] | 0x20) != lit[i])
			return (false);
	}
	return (true);
}

/* Magnitude of an unsigned decimal or 0x hex number; -1 if invalid. */
static int
parse_mag(const char *w, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	int d, base = 10;

	if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= n)
		return (-1);
	for (; i < n; i++) {
		d = hexval((unsigned char)w[i]);
		if (d < 0 || d >= base)
			return (-1);
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return (-1);
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return (0);
}

static const char *
type_name(ProtobufCType t)
{
	static const char *const names[] = {
		"int32", "sint32", "sfixed32", "int64", "sint64", "sfixed64",
		"uint32", "fixed32", "uint64", "fixed64", "float", "double",
		"bool", "enum", "string", "bytes", "message",
	};

	if ((unsigned)t < sizeof(names) / sizeof(names[0]))
		return (names[t]);
	return ("?");
}

/* Integer word into a value of the field's width and signedness. */
static int
parse_int(struct parser *p, const ProtobufCFieldDescriptor *f, size_t at,
    const char *w, size_t n, void *out)
{
	char tb[48];
	uint64_t mag;
	int64_t sv;
	bool neg = false, is_signed, is64;

	if (n > 0 && w[0] == '-') {
		neg = true;
		w++;
		n--;
	}
	if (parse_mag(w, n, &mag) != 0)
		return (perr(p, at, "invalid integer '%s%s' for field '%s'",
		    neg ? "-" : "", tokstr(tb, sizeof(tb), w, n), f->name));
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		is_signed = true;
		is64 = false;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		is_signed = true;
		is64 = true;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		is_signed = false;
		is64 = false;
		break;
	default:
		is_signed = false;
		is64 = true;
		break;
	}
	if (neg && !is_signed && mag != 0)
		goto range;
	if (is_signed) {
		if (mag > (neg ? (is64 ? UINT64_C(1) << 63 :
		    UINT64_C(1) << 31) : (is64 ? (uint64_t)INT64_MAX :
		    (uint64_t)INT32_MAX)))
			goto range;
		if (!neg)
			sv = (int64_t)mag;
		else if (mag == UINT64_C(1) << 63)
			sv = INT64_MIN;
		else
			sv = -(int64_t)mag;
		if (is64)
			*(int64_t *)out = sv;
		else if (f->type == PROTOBUF_C_TYPE_ENUM)
			*(int *)out = (int)sv;
		else
			*(int32_t *)out = (int32_t)sv;
		return (0);
	}
	if (!is64 && mag > UINT32_MAX)
		goto range;
	if (is64)
		*(uint64_t *)out = mag;
	else
		*(uint32_t *)out = (uint32_t)mag;
	return (0);
range:
	return (perr(p, at, "%s%s out of range for %s field '%s'",
	    neg ? "-" : "", tokstr(tb, sizeof(tb), w, n), type_name(f->type),
	    f->name));
}

/* Floats: decimal, inf/infinity, nan, nan(0xBITS), with optional '-'. */
static int
parse_floating(struct parser *p, const ProtobufCFieldDescriptor *f,
    size_t at, const char *w, size_t n, void *out)
{
	char tb[48], num[400];
	const char *body = w;
	uint64_t bits;
	size_t bn = n, i, s0, sn;
	bool neg = false, dbl = f->type == PROTOBUF_C_TYPE_DOUBLE;
	double dv;
	float fv;
	char *end;

	if (bn > 0 && body[0] == '-') {
		neg = true;
		body++;
		bn--;
	}
	if (word_is_ci(body, bn, "inf") || word_is_ci(body, bn, "infinity")) {
		if (dbl)
			*(double *)out = neg ? -HUGE_VAL : HUGE_VAL;
		else
			*(float *)out = neg ? -HUGE_VALF : HUGE_VALF;
		return (0);
	}
	if (word_is_ci(body, bn, "nan")) {
		if (peek(p) == '(') {
			/* Raw bits of a NaN with a payload. */
			p->pos++;
			read_word(p, &s0, &sn);
			if (peek(p) != ')' || neg ||
			    parse_mag(p->s + s0, sn, &bits) != 0 ||
			    sn < 3 || p->s[s0 + 1] != 'x')
				return (perr(p, at, "invalid nan(0x...) for "
				    "field '%s'", f->name));
			p->pos++;
			if (dbl) {
				memcpy(&dv, &bits, sizeof(dv));
				if (!isnan(dv))
					return (perr(p, at, "nan(0x...) bits "
					    "are not a NaN"));
				*(double *)out = dv;
			} else {
				if (bits > UINT32_MAX)
					return (perr(p, at, "nan(0x...) bits "
					    "too wide for float"));
				uint32_t b32 = (uint32_t)bits;
				memcpy(&fv, &b32, sizeof(fv));
				if (!isnan(fv))
					return (perr(p, at, "nan(0x...) bits "
					    "are not a NaN"));
				*(float *)out = fv;
			}
			return (0);
		}
		if (dbl) {
			bits = neg ? UINT64_C(0xfff8000000000000) :
			    UINT64_C(0x7ff8000000000000);
			memcpy(out, &bits, sizeof(bits));
		} else {
			uint32_t b32 = neg ? UINT32_C(0xffc00000) :
			    UINT32_C(0x7fc00000);
			memcpy(out, &b32, sizeof(b32));
		}
		return (0);
	}
	/* Plain decimal: digits, '.', exponent; an 'f' suffix is allowed. */
	if (bn > 0 && (body[bn - 1] == 'f' || body[bn - 1] == 'F'))
		bn--;
	if (bn == 0 || bn + 2 > sizeof(num))
		goto bad;
	for (i = 0; i < bn; i++) {
		if (!((body[i] >= '0' && body[i] <= '9') || body[i] == '.' ||
		    body[i] == 'e' || body[i] == 'E' || body[i] == '+' ||
		    body[i] == '-'))
			goto bad;
	}
	if (!((body[0] >= '0' && body[0] <= '9') || body[0] == '.'))
		goto bad;
	num[0] = '-';
	memcpy(num + 1, body, bn);
	num[bn + 1] = '\0';
	if (dbl) {
		dv = strtod(neg ? num : num + 1, &end);
		*(double *)out = dv;
	} else {
		fv = strtof(neg ? num : num + 1, &end);
		*(float *)out = fv;
	}
	if (*end != '\0')
		goto bad;
	return (0);
bad:
	return (perr(p, at, "invalid %s '%s' for field '%s'",
	    type_name(f->type), tokstr(tb, sizeof(tb), w, n), f->name));
}

/*
 * One scalar, string or bytes value of field f into *out (elt_size
 * bytes).  Strings and bytes come back as heap memory the caller owns.
 */
static int
parse_scalar(struct parser *p, const ProtobufCFieldDescriptor *f, void *out)
{
	const ProtobufCEnumDescriptor *ed;
	struct sbuf sb = { 0 };
	ProtobufCBinaryData *bd;
	char tb[48];
	size_t at = p->pos, w0, wn, i;
	const char *w;
	int c = peek(p);

	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_BYTES) {
		if (c != '"' && c != '\'')
			return (perr(p, at, "expected a quoted string for "
			    "field '%s'", f->name));
		if (parse_string(p, &sb) != 0) {
			free(sb.p);
			return (-1);
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			bd = out;
			bd->len = sb.len;
			bd->data = sb.p;
			if (sb.len == 0) {
				free(sb.p);
				bd->data = NULL;
			}
			return (0);
		}
		if (sb.len > 0 && memchr(sb.p, '\0', sb.len) != NULL) {
			free(sb.p);
			return (perr(p, at, "NUL in string field '%s'",
			    f->name));
		}
		if (sb_add(p, &sb, '\0') != 0) {
			free(sb.p);
			return (-1);
		}
		*(char **)out = (char *)sb.p;
		return (0);
	}
	if (c == '"' || c == '\'')
		return (perr(p, at, "unexpected string for %s field '%s'",
		    type_name(f->type), f->name));
	read_word(p, &w0, &wn);
	w = p->s + w0;
	if (wn == 0)
		return (perr(p, at, "expected a value for field '%s'",
		    f->name));
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		if (word_is(w, wn, "true") || word_is(w, wn, "True") ||
		    word_is(w, wn, "t") || word_is(w, wn, "1"))
			*(protobuf_c_boolean *)out = 1;
		else if (word_is(w, wn, "false") || word_is(w, wn, "False") ||
		    word_is(w, wn, "f") || word_is(w, wn, "0"))
			*(protobuf_c_boolean *)out = 0;
		else
			return (perr(p, at, "invalid bool '%s' for field '%s'",
			    tokstr(tb, sizeof(tb), w, wn), f->name));
		return (0);
	case PROTOBUF_C_TYPE_ENUM:
		if (!ident_start((unsigned char)w[0]))
			return (parse_int(p, f, at, w, wn, out));
		ed = f->descriptor;
		for (i = 0; i < ed->n_values; i++) {
			if (word_is(w, wn, ed->values[i].name)) {
				*(int *)out = ed->values[i].value;
				return (0);
			}
		}
		return (perr(p, at, "unknown value '%s' of enum %s",
		    tokstr(tb, sizeof(tb), w, wn), ed->name));
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return (parse_floating(p, f, at, w, wn, out));
	default:
		return (parse_int(p, f, at, w, wn, out));
	}
}

/*
 * Append to a repeated field of a message this parser built: arrays grow
 * in powers of two, so the capacity is implied by the count.
 */
static int
append(struct parser *p, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const void *val)
{
	size_t sz = pbmsg_elt_size(f->type);
	size_t *np = PBMSG_MEMBER(m, f->quantifier_offset);
	char **arrp = PBMSG_MEMBER(m, f->offset);
	size_t ncap;
	char *na;

	if ((*np & (*np - 1)) == 0) {
		ncap = *np == 0 ? 1 : *np * 2;
		if (charge(p, (ncap - *np) * sz) != 0)
			return (-1);
		na = realloc(*arrp, ncap * sz);
		if (na == NULL)
			return (perr(p, p->pos, "out of memory"));
		*arrp = na;
	}
	memcpy(*arrp + *np * sz, val, sz);
	(*np)++;
	return (0);
}

static int	parse_body(struct parser *p, ProtobufCMessage *m, int depth,
		    int close);

/* Store one value (ownership moves to m) of a singular or repeated field. */
static int
store(struct parser *p, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    void *val)
{

	if (pbmsg_is_repeated(f)) {
		if (append(p, m, f, val) != 0) {
			pbmsg_free_value(f, val, true);
			return (-1);
		}
		return (0);
	}
	pbmsg_set(m, f, 0, val);
	return (0);
}

static int
parse_one(struct parser *p, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    int depth)
{
	const ProtobufCMessageDescriptor *sd;
	ProtobufCMessage *sub;
	union {
		uint64_t	u;
		double		d;
		void		*ptr;
		ProtobufCBinaryData bd;
	} val;
	size_t at = p->pos;
	int c;

	if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
		memset(&val, 0, sizeof(val));
		if (parse_scalar(p, f, &val) != 0)
			return (-1);
		return (store(p, m, f, &val));
	}
	c = peek(p);
	if (c != '{' && c != '<')
		return (perr(p, at, "expected '{' for message field '%s'",
		    f->name));
	if (depth + 1 > PBTEXT_MAX_DEPTH)
		return (perr(p, at, "nesting deeper than %d levels",
		    PBTEXT_MAX_DEPTH));
	p->pos++;
	sd = f->descriptor;
	if (charge(p, sd->sizeof_message) != 0)
		return (-1);
	sub = pbmsg_new(sd);
	if (sub == NULL)
		return (perr(p, at, "out of memory"));
	/* Attach first: on error the root frees everything. */
	if (store(p, m, f, &sub) != 0)
		return (-1);
	return (parse_body(p, sub, depth + 1, c == '{' ? '}' : '>'));
}

static const ProtobufCFieldDescriptor *
find_field(const ProtobufCMessageDescriptor *d, const char *name, size_t n)
{
	unsigned k;

	for (k = 0; k < d->n_fields; k++) {
		if (word_is(name, n, d->fields[k].name))
			return (&d->fields[k]);
	}
	return (NULL);
}

static int
parse_body(struct parser *p, ProtobufCMessage *m, int depth, int close)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f, *cur;
	unsigned char *seen;
	char tb[48];
	size_t at, n0, nn;
	bool colon;
	int c, rv = -1;

	seen = calloc(d->n_fields + 1, 1);
	if (seen == NULL)
		return (perr(p, p->pos, "out of memory"));
	for (;;) {
		skip_space(p);
		c = peek(p);
		if (c == -1) {
			if (close == 0)
				break;
			perr(p, p->pos, "missing '%c' at end of input", close);
			goto out;
		}
		if (close != 0 && c == close) {
			p->pos++;
			break;
		}
		at = p->pos;
		if (c == '}' || c == '>') {
			if (close == 0)
				perr(p, at, "unexpected '%c' at top level", c);
			else
				perr(p, at, "unexpected '%c', expected '%c'", c,
				    close);
			goto out;
		}
		if (!ident_start(c)) {
			perr(p, at, "expected a field name, got '%c'",
			    is_print((unsigned char)c) ? c : '?');
			goto out;
		}
		n0 = p->pos;
		while (ident_char(peek(p)))
			p->pos++;
		nn = p->pos - n0;
		f = find_field(d, p->s + n0, nn);
		if (f == NULL) {
			perr(p, at, "unknown field '%s' in %s",
			    tokstr(tb, sizeof(tb), p->s + n0, nn), d->name);
			goto out;
		}
		if (!pbmsg_is_repeated(f)) {
			if (seen[f - d->fields]) {
				perr(p, at, "field '%s' given twice", f->name);
				goto out;
			}
			if (pbmsg_is_oneof(f) &&
			    (cur = pbmsg_oneof_active(m, f)) != NULL) {
				perr(p, at, "field '%s' and '%s' are in the "
				    "same oneof", cur->name, f->name);
				goto out;
			}
			seen[f - d->fields] = 1;
		}
		skip_space(p);
		colon = false;
		if (peek(p) == ':') {
			colon = true;
			p->pos++;
			skip_space(p);
		}
		if (f->type != PROTOBUF_C_TYPE_MESSAGE && !colon) {
			perr(p, p->pos, "expected ':' after '%s'", f->name);
			goto out;
		}
		if (peek(p) == '[') {
			if (!pbmsg_is_repeated(f)) {
				perr(p, p->pos, "list for non-repeated field "
				    "'%s'", f->name);
				goto out;
			}
			p->pos++;
			skip_space(p);
			if (peek(p) != ']') {
				for (;;) {
					if (parse_one(p, m, f, depth) != 0)
						goto out;
					skip_space(p);
					c = peek(p);
					if (c == ']')
						break;
					if (c != ',') {
						perr(p, p->pos, "expected ',' "
						    "or ']' in list");
						goto out;
					}
					p->pos++;
					skip_space(p);
				}
			}
			p->pos++;
		} else if (parse_one(p, m, f, depth) != 0)
			goto out;
		skip_space(p);
		c = peek(p);
		if (c == ',' || c == ';')
			p->pos++;
	}
	rv = 0;
out:
	free(seen);
	return (rv);
}

ProtobufCMessage *
pbtext_parse(const ProtobufCMessageDescriptor *desc, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct parser p = {
		.s = text,
		.len = len,
		.budget = PBTEXT_MAX_ALLOC,
		.err = err,
		.errlen = errlen,
	};
	ProtobufCMessage *m;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > PBTEXT_MAX_INPUT) {
		perr(&p, 0, "input too large: %zu bytes of text, at most %u",
		    len, PBTEXT_MAX_INPUT);
		return (NULL);
	}
	if (charge(&p, desc->sizeof_message) != 0)
		return (NULL);
	m = pbmsg_new(desc);
	if (m == NULL) {
		perr(&p, 0, "out of memory");
		return (NULL);
	}
	if (parse_body(&p, m, 0, 0) != 0) {
		pbmsg_free(m);
		return (NULL);
	}
	return (m);
}
