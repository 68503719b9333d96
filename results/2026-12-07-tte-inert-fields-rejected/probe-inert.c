#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include "scenario.pb-c.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
size_t LLVMFuzzerMutate(uint8_t *d, size_t s, size_t m) { (void)d; (void)m; return s; }
static size_t strip(const uint8_t *in, size_t n, uint8_t *out) {
	Scenario *sc = scenario__unpack(NULL, n, in);
	if (!sc) return (size_t)-1;
	for (size_t i = 0; i < sc->n_ops; i++) { sc->ops[i]->has_thread = 0; sc->ops[i]->thread = 0; }
	size_t ns = sc->n_switches; sc->n_switches = 0; int hs = sc->has_schedule; sc->has_schedule = 0;
	size_t len = scenario__pack(sc, out);
	sc->n_switches = ns; sc->has_schedule = hs;
	scenario__free_unpacked(sc, NULL);
	return len;
}
int main(int argc, char **argv) {
	static uint8_t in[65536], buf[65536], s1[65536], s2[65536];
	DIR *d = opendir(argv[1]); struct dirent *e; int K = atoi(argv[2]);
	long tot = 0, same = 0, sw = 0, bytes_in = 0, bytes_sw = 0, nin = 0; char p[4096];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		snprintf(p, sizeof p, "%s/%s", argv[1], e->d_name);
		FILE *f = fopen(p, "rb"); size_t n = fread(in, 1, sizeof(in), f); fclose(f);
		size_t l1 = strip(in, n, s1); if (l1 == (size_t)-1) continue;
		nin++; bytes_in += n; bytes_sw += n - l1;
		for (int k = 0; k < K; k++) {
			memcpy(buf, in, n);
			size_t m = pbmutate_mutate(&scenario__descriptor, buf, n, 4096, (uint32_t)(tot + 1) * 2654435761u, &scenario_mutator_hooks);
			size_t l2 = strip(buf, m, s2); tot++;
			if (l2 == l1 && memcmp(s1, s2, l1) == 0) same++;
		}
	}
	printf("inputs %ld, mutants %ld, semantically unchanged %ld (%.1f%%); bytes in inert fields %.1f%% of corpus\n", nin, tot, same, 100.0*same/tot, 100.0*bytes_sw/bytes_in);
	return 0;
}
