/*
 * sndtag-bucket: print the crash bucket of a report read on stdin, by
 * the rule every tool of the harness uses (repro/crashrun.h).  The shell
 * tools (tools/bucket.sh, the fuzz campaigns) call it so that a campaign,
 * a sweep and the minimizer name the same report the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repro/crashrun.h"

#define	PROG	"sndtag-bucket"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " < REPORT\n"
"\n"
"Reads a run's output (a panic line, a sanitizer report) on stdin and\n"
"prints its crash bucket, the name every sndtag tool gives it:\n"
"  panic: <invariant>: <details>\n"
"  <Sanitizer>: <kind> in <first model frame>\n"
"  ThreadSanitizer: data race: <frame> / <frame>\n"
"  UBSan: <message>[ in <first model frame>]\n"
"Numbers become N and addresses ADDR.  Exit status: 0 a bucket printed,\n"
"1 the report names no crash, 2 usage.\n");
}

int
main(int argc, char **argv)
{
	char bucket[CRASH_BUCKET_MAX], *buf, *nb;
	size_t len = 0, cap = 1 << 16, n;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return (0);
	}
	if (argc != 1) {
		fprintf(stderr, PROG ": reads a report on stdin and takes no "
		    "arguments (see --help)\n");
		return (2);
	}
	if ((buf = malloc(cap)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return (2);
	}
	/* The report's start names the bug: keep at most CRASH_REPORT_MAX. */
	while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += n;
		if (len + 1 < cap)
			continue;
		if (cap >= CRASH_REPORT_MAX)
			break;
		if ((nb = realloc(buf, cap * 2)) == NULL)
			break;
		buf = nb;
		cap *= 2;
	}
	buf[len] = '\0';
	crash_bucket(buf, bucket, sizeof(bucket));
	free(buf);
	if (bucket[0] == '\0')
		return (1);
	printf("%s\n", bucket);
	return (0);
}
