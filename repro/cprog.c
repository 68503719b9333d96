/*
 * sndtag-cprog: turn a scenario into a standalone C program that makes
 * the same calls into the core as the interpreter (fuzz/interp.c) does,
 * in the style of a syzkaller C reproducer: the topology as attach calls,
 * one block of plain calls per operation under a comment holding the
 * interpreter's trace line for it, then the teardown and ledger.
 *
 * How it stays faithful: the scenario first runs through the interpreter
 * itself (in a forked child, on the core this binary is linked with) with
 * its trace on.  A shadow of the interpreter's tables (interfaces in
 * creation order with their kinds and states, socket slots, the packet
 * budget) then resolves every reference the way interp.c does, and each
 * resolution is checked against the trace line of that operation: a
 * disagreement is an error, never a silently different program.  What
 * the interpreter decides from the model's state at run time (an open
 * that failed, an interface without input, a vlan loop, a cxgbe flow
 * with no etid) is taken from its trace.  Operations after the one the
 * run crashed in have no trace; they are resolved by the shadow alone
 * and marked so.
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE	/* asprintf, open_memstream, pipe2 */
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/interp_ktls.h"
#include "repro/crashrun.h"
#include "repro/scenario_io.h"

#include "dev/nic/if_nic.h"
#include "harness/world.h"
#include "net/if_lagg.h"
#include "netinet/ip.h"
#include "shim/malloc.h"

#define	PROG_BASE	"sndtag-cprog"

extern const char repro_variant[];	/* repro/variant_name.c */

/* As fuzz/interp.c: types defined in model files only, weak. */
extern struct malloc_type M_VLAN[1] __attribute__((weak));
extern struct malloc_type M_LAGG[1] __attribute__((weak));
extern struct malloc_type M_NIC[1] __attribute__((weak));
extern struct malloc_type M_CXGBE[1] __attribute__((weak));
extern struct malloc_type M_MLX5EN[1] __attribute__((weak));
extern struct malloc_type M_RTABLE[1] __attribute__((weak));
extern struct malloc_type M_EPAIR[1] __attribute__((weak));

static char prog[96];

enum { IK_NIC, IK_LOOP, IK_EPAIR, IK_VLAN, IK_LAGG, IK_CXGBE, IK_MLX5, IK_N };

static const char *const kind_name[IK_N] = {
	"nic", "lo", "epair", "vlan", "lagg", "cxgbe", "mlx5"
};

#define	ST_NONE		0	/* creation failed */
#define	ST_LIVE		1
#define	ST_DEAD		2

struct sh_iface {
	int		 kind;
	int		 kind_index;
	int		 peer;		/* epair: the other side; -1 */
	int		 n_workers;	/* mlx5 */
	int		 state;
	int		 parent;	/* vlan: its parent; -1 none */
	char		 name[24];	/* interp.c's name, the C name */
};

struct sh_sock {
	bool		 live;
	bool		 used;		/* declare the variable */
	int		 af;		/* AF__V4 / AF__V6 */
};

/* Declarations and helpers the generated program needs. */
struct needs {
	bool	sa, a4, a6, b6, cp, mp, et, inp, m, rate, i, k;
	bool	in4, in6, sin4, sin6;
	bool	m_nic, m_rtable, m_epair, m_cxgbe;
	bool	limits, tx, ifrep;
};

static struct {
	const Scenario	*sc;
	struct interp_limits lim;
	struct sh_iface	 ifaces[INTERP_MAX_IFACES];
	int		 n_ifaces;
	int		 n_kind[IK_N];
	struct sh_sock	 socks[INTERP_MAX_SOCKETS];
	uint32_t	 packets;
	uint8_t		 op_thread[1024];
	/* The interpreter's trace. */
	char		**setup;	/* setup lines */
	size_t		 n_setup, setup_pos;
	char		**opline;	/* per op: "text -> result" */
	long		 crash_op;	/* op the run ended in; -1 */
	bool		 setup_crashed;	/* the run ended in setup */
	bool		 clean;		/* traced a clean ledger */
	/* Output. */
	FILE		*body;
	struct needs	 nd;
	const char	*path;
} G;

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: %s [-o OUT.c] [--text|--binary|--raw] FILE\n"
"\n"
"Writes a standalone C program that makes the same calls into the core as\n"
"the interpreter does for the scenario FILE (a .txt scenario or a\n"
"fuzzer's binary crash file; --raw for fuzz_raw): the topology as attach\n"
"calls, then one block of plain calls per operation under a comment with\n"
"the interpreter's trace line, then teardown and the ledger check.  The\n"
"scenario runs once through the interpreter on the core this binary was\n"
"built with (%s_<variant> for a historic-bug variant); compile the\n"
"program against the same core:\n"
"\n"
"  cc -iquote core repro.c build/<preset>/core/libsndtag_core[_<variant>].a\n"
"\n"
"(plus the preset's sanitizer flags and -lpthread).  Threaded scenarios\n"
"are written in input order, as sndtag-replay runs them.\n"
"\n"
"  -o OUT.c   write there (via a temporary file and a rename) instead of\n"
"             stdout\n"
"\n"
"Exit status: 0 written, 1 bad input or the interpreter's run could not\n"
"be mirrored, 2 usage.\n", prog, PROG_BASE);
}

/* ---- the interpreter's run ------------------------------------------ */

struct tracearg {
	const Scenario	*sc;
	int		 fd;
};

static int
child_trace(void *arg)
{
	struct tracearg *t = arg;
	struct interp_options o;
	struct interp *ip;
	FILE *fp;

	fp = fdopen(dup(t->fd), "w");
	if (fp == NULL)
		return (3);
	/* Line-buffered: every finished line survives a crash. */
	setvbuf(fp, NULL, _IOLBF, 0);
	memset(&o, 0, sizeof(o));
	o.trace = fp;
	ip = interp_new(t->sc, &o);
	if (ip == NULL)
		return (1);
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
	fclose(fp);
	return (0);
}

static char *
xstrdup(const char *s, size_t n)
{
	char *p = (malloc)(n + 1);

	if (p == NULL)
		fatal("out of memory");
	memcpy(p, s, n);
	p[n] = '\0';
	return (p);
}

/* Split the trace into setup lines and per-op lines. */
static void
parse_trace(char *text)
{
	char *line = text, *nl;
	bool in_ops = false;
	unsigned long i, t;
	int used;

	G.setup = calloc(INTERP_MAX_IFACES * 12 + INTERP_MAX_ROUTES + 8,
	    sizeof(*G.setup));
	G.opline = calloc(G.sc->n_ops + 1, sizeof(*G.opline));
	if (G.setup == NULL || G.opline == NULL)
		fatal("out of memory");
	G.crash_op = -1;
	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (line[0] == '#' && sscanf(line, "#%lu t%lu %n", &i, &t,
		    &used) == 2 && i < G.sc->n_ops) {
			in_ops = true;
			if (nl == NULL) {
				/* Started, never finished: the run ended. */
				G.crash_op = (long)i;
				break;
			}
			G.opline[i] = xstrdup(line + used,
			    (size_t)(nl - line) - (size_t)used);
		} else if (nl != NULL && strncmp(line, "teardown: ledger clean",
		    22) == 0) {
			G.clean = true;
		} else if (strncmp(line, "    if ", 7) == 0) {
			/* The per-interface accounting after the ops. */
		} else if (!in_ops && nl != NULL && G.n_setup <
		    INTERP_MAX_IFACES * 12 + INTERP_MAX_ROUTES + 8) {
			G.setup[G.n_setup++] = xstrdup(line,
			    (size_t)(nl - line));
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (!G.clean && G.crash_op < 0 && !in_ops && G.sc->n_ops > 0)
		G.setup_crashed = true;
}

/* ---- output helpers ------------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
out(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
}

static void	comment_text(FILE *fp, const char *text);

/* A comment line. */
static void
comment(FILE *fp, const char *indent, const char *text)
{
	fprintf(fp, "%s/* ", indent);
	comment_text(fp, text);
	fprintf(fp, " */\n");
}

/* Text inside a block comment, with any star-slash broken up. */
static void
comment_text(FILE *fp, const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		fputc(*p, fp);
		if (p[0] == '*' && p[1] == '/')
			fputc(' ', fp);
	}
}

/* " *\t<text>" as a line of the header comment. */
static void
comment_body(FILE *fp, const char *text)
{
	fprintf(fp, " *\t");
	comment_text(fp, text);
	fputc('\n', fp);
}

static uint32_t
clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return (v < lo ? lo : v > hi ? hi : v);
}

/* 198.18.d.1 (mask to plen for a route's prefix) as in4(...). */
static void
fmt_in4(char *buf, size_t len, uint32_t d, int plen, bool source)
{
	uint32_t a;

	if (source)
		a = (198u << 24) | (19u << 16) | 2;
	else
		a = (198u << 24) | (18u << 16) | ((d % INTERP_NDST) << 8) | 1;
	if (plen == 0)
		a = 0;
	else if (plen < 32)
		a &= 0xffffffffu << (32 - plen);
	snprintf(buf, len, "in4(%u, %u, %u, %u)", a >> 24, (a >> 16) & 0xff,
	    (a >> 8) & 0xff, a & 0xff);
	G.nd.in4 = true;
}

/* 2001:db8:0:d::1 (or the source 2001:db8:ffff::2) as in6(...). */
static void
fmt_in6(char *buf, size_t len, uint32_t d, int plen, bool source)
{
	uint8_t b[16];
	size_t o = 0;
	int i;

	memset(b, 0, sizeof(b));
	b[0] = 0x20;
	b[1] = 0x01;
	b[2] = 0x0d;
	b[3] = 0xb8;
	if (source) {
		b[4] = b[5] = 0xff;
		b[15] = 2;
	} else {
		b[7] = (uint8_t)(d % INTERP_NDST);
		b[15] = 1;
	}
	for (i = 0; i < 16; i++) {
		if (plen >= (i + 1) * 8)
			continue;
		if (plen <= i * 8)
			b[i] = 0;
		else
			b[i] &= (uint8_t)(0xff << (8 - (plen - i * 8)));
	}
	o += (size_t)snprintf(buf + o, len - o, "in6(");
	for (i = 0; i < 8 && o < len; i++) {
		unsigned w = (unsigned)b[2 * i] << 8 | b[2 * i + 1];

		o += (size_t)snprintf(buf + o, len - o, w == 0 ? "%s0" :
		    "%s0x%x", i == 0 ? "" : ", ", w);
		if (w == 0)
			continue;
	}
	if (o < len)
		snprintf(buf + o, len - o, ")");
	G.nd.in6 = true;
}

static int
plen_of(int af, int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return (af == AF__V6 ? 128 : 32);
	case PREFIX_KIND__PREFIX_DEFAULT:
		return (0);
	default:
		return (af == AF__V6 ? 64 : 24);
	}
}

static const char *
prefix_name(int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return ("host");
	case PREFIX_KIND__PREFIX_DEFAULT:
		return ("default");
	default:
		return ("net");
	}
}

static const char *
af_name(int af)
{
	return (af == AF__V6 ? "v6" : "v4");
}

static const char *
lagg_proto_name(uint32_t proto)
{
	static const char *const names[LAGG_PROTO_MAX] = { "none",
	    "roundrobin", "failover", "loadbalance", "lacp", "broadcast" };

	return (names[proto % LAGG_PROTO_MAX]);
}

static const char *
lagg_proto_sym(uint32_t proto)
{
	static const char *const names[LAGG_PROTO_MAX] = { "LAGG_PROTO_NONE",
	    "LAGG_PROTO_ROUNDROBIN", "LAGG_PROTO_FAILOVER",
	    "LAGG_PROTO_LOADBALANCE", "LAGG_PROTO_LACP",
	    "LAGG_PROTO_BROADCAST" };

	return (names[proto % LAGG_PROTO_MAX]);
}

static const char *
detach_fn(int kind)
{
	static const char *const fns[IK_N] = { "nic_detach", "loop_detach",
	    "epair_clone_destroy", "vlan_clone_destroy",
	    "lagg_clone_destroy", "cxgbe_detach", "mlx5e_detach" };

	return (fns[kind]);
}

/* ---- setup ---------------------------------------------------------- */

/*
 * The next setup line of the trace, which must start with 'expect';
 * NULL if the run ended before it.
 */
static const char *
setup_line(const char *expect)
{
	const char *l;

	if (G.setup_pos >= G.n_setup) {
		if (G.clean || G.crash_op >= 0 || !G.setup_crashed)
			fatal("%s: the interpreter's setup trace ends before "
			    "'%s'; cannot mirror it", G.path, expect);
		return (NULL);
	}
	l = G.setup[G.setup_pos++];
	if (strncmp(l, expect, strlen(expect)) != 0)
		fatal("%s: setup: expected '%s', the interpreter traced '%s'; "
		    "cannot mirror it", G.path, expect, l);
	return (l);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

/* The result after the last " -> " of a line ("0" if the line has none). */
static const char *
result_of(const char *line)
{
	const char *p = NULL, *q = line;

	if (line == NULL)
		return (NULL);
	while ((q = strstr(q, " -> ")) != NULL) {
		p = q;
		q += 4;
	}
	return (p != NULL ? p + 4 : "0");
}

static struct sh_iface *
iface_add(int kind, bool ok)
{
	struct sh_iface *f = &G.ifaces[G.n_ifaces++];

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->kind_index = G.n_kind[kind];
	f->peer = -1;
	f->parent = -1;
	f->state = ok ? ST_LIVE : ST_NONE;
	snprintf(f->name, sizeof(f->name), "%s%d", kind_name[kind],
	    f->kind_index);
	return (f);
}

/* "failed" on a trace line; an untraced line is taken to succeed. */
static bool
setup_ok(const char *line)
{
	return (line == NULL || !ends_with(line, " failed"));
}

static void
setup_register(FILE *b, const struct sh_iface *f)
{
	if (f->state == ST_LIVE)
		out(b, "\tworld_add_ifnet(%s, %s);\n", f->name,
		    detach_fn(f->kind));
	else {
		/* As the interpreter: only an interface that exists. */
		out(b, "\tif (%s != NULL)\t/* NULL in the interpreter's "
		    "run */\n\t\tworld_add_ifnet(%s, %s);\n", f->name, f->name,
		    detach_fn(f->kind));
	}
}

static void
setup_iface(FILE *b, const Iface *d)
{
	struct sh_iface *f, *p;
	char expect[160];
	const char *l;
	uint32_t i;

	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
		snprintf(expect, sizeof(expect), "iface lo%d",
		    G.n_kind[IK_LOOP]);
		l = setup_line(expect);
		f = iface_add(IK_LOOP, setup_ok(l));
		G.n_kind[IK_LOOP]++;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\t%s = loop_attach(%d);\n", f->name, f->kind_index);
		setup_register(b, f);
		break;
	case IFACE__KIND_EPAIR: {
		int k = G.n_kind[IK_EPAIR];
		bool ok;

		snprintf(expect, sizeof(expect), "iface epair%da epair%db -> ",
		    k, k);
		l = setup_line(expect);
		ok = l == NULL || strcmp(result_of(l), "0") == 0;
		f = iface_add(IK_EPAIR, ok);
		p = iface_add(IK_EPAIR, ok);
		p->kind_index = f->kind_index;
		snprintf(f->name, sizeof(f->name), "epair%da", k);
		snprintf(p->name, sizeof(p->name), "epair%db", k);
		f->peer = (int)(p - G.ifaces);
		p->peer = (int)(f - G.ifaces);
		G.n_kind[IK_EPAIR]++;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\tepair_clone_create(%d, &%s, &%s);\n", k, f->name,
		    p->name);
		if (ok) {
			out(b, "\t/* One world entry for the pair: destroying "
			    "either side destroys both. */\n");
			out(b, "\tworld_add_ifnet(%s, epair_clone_destroy);\n",
			    p->name);
		} else
			out(b, "\t/* the pair was not created in the "
			    "interpreter's run */\n");
		break;
	}
	case IFACE__KIND_VLAN: {
		const Vlan *v = d->vlan;
		uint16_t vid = (uint16_t)clamp_u32(v->vid, 1, 4094);

		p = NULL;
		if (v->has_parent && G.n_ifaces > 0) {
			p = &G.ifaces[v->parent % (uint32_t)G.n_ifaces];
			if (p->state != ST_LIVE)
				p = NULL;
		}
		snprintf(expect, sizeof(expect), "iface vlan%d vid=%u "
		    "parent=%s", G.n_kind[IK_VLAN], vid,
		    p != NULL ? p->name : "none");
		l = setup_line(expect);
		f = iface_add(IK_VLAN, setup_ok(l));
		f->parent = p != NULL ? (int)(p - G.ifaces) : -1;
		G.n_kind[IK_VLAN]++;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\t%s = vlan_clone_create(%d, %u, %s);\n", f->name,
		    f->kind_index, vid, p != NULL ? p->name : "NULL");
		setup_register(b, f);
		break;
	}
	case IFACE__KIND_LAGG: {
		const Lagg *lg = d->lagg;
		uint32_t proto = lg->proto % LAGG_PROTO_MAX;

		snprintf(expect, sizeof(expect), "iface lagg%d proto=%s "
		    "use_flowid=%d", G.n_kind[IK_LAGG],
		    lagg_proto_name(proto), lg->use_flowid ? 1 : 0);
		l = setup_line(expect);
		f = iface_add(IK_LAGG, setup_ok(l));
		G.n_kind[IK_LAGG]++;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\t%s = lagg_clone_create(%d, %s);\n", f->name,
		    f->kind_index, lagg_proto_sym(proto));
		setup_register(b, f);
		if (f->state != ST_LIVE)
			break;
		if (lg->use_flowid) {
			snprintf(expect, sizeof(expect), "  %s opts use_flowid "
			    "-> ", f->name);
			l = setup_line(expect);
			comment(b, "\t", l != NULL ? l + 2 : expect + 2);
			out(b, "\tlagg_set_opts(%s, LAGG_OPT_USE_FLOWID);\n",
			    f->name);
		}
		for (i = 0; i < lg->n_ports; i++) {
			if (G.n_ifaces <= 1)
				break;
			p = &G.ifaces[lg->ports[i] %
			    (uint32_t)(G.n_ifaces - 1)];
			snprintf(expect, sizeof(expect), "  %s laggport %s -> ",
			    f->name, p->name);
			l = setup_line(expect);
			if (p->kind == IK_VLAN || p->kind == IK_LAGG ||
			    p->state != ST_LIVE) {
				if (l != NULL && strcmp(result_of(l), "skip"))
					fatal("%s: setup: the interpreter did "
					    "not skip '%s'", G.path, l);
				comment(b, "\t", l != NULL ? l + 2 :
				    expect + 2);
				continue;
			}
			comment(b, "\t", l != NULL ? l + 2 : expect + 2);
			out(b, "\tlagg_port_create(%s, %s);\n", f->name,
			    p->name);
		}
		break;
	}
	case IFACE__KIND_CXGBE: {
		const Cxgbe *c = d->cxgbe;
		uint32_t e = clamp_u32(c->n_etids, 1, 64);
		uint32_t cl = clamp_u32(c->n_classes, 1, 16);
		uint32_t cr = clamp_u32(c->tx_credits, 64, 8192);
		uint32_t bl = clamp_u32(c->max_backlog, 1, 1024);

		snprintf(expect, sizeof(expect), "iface cxgbe%d etids=%u "
		    "classes=%u credits=%u backlog=%u", G.n_kind[IK_CXGBE],
		    e, cl, cr, bl);
		l = setup_line(expect);
		f = iface_add(IK_CXGBE, setup_ok(l));
		G.n_kind[IK_CXGBE]++;
		G.nd.cp = true;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\tcp = (struct cxgbe_params){ .n_etids = %u, "
		    ".n_classes = %u,\n\t    .tx_credits = %u, "
		    ".max_backlog = %u };\n", e, cl, cr, bl);
		out(b, "\t%s = cxgbe_attach(%d, &cp);\n", f->name,
		    f->kind_index);
		setup_register(b, f);
		break;
	}
	case IFACE__KIND_MLX5: {
		const Mlx5 *m = d->mlx5;
		uint32_t w = clamp_u32(m->workers, 1, 4);
		uint32_t cpw = clamp_u32(m->channels_per_worker, 1, 16);
		uint32_t ch = clamp_u32(m->tx_channels, 1, 8);
		uint32_t sq = clamp_u32(m->sq_size, 1, 1024);
		int pacing = m->packet_pacing != 0;

		snprintf(expect, sizeof(expect), "iface mlx5%d workers=%u "
		    "channels_per_worker=%u tx_channels=%u sq_size=%u "
		    "pacing=%d", G.n_kind[IK_MLX5], w, cpw, ch, sq, pacing);
		l = setup_line(expect);
		f = iface_add(IK_MLX5, setup_ok(l));
		f->n_workers = (int)w;
		G.n_kind[IK_MLX5]++;
		G.nd.mp = true;
		comment(b, "\t", l != NULL ? l : expect);
		out(b, "\tmp = (struct mlx5e_params){ .n_workers = %u, "
		    ".channels_per_worker = %u,\n\t    .n_channels = %u, "
		    ".sq_size = %u, .packet_pacing = %s };\n", w, cpw, ch, sq,
		    pacing ? "true" : "false");
		out(b, "\t%s = mlx5e_attach(%d, &mp);\n", f->name,
		    f->kind_index);
		setup_register(b, f);
		break;
	}
	default: {
		const Nic *n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		uint32_t mtu = n != NULL ? clamp_u32(n->mtu, 576, 9000) : 1500;
		uint32_t ring = n != NULL ? clamp_u32(n->ring_size, 1, 1024) :
		    NIC_RING_DEFAULT;
		bool rl = n != NULL && n->txrtlmt, tso = n != NULL && n->tso;
		char flags[64], ringbuf[24];

		snprintf(expect, sizeof(expect), "iface nic%d%s%s mtu=%u "
		    "ring=%u", G.n_kind[IK_NIC], rl ? " txrtlmt" : "",
		    tso ? " tso" : "", mtu, ring);
		l = setup_line(expect);
		f = iface_add(IK_NIC, setup_ok(l));
		G.n_kind[IK_NIC]++;
		comment(b, "\t", l != NULL ? l : expect);
		snprintf(flags, sizeof(flags), "%s%s%s",
		    rl ? "NIC_F_TXRTLMT" : "", rl && tso ? " | " : "",
		    tso ? "NIC_F_TSO" : "");
		if (n != NULL)
			snprintf(ringbuf, sizeof(ringbuf), "%u", ring);
		else
			snprintf(ringbuf, sizeof(ringbuf), "NIC_RING_DEFAULT");
		out(b, "\t%s = nic_attach(\"nic\", %d, %s, %s, %u);\n",
		    f->name, f->kind_index, flags[0] != '\0' ? flags : "0",
		    ringbuf, mtu);
		setup_register(b, f);
		break;
	}
	}
}

static void
emit_setup(FILE *b)
{
	const Topology *t = G.sc->topology;
	struct sh_iface *f;
	char expect[160], a[96];
	const char *l;
	uint32_t i;

	if ((int)G.lim.max_quiesce_steps ==
	    world_default_limits.max_quiesce_steps &&
	    G.lim.max_bytes == world_default_limits.max_bytes)
		out(b, "\t/* The interpreter's limits are the world's "
		    "defaults. */\n\tworld_init(NULL);\n");
	else {
		G.nd.limits = true;
		out(b, "\twl.max_quiesce_steps = %u;\n\twl.max_bytes = %zu;\n"
		    "\tworld_init(&wl);\n", G.lim.max_quiesce_steps,
		    G.lim.max_bytes);
	}
	if (t == NULL)
		return;
	out(b, "\t/* The interpreter's TTL: a forwarding loop ends within "
	    "%d hops. */\n\tV_ip_defttl = %d;\n\tV_ip6_defhlim = %d;\n",
	    INTERP_TTL, INTERP_TTL, INTERP_TTL);
	if (t->forwarding) {
		l = setup_line("forwarding on");
		comment(b, "\t", "forwarding on");
		out(b, "\tV_ipforwarding = 1;\n\tV_ip6_forwarding = 1;\n");
	}
	for (i = 0; i < t->n_ifaces; i++) {
		out(b, "\n");
		setup_iface(b, t->ifaces[i]);
	}
	for (i = 0; i < t->n_addrs; i++) {
		const LocalAddr *ad = t->addrs[i];

		out(b, "\n");
		f = G.n_ifaces > 0 ?
		    &G.ifaces[ad->iface % (uint32_t)G.n_ifaces] : NULL;
		if (f == NULL || f->state != ST_LIVE) {
			snprintf(expect, sizeof(expect), "addr %s dst=%u -> "
			    "skip", af_name(ad->af), ad->dst % INTERP_NDST);
			l = setup_line(expect);
			comment(b, "\t", expect);
			continue;
		}
		snprintf(expect, sizeof(expect), "addr %s dst=%u iface=%s -> ",
		    af_name(ad->af), ad->dst % INTERP_NDST, f->name);
		l = setup_line(expect);
		comment(b, "\t", l != NULL ? l : expect);
		if (ad->af == AF__V6) {
			fmt_in6(a, sizeof(a), ad->dst, 128, false);
			G.nd.a6 = true;
			out(b, "\ta6 = %s;\n\tin6_ifaddr_add(%s, &a6);\n", a,
			    f->name);
		} else {
			fmt_in4(a, sizeof(a), ad->dst, 32, false);
			out(b, "\tin_ifaddr_add(%s, %s);\n", f->name, a);
		}
		out(b, "\twitness_assert_unlocked(\"setup addr\");\n");
	}
	for (i = 0; i < t->n_routes; i++) {
		const Route *r = t->routes[i];
		int plen = plen_of(r->af, (int)r->prefix);

		out(b, "\n");
		f = G.n_ifaces > 0 ?
		    &G.ifaces[r->iface % (uint32_t)G.n_ifaces] : NULL;
		if (f == NULL || f->state != ST_LIVE) {
			snprintf(expect, sizeof(expect), "route %s dst=%u -> "
			    "skip", af_name(r->af), r->dst % INTERP_NDST);
			l = setup_line(expect);
			comment(b, "\t", expect);
			continue;
		}
		snprintf(expect, sizeof(expect), "route %s dst=%u %s iface=%s "
		    "-> ", af_name(r->af), r->dst % INTERP_NDST,
		    prefix_name((int)r->prefix), f->name);
		l = setup_line(expect);
		comment(b, "\t", l != NULL ? l : expect);
		if (r->af == AF__V6) {
			fmt_in6(a, sizeof(a), r->dst, plen, false);
			G.nd.a6 = true;
			out(b, "\ta6 = %s;\n\trt_add(AF_INET6, &a6, %d, %s);\n",
			    a, plen, f->name);
		} else {
			fmt_in4(a, sizeof(a), r->dst, plen, false);
			G.nd.a4 = true;
			out(b, "\ta4 = %s;\n\trt_add(AF_INET, &a4, %d, %s);\n",
			    a, plen, f->name);
		}
		out(b, "\twitness_assert_unlocked(\"setup route\");\n");
	}
	out(b, "\twitness_assert_unlocked(\"setup\");\n");
}

/* ---- operations ----------------------------------------------------- */

struct opctx {
	uint32_t	 i;
	const char	*tres;		/* traced result; NULL: none */
	char		 text[256];	/* the trace line's start */
	size_t		 tlen;
	const char	*skip;		/* the op does nothing: why */
	FILE		*code;		/* the op's calls */
	char		*codebuf;
	size_t		 codelen;
	bool		 core;		/* calls the core */
};

static void __attribute__((format(printf, 2, 3)))
tx(struct opctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->tlen >= sizeof(c->text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->text + c->tlen, sizeof(c->text) - c->tlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->tlen = c->tlen + (size_t)n < sizeof(c->text) ?
		    c->tlen + (size_t)n : sizeof(c->text) - 1;
}

/* One line of the op's code, indented one tab. */
static void __attribute__((format(printf, 2, 3)))
cx(struct opctx *c, const char *fmt, ...)
{
	va_list ap;

	fputc('\t', c->code);
	va_start(ap, fmt);
	vfprintf(c->code, fmt, ap);
	va_end(ap);
	fputc('\n', c->code);
	c->core = true;
}

/* The interpreter skipped this op for 'why' (known only from its trace). */
static bool
traced_skip(struct opctx *c, const char *why)
{
	char want[96];

	if (c->tres == NULL)
		return (false);
	snprintf(want, sizeof(want), "skip (%s)", why);
	if (strcmp(c->tres, want) != 0)
		return (false);
	c->skip = why;
	return (true);
}

static struct sh_iface *
iface_any(uint32_t ref)
{
	if (G.n_ifaces == 0)
		return (NULL);
	return (&G.ifaces[ref % (uint32_t)G.n_ifaces]);
}

static struct sh_iface *
iface_kind(int kind, uint32_t ref)
{
	uint32_t k;
	int i;

	if (G.n_kind[kind] == 0)
		return (NULL);
	k = ref % (uint32_t)G.n_kind[kind];
	for (i = 0; i < G.n_ifaces; i++)
		if (G.ifaces[i].kind == kind &&
		    G.ifaces[i].kind_index == (int)k)
			return (&G.ifaces[i]);
	return (NULL);
}

static struct sh_iface *
op_iface_kind(struct opctx *c, int kind, uint32_t ref)
{
	struct sh_iface *f = iface_kind(kind, ref);

	if (f == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	tx(c, " %s", f->name);
	if (f->state != ST_LIVE) {
		c->skip = "detached";
		return (NULL);
	}
	return (f);
}

static struct sh_iface *
op_iface_any(struct opctx *c, const char *what, uint32_t ref)
{
	struct sh_iface *f = iface_any(ref);

	if (f == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	tx(c, " %s=%s", what, f->name);
	if (f->state != ST_LIVE) {
		c->skip = "detached";
		return (NULL);
	}
	return (f);
}

/* Slot ref % max_sockets, or the next open one after it; -1: none. */
static int
sock_get(uint32_t ref)
{
	uint32_t n = G.lim.max_sockets, i, s;

	for (i = 0; i < n; i++) {
		s = (ref + i) % n;
		if (G.socks[s].live)
			return ((int)s);
	}
	return (-1);
}

static bool
packet_budget(uint32_t n)
{
	uint32_t old = G.packets;

	G.packets += n;
	return (old + n <= G.lim.max_packets && old + n >= old);
}

static uint32_t
clamp_size(uint32_t size)
{
	return (size < G.lim.max_send_size ? size : G.lim.max_send_size);
}

/* "sin4(&sa, in4(198, 18, d, 1), 5000 + d)" for a destination. */
static void
fmt_sockaddr(char *buf, size_t len, int af, uint32_t d)
{
	char a[96];

	G.nd.sa = true;
	if (af == AF__V6) {
		fmt_in6(a, sizeof(a), d, 128, false);
		G.nd.sin6 = true;
		snprintf(buf, len, "sin6(&sa, %s, %u)", a,
		    5000 + d % INTERP_NDST);
	} else {
		fmt_in4(a, sizeof(a), d, 32, false);
		G.nd.sin4 = true;
		snprintf(buf, len, "sin4(&sa, %s, %u)", a,
		    5000 + d % INTERP_NDST);
	}
}

static const char *
so_var(int s)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "so%d", s);
	G.socks[s].used = true;
	return (buf);
}

static void
op_open(struct opctx *c, const SockOpen *o)
{
	bool udp = o->proto == L4__UDP;
	char sa[160];
	uint32_t s;

	tx(c, "open %s %s", af_name(o->af), udp ? "udp" : "tcp");
	if (o->has_dst)
		tx(c, " dst=%u", o->dst % INTERP_NDST);
	for (s = 0; s < G.lim.max_sockets; s++)
		if (!G.socks[s].live)
			break;
	if (s == G.lim.max_sockets) {
		c->skip = "no free slot";
		return;
	}
	tx(c, " sock=%u", s);
	if (o->has_dst)
		fmt_sockaddr(sa, sizeof(sa), o->af, o->dst);
	if (c->tres != NULL && strcmp(c->tres, "0") != 0) {
		/*
		 * The open failed.  On a fresh socket with one of the
		 * scenario's destinations soconnect cannot fail, so it was
		 * socreate: the slot stays free (the trace of every later
		 * op checks this).
		 */
		cx(c, "%ssocreate(%s, &%s, %s, %s)%s", o->has_dst ? "if (" :
		    "", o->af == AF__V6 ? "AF_INET6" : "AF_INET", so_var(s),
		    udp ? "SOCK_DGRAM" : "SOCK_STREAM",
		    udp ? "IPPROTO_UDP" : "IPPROTO_TCP",
		    o->has_dst ? " == 0)" : ";");
		if (o->has_dst)
			cx(c, "\tsoconnect(%s, %s);", so_var(s), sa);
		return;
	}
	cx(c, "socreate(%s, &%s, %s, %s);",
	    o->af == AF__V6 ? "AF_INET6" : "AF_INET", so_var(s),
	    udp ? "SOCK_DGRAM" : "SOCK_STREAM",
	    udp ? "IPPROTO_UDP" : "IPPROTO_TCP");
	if (o->has_dst)
		cx(c, "soconnect(%s, %s);", so_var(s), sa);
	G.socks[s].live = true;
	G.socks[s].af = o->af;
}

static void
op_close(struct opctx *c, const Close *o)
{
	int s = sock_get(o->sock);

	if (s < 0) {
		tx(c, "close");
		c->skip = "no socket";
		return;
	}
	tx(c, "close sock=%d", s);
	cx(c, "soclose(%s);", so_var(s));
	G.socks[s].live = false;
}

static const char *const rl_action_name[] = { "TCP_RL_SET", "TCP_RL_CHG",
    "TCP_RL_QUERY", "TCP_RL_REL" };

static void
op_sock(struct opctx *c, const Op *op)
{
	struct interp_ktls_args ka;
	char kbuf[64];
	const char *name, *so;
	uint32_t ref, size;
	char sa[160];
	int s;

	switch (op->op_case) {
	case OP__OP_CONNECT:
		name = "connect";
		ref = op->connect->sock;
		break;
	case OP__OP_SET_RATE:
		name = "set_rate";
		ref = op->set_rate->sock;
		break;
	case OP__OP_FLOWTYPE_NONE:
		name = "flowtype_none";
		ref = op->flowtype_none->sock;
		break;
	case OP__OP_SEND:
		name = "send";
		ref = op->send->sock;
		break;
	case OP__OP_TCPDROP:
		name = "tcpdrop";
		ref = op->tcpdrop->sock;
		break;
	case OP__OP_TAG_MODIFY:
		name = "tag_modify";
		ref = op->tag_modify->sock;
		break;
	case OP__OP_TAG_QUERY:
		name = "tag_query";
		ref = op->tag_query->sock;
		break;
	default:
		/* Kernel TLS and pacing users: fuzz/interp_ktls.c. */
		(void)interp_ktls_args(op, &ka);
		name = ka.name;
		ref = ka.sock;
		break;
	}
	tx(c, "%s", name);
	s = sock_get(ref);
	if (s < 0) {
		c->skip = "no socket";
		return;
	}
	tx(c, " sock=%d", s);
	so = so_var(s);
	switch (op->op_case) {
	case OP__OP_CONNECT:
		tx(c, " dst=%u", op->connect->dst % INTERP_NDST);
		/* The socket's own family picks the address. */
		fmt_sockaddr(sa, sizeof(sa), G.socks[s].af, op->connect->dst);
		cx(c, "soconnect(%s, %s);", so, sa);
		break;
	case OP__OP_SET_RATE:
		tx(c, " rate=%u", op->set_rate->rate);
		cx(c, "sosetopt_max_pacing_rate(%s, %u);", so,
		    op->set_rate->rate);
		break;
	case OP__OP_FLOWTYPE_NONE:
		G.nd.inp = true;
		cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cx(c, "\tINP_WLOCK(inp);");
		cx(c, "\tinp->inp_flowtype = M_HASHTYPE_NONE;");
		cx(c, "\tif (!in_pcbrele_wlocked(inp))");
		cx(c, "\t\tINP_WUNLOCK(inp);");
		cx(c, "}");
		break;
	case OP__OP_SEND:
		size = clamp_size(op->send->size);
		tx(c, " size=%u", size);
		if (!packet_budget(1 + size / 1024)) {
			c->skip = "packet budget";
			break;
		}
		cx(c, "sosend(%s, %u, 0);", so, size);
		/* The model's accounting, as the interpreter traces it. */
		G.nd.tx = true;
		cx(c, "tx_report(%d, %s);", s, so);
		break;
	case OP__OP_TCPDROP:
		cx(c, "tcp_drop_socket(%s);", so);
		break;
	case OP__OP_TAG_MODIFY:
		tx(c, " rate=%u", op->tag_modify->rate);
		G.nd.inp = true;
		cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cx(c, "\tINP_WLOCK(inp);");
		cx(c, "\tin_pcbmodify_txrtlmt(inp, %u);", op->tag_modify->rate);
		cx(c, "\tif (!in_pcbrele_wlocked(inp))");
		cx(c, "\t\tINP_WUNLOCK(inp);");
		cx(c, "}");
		break;
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		interp_ktls_detail(&ka, kbuf, sizeof(kbuf));
		tx(c, "%s", kbuf);
		if (!packet_budget(interp_ktls_packets(&ka))) {
			c->skip = "packet budget";
			break;
		}
		if (ka.version != NULL)
			cx(c, "ktls_enable_tx(%s, %d);\t/* %s */", so, ka.vminor,
			    ka.version);
		else if (ka.records != 0)
			cx(c, "ktls_sosend(%s, %d, %d);", so, ka.records,
			    ka.size);
		else
			cx(c, "tcp_rl_pacing_user(%s, %s, %u);", so,
			    rl_action_name[ka.action], ka.rate);
		break;
	default:
		G.nd.inp = G.nd.rate = true;
		cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cx(c, "\tINP_RLOCK(inp);");
		cx(c, "\tif (in_pcbquery_txrtlmt(inp, &rate) == 0)");
		cx(c, "\t\tin_pcbquerylevel_txrtlmt(inp, &level);");
		cx(c, "\tif (!in_pcbrele_rlocked(inp))");
		cx(c, "\t\tINP_RUNLOCK(inp);");
		cx(c, "}");
		break;
	}
}

static void
op_receive(struct opctx *c, const Receive *o)
{
	uint32_t size = clamp_size(o->size);
	bool tcp = o->proto == L4__TCP;
	struct sh_iface *f;
	char s4[96], d4[96];

	if (o->af == AF__V6)
		size = size < 65535u ? size : 65535u;
	else
		size = size < IP_MAXPACKET - (uint32_t)sizeof(struct ip) ?
		    size : IP_MAXPACKET - (uint32_t)sizeof(struct ip);
	tx(c, "receive %s dst=%u size=%u %s", af_name(o->af),
	    o->dst % INTERP_NDST, size, tcp ? "tcp" : "udp");
	f = iface_any(o->iface);
	if (f == NULL || f->state != ST_LIVE) {
		c->skip = f == NULL ? "no iface" : "detached";
		return;
	}
	tx(c, " iface=%s", f->name);
	/* Only the model knows if_input; an untraced op is taken to run. */
	if (f->kind != IK_NIC && traced_skip(c, "no input"))
		return;
	if (!packet_budget(1)) {
		c->skip = "packet budget";
		return;
	}
	G.nd.m = true;
	if (o->af == AF__V6) {
		fmt_in6(s4, sizeof(s4), 0, 128, true);
		fmt_in6(d4, sizeof(d4), o->dst, 128, false);
		G.nd.a6 = G.nd.b6 = true;
		cx(c, "a6 = %s;", s4);
		cx(c, "b6 = %s;", d4);
		cx(c, "m = packet_build_ip6(&a6, &b6, %s, %u, M_NOWAIT);",
		    tcp ? "IPPROTO_TCP" : "IPPROTO_UDP", size);
	} else {
		fmt_in4(s4, sizeof(s4), 0, 32, true);
		fmt_in4(d4, sizeof(d4), o->dst, 32, false);
		cx(c, "m = packet_build_ip4(%s, %s,", s4, d4);
		cx(c, "    %s, %u, M_NOWAIT);",
		    tcp ? "IPPROTO_TCP" : "IPPROTO_UDP", size);
	}
	if (f->kind == IK_NIC) {
		cx(c, "if (m != NULL)");
		cx(c, "\tnic_rx(%s, m);", f->name);
	} else {
		/* What a driver's receive interrupt does. */
		G.nd.et = true;
		cx(c, "if (m != NULL) {");
		cx(c, "\tNET_EPOCH_ENTER(et);");
		cx(c, "\tm->m_pkthdr.rcvif = %s;", f->name);
		cx(c, "\t%s->if_input(%s, m);", f->name, f->name);
		cx(c, "\tNET_EPOCH_EXIT(et);");
		cx(c, "}");
	}
}

static void
op_route(struct opctx *c, int which, const Route *r)
{
	static const char *const names[] = { "route_add", "route_change",
	    "route_delete" };
	struct sh_iface *f = NULL;
	int plen = plen_of(r->af, (int)r->prefix);
	char a[96];

	tx(c, "%s %s dst=%u %s", names[which], af_name(r->af),
	    r->dst % INTERP_NDST, prefix_name((int)r->prefix));
	if (which != 2) {
		f = op_iface_any(c, "iface", r->iface);
		if (f == NULL)
			return;
	}
	if (r->af == AF__V6) {
		fmt_in6(a, sizeof(a), r->dst, plen, false);
		G.nd.a6 = true;
		cx(c, "a6 = %s;", a);
	} else {
		fmt_in4(a, sizeof(a), r->dst, plen, false);
		G.nd.a4 = true;
		cx(c, "a4 = %s;", a);
	}
	if (which == 2)
		cx(c, "rt_delete(%s, &%s, %d);", r->af == AF__V6 ?
		    "AF_INET6" : "AF_INET", r->af == AF__V6 ? "a6" : "a4",
		    plen);
	else
		cx(c, "%s(%s, &%s, %d, %s);", which == 0 ? "rt_add" :
		    "rt_change", r->af == AF__V6 ? "AF_INET6" : "AF_INET",
		    r->af == AF__V6 ? "a6" : "a4", plen, f->name);
}

/* "INT_MAX" for 0 (everything), else the count. */
static const char *
count_arg(uint32_t n)
{
	static char buf[16];

	if (n == 0 || n > INT_MAX)
		return ("INT_MAX");
	snprintf(buf, sizeof(buf), "%u", n);
	return (buf);
}

/* Would making p the parent of vlan v close a loop (best effort)? */
static bool
vlan_would_loop(const struct sh_iface *v, const struct sh_iface *p)
{
	int idx = (int)(p - G.ifaces), depth;

	for (depth = 0; depth < INTERP_MAX_IFACES && idx >= 0; depth++) {
		if (&G.ifaces[idx] == v)
			return (true);
		if (G.ifaces[idx].kind != IK_VLAN ||
		    G.ifaces[idx].state != ST_LIVE)
			return (false);
		idx = G.ifaces[idx].parent;
	}
	return (idx >= 0);
}

static void
detach_shadow(struct sh_iface *f)
{
	int i, me = (int)(f - G.ifaces);

	f->state = ST_DEAD;
	if (f->peer >= 0)
		G.ifaces[f->peer].state = ST_DEAD;
	for (i = 0; i < G.n_ifaces; i++)
		if (G.ifaces[i].kind == IK_VLAN && (G.ifaces[i].parent == me ||
		    (f->peer >= 0 && G.ifaces[i].parent == f->peer)))
			G.ifaces[i].parent = -1;
}

static const char *
malloc_kind_name(int k)
{
	static const char *const names[] = {
		"any", "mbuf", "cluster", "socket", "pcb", "ifnet", "vlan",
		"lagg", "nic", "cxgbe", "mlx5", "route", "devbuf", "temp",
		"epair"
	};

	if (k < 0 || (size_t)k >= sizeof(names) / sizeof(names[0]))
		return ("any");
	return (names[k]);
}

/* The C name of a FailAlloc type; NULL for "any"; "" if not built. */
static const char *
malloc_kind_sym(int k)
{
	switch (k) {
	case MALLOC_KIND__MT_MBUF:
		return ("M_MBUF");
	case MALLOC_KIND__MT_CLUSTER:
		return ("M_MBUF_CLUSTER");
	case MALLOC_KIND__MT_SOCKET:
		return ("M_SOCKET");
	case MALLOC_KIND__MT_PCB:
		return ("M_PCB");
	case MALLOC_KIND__MT_IFNET:
		return ("M_IFNET");
	case MALLOC_KIND__MT_VLAN:
		return (M_VLAN != NULL ? "M_VLAN" : "");
	case MALLOC_KIND__MT_LAGG:
		return (M_LAGG != NULL ? "M_LAGG" : "");
	case MALLOC_KIND__MT_NIC:
		G.nd.m_nic = M_NIC != NULL;
		return (M_NIC != NULL ? "M_NIC" : "");
	case MALLOC_KIND__MT_CXGBE:
		G.nd.m_cxgbe = M_CXGBE != NULL;
		return (M_CXGBE != NULL ? "M_CXGBE" : "");
	case MALLOC_KIND__MT_MLX5:
		return (M_MLX5EN != NULL ? "M_MLX5EN" : "");
	case MALLOC_KIND__MT_ROUTE:
		G.nd.m_rtable = M_RTABLE != NULL;
		return (M_RTABLE != NULL ? "M_RTABLE" : "");
	case MALLOC_KIND__MT_DEVBUF:
		return ("M_DEVBUF");
	case MALLOC_KIND__MT_TEMP:
		return ("M_TEMP");
	case MALLOC_KIND__MT_EPAIR:
		G.nd.m_epair = M_EPAIR != NULL;
		return (M_EPAIR != NULL ? "M_EPAIR" : "");
	default:
		return (NULL);
	}
}

static void
op_other(struct opctx *c, const Op *op)
{
	struct sh_iface *f, *p;
	uint32_t n;

	switch (op->op_case) {
	case OP__OP_EPAIR_DELIVER:
		n = op->epair_deliver->count;
		tx(c, "epair_deliver count=%u", n);
		cx(c, "epair_deliver(%s);", count_arg(n));
		break;
	case OP__OP_ROUTE_ADD:
		op_route(c, 0, op->route_add);
		break;
	case OP__OP_ROUTE_CHANGE:
		op_route(c, 1, op->route_change);
		break;
	case OP__OP_ROUTE_DELETE:
		op_route(c, 2, op->route_delete);
		break;
	case OP__OP_VLAN_REPARENT: {
		const VlanReparent *v = op->vlan_reparent;

		tx(c, "vlan_reparent");
		f = op_iface_kind(c, IK_VLAN, v->vlan);
		if (f == NULL)
			break;
		if (!v->has_parent) {
			tx(c, " parent=none");
			cx(c, "vlan_setparent(%s, NULL);", f->name);
			if (c->tres == NULL || strcmp(c->tres, "0") == 0)
				f->parent = -1;
			break;
		}
		p = op_iface_any(c, "parent", v->parent);
		if (p == NULL)
			break;
		if (p == f || (c->tres != NULL ? traced_skip(c, "loop") :
		    vlan_would_loop(f, p))) {
			c->skip = "loop";
			break;
		}
		cx(c, "vlan_setparent(%s, %s);", f->name, p->name);
		if (c->tres == NULL || strcmp(c->tres, "0") == 0)
			f->parent = (int)(p - G.ifaces);
		break;
	}
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE: {
		bool add = op->op_case == OP__OP_LAGG_PORT_ADD;
		const LaggPort *l = add ? op->lagg_port_add :
		    op->lagg_port_remove;

		tx(c, "%s", add ? "lagg_port_add" : "lagg_port_remove");
		f = op_iface_kind(c, IK_LAGG, l->lagg);
		if (f == NULL)
			break;
		p = op_iface_any(c, "port", l->port);
		if (p == NULL)
			break;
		if (p->kind == IK_VLAN || p->kind == IK_LAGG) {
			c->skip = "not a port kind";
			break;
		}
		cx(c, "%s(%s, %s);", add ? "lagg_port_create" :
		    "lagg_port_destroy", f->name, p->name);
		break;
	}
	case OP__OP_LINK:
		tx(c, "link %s", op->link->up ? "up" : "down");
		f = op_iface_any(c, "iface", op->link->iface);
		if (f == NULL)
			break;
		cx(c, "if_link_state_change(%s, %s);", f->name,
		    op->link->up ? "LINK_STATE_UP" : "LINK_STATE_DOWN");
		break;
	case OP__OP_LAGG_PROTO:
		tx(c, "lagg_proto proto=%s",
		    lagg_proto_name(op->lagg_proto->proto));
		f = op_iface_kind(c, IK_LAGG, op->lagg_proto->lagg);
		if (f == NULL)
			break;
		cx(c, "lagg_set_proto(%s, %s);", f->name,
		    lagg_proto_sym(op->lagg_proto->proto));
		break;
	case OP__OP_LAGG_OPTS:
		tx(c, "lagg_opts use_flowid=%d",
		    op->lagg_opts->use_flowid ? 1 : 0);
		f = op_iface_kind(c, IK_LAGG, op->lagg_opts->lagg);
		if (f == NULL)
			break;
		cx(c, "lagg_set_opts(%s, %sLAGG_OPT_USE_FLOWID);", f->name,
		    op->lagg_opts->use_flowid ? "" : "-");
		break;
	case OP__OP_IFCAP:
		tx(c, "ifcap txrtlmt=%s", op->ifcap->txrtlmt ? "on" : "off");
		f = op_iface_any(c, "iface", op->ifcap->iface);
		if (f == NULL)
			break;
		cx(c, "ifconfig_setcap(%s, IFCAP_TXRTLMT, %s);", f->name,
		    op->ifcap->txrtlmt ? "true" : "false");
		break;
	case OP__OP_DETACH:
		tx(c, "detach");
		f = op_iface_any(c, "iface", op->detach->iface);
		if (f == NULL)
			break;
		/*
		 * The interpreter keeps the world's entry and its teardown
		 * hook skips a detached interface; forgetting the entry
		 * gives the same calls at teardown.
		 */
		if (f->kind == IK_EPAIR)
			cx(c, "world_forget_ifnet(%s);",
			    G.ifaces[f->peer > (int)(f - G.ifaces) ? f->peer :
			    (int)(f - G.ifaces)].name);
		else
			cx(c, "world_forget_ifnet(%s);", f->name);
		cx(c, "%s(%s);", detach_fn(f->kind), f->name);
		detach_shadow(f);
		break;
	case OP__OP_NIC_TXEOF:
		n = op->nic_txeof->count;
		tx(c, "nic_txeof count=%u", n);
		f = op_iface_kind(c, IK_NIC, op->nic_txeof->nic);
		if (f == NULL)
			break;
		cx(c, "nic_txeof(%s, %s);", f->name, count_arg(n));
		break;
	case OP__OP_MLX5_COMPLETE:
		n = op->mlx5_complete->count;
		tx(c, "mlx5_complete count=%u", n);
		f = op_iface_kind(c, IK_MLX5, op->mlx5_complete->mlx5);
		if (f == NULL)
			break;
		cx(c, "mlx5e_tx_complete(%s, %s);", f->name, count_arg(n));
		break;
	case OP__OP_CXGBE_ACK: {
		const CxgbeAck *a = op->cxgbe_ack;

		tx(c, "cxgbe_ack credits=%u", a->credits);
		f = op_iface_kind(c, IK_CXGBE, a->cxgbe);
		if (f == NULL)
			break;
		if (traced_skip(c, "no flow"))
			break;
		/* The n-th etid in use is the model's state: look it up. */
		G.nd.k = true;
		cx(c, "k = cxgbe_etids_in_use(%s);", f->name);
		cx(c, "if (k > 0 && (etid = cxgbe_etid_nth(%s, %u %% k)) >= 0)",
		    f->name, a->flow);
		cx(c, "\tcxgbe_fw4_ack(%s, etid, %u);", f->name,
		    a->credits > INT_MAX ? INT_MAX : a->credits);
		break;
	}
	case OP__OP_MLX5_WORKER:
		tx(c, "mlx5_worker");
		f = op_iface_kind(c, IK_MLX5, op->mlx5_worker->mlx5);
		if (f == NULL)
			break;
		n = op->mlx5_worker->worker % (uint32_t)f->n_workers;
		tx(c, " worker=%u", n);
		cx(c, "mlx5e_rl_worker_run(%s, %u);", f->name, n);
		break;
	case OP__OP_TASKQUEUE:
		n = clamp_u32(op->taskqueue->rounds, 1, 16);
		tx(c, "taskqueue rounds=%u", n);
		if (n == 1)
			cx(c, "taskqueue_run_all();");
		else {
			G.nd.i = true;
			cx(c, "for (i = 0; i < %u; i++)", n);
			cx(c, "\ttaskqueue_run_all();");
		}
		break;
	case OP__OP_EPOCH:
		tx(c, "epoch");
		cx(c, "epoch_drain_callbacks();");
		break;
	case OP__OP_DELIVER_ALL:
		tx(c, "deliver_all");
		cx(c, "world_progress_all();");
		break;
	case OP__OP_FAIL_ALLOC: {
		const FailAlloc *fa = op->fail_alloc;
		const char *sym;

		tx(c, "fail_alloc nth=%u type=%s", fa->nth,
		    malloc_kind_name((int)fa->type));
		if (fa->nth == 0) {
			cx(c, "malloc_fail_disarm();");
			break;
		}
		sym = malloc_kind_sym((int)fa->type);
		if (sym != NULL && sym[0] == '\0') {
			c->skip = "type not in this build";
			break;
		}
		cx(c, "malloc_fail_arm(%u, %s);", fa->nth,
		    sym != NULL ? sym : "NULL");
		break;
	}
	default:
		tx(c, "nop");
		break;
	}
}

/* interp.c's op_name() without the "op " (the schema's field name). */
static const char *
op_name(const Op *op)
{
	const ProtobufCFieldDescriptor *fd;

	if (op->op_case == OP__OP__NOT_SET)
		return ("nop");
	fd = protobuf_c_message_descriptor_get_field(&op__descriptor,
	    (unsigned)op->op_case);
	return (fd != NULL ? fd->name : "nop");
}

static bool
starts_with(const char *s, const char *p)
{
	return (strncmp(s, p, strlen(p)) == 0);
}

static void
emit_op(FILE *b, uint32_t i, bool *any_fail_alloc)
{
	const Op *op = G.sc->ops[i];
	struct opctx c;
	const char *line = G.opline[i], *res;
	char head[320], nm[64];
	size_t tl;

	memset(&c, 0, sizeof(c));
	c.i = i;
	c.code = open_memstream(&c.codebuf, &c.codelen);
	if (c.code == NULL)
		fatal("out of memory");
	res = line != NULL ? result_of(line) : NULL;
	c.tres = res;
	if (op->op_case == OP__OP_FAIL_ALLOC)
		*any_fail_alloc = true;
	switch (op->op_case) {
	case OP__OP_OPEN:
		op_open(&c, op->open);
		break;
	case OP__OP_CLOSE:
		op_close(&c, op->close);
		break;
	case OP__OP_CONNECT:
	case OP__OP_SET_RATE:
	case OP__OP_FLOWTYPE_NONE:
	case OP__OP_SEND:
	case OP__OP_TCPDROP:
	case OP__OP_TAG_MODIFY:
	case OP__OP_TAG_QUERY:
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		op_sock(&c, op);
		break;
	case OP__OP_RECEIVE:
		op_receive(&c, op->receive);
		break;
	default:
		op_other(&c, op);
		break;
	}
	fclose(c.code);
	/* Check the shadow against the interpreter's own line. */
	if (line != NULL) {
		tl = (size_t)(res - line) >= 4 ? (size_t)(res - line) - 4 :
		    strlen(line);
		if (tl < c.tlen || strncmp(line, c.text, c.tlen) != 0)
			fatal("%s: op #%u: the interpreter traced '%s', the "
			    "generator resolved '%s'; cannot mirror it",
			    G.path, i, line, c.text);
		if (c.skip != NULL) {
			char want[96];

			snprintf(want, sizeof(want), "skip (%s)", c.skip);
			if (strcmp(res, want) != 0)
				fatal("%s: op #%u: the interpreter traced "
				    "'%s', the generator expected a skip (%s); "
				    "cannot mirror it", G.path, i, line,
				    c.skip);
		} else if (starts_with(res, "skip"))
			fatal("%s: op #%u: the interpreter traced '%s', the "
			    "generator expected a call; cannot mirror it",
			    G.path, i, line);
	}
	out(b, "\n");
	if (line != NULL)
		snprintf(head, sizeof(head), "#%u t%u %s", i, G.op_thread[i],
		    line);
	else
		snprintf(head, sizeof(head), "#%u t%u %s%s%s (%s)", i,
		    G.op_thread[i], c.text, c.skip != NULL ? " -> skip " : "",
		    c.skip != NULL ? c.skip : "",
		    (long)i == G.crash_op ? "the run ends in this operation "
		    "on this core" : "not reached on this core; resolved "
		    "without a trace");
	comment(b, "\t", head);
	if (c.skip == NULL && c.codelen > 0) {
		fwrite(c.codebuf, 1, c.codelen, b);
		snprintf(nm, sizeof(nm), "op %s", op_name(op));
		if (c.core)
			out(b, "\twitness_assert_unlocked(\"%s\");\n", nm);
	}
	(free)(c.codebuf);
}

/* ---- the program ---------------------------------------------------- */

static void
emit_helpers(FILE *fp)
{
	if (G.nd.tx)
		out(fp,
"\n"
"/* The connection's transmit accounting (struct inp_txstat). */\n"
"static void\n"
"tx_report(int s, struct socket *so)\n"
"{\n"
"\tconst struct inp_txstat *st;\n"
"\tstruct inpcb *inp = so->so_pcb;\n"
"\n"
"\tif (inp == NULL)\n"
"\t\treturn;\n"
"\tst = &inp->inp_txstat;\n"
"\tprintf(\"tx sock=%%d tagged=%%ju untagged=%%ju drop_mismatch=%%ju \"\n"
"\t    \"drop_other=%%ju rl_fail=%%ju rl_rate=%%ju\\n\", s,\n"
"\t    (uintmax_t)st->its_tagged, (uintmax_t)st->its_untagged,\n"
"\t    (uintmax_t)st->its_drop_mismatch, (uintmax_t)st->its_drop_other,\n"
"\t    (uintmax_t)st->its_rl_fail, (uintmax_t)st->its_rl_rate);\n"
"}\n");
	if (G.nd.ifrep)
		out(fp,
"\n"
"/* One interface's accounting, as the interpreter traces it. */\n"
"static void\n"
"if_report(struct ifnet *ifp, void *arg)\n"
"{\n"
"\tconst struct if_txstat *st = &ifp->if_txstat;\n"
"\n"
"\t(void)arg;\n"
"\tprintf(\"if %%s tagged=%%ju untagged=%%ju drop_mismatch=%%ju \"\n"
"\t    \"drop_nobufs=%%ju drop_other=%%ju opackets=%%ju oerrors=%%ju \"\n"
"\t    \"ipackets=%%ju ierrors=%%ju\\n\", ifp->if_xname,\n"
"\t    (uintmax_t)st->ifts_tagged, (uintmax_t)st->ifts_untagged,\n"
"\t    (uintmax_t)st->ifts_drop_mismatch,\n"
"\t    (uintmax_t)st->ifts_drop_nobufs, (uintmax_t)st->ifts_drop_other,\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_opackets),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_oerrors),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_ipackets),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_ierrors));\n"
"}\n");
	if (G.nd.in4)
		out(fp,
"\n"
"/* An IPv4 address; the model keeps addresses in host byte order. */\n"
"static struct in_addr\n"
"in4(int a, int b, int c, int d)\n"
"{\n"
"\tstruct in_addr in;\n"
"\n"
"\tin.s_addr = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |\n"
"\t    (uint32_t)d;\n"
"\treturn (in);\n"
"}\n");
	if (G.nd.in6)
		out(fp,
"\n"
"/* An IPv6 address from its eight 16-bit words. */\n"
"static struct in6_addr\n"
"in6(int w0, int w1, int w2, int w3, int w4, int w5, int w6, int w7)\n"
"{\n"
"\tconst int w[8] = { w0, w1, w2, w3, w4, w5, w6, w7 };\n"
"\tstruct in6_addr in;\n"
"\tint i;\n"
"\n"
"\tfor (i = 0; i < 8; i++) {\n"
"\t\tin.s6_addr[2 * i] = (uint8_t)(w[i] >> 8);\n"
"\t\tin.s6_addr[2 * i + 1] = (uint8_t)w[i];\n"
"\t}\n"
"\treturn (in);\n"
"}\n");
	if (G.nd.sin4)
		out(fp,
"\n"
"/* A sockaddr_in in the model's struct sockaddr (room for either family). */\n"
"static const struct sockaddr *\n"
"sin4(struct sockaddr *sa, struct in_addr addr, int port)\n"
"{\n"
"\tstruct sockaddr_in sin;\n"
"\n"
"\tmemset(sa, 0, sizeof(*sa));\n"
"\tmemset(&sin, 0, sizeof(sin));\n"
"\tsin.sin_len = sizeof(sin);\n"
"\tsin.sin_family = AF_INET;\n"
"\tsin.sin_port = (uint16_t)port;\n"
"\tsin.sin_addr = addr;\n"
"\tmemcpy(sa, &sin, sizeof(sin));\n"
"\treturn (sa);\n"
"}\n");
	if (G.nd.sin6)
		out(fp,
"\n"
"/* A sockaddr_in6 in the model's struct sockaddr. */\n"
"static const struct sockaddr *\n"
"sin6(struct sockaddr *sa, struct in6_addr addr, int port)\n"
"{\n"
"\tstruct sockaddr_in6 sin6;\n"
"\n"
"\tmemset(sa, 0, sizeof(*sa));\n"
"\tmemset(&sin6, 0, sizeof(sin6));\n"
"\tsin6.sin6_len = sizeof(sin6);\n"
"\tsin6.sin6_family = AF_INET6;\n"
"\tsin6.sin6_port = (uint16_t)port;\n"
"\tsin6.sin6_addr = addr;\n"
"\tmemcpy(sa, &sin6, sizeof(sin6));\n"
"\treturn (sa);\n"
"}\n");
}

static void
emit_decls(FILE *fp)
{
	int i, col = 0, n = 0;

	for (i = 0; i < G.n_ifaces; i++) {
		if (n == 0) {
			out(fp, "\tstruct ifnet *%s = NULL", G.ifaces[i].name);
			col = 22 + (int)strlen(G.ifaces[i].name) + 7;
		} else if (col + (int)strlen(G.ifaces[i].name) + 10 > 72) {
			out(fp, ";\n\tstruct ifnet *%s = NULL",
			    G.ifaces[i].name);
			col = 22 + (int)strlen(G.ifaces[i].name) + 7;
		} else {
			out(fp, ", *%s = NULL", G.ifaces[i].name);
			col += (int)strlen(G.ifaces[i].name) + 10;
		}
		n++;
	}
	if (n > 0)
		out(fp, ";\n");
	n = 0;
	for (i = 0; i < INTERP_MAX_SOCKETS; i++) {
		if (!G.socks[i].used)
			continue;
		out(fp, n == 0 ? "\tstruct socket *so%d = NULL" :
		    (n % 4 == 0 ? ";\n\tstruct socket *so%d = NULL" :
		    ", *so%d = NULL"), i);
		n++;
	}
	if (n > 0)
		out(fp, ";\n");
	if (G.nd.limits)
		out(fp, "\tstruct world_limits wl;\n");
	if (G.nd.cp)
		out(fp, "\tstruct cxgbe_params cp;\n");
	if (G.nd.mp)
		out(fp, "\tstruct mlx5e_params mp;\n");
	if (G.nd.et)
		out(fp, "\tstruct epoch_tracker et;\n");
	if (G.nd.sa)
		out(fp, "\tstruct sockaddr sa;\n");
	if (G.nd.a4)
		out(fp, "\tstruct in_addr a4;\n");
	if (G.nd.a6 || G.nd.b6)
		out(fp, "\tstruct in6_addr %s;\n", G.nd.a6 && G.nd.b6 ?
		    "a6, b6" : G.nd.a6 ? "a6" : "b6");
	if (G.nd.inp)
		out(fp, "\tstruct inpcb *inp;\n");
	if (G.nd.m)
		out(fp, "\tstruct mbuf *m;\n");
	if (G.nd.rate)
		out(fp, "\tuint32_t rate, level;\n");
	if (G.nd.i || G.nd.k)
		out(fp, "\tint %s%s%s;\n", G.nd.i ? "i" : "",
		    G.nd.i && G.nd.k ? ", " : "", G.nd.k ? "k, etid" : "");
}

/* The first line of a crash report worth quoting. */
static void
report_line(const char *report, char *buf, size_t len)
{
	const char *l = report, *nl;
	size_t n;

	buf[0] = '\0';
	for (; l != NULL && *l != '\0'; l = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		n = nl != NULL ? (size_t)(nl - l) : strlen(l);
		if (starts_with(l, "panic: ") || (strstr(l, "ERROR: ") !=
		    NULL && (size_t)(strstr(l, "ERROR: ") - l) < n) ||
		    (strstr(l, "runtime error: ") != NULL &&
		    (size_t)(strstr(l, "runtime error: ") - l) < n) ||
		    (strstr(l, "WARNING: ThreadSanitizer") != NULL &&
		    (size_t)(strstr(l, "WARNING: ThreadSanitizer") - l) < n)) {
			if (n >= len)
				n = len - 1;
			memcpy(buf, l, n);
			buf[n] = '\0';
			return;
		}
	}
}

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return (true);
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return (false);
	return (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static char *
read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	ssize_t r;
	char *buf = (malloc)(cap);

	if (buf == NULL || lseek(fd, 0, SEEK_SET) != 0)
		fatal("cannot read the interpreter's trace");
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				fatal("out of memory");
		}
	}
	buf[n] = '\0';
	*len = n;
	return (buf);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "text", no_argument, NULL, 't' },
		{ "binary", no_argument, NULL, 'b' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum scenario_format fmt = SF_AUTO, used = SF_TEXT;
	char err[320], bucket[CRASH_BUCKET_MAX], rline[512], where[96];
	char *trace, *bodybuf = NULL, *filebuf = NULL;
	size_t tlen, bodylen = 0, filelen = 0;
	const char *outpath = NULL;
	struct tracearg ta;
	struct crashrun cr;
	struct interp *ip;
	bool any_fail = false;
	Scenario *sc;
	FILE *tf, *fp;
	uint8_t *buf, seen[INTERP_MAX_THREADS];
	int dense[INTERP_MAX_THREADS], nt = 0, ch;
	uint32_t i;
	size_t len;

	snprintf(prog, sizeof(prog), "%s%s%s", PROG_BASE,
	    repro_variant[0] != '\0' ? "_" : "", repro_variant);
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			outpath = optarg;
			break;
		case 't':
			fmt = SF_TEXT;
			break;
		case 'b':
			fmt = SF_BINARY;
			break;
		case 'r':
			fmt = SF_RAW;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			fprintf(stderr, "%s: see --help\n", prog);
			return (2);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one scenario file (see --help)\n",
		    prog);
		return (2);
	}
	G.path = argv[optind];
	if (outpath != NULL && same_file(outpath, G.path))
		fatal("%s: refusing to overwrite the input; pick another -o",
		    outpath);
	buf = scenario_read_file(G.path, &len, err, sizeof(err));
	if (buf == NULL)
		fatal("%s: %s; pass a .txt scenario or a binary from the "
		    "fuzzer", G.path, err);
	sc = scenario_decode(buf, len, fmt, &used, err, sizeof(err));
	(free)(buf);
	if (sc == NULL)
		fatal("%s: not a scenario (%s); pass a .txt scenario or a "
		    "binary from the fuzzer", G.path, err);
	G.sc = sc;
	ip = interp_new(sc, NULL);
	if (ip == NULL)
		fatal("%s: rejected by the interpreter (%s)", G.path,
		    interp_reject_reason());
	interp_free(ip);
	G.lim = interp_default_limits;
	G.lim.max_sockets = clamp_u32(G.lim.max_sockets, 1,
	    INTERP_MAX_SOCKETS);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < sc->n_ops && i < sizeof(G.op_thread); i++) {
		uint32_t t = sc->ops[i]->thread % INTERP_MAX_THREADS;

		if (!seen[t]) {
			seen[t] = 1;
			dense[t] = nt++;
		}
		G.op_thread[i] = (uint8_t)dense[t];
	}

	/* The interpreter's own run, traced. */
	tf = tmpfile();
	if (tf == NULL)
		fatal("cannot create a temporary file: %s", strerror(errno));
	ta.sc = sc;
	ta.fd = fileno(tf);
	if (crashrun(child_trace, &ta, 600 * 1000, false, &cr) != 0)
		fatal("cannot fork a child: %s", strerror(errno));
	crashrun_bucket(&cr, bucket, sizeof(bucket));
	report_line(cr.report, rline, sizeof(rline));
	if (cr.timed_out)
		fatal("%s: the interpreter's run timed out", G.path);
	trace = read_all(fileno(tf), &tlen);
	fclose(tf);
	parse_trace(trace);
	(free)(trace);
	if (G.clean && bucket[0] != '\0')
		fatal("%s: the run traced a clean ledger but ended with '%s'",
		    G.path, bucket);
	if (!G.clean && bucket[0] == '\0')
		fatal("%s: the interpreter's run ended without a clean ledger "
		    "and without a report", G.path);

	/* Body: setup, operations, teardown. */
	G.body = open_memstream(&bodybuf, &bodylen);
	if (G.body == NULL)
		fatal("out of memory");
	emit_setup(G.body);
	if (G.setup_pos < G.n_setup)
		fatal("%s: the interpreter traced setup lines the generator "
		    "did not expect ('%s'); cannot mirror it", G.path,
		    G.setup[G.setup_pos]);
	for (i = 0; i < sc->n_ops; i++)
		emit_op(G.body, i, &any_fail);
	if (sc->n_ops > 0) {
		out(G.body, "\n\t/* Per-interface accounting (struct if_txstat, "
		    "the ifnet counters). */\n"
		    "\tifnet_foreach_live(if_report, NULL);\n");
		G.nd.ifrep = true;
	}
	out(G.body, "\n\t/* Teardown, as interp_finish(): pending events, "
	    "close, destroy, ledger. */\n");
	if (any_fail)
		out(G.body, "\tmalloc_fail_disarm();\n");
	out(G.body, "\tworld_teardown();\n\tworld_check_ledger();\n"
	    "\tworld_fini();\n\tprintf(\"ledger clean\\n\");\n"
	    "\treturn (0);\n}\n");
	fclose(G.body);

	/* The file. */
	fp = open_memstream(&filebuf, &filelen);
	if (fp == NULL)
		fatal("out of memory");
	out(fp, "/*\n * C reproducer for %s\n * (%s scenario, %zu ops), "
	    "generated by %s\n", G.path, scenario_format_name(used),
	    sc->n_ops, prog);
	if (repro_variant[0] != '\0')
		out(fp, " * for the %s variant core (sndtag_core_%s).\n",
		    repro_variant, repro_variant);
	else
		out(fp, " * for the correct core (sndtag_core).\n");
	out(fp, " *\n");
	if (G.clean)
		out(fp, " * On that core the interpreter's run ends cleanly "
		    "(ledger clean), and so\n * does this program.\n");
	else {
		if (G.crash_op >= 0)
			snprintf(where, sizeof(where), "in operation #%ld",
			    G.crash_op);
		else if (G.setup_crashed)
			snprintf(where, sizeof(where), "during setup");
		else
			snprintf(where, sizeof(where), "in teardown or the "
			    "ledger check");
		out(fp, " * On that core the interpreter's run ends %s "
		    "with\n", where);
		comment_body(fp, rline[0] != '\0' ? rline : bucket);
		out(fp, " * (bucket: ");
		comment_text(fp, bucket);
		out(fp, "),\n * and so does this program.\n");
	}
	if (nt > 1)
		out(fp, " *\n * The scenario has %d logical threads.  The "
		    "interpreter's threaded mode\n * interleaves them under "
		    "the controlled scheduler; this program runs the\n"
		    " * operations one after another in input order, as "
		    "sndtag-replay does.\n", nt);
	out(fp,
" *\n"
" * Every value below is the one the interpreter used: interfaces and\n"
" * sockets resolved from their indices, values clamped, destinations\n"
" * turned into addresses.  Where the interpreter decides from the model's\n"
" * state at run time (an open that failed, an interface without input, a\n"
" * vlan loop, the packet budget), this program follows the decision of\n"
" * the interpreter's own run, whose trace line is each operation's\n"
" * comment; a cxgbe flow is looked up the way the interpreter does.  A\n"
" * detached interface leaves the world's teardown list at once, which\n"
" * gives the same teardown calls as the interpreter's hook that skips it.\n"
" *\n"
" * Build against the same core, e.g. for the asan preset:\n"
" *\tclang -fsanitize=address -g -iquote core -o repro repro.c \\\n"
" *\t    build/asan/core/libsndtag_core%s%s.a -lpthread\n"
" */\n", repro_variant[0] != '\0' ? "_" : "", repro_variant);
	out(fp,
"#include <limits.h>\n"
"#include <stdio.h>\n"
"#include <string.h>\n"
"\n"
"#include \"harness/packet.h\"\n"
"#include \"harness/world.h\"\n"
"#include \"net/if_epair.h\"\n"
"#include \"net/if_lagg.h\"\n"
"#include \"net/if_loop.h\"\n"
"#include \"net/if_var.h\"\n"
"#include \"net/if_vlan_var.h\"\n"
"#include \"net/route.h\"\n"
"#include \"netinet/in_pcb.h\"\n"
"#include \"netinet/tcp_ratelimit.h\"\n"
"#include \"netinet/ip_var.h\"\n"
"#include \"netinet6/ip6_var.h\"\n"
"#include \"shim/epoch.h\"\n"
"#include \"shim/lock.h\"\n"
"#include \"shim/malloc.h\"\n"
"#include \"shim/taskqueue.h\"\n"
"#include \"sys/ktls.h\"\n"
"#include \"sys/socketvar.h\"\n"
"#include \"dev/cxgbe/adapter.h\"\n"
"#include \"dev/mlx5/mlx5_en/en.h\"\n"
"#include \"dev/nic/if_nic.h\"\n");
	if (G.nd.m_nic || G.nd.m_rtable || G.nd.m_epair || G.nd.m_cxgbe)
		out(fp, "\n/* Malloc types the headers above do not "
		    "declare. */\n%s%s%s%s",
		    G.nd.m_cxgbe ? "MALLOC_DECLARE(M_CXGBE);\n" : "",
		    G.nd.m_nic ? "MALLOC_DECLARE(M_NIC);\n" : "",
		    G.nd.m_rtable ? "MALLOC_DECLARE(M_RTABLE);\n" : "",
		    G.nd.m_epair ? "MALLOC_DECLARE(M_EPAIR);\n" : "");
	emit_helpers(fp);
	out(fp, "\nint\nmain(void)\n{\n");
	emit_decls(fp);
	out(fp, "\n");
	fwrite(bodybuf, 1, bodylen, fp);
	fclose(fp);
	(free)(bodybuf);

	if (outpath == NULL) {
		if (fwrite(filebuf, 1, filelen, stdout) != filelen ||
		    fflush(stdout) != 0)
			fatal("write error on stdout: %s", strerror(errno));
	} else if (repro_write_atomic(outpath, "", filebuf, filelen, err,
	    sizeof(err)) != 0)
		fatal("%s: %s", outpath, err);
	(free)(filebuf);
	crashrun_free(&cr);
	scenario__free_unpacked(sc, NULL);
	return (0);
}
