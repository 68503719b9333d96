/*
 * sndtag-minimize, pass 2: the topology.  Each interface goes with every
 * reference to a later one renumbered to keep naming the same object,
 * then each address and route, forwarding, and the empty topology.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "repro/minimize_int.h"

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

	copy = min_unpack_current();
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
	ok = (what > 2 || arr != NULL) && min_try_view(&v, desc);
	free(arr);
	scenario__free_unpacked(copy, NULL);
	return (ok);
}

bool
min_pass_topology(void)
{
	const Topology *t;
	bool any = false;
	size_t i;

	if (min_state.sc->has_schedule) {
		Scenario v = *min_state.sc;

		/* Only the threaded mode reads it. */
		v.has_schedule = 0;
		v.schedule.len = 0;
		v.schedule.data = NULL;
		if (min_try_view(&v, "removed the schedule bytes"))
			any = true;
	}
	if (min_state.sc->topology == NULL)
		return (any);
	min_progress("topology: %u interfaces, %zu addresses, %zu routes",
	    min_n_ifaces_of(min_state.sc), min_state.sc->topology->n_addrs,
	    min_state.sc->topology->n_routes);
	for (i = min_state.sc->topology->n_ifaces; i-- > 0 &&
	    !min_state.out_of_tries;)
		if (i < min_state.sc->topology->n_ifaces &&
		    try_topology_edit(0, i))
			any = true;
	for (i = min_state.sc->topology->n_addrs; i-- > 0 &&
	    !min_state.out_of_tries;)
		if (i < min_state.sc->topology->n_addrs &&
		    try_topology_edit(1, i))
			any = true;
	for (i = min_state.sc->topology->n_routes; i-- > 0 &&
	    !min_state.out_of_tries;)
		if (i < min_state.sc->topology->n_routes &&
		    try_topology_edit(2, i))
			any = true;
	if (min_state.sc->topology->forwarding && try_topology_edit(3, 0))
		any = true;
	t = min_state.sc->topology;
	if (t->n_ifaces == 0 && t->n_addrs == 0 && t->n_routes == 0 &&
	    !t->forwarding && try_topology_edit(4, 0))
		any = true;
	return (any);
}
