/*
 * Start-up shared by the fuzz targets: libFuzzer and the standalone
 * driver call LLVMFuzzerInitialize before the first input.
 *
 * A fuzzing process caches every malloc type's freed blocks in the
 * shim's per-type size classes (malloc_cache_all, shim/malloc.h) instead
 * of handing them back to ASan's allocator, whose stack capture, hooks
 * and quarantine cost about a sixth of an execution (docs/FUZZING.md,
 * Throughput).  A use after free is still reported, as use-after-poison
 * (a block waits KMALLOC_CACHE_DELAY frees of its class before reuse),
 * but without the stack that freed it.  So a process given input files
 * to run (libFuzzer's reproduce mode, as ClusterFuzz and tools/sndtag
 * replay a crash) keeps ASan's allocator, and its report is ASan's
 * heap-use-after-free with both stacks.
 */
#include "shim/malloc.h"

#include <sys/stat.h>

int	LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat st;
	int i;

	for (i = 1; i < *argc; i++) {
		if ((*argv)[i][0] == '-')
			continue;
		if (stat((*argv)[i], &st) == 0 && S_ISREG(st.st_mode))
			return (0);
	}
	malloc_cache_all(true);
	return (0);
}
