/*
 * bench mutants: the reach probe linked into each mutant's fuzz_scenario.
 * The mutated site calls sndtag_mutant_reached(); the first call of a
 * campaign creates $SNDTAG_CANARY_DIR/mutant.reached with the
 * CLOCK_MONOTONIC time, as the variant canaries do (core/shim/canary.c).
 * Compiled without coverage instrumentation: a measurement, not a target.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void	sndtag_mutant_reached(void);

void
sndtag_mutant_reached(void)
{
	static int done;
	struct timespec ts;
	char path[4096], line[64];
	const char *dir;
	int fd, len;

	if (__atomic_exchange_n(&done, 1, __ATOMIC_RELAXED) != 0)
		return;
	dir = getenv("SNDTAG_CANARY_DIR");
	if (dir == NULL || dir[0] == '\0')
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (snprintf(path, sizeof(path), "%s/mutant.reached", dir) >=
	    (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%jd.%09ld\n", (intmax_t)ts.tv_sec,
	    ts.tv_nsec);
	if (write(fd, line, (size_t)len) != len)
		(void)unlink(path);
	close(fd);
}
