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
		{ NULL, 0, NULL, 0 }
	};
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
