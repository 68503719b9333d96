/*
 * sndtag-sweep: race sweeps.  Runs every scenario of a corpus through the
 * threaded runner (fuzz/threaded.h) under the controlled scheduler for
 * N seeds x a list of PCT depths, each run in its own forked child so a
 * TSan or ASan report, a panic or a hang ends only that run.  Reports are
 * bucketed by signature and written to a summary with the command that
 * replays each one.  See docs/SWEEPS.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/threaded.h"
#include "repro/crashrun.h"
#include "repro/scenario_io.h"

#ifdef SNDTAG_VARIANT_NAME
#define	PROG		"sndtag-sweep_" SNDTAG_VARIANT_NAME
#define	REPLAY_PROG	"sndtag-replay_" SNDTAG_VARIANT_NAME
#define	VARIANT		SNDTAG_VARIANT_NAME
#else
#define	PROG		"sndtag-sweep"
#define	REPLAY_PROG	"sndtag-replay"
#define	VARIANT		"correct"
#endif

#define	OUTPUT_MAX	(64 * 1024)	/* child output kept per run */
#define	EXCERPT_LINES	40		/* report lines in the summary */
#define	MAX_DEPTHS	16
#define	SIG_MAX		CRASH_BUCKET_MAX

struct scen {
	char		*path;		/* absolute when we could resolve it */
	Scenario	*sc;
};

struct job {
	int		 file;
	uint64_t	 seed;
	int		 depth;
};

struct finding {
	char		 sig[SIG_MAX];
	uint64_t	 count;
	size_t		 first_job;	/* lowest job index that hit it */
	char		*excerpt;
};

struct slot {
	pid_t		 pid;
	int		 fd;
	size_t		 job;
	char		*out;
	size_t		 len;
	double		 started;
	bool		 killed;
};

struct opts {
	enum sched_strategy strategy;
	uint64_t	 seed_start;
	uint64_t	 nseeds;
	int		 depths[MAX_DEPTHS];
	int		 ndepths;
	uint64_t	 max_steps;
	uint64_t	 pct_steps;
	int		 jobs;
	double		 timeout;
	const char	*summary;
	const char	*expect;
	bool		 quiet;
	/* --replay */
	bool		 replay;
	int		 repeat;
	bool		 trace;
};

/* The signal that stopped the sweep (SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

static struct scen *scens;
static size_t nscens, maxscens;
static struct finding *findings;
static size_t nfindings, maxfindings;
static char self_path[PATH_MAX];

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " [options] CORPUS...\n"
"       " PROG " --replay [--strategy S] [--seed N] [--depth D]\n"
"                  [--repeat N] [--expect TEXT] [--trace] FILE\n"
"\n"
"Race sweep: runs every scenario under CORPUS (files, or directories\n"
"searched recursively for .txt/.bin files and a fuzzer's corpus files:\n"
"names without a dot, AFL++'s id:*) through the threaded runner on the\n"
"core this binary was built with (variant: " VARIANT "), once per seed\n"
"and depth, each run in a forked child.  Reports (TSan, ASan, UBSan,\n"
"'panic: ...', deadlocks, hangs) are bucketed by signature.\n"
"\n"
"  --strategy S     pct (default), random, input (the scenario's own\n"
"                   schedule bytes: one run per file), switch (its\n"
"                   switches, as fuzz_threads runs it: one run per\n"
"                   file), free (no scheduler: unreplayable stress)\n"
"  --seeds N        seeds per scenario and depth (default 10)\n"
"  --seed-start N   first seed (default 1)\n"
"  --depths LIST    PCT depths, comma separated (default 1,2,3)\n"
"  --pct-steps N    steps PCT draws change points over (default: from\n"
"                   the number of ops)\n"
"  --max-steps N    scheduler step limit per run (default %d)\n"
"  -j, --jobs N     runs in parallel (default 1)\n"
"  --timeout SEC    kill a run after SEC seconds (default 60)\n"
"  --summary FILE   write the findings here (default sweep-summary.txt)\n"
"  --expect TEXT    exit 0 only if some finding's signature contains TEXT\n"
"  -q, --quiet      no progress lines\n"
"  --bucket-report  print the bucket of a report read on stdin (the rule\n"
"                   every sndtag tool uses) and exit\n"
"\n"
"Replay (one run, in this process unless --repeat):\n"
"  --replay         run FILE once with --strategy/--seed/--depth\n"
"  --seed N, --depth D   (defaults 1 and 2)\n"
"  --repeat N       run it N times in children and compare signatures\n"
"  --trace          print the operations and every thread switch\n"
"\n"
"Environment: TSAN_OPTIONS defaults to halt_on_error=1:history_size=4:\n"
"second_deadlock_stack=1:suppressions=<repo>/tools/tsan.supp.\n"
"\n"
"SIGINT or SIGTERM (e.g. from timeout(1)) stops the sweep: the runs in\n"
"flight are abandoned and the summary of the finished ones is written.\n"
"\n"
"Exit status: 0 no finding (or --expect matched), 1 findings (or\n"
"--expect did not match), 2 usage or unreadable corpus, 128+signal an\n"
"interrupted sweep without findings.\n",
	    SCHED_DEFAULT_MAX_STEPS);
}

static void __attribute__((__noreturn__, __format__(__printf__, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	/* Progress display and the watchdog only; never a decision. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static uint64_t
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max)
		die("%s: '%s' is not a number in %llu..%llu", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
	return ((uint64_t)v);
}

static void
parse_depths(struct opts *o, const char *s)
{
	char buf[256], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		die("--depths: list too long");
	snprintf(buf, sizeof(buf), "%s", s);
	o->ndepths = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->ndepths == MAX_DEPTHS)
			die("--depths: at most %d depths", MAX_DEPTHS);
		o->depths[o->ndepths++] = (int)parse_u64("--depths", tok, 1,
		    SCHED_MAX_DEPTH);
	}
	if (o->ndepths == 0)
		die("--depths: empty list");
}

/*
 * TSan reads its options when the process starts, so a default has to be
 * in the environment before exec: set it and exec ourselves once.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	SWEEP_TSAN	1
#endif
#endif

static void
default_tsan_options(char **argv)
{
#ifdef SWEEP_TSAN
	char opts[PATH_MAX + 128], dir[PATH_MAX], *p;

	if (getenv("TSAN_OPTIONS") != NULL || self_path[0] == '\0')
		return;
	snprintf(dir, sizeof(dir), "%s", self_path);
	/* <repo>/build/<preset>/tools/PROG: the repo is three up. */
	for (int up = 0; up < 4; up++) {
		p = strrchr(dir, '/');
		if (p == NULL)
			break;
		*p = '\0';
	}
	snprintf(opts, sizeof(opts), "halt_on_error=1:history_size=4:"
	    "second_deadlock_stack=1:suppressions=%s/tools/tsan.supp", dir);
	{
		struct stat st;
		char supp[PATH_MAX + 32];

		snprintf(supp, sizeof(supp), "%s/tools/tsan.supp", dir);
		if (stat(supp, &st) != 0)
			snprintf(opts, sizeof(opts), "halt_on_error=1:"
			    "history_size=4:second_deadlock_stack=1");
	}
	if (setenv("TSAN_OPTIONS", opts, 1) != 0)
		return;
	execv(self_path, argv);
	/* Not fatal: run with TSan's defaults. */
#else
	(void)argv;
#endif
}

/*
 * Corpus: every scenario file below the arguments, sorted by path.  In a
 * directory that is a .txt or .bin file, a file whose name has no dot
 * (a libFuzzer corpus or artifact: a SHA-1, "crash-<sha1>") or an AFL++
 * queue entry ("id:..."); other files (READMEs, scripts, .raw inputs of
 * fuzz_raw) are not scenarios.  A file named on the command line is
 * always taken.
 */
static bool
is_scenario_name(const char *path)
{
	const char *name = strrchr(path, '/');
	size_t n;

	name = name != NULL ? name + 1 : path;
	n = strlen(name);
	if (n > 4 && (strcmp(name + n - 4, ".txt") == 0 ||
	    strcmp(name + n - 4, ".bin") == 0))
		return (true);
	if (strncmp(name, "id:", 3) == 0)
		return (true);
	return (n > 0 && strchr(name, '.') == NULL &&
	    strcmp(name, "README") != 0);
}

static void
add_file(const char *path)
{
	char rp[PATH_MAX];

	if (nscens == maxscens) {
		maxscens = maxscens == 0 ? 64 : maxscens * 2;
		scens = realloc(scens, maxscens * sizeof(*scens));
		if (scens == NULL)
			die("out of memory");
	}
	scens[nscens].path = strdup(realpath(path, rp) != NULL ? rp : path);
	scens[nscens].sc = NULL;
	if (scens[nscens].path == NULL)
		die("out of memory");
	nscens++;
}

static void
walk(const char *path, bool top)
{
	struct dirent *de;
	struct stat st;
	char sub[PATH_MAX];
	DIR *d;

	if (stat(path, &st) != 0) {
		if (top)
			die("%s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (top || (S_ISREG(st.st_mode) && is_scenario_name(path)))
			add_file(path);
		return;
	}
	d = opendir(path);
	if (d == NULL)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		walk(sub, false);
	}
	closedir(d);
}

static int
scen_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct scen *)a)->path,
	    ((const struct scen *)b)->path));
}

static Scenario *
load(const char *path, bool fatal)
{
	char err[320];
	Scenario *sc;
	uint8_t *buf;
	size_t len;

	buf = scenario_read_file(path, &len, err, sizeof(err));
	if (buf == NULL) {
		if (fatal)
			die("%s: %s", path, err);
		fprintf(stderr, PROG ": skipping %s: %s\n", path, err);
		return (NULL);
	}
	sc = scenario_decode(buf, len, SF_AUTO, NULL, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		if (fatal)
			die("%s: not a scenario (%s)", path, err);
		fprintf(stderr, PROG ": skipping %s: not a scenario (%s)\n",
		    path, err);
	}
	return (sc);
}

/*
 * The bucket of one run, by the rule every tool shares
 * (repro/crashrun.h); empty for a clean run or one the interpreter
 * rejected (exit 3 with no report).
 */
static void
signature(const char *out, int status, bool killed, char *sig, size_t size)
{
	crash_bucket_status(out, status, killed, sig, size);
	if (strcmp(sig, "exit 3") == 0)
		sig[0] = '\0';
}

/* The run of one job, in the child. */
static void __attribute__((__noreturn__))
child_run(const struct opts *o, const struct scen *s, uint64_t seed,
    int depth, FILE *op_trace, FILE *sched_trace)
{
	struct threaded_options to;
	struct interp_options io;
	struct threaded_result r;
	int error;

	memset(&io, 0, sizeof(io));
	io.trace = op_trace;
	memset(&to, 0, sizeof(to));
	to.strategy = o->strategy;
	to.seed = seed;
	to.depth = depth;
	to.pct_steps = o->pct_steps;
	to.max_steps = o->max_steps;
	to.sched_trace = sched_trace;
	to.interp = &io;
	error = threaded_run(s->sc, &to, &r);
	if (error < 0) {
		fprintf(stderr, PROG ": %s: rejected (%s)\n", s->path,
		    interp_reject_reason());
		exit(3);
	}
	if (error > 0) {
		fprintf(stderr, PROG ": %s: scheduler: %s\n", s->path,
		    strerror(error));
		exit(4);
	}
	if (op_trace != NULL || sched_trace != NULL)
		fprintf(stdout, PROG ": %s: %u ops (%d delivery ops left to "
		    "the actors) on %d threads + %d actors, %llu steps "
		    "(%llu events, PCT over %llu), %llu switches, schedule "
		    "%016llx\n", s->path, r.ops_run,
		    r.delivery_ops, r.logical_threads, r.actor_threads,
		    (unsigned long long)r.sched.steps,
		    (unsigned long long)r.sched.events,
		    (unsigned long long)r.pct_steps,
		    (unsigned long long)r.sched.switches,
		    (unsigned long long)r.sched.trace_hash);
	fflush(stdout);
	fflush(stderr);
	exit(0);
}

static void
start_job(const struct opts *o, const struct job *jobs, size_t j,
    struct slot *sl)
{
	int fds[2], null;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The sweep's own handlers are not the run's. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(fds[0]);
		null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		child_run(o, &scens[jobs[j].file], jobs[j].seed,
		    jobs[j].depth, NULL, NULL);
	}
	close(fds[1]);
	(void)fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	sl->pid = pid;
	sl->fd = fds[0];
	sl->job = j;
	sl->len = 0;
	sl->started = now();
	sl->killed = false;
	if (sl->out == NULL && (sl->out = malloc(OUTPUT_MAX + 1)) == NULL)
		die("out of memory");
	sl->out[0] = '\0';
}

/* Read what is there; true at end of file. */
static bool
drain(struct slot *sl)
{
	char sink[4096];
	ssize_t n;

	for (;;) {
		if (sl->len < OUTPUT_MAX)
			n = read(sl->fd, sl->out + sl->len, OUTPUT_MAX - sl->len);
		else
			n = read(sl->fd, sink, sizeof(sink));
		if (n > 0) {
			if (sl->len < OUTPUT_MAX)
				sl->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return (true);
		if (errno == EINTR)
			continue;
		return (false);
	}
}

static char *
excerpt(const char *out)
{
	const char *p = out, *start;
	size_t len;
	int lines = 0;
	char *e;

	/* From the first report line (panic or sanitizer) on. */
	start = strstr(out, "panic: ");
	if ((p = strstr(out, "==================")) != NULL &&
	    (start == NULL || p < start))
		start = p;
	if ((p = strstr(out, "==ERROR:")) != NULL && (start == NULL ||
	    p < start))
		start = p;
	if (start == NULL)
		start = out;
	while (start > out && start[-1] != '\n')
		start--;
	for (p = start; *p != '\0' && lines < EXCERPT_LINES; p++)
		if (*p == '\n')
			lines++;
	len = (size_t)(p - start);
	e = malloc(len + 1);
	if (e == NULL)
		die("out of memory");
	memcpy(e, start, len);
	e[len] = '\0';
	/* Build ids only make the summary wide. */
	while ((p = strstr(e, " (BuildId: ")) != NULL) {
		const char *q = strchr(p, ')');

		if (q == NULL)
			break;
		memmove((char *)p, q + 1, strlen(q + 1) + 1);
	}
	return (e);
}

static void
record(const char *sig, size_t job, const char *out)
{
	size_t i;

	for (i = 0; i < nfindings; i++) {
		if (strcmp(findings[i].sig, sig) == 0) {
			findings[i].count++;
			if (job < findings[i].first_job) {
				findings[i].first_job = job;
				free(findings[i].excerpt);
				findings[i].excerpt = excerpt(out);
			}
			return;
		}
	}
	if (nfindings == maxfindings) {
		maxfindings = maxfindings == 0 ? 16 : maxfindings * 2;
		findings = realloc(findings, maxfindings * sizeof(*findings));
		if (findings == NULL)
			die("out of memory");
	}
	snprintf(findings[nfindings].sig, SIG_MAX, "%s", sig);
	findings[nfindings].count = 1;
	findings[nfindings].first_job = job;
	findings[nfindings].excerpt = excerpt(out);
	nfindings++;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct finding *fa = a, *fb = b;

	return (fa->first_job < fb->first_job ? -1 :
	    fa->first_job > fb->first_job);
}

static void
replay_cmd(FILE *f, const char *prog, const struct opts *o,
    const struct job *jb, const char *extra)
{
	fprintf(f, "%s %s--strategy %s", prog, extra,
	    sched_strategy_name(o->strategy));
	if (o->strategy == SCHED_PCT || o->strategy == SCHED_RANDOM)
		fprintf(f, " --seed %llu", (unsigned long long)jb->seed);
	if (o->strategy == SCHED_PCT)
		fprintf(f, " --depth %d", jb->depth);
	if (o->pct_steps != 0 && o->strategy == SCHED_PCT)
		fprintf(f, " --pct-steps %llu",
		    (unsigned long long)o->pct_steps);
	if (o->max_steps != 0)
		fprintf(f, " --max-steps %llu",
		    (unsigned long long)o->max_steps);
	fprintf(f, " %s\n", scens[jb->file].path);
}

static void
write_summary(const struct opts *o, const struct job *jobs, size_t njobs,
    size_t done, size_t rejected, int stopped_by)
{
	char tmp[PATH_MAX], replay[PATH_MAX], *slash;
	const char *line, *nl;
	struct stat st;
	size_t i;
	FILE *f;
	int k;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", o->summary, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	if (nfindings > 1)
		qsort(findings, nfindings, sizeof(*findings), finding_cmp);
	/* The sequential replayer sits in ../repro beside us. */
	snprintf(replay, sizeof(replay), "%s", self_path);
	if ((slash = strrchr(replay, '/')) != NULL) {
		*slash = '\0';
		if ((slash = strrchr(replay, '/')) != NULL)
			*slash = '\0';
	}
	strncat(replay, "/repro/" REPLAY_PROG,
	    sizeof(replay) - strlen(replay) - 1);

	fprintf(f, "# " PROG " summary (core: " VARIANT ")\n");
	fprintf(f, "# corpus: %zu scenarios; strategy %s", nscens,
	    sched_strategy_name(o->strategy));
	if (o->strategy == SCHED_PCT || o->strategy == SCHED_RANDOM)
		fprintf(f, "; seeds %llu..%llu",
		    (unsigned long long)o->seed_start,
		    (unsigned long long)(o->seed_start + o->nseeds - 1));
	if (o->strategy == SCHED_PCT) {
		fprintf(f, "; depths ");
		for (k = 0; k < o->ndepths; k++)
			fprintf(f, "%s%d", k == 0 ? "" : ",", o->depths[k]);
	}
	fprintf(f, "\n# runs: %zu of %zu; rejected: %zu; distinct findings: "
	    "%zu\n", done, njobs, rejected, nfindings);
	if (stopped_by != 0)
		fprintf(f, "# interrupted by %s after %zu of %zu runs: the "
		    "findings of the finished runs only\n",
		    stopped_by == SIGINT ? "SIGINT" : "SIGTERM", done, njobs);
	for (i = 0; i < nfindings; i++) {
		const struct job *jb = &jobs[findings[i].first_job];

		fprintf(f, "\nfinding %zu: %s\n", i + 1, findings[i].sig);
		fprintf(f, "  count: %llu\n",
		    (unsigned long long)findings[i].count);
		fprintf(f, "  first: %s seed %llu depth %d\n",
		    scens[jb->file].path, (unsigned long long)jb->seed,
		    jb->depth);
		fprintf(f, "  replay: ");
		replay_cmd(f, self_path, o, jb, "--replay ");
		if (stat(replay, &st) == 0) {
			fprintf(f, "  replay: ");
			replay_cmd(f, replay, o, jb, "--threaded ");
		}
		fprintf(f, "  report:\n");
		for (line = findings[i].excerpt; *line != '\0'; line = nl) {
			nl = strchr(line, '\n');
			if (nl == NULL)
				nl = line + strlen(line);
			fprintf(f, "    | %.*s\n", (int)(nl - line), line);
			if (*nl == '\n')
				nl++;
		}
	}
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0)
		die("%s: write failed", tmp);
	if (rename(tmp, o->summary) != 0)
		die("rename %s: %s", o->summary, strerror(errno));
}

static void
progress(const struct opts *o, size_t done, size_t njobs, double t0,
    bool last)
{
	double dt = now() - t0;

	if (o->quiet)
		return;
	fprintf(stderr, PROG ": %zu/%zu runs, %zu distinct findings, "
	    "%.1f runs/s%s\n", done, njobs, nfindings,
	    dt > 0 ? (double)done / dt : 0.0, last ? ", done" : "");
}

static int
sweep(const struct opts *o)
{
	struct sigaction sa;
	struct job *jobs;
	struct slot *slots;
	struct pollfd *pfd;
	size_t njobs = 0, next = 0, done = 0, rejected = 0, i;
	double t0, last_print;
	int running = 0, k, status;
	uint64_t s, nseeds;
	int ndepths;
	char sig[SIG_MAX];

	nseeds = (o->strategy == SCHED_INPUT || o->strategy == SCHED_SWITCH) ?
	    1 : o->nseeds;
	ndepths = (o->strategy == SCHED_PCT) ? o->ndepths : 1;
	jobs = calloc(nscens * nseeds * (size_t)ndepths + 1, sizeof(*jobs));
	slots = calloc((size_t)o->jobs, sizeof(*slots));
	pfd = calloc((size_t)o->jobs, sizeof(*pfd));
	if (jobs == NULL || slots == NULL || pfd == NULL)
		die("out of memory");
	/* Seeds outermost: a short sweep still sees every scenario. */
	for (s = 0; s < nseeds; s++)
		for (k = 0; k < ndepths; k++)
			for (i = 0; i < nscens; i++) {
				if (scens[i].sc == NULL)
					continue;
				jobs[njobs].file = (int)i;
				jobs[njobs].seed = o->seed_start + s;
				jobs[njobs].depth = o->strategy == SCHED_PCT ?
				    o->depths[k] : 0;
				njobs++;
			}
	for (k = 0; k < o->jobs; k++)
		slots[k].pid = 0;
	/*
	 * A stop (^C, timeout(1)) ends the loop between runs; the summary
	 * then says what the finished runs found.  No SA_RESTART: poll()
	 * returns at once.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	t0 = last_print = now();
	while (done < njobs && stop_signal == 0) {
		for (k = 0; k < o->jobs && next < njobs; k++) {
			if (slots[k].pid != 0)
				continue;
			start_job(o, jobs, next++, &slots[k]);
			running++;
		}
		for (k = 0; k < o->jobs; k++) {
			pfd[k].fd = slots[k].pid != 0 ? slots[k].fd : -1;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
		}
		(void)poll(pfd, (nfds_t)o->jobs, 200);
		for (k = 0; k < o->jobs; k++) {
			struct slot *sl = &slots[k];
			size_t before = nfindings;

			if (sl->pid == 0)
				continue;
			if (!drain(sl)) {
				if (!sl->killed &&
				    now() - sl->started > o->timeout) {
					kill(sl->pid, SIGKILL);
					sl->killed = true;
				}
				continue;
			}
			sl->out[sl->len] = '\0';
			close(sl->fd);
			while (waitpid(sl->pid, &status, 0) < 0 &&
			    errno == EINTR)
				;
			sl->pid = 0;
			running--;
			done++;
			/* A child the stop signal reached (a terminal's ^C
			 * goes to the whole group) did not finish its run. */
			if (stop_signal != 0 && WIFSIGNALED(status) &&
			    WTERMSIG(status) == stop_signal) {
				done--;
				continue;
			}
			if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
				rejected++;
			signature(sl->out, status, sl->killed, sig,
			    sizeof(sig));
			if (sig[0] != '\0')
				record(sig, sl->job, sl->out);
			if (nfindings > before && !o->quiet)
				fprintf(stderr, PROG ": new finding: %s (%s "
				    "seed %llu depth %d)\n", sig,
				    scens[jobs[sl->job].file].path,
				    (unsigned long long)jobs[sl->job].seed,
				    jobs[sl->job].depth);
		}
		if (now() - last_print >= 5.0) {
			progress(o, done, njobs, t0, false);
			last_print = now();
		}
	}
	if (stop_signal != 0) {
		/* Abandon the runs in flight: only our own children. */
		for (k = 0; k < o->jobs; k++) {
			if (slots[k].pid == 0)
				continue;
			kill(slots[k].pid, SIGKILL);
			close(slots[k].fd);
			while (waitpid(slots[k].pid, &status, 0) < 0 &&
			    errno == EINTR)
				;
			slots[k].pid = 0;
		}
		fprintf(stderr, PROG ": interrupted by %s after %zu of %zu "
		    "runs\n", stop_signal == SIGINT ? "SIGINT" :
		    "SIGTERM", done, njobs);
	} else
		progress(o, done, njobs, t0, true);
	write_summary(o, jobs, njobs, done, rejected, stop_signal);
	/* Even with -q: a CI log should say what was found. */
	for (i = 0; i < nfindings; i++) {
		fprintf(stderr, PROG ": finding %zu (%llu runs): %s\n  replay: ",
		    i + 1, (unsigned long long)findings[i].count,
		    findings[i].sig);
		replay_cmd(stderr, self_path, o, &jobs[findings[i].first_job],
		    "--replay ");
	}
	if (!o->quiet || nfindings > 0 || stop_signal != 0)
		fprintf(stderr, PROG ": summary in %s\n", o->summary);
	for (k = 0; k < o->jobs; k++)
		free(slots[k].out);
	free(slots);
	free(pfd);
	free(jobs);
	if (o->expect != NULL) {
		for (i = 0; i < nfindings; i++)
			if (strstr(findings[i].sig, o->expect) != NULL)
				return (0);
		fprintf(stderr, PROG ": no finding matches '%s'\n", o->expect);
		return (1);
	}
	if (nfindings == 0 && stop_signal != 0)
		return (128 + stop_signal);
	return (nfindings == 0 ? 0 : 1);
}

/* --bucket-report: the bucket of the report on stdin. */
static int
bucket_report(void)
{
	char sig[SIG_MAX], *buf;
	size_t len;

	buf = malloc(OUTPUT_MAX + 1);
	if (buf == NULL)
		die("out of memory");
	/* As much of the report as a sweep keeps of a run. */
	len = fread(buf, 1, OUTPUT_MAX, stdin);
	buf[len] = '\0';
	signature(buf, 0, false, sig, sizeof(sig));
	free(buf);
	if (sig[0] == '\0')
		return (1);
	printf("%s\n", sig);
	return (0);
}

/* --replay --repeat N: the same run N times, each in a child. */
static int
replay_repeat(const struct opts *o, uint64_t seed, int depth)
{
	struct job jb = { 0, seed, depth };
	struct slot sl;
	char sig[SIG_MAX], first[SIG_MAX];
	int i, status, same = 0;

	memset(&sl, 0, sizeof(sl));
	for (i = 0; i < o->repeat; i++) {
		start_job(o, &jb, 0, &sl);
		(void)fcntl(sl.fd, F_SETFL, fcntl(sl.fd, F_GETFL) & ~O_NONBLOCK);
		while (!drain(&sl))
			;
		sl.out[sl.len] = '\0';
		close(sl.fd);
		while (waitpid(sl.pid, &status, 0) < 0 && errno == EINTR)
			;
		signature(sl.out, status, false, sig, sizeof(sig));
		if (i == 0)
			snprintf(first, sizeof(first), "%s", sig);
		if (strcmp(sig, first) == 0)
			same++;
		printf("replay %d: %s\n", i + 1, sig[0] != '\0' ? sig :
		    "clean");
		if (i == 0 && sig[0] != '\0')
			fputs(sl.out, stdout);
	}
	free(sl.out);
	printf("replay: %d/%d runs gave the same result\n", same, o->repeat);
	if (same != o->repeat)
		return (1);
	if (o->expect != NULL && strstr(first, o->expect) == NULL) {
		printf("replay: expected a report containing '%s'\n",
		    o->expect);
		return (1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	enum {
		O_SEEDS = 256, O_SEED_START, O_DEPTHS, O_MAX_STEPS,
		O_PCT_STEPS, O_TIMEOUT, O_SUMMARY, O_EXPECT, O_REPLAY,
		O_SEED, O_DEPTH, O_REPEAT, O_TRACE, O_STRATEGY, O_BUCKET_REPORT
	};
	static const struct option longopts[] = {
		{ "strategy", required_argument, NULL, O_STRATEGY },
		{ "seeds", required_argument, NULL, O_SEEDS },
		{ "seed-start", required_argument, NULL, O_SEED_START },
		{ "depths", required_argument, NULL, O_DEPTHS },
		{ "max-steps", required_argument, NULL, O_MAX_STEPS },
		{ "pct-steps", required_argument, NULL, O_PCT_STEPS },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "summary", required_argument, NULL, O_SUMMARY },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "replay", no_argument, NULL, O_REPLAY },
		{ "seed", required_argument, NULL, O_SEED },
		{ "depth", required_argument, NULL, O_DEPTH },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "bucket-report", no_argument, NULL, O_BUCKET_REPORT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	uint64_t seed = 1;
	int ch, depth = 2, i;
	ssize_t n;

	memset(&o, 0, sizeof(o));
	o.strategy = SCHED_PCT;
	o.seed_start = 1;
	o.nseeds = 10;
	o.depths[0] = 1;
	o.depths[1] = 2;
	o.depths[2] = 3;
	o.ndepths = 3;
	o.jobs = 1;
	o.timeout = 60;
	o.summary = "sweep-summary.txt";
	o.repeat = 0;

	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	self_path[n > 0 ? n : 0] = '\0';

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "j:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case O_STRATEGY:
			if (sched_strategy_parse(optarg, &o.strategy) != 0)
				die("--strategy: '%s' is not one of pct, "
				    "random, input, free", optarg);
			break;
		case O_SEEDS:
			o.nseeds = parse_u64("--seeds", optarg, 1, 1000000);
			break;
		case O_SEED_START:
			o.seed_start = parse_u64("--seed-start", optarg, 0,
			    UINT64_MAX / 2);
			break;
		case O_DEPTHS:
			parse_depths(&o, optarg);
			break;
		case O_MAX_STEPS:
			o.max_steps = parse_u64("--max-steps", optarg, 1,
			    UINT64_MAX / 2);
			break;
		case O_PCT_STEPS:
			o.pct_steps = parse_u64("--pct-steps", optarg, 1,
			    UINT64_MAX / 2);
			break;
		case 'j':
			o.jobs = (int)parse_u64("--jobs", optarg, 1, 256);
			break;
		case O_TIMEOUT:
			o.timeout = (double)parse_u64("--timeout", optarg, 1,
			    86400);
			break;
		case O_SUMMARY:
			o.summary = optarg;
			break;
		case O_EXPECT:
			o.expect = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case O_REPLAY:
			o.replay = true;
			break;
		case O_SEED:
			seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case O_DEPTH:
			depth = (int)parse_u64("--depth", optarg, 1,
			    SCHED_MAX_DEPTH);
			break;
		case O_REPEAT:
			o.repeat = (int)parse_u64("--repeat", optarg, 1, 1000);
			break;
		case O_TRACE:
			o.trace = true;
			break;
		case O_BUCKET_REPORT:
			return (bucket_report());
		case 'h':
			usage(stdout);
			return (0);
		default:
			if (optopt != 0 && optopt < 256)
				die("option -%c: unknown or missing its value "
				    "(see --help)", optopt);
			die("%s: unknown option or missing value (see --help)",
			    argv[optind - 1]);
		}
	}
	if (optind == argc)
		die("no corpus given (see --help)");
	if (!o.replay && (o.repeat != 0 || o.trace))
		die("--repeat and --trace go with --replay (see --help)");
	if (o.replay && optind != argc - 1)
		die("--replay takes exactly one scenario file");
	default_tsan_options(argv);

	if (o.replay) {
		struct scen s;
		int saved_nscens;

		add_file(argv[optind]);
		saved_nscens = (int)nscens;
		(void)saved_nscens;
		scens[0].sc = load(scens[0].path, true);
		s = scens[0];
		if (o.repeat > 0)
			return (replay_repeat(&o, seed, depth));
		/* In this process: a report ends it as it would a child. */
		child_run(&o, &s, seed, depth, o.trace ? stdout : NULL,
		    o.trace ? stdout : NULL);
	}

	for (i = optind; i < argc; i++)
		walk(argv[i], true);
	if (nscens == 0)
		die("no .txt or .bin scenario under the corpus given");
	qsort(scens, nscens, sizeof(*scens), scen_cmp);
	for (i = 0; i < (int)nscens; i++)
		scens[i].sc = load(scens[i].path, false);
	return (sweep(&o));
}
