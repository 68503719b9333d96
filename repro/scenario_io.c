/*
 * Harness: scenario files (see scenario_io.h).
 */
#include "repro/scenario_io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/pbtext.h"
#include "fuzz/raw_decode.h"

uint8_t *
scenario_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	uint8_t *buf = NULL, *nbuf;
	size_t cap = 0, n = 0, got;
	FILE *fp;

	fp = fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "cannot read (%s)", strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = nbuf;
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (n > SCENARIO_MAX_FILE) {
			snprintf(err, errlen, "larger than %u bytes",
			    SCENARIO_MAX_FILE);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "cannot read (%s)", strerror(errno));
		goto fail;
	}
	/*
	 * No fuzzer writes an empty crash file for a run that did
	 * something: an empty file is a truncated or interrupted write, and
	 * running it would only report "ledger clean" for nothing.
	 */
	if (n == 0) {
		snprintf(err, errlen, "empty file (0 bytes: truncated? a "
		    "crash file is never empty)");
		goto fail;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return (buf);
fail:
	free(buf);
	fclose(fp);
	return (NULL);
}

/* Text: no NUL, and mostly printable or whitespace. */
static bool
looks_text(const uint8_t *buf, size_t len)
{
	size_t i, odd = 0;

	if (len == 0)
		return (false);
	for (i = 0; i < len; i++) {
		if (buf[i] == 0)
			return (false);
		if (buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t' &&
		    buf[i] != '\r')
			odd++;
		else if (buf[i] >= 0x7f)
			odd++;
	}
	return (odd * 20 <= len);
}

/* A raw-decoded scenario lives in a static arena: copy it to the heap. */
static Scenario *
clone_packed(const Scenario *sc)
{
	Scenario *copy;
	uint8_t *buf;
	size_t len;

	buf = scenario_encode(sc, &len);
	if (buf == NULL)
		return (NULL);
	copy = scenario__unpack(NULL, len, buf);
	free(buf);
	return (copy);
}

Scenario *
scenario_decode(const uint8_t *buf, size_t len, enum scenario_format fmt,
    enum scenario_format *used, char *err, size_t errlen)
{
	char terr[256];
	Scenario *sc;

	terr[0] = '\0';
	if (fmt == SF_AUTO && looks_text(buf, len)) {
		/* Text first; a binary that happens to look like text next. */
		sc = scenario_decode(buf, len, SF_TEXT, used, err, errlen);
		if (sc == NULL && (sc = scenario__unpack(NULL, len, buf)) !=
		    NULL && used != NULL)
			*used = SF_BINARY;
		return (sc);
	}
	if (fmt == SF_AUTO)
		fmt = SF_BINARY;
	if (used != NULL)
		*used = fmt;
	switch (fmt) {
	case SF_RAW:
		sc = clone_packed(raw_decode(buf, len));
		if (sc == NULL)
			snprintf(err, errlen, "out of memory");
		return (sc);
	case SF_TEXT:
		sc = (Scenario *)pbtext_parse(&scenario__descriptor,
		    (const char *)buf, len, terr, sizeof(terr));
		if (sc == NULL)
			snprintf(err, errlen, "text: %s", terr);
		return (sc);
	default:
		sc = scenario__unpack(NULL, len, buf);
		if (sc == NULL)
			snprintf(err, errlen, "protobuf decode failed");
		return (sc);
	}
}

uint8_t *
scenario_encode(const Scenario *sc, size_t *len)
{
	uint8_t *buf;
	size_t n;

	n = scenario__get_packed_size(sc);
	buf = malloc(n + 1);
	if (buf == NULL)
		return (NULL);
	*len = scenario__pack(sc, buf);
	return (buf);
}

const char *
scenario_format_name(enum scenario_format fmt)
{
	switch (fmt) {
	case SF_TEXT:
		return ("text");
	case SF_BINARY:
		return ("binary");
	case SF_RAW:
		return ("raw");
	default:
		return ("auto");
	}
}
