/* Probe: how often one mutation of a near miss exposes the variant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario.pb-c.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
#include "fuzz/interp.h"
#include "repro/crashrun.h"
size_t LLVMFuzzerMutate(uint8_t *d, size_t s, size_t m) { (void)d; (void)m; return s; }
const char *pbmutate_last(void);
struct ra { uint8_t *b; size_t n; };
static int child(void *a) { struct ra *r = a; struct interp_options o; memset(&o, 0, sizeof(o)); return interp_run_bytes(r->b, r->n, &o) == 0 ? 0 : 1; }
int main(int argc, char **argv) {
	static uint8_t in[65536], buf[65536];
	FILE *f = fopen(argv[1], "rb"); size_t n = fread(in, 1, sizeof(in), f); fclose(f);
	int N = atoi(argv[2]), hit = 0, same = 0;
	if (N == 0) { struct ra r = { in, n }; struct crashrun cr; char bk[CRASH_BUCKET_MAX]; crashrun(child, &r, 10000, false, &cr); crashrun_bucket(&cr, bk, sizeof(bk)); printf("self: [%s]\n", bk); return 0; }
	for (int s = 1; s <= N; s++) {
		memcpy(buf, in, n);
		size_t m = pbmutate_mutate(&scenario__descriptor, buf, n, 8192, (uint32_t)s * 2654435761u, &scenario_mutator_hooks);
		char steps[256]; snprintf(steps, sizeof(steps), "%s", pbmutate_last());
		if (m == n && memcmp(buf, in, n) == 0) { same++; continue; }
		struct ra r = { buf, m }; struct crashrun cr; char bk[CRASH_BUCKET_MAX];
		if (crashrun(child, &r, 10000, false, &cr) != 0) abort();
		crashrun_bucket(&cr, bk, sizeof(bk)); crashrun_free(&cr);
		if (bk[0]) { hit++; if (argc > 3) printf("HIT %s | %s\n", steps, bk); }
	}
	printf("N=%d hits %d (%.3f%%) unchanged %d\n", N, hit, 100.0*hit/N, same);
	return 0;
}
