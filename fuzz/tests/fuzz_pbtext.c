/*
 * Fuzz target for the text parser over the test schema: any bytes must
 * parse or be rejected cleanly; whatever parses must print, reparse to
 * the same packed bytes and print the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbmsg.h"
#include "pbtest.pb-c.h"
#include "pbtext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m, *m2;
	char err[256], *t1, *t2;
	uint8_t *p1, *p2;
	size_t l1, l2, tl1, tl2;

	m = pbtext_parse(&pbtest__node__descriptor, (const char *)data, size,
	    err, sizeof(err));
	if (m == NULL) {
		if (err[0] < '1' || err[0] > '9' || strchr(err, '\n') != NULL) {
			fprintf(stderr, "pbtext: malformed error '%s'\n", err);
			abort();
		}
		return (0);
	}
	if (pbtext_format(m, &t1, &tl1) != 0)
		abort();
	m2 = pbtext_parse(&pbtest__node__descriptor, t1, tl1, err,
	    sizeof(err));
	if (m2 == NULL) {
		fprintf(stderr, "pbtext: printed text rejected: %s\n%s", err,
		    t1);
		abort();
	}
	p1 = pbmsg_pack(m, &l1);
	p2 = pbmsg_pack(m2, &l2);
	if (p1 == NULL || p2 == NULL || l1 != l2 || memcmp(p1, p2, l1) != 0) {
		fprintf(stderr, "pbtext: round trip changed the message\n%s",
		    t1);
		abort();
	}
	if (pbtext_format(m2, &t2, &tl2) != 0 || tl1 != tl2 ||
	    memcmp(t1, t2, tl1) != 0) {
		fprintf(stderr, "pbtext: round trip changed the text\n%s", t1);
		abort();
	}
	free(p1);
	free(p2);
	free(t1);
	free(t2);
	pbmsg_free(m);
	pbmsg_free(m2);
	return (0);
}
