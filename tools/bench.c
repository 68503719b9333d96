/*
 * sndtag-bench: executions per second of the structured target's work on
 * each seed, single-threaded (so "per core"), and the median over seeds.
 *
 * One execution is what fuzz_scenario does per input: decode the packed
 * Scenario, set up the world and topology, run every operation, quiesce,
 * tear down and check the ledger (interp_run_bytes).  The time excludes
 * libFuzzer's own overhead (mutation, coverage bookkeeping); run a
 * campaign to see that figure (tools/sndtag fuzz prints exec/s).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "repro/scenario_io.h"

#define	PROG	"sndtag-bench"

struct result {
	const char	*path;
	double		 eps;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
cmp_eps(const void *a, const void *b)
{
	double x = ((const struct result *)a)->eps;
	double y = ((const struct result *)b)->eps;

	return ((x > y) - (x < y));
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " [--seconds S] FILE...\n"
"\n"
"Runs each scenario (text or binary) through the interpreter repeatedly\n"
"for S seconds (default 1.0) on one thread and prints executions per\n"
"second for each, then the median.  Build with the preset to measure\n"
"(build/asan/repro/" PROG " for ASan).\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct interp_options opts;
	struct result *res;
	double seconds = 1.0;
	char err[320], *end;
	int ch, i, n;

	while ((ch = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || seconds <= 0 || seconds > 3600) {
				fprintf(stderr, PROG ": --seconds takes a "
				    "number in (0, 3600], got '%s'\n", optarg);
				return (2);
			}
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind == argc) {
		fprintf(stderr, PROG ": no scenario files given (try "
		    "corpora/fuzz_scenario/*.txt)\n");
		return (2);
	}
	n = argc - optind;
	res = calloc(n, sizeof(*res));
	if (res == NULL)
		return (1);
	memset(&opts, 0, sizeof(opts));
	printf("%-48s %12s %10s\n", "scenario", "executions", "exec/s");
	for (i = 0; i < n; i++) {
		const char *path = argv[optind + i];
		enum scenario_format used;
		uint8_t *buf, *packed;
		size_t len, plen;
		Scenario *sc;
		double t0, t;
		long execs = 0;

		buf = scenario_read_file(path, &len, err, sizeof(err));
		if (buf == NULL) {
			fprintf(stderr, PROG ": %s: %s\n", path, err);
			return (1);
		}
		sc = scenario_decode(buf, len, SF_AUTO, &used, err,
		    sizeof(err));
		free(buf);
		if (sc == NULL) {
			fprintf(stderr, PROG ": %s: not a scenario (%s)\n",
			    path, err);
			return (1);
		}
		packed = scenario_encode(sc, &plen);
		scenario__free_unpacked(sc, NULL);
		if (packed == NULL)
			return (1);
		t0 = now();
		do {
			/* Batches keep clock reads out of the measurement. */
			for (int k = 0; k < 64; k++) {
				if (interp_run_bytes(packed, plen, &opts) < 0) {
					fprintf(stderr, PROG ": %s: rejected "
					    "by the interpreter\n", path);
					return (1);
				}
			}
			execs += 64;
			t = now() - t0;
		} while (t < seconds);
		free(packed);
		res[i].path = path;
		res[i].eps = execs / t;
		printf("%-48s %12ld %10.0f\n", path, execs, res[i].eps);
		fflush(stdout);
	}
	qsort(res, n, sizeof(*res), cmp_eps);
	printf("median over %d scenarios: %.0f exec/s (%s)\n", n,
	    n % 2 ? res[n / 2].eps : (res[n / 2 - 1].eps + res[n / 2].eps) / 2,
	    res[n / 2].path);
	free(res);
	return (0);
}
