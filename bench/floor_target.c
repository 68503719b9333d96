/*
 * tools/sndtag bench floor: a fuzz target that does nothing, so an
 * engine's exec/s over it is the engine's own cost per execution on this
 * machine (fork server, signals, feature collection), the ceiling no
 * target built the same way can pass.
 */
#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One branch on the input, so there is coverage to find. */
	if (size > 1 && data[0] == 'x')
		return (0);
	return (0);
}
