/*
 * interp_selftest: the interpreter's own tests (registered by
 * fuzz/targets.cmake).  Each subcommand is one ctest test:
 *
 *	determinism SEED.txt...	same input -> identical trace (twice in one
 *				process; text and binary forms)
 *	corrupt SEED.txt...	random bytes, every truncation and byte
 *				flips of each seed: rejected or run, never a
 *				crash or a leak
 *	limits			over-limit inputs are rejected cleanly with
 *				the right reason; per-op clamps hold
 *	raw [SEED.raw...]	raw seeds and random raw inputs run clean
 *	clamp SEED.txt...	interp_clamp: seeds are canonical, an
 *				out-of-range scenario is clamped once and
 *				then runs
 *	coverage SEED.txt...	the seeds together use every op, interface
 *				kind, lagg protocol, v4/v6, TCP/UDP, ...
 *	bythread SEED.txt...	interp_run_thread for each logical thread
 *				in turn: every op runs once, clean ledger
 *	threads SEED.txt...	the same on free-running pthreads (stress
 *				fallback; not deterministic, not a ctest)
 *	generate		the mutator's generator (scenario_hooks.c):
 *				generated scenarios are accepted, give every
 *				socket op an open and every open a route, and
 *				they and their mutants run clean
 *	feedback SEED.txt...	state feedback (interp_feedback.h) reports
 *				features for every seed, and not the same
 *				set for all, each in libFuzzer's extra
 *				counters (where pb_cov_novel() reads them)
 *	faults SEED.txt...	systematic fault injection (faultplan.h):
 *				each variant of a seed fails exactly one
 *				allocation, inside the op it names, each
 *				fault point once, and runs clean on the
 *				correct core
 *
 * Every run goes through world_init/world_fini, so one process running
 * thousands of inputs also shows that nothing survives between inputs.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/faultplan.h"
#include "fuzz/interp_feedback.h"
#include "fuzz/pbmutate.h"
#include "fuzz/scenario_hooks.h"
#include "fuzz/pbtext.h"
#include "fuzz/raw_decode.h"
#include "repro/scenario_io.h"

static int failures;

#define	EXPECT(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__,	\
		    #cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

/* xorshift64*: fixed seed, so every run tests the same inputs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dull);
}

static Scenario *
load(const char *path)
{
	char err[320];
	uint8_t *buf;
	size_t len;
	Scenario *sc;

	buf = scenario_read_file(path, &len, err, sizeof(err));
	if (buf == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(2);
	}
	sc = scenario_decode(buf, len, SF_TEXT, NULL, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(2);
	}
	return (sc);
}

static Scenario *
parse(const char *text)
{
	char err[256];
	Scenario *sc;

	sc = (Scenario *)pbtext_parse(&scenario__descriptor, text,
	    strlen(text), err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "selftest text: %s\n", err);
		exit(2);
	}
	return (sc);
}

/* Run sc sequentially; the trace (malloc'd) in *out.  -1: rejected. */
static int
run_traced(const Scenario *sc, const struct interp_limits *lim, char **out)
{
	struct interp_options o;
	struct interp *ip;
	size_t len;
	FILE *fp;

	fp = open_memstream(out, &len);
	if (fp == NULL)
		abort();
	o.limits = lim;
	o.trace = fp;
	ip = interp_new(sc, &o);
	if (ip == NULL) {
		fclose(fp);
		return (-1);
	}
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
	fclose(fp);
	return (0);
}

/*
 * With INTERP_SELFTEST_LAST=path in the environment, every input is
 * written there before it runs, so a crash leaves it for sndtag-replay.
 */
static void
save_last(const uint8_t *b, size_t n)
{
	const char *path = getenv("INTERP_SELFTEST_LAST");
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "wb")) == NULL)
		return;
	fwrite(b, 1, n, fp);
	fclose(fp);
}

static int
run_bytes(const uint8_t *b, size_t n)
{
	struct interp_options o = { NULL, NULL };

	save_last(b, n);

	return (interp_run_bytes(b, n, &o));
}

/* ---- determinism --------------------------------------------------- */

static void
t_determinism(int n, char **paths)
{
	char *t1, *t2, *t3;
	Scenario *sc, *sc2;
	uint8_t *bin;
	size_t len;
	int i;

	EXPECT(n > 0, "no seeds given");
	for (i = 0; i < n; i++) {
		sc = load(paths[i]);
		EXPECT(run_traced(sc, NULL, &t1) == 0, "%s rejected", paths[i]);
		EXPECT(run_traced(sc, NULL, &t2) == 0, "%s rejected", paths[i]);
		bin = scenario_encode(sc, &len);
		sc2 = scenario__unpack(NULL, len, bin);
		EXPECT(sc2 != NULL, "%s: binary does not decode", paths[i]);
		EXPECT(run_traced(sc2, NULL, &t3) == 0, "%s rejected",
		    paths[i]);
		EXPECT(strcmp(t1, t2) == 0, "%s: two runs differ:\n%s\n---\n%s",
		    paths[i], t1, t2);
		EXPECT(strcmp(t1, t3) == 0, "%s: text and binary differ",
		    paths[i]);
		/* One line per op, each with a result; no addresses. */
		EXPECT(strstr(t1, "teardown: ledger clean") != NULL,
		    "%s: no clean teardown in trace", paths[i]);
		EXPECT(strstr(t1, "0x") == NULL, "%s: trace has an address",
		    paths[i]);
		{
			size_t ops = 0, arrows = 0;
			const char *p;

			for (p = t1; (p = strstr(p, "\n#")) != NULL; p++)
				ops++;
			if (t1[0] == '#')
				ops++;
			for (p = t1; (p = strstr(p, " -> ")) != NULL; p++)
				arrows++;
			EXPECT(ops == sc->n_ops, "%s: %zu op lines for %zu ops",
			    paths[i], ops, sc->n_ops);
			EXPECT(arrows >= ops, "%s: op lines without result",
			    paths[i]);
		}
		printf("determinism %s: ok (%zu ops)\n", paths[i], sc->n_ops);
		free(t1);
		free(t2);
		free(t3);
		free(bin);
		scenario__free_unpacked(sc, NULL);
		scenario__free_unpacked(sc2, NULL);
	}
}

/* ---- seed coverage ------------------------------------------------- */

/*
 * Together the seeds use every operation, every interface kind, every
 * lagg protocol, v4 and v6, TCP and UDP, forwarding, TSO and UDP sends
 * larger than the MTU (fragments).
 */
static void
t_coverage(int n, char **paths)
{
	bool op_seen[64], if_seen[16], proto_seen[LAGG_PROTO__BROADCAST + 1];
	bool v4 = false, v6 = false, tcp = false, udp = false, fwd = false;
	bool tso = false, bigudp = false, threads = false;
	const ProtobufCFieldDescriptor *f;
	Scenario *sc;
	size_t i, j;
	int k;

	memset(op_seen, 0, sizeof(op_seen));
	memset(if_seen, 0, sizeof(if_seen));
	memset(proto_seen, 0, sizeof(proto_seen));
	for (k = 0; k < n; k++) {
		bool seed_udp[INTERP_MAX_SOCKETS] = { false };
		int nsock = 0;

		sc = load(paths[k]);
		if (sc->topology != NULL) {
			const Topology *t = sc->topology;

			fwd |= t->forwarding;
			for (i = 0; i < t->n_ifaces; i++) {
				const Iface *d = t->ifaces[i];

				if (d->kind_case < 16)
					if_seen[d->kind_case] = true;
				if (d->kind_case == IFACE__KIND_NIC)
					tso |= d->nic->tso;
				if (d->kind_case == IFACE__KIND_LAGG &&
				    d->lagg->proto <= LAGG_PROTO__BROADCAST)
					proto_seen[d->lagg->proto] = true;
			}
		}
		for (i = 0; i < sc->n_ops; i++) {
			const Op *op = sc->ops[i];

			threads |= op->thread != 0;
			if (op->op_case < 64)
				op_seen[op->op_case] = true;
			if (op->op_case == OP__OP_OPEN) {
				v4 |= op->open->af == AF__V4;
				v6 |= op->open->af == AF__V6;
				tcp |= op->open->proto == L4__TCP;
				udp |= op->open->proto == L4__UDP;
				if (nsock < INTERP_MAX_SOCKETS)
					seed_udp[nsock++] =
					    op->open->proto == L4__UDP;
			}
			if (op->op_case == OP__OP_LAGG_PROTO &&
			    op->lagg_proto->proto <= LAGG_PROTO__BROADCAST)
				proto_seen[op->lagg_proto->proto] = true;
			/* Slots are handed out in order until a close. */
			if (op->op_case == OP__OP_SEND &&
			    op->send->sock < INTERP_MAX_SOCKETS &&
			    seed_udp[op->send->sock] && op->send->size > 1500)
				bigudp = true;
		}
		scenario__free_unpacked(sc, NULL);
	}
	for (j = 0; j < op__descriptor.n_fields; j++) {
		f = &op__descriptor.fields[j];
		if (f->id >= 10)
			EXPECT(f->id < 64 && op_seen[f->id],
			    "no seed uses operation %s", f->name);
	}
	for (j = 0; j < iface__descriptor.n_fields; j++) {
		f = &iface__descriptor.fields[j];
		EXPECT(f->id < 16 && if_seen[f->id],
		    "no seed has an interface of kind %s", f->name);
	}
	for (j = 0; j <= LAGG_PROTO__BROADCAST; j++)
		EXPECT(proto_seen[j], "no seed uses lagg protocol %zu", j);
	EXPECT(v4 && v6, "seeds lack v4 or v6 sockets");
	EXPECT(tcp && udp, "seeds lack TCP or UDP sockets");
	EXPECT(fwd, "no seed turns forwarding on");
	EXPECT(tso, "no seed has a TSO nic");
	EXPECT(bigudp, "no seed sends a UDP datagram larger than 1500");
	EXPECT(threads, "no seed uses a second logical thread");
	printf("coverage: %d seeds\n", n);
}

/* ---- per-thread entry points -------------------------------------- */

struct thread_arg {
	struct interp	*ip;
	int		 tid;
};

static void *
thread_main(void *arg)
{
	struct thread_arg *ta = arg;

	interp_run_thread(ta->ip, ta->tid);
	return (NULL);
}

/*
 * interp_run_thread for every logical thread: one after another on this
 * thread (deterministic), or with 'pthreads' on one free-running pthread
 * each (the stress fallback, not a ctest: it is not deterministic).
 */
static void
t_bythread(int n, char **paths, bool pthreads)
{
	struct thread_arg ta[INTERP_MAX_THREADS];
	pthread_t th[INTERP_MAX_THREADS];
	struct interp_options o;
	struct interp *ip;
	char *trace;
	size_t len;
	Scenario *sc;
	FILE *fp;
	int i, t, nt;

	EXPECT(n > 0, "no seeds given");
	for (i = 0; i < n; i++) {
		sc = load(paths[i]);
		fp = open_memstream(&trace, &len);
		o.limits = NULL;
		o.trace = fp;
		ip = interp_new(sc, &o);
		EXPECT(ip != NULL, "%s rejected", paths[i]);
		if (ip == NULL)
			continue;
		EXPECT(interp_setup(ip) == 0, "%s: setup", paths[i]);
		nt = interp_thread_count(ip);
		EXPECT(nt >= 1 || sc->n_ops == 0, "%s: %d threads", paths[i],
		    nt);
		EXPECT(interp_run_thread(ip, nt) == -1, "tid %d accepted", nt);
		EXPECT(interp_run_thread(ip, -1) == -1, "tid -1 accepted");
		for (t = 0; t < nt; t++) {
			ta[t].ip = ip;
			ta[t].tid = t;
			if (pthreads)
				pthread_create(&th[t], NULL, thread_main,
				    &ta[t]);
			else
				thread_main(&ta[t]);
		}
		if (pthreads)
			for (t = 0; t < nt; t++)
				pthread_join(th[t], NULL);
		EXPECT(interp_ops_run(ip) == sc->n_ops, "%s: %u of %zu ops ran",
		    paths[i], interp_ops_run(ip), sc->n_ops);
		interp_finish(ip);
		interp_free(ip);
		fclose(fp);
		/* Lines come out in op order whatever the thread order. */
		if (sc->n_ops > 0) {
			char want[32];

			snprintf(want, sizeof(want), "\n#%zu ", sc->n_ops - 1);
			EXPECT(strstr(trace, want) != NULL, "%s: no line %s",
			    paths[i], want + 1);
		}
		EXPECT(strstr(trace, "teardown: ledger clean") != NULL,
		    "%s: no clean teardown", paths[i]);
		printf("%s %s: ok (%d threads)\n", pthreads ? "threads" :
		    "bythread", paths[i], nt);
		free(trace);
		scenario__free_unpacked(sc, NULL);
	}
}

/* ---- corrupt inputs ------------------------------------------------ */

static void
t_corrupt(int n, char **paths)
{
	uint8_t buf[512], *bin, *mut;
	size_t len, k, j;
	int i, rejected = 0, ran = 0, r, seed_rej, seed_ran;
	Scenario *sc;

	/* Random bytes. */
	for (k = 0; k < 3000; k++) {
		len = (size_t)(rng() % 200);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rng();
		r = run_bytes(buf, len);
		if (r < 0)
			rejected++;
		else
			ran++;
	}
	printf("corrupt random: %d rejected, %d ran\n", rejected, ran);
	EXPECT(rejected > 0, "random bytes never rejected");
	EXPECT(*interp_reject_reason() != '\0' || rejected == 0,
	    "no reject reason");

	for (i = 0; i < n; i++) {
		sc = load(paths[i]);
		bin = scenario_encode(sc, &len);
		scenario__free_unpacked(sc, NULL);
		EXPECT(run_bytes(bin, len) == 0, "%s: whole seed rejected",
		    paths[i]);
		/* Every truncation. */
		seed_rej = seed_ran = 0;
		for (k = 0; k < len; k++) {
			if (run_bytes(bin, k) < 0)
				seed_rej++;
			else
				seed_ran++;
		}
		EXPECT(seed_rej > 0, "%s: no truncation rejected", paths[i]);
		EXPECT(seed_ran > 0, "%s: no truncation ran", paths[i]);
		/* Byte flips (bounded: every byte of the first 256). */
		mut = malloc(len + 1);
		for (k = 0; k < len && k < 256; k++) {
			memcpy(mut, bin, len);
			mut[k] ^= (uint8_t)(1u << (rng() % 8));
			(void)run_bytes(mut, len);
		}
		printf("corrupt %s: %zu bytes, %d truncations rejected, "
		    "%d ran\n", paths[i], len, seed_rej, seed_ran);
		free(mut);
		free(bin);
	}
}

/* ---- limits -------------------------------------------------------- */

static char *
repeat(const char *head, const char *item, int times, const char *tail)
{
	size_t len = strlen(head) + strlen(item) * (size_t)times +
	    strlen(tail) + 1;
	char *s = malloc(len);
	int i;

	strcpy(s, head);
	for (i = 0; i < times; i++)
		strcat(s, item);
	strcat(s, tail);
	return (s);
}

static void
expect_reject(const char *text, const struct interp_limits *lim,
    const char *reason)
{
	struct interp_options o = { lim, NULL };
	Scenario *sc = parse(text);
	struct interp *ip;
	uint8_t *bin;
	size_t len;

	ip = interp_new(sc, &o);
	EXPECT(ip == NULL, "accepted, expected '%s'", reason);
	if (ip != NULL)
		interp_free(ip);
	EXPECT(strstr(interp_reject_reason(), reason) != NULL,
	    "reason '%s', expected '%s'", interp_reject_reason(), reason);
	bin = scenario_encode(sc, &len);
	EXPECT(interp_run_bytes(bin, len, &o) == -1, "bytes accepted");
	free(bin);
	scenario__free_unpacked(sc, NULL);
}

static void
expect_runs(const char *text, const struct interp_limits *lim,
    const char *needle)
{
	Scenario *sc = parse(text);
	char *trace;

	EXPECT(run_traced(sc, lim, &trace) == 0, "rejected: %s",
	    interp_reject_reason());
	if (needle != NULL)
		EXPECT(strstr(trace, needle) != NULL, "no '%s' in:\n%s",
		    needle, trace);
	free(trace);
	scenario__free_unpacked(sc, NULL);
}

static void
t_limits(void)
{
	struct interp_limits lim = interp_default_limits;
	char *s;

	s = repeat("topology { ", "ifaces { nic { } } ", 17, "}");
	expect_reject(s, NULL, "too many interfaces");
	free(s);
	s = repeat("topology { ifaces { nic { } } ", "ifaces { epair { } } ",
	    8, "}");
	expect_reject(s, NULL, "too many interfaces");
	free(s);
	s = repeat("", "ops { epoch { } } ", 257, "");
	expect_reject(s, NULL, "too many operations");
	free(s);
	s = repeat("topology { ifaces { nic { } } ",
	    "routes { dst: 1 iface: 0 } ", 65, "}");
	expect_reject(s, NULL, "too many routes");
	free(s);
	lim.max_ops = 2;
	expect_reject("ops { epoch { } } ops { epoch { } } ops { epoch { } }",
	    &lim, "too many operations");
	lim = interp_default_limits;
	lim.max_ifaces = 2;
	expect_reject("topology { ifaces { nic { } } ifaces { epair { } } }",
	    &lim, "too many interfaces");

	/* Exactly at the limits: runs. */
	s = repeat("topology { ", "ifaces { nic { txrtlmt: true } } ", 16, "}");
	expect_runs(s, NULL, "nic15");
	free(s);
	s = repeat("topology { ifaces { nic { } } } ",
	    "ops { deliver_all { } } ", 256, "");
	expect_runs(s, NULL, "#255 t0 deliver_all");
	free(s);
	/* Per-op clamps and budgets. */
	lim = interp_default_limits;
	lim.max_send_size = 100;
	expect_runs("topology { ifaces { nic { } } routes { iface: 0 } } "
	    "ops { open { dst: 0 } } ops { send { size: 100000 } }", &lim,
	    "size=100 ");
	lim = interp_default_limits;
	lim.max_packets = 2;
	expect_runs("topology { ifaces { nic { } } } "
	    "ops { receive { } } ops { receive { } } ops { receive { } }",
	    &lim, "#2 t0 receive v4 dst=0 size=500 udp iface=nic0 -> skip "
	    "(packet budget)");
	lim = interp_default_limits;
	lim.max_sockets = 1;
	expect_runs("ops { open { } } ops { open { } }", &lim,
	    "-> skip (no free slot)");
	/* References with nothing to refer to are skips, not crashes. */
	expect_runs("ops { send { sock: 7 } } ops { detach { iface: 3 } } "
	    "ops { cxgbe_ack { } } ops { vlan_reparent { parent: 2 } } "
	    "ops { lagg_port_add { } } ops { nic_txeof { } } "
	    "ops { mlx5_worker { } } ops { mlx5_complete { } } "
	    "ops { close { } } ops { tag_query { } } ops { }",
	    NULL, "#10 t0 nop -> 0");
	/* An unset interface kind is a default nic; thread ids fold. */
	expect_runs("topology { ifaces { } } ops { thread: 4000000000 link "
	    "{ iface: 5 } }", NULL, "link down iface=nic0 -> 0");
	printf("limits: done\n");
}

/* ---- raw ----------------------------------------------------------- */

static void
run_raw(const uint8_t *b, size_t n, bool expect_ops)
{
	struct interp_options o = { NULL, NULL };
	const Scenario *sc;
	struct interp *ip;

	save_last(b, n);
	sc = raw_decode(b, n);

	if (expect_ops)
		EXPECT(sc->n_ops > 0, "raw input decoded to no ops");
	ip = interp_new(sc, &o);
	EXPECT(ip != NULL, "raw input rejected: %s", interp_reject_reason());
	if (ip == NULL)
		return;
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
}

static void
t_raw(int n, char **paths)
{
	uint8_t buf[256], *b;
	char err[320];
	size_t len, k, j;
	int i;

	for (i = 0; i < n; i++) {
		b = scenario_read_file(paths[i], &len, err, sizeof(err));
		if (b == NULL) {
			fprintf(stderr, "%s: %s\n", paths[i], err);
			exit(2);
		}
		run_raw(b, len, len > 2);
		printf("raw %s: ok\n", paths[i]);
		free(b);
	}
	for (k = 0; k < 400; k++) {
		len = (size_t)(rng() % sizeof(buf));
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rng();
		run_raw(buf, len, false);
	}
	printf("raw random: 400 inputs ok\n");
}

/* ---- clamp --------------------------------------------------------- */

static void
t_clamp(int n, char **paths)
{
	Scenario *sc;
	char *trace;
	int i, c;

	for (i = 0; i < n; i++) {
		sc = load(paths[i]);
		c = interp_clamp(sc, NULL);
		EXPECT(c == 0, "%s: seed not canonical (%d changes)", paths[i],
		    c);
		scenario__free_unpacked(sc, NULL);
	}
	sc = parse("topology { ifaces { nic { mtu: 1 ring_size: 100000 } } "
	    "ifaces { vlan { vid: 0 parent: 77 } } "
	    "ifaces { lagg { ports: 9 ports: 1 } } "
	    "ifaces { cxgbe { n_etids: 0 tx_credits: 1 } } "
	    "ifaces { mlx5 { workers: 99 } } "
	    "routes { dst: 99 iface: 40 } } "
	    "ops { thread: 77 send { sock: 300 size: 4000000 } } "
	    "ops { receive { iface: 9 dst: 40 size: 99999 } } "
	    "ops { lagg_port_add { lagg: 3 port: 11 } } "
	    "ops { fail_alloc { } } "
	    "ops { taskqueue { rounds: 0 } }");
	/* Enum values without a name cannot be written as text. */
	sc->topology->ifaces[2]->lagg->proto = (LaggProto)77;
	sc->topology->routes[0]->af = (Af)5;
	sc->topology->routes[0]->prefix = (PrefixKind)9;
	sc->ops[1]->receive->af = (Af)3;
	sc->ops[3]->fail_alloc->type = (MallocKind)99;
	c = interp_clamp(sc, NULL);
	EXPECT(c > 15, "only %d changes", c);
	EXPECT(sc->topology->ifaces[0]->nic->mtu == 576, "mtu %u",
	    sc->topology->ifaces[0]->nic->mtu);
	EXPECT(sc->topology->ifaces[1]->vlan->parent == 0, "parent %u",
	    sc->topology->ifaces[1]->vlan->parent);
	EXPECT(sc->topology->ifaces[2]->lagg->ports[0] == 1, "port %u",
	    sc->topology->ifaces[2]->lagg->ports[0]);
	EXPECT(sc->ops[0]->thread < INTERP_MAX_THREADS, "thread %u",
	    sc->ops[0]->thread);
	EXPECT(sc->ops[0]->send->sock < 16, "sock %u", sc->ops[0]->send->sock);
	EXPECT(sc->ops[0]->send->size == INTERP_SEND_MAX, "size %u",
	    sc->ops[0]->send->size);
	EXPECT(sc->topology->ifaces[0]->nic->ring_size == INTERP_NIC_RING_MAX,
	    "ring %u", sc->topology->ifaces[0]->nic->ring_size);
	EXPECT(sc->topology->ifaces[4]->mlx5->workers ==
	    INTERP_MLX5_WORKERS_MAX, "workers %u",
	    sc->topology->ifaces[4]->mlx5->workers);
	EXPECT(sc->topology->ifaces[2]->lagg->proto == 0, "lagg proto");
	EXPECT(sc->topology->routes[0]->af == 0, "route af");
	EXPECT(sc->ops[1]->receive->size == INTERP_SEND_MAX, "receive size %u",
	    sc->ops[1]->receive->size);
	EXPECT(sc->ops[3]->fail_alloc->type == 0, "malloc kind");
	EXPECT(interp_clamp(sc, NULL) == 0, "clamp is not idempotent");
	EXPECT(run_traced(sc, NULL, &trace) == 0, "clamped rejected");
	free(trace);
	scenario__free_unpacked(sc, NULL);
	/* Limits: ops and interfaces past them are dropped. */
	{
		struct interp_limits lim = interp_default_limits;
		char *s = repeat("topology { ifaces { epair { } } ifaces { nic "
		    "{ } } } ", "ops { epoch { } } ", 10, "");

		lim.max_ops = 4;
		lim.max_ifaces = 2;
		sc = parse(s);
		free(s);
		EXPECT(interp_clamp(sc, &lim) > 0, "nothing clamped");
		EXPECT(sc->n_ops == 4, "%zu ops", sc->n_ops);
		EXPECT(sc->topology->n_ifaces == 1, "%zu ifaces",
		    sc->topology->n_ifaces);
		EXPECT(run_traced(sc, &lim, &trace) == 0, "clamped rejected");
		free(trace);
		scenario__free_unpacked(sc, NULL);
	}
	printf("clamp: done\n");
}


/* ---- generate ------------------------------------------------------ */

static bool
routed(const Scenario *sc, int af, uint32_t dst)
{
	const Topology *t = sc->topology;
	size_t i;

	for (i = 0; t != NULL && i < t->n_routes; i++)
		if ((int)t->routes[i]->af == af &&
		    (t->routes[i]->prefix == PREFIX_KIND__PREFIX_DEFAULT ||
		    t->routes[i]->dst % INTERP_NDST == dst % INTERP_NDST))
			return (true);
	for (i = 0; i < sc->n_ops; i++)
		if (sc->ops[i]->op_case == OP__OP_ROUTE_ADD &&
		    (int)sc->ops[i]->route_add->af == af)
			return (true);
	return (false);
}

static bool
sock_op(const Op *op)
{
	switch (op->op_case) {
	case OP__OP_CONNECT:
	case OP__OP_SET_RATE:
	case OP__OP_FLOWTYPE_NONE:
	case OP__OP_SEND:
	case OP__OP_CLOSE:
	case OP__OP_TCPDROP:
	case OP__OP_TAG_MODIFY:
	case OP__OP_TAG_QUERY:
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		return (true);
	default:
		return (false);
	}
}

static void
t_generate(void)
{
	static uint8_t buf[8192];
	unsigned seed, k, opens = 0, unrouted = 0, sockops = 0, orphans = 0;
	unsigned ifaces = 0, runs = 0, empty = 0;
	const ProtobufCFieldDescriptor *pf;
	size_t len, i;
	bool open_seen;
	Scenario *sc;

	for (seed = 1; seed <= 600; seed++) {
		len = pbmutate_mutate(&scenario__descriptor, buf, 0,
		    sizeof(buf), seed, &scenario_mutator_hooks);
		sc = scenario__unpack(NULL, len, buf);
		EXPECT(sc != NULL, "seed %u: generated input does not decode",
		    seed);
		if (sc == NULL)
			continue;
		EXPECT(sc->topology != NULL && sc->topology->n_ifaces > 0 &&
		    sc->n_ops > 0, "seed %u: empty scenario generated", seed);
		ifaces += sc->topology != NULL ? sc->topology->n_ifaces : 0;
		open_seen = false;
		for (i = 0; i < sc->n_ops; i++) {
			const Op *op = sc->ops[i];

			if (op->op_case == OP__OP_OPEN) {
				open_seen = true;
				opens++;
				if (op->open->has_dst &&
				    !routed(sc, op->open->af, op->open->dst))
					unrouted++;
			} else if (sock_op(op)) {
				sockops++;
				orphans += !open_seen;
			}
		}
		scenario__free_unpacked(sc, NULL);
		/* The generated input and a chain of its mutants run. */
		for (k = 0; k < 8; k++) {
			EXPECT(run_bytes(buf, len) >= 0, "seed %u step %u: "
			    "rejected: %s", seed, k, interp_reject_reason());
			runs++;
			len = pbmutate_mutate(&scenario__descriptor, buf, len,
			    sizeof(buf), seed * 64 + k,
			    &scenario_mutator_hooks);
			sc = scenario__unpack(NULL, len, buf);
			for (i = 0; sc != NULL && i < sc->n_ops; i++)
				empty += sc->ops[i]->op_case == OP__OP__NOT_SET;
			scenario__free_unpacked(sc, NULL);
		}
	}
	printf("generate: %u runs; %u interfaces, %u opens (%u unrouted), "
	    "%u socket ops (%u without an open before)\n", runs, ifaces,
	    opens, unrouted, sockops, orphans);
	printf("generate: %u ops of no kind in the mutants\n", empty);
	EXPECT(orphans == 0, "%u socket ops without an open", orphans);
	/* The sequential target's repair drops ops that name no kind. */
	EXPECT(empty == 0, "%u ops of no kind in mutants", empty);
	EXPECT(opens > 100 && unrouted * 20 < opens,
	    "%u of %u opens unrouted", unrouted, opens);
	/* The call list the mutator favours is the scenario's ops. */
	pf = protobuf_c_message_descriptor_get_field(&scenario__descriptor,
	    scenario_mutator_hooks.program);
	EXPECT(scenario_mutator_hooks.program_type == &scenario__descriptor &&
	    pf != NULL && strcmp(pf->name, "ops") == 0,
	    "the mutator's program is not Scenario.ops");
}

/* ---- feedback ------------------------------------------------------ */

extern uint8_t __start___libfuzzer_extra_counters[] __attribute__((weak));
extern uint8_t __stop___libfuzzer_extra_counters[] __attribute__((weak));

static uint32_t
extra_counters_set(void)
{
	const uint8_t *c;
	uint32_t n = 0;

	if (__start___libfuzzer_extra_counters == NULL)
		return (0);
	for (c = __start___libfuzzer_extra_counters;
	    c < __stop___libfuzzer_extra_counters; c++)
		n += *c != 0;
	return (n);
}

static void
t_feedback(int n, char **paths)
{
	uint32_t f, lo = UINT32_MAX, hi = 0;
	uint8_t *bin;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		Scenario *sc = load(paths[i]);

		bin = scenario_encode(sc, &len);
		scenario__free_unpacked(sc, NULL);
		if (bin == NULL)
			continue;
		EXPECT(run_bytes(bin, len) >= 0, "%s rejected", paths[i]);
		f = fb_features();
		EXPECT(f > 0, "%s: no state feature", paths[i]);
		lo = f < lo ? f : lo;
		hi = f > hi ? f : hi;
		/* The map is the extra counters section, nothing else is. */
		EXPECT(extra_counters_set() == f, "%s: %u features, %u extra "
		    "counters set", paths[i], f, extra_counters_set());
		free(bin);
	}
	printf("feedback: %d seeds, %u..%u state features each\n", n, lo,
	    hi);
	EXPECT(n < 2 || lo < hi, "every seed reports as many features");
}

/* ---- faults -------------------------------------------------------- */

#define	FSEEN_MAX	65536

static struct faultplan fplan;
static uint8_t fout[FAULT_MAX_INPUT];
static bool fseen[FSEEN_MAX];

static void
t_faults(int n, char **paths)
{
	struct fault_rec rec, rec2;
	uint32_t op, nth, pt, total, k, v, injected = 0, spread = 0;
	uint64_t base;
	uint8_t *bin;
	size_t len, out, nops;
	int i;

	EXPECT(n > 0, "no seeds given");
	for (i = 0; i < n; i++) {
		Scenario *sc = load(paths[i]);

		bin = scenario_encode(sc, &len);
		nops = sc->n_ops;
		scenario__free_unpacked(sc, NULL);
		if (bin == NULL)
			continue;
		fault_rec_begin(&rec);
		EXPECT(run_bytes(bin, len) >= 0, "%s rejected", paths[i]);
		fault_rec_end();
		/* A seed with FailAlloc ops of its own: run clean is all. */
		base = fault_injected();
		EXPECT(rec.nops == nops, "%s: %u ops counted of %zu", paths[i],
		    rec.nops, nops);
		for (total = 0, k = 0; k < rec.nops && k < FAULT_MAX_OPS; k++)
			total += rec.allocs[k];
		/* Every fault point of the seed. */
		faultplan_set(&fplan, bin, len, &rec, UINT32_MAX);
		memset(fseen, 0, sizeof(fseen));
		for (v = 0; faultplan_next(&fplan, &op, &nth); v++) {
			EXPECT(op < rec.nops && nth >= 1 &&
			    nth <= rec.allocs[op], "%s: variant (%u, %u) is "
			    "not a fault point", paths[i], op, nth);
			/* Each fault point once. */
			for (pt = nth - 1, k = 0; k < op; k++)
				pt += rec.allocs[k];
			EXPECT(pt < FSEEN_MAX && !fseen[pt], "%s: (%u, %u) "
			    "twice", paths[i], op, nth);
			if (pt < FSEEN_MAX)
				fseen[pt] = true;
			spread += op >= rec.nops / 2 && v < total / 2;
			out = fault_insert(bin, len, op, nth, fout,
			    sizeof(fout));
			EXPECT(out > len, "%s: no variant at (%u, %u)",
			    paths[i], op, nth);
			if (out == 0)
				continue;
			/* The op moved one down; it fails its nth, once. */
			fault_rec_begin(&rec2);
			EXPECT(run_bytes(fout, out) >= 0, "%s: variant "
			    "rejected", paths[i]);
			fault_rec_end();
			EXPECT(base != 0 || fault_injected() == 1, "%s: (%u, "
			    "%u) injected %ju", paths[i], op, nth,
			    (uintmax_t)fault_injected());
			EXPECT(rec2.nops == rec.nops + 1 &&
			    rec2.allocs[op] == 0, "%s: the fault op is not "
			    "op %u", paths[i], op);
			injected++;
		}
		EXPECT(v == total, "%s: %u variants of %u fault points",
		    paths[i], v, total);
		EXPECT(fault_insert(bin, len, (uint32_t)nops, 1, fout,
		    sizeof(fout)) == 0, "%s: a variant past the last op",
		    paths[i]);
		free(bin);
	}
	printf("faults: %d seeds, %u allocations failed in turn, %u in the "
	    "second half of the ops among the first half of the variants\n",
	    n, injected, spread);
	EXPECT(injected > 0, "no fault point in any seed");
	/* Scattered, not op by op: late ops come up early too. */
	EXPECT(spread > 0, "the first half of the variants stays in the "
	    "first half of the ops");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: interp_selftest determinism|corrupt|"
		    "limits|raw|clamp|coverage|bythread|threads|generate|"
		    "feedback|faults [FILE...]\n");
		return (2);
	}
	if (strcmp(argv[1], "determinism") == 0)
		t_determinism(argc - 2, argv + 2);
	else if (strcmp(argv[1], "corrupt") == 0)
		t_corrupt(argc - 2, argv + 2);
	else if (strcmp(argv[1], "limits") == 0)
		t_limits();
	else if (strcmp(argv[1], "raw") == 0)
		t_raw(argc - 2, argv + 2);
	else if (strcmp(argv[1], "clamp") == 0)
		t_clamp(argc - 2, argv + 2);
	else if (strcmp(argv[1], "coverage") == 0)
		t_coverage(argc - 2, argv + 2);
	else if (strcmp(argv[1], "bythread") == 0)
		t_bythread(argc - 2, argv + 2, false);
	else if (strcmp(argv[1], "threads") == 0)
		t_bythread(argc - 2, argv + 2, true);
	else if (strcmp(argv[1], "generate") == 0)
		t_generate();
	else if (strcmp(argv[1], "feedback") == 0)
		t_feedback(argc - 2, argv + 2);
	else if (strcmp(argv[1], "faults") == 0)
		t_faults(argc - 2, argv + 2);
	else {
		fprintf(stderr, "interp_selftest: unknown test '%s'\n",
		    argv[1]);
		return (2);
	}
	if (failures != 0) {
		printf("%d failed\n", failures);
		return (1);
	}
	printf("%s: passed\n", argv[1]);
	return (0);
}
