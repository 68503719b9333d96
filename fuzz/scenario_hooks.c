/*
 * Harness: mutator hooks for Scenario (see scenario_hooks.h): what the
 * generic protobuf-c mutator cannot know about this schema.
 *
 * repair	clamps every value into the interpreter's ranges, drops
 *		what is past a limit and makes references canonical (modulo
 *		the live objects of their kind), so a mutated input is
 *		almost never rejected and two inputs that run the same are
 *		the same bytes; the sequential target also drops ops that
 *		name no kind.
 * values	the values the model treats specially: packet sizes at the
 *		MTU and header boundaries, pacing rates (none, unlimited, a
 *		few magnitudes), small counts and object indices, the
 *		drivers' own attach bounds.
 * inserted	resources, as syzkaller's generator treats them: an op that
 *		uses a socket gets an open before it, an op on a kind of
 *		interface gets one in the topology, a socket or packet
 *		towards a destination gets a route; so a fresh op does
 *		something instead of being a skip.
 * generate	an empty input becomes a small random topology and a few
 *		ops built by the same insert-and-satisfy step.
 *
 * None of this names a historic bug: it is the schema's meaning (which
 * op needs which object) and the model's constants.
 */
#include "fuzz/scenario_hooks.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/pbmsg.h"

#include "dev/cxgbe/adapter.h"
#include "net/if_lagg.h"

/* ---- randomness: splitmix64 over the hook's own seed --------------- */

struct hrng {
	uint64_t	s;
};

static uint64_t
hnext(struct hrng *r)
{
	uint64_t z;

	z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static uint32_t
hbelow(struct hrng *r, uint32_t n)
{
	return (n == 0 ? 0 : (uint32_t)(hnext(r) % n));
}

static bool
hchance(struct hrng *r, uint32_t num, uint32_t den)
{
	return (hbelow(r, den) < num);
}

/* ---- repair --------------------------------------------------------- */

static void
clamp_repair(ProtobufCMessage *msg, void *arg)
{
	if (msg->descriptor == &scenario__descriptor)
		(void)interp_clamp((Scenario *)msg,
		    (const struct interp_limits *)arg);
}

/*
 * The sequential target also drops ops that name no kind.  They run as
 * nothing, yet each one costs an op's bookkeeping, takes a share of the
 * mutations and splits the (previous op, op) state pairs; and since an
 * unset op packs smaller than the op it was, libFuzzer kept trading ops
 * for holes (28% of a 40-second corpus's ops were empty).  Dropped, an
 * unset is a deletion.  The threaded target keeps them: its switches
 * name ops by index.
 */
static void
scenario_repair(ProtobufCMessage *msg, void *arg)
{
	Scenario *sc;
	size_t i, n;

	clamp_repair(msg, arg);
	if (msg->descriptor != &scenario__descriptor)
		return;
	sc = (Scenario *)msg;
	for (i = n = 0; i < sc->n_ops; i++) {
		if (sc->ops[i]->op_case == OP__OP__NOT_SET)
			pbmsg_free(&sc->ops[i]->base);
		else
			sc->ops[n++] = sc->ops[i];
	}
	sc->n_ops = n;
}

/* ---- values --------------------------------------------------------- */

/* Payload sizes around the IPv4/IPv6 + UDP/TCP header arithmetic of the
 * MTUs the model allows (576, 1280, 1500, 9000) and the IP maximum. */
static const uint64_t v_size[] = {
	0, 1, 8, 100, 500, 536, 548, 1000, 1232, 1240, 1252, 1440, 1452,
	1460, 1472, 1473, 1480, 1500, 1501, 2000, 2960, 3000, 4380, 8952,
	8972, 8973, 9000, 16384, 65495, 65507, 65535,
};
/* SO_MAX_PACING_RATE: none, unlimited, and bytes/s magnitudes. */
static const uint64_t v_rate[] = {
	0, 0xffffffffu, 1, 1000, 125000, 1250000, 12500000, 125000000,
	1250000000u, 0xfffffffeu,
};
/* "How many": everything (0), one, a few, more than a small ring. */
static const uint64_t v_count[] = { 0, 1, 2, 3, 4, 8, 16, 64 };
/* Object references: the first few objects of their kind. */
static const uint64_t v_ref[] = { 0, 0, 1, 1, 2, 3 };
static const uint64_t v_mtu[] = { 576, 1280, 1500, 9000 };
static const uint64_t v_ring[] = { 1, 2, 3, 4, 8, 64 };
static const uint64_t v_small[] = { 1, 2, 3, 4 };
static const uint64_t v_credits[] = {
	CXGBE_CREDITS_MIN, CXGBE_CREDITS_MIN + 1, CXGBE_CREDITS_DEFAULT,
	2 * CXGBE_CREDITS_MIN, CXGBE_CREDITS_MAX,
};
static const uint64_t v_vid[] = { 1, 2, 4094 };
static const uint64_t v_nth[] = { 0, 1, 2, 3, 4, 5, 8, 16 };
static const uint64_t v_rounds[] = { 1, 2, 16 };

struct vtab {
	const ProtobufCMessageDescriptor *d;	/* NULL: any message */
	const char	*field;
	const uint64_t	*vals;
	size_t		 n;
};

#define	VT(d, f, a)	{ (d), (f), (a), sizeof(a) / sizeof((a)[0]) }

static const struct vtab vtabs[] = {
	VT(&send__descriptor, "size", v_size),
	VT(&receive__descriptor, "size", v_size),
	VT(&set_rate__descriptor, "rate", v_rate),
	VT(&tag_modify__descriptor, "rate", v_rate),
	VT(&nic__descriptor, "mtu", v_mtu),
	VT(&nic__descriptor, "ring_size", v_ring),
	VT(&cxgbe__descriptor, "n_etids", v_small),
	VT(&cxgbe__descriptor, "n_classes", v_small),
	VT(&cxgbe__descriptor, "tx_credits", v_credits),
	VT(&cxgbe__descriptor, "max_backlog", v_ring),
	VT(&mlx5__descriptor, "workers", v_small),
	VT(&mlx5__descriptor, "channels_per_worker", v_small),
	VT(&mlx5__descriptor, "tx_channels", v_small),
	VT(&mlx5__descriptor, "sq_size", v_ring),
	VT(&vlan__descriptor, "vid", v_vid),
	VT(&fail_alloc__descriptor, "nth", v_nth),
	VT(&taskqueue_run__descriptor, "rounds", v_rounds),
	VT(&cxgbe_ack__descriptor, "credits", v_count),
	VT(NULL, "count", v_count),
	/* Every other uint32 of the schema is a reference. */
	VT(NULL, "sock", v_ref),
	VT(NULL, "dst", v_ref),
	VT(NULL, "iface", v_ref),
	VT(NULL, "parent", v_ref),
	VT(NULL, "port", v_ref),
	VT(NULL, "ports", v_ref),
	VT(NULL, "lagg", v_ref),
	VT(NULL, "vlan", v_ref),
	VT(NULL, "nic", v_ref),
	VT(NULL, "cxgbe", v_ref),
	VT(NULL, "mlx5", v_ref),
	VT(NULL, "flow", v_ref),
	VT(NULL, "worker", v_ref),
	VT(NULL, "thread", v_ref),
};

static size_t
scenario_values(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, uint64_t *vals, size_t nvals,
    void *arg)
{
	const struct vtab *t;
	size_t i, n;

	(void)arg;
	for (t = vtabs; t < vtabs + sizeof(vtabs) / sizeof(vtabs[0]); t++) {
		if ((t->d != NULL && t->d != d) || strcmp(t->field, f->name) != 0)
			continue;
		n = t->n < nvals ? t->n : nvals;
		for (i = 0; i < n; i++)
			vals[i] = t->vals[i];
		return (n);
	}
	return (0);
}

/* ---- resources ------------------------------------------------------ */

static const ProtobufCFieldDescriptor *
field_of(const ProtobufCMessageDescriptor *d, const char *name)
{
	return (protobuf_c_message_descriptor_get_field_by_name(d, name));
}

/* A new message of type d; NULL when out of memory. */
static void *
newmsg(const ProtobufCMessageDescriptor *d)
{
	return (pbmsg_new(d));
}

static Topology *
topology_of(Scenario *sc)
{
	if (sc->topology == NULL)
		sc->topology = newmsg(&topology__descriptor);
	return (sc->topology);
}

/* The interpreter's interface numbering: an epair is two interfaces. */
static uint32_t
iface_index(const Topology *t, size_t k)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < k && i < t->n_ifaces; i++)
		n += t->ifaces[i]->kind_case == IFACE__KIND_EPAIR ? 2 : 1;
	return (n);
}

static uint32_t
iface_total(const Topology *t)
{
	return (t == NULL ? 0 : iface_index(t, t->n_ifaces));
}

static bool
has_kind(const Topology *t, Iface__KindCase kind)
{
	size_t i;

	if (t == NULL)
		return (false);
	for (i = 0; i < t->n_ifaces; i++) {
		Iface__KindCase k = t->ifaces[i]->kind_case;

		if (k == IFACE__KIND__NOT_SET)
			k = IFACE__KIND_NIC;
		if (k == kind)
			return (true);
	}
	return (false);
}

/* Does r send af traffic to destination dst (each dst is its own net)? */
static bool
route_covers(const Route *r, int af, uint32_t dst)
{
	return ((int)r->af == af && (r->prefix == PREFIX_KIND__PREFIX_DEFAULT ||
	    r->dst % INTERP_NDST == dst % INTERP_NDST));
}

static bool
has_route(const Scenario *sc, int af, uint32_t dst)
{
	const Topology *t = sc->topology;
	size_t i;

	if (t != NULL) {
		for (i = 0; i < t->n_routes; i++)
			if (route_covers(t->routes[i], af, dst))
				return (true);
	}
	for (i = 0; i < sc->n_ops; i++)
		if (sc->ops[i]->op_case == OP__OP_ROUTE_ADD &&
		    route_covers(sc->ops[i]->route_add, af, dst))
			return (true);
	return (false);
}

/* A destination the topology routes for af, or -1. */
static int
routed_dst(const Scenario *sc, int af, struct hrng *r)
{
	const Topology *t = sc->topology;
	uint32_t cand[INTERP_MAX_ROUTES];
	size_t i, n = 0;

	if (t == NULL)
		return (-1);
	for (i = 0; i < t->n_routes && n < INTERP_MAX_ROUTES; i++)
		if ((int)t->routes[i]->af == af)
			cand[n++] = t->routes[i]->dst % INTERP_NDST;
	return (n == 0 ? -1 : (int)cand[hbelow(r, (uint32_t)n)]);
}

/* The lowest destination index no topology route uses yet. */
static uint32_t
free_dst(const Topology *t)
{
	uint32_t d;
	size_t i;

	for (d = 0; d < INTERP_NDST; d++) {
		for (i = 0; i < t->n_routes; i++)
			if (t->routes[i]->dst % INTERP_NDST == d)
				break;
		if (i == t->n_routes)
			return (d);
	}
	return (INTERP_NDST - 1);
}

static void
push_route(Topology *t, int af, uint32_t dst, PrefixKind prefix,
    uint32_t iface)
{
	Route *rt;

	if (t->n_routes >= INTERP_MAX_ROUTES / 2 ||
	    (rt = newmsg(&route__descriptor)) == NULL)
		return;
	rt->has_af = 1;
	rt->af = af;
	rt->has_dst = 1;
	rt->dst = dst;
	rt->has_prefix = 1;
	rt->prefix = prefix;
	rt->has_iface = 1;
	rt->iface = iface;
	if (pbmsg_insert(&t->base, field_of(&topology__descriptor, "routes"),
	    t->n_routes, &rt) != 0)
		pbmsg_free(&rt->base);
}

static void add_iface(Scenario *sc, Iface__KindCase kind, struct hrng *r);

/* A route for (af, dst) to one of the interfaces (made if none). */
static void
add_route(Scenario *sc, int af, uint32_t dst, struct hrng *r)
{
	Topology *t = topology_of(sc);
	uint32_t n;

	if (t == NULL)
		return;
	if (iface_total(t) == 0)
		add_iface(sc, IFACE__KIND_NIC, r);
	if ((n = iface_total(t)) == 0)
		return;
	push_route(t, af, dst, hchance(r, 1, 4) ?
	    PREFIX_KIND__PREFIX_DEFAULT : PREFIX_KIND__PREFIX_NET,
	    hbelow(r, n));
}

/*
 * Point (af, *dst) at a routed destination, or route it: a socket or
 * packet towards nowhere only exercises EHOSTUNREACH.
 */
static void
make_routed(Scenario *sc, int af, uint32_t *dst, struct hrng *r)
{
	int d;

	if (has_route(sc, af, *dst))
		return;
	if (hchance(r, 3, 4) && (d = routed_dst(sc, af, r)) >= 0)
		*dst = (uint32_t)d;
	else
		add_route(sc, af, *dst, r);
}

/* An interface whose ifnet a vlan or lagg can stack on (not lo/epair). */
static int
pick_parent(const Topology *t, struct hrng *r)
{
	uint32_t cand[INTERP_MAX_IFACES];
	size_t i, n = 0;

	for (i = 0; i < t->n_ifaces && n < INTERP_MAX_IFACES; i++) {
		switch (t->ifaces[i]->kind_case) {
		case IFACE__KIND_LOOPBACK:
		case IFACE__KIND_EPAIR:
		case IFACE__KIND_LAGG:
			break;
		default:
			cand[n++] = iface_index(t, i);
			break;
		}
	}
	return (n == 0 ? -1 : (int)cand[hbelow(r, (uint32_t)n)]);
}

/* Append an interface of this kind, with what a vlan or lagg stacks on. */
static void
add_iface(Scenario *sc, Iface__KindCase kind, struct hrng *r)
{
	Topology *t = topology_of(sc);
	const ProtobufCFieldDescriptor *kf;
	Iface *ifc;
	Nic *nic;
	Vlan *v;
	Lagg *l;
	uint32_t port, dst, idx;
	int p, i;

	/* A few interfaces reach every path; more only cost setup time. */
	if (t == NULL || iface_total(t) + 2 > 8)
		return;
	if ((kind == IFACE__KIND_VLAN || kind == IFACE__KIND_LAGG) &&
	    pick_parent(t, r) < 0)
		add_iface(sc, hchance(r, 1, 2) ? IFACE__KIND_NIC :
		    hchance(r, 1, 2) ? IFACE__KIND_CXGBE : IFACE__KIND_MLX5, r);
	if ((ifc = newmsg(&iface__descriptor)) == NULL)
		return;
	/* A oneof case is its member's field number. */
	kf = protobuf_c_message_descriptor_get_field(&iface__descriptor,
	    (unsigned)kind);
	if (kf == NULL) {
		pbmsg_free(&ifc->base);
		return;
	}
	{
		void *sub = newmsg(kf->descriptor);

		if (sub == NULL) {
			pbmsg_free(&ifc->base);
			return;
		}
		pbmsg_set(&ifc->base, kf, 0, &sub);
	}
	switch (kind) {
	case IFACE__KIND_NIC:
		nic = ifc->nic;
		nic->has_txrtlmt = 1;
		nic->txrtlmt = hchance(r, 2, 3);
		break;
	case IFACE__KIND_VLAN:
		v = ifc->vlan;
		if ((p = pick_parent(t, r)) >= 0) {
			v->has_parent = 1;
			v->parent = (uint32_t)p;
		}
		break;
	case IFACE__KIND_LAGG:
		l = ifc->lagg;
		l->has_proto = 1;
		l->proto = (LaggProto)hbelow(r, LAGG_PROTO_MAX);
		l->has_use_flowid = 1;
		l->use_flowid = hchance(r, 1, 2);
		/* Two ports: failover and hashing need a choice. */
		for (i = 0; i < 2; i++) {
			if ((p = pick_parent(t, r)) < 0)
				break;
			port = (uint32_t)p;
			(void)pbmsg_insert(&l->base,
			    field_of(&lagg__descriptor, "ports"), l->n_ports,
			    &port);
		}
		break;
	default:
		break;
	}
	if (pbmsg_insert(&t->base, field_of(&topology__descriptor, "ifaces"),
	    t->n_ifaces, &ifc) != 0) {
		pbmsg_free(&ifc->base);
		return;
	}
	/*
	 * Traffic reaches an interface only through a route: give it a
	 * destination of its own in both families, as a test network does.
	 */
	if (hchance(r, 3, 4)) {
		dst = free_dst(t);
		idx = iface_index(t, t->n_ifaces - 1);
		push_route(t, AF__V4, dst, PREFIX_KIND__PREFIX_NET, idx);
		push_route(t, AF__V6, dst, PREFIX_KIND__PREFIX_NET, idx);
	}
}

/* An open (connected at once) at ops[pos]. */
static void
add_open(Scenario *sc, size_t pos, struct hrng *r)
{
	Op *op;
	SockOpen *o;

	if ((op = newmsg(&op__descriptor)) == NULL)
		return;
	if ((o = newmsg(&sock_open__descriptor)) == NULL) {
		pbmsg_free(&op->base);
		return;
	}
	o->has_af = 1;
	o->af = hchance(r, 1, 2) ? AF__V6 : AF__V4;
	o->has_proto = 1;
	o->proto = hchance(r, 2, 3) ? L4__TCP : L4__UDP;
	o->has_dst = 1;
	o->dst = hbelow(r, 4);
	make_routed(sc, o->af, &o->dst, r);
	pbmsg_set(&op->base, field_of(&op__descriptor, "open"), 0, &o);
	if (pbmsg_insert(&sc->base, field_of(&scenario__descriptor, "ops"),
	    pos, &op) != 0)
		pbmsg_free(&op->base);
}

static bool
uses_socket(Op__OpCase k)
{
	switch (k) {
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

/* The kind of interface an op acts on, IFACE__KIND__NOT_SET: any. */
static Iface__KindCase
kind_used(Op__OpCase k)
{
	switch (k) {
	case OP__OP_VLAN_REPARENT:
		return (IFACE__KIND_VLAN);
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE:
	case OP__OP_LAGG_PROTO:
	case OP__OP_LAGG_OPTS:
		return (IFACE__KIND_LAGG);
	case OP__OP_NIC_TXEOF:
		return (IFACE__KIND_NIC);
	case OP__OP_MLX5_COMPLETE:
	case OP__OP_MLX5_WORKER:
		return (IFACE__KIND_MLX5);
	case OP__OP_CXGBE_ACK:
		return (IFACE__KIND_CXGBE);
	case OP__OP_EPAIR_DELIVER:
		return (IFACE__KIND_EPAIR);
	default:
		return (IFACE__KIND__NOT_SET);
	}
}

static bool
uses_iface(Op__OpCase k)
{
	switch (k) {
	case OP__OP_RECEIVE:
	case OP__OP_ROUTE_ADD:
	case OP__OP_ROUTE_CHANGE:
	case OP__OP_ROUTE_DELETE:
	case OP__OP_LINK:
	case OP__OP_DETACH:
	case OP__OP_IFCAP:
		return (true);
	default:
		return (kind_used(k) != IFACE__KIND__NOT_SET);
	}
}

static bool
open_before(const Scenario *sc, size_t idx)
{
	size_t i;

	for (i = 0; i < idx && i < sc->n_ops; i++)
		if (sc->ops[i]->op_case == OP__OP_OPEN)
			return (true);
	return (false);
}

/* Give ops[idx] what it refers to. */
static void
satisfy_op(Scenario *sc, size_t idx, struct hrng *r)
{
	Op *op = sc->ops[idx];
	Iface__KindCase kind;

	if (op->op_case == OP__OP_OPEN) {
		if (op->open->has_dst)
			make_routed(sc, op->open->af, &op->open->dst, r);
		return;
	}
	if (uses_socket(op->op_case) && !open_before(sc, idx)) {
		add_open(sc, idx, r);
		return;
	}
	if (!uses_iface(op->op_case))
		return;
	kind = kind_used(op->op_case);
	if (kind != IFACE__KIND__NOT_SET && !has_kind(sc->topology, kind))
		add_iface(sc, kind, r);
	else if (iface_total(sc->topology) == 0)
		add_iface(sc, IFACE__KIND_NIC, r);
	if (op->op_case == OP__OP_RECEIVE)
		make_routed(sc, op->receive->af, &op->receive->dst, r);
}

static void
scenario_inserted(ProtobufCMessage *root, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t idx, uint64_t rnd, void *arg)
{
	struct hrng r = { rnd };
	Scenario *sc;

	(void)arg;
	if (root->descriptor != &scenario__descriptor)
		return;
	sc = (Scenario *)root;
	if (m == root && strcmp(f->name, "ops") == 0 && idx < sc->n_ops)
		satisfy_op(sc, idx, &r);
}

/* ---- choice table --------------------------------------------------- */

/*
 * Which op a new or switched Op becomes, weighted by what the scenario
 * already holds, as syzkaller's choice table prefers calls that use the
 * program's resources: once a socket exists, the calls on sockets (and
 * sends above all, they are what moves tags); events of the drivers
 * that exist rather than of ones that would have to be added; an open
 * when there is none.  Weights are relative, per op kind.
 */
static int
op_weight(Op__OpCase k, bool sockets, const Topology *t)
{
	Iface__KindCase kind;

	if (k == OP__OP_OPEN)
		return (sockets ? 4 : 12);
	if (uses_socket(k))
		return (sockets ? (k == OP__OP_SEND ? 16 : 6) : 1);
	kind = kind_used(k);
	if (kind != IFACE__KIND__NOT_SET)
		return (has_kind(t, kind) ? 6 : 1);
	switch (k) {
	case OP__OP_RECEIVE:
	case OP__OP_ROUTE_ADD:
	case OP__OP_ROUTE_CHANGE:
	case OP__OP_ROUTE_DELETE:
	case OP__OP_LINK:
	case OP__OP_DETACH:
	case OP__OP_IFCAP:
		return (3);
	default:
		return (2);
	}
}

static int
scenario_choose(const ProtobufCMessage *root,
    const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    size_t n_members, uint64_t rnd, void *arg)
{
	int w[64], total = 0, i, n = 0;
	const Scenario *sc;
	struct hrng r = { rnd };
	bool sockets;
	unsigned k;
	uint32_t x;

	(void)arg;
	if (d != &op__descriptor || root == NULL ||
	    root->descriptor != &scenario__descriptor || n_members > 64)
		return (-1);
	sc = (const Scenario *)root;
	sockets = open_before(sc, sc->n_ops);
	for (k = 0; k < d->n_fields && n < (int)n_members; k++) {
		if (!pbmsg_same_oneof(&d->fields[k], f))
			continue;
		w[n] = op_weight((Op__OpCase)d->fields[k].id, sockets,
		    sc->topology);
		total += w[n++];
	}
	if (total == 0)
		return (-1);
	x = hbelow(&r, (uint32_t)total);
	for (i = 0; i < n; i++) {
		if (x < (uint32_t)w[i])
			return (i);
		x -= (uint32_t)w[i];
	}
	return (-1);
}

/* ---- generate ------------------------------------------------------- */

static const Iface__KindCase gen_kinds[] = {
	IFACE__KIND_NIC, IFACE__KIND_NIC, IFACE__KIND_LOOPBACK,
	IFACE__KIND_EPAIR, IFACE__KIND_VLAN, IFACE__KIND_LAGG,
	IFACE__KIND_CXGBE, IFACE__KIND_MLX5,
};

static void
scenario_generate(ProtobufCMessage *root, uint64_t rnd, void *arg)
{
	struct hrng r = { rnd };
	Scenario *sc;
	Topology *t;
	uint32_t i, n;

	(void)arg;
	if (root->descriptor != &scenario__descriptor)
		return;
	sc = (Scenario *)root;
	if ((t = topology_of(sc)) == NULL)
		return;
	n = 1 + hbelow(&r, 3);
	for (i = 0; i < n; i++)
		add_iface(sc, gen_kinds[hbelow(&r, sizeof(gen_kinds) /
		    sizeof(gen_kinds[0]))], &r);
	t->has_forwarding = 1;
	t->forwarding = hchance(&r, 1, 2);
	n = 2 + hbelow(&r, 11);
	for (i = 0; i < n; i++)
		pbmutate_insert_fresh(root, root,
		    field_of(&scenario__descriptor, "ops"), sc->n_ops,
		    hnext(&r), &scenario_mutator_hooks);
}

const struct pbmutate_hooks scenario_mutator_hooks = {
	.repair = scenario_repair,
	.arg = NULL,			/* interp_default_limits */
	.max_repeated = 256,		/* interp_default_limits.max_ops */
	.max_string = 0,
	.values = scenario_values,
	.inserted = scenario_inserted,
	.generate = scenario_generate,
	.choose = scenario_choose,
	.mutate_bytes = NULL,		/* the libFuzzer glue sets it */
	.program_type = &scenario__descriptor,
	.program = 2,			/* Scenario.ops */
};

/* ---- the threaded mode (fuzz_threads) ------------------------------- */

/*
 * fuzz_threads mutates a scenario and its schedule together.  What the
 * hooks add is the meaning of a Switch: it names an op the scenario has
 * (or an actor), a point early in it (most ops pass a few dozen points;
 * what matters is usually near the op's locks and references, which come
 * first) and a thread that exists; and ops spread over a few logical
 * threads, since one thread has nothing to interleave with.
 */
#define	THR_LOGICAL	3	/* threads new ops go to */
#define	THR_ACTORS	4	/* actor slots a fresh switch names */

static const uint64_t v_point[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 48, 64,
};
static const uint64_t v_to[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

static size_t
threads_values(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, uint64_t *vals, size_t nvals,
    void *arg)
{
	const uint64_t *t;
	size_t i, n;

	if (d != &switch__descriptor)
		return (scenario_values(d, f, vals, nvals, arg));
	if (strcmp(f->name, "point") == 0) {
		t = v_point;
		n = sizeof(v_point) / sizeof(v_point[0]);
	} else if (strcmp(f->name, "to") == 0) {
		t = v_to;
		n = sizeof(v_to) / sizeof(v_to[0]);
	} else
		return (0);	/* op: small indices, then repair */
	n = n < nvals ? n : nvals;
	for (i = 0; i < n; i++)
		vals[i] = t[i];
	return (n);
}

/* Logical threads the scenario's ops use (at least 1). */
static uint32_t
threads_used(const Scenario *sc)
{
	uint32_t n = 1;
	size_t i;

	for (i = 0; i < sc->n_ops; i++)
		if (sc->ops[i]->thread + 1 > n)
			n = sc->ops[i]->thread + 1;
	return (n);
}

/* A switch at a point of an op (or, one time in four, of an actor). */
static void
fill_switch(const Scenario *sc, Switch *sw, struct hrng *r)
{
	uint32_t nt = threads_used(sc);

	if (sc->n_ops == 0 || hchance(r, 1, 4))
		sw->op = (uint32_t)sc->n_ops + hbelow(r, THR_ACTORS);
	else
		sw->op = hbelow(r, (uint32_t)sc->n_ops);
	sw->has_point = 1;
	sw->point = (uint32_t)v_point[hbelow(r,
	    sizeof(v_point) / sizeof(v_point[0]))];
	sw->has_to = 1;
	/* Mostly another logical thread; else an actor, by ordinal. */
	if (hchance(r, 2, 3))
		sw->to = hbelow(r, nt < 2 ? 2 : nt);
	else
		sw->to = nt + hbelow(r, THR_ACTORS);
	sw->has_op = 1;
}

static void
threads_inserted(ProtobufCMessage *root, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *f, size_t idx, uint64_t rnd, void *arg)
{
	struct hrng r = { rnd ^ UINT64_C(0x7468726561647321) };
	Scenario *sc;

	scenario_inserted(root, m, f, idx, rnd, arg);
	if (root->descriptor != &scenario__descriptor || m != root)
		return;
	sc = (Scenario *)root;
	if (strcmp(f->name, "switches") == 0 && idx < sc->n_switches)
		fill_switch(sc, sc->switches[idx], &r);
	else if (strcmp(f->name, "ops") == 0 && idx < sc->n_ops &&
	    hchance(&r, 1, 2)) {
		sc->ops[idx]->has_thread = 1;
		sc->ops[idx]->thread = hbelow(&r, THR_LOGICAL);
	}
}

static void
threads_generate(ProtobufCMessage *root, uint64_t rnd, void *arg)
{
	const ProtobufCFieldDescriptor *swf;
	struct hrng r = { rnd ^ UINT64_C(0x7468726561647321) };
	Scenario *sc;
	uint32_t i, n, nt;

	scenario_generate(root, rnd, arg);
	if (root->descriptor != &scenario__descriptor)
		return;
	sc = (Scenario *)root;
	nt = 2 + hbelow(&r, THR_LOGICAL - 1);
	for (i = 0; i < sc->n_ops; i++) {
		sc->ops[i]->has_thread = 1;
		sc->ops[i]->thread = hbelow(&r, nt);
	}
	swf = field_of(&scenario__descriptor, "switches");
	n = 1 + hbelow(&r, 3);
	for (i = 0; i < n; i++)
		pbmutate_insert_fresh(root, root, swf, sc->n_switches,
		    hnext(&r), &threads_mutator_hooks);
}

const struct pbmutate_hooks threads_mutator_hooks = {
	.repair = clamp_repair,
	.arg = NULL,
	.max_repeated = 256,
	.max_string = 0,
	.values = threads_values,
	.inserted = threads_inserted,
	.generate = threads_generate,
	.choose = scenario_choose,
	.mutate_bytes = NULL,
};
