/*
 * sndtag-minimize: shrink a crashing scenario while its crash bucket
 * stays the same, and write the result in the readable text form.
 *
 * Every candidate runs in a forked child (repro/crashrun.h) through the
 * sequential interpreter, exactly as sndtag-replay runs it, and counts
 * only if it ends in the same bucket as the input.  The passes, repeated
 * until none makes progress:
 *
 *   1. operations: all at once, ddmin over the list, then one at a time;
 *   2. topology: each interface (references to later interfaces are
 *	renumbered so they keep naming the same object), each local
 *	address and route, forwarding, then the empty topology itself;
 *   3. scalars: threads and references to 0, sizes toward their
 *	minimum, counts toward 1, driver dimensions toward their minimum;
 *   4. with --threaded (a fuzz_threads finding): the schedule, i.e. every
 *	switch at once, then one at a time, then each switch's point
 *	toward 0.  Removing an op renumbers the switches that name later
 *	ops and drops the ones on it.
 *
 * Deterministic: candidates are tried in a fixed order and the only
 * clock is the per-candidate timeout (a candidate that times out does
 * not count).
 *
 * The parts (minimize_int.h): this file runs candidates and the rounds;
 * minimize_ops.c holds passes 1 and 4, minimize_topology.c pass 2 and
 * minimize_scalars.c pass 3.
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
#include "fuzz/pbtext.h"
#include "fuzz/threaded.h"
#include "repro/crashrun.h"
#include "repro/minimize_int.h"
#include "repro/scenario_io.h"

#define	PROG_BASE	"sndtag-minimize"

extern const char repro_variant[];	/* repro/variant_name.c */

static char prog[96];

struct minimize min_state;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: %s [-o OUT] [--timeout SEC] [--max-tries N] [-q] [--threaded]\n"
"           [--text|--binary|--raw] FILE\n"
"       %s --bucket [--text|--binary|--raw] FILE\n"
"       %s --bucket-report < REPORT\n"
"\n"
"Shrinks a crashing scenario (a .txt scenario or a fuzzer's binary crash\n"
"file; --raw for fuzz_raw) while its crash bucket stays the same: drops\n"
"operations (ddmin, then one at a time), interfaces, addresses and routes\n"
"no remaining operation needs, and simplifies values (threads to 0, sizes\n"
"down, counts toward 1).  Each candidate runs in a forked child on the\n"
"core this binary was built with (%s_<variant> for a historic-bug\n"
"variant).  The result is written in the readable text form to OUT\n"
"(default FILE.min.txt) via a temporary file and a rename; the input is\n"
"never overwritten.  Progress goes to stderr.\n"
"\n"
"  -o OUT          output file\n"
"  --timeout SEC   per-candidate timeout (default 10; a timeout is not a\n"
"                  crash)\n"
"  --max-tries N   stop after N candidates (default 5000)\n"
"  -q              no progress lines\n"
"  --threaded      run candidates threaded under the input's switches\n"
"                  (sndtag-replay --threaded --strategy switch: what\n"
"                  fuzz_threads runs) and shrink the switches too\n"
"  --bucket        only print the crash bucket of FILE (exit 0 if it\n"
"                  crashes, 1 if it does not)\n"
"  --bucket-report print the bucket of a crash report read from stdin\n"
"                  (tools/bucket.sh's rules, addresses stripped)\n"
"\n"
"Buckets: 'panic: <invariant>: <details>' (numbers -> N, addresses ->\n"
"ADDR), or '<Sanitizer>: <kind> in <first model frame>'.\n"
"Exit status: 0 written, 1 bad input or no crash, 2 usage.\n",
	    prog, prog, prog, PROG_BASE);
}

void
min_progress(const char *fmt, ...)
{
	va_list ap;

	if (min_state.quiet)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- running candidates --------------------------------------------- */

struct runarg {
	const uint8_t	*buf;
	size_t		 len;
};

static int
child_run(void *arg)
{
	struct runarg *r = arg;
	struct interp_options o;
	struct threaded_options to;
	Scenario *sc;
	int error;

	memset(&o, 0, sizeof(o));
	if (!min_state.threaded)
		return (interp_run_bytes(r->buf, r->len, &o) == 0 ? 0 : 1);
	sc = scenario__unpack(NULL, r->len, r->buf);
	if (sc == NULL)
		return (1);
	memset(&to, 0, sizeof(to));
	to.strategy = SCHED_SWITCH;
	to.interp = &o;
	error = threaded_run(sc, &to, NULL);
	scenario__free_unpacked(sc, NULL);
	return (error == 0 ? 0 : 1);
}

/* The bucket of one run ("" clean); -1 if the child could not start. */
static int
bucket_of(const uint8_t *buf, size_t len, char *bucket, size_t blen)
{
	struct runarg r = { buf, len };
	struct crashrun cr;

	if (crashrun(child_run, &r, min_state.timeout_ms, false, &cr) != 0)
		return (-1);
	crashrun_bucket(&cr, bucket, blen);
	crashrun_free(&cr);
	return (0);
}

static uint8_t *
pack(const Scenario *sc, size_t *len)
{
	uint8_t *buf;

	*len = scenario__get_packed_size(sc);
	buf = malloc(*len + 1);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	scenario__pack(sc, buf);
	return (buf);
}

Scenario *
min_unpack_current(void)
{
	Scenario *sc = scenario__unpack(NULL, min_state.len, min_state.buf);

	if (sc == NULL) {
		fprintf(stderr, "%s: internal: cannot unpack the current "
		    "candidate\n", prog);
		exit(1);
	}
	return (sc);
}

uint32_t
min_n_ifaces_of(const Scenario *sc)
{
	return (sc->topology != NULL ? (uint32_t)sc->topology->n_ifaces : 0);
}

/*
 * Try a candidate (a view: it may share sub-messages with anything, it
 * is packed at once).  True if it keeps the bucket; it is then current.
 */
bool
min_try_view(const Scenario *view, const char *what)
{
	char bucket[CRASH_BUCKET_MAX];
	uint8_t *buf;
	size_t len;

	if (min_state.out_of_tries)
		return (false);
	buf = pack(view, &len);
	if (len == min_state.len && memcmp(buf, min_state.buf, len) == 0) {
		free(buf);
		return (false);
	}
	if (min_state.tries >= min_state.max_tries) {
		min_state.out_of_tries = true;
		min_progress("stopping after %u candidates (--max-tries)",
		    min_state.tries);
		free(buf);
		return (false);
	}
	min_state.tries++;
	if (bucket_of(buf, len, bucket, sizeof(bucket)) != 0) {
		fprintf(stderr, "%s: cannot fork a child: %s\n", prog,
		    strerror(errno));
		exit(1);
	}
	if (strcmp(bucket, min_state.bucket) != 0) {
		free(buf);
		return (false);
	}
	free(min_state.buf);
	scenario__free_unpacked(min_state.sc, NULL);
	min_state.buf = buf;
	min_state.len = len;
	min_state.sc = min_unpack_current();
	min_progress("[%u tried] %zu ops, %u interfaces: %s", min_state.tries,
	    min_state.sc->n_ops, min_n_ifaces_of(min_state.sc), what);
	return (true);
}

/* ---- output --------------------------------------------------------- */

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

/* ---- main ----------------------------------------------------------- */

static Scenario *
load(const char *path, enum scenario_format fmt)
{
	char err[320];
	Scenario *sc;
	uint8_t *buf;
	size_t len;

	buf = scenario_read_file(path, &len, err, sizeof(err));
	if (buf == NULL) {
		fprintf(stderr, "%s: %s: %s; pass a .txt scenario or a "
		    "binary from the fuzzer\n", prog, path, err);
		exit(1);
	}
	sc = scenario_decode(buf, len, fmt, NULL, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		fprintf(stderr, "%s: %s: not a scenario (%s); pass a .txt "
		    "scenario or a binary from the fuzzer\n", prog, path, err);
		exit(1);
	}
	return (sc);
}

static int
bucket_report_main(void)
{
	char bucket[CRASH_BUCKET_MAX], *buf;
	size_t len = 0, cap = 1 << 16, n;

	buf = malloc(cap);
	if (buf == NULL)
		return (1);
	while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb;

			if (cap >= CRASH_REPORT_MAX)
				break;
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	crash_bucket(buf, bucket, sizeof(bucket));
	free(buf);
	if (bucket[0] == '\0')
		return (1);
	printf("%s\n", bucket);
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-tries", required_argument, NULL, 'M' },
		{ "text", no_argument, NULL, 't' },
		{ "binary", no_argument, NULL, 'b' },
		{ "raw", no_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "bucket", no_argument, NULL, 'B' },
		{ "bucket-report", no_argument, NULL, 'R' },
		{ "threaded", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum scenario_format fmt = SF_AUTO;
	bool only_bucket = false;
	const char *path, *out = NULL;
	/* No allocation: nothing for an early exit to leak. */
	char defout[PATH_MAX];
	char *text = NULL, *head = NULL, err[320];
	struct interp *ip;
	size_t n_ops0, n_sw0, tlen;
	uint32_t n_if0;
	unsigned long v;
	char *end;
	int ch, round;

	snprintf(prog, sizeof(prog), "%s%s%s", PROG_BASE,
	    repro_variant[0] != '\0' ? "_" : "", repro_variant);
	min_state.timeout_ms = 10000;
	min_state.max_tries = 5000;
	while ((ch = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'T':
		case 'M':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    v > 1000000) {
				fprintf(stderr, "%s: --%s wants a number from "
				    "1 to 1000000, not '%s'\n", prog,
				    ch == 'T' ? "timeout" : "max-tries",
				    optarg);
				return (2);
			}
			if (ch == 'T')
				min_state.timeout_ms = (unsigned)v * 1000;
			else
				min_state.max_tries = (unsigned)v;
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
		case 'X':
			min_state.threaded = true;
			break;
		case 'q':
			min_state.quiet = true;
			break;
		case 'B':
			only_bucket = true;
			break;
		case 'R':
			return (bucket_report_main());
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
	path = argv[optind];
	if (!only_bucket) {
		if (out == NULL) {
			if ((size_t)snprintf(defout, sizeof(defout),
			    "%s.min.txt", path) >= sizeof(defout)) {
				fprintf(stderr, "%s: %s: path too long for the "
				    "default output; pick one with -o\n", prog,
				    path);
				return (2);
			}
			out = defout;
		}
		if (same_file(out, path)) {
			fprintf(stderr, "%s: %s: refusing to overwrite the "
			    "input; pick another -o\n", prog, out);
			return (2);
		}
	}
	min_state.sc = load(path, fmt);
	ip = interp_new(min_state.sc, NULL);
	if (ip == NULL) {
		fprintf(stderr, "%s: %s: rejected by the interpreter (%s)\n",
		    prog, path, interp_reject_reason());
		return (1);
	}
	interp_free(ip);
	min_state.buf = pack(min_state.sc, &min_state.len);
	scenario__free_unpacked(min_state.sc, NULL);
	min_state.sc = min_unpack_current();
	if (bucket_of(min_state.buf, min_state.len, min_state.bucket,
	    sizeof(min_state.bucket)) != 0) {
		fprintf(stderr, "%s: cannot fork a child: %s\n", prog,
		    strerror(errno));
		return (1);
	}
	if (only_bucket) {
		if (min_state.bucket[0] == '\0') {
			printf("none\n");
			return (1);
		}
		printf("%s\n", min_state.bucket);
		return (0);
	}
	if (strcmp(min_state.bucket, "timeout") == 0) {
		fprintf(stderr, "%s: %s: the run timed out after %u s; nothing "
		    "to minimize (try a larger --timeout)\n", prog, path,
		    min_state.timeout_ms / 1000);
		return (1);
	}
	if (min_state.bucket[0] == '\0' ||
	    strncmp(min_state.bucket, "exit ", 5) == 0) {
		fprintf(stderr, "%s: %s does not crash on this core; nothing "
		    "to minimize (did you mean %s_<variant>?)\n", prog, path,
		    PROG_BASE);
		return (1);
	}
	n_ops0 = min_state.sc->n_ops;
	n_sw0 = min_state.sc->n_switches;
	n_if0 = min_n_ifaces_of(min_state.sc);
	min_progress("%s: %zu ops, %u interfaces, bucket: %s", path, n_ops0,
	    n_if0, min_state.bucket);
	for (round = 0; round < 16 && !min_state.out_of_tries; round++) {
		bool changed = false;

		changed |= min_pass_ops();
		changed |= min_pass_topology();
		changed |= min_pass_scalars();
		changed |= min_pass_switches();
		if (!changed)
			break;
	}
	if (pbtext_format((const ProtobufCMessage *)min_state.sc, &text,
	    &tlen) != 0) {
		fprintf(stderr, "%s: internal: the result has no exact text "
		    "form\n", prog);
		return (1);
	}
	/* The text must replay as the candidate we measured. */
	{
		Scenario *back = (Scenario *)pbtext_parse(&scenario__descriptor,
		    text, tlen, err, sizeof(err));
		uint8_t *bb;
		size_t bl;

		if (back == NULL) {
			fprintf(stderr, "%s: internal: the text form does not "
			    "parse back (%s)\n", prog, err);
			free(text);
			return (1);
		}
		bb = pack(back, &bl);
		if (bl != min_state.len || memcmp(bb, min_state.buf, bl) != 0) {
			fprintf(stderr, "%s: internal: the text form does not "
			    "pack back to the minimized scenario\n", prog);
			free(bb);
			protobuf_c_message_free_unpacked(
			    (ProtobufCMessage *)back, NULL);
			free(text);
			return (1);
		}
		free(bb);
		protobuf_c_message_free_unpacked((ProtobufCMessage *)back,
		    NULL);
	}
	if (asprintf(&head,
	    "# Minimized by %s from %s: %zu ops -> %zu, %u interfaces -> %u,\n"
	    "# %zu switches -> %zu (%u candidates tried).\n"
	    "# Bucket: %s\n"
	    "# Replay: sndtag-replay%s%s%s --trace <this file>\n",
	    prog, path, n_ops0, min_state.sc->n_ops, n_if0,
	    min_n_ifaces_of(min_state.sc),
	    n_sw0, min_state.sc->n_switches, min_state.tries, min_state.bucket,
	    repro_variant[0] != '\0' ? "_" : "", repro_variant,
	    min_state.threaded ? " --threaded --strategy switch" : "") < 0) {
		free(text);
		return (1);
	}
	if (repro_write_atomic(out, head, text, tlen, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, out, err);
		free(text);
		free(head);
		return (1);
	}
	min_progress("wrote %s: %zu ops (from %zu), %u interfaces (from %u), "
	    "%zu switches (from %zu), %u candidates tried", out,
	    min_state.sc->n_ops, n_ops0, min_n_ifaces_of(min_state.sc), n_if0,
	    min_state.sc->n_switches, n_sw0, min_state.tries);
	free(text);
	free(head);
	free(min_state.buf);
	scenario__free_unpacked(min_state.sc, NULL);
	return (0);
}
