/*
 * sndtag-replay: run one scenario (text, a fuzzer's binary crash file, or
 * with --raw a fuzz_raw input) through the sequential interpreter, exactly
 * as the fuzz target does, so a crash reproduces bit-for-bit.  A bug ends
 * the process with the model's "panic: ..." line or the sanitizer's
 * report; a clean run exits 0 after the canary counters.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/pbtext.h"
#include "fuzz/threaded.h"
#include "repro/scenario_io.h"
#include "shim/canary.h"

#define	PROG	"sndtag-replay"

/* The sanitizers' runtimes provide it; absent (NULL) in plain builds. */
extern void __sanitizer_set_death_callback(void (*)(void))
    __attribute__((__weak__));

/*
 * A run that ends in a panic or a sanitizer report still shows how far
 * it got into a variant's bug (docs/VARIANTS.md): print the canary
 * counters once, after the report.
 */
static void
replay_print_canaries(void)
{
	static int printed;

	if (__atomic_exchange_n(&printed, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	fflush(stdout);
	canary_print(stderr);
	fflush(stderr);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " [--trace] [--text|--binary|--raw] [--print] [-q] FILE\n"
"       " PROG " --threaded [--strategy S] [--seed N] [--depth D]\n"
"                     [--pct-steps N] [--max-steps N] [--sched-trace] FILE\n"
"\n"
"Replays one scenario through the sequential interpreter (the same path\n"
"as the fuzz targets) on the core this binary was built with\n"
"(" PROG "_<variant> for a historic-bug variant).  FILE is a readable\n"
".txt scenario (corpora/), a binary\n"
"crash or corpus file from fuzz_scenario, or with --raw an input of\n"
"fuzz_raw.  The format is detected unless given.\n"
"\n"
"  --trace     print one line per operation with its result\n"
"  --print     print the decoded scenario as text first\n"
"  -q          no summary line\n"
"\n"
"Threaded mode (race sweeps; docs/SWEEPS.md): each logical thread and each\n"
"source of asynchronous work on its own thread under the controlled\n"
"scheduler, replaying exactly what tools/sndtag-sweep ran:\n"
"  --threaded        run threaded instead of sequentially\n"
"  --strategy S      pct (default), random, input (the scenario's schedule\n"
"                    bytes), switch (its switches: what fuzz_threads\n"
"                    runs), free (no scheduler: not replayable)\n"
"  --seed N          seed of pct and random (default 1)\n"
"  --depth D         PCT depth (default 2)\n"
"  --pct-steps N     steps PCT draws its change points over (default: from\n"
"                    the number of ops)\n"
"  --max-steps N     scheduler step limit\n"
"  --sched-trace     print every thread switch\n"
"\n"
"Exit status: 0 clean run (ledger clean), 1 not a scenario or rejected by\n"
"the limits, 2 usage.  A bug aborts with 'panic: <invariant>: ...' or a\n"
"sanitizer report.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trace", no_argument, NULL, 't' },
		{ "text", no_argument, NULL, 'T' },
		{ "binary", no_argument, NULL, 'B' },
		{ "raw", no_argument, NULL, 'R' },
		{ "print", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "threaded", no_argument, NULL, 1000 },
		{ "strategy", required_argument, NULL, 1001 },
		{ "seed", required_argument, NULL, 1002 },
		{ "depth", required_argument, NULL, 1003 },
		{ "pct-steps", required_argument, NULL, 1004 },
		{ "max-steps", required_argument, NULL, 1005 },
		{ "sched-trace", no_argument, NULL, 1006 },
		{ NULL, 0, NULL, 0 }
	};
	struct threaded_options topts;
	struct threaded_result tres;
	bool threaded = false, sched_trace = false;
	unsigned long long v;
	char *end;
	int error;
	enum scenario_format fmt = SF_AUTO, used;
	struct interp_options opts;
	bool trace = false, print = false, quiet = false;
	struct interp *ip;
	const char *path;
	char err[320];
	Scenario *sc;
	uint8_t *buf;
	size_t len;
	int ch;

	memset(&topts, 0, sizeof(topts));
	topts.strategy = SCHED_PCT;
	topts.seed = 1;
	topts.depth = 2;
	while ((ch = getopt_long(argc, argv, "tqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			trace = true;
			break;
		case 'T':
			fmt = SF_TEXT;
			break;
		case 'B':
			fmt = SF_BINARY;
			break;
		case 'R':
			fmt = SF_RAW;
			break;
		case 'p':
			print = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 1000:
			threaded = true;
			break;
		case 1001:
			if (sched_strategy_parse(optarg, &topts.strategy) != 0) {
				fprintf(stderr, PROG ": --strategy: '%s' is not "
				    "one of pct, random, input, free\n", optarg);
				return (2);
			}
			break;
		case 1002:
		case 1003:
		case 1004:
		case 1005:
			v = strtoull(optarg, &end, 0);
			if (end == optarg || *end != '\0' || optarg[0] == '-' ||
			    (ch == 1003 && (v < 1 || v > SCHED_MAX_DEPTH))) {
				fprintf(stderr, PROG ": --%s: '%s' is not a "
				    "valid value\n", ch == 1002 ? "seed" :
				    ch == 1003 ? "depth" : ch == 1004 ?
				    "pct-steps" : "max-steps", optarg);
				return (2);
			}
			if (ch == 1002)
				topts.seed = v;
			else if (ch == 1003)
				topts.depth = (int)v;
			else if (ch == 1004)
				topts.pct_steps = v;
			else
				topts.max_steps = v;
			break;
		case 1006:
			sched_trace = true;
			break;
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, PROG ": expected one scenario file "
		    "(see --help)\n");
		return (2);
	}
	path = argv[optind];
	buf = scenario_read_file(path, &len, err, sizeof(err));
	if (buf == NULL) {
		fprintf(stderr, PROG ": %s: %s; pass a .txt scenario or a "
		    "binary from the fuzzer\n", path, err);
		return (1);
	}
	sc = scenario_decode(buf, len, fmt, &used, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		fprintf(stderr, PROG ": %s: not a scenario (%s); pass a .txt "
		    "scenario or a binary from the fuzzer\n", path, err);
		return (1);
	}
	if (print) {
		(void)pbtext_print((const ProtobufCMessage *)sc, stdout);
		fflush(stdout);
	}
	kern_panic_hook = replay_print_canaries;
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(replay_print_canaries);
	memset(&opts, 0, sizeof(opts));
	opts.trace = trace ? stdout : NULL;
	if (threaded) {
		topts.interp = &opts;
		topts.sched_trace = sched_trace ? stdout : NULL;
		error = threaded_run(sc, &topts, &tres);
		if (error < 0) {
			fprintf(stderr, PROG ": %s: rejected (%s)\n", path,
			    interp_reject_reason());
			scenario__free_unpacked(sc, NULL);
			return (1);
		}
		if (error > 0) {
			fprintf(stderr, PROG ": %s: scheduler: %s\n", path,
			    strerror(error));
			scenario__free_unpacked(sc, NULL);
			return (1);
		}
		if (!quiet)
			printf(PROG ": %s: %s scenario, %u ops threaded (%s, "
			    "seed %llu, depth %d): %d threads + %d actors, "
			    "%llu steps, schedule %016llx, ledger clean\n",
			    path, scenario_format_name(used), tres.ops_run,
			    sched_strategy_name(topts.strategy),
			    (unsigned long long)topts.seed, topts.depth,
			    tres.logical_threads, tres.actor_threads,
			    (unsigned long long)tres.sched.steps,
			    (unsigned long long)tres.sched.trace_hash);
		scenario__free_unpacked(sc, NULL);
		canary_print(stdout);
		fflush(stdout);
		return (0);
	}
	ip = interp_new(sc, &opts);
	if (ip == NULL) {
		fprintf(stderr, PROG ": %s: rejected (%s)\n", path,
		    interp_reject_reason());
		scenario__free_unpacked(sc, NULL);
		return (1);
	}
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	if (!quiet)
		printf(PROG ": %s: %s scenario, %u ops, ledger clean\n", path,
		    scenario_format_name(used), interp_ops_run(ip));
	interp_free(ip);
	scenario__free_unpacked(sc, NULL);
	canary_print(stdout);
	fflush(stdout);
	return (0);
}
