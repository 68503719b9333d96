/*
 * scenario-convert: readable text <-> packed binary scenarios, and the
 * round-trip check the tests run over every seed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/pbtext.h"
#include "repro/scenario_io.h"

#define	PROG	"scenario-convert"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: " PROG " [--to-text|--to-binary] [--text|--binary|--raw] IN [OUT]\n"
"       " PROG " --check [--text|--binary|--raw] IN\n"
"\n"
"Converts a scenario between the readable text form (corpora/*.txt) and\n"
"the packed binary the fuzzers read and write.  The input format is\n"
"detected unless given (--raw: a fuzz_raw input, shown as the scenario it\n"
"decodes to).  The output is the other form unless --to-* says; OUT\n"
"defaults to standard output.\n"
"\n"
"--check decodes IN and verifies: binary encode/decode gives the same\n"
"bytes, text print/parse gives the same message, printing twice gives\n"
"the same text.  Exit status 0 when all hold, 1 otherwise.\n");
}

static int
fail(const char *path, const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", path, what);
	return (1);
}

static int
check(const char *path, const Scenario *sc)
{
	uint8_t *b1, *b2 = NULL, *b3 = NULL;
	size_t l1, l2 = 0, l3 = 0, tl1, tl2;
	char *t1 = NULL, *t2 = NULL, err[256];
	Scenario *back = NULL, *parsed = NULL;
	int rc = 1;

	b1 = scenario_encode(sc, &l1);
	if (b1 == NULL)
		return (fail(path, "out of memory"));
	back = scenario__unpack(NULL, l1, b1);
	if (back == NULL) {
		fail(path, "packed scenario does not decode");
		goto out;
	}
	b2 = scenario_encode(back, &l2);
	if (b2 == NULL || l2 != l1 || memcmp(b1, b2, l1) != 0) {
		fail(path, "binary decode/encode changed the bytes");
		goto out;
	}
	if (pbtext_format((const ProtobufCMessage *)sc, &t1, &tl1) != 0) {
		fail(path, "not representable as exact text");
		goto out;
	}
	parsed = (Scenario *)pbtext_parse(&scenario__descriptor, t1, tl1,
	    err, sizeof(err));
	if (parsed == NULL) {
		fprintf(stderr, PROG ": %s: printed text does not parse: %s\n",
		    path, err);
		goto out;
	}
	b3 = scenario_encode(parsed, &l3);
	if (b3 == NULL || l3 != l1 || memcmp(b1, b3, l1) != 0) {
		fail(path, "text print/parse changed the scenario");
		goto out;
	}
	if (pbtext_format((const ProtobufCMessage *)parsed, &t2, &tl2) != 0 ||
	    tl2 != tl1 || memcmp(t1, t2, tl1) != 0) {
		fail(path, "printing twice gave different text");
		goto out;
	}
	printf(PROG ": %s: ok (%zu bytes binary, %zu bytes text, %zu ops)\n",
	    path, l1, tl1, sc->n_ops);
	rc = 0;
out:
	free(b1);
	free(b2);
	free(b3);
	free(t1);
	free(t2);
	if (back != NULL)
		scenario__free_unpacked(back, NULL);
	if (parsed != NULL)
		scenario__free_unpacked(parsed, NULL);
	return (rc);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to-text", no_argument, NULL, 't' },
		{ "to-binary", no_argument, NULL, 'b' },
		{ "text", no_argument, NULL, 'T' },
		{ "binary", no_argument, NULL, 'B' },
		{ "raw", no_argument, NULL, 'R' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum scenario_format in = SF_AUTO, used, out = SF_AUTO;
	const char *ipath, *opath = "-";
	bool docheck = false;
	char err[320];
	Scenario *sc;
	uint8_t *buf;
	size_t len;
	FILE *fp;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			out = SF_TEXT;
			break;
		case 'b':
			out = SF_BINARY;
			break;
		case 'T':
			in = SF_TEXT;
			break;
		case 'B':
			in = SF_BINARY;
			break;
		case 'R':
			in = SF_RAW;
			break;
		case 'c':
			docheck = true;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind >= argc || argc - optind > (docheck ? 1 : 2)) {
		usage(stderr);
		return (2);
	}
	ipath = argv[optind];
	if (optind + 1 < argc)
		opath = argv[optind + 1];
	buf = scenario_read_file(ipath, &len, err, sizeof(err));
	if (buf == NULL)
		return (fail(ipath, err));
	sc = scenario_decode(buf, len, in, &used, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		fprintf(stderr, PROG ": %s: not a scenario (%s)\n", ipath, err);
		return (1);
	}
	if (docheck) {
		rc = check(ipath, sc);
		scenario__free_unpacked(sc, NULL);
		return (rc);
	}
	if (out == SF_AUTO)
		out = used == SF_TEXT ? SF_BINARY : SF_TEXT;
	fp = strcmp(opath, "-") == 0 ? stdout : fopen(opath, "wb");
	if (fp == NULL) {
		scenario__free_unpacked(sc, NULL);
		return (fail(opath, "cannot write"));
	}
	if (out == SF_TEXT) {
		rc = pbtext_print((const ProtobufCMessage *)sc, fp) < 0;
	} else {
		buf = scenario_encode(sc, &len);
		rc = buf == NULL || fwrite(buf, 1, len, fp) != len;
		free(buf);
	}
	if (fp != stdout)
		rc |= fclose(fp) != 0;
	else
		rc |= fflush(fp) != 0;
	scenario__free_unpacked(sc, NULL);
	if (rc != 0)
		return (fail(opath, "write failed"));
	return (0);
}
