#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scenario.pb-c.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
size_t LLVMFuzzerMutate(uint8_t *d, size_t s, size_t m) { (void)d; (void)m; return s; }
int main(int argc, char **argv) {
	static uint8_t buf[65536];
	int N = atoi(argv[1]); int good = 0, sr = 0, sr0 = 0, acks = 0, ack0 = 0;
	for (int s = 1; s <= N; s++) {
		size_t m = pbmutate_mutate(&scenario__descriptor, buf, 0, 4096, (uint32_t)s * 2654435761u, &scenario_mutator_hooks);
		Scenario *sc = scenario__unpack(NULL, m, buf);
		if (!sc) continue;
		int open = 0, set = 0, ok = 0;
		for (size_t i = 0; i < sc->n_ops; i++) {
			Op *o = sc->ops[i];
			if (o->op_case == OP__OP_OPEN) open = 1;
			else if (o->op_case == OP__OP_SET_RATE) { sr++; sr0 += o->set_rate->rate == 0; if (open && o->set_rate->rate > 0) set = 1; }
			else if (o->op_case == OP__OP_CXGBE_ACK) { acks++; ack0 += o->cxgbe_ack->credits == 0; }
			else if ((o->op_case == OP__OP_SEND || o->op_case == OP__OP_TLS_SEND) && set) ok = 1;
		}
		good += ok;
		scenario__free_unpacked(sc, NULL);
	}
	printf("generated %d: open, rated set_rate, send: %d (%.1f%%); set_rates %d (rate 0: %d); cxgbe_acks %d (credits 0 = all: %d)\n", N, good, 100.0*good/N, sr, sr0, acks, ack0);
	return 0;
}
