/*
 * fuzz_text: the text-format parser (fuzz/pbtext.h) on arbitrary bytes.
 * Anything it accepts must print, parse back and pack to the same bytes,
 * and printing the re-parsed message must give the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/pbtext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

	if (buf == NULL)
		abort();
	*len = protobuf_c_message_pack(m, buf);
	return (buf);
}

static void __attribute__((__noreturn__))
roundtrip_fail(const char *what, const char *text)
{
	fprintf(stderr, "panic: pbtext round trip: %s\n--- text ---\n%s\n",
	    what, text != NULL ? text : "(none)");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *m, *m2;
	char *t1, *t2, err[256];
	size_t tl1, tl2, l1, l2;
	uint8_t *b1, *b2;

	if (size > 64 * 1024)
		return (0);
	m = pbtext_parse(&scenario__descriptor, (const char *)data, size,
	    err, sizeof(err));
	if (m == NULL)
		return (0);
	if (pbtext_format(m, &t1, &tl1) != 0)
		roundtrip_fail("parsed message is not exact text", NULL);
	m2 = pbtext_parse(&scenario__descriptor, t1, tl1, err, sizeof(err));
	if (m2 == NULL)
		roundtrip_fail(err, t1);
	b1 = pack(m, &l1);
	b2 = pack(m2, &l2);
	if (l1 != l2 || memcmp(b1, b2, l1) != 0)
		roundtrip_fail("re-parsed text packs differently", t1);
	if (pbtext_format(m2, &t2, &tl2) != 0 || tl1 != tl2 ||
	    memcmp(t1, t2, tl1) != 0)
		roundtrip_fail("printing twice differs", t1);
	free(b1);
	free(b2);
	free(t1);
	free(t2);
	protobuf_c_message_free_unpacked(m, NULL);
	protobuf_c_message_free_unpacked(m2, NULL);
	return (0);
}
