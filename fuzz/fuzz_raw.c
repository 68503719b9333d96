/*
 * fuzz_raw: the raw-bytes baseline.  Bytes decode straight to operations
 * (fuzz/raw_decode.h: a fixed topology from the first byte, then 2-4
 * bytes per op) and run through the same interpreter as fuzz_scenario.
 * SNDTAG_TRACE=1 in the environment prints the trace on stderr.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/interp.h"
#include "fuzz/raw_decode.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interp_options opts = { NULL, NULL };
	const char *tr = getenv("SNDTAG_TRACE");
	struct interp *ip;

	if (tr != NULL && tr[0] == '1')
		opts.trace = stderr;
	ip = interp_new(raw_decode(data, size), &opts);
	if (ip == NULL)
		return (0);
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
	return (0);
}
