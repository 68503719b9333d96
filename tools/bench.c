/*
 * sndtag-bench: executions per second of the structured target's work,
 * single-threaded (so "per core").
 *
 * One execution is what fuzz_scenario does per input: decode the packed
 * Scenario, set up the world and topology, run every operation, quiesce,
 * tear down and check the ledger (interp_run_bytes).  The time excludes
 * libFuzzer's own overhead (mutation, coverage bookkeeping); run a
 * campaign to see that figure (tools/sndtag fuzz prints exec/s).
 *
 * Files are timed one by one; a directory is a corpus, every regular file
 * in it one input.  The summary gives the harmonic mean of exec/s over
 * the inputs (the rate a campaign that runs each input equally often
 * gets: a few heavy inputs dominate it), the median, the slowest inputs,
 * and where one execution's time goes by phase and operation kind.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/decode_arena.h"
#include "repro/scenario_io.h"

#define	PROG	"sndtag-bench"

/* shim/malloc.h, which also renames malloc(3) for the model's code. */
void	malloc_cache_all(bool on);

struct input {
	char		*path;
	uint8_t		*bytes;		/* what the fuzzer would run */
	size_t		 len;
	uint32_t	 n_ops;
	double		 cost;		/* seconds per execution */
	long		 execs;
};

/*
 * Cost table rows: the phases around the operations, then one row per
 * Op oneof case (protobuf field number, at most OP_CASE_MAX).
 */
#define	OP_CASE_MAX	64
enum { ROW_DECODE, ROW_SETUP, ROW_TEARDOWN, ROW_OP0 };
#define	NROWS		(ROW_OP0 + OP_CASE_MAX)

struct row {
	double		 secs;		/* summed over profiled executions */
	uint64_t	 count;
};

struct prof {
	struct row	 rows[NROWS];
	double		 op_start;
	long		 execs;
};

/*
 * The thread's CPU time by default: on a shared machine wall time counts
 * every other process's turn on the core, CPU time only this one's, which
 * is what a campaign gets from a core of its own.  --wall for wall time.
 */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(bench_clock, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
cmp_cost_desc(const void *a, const void *b)
{
	double x = (*(struct input *const *)a)->cost;
	double y = (*(struct input *const *)b)->cost;

	return ((x < y) - (x > y));
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " [--seconds S] [--runs N] [--top K] [--wall] [--quiet]\n"
"                    FILE|DIR...\n"
"\n"
"Runs each scenario (text or binary) through the interpreter repeatedly on\n"
"one thread, as fuzz_scenario does per input, and reports exec/s.  A\n"
"directory is a corpus (a fuzz campaign's, e.g. out/fuzz_scenario-asan/\n"
"corpus): every regular file in it is one input, and the report is the\n"
"corpus summary instead of one line per file.\n"
"\n"
"  --seconds S  time each input for at least S seconds (default 1.0 for\n"
"               files, 0.02 for a corpus)\n"
"  --runs N     and at least N executions (default 5); an input's cost\n"
"               is the median of its runs' times\n"
"  --top K      list the K slowest inputs (default 10)\n"
"  --wall       measure wall time (default: this thread's CPU time, so\n"
"               other load on a shared machine does not count)\n"
"  --quiet      no progress lines on stderr\n"
"\n"
"The summary: the harmonic mean of exec/s over the inputs (what a campaign\n"
"that runs every input equally often gets), the median, the slowest\n"
"inputs with their cost, and one execution's time by phase and operation\n"
"kind.  Build with the preset to measure (build/asan/repro/" PROG " for\n"
"ASan); tools/sndtag bench runs it.\n");
}

static void
die_oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(1);
}

/* The sorted regular files of dir (not dotfiles); *n of them. */
static char **
list_dir(const char *dir, int *n)
{
	struct dirent *de;
	struct stat st;
	char **v = NULL, **nv, *p;
	int cap = 0;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, PROG ": %s: cannot read the directory (%s)\n",
		    dir, strerror(errno));
		exit(2);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (p == NULL)
			die_oom();
		sprintf(p, "%s/%s", dir, de->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (*n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (nv == NULL)
				die_oom();
			v = nv;
		}
		v[(*n)++] = p;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, (size_t)*n, sizeof(*v), cmp_str);
	return (v);
}

/*
 * The bytes the fuzzer runs for this file: a binary file as it is, a
 * text scenario packed.  NULL (and a reason) if it is not a scenario.
 */
static uint8_t *
load_input(const char *path, size_t *len, uint32_t *n_ops, char *err,
    size_t errlen)
{
	enum scenario_format used;
	uint8_t *buf, *packed;
	Scenario *sc;

	buf = scenario_read_file(path, len, err, errlen);
	if (buf == NULL)
		return (NULL);
	sc = scenario_decode(buf, *len, SF_AUTO, &used, err, errlen);
	if (sc == NULL) {
		free(buf);
		return (NULL);
	}
	*n_ops = (uint32_t)sc->n_ops;
	if (used == SF_BINARY) {
		scenario__free_unpacked(sc, NULL);
		return (buf);
	}
	free(buf);
	packed = scenario_encode(sc, len);
	scenario__free_unpacked(sc, NULL);
	if (packed == NULL)
		die_oom();
	return (packed);
}

/*
 * Time one input: seconds per execution; -1 if the interpreter rejects.
 * One untimed run first, so first-touch costs (the input's pages, lazily
 * registered malloc types) are not charged to a short measurement.
 */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/*
 * The median of the runs' times: the same input does the same work every
 * run, so a slower run is another process's doing (a shared machine),
 * and a mean would charge it to the input.
 */
#define	MAX_RUNS	4096
static double run_times[MAX_RUNS];

static double
time_input(struct input *in, double seconds, long min_runs)
{
	struct interp_options opts;
	double t0, t, r0, r1;
	long execs = 0;

	memset(&opts, 0, sizeof(opts));
	if (interp_run_bytes(in->bytes, in->len, &opts) < 0)
		return (-1);
	t0 = r0 = now();
	do {
		if (interp_run_bytes(in->bytes, in->len, &opts) < 0)
			return (-1);
		r1 = now();
		if (execs < MAX_RUNS)
			run_times[execs] = r1 - r0;
		r0 = r1;
		execs++;
		t = r1 - t0;
	} while (t < seconds || execs < min_runs);
	in->execs = execs;
	if (execs > MAX_RUNS)
		execs = MAX_RUNS;
	qsort(run_times, (size_t)execs, sizeof(run_times[0]), cmp_double);
	return (execs % 2 ? run_times[execs / 2] :
	    (run_times[execs / 2 - 1] + run_times[execs / 2]) / 2);
}

/* What one now() costs, taken off each timed interval of the table. */
static double clock_cost;

static void
calibrate_clock(void)
{
	double t[64], t0;
	int i;

	for (i = 0; i < 64; i++) {
		t0 = now();
		t[i] = now() - t0;
	}
	qsort(t, 64, sizeof(t[0]), cmp_double);
	clock_cost = t[32];
}

static double
interval(double t0, double t1)
{
	double d = t1 - t0 - clock_cost;

	return (d > 0 ? d : 0);
}

static void
op_hook(void *arg, int op_case, int after)
{
	struct prof *p = arg;
	struct row *r;
	double t = now();

	if (!after) {
		p->op_start = t;
		return;
	}
	r = &p->rows[ROW_OP0 + (op_case >= 0 && op_case < OP_CASE_MAX ?
	    op_case : 0)];
	r->secs += interval(p->op_start, t);
	r->count++;
}

static void
charge(struct prof *p, int row, double *t)
{
	double t1 = now();

	p->rows[row].secs += interval(*t, t1);
	p->rows[row].count++;
	*t = t1;
}

/*
 * One execution split into phases (decode, new + setup, each operation,
 * finish + free) for the cost table.  The same calls as interp_run_bytes.
 */
static void
profile_input(struct input *in, struct prof *p)
{
	struct interp_options opts;
	struct interp *ip;
	Scenario *sc;
	double t, t0;

	memset(&opts, 0, sizeof(opts));
	t0 = t = now();
	sc = scenario__unpack(decode_arena(), in->len, in->bytes);
	charge(p, ROW_DECODE, &t);
	if (sc == NULL) {
		decode_arena_drop(NULL);
		return;
	}
	ip = interp_new(sc, &opts);
	if (ip == NULL) {
		decode_arena_drop(&sc->base);
		return;
	}
	if (interp_setup(ip) == 0) {
		charge(p, ROW_SETUP, &t);
		interp_set_op_hook(op_hook, p);
		interp_run_sequential(ip);
		interp_set_op_hook(NULL, NULL);
		t = now();
	}
	interp_finish(ip);
	interp_free(ip);
	decode_arena_drop(&sc->base);
	charge(p, ROW_TEARDOWN, &t);
	(void)t0;
	p->execs++;
}

static const char *
row_name(int row, char *buf, size_t len)
{
	const ProtobufCFieldDescriptor *f;

	switch (row) {
	case ROW_DECODE:
		return ("(decode)");
	case ROW_SETUP:
		return ("(setup: world, topology)");
	case ROW_TEARDOWN:
		return ("(teardown: quiesce, ledger)");
	}
	f = protobuf_c_message_descriptor_get_field(&op__descriptor,
	    (unsigned)(row - ROW_OP0));
	if (f == NULL)
		return ("op (none)");
	snprintf(buf, len, "op %s", f->name);
	return (buf);
}

static void
print_cost_table(const struct prof *p)
{
	double total = 0;
	char buf[64];
	int r;

	for (r = 0; r < NROWS; r++)
		total += p->rows[r].secs;
	if (p->execs == 0 || total <= 0)
		return;
	printf("\none execution by phase and operation kind (%ld profiled "
	    "executions, %.1f us each on average, clock reads taken off):\n",
	    p->execs, total / p->execs * 1e6);
	printf("  %-30s %10s %12s %12s %7s\n", "phase / op", "count/exec",
	    "us/exec", "us each", "share");
	for (r = 0; r < NROWS; r++) {
		const struct row *w = &p->rows[r];

		if (w->count == 0)
			continue;
		printf("  %-30s %10.2f %12.2f %12.2f %6.1f%%\n",
		    row_name(r, buf, sizeof(buf)),
		    (double)w->count / p->execs, w->secs / p->execs * 1e6,
		    w->secs / w->count * 1e6, 100 * w->secs / total);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "top", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "wall", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct input *in = NULL, **byc = NULL;
	struct prof prof;
	struct stat st;
	double seconds = -1, sum_cost = 0, median, last_note, start;
	char err[320], *end, **paths = NULL, **dv, **np;
	const char *first_bad = NULL, *first_rej = NULL, *why_rej = "";
	long min_runs = 5, top = 10, v;
	int ch, i, j, n = 0, nd, nin = 0, nbad = 0, nrej = 0, rc = 0;
	bool corpus = false, quiet = false;

	/* The allocator a fuzzing process runs with (fuzz/fuzz_init.c). */
	malloc_cache_all(true);
	while ((ch = getopt_long(argc, argv, "s:r:t:qwh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds > 0 && seconds <= 3600)) {
				fprintf(stderr, PROG ": --seconds takes a "
				    "number in (0, 3600], got '%s'\n", optarg);
				return (2);
			}
			break;
		case 'r':
		case 't':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 1000000) {
				fprintf(stderr, PROG ": --%s takes a whole "
				    "number from 1 to 1000000, got '%s'\n",
				    ch == 'r' ? "runs" : "top", optarg);
				return (2);
			}
			if (ch == 'r')
				min_runs = v;
			else
				top = v;
			break;
		case 'q':
			quiet = true;
			break;
		case 'w':
			bench_clock = CLOCK_MONOTONIC;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			fprintf(stderr, PROG ": unknown option (try "
			    "--help)\n");
			return (2);
		}
	}
	if (optind == argc) {
		fprintf(stderr, PROG ": no scenario files or corpus "
		    "directories given (try corpora/fuzz_scenario/*.txt or "
		    "out/fuzz_scenario-asan/corpus)\n");
		return (2);
	}

	/* Expand directories; a missing path is an error before any work. */
	for (i = optind; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, PROG ": %s: %s (pass scenario files "
			    "or corpus directories)\n", argv[i],
			    strerror(errno));
			rc = 2;
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			corpus = true;
			dv = list_dir(argv[i], &nd);
		} else {
			nd = 1;
			dv = malloc(sizeof(*dv));
			if (dv == NULL || (dv[0] = strdup(argv[i])) == NULL)
				die_oom();
		}
		np = realloc(paths, (size_t)(n + nd + 1) * sizeof(*np));
		if (np == NULL)
			die_oom();
		paths = np;
		memcpy(paths + n, dv, (size_t)nd * sizeof(*dv));
		n += nd;
		free(dv);
	}
	if (n == 0) {
		fprintf(stderr, PROG ": the corpus is empty (no regular files "
		    "in the directories given)\n");
		rc = 2;
		goto out;
	}
	if (seconds < 0)
		seconds = corpus ? 0.02 : 1.0;

	in = calloc((size_t)n, sizeof(*in));
	byc = calloc((size_t)n, sizeof(*byc));
	if (in == NULL || byc == NULL)
		die_oom();
	memset(&prof, 0, sizeof(prof));
	calibrate_clock();
	if (!corpus)
		printf("%-48s %12s %10s\n", "scenario", "executions",
		    "exec/s");
	start = last_note = wall_now();
	for (i = 0; i < n; i++) {
		struct input *x = &in[nin];
		double cost;

		x->path = paths[i];
		x->bytes = load_input(x->path, &x->len, &x->n_ops, err,
		    sizeof(err));
		if (x->bytes == NULL) {
			if (!corpus) {
				fprintf(stderr, PROG ": %s: not a scenario "
				    "(%s)\n", x->path, err);
				rc = 1;
				goto out;
			}
			/* A campaign never keeps one; say so, go on. */
			if (nbad++ == 0)
				first_bad = x->path;
			continue;
		}
		cost = time_input(x, seconds, min_runs);
		if (cost < 0) {
			if (!corpus) {
				fprintf(stderr, PROG ": %s: rejected by the "
				    "interpreter (%s)\n", x->path,
				    interp_reject_reason());
				free(x->bytes);
				rc = 1;
				goto out;
			}
			if (nrej++ == 0) {
				first_rej = x->path;
				why_rej = interp_reject_reason();
			}
			free(x->bytes);
			continue;
		}
		x->cost = cost;
		/* One profiled run per corpus input; seeds are few. */
		for (j = 0; j < (corpus ? 1 : min_runs); j++)
			profile_input(x, &prof);
		free(x->bytes);
		x->bytes = NULL;
		byc[nin++] = x;
		sum_cost += cost;
		if (!corpus) {
			printf("%-48s %12ld %10.0f\n", x->path, x->execs,
			    1 / cost);
			fflush(stdout);
		} else if (!quiet && wall_now() - last_note >= 2) {
			last_note = wall_now();
			fprintf(stderr, PROG ": %d/%d inputs, %.0f s\n",
			    i + 1, n, last_note - start);
		}
	}
	if (nbad != 0)
		printf("skipped %d file(s) that are not scenarios (first: "
		    "%s)\n", nbad, first_bad);
	if (nrej != 0)
		printf("skipped %d input(s) the interpreter rejects (first: "
		    "%s: %s)\n", nrej, first_rej, why_rej);
	if (nin == 0) {
		fprintf(stderr, PROG ": no runnable scenario among the %d "
		    "file(s)\n", n);
		rc = 1;
		goto out;
	}
	qsort(byc, (size_t)nin, sizeof(*byc), cmp_cost_desc);
	median = nin % 2 ? 1 / byc[nin / 2]->cost :
	    (1 / byc[nin / 2 - 1]->cost + 1 / byc[nin / 2]->cost) / 2;
	printf("\n%d inputs, each timed for >= %g s and >= %ld runs, one "
	    "thread, %s time:\n", nin, seconds, min_runs,
	    bench_clock == CLOCK_MONOTONIC ? "wall" : "CPU");
	printf("  harmonic mean  %10.0f exec/s   (mean cost %.1f us per "
	    "execution)\n", nin / sum_cost, sum_cost / nin * 1e6);
	printf("  median         %10.0f exec/s\n", median);
	printf("  slowest        %10.0f exec/s   fastest %.0f exec/s\n",
	    1 / byc[0]->cost, 1 / byc[nin - 1]->cost);
	printf("\nslowest %ld:\n  %10s %10s %6s  %s\n", top < nin ? top :
	    (long)nin, "us/exec", "exec/s", "ops", "input");
	for (i = 0; i < nin && i < top; i++)
		printf("  %10.1f %10.0f %6u  %s\n", byc[i]->cost * 1e6,
		    1 / byc[i]->cost, byc[i]->n_ops, byc[i]->path);
	print_cost_table(&prof);
out:
	/* Also on a bad input: LeakSanitizer would report these. */
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(byc);
	free(in);
	return (rc);
}
