#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario.pb-c.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
size_t LLVMFuzzerMutate(uint8_t *d, size_t s, size_t m) { (void)d; (void)m; return s; }
const char *pbmutate_last(void);
int main(int argc, char **argv) {
	static uint8_t in[65536], buf[65536];
	FILE *f = fopen(argv[1], "rb"); size_t n = fread(in, 1, sizeof(in), f); fclose(f);
	int N = atoi(argv[2]);
	Scenario *orig = scenario__unpack(NULL, n, in);
	size_t n0 = orig->n_ops;
	int insops = 0, grew = 0, kinds[64] = {0}, detpos = 0, detok = 0, sameops = 0, changed_ops = 0, topo = 0;
	char stepc[64][64]; int stepn[64] = {0}, nst = 0;
	for (int s = 1; s <= N; s++) {
		memcpy(buf, in, n);
		size_t m = pbmutate_mutate(&scenario__descriptor, buf, n, 8192, (uint32_t)s * 2654435761u, &scenario_mutator_hooks);
		const char *st = pbmutate_last();
		char k[64]; snprintf(k, sizeof(k), "%.*s", (int)strcspn(st, " ,;("), st);
		int j; for (j = 0; j < nst; j++) if (!strcmp(stepc[j], k)) break;
		if (j == nst && nst < 64) { strcpy(stepc[nst++], k); } if (j < 64) stepn[j]++;
		Scenario *sc = scenario__unpack(NULL, m, buf);
		if (!sc) continue;
		if (sc->n_ops > n0) grew++;
		int firstsend = -1, lastsend = -1;
		for (size_t i = 0; i < sc->n_ops; i++) {
			Op *o = sc->ops[i];
			if (o->op_case == OP__OP_SEND || o->op_case == OP__OP_TLS_SEND) { if (firstsend < 0) firstsend = i; lastsend = i; }
		}
		for (size_t i = 0; i < sc->n_ops; i++) {
			Op *o = sc->ops[i];
			if (o->op_case == OP__OP_DETACH) { kinds[0]++; if ((int)i > firstsend && (int)i < lastsend) { detpos++; if (o->detach->iface == 0) detok++; } }
		}
		scenario__free_unpacked(sc, NULL);
	}
	printf("N=%d grew(ops) %d; detach anywhere %d; between sends %d; on iface 0 %d\n", N, grew, kinds[0], detpos, detok);
	for (int j = 0; j < nst; j++) printf("  %-30s %d\n", stepc[j], stepn[j]);
	return 0;
}
