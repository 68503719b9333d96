#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario.pb-c.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
size_t LLVMFuzzerMutate(uint8_t *d, size_t s, size_t m) { (void)d; (void)m; return s; }
int main(int argc, char **argv) {
	static uint8_t in[65536], buf[65536];
	FILE *f = fopen(argv[1], "rb"); size_t n = fread(in, 1, sizeof(in), f); fclose(f);
	int N = atoi(argv[2]); int good = 0, sizeok = 0, credok = 0, intact = 0;
	for (int s = 1; s <= N; s++) {
		memcpy(buf, in, n);
		size_t m = pbmutate_mutate(&scenario__descriptor, buf, n, 4096, (uint32_t)s * 2654435761u, &scenario_mutator_hooks);
		Scenario *sc = scenario__unpack(NULL, m, buf);
		if (!sc) continue;
		int cred = 0, big = 0;
		if (sc->topology && sc->topology->n_ifaces > 0) for (size_t i = 0; i < sc->topology->n_ifaces; i++) { Iface *x = sc->topology->ifaces[i]; if (x->kind_case == IFACE__KIND_CXGBE && x->cxgbe->tx_credits <= 100) cred = 1; }
		for (size_t i = 0; i < sc->n_ops; i++) if (sc->ops[i]->op_case == OP__OP_SEND && sc->ops[i]->send->size >= 11500) big = 1;
		credok += cred; sizeok += big; good += cred && big;
		if (m == n && memcmp(buf, in, n) == 0) intact++;
		scenario__free_unpacked(sc, NULL);
	}
	printf("N=%d cred<=100 %d  size>=11500 %d  both %d  unchanged %d\n", N, credok, sizeok, good, intact);
	return 0;
}
