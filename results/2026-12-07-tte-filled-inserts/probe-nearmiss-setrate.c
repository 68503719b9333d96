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
	int N = atoi(argv[2]); int good = 0, anyset = 0, setrate0 = 0, insops = 0;
	for (int s = 1; s <= N; s++) {
		memcpy(buf, in, n);
		size_t m = pbmutate_mutate(&scenario__descriptor, buf, n, 4096, (uint32_t)s * 2654435761u, &scenario_mutator_hooks);
		if (strstr(pbmutate_last(), "ins:ops")) insops++;
		Scenario *sc = scenario__unpack(NULL, m, buf);
		if (!sc) continue;
		int open = 0, set = 0, ok = 0, has = 0;
		for (size_t i = 0; i < sc->n_ops; i++) {
			Op *o = sc->ops[i];
			if (o->op_case == OP__OP_OPEN) open = 1;
			else if (o->op_case == OP__OP_SET_RATE) { has = 1; if (open && o->set_rate->rate > 0) set = 1; else setrate0 += o->set_rate->rate == 0; }
			else if ((o->op_case == OP__OP_SEND || o->op_case == OP__OP_TLS_SEND) && set) ok = 1;
		}
		good += ok; anyset += has;
		scenario__free_unpacked(sc, NULL);
	}
	printf("N=%d: a rated set_rate between open and a send %d (%.2f%%); any set_rate %d; rate 0 %d; ins:ops %d\n", N, good, 100.0*good/N, anyset, setrate0, insops);
	return 0;
}
