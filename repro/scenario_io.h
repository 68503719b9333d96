/*
 * Harness: reading and writing scenario files for the repro tools.
 *
 * A scenario file is either the readable text form (pbtext, the seeds in
 * corpora/) or the packed protobuf a fuzzer writes as a crash file; a
 * fuzz_raw crash file is raw bytes (fuzz/raw_decode.h).
 */
#ifndef _REPRO_SCENARIO_IO_H_
#define	_REPRO_SCENARIO_IO_H_

#include <stddef.h>
#include <stdint.h>

typedef struct Scenario Scenario;

enum scenario_format {
	SF_AUTO = 0,	/* text if it looks like text, else binary */
	SF_TEXT,
	SF_BINARY,
	SF_RAW,		/* fuzz_raw bytes */
};

#define	SCENARIO_MAX_FILE	(16u << 20)

/*
 * Whole file into a malloc'd buffer (NUL-terminated); NULL + err, also
 * for an empty file (no scenario file or crash file is empty).
 */
uint8_t	*scenario_read_file(const char *path, size_t *len, char *err,
	    size_t errlen);
/*
 * Decode a buffer; *used says which format it was.  NULL with a short
 * reason in err ("line 3:5: unknown field 'foo'", "protobuf decode
 * failed").  Free with scenario__free_unpacked(sc, NULL).
 */
Scenario *scenario_decode(const uint8_t *buf, size_t len,
	    enum scenario_format fmt, enum scenario_format *used, char *err,
	    size_t errlen);
/* Packed bytes (malloc'd) or NULL. */
uint8_t	*scenario_encode(const Scenario *sc, size_t *len);
const char *scenario_format_name(enum scenario_format fmt);

#endif /* !_REPRO_SCENARIO_IO_H_ */
