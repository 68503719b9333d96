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
 *
 * The parts (cprog_int.h): this file runs the interpreter, reads its
 * trace and writes the file; cprog_setup.c writes the topology,
 * cprog_ops.c and cprog_sock.c the operations, cprog_text.c the comments
 * and the helpers and declarations the program needs.
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE	/* asprintf, open_memstream, pipe2 */
#endif
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "repro/cprog_int.h"
#include "repro/crashrun.h"
#include "repro/scenario_io.h"

#define	PROG_BASE	"sndtag-cprog"

extern const char repro_variant[];	/* repro/variant_name.c */

static char prog[96];

struct cprog cprog_gen;

void
cprog_fatal(const char *fmt, ...)
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
		cprog_fatal("out of memory");
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

	cprog_gen.setup = calloc(INTERP_MAX_IFACES * 12 + INTERP_MAX_ROUTES + 8,
	    sizeof(*cprog_gen.setup));
	cprog_gen.opline = calloc(cprog_gen.sc->n_ops + 1,
	    sizeof(*cprog_gen.opline));
	if (cprog_gen.setup == NULL || cprog_gen.opline == NULL)
		cprog_fatal("out of memory");
	cprog_gen.crash_op = -1;
	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (line[0] == '#' && sscanf(line, "#%lu t%lu %n", &i, &t,
		    &used) == 2 && i < cprog_gen.sc->n_ops) {
			in_ops = true;
			if (nl == NULL) {
				/* Started, never finished: the run ended. */
				cprog_gen.crash_op = (long)i;
				break;
			}
			cprog_gen.opline[i] = xstrdup(line + used,
			    (size_t)(nl - line) - (size_t)used);
		} else if (nl != NULL && strncmp(line, "teardown: ledger clean",
		    22) == 0) {
			cprog_gen.clean = true;
		} else if (strncmp(line, "    if ", 7) == 0) {
			/* The per-interface accounting after the ops. */
		} else if (!in_ops && nl != NULL && cprog_gen.n_setup <
		    INTERP_MAX_IFACES * 12 + INTERP_MAX_ROUTES + 8) {
			cprog_gen.setup[cprog_gen.n_setup++] = xstrdup(line,
			    (size_t)(nl - line));
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (!cprog_gen.clean && cprog_gen.crash_op < 0 && !in_ops &&
	    cprog_gen.sc->n_ops > 0)
		cprog_gen.setup_crashed = true;
}

/* The result after the last " -> " of a line ("0" if the line has none). */
const char *
cprog_result_of(const char *line)
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

bool
cprog_starts_with(const char *s, const char *p)
{
	return (strncmp(s, p, strlen(p)) == 0);
}

/* ---- main ----------------------------------------------------------- */

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
		if (cprog_starts_with(l, "panic: ") || (strstr(l, "ERROR: ") !=
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
		cprog_fatal("cannot read the interpreter's trace");
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				cprog_fatal("out of memory");
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
	cprog_gen.path = argv[optind];
	if (outpath != NULL && same_file(outpath, cprog_gen.path))
		cprog_fatal("%s: refusing to overwrite the input; pick "
		    "another -o", outpath);
	buf = scenario_read_file(cprog_gen.path, &len, err, sizeof(err));
	if (buf == NULL)
		cprog_fatal("%s: %s; pass a .txt scenario or a binary from the "
		    "fuzzer", cprog_gen.path, err);
	sc = scenario_decode(buf, len, fmt, &used, err, sizeof(err));
	(free)(buf);
	if (sc == NULL)
		cprog_fatal("%s: not a scenario (%s); pass a .txt scenario or "
		    "a binary from the fuzzer", cprog_gen.path, err);
	cprog_gen.sc = sc;
	ip = interp_new(sc, NULL);
	if (ip == NULL)
		cprog_fatal("%s: rejected by the interpreter (%s)",
		    cprog_gen.path, interp_reject_reason());
	cprog_gen.lim = *interp_limits_of(ip);
	interp_free(ip);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < sc->n_ops && i < sizeof(cprog_gen.op_thread); i++) {
		uint32_t t = sc->ops[i]->thread % INTERP_MAX_THREADS;

		if (!seen[t]) {
			seen[t] = 1;
			dense[t] = nt++;
		}
		cprog_gen.op_thread[i] = (uint8_t)dense[t];
	}

	/* The interpreter's own run, traced. */
	tf = tmpfile();
	if (tf == NULL)
		cprog_fatal("cannot create a temporary file: %s",
		    strerror(errno));
	ta.sc = sc;
	ta.fd = fileno(tf);
	if (crashrun(child_trace, &ta, 600 * 1000, false, &cr) != 0)
		cprog_fatal("cannot fork a child: %s", strerror(errno));
	crashrun_bucket(&cr, bucket, sizeof(bucket));
	report_line(cr.report, rline, sizeof(rline));
	if (cr.timed_out)
		cprog_fatal("%s: the interpreter's run timed out",
		    cprog_gen.path);
	trace = read_all(fileno(tf), &tlen);
	fclose(tf);
	parse_trace(trace);
	(free)(trace);
	if (cprog_gen.clean && bucket[0] != '\0')
		cprog_fatal("%s: the run traced a clean ledger but ended "
		    "with '%s'", cprog_gen.path, bucket);
	if (!cprog_gen.clean && bucket[0] == '\0')
		cprog_fatal("%s: the interpreter's run ended without a clean "
		    "ledger and without a report", cprog_gen.path);

	/* Body: setup, operations, teardown. */
	cprog_gen.body = open_memstream(&bodybuf, &bodylen);
	if (cprog_gen.body == NULL)
		cprog_fatal("out of memory");
	cprog_emit_setup(cprog_gen.body);
	if (cprog_gen.setup_pos < cprog_gen.n_setup)
		cprog_fatal("%s: the interpreter traced setup lines the "
		    "generator did not expect ('%s'); cannot mirror it",
		    cprog_gen.path, cprog_gen.setup[cprog_gen.setup_pos]);
	for (i = 0; i < sc->n_ops; i++)
		cprog_emit_op(cprog_gen.body, i, &any_fail);
	if (sc->n_ops > 0) {
		cprog_out(cprog_gen.body,
		    "\n\t/* Per-interface accounting (struct "
		    "if_txstat, the ifnet counters). */\n"
		    "\tifnet_foreach_live(if_report, NULL);\n");
		cprog_gen.nd.ifrep = true;
	}
	cprog_out(cprog_gen.body,
	    "\n\t/* Teardown, as interp_finish(): pending events, "
	    "close, destroy, ledger. */\n");
	if (any_fail)
		cprog_out(cprog_gen.body, "\tmalloc_fail_disarm();\n");
	cprog_out(cprog_gen.body,
	    "\tworld_teardown();\n\tworld_check_ledger();\n"
	    "\tworld_fini();\n\tprintf(\"ledger clean\\n\");\n"
	    "\treturn (0);\n}\n");
	fclose(cprog_gen.body);

	/* The file. */
	fp = open_memstream(&filebuf, &filelen);
	if (fp == NULL)
		cprog_fatal("out of memory");
	cprog_out(fp, "/*\n * C reproducer for %s\n * (%s scenario, %zu ops), "
	    "generated by %s\n", cprog_gen.path, scenario_format_name(used),
	    sc->n_ops, prog);
	if (repro_variant[0] != '\0')
		cprog_out(fp, " * for the %s variant core (sndtag_core_%s).\n",
		    repro_variant, repro_variant);
	else
		cprog_out(fp, " * for the correct core (sndtag_core).\n");
	cprog_out(fp, " *\n");
	if (cprog_gen.clean)
		cprog_out(fp,
		    " * On that core the interpreter's run ends cleanly "
		    "(ledger clean), and so\n * does this program.\n");
	else {
		if (cprog_gen.crash_op >= 0)
			snprintf(where, sizeof(where), "in operation #%ld",
			    cprog_gen.crash_op);
		else if (cprog_gen.setup_crashed)
			snprintf(where, sizeof(where), "during setup");
		else
			snprintf(where, sizeof(where), "in teardown or the "
			    "ledger check");
		cprog_out(fp, " * On that core the interpreter's run ends %s "
		    "with\n", where);
		cprog_comment_body(fp, rline[0] != '\0' ? rline : bucket);
		cprog_out(fp, " * (bucket: ");
		cprog_comment_text(fp, bucket);
		cprog_out(fp, "),\n * and so does this program.\n");
	}
	if (nt > 1)
		cprog_out(fp,
		    " *\n * The scenario has %d logical threads.  The "
		    "interpreter's threaded mode\n * interleaves them under "
		    "the controlled scheduler; this program runs the\n"
		    " * operations one after another in input order, as "
		    "sndtag-replay does.\n", nt);
	cprog_out(fp,
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
	cprog_out(fp,
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
	if (cprog_gen.nd.m_nic || cprog_gen.nd.m_rtable ||
	    cprog_gen.nd.m_epair || cprog_gen.nd.m_cxgbe)
		cprog_out(fp, "\n/* Malloc types the headers above do not "
		    "declare. */\n%s%s%s%s",
		    cprog_gen.nd.m_cxgbe ? "MALLOC_DECLARE(M_CXGBE);\n" : "",
		    cprog_gen.nd.m_nic ? "MALLOC_DECLARE(M_NIC);\n" : "",
		    cprog_gen.nd.m_rtable ? "MALLOC_DECLARE(M_RTABLE);\n" : "",
		    cprog_gen.nd.m_epair ? "MALLOC_DECLARE(M_EPAIR);\n" : "");
	cprog_emit_helpers(fp);
	cprog_out(fp, "\nint\nmain(void)\n{\n");
	cprog_emit_decls(fp);
	cprog_out(fp, "\n");
	fwrite(bodybuf, 1, bodylen, fp);
	fclose(fp);
	(free)(bodybuf);

	if (outpath == NULL) {
		if (fwrite(filebuf, 1, filelen, stdout) != filelen ||
		    fflush(stdout) != 0)
			cprog_fatal("write error on stdout: %s",
			    strerror(errno));
	} else if (repro_write_atomic(outpath, "", filebuf, filelen, err,
	    sizeof(err)) != 0)
		cprog_fatal("%s: %s", outpath, err);
	(free)(filebuf);
	crashrun_free(&cr);
	scenario__free_unpacked(sc, NULL);
	return (0);
}
