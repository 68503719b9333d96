/*
 * sndtag-minimize: shrink a crashing scenario while its crash bucket
 * stays the same, and write the result in the readable text form.
 *
 * Every candidate runs in a forked child (repro/crashrun.h) through the
 * sequential interpreter, exactly as sndtag-replay runs it, and counts
 * only if it ends in the same bucket as the input.  The passes, repeated
 * until none makes progress:
 *
 *   1. operations: all at once, ddmin over the list, then one at a time;
 *   2. topology: each interface (references to later interfaces are
 *	renumbered so they keep naming the same object), each local
 *	address and route, forwarding, then the empty topology itself;
 *   3. scalars: threads and references to 0, sizes toward their
 *	minimum, counts toward 1, driver dimensions toward their minimum;
 *   4. with --threaded (a fuzz_threads finding): the schedule, i.e. every
 *	switch at once, then one at a time, then each switch's point
 *	toward 0.  Removing an op renumbers the switches that name later
 *	ops and drops the ones on it.
 *
 * Deterministic: candidates are tried in a fixed order and the only
 * clock is the per-candidate timeout (a candidate that times out does
 * not count).
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE	/* asprintf, open_memstream, pipe2 */
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/pbtext.h"
#include "fuzz/threaded.h"
#include "repro/crashrun.h"
#include "repro/scenario_io.h"

#define	PROG_BASE	"sndtag-minimize"

extern const char repro_variant[];	/* repro/variant_name.c */

static char prog[96];

static struct {
	uint8_t		*buf;		/* smallest so far, packed */
	size_t		 len;
	Scenario	*sc;		/* buf, unpacked */
	char		 bucket[CRASH_BUCKET_MAX];
	unsigned	 tries;
	unsigned	 max_tries;
	unsigned	 timeout_ms;
	bool		 quiet;
	bool		 out_of_tries;
	bool		 threaded;	/* --threaded: --strategy switch */
} M;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: %s [-o OUT] [--timeout SEC] [--max-tries N] [-q] [--threaded]\n"
"           [--text|--binary|--raw] FILE\n"
"       %s --bucket [--text|--binary|--raw] FILE\n"
"       %s --bucket-report < REPORT\n"
"\n"
"Shrinks a crashing scenario (a .txt scenario or a fuzzer's binary crash\n"
"file; --raw for fuzz_raw) while its crash bucket stays the same: drops\n"
"operations (ddmin, then one at a time), interfaces, addresses and routes\n"
"no remaining operation needs, and simplifies values (threads to 0, sizes\n"
"down, counts toward 1).  Each candidate runs in a forked child on the\n"
"core this binary was built with (%s_<variant> for a historic-bug\n"
"variant).  The result is written in the readable text form to OUT\n"
"(default FILE.min.txt) via a temporary file and a rename; the input is\n"
"never overwritten.  Progress goes to stderr.\n"
"\n"
"  -o OUT          output file\n"
"  --timeout SEC   per-candidate timeout (default 10; a timeout is not a\n"
"                  crash)\n"
"  --max-tries N   stop after N candidates (default 5000)\n"
"  -q              no progress lines\n"
"  --threaded      run candidates threaded under the input's switches\n"
"                  (sndtag-replay --threaded --strategy switch: what\n"
"                  fuzz_threads runs) and shrink the switches too\n"
"  --bucket        only print the crash bucket of FILE (exit 0 if it\n"
"                  crashes, 1 if it does not)\n"
"  --bucket-report print the bucket of a crash report read from stdin\n"
"                  (tools/bucket.sh's rules, addresses stripped)\n"
"\n"
"Buckets: 'panic: <invariant>: <details>' (numbers -> N, addresses ->\n"
"ADDR), or '<Sanitizer>: <kind> in <first model frame>'.\n"
"Exit status: 0 written, 1 bad input or no crash, 2 usage.\n",
	    prog, prog, prog, PROG_BASE);
}

static void __attribute__((format(printf, 1, 2)))
progress(const char *fmt, ...)
{
	va_list ap;

	if (M.quiet)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- running candidates --------------------------------------------- */

struct runarg {
	const uint8_t	*buf;
	size_t		 len;
};

static int
child_run(void *arg)
{
	struct runarg *r = arg;
	struct interp_options o;
	struct threaded_options to;
	Scenario *sc;
	int error;

	memset(&o, 0, sizeof(o));
	if (!M.threaded)
		return (interp_run_bytes(r->buf, r->len, &o) == 0 ? 0 : 1);
	sc = scenario__unpack(NULL, r->len, r->buf);
	if (sc == NULL)
		return (1);
	memset(&to, 0, sizeof(to));
	to.strategy = SCHED_SWITCH;
	to.interp = &o;
	error = threaded_run(sc, &to, NULL);
	scenario__free_unpacked(sc, NULL);
	return (error == 0 ? 0 : 1);
}

/* The bucket of one run ("" clean); -1 if the child could not start. */
static int
bucket_of(const uint8_t *buf, size_t len, char *bucket, size_t blen)
{
	struct runarg r = { buf, len };
	struct crashrun cr;

	if (crashrun(child_run, &r, M.timeout_ms, false, &cr) != 0)
		return (-1);
	crashrun_bucket(&cr, bucket, blen);
	crashrun_free(&cr);
	return (0);
}

static uint8_t *
pack(const Scenario *sc, size_t *len)
{
	uint8_t *buf;

	*len = scenario__get_packed_size(sc);
	buf = malloc(*len + 1);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	scenario__pack(sc, buf);
	return (buf);
}

static Scenario *
unpack_current(void)
{
	Scenario *sc = scenario__unpack(NULL, M.len, M.buf);

	if (sc == NULL) {
		fprintf(stderr, "%s: internal: cannot unpack the current "
		    "candidate\n", prog);
		exit(1);
	}
	return (sc);
}

static uint32_t
n_ifaces_of(const Scenario *sc)
{
	return (sc->topology != NULL ? (uint32_t)sc->topology->n_ifaces : 0);
}

/*
 * Try a candidate (a view: it may share sub-messages with anything, it
 * is packed at once).  True if it keeps the bucket; it is then current.
 */
static bool
try_view(const Scenario *view, const char *what)
{
	char bucket[CRASH_BUCKET_MAX];
	uint8_t *buf;
	size_t len;

	if (M.out_of_tries)
		return (false);
	buf = pack(view, &len);
	if (len == M.len && memcmp(buf, M.buf, len) == 0) {
		free(buf);
		return (false);
	}
	if (M.tries >= M.max_tries) {
		M.out_of_tries = true;
		progress("stopping after %u candidates (--max-tries)",
		    M.tries);
		free(buf);
		return (false);
	}
	M.tries++;
	if (bucket_of(buf, len, bucket, sizeof(bucket)) != 0) {
		fprintf(stderr, "%s: cannot fork a child: %s\n", prog,
		    strerror(errno));
		exit(1);
	}
	if (strcmp(bucket, M.bucket) != 0) {
		free(buf);
		return (false);
	}
	free(M.buf);
	scenario__free_unpacked(M.sc, NULL);
	M.buf = buf;
	M.len = len;
	M.sc = unpack_current();
	progress("[%u tried] %zu ops, %u interfaces: %s", M.tries,
	    M.sc->n_ops, n_ifaces_of(M.sc), what);
	return (true);
}

/* ---- pass 1: operations --------------------------------------------- */

/* Try the current scenario without ops [from, from + n). */
static bool
ops_without(size_t from, size_t n)
{
	Scenario v = *M.sc;
	char what[64];
	size_t i, k = 0;
	Switch **sws = NULL, *swv = NULL;
	Op **ops;
	bool ok;

	ops = calloc(M.sc->n_ops + 1, sizeof(*ops));
	if (ops == NULL)
		return (false);
	for (i = 0; i < M.sc->n_ops; i++)
		if (i < from || i >= from + n)
			ops[k++] = M.sc->ops[i];
	v.ops = ops;
	v.n_ops = k;
	/* Switches keep naming the same ops and actors. */
	if (M.sc->n_switches > 0) {
		sws = calloc(M.sc->n_switches, sizeof(*sws));
		swv = calloc(M.sc->n_switches, sizeof(*swv));
		if (sws == NULL || swv == NULL) {
			free(sws);
			free(swv);
			free(ops);
			return (false);
		}
		for (i = 0, k = 0; i < M.sc->n_switches; i++) {
			uint32_t op = M.sc->switches[i]->op;

			if (op >= from && op < from + n)
				continue;
			swv[k] = *M.sc->switches[i];
			if (op >= from + n)
				swv[k].op = op - (uint32_t)n;
			sws[k] = &swv[k];
			k++;
		}
		v.switches = sws;
		v.n_switches = k;
	}
	if (n == 1)
		snprintf(what, sizeof(what), "removed op #%zu", from);
	else
		snprintf(what, sizeof(what), "removed ops #%zu-#%zu", from,
		    from + n - 1);
	ok = try_view(&v, what);
	free(ops);
	free(sws);
	free(swv);
	return (ok);
}

static bool
pass_ops(void)
{
	size_t n = 2, len, chunk, start, cnt, i;
	bool any = false, reduced;

	progress("operations: %zu (ddmin)", M.sc->n_ops);
	/* A crash in setup or teardown may need no operation at all. */
	if (M.sc->n_ops > 0 && ops_without(0, M.sc->n_ops))
		return (true);
	while ((len = M.sc->n_ops) >= 2 && !M.out_of_tries) {
		if (n > len)
			n = len;
		chunk = (len + n - 1) / n;
		reduced = false;
		for (start = 0; start < len; start += chunk) {
			cnt = chunk < len - start ? chunk : len - start;
			if (ops_without(start, cnt)) {
				reduced = true;
				break;
			}
		}
		if (reduced) {
			any = true;
			n = n > 2 ? n - 1 : 2;
			continue;
		}
		if (n >= len)
			break;
		n = n * 2 < len ? n * 2 : len;
	}
	/* ddmin ends at single ops; once more, last to first. */
	for (i = M.sc->n_ops; i-- > 0 && !M.out_of_tries;)
		if (i < M.sc->n_ops && ops_without(i, 1))
			any = true;
	return (any);
}

/* ---- pass 2: topology ----------------------------------------------- */

enum { K_NIC, K_LOOP, K_EPAIR, K_VLAN, K_LAGG, K_CXGBE, K_MLX5, K_N };

static int
kind_of(const Iface *d)
{
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
		return (K_LOOP);
	case IFACE__KIND_EPAIR:
		return (K_EPAIR);
	case IFACE__KIND_VLAN:
		return (K_VLAN);
	case IFACE__KIND_LAGG:
		return (K_LAGG);
	case IFACE__KIND_CXGBE:
		return (K_CXGBE);
	case IFACE__KIND_MLX5:
		return (K_MLX5);
	default:
		return (K_NIC);		/* a Nic; unset: a default Nic */
	}
}

static uint32_t
entries_of(const Iface *d)
{
	return (d->kind_case == IFACE__KIND_EPAIR ? 2 : 1);
}

/*
 * A reference resolved modulo n, after entries [lo, lo + cnt) were
 * removed: point at the same object, renumbered (a reference to a
 * removed entry is left to resolve to whatever it now names).
 */
static void
remap(uint32_t *ref, protobuf_c_boolean *has, bool presence, uint32_t n,
    uint32_t lo, uint32_t cnt)
{
	uint32_t r;

	if (n == 0 || (has != NULL && !*has))
		return;
	r = *ref % n;
	if (r >= lo && r < lo + cnt)
		return;
	if (r >= lo + cnt)
		r -= cnt;
	*ref = r;
	if (has != NULL && !presence)
		*has = r != 0;
}

/* Renumber every interface reference of sc for removing iface 'del'. */
static void
remap_ifaces(Scenario *sc, size_t del)
{
	Topology *t = sc->topology;
	uint32_t before = 0, total = 0, lo = 0, cnt, n_kind[K_N];
	uint32_t kidx = 0;
	int dk;
	size_t i, j;

	memset(n_kind, 0, sizeof(n_kind));
	for (i = 0; i < t->n_ifaces; i++) {
		if (i == del) {
			lo = total;
			kidx = n_kind[kind_of(t->ifaces[i])];
		}
		total += entries_of(t->ifaces[i]);
		n_kind[kind_of(t->ifaces[i])]++;
	}
	cnt = entries_of(t->ifaces[del]);
	dk = kind_of(t->ifaces[del]);
	/* Setup references: earlier interfaces, modulo those before. */
	for (i = 0; i < t->n_ifaces; i++) {
		Iface *d = t->ifaces[i];

		if (i > del && d->kind_case == IFACE__KIND_VLAN)
			remap(&d->vlan->parent, &d->vlan->has_parent, true,
			    before, lo, cnt);
		if (i > del && d->kind_case == IFACE__KIND_LAGG)
			for (j = 0; j < d->lagg->n_ports; j++)
				remap(&d->lagg->ports[j], NULL, false, before,
				    lo, cnt);
		before += entries_of(d);
	}
	for (i = 0; i < t->n_addrs; i++)
		remap(&t->addrs[i]->iface, &t->addrs[i]->has_iface, false,
		    total, lo, cnt);
	for (i = 0; i < t->n_routes; i++)
		remap(&t->routes[i]->iface, &t->routes[i]->has_iface, false,
		    total, lo, cnt);
	for (i = 0; i < sc->n_ops; i++) {
		Op *op = sc->ops[i];

#define	ANY(m, f)							\
	remap(&op->m->f, &op->m->has_##f, false, total, lo, cnt)
#define	KIND(m, f, k)	do {					\
	if (dk == (k))						\
		remap(&op->m->f, &op->m->has_##f, false,	\
		    n_kind[k], kidx, 1);			\
} while (0)
		switch (op->op_case) {
		case OP__OP_RECEIVE:
			ANY(receive, iface);
			break;
		case OP__OP_ROUTE_ADD:
			ANY(route_add, iface);
			break;
		case OP__OP_ROUTE_CHANGE:
			ANY(route_change, iface);
			break;
		case OP__OP_VLAN_REPARENT:
			KIND(vlan_reparent, vlan, K_VLAN);
			remap(&op->vlan_reparent->parent,
			    &op->vlan_reparent->has_parent, true, total, lo,
			    cnt);
			break;
		case OP__OP_LAGG_PORT_ADD:
			KIND(lagg_port_add, lagg, K_LAGG);
			ANY(lagg_port_add, port);
			break;
		case OP__OP_LAGG_PORT_REMOVE:
			KIND(lagg_port_remove, lagg, K_LAGG);
			ANY(lagg_port_remove, port);
			break;
		case OP__OP_LINK:
			ANY(link, iface);
			break;
		case OP__OP_LAGG_PROTO:
			KIND(lagg_proto, lagg, K_LAGG);
			break;
		case OP__OP_LAGG_OPTS:
			KIND(lagg_opts, lagg, K_LAGG);
			break;
		case OP__OP_DETACH:
			ANY(detach, iface);
			break;
		case OP__OP_IFCAP:
			ANY(ifcap, iface);
			break;
		case OP__OP_NIC_TXEOF:
			KIND(nic_txeof, nic, K_NIC);
			break;
		case OP__OP_MLX5_COMPLETE:
			KIND(mlx5_complete, mlx5, K_MLX5);
			break;
		case OP__OP_CXGBE_ACK:
			KIND(cxgbe_ack, cxgbe, K_CXGBE);
			break;
		case OP__OP_MLX5_WORKER:
			KIND(mlx5_worker, mlx5, K_MLX5);
			break;
		default:
			break;
		}
#undef	ANY
#undef	KIND
	}
}

/* Remove element i of a pointer array into a fresh array (a view). */
static void **
without(void **arr, size_t n, size_t i)
{
	void **out = calloc(n + 1, sizeof(*out));
	size_t j, k = 0;

	if (out == NULL)
		return (NULL);
	for (j = 0; j < n; j++)
		if (j != i)
			out[k++] = arr[j];
	return (out);
}

static bool
try_topology_edit(int what, size_t i)
{
	Scenario *copy, v;
	Topology tv;
	void **arr = NULL;
	char desc[80];
	bool ok;

	copy = unpack_current();
	v = *copy;
	tv = *copy->topology;
	v.topology = &tv;
	switch (what) {
	case 0:
		snprintf(desc, sizeof(desc), "removed interface %zu (%s)", i,
		    copy->topology->ifaces[i]->kind_case ==
		    IFACE__KIND__NOT_SET ? "nic" :
		    protobuf_c_message_descriptor_get_field(
		    &iface__descriptor,
		    copy->topology->ifaces[i]->kind_case)->name);
		remap_ifaces(copy, i);
		arr = without((void **)tv.ifaces, tv.n_ifaces, i);
		tv.ifaces = (Iface **)arr;
		tv.n_ifaces--;
		break;
	case 1:
		snprintf(desc, sizeof(desc), "removed address %zu", i);
		arr = without((void **)tv.addrs, tv.n_addrs, i);
		tv.addrs = (LocalAddr **)arr;
		tv.n_addrs--;
		break;
	case 2:
		snprintf(desc, sizeof(desc), "removed route %zu", i);
		arr = without((void **)tv.routes, tv.n_routes, i);
		tv.routes = (Route **)arr;
		tv.n_routes--;
		break;
	case 3:
		snprintf(desc, sizeof(desc), "forwarding off");
		tv.has_forwarding = 0;
		tv.forwarding = 0;
		break;
	default:
		snprintf(desc, sizeof(desc), "removed the empty topology");
		v.topology = NULL;
		break;
	}
	ok = (what > 2 || arr != NULL) && try_view(&v, desc);
	free(arr);
	scenario__free_unpacked(copy, NULL);
	return (ok);
}

static bool
pass_topology(void)
{
	const Topology *t;
	bool any = false;
	size_t i;

	if (M.sc->has_schedule) {
		Scenario v = *M.sc;

		/* Only the threaded mode reads it. */
		v.has_schedule = 0;
		v.schedule.len = 0;
		v.schedule.data = NULL;
		if (try_view(&v, "removed the schedule bytes"))
			any = true;
	}
	if (M.sc->topology == NULL)
		return (any);
	progress("topology: %u interfaces, %zu addresses, %zu routes",
	    n_ifaces_of(M.sc), M.sc->topology->n_addrs,
	    M.sc->topology->n_routes);
	for (i = M.sc->topology->n_ifaces; i-- > 0 && !M.out_of_tries;)
		if (i < M.sc->topology->n_ifaces && try_topology_edit(0, i))
			any = true;
	for (i = M.sc->topology->n_addrs; i-- > 0 && !M.out_of_tries;)
		if (i < M.sc->topology->n_addrs && try_topology_edit(1, i))
			any = true;
	for (i = M.sc->topology->n_routes; i-- > 0 && !M.out_of_tries;)
		if (i < M.sc->topology->n_routes && try_topology_edit(2, i))
			any = true;
	if (M.sc->topology->forwarding && try_topology_edit(3, 0))
		any = true;
	t = M.sc->topology;
	if (t->n_ifaces == 0 && t->n_addrs == 0 && t->n_routes == 0 &&
	    !t->forwarding && try_topology_edit(4, 0))
		any = true;
	return (any);
}

/* ---- pass 3: scalars ------------------------------------------------ */

enum slot_how {
	S_ZERO,		/* threads, references: to 0 */
	S_DOWN,		/* sizes, dimensions: toward lo */
	S_COUNT,	/* counts (0 = all): toward 1 */
};

struct slot {
	uint32_t	*v;
	protobuf_c_boolean *has;
	uint32_t	 lo;
	uint32_t	 dflt;		/* the schema default */
	enum slot_how	 how;
	const char	*name;
	const char	*owner;		/* "op" or "interface" */
	size_t		 where;		/* its index */
};

#define	MAX_SLOTS	2048

/* Every simplifiable value of sc, in a fixed order. */
static size_t
slots_of(Scenario *sc, struct slot *s)
{
	const char *owner = "op";
	size_t n = 0, i;

#define	SLOT(vp, hp, l, d, h, nm, w) do {			\
	if (n < MAX_SLOTS)					\
		s[n++] = (struct slot){ (vp), (hp), (l), (d),	\
		    (h), (nm), owner, (w) };			\
} while (0)
	for (i = 0; i < sc->n_ops; i++) {
		Op *op = sc->ops[i];

		SLOT(&op->thread, &op->has_thread, 0, 0, S_ZERO, "thread", i);
		/* References toward 0: the smallest index naming the object. */
#define	REF(m, f)							\
	SLOT(&op->m->f, &op->m->has_##f, 0, 0, S_ZERO, #f, i)
		switch (op->op_case) {
		case OP__OP_CONNECT:
			REF(connect, sock);
			break;
		case OP__OP_SET_RATE:
			REF(set_rate, sock);
			break;
		case OP__OP_FLOWTYPE_NONE:
			REF(flowtype_none, sock);
			break;
		case OP__OP_SEND:
			REF(send, sock);
			break;
		case OP__OP_CLOSE:
			REF(close, sock);
			break;
		case OP__OP_TCPDROP:
			REF(tcpdrop, sock);
			break;
		case OP__OP_TAG_MODIFY:
			REF(tag_modify, sock);
			break;
		case OP__OP_TAG_QUERY:
			REF(tag_query, sock);
			break;
		case OP__OP_TLS_ENABLE:
			REF(tls_enable, sock);
			break;
		case OP__OP_TLS_SEND:
			REF(tls_send, sock);
			break;
		case OP__OP_PACING:
			REF(pacing, sock);
			break;
		case OP__OP_RECEIVE:
			REF(receive, iface);
			break;
		case OP__OP_ROUTE_ADD:
			REF(route_add, iface);
			break;
		case OP__OP_ROUTE_CHANGE:
			REF(route_change, iface);
			break;
		case OP__OP_VLAN_REPARENT:
			REF(vlan_reparent, vlan);
			break;
		case OP__OP_LAGG_PORT_ADD:
			REF(lagg_port_add, lagg);
			REF(lagg_port_add, port);
			break;
		case OP__OP_LAGG_PORT_REMOVE:
			REF(lagg_port_remove, lagg);
			REF(lagg_port_remove, port);
			break;
		case OP__OP_LINK:
			REF(link, iface);
			break;
		case OP__OP_LAGG_PROTO:
			REF(lagg_proto, lagg);
			break;
		case OP__OP_LAGG_OPTS:
			REF(lagg_opts, lagg);
			break;
		case OP__OP_DETACH:
			REF(detach, iface);
			break;
		case OP__OP_IFCAP:
			REF(ifcap, iface);
			break;
		case OP__OP_NIC_TXEOF:
			REF(nic_txeof, nic);
			break;
		case OP__OP_MLX5_COMPLETE:
			REF(mlx5_complete, mlx5);
			break;
		case OP__OP_CXGBE_ACK:
			REF(cxgbe_ack, cxgbe);
			REF(cxgbe_ack, flow);
			break;
		case OP__OP_MLX5_WORKER:
			REF(mlx5_worker, mlx5);
			REF(mlx5_worker, worker);
			break;
		default:
			break;
		}
#undef	REF
		switch (op->op_case) {
		case OP__OP_SEND:
			SLOT(&op->send->size, &op->send->has_size, 1, 1000,
			    S_DOWN, "send size", i);
			break;
		case OP__OP_RECEIVE:
			SLOT(&op->receive->size, &op->receive->has_size, 1,
			    500, S_DOWN, "receive size", i);
			break;
		case OP__OP_EPAIR_DELIVER:
			SLOT(&op->epair_deliver->count,
			    &op->epair_deliver->has_count, 1, 0, S_COUNT,
			    "epair_deliver count", i);
			break;
		case OP__OP_NIC_TXEOF:
			SLOT(&op->nic_txeof->count, &op->nic_txeof->has_count,
			    1, 0, S_COUNT, "nic_txeof count", i);
			break;
		case OP__OP_MLX5_COMPLETE:
			SLOT(&op->mlx5_complete->count,
			    &op->mlx5_complete->has_count, 1, 0, S_COUNT,
			    "mlx5_complete count", i);
			break;
		case OP__OP_CXGBE_ACK:
			SLOT(&op->cxgbe_ack->credits,
			    &op->cxgbe_ack->has_credits, 1, 0, S_COUNT,
			    "cxgbe_ack credits", i);
			break;
		case OP__OP_TASKQUEUE:
			SLOT(&op->taskqueue->rounds,
			    &op->taskqueue->has_rounds, 1, 1, S_DOWN,
			    "taskqueue rounds", i);
			break;
		case OP__OP_FAIL_ALLOC:
			if (op->fail_alloc->nth != 0)
				SLOT(&op->fail_alloc->nth,
				    &op->fail_alloc->has_nth, 1, 1, S_DOWN,
				    "fail_alloc nth", i);
			break;
		default:
			break;
		}
	}
	owner = "interface";
	for (i = 0; sc->topology != NULL && i < sc->topology->n_ifaces; i++) {
		Iface *d = sc->topology->ifaces[i];

		switch (d->kind_case) {
		case IFACE__KIND_NIC:
			SLOT(&d->nic->ring_size, &d->nic->has_ring_size, 1, 64,
			    S_DOWN, "nic ring_size", i);
			break;
		case IFACE__KIND_CXGBE:
			SLOT(&d->cxgbe->n_etids, &d->cxgbe->has_n_etids, 1, 8,
			    S_DOWN, "cxgbe n_etids", i);
			SLOT(&d->cxgbe->n_classes, &d->cxgbe->has_n_classes, 1,
			    4, S_DOWN, "cxgbe n_classes", i);
			SLOT(&d->cxgbe->tx_credits, &d->cxgbe->has_tx_credits,
			    64, 1024, S_DOWN, "cxgbe tx_credits", i);
			SLOT(&d->cxgbe->max_backlog,
			    &d->cxgbe->has_max_backlog, 1, 64, S_DOWN,
			    "cxgbe max_backlog", i);
			break;
		case IFACE__KIND_MLX5:
			SLOT(&d->mlx5->workers, &d->mlx5->has_workers, 1, 2,
			    S_DOWN, "mlx5 workers", i);
			SLOT(&d->mlx5->channels_per_worker,
			    &d->mlx5->has_channels_per_worker, 1, 4, S_DOWN,
			    "mlx5 channels_per_worker", i);
			SLOT(&d->mlx5->tx_channels, &d->mlx5->has_tx_channels,
			    1, 2, S_DOWN, "mlx5 tx_channels", i);
			SLOT(&d->mlx5->sq_size, &d->mlx5->has_sq_size, 1, 64,
			    S_DOWN, "mlx5 sq_size", i);
			break;
		default:
			break;
		}
	}
	owner = "address";
	for (i = 0; sc->topology != NULL && i < sc->topology->n_addrs; i++)
		SLOT(&sc->topology->addrs[i]->iface,
		    &sc->topology->addrs[i]->has_iface, 0, 0, S_ZERO, "iface",
		    i);
	owner = "route";
	for (i = 0; sc->topology != NULL && i < sc->topology->n_routes; i++)
		SLOT(&sc->topology->routes[i]->iface,
		    &sc->topology->routes[i]->has_iface, 0, 0, S_ZERO, "iface",
		    i);
#undef	SLOT
	return (n);
}

static struct slot slots_buf[MAX_SLOTS];

/* Try slot k of the current scenario set to val. */
static bool
try_slot(size_t k, uint32_t val)
{
	Scenario *copy;
	struct slot *s;
	char desc[96];
	size_t n;
	bool ok;

	copy = unpack_current();
	n = slots_of(copy, slots_buf);
	if (k >= n) {
		scenario__free_unpacked(copy, NULL);
		return (false);
	}
	s = &slots_buf[k];
	*s->v = val;
	*s->has = val != s->dflt;
	snprintf(desc, sizeof(desc), "%s of %s %zu -> %u", s->name,
	    s->owner, s->where, val);
	ok = try_view(copy, desc);
	scenario__free_unpacked(copy, NULL);
	return (ok);
}

/* Smallest value in (lo, v] that keeps the bucket, by bisection. */
static bool
bisect_slot(size_t k, uint32_t lo, uint32_t v)
{
	uint32_t bad = lo, good = v, mid;
	bool any = false;

	if (try_slot(k, lo))
		return (true);
	while (good - bad > 1 && !M.out_of_tries) {
		mid = bad + (good - bad) / 2;
		if (try_slot(k, mid)) {
			good = mid;
			any = true;
		} else
			bad = mid;
	}
	return (any);
}

static bool
pass_scalars(void)
{
	Scenario *copy, v;
	size_t k, n, i;
	bool any = false, threads = false;
	uint32_t val;

	/* All threads to 0 in one candidate first. */
	for (i = 0; i < M.sc->n_ops; i++)
		if (M.sc->ops[i]->thread != 0)
			threads = true;
	if (threads) {
		copy = unpack_current();
		for (i = 0; i < copy->n_ops; i++) {
			copy->ops[i]->thread = 0;
			copy->ops[i]->has_thread = 0;
		}
		v = *copy;
		if (try_view(&v, "every op on thread 0"))
			any = true;
		scenario__free_unpacked(copy, NULL);
	}
	progress("values");
	n = slots_of(M.sc, slots_buf);
	for (k = 0; k < n && !M.out_of_tries; k++) {
		if (slots_of(M.sc, slots_buf) <= k)
			break;
		val = *slots_buf[k].v;
		switch (slots_buf[k].how) {
		case S_ZERO:
			if (val != 0 && try_slot(k, 0))
				any = true;
			break;
		case S_COUNT:
			if (val == 0) {
				if (try_slot(k, 1))
					any = true;
			} else if (val > 1 && bisect_slot(k, 1, val))
				any = true;
			break;
		case S_DOWN:
			if (val > slots_buf[k].lo &&
			    bisect_slot(k, slots_buf[k].lo, val))
				any = true;
			break;
		}
	}
	return (any);
}

/* ---- pass 4: the schedule (--threaded) ------------------------------ */

/* Try the current scenario without switch i (all of them: i == n). */
static bool
switch_without(size_t i)
{
	Scenario v = *M.sc;
	Switch **sws;
	size_t j, k = 0;
	char what[64];
	bool ok;

	sws = calloc(M.sc->n_switches + 1, sizeof(*sws));
	if (sws == NULL)
		return (false);
	if (i < M.sc->n_switches)
		for (j = 0; j < M.sc->n_switches; j++)
			if (j != i)
				sws[k++] = M.sc->switches[j];
	v.switches = sws;
	v.n_switches = k;
	if (i < M.sc->n_switches)
		snprintf(what, sizeof(what), "removed switch %zu", i);
	else
		snprintf(what, sizeof(what), "removed every switch");
	ok = try_view(&v, what);
	free(sws);
	return (ok);
}

/* Try switch i with its point at p. */
static bool
switch_point(size_t i, uint32_t p)
{
	Scenario v = *M.sc;
	Switch **sws, one;
	char what[64];
	bool ok;

	sws = calloc(M.sc->n_switches, sizeof(*sws));
	if (sws == NULL)
		return (false);
	memcpy(sws, M.sc->switches, M.sc->n_switches * sizeof(*sws));
	one = *M.sc->switches[i];
	one.point = p;
	one.has_point = 1;
	sws[i] = &one;
	v.switches = sws;
	snprintf(what, sizeof(what), "switch %zu at point %u", i, p);
	ok = try_view(&v, what);
	free(sws);
	return (ok);
}

static bool
pass_switches(void)
{
	uint32_t lo, hi, mid;
	bool any = false;
	size_t i;

	if (!M.threaded || M.sc->n_switches == 0)
		return (false);
	progress("schedule: %zu switches", M.sc->n_switches);
	if (switch_without(M.sc->n_switches))
		return (true);
	for (i = M.sc->n_switches; i-- > 0 && !M.out_of_tries;)
		if (i < M.sc->n_switches && switch_without(i))
			any = true;
	/* Earliest point that still gives the bucket (bisect, then 0). */
	for (i = 0; i < M.sc->n_switches && !M.out_of_tries; i++) {
		hi = M.sc->switches[i]->point;
		if (hi == 0)
			continue;
		if (switch_point(i, 0)) {
			any = true;
			continue;
		}
		lo = 0;
		while (hi - lo > 1 && !M.out_of_tries) {
			mid = lo + (hi - lo) / 2;
			if (switch_point(i, mid)) {
				hi = mid;
				any = true;
			} else
				lo = mid;
		}
	}
	return (any);
}

/* ---- output --------------------------------------------------------- */

static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return (true);
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return (false);
	return (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

/* ---- main ----------------------------------------------------------- */

static Scenario *
load(const char *path, enum scenario_format fmt)
{
	char err[320];
	Scenario *sc;
	uint8_t *buf;
	size_t len;

	buf = scenario_read_file(path, &len, err, sizeof(err));
	if (buf == NULL) {
		fprintf(stderr, "%s: %s: %s; pass a .txt scenario or a "
		    "binary from the fuzzer\n", prog, path, err);
		exit(1);
	}
	sc = scenario_decode(buf, len, fmt, NULL, err, sizeof(err));
	free(buf);
	if (sc == NULL) {
		fprintf(stderr, "%s: %s: not a scenario (%s); pass a .txt "
		    "scenario or a binary from the fuzzer\n", prog, path, err);
		exit(1);
	}
	return (sc);
}

static int
bucket_report_main(void)
{
	char bucket[CRASH_BUCKET_MAX], *buf;
	size_t len = 0, cap = 1 << 16, n;

	buf = malloc(cap);
	if (buf == NULL)
		return (1);
	while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb;

			if (cap >= CRASH_REPORT_MAX)
				break;
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	crash_bucket(buf, bucket, sizeof(bucket));
	free(buf);
	if (bucket[0] == '\0')
		return (1);
	printf("%s\n", bucket);
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-tries", required_argument, NULL, 'M' },
		{ "text", no_argument, NULL, 't' },
		{ "binary", no_argument, NULL, 'b' },
		{ "raw", no_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "bucket", no_argument, NULL, 'B' },
		{ "bucket-report", no_argument, NULL, 'R' },
		{ "threaded", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum scenario_format fmt = SF_AUTO;
	bool only_bucket = false;
	const char *path, *out = NULL;
	/* No allocation: nothing for an early exit to leak. */
	char defout[PATH_MAX];
	char *text = NULL, *head = NULL, err[320];
	struct interp *ip;
	size_t n_ops0, n_sw0, tlen;
	uint32_t n_if0;
	unsigned long v;
	char *end;
	int ch, round;

	snprintf(prog, sizeof(prog), "%s%s%s", PROG_BASE,
	    repro_variant[0] != '\0' ? "_" : "", repro_variant);
	M.timeout_ms = 10000;
	M.max_tries = 5000;
	while ((ch = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'T':
		case 'M':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    v > 1000000) {
				fprintf(stderr, "%s: --%s wants a number from "
				    "1 to 1000000, not '%s'\n", prog,
				    ch == 'T' ? "timeout" : "max-tries",
				    optarg);
				return (2);
			}
			if (ch == 'T')
				M.timeout_ms = (unsigned)v * 1000;
			else
				M.max_tries = (unsigned)v;
			break;
		case 't':
			fmt = SF_TEXT;
			break;
		case 'b':
			fmt = SF_BINARY;
			break;
		case 'r':
			fmt = SF_RAW;
			break;
		case 'X':
			M.threaded = true;
			break;
		case 'q':
			M.quiet = true;
			break;
		case 'B':
			only_bucket = true;
			break;
		case 'R':
			return (bucket_report_main());
		case 'h':
			usage(stdout);
			return (0);
		default:
			fprintf(stderr, "%s: see --help\n", prog);
			return (2);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: expected one scenario file (see --help)\n",
		    prog);
		return (2);
	}
	path = argv[optind];
	if (!only_bucket) {
		if (out == NULL) {
			if ((size_t)snprintf(defout, sizeof(defout),
			    "%s.min.txt", path) >= sizeof(defout)) {
				fprintf(stderr, "%s: %s: path too long for the "
				    "default output; pick one with -o\n", prog,
				    path);
				return (2);
			}
			out = defout;
		}
		if (same_file(out, path)) {
			fprintf(stderr, "%s: %s: refusing to overwrite the "
			    "input; pick another -o\n", prog, out);
			return (2);
		}
	}
	M.sc = load(path, fmt);
	ip = interp_new(M.sc, NULL);
	if (ip == NULL) {
		fprintf(stderr, "%s: %s: rejected by the interpreter (%s)\n",
		    prog, path, interp_reject_reason());
		return (1);
	}
	interp_free(ip);
	M.buf = pack(M.sc, &M.len);
	scenario__free_unpacked(M.sc, NULL);
	M.sc = unpack_current();
	if (bucket_of(M.buf, M.len, M.bucket, sizeof(M.bucket)) != 0) {
		fprintf(stderr, "%s: cannot fork a child: %s\n", prog,
		    strerror(errno));
		return (1);
	}
	if (only_bucket) {
		if (M.bucket[0] == '\0') {
			printf("none\n");
			return (1);
		}
		printf("%s\n", M.bucket);
		return (0);
	}
	if (strcmp(M.bucket, "timeout") == 0) {
		fprintf(stderr, "%s: %s: the run timed out after %u s; nothing "
		    "to minimize (try a larger --timeout)\n", prog, path,
		    M.timeout_ms / 1000);
		return (1);
	}
	if (M.bucket[0] == '\0' || strncmp(M.bucket, "exit ", 5) == 0) {
		fprintf(stderr, "%s: %s does not crash on this core; nothing "
		    "to minimize (did you mean %s_<variant>?)\n", prog, path,
		    PROG_BASE);
		return (1);
	}
	n_ops0 = M.sc->n_ops;
	n_sw0 = M.sc->n_switches;
	n_if0 = n_ifaces_of(M.sc);
	progress("%s: %zu ops, %u interfaces, bucket: %s", path, n_ops0,
	    n_if0, M.bucket);
	for (round = 0; round < 16 && !M.out_of_tries; round++) {
		bool changed = false;

		changed |= pass_ops();
		changed |= pass_topology();
		changed |= pass_scalars();
		changed |= pass_switches();
		if (!changed)
			break;
	}
	if (pbtext_format((const ProtobufCMessage *)M.sc, &text, &tlen) != 0) {
		fprintf(stderr, "%s: internal: the result has no exact text "
		    "form\n", prog);
		return (1);
	}
	/* The text must replay as the candidate we measured. */
	{
		Scenario *back = (Scenario *)pbtext_parse(&scenario__descriptor,
		    text, tlen, err, sizeof(err));
		uint8_t *bb;
		size_t bl;

		if (back == NULL) {
			fprintf(stderr, "%s: internal: the text form does not "
			    "parse back (%s)\n", prog, err);
			free(text);
			return (1);
		}
		bb = pack(back, &bl);
		if (bl != M.len || memcmp(bb, M.buf, bl) != 0) {
			fprintf(stderr, "%s: internal: the text form does not "
			    "pack back to the minimized scenario\n", prog);
			free(bb);
			protobuf_c_message_free_unpacked(
			    (ProtobufCMessage *)back, NULL);
			free(text);
			return (1);
		}
		free(bb);
		protobuf_c_message_free_unpacked((ProtobufCMessage *)back,
		    NULL);
	}
	if (asprintf(&head,
	    "# Minimized by %s from %s: %zu ops -> %zu, %u interfaces -> %u,\n"
	    "# %zu switches -> %zu (%u candidates tried).\n"
	    "# Bucket: %s\n"
	    "# Replay: sndtag-replay%s%s%s --trace <this file>\n",
	    prog, path, n_ops0, M.sc->n_ops, n_if0, n_ifaces_of(M.sc),
	    n_sw0, M.sc->n_switches, M.tries, M.bucket, repro_variant[0] != '\0' ? "_" : "",
	    repro_variant, M.threaded ? " --threaded --strategy switch" :
	    "") < 0) {
		free(text);
		return (1);
	}
	if (repro_write_atomic(out, head, text, tlen, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, out, err);
		free(text);
		free(head);
		return (1);
	}
	progress("wrote %s: %zu ops (from %zu), %u interfaces (from %u), "
	    "%zu switches (from %zu), %u candidates tried", out, M.sc->n_ops,
	    n_ops0, n_ifaces_of(M.sc), n_if0, M.sc->n_switches, n_sw0,
	    M.tries);
	free(text);
	free(head);
	free(M.buf);
	scenario__free_unpacked(M.sc, NULL);
	return (0);
}
