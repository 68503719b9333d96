/*
 * Harness: interp_clamp(), the scenario's repair step (see interp.h), and
 * the default limits.  Kept apart from the interpreter so the AFL++
 * mutator library can use it without linking the core.
 */
#include "fuzz/interp.h"

#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/pbmsg.h"

#include "dev/cxgbe/adapter.h"
#include "net/if_lagg.h"

/*
 * Each limit bounds what one execution can cost; the reasons, from the
 * model's behaviour:
 */
const struct interp_limits interp_default_limits = {
	/* Ops that move no packet cost about a microsecond each. */
	.max_ops = 256,
	/* vlan over lagg over two ports, an epair, spares for reparenting. */
	.max_ifaces = 16,
	.max_sockets = 16,
	/*
	 * Packet units (one per received packet, 1 + KiB per send): 256
	 * fills the deepest ring or queue (64 slots) four times over.
	 * Cost follows packets, so this bounds an input's cost.
	 */
	.max_packets = 256,
	.max_send_size = INTERP_SEND_MAX,
	.max_quiesce_steps = 10000,
	/*
	 * M_NOWAIT bytes live at once: 16 interfaces with 64 full slots of
	 * ~2.3 KiB each is ~2.4 MiB; past that only a runaway allocates.
	 */
	.max_bytes = 8u << 20,
};

/* Kinds of interface, as the interpreter counts them. */
enum { CK_NIC, CK_LOOP, CK_EPAIR, CK_VLAN, CK_LAGG, CK_CXGBE, CK_MLX5, CK_N };

static uint32_t
clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return (v < lo ? lo : v > hi ? hi : v);
}

static uint32_t
iface_count_of(const Iface *ifc)
{
	return (ifc->kind_case == IFACE__KIND_EPAIR ? 2 : 1);
}

struct clampctx {
	int	changed;
};

static void
clampv(struct clampctx *k, uint32_t *v, uint32_t lo, uint32_t hi)
{
	uint32_t n = clamp_u32(*v, lo, hi);

	if (n != *v) {
		*v = n;
		k->changed++;
	}
}

/* References: canonical modulo n (0 when there is nothing to refer to). */
static void
clampref(struct clampctx *k, uint32_t *v, uint32_t n)
{
	uint32_t r = n == 0 ? 0 : *v % n;

	if (r != *v) {
		*v = r;
		k->changed++;
	}
}

static void
clampenum(struct clampctx *k, int *v, int n)
{
	int r = (*v < 0 || *v >= n) ? 0 : *v;

	if (r != *v) {
		*v = r;
		k->changed++;
	}
}

int
interp_clamp(Scenario *sc, const struct interp_limits *lim)
{
	struct clampctx k = { 0 };
	Topology *t = sc->topology;
	uint32_t n_if = 0, n_kind[CK_N], maxif, i, j, n_sock;
	size_t keep;

	if (lim == NULL)
		lim = &interp_default_limits;
	memset(n_kind, 0, sizeof(n_kind));
	maxif = MIN(lim->max_ifaces, INTERP_MAX_IFACES);
	n_sock = clamp_u32(lim->max_sockets, 1, INTERP_MAX_SOCKETS);
	if (t != NULL) {
		/* Interfaces past the limit go (an epair counts two). */
		for (keep = 0; keep < t->n_ifaces; keep++) {
			uint32_t c = iface_count_of(t->ifaces[keep]);

			if (n_if + c > maxif)
				break;
			n_if += c;
		}
		for (i = (uint32_t)keep; i < t->n_ifaces; i++)
			pbmsg_free(&t->ifaces[i]->base);
		if (keep != t->n_ifaces) {
			t->n_ifaces = keep;
			k.changed++;
		}
		n_if = 0;
		for (i = 0; i < t->n_ifaces; i++) {
			Iface *d = t->ifaces[i];

			switch (d->kind_case) {
			case IFACE__KIND_NIC:
				clampv(&k, &d->nic->mtu, INTERP_MTU_MIN,
				    INTERP_MTU_MAX);
				clampv(&k, &d->nic->ring_size, 1,
				    INTERP_NIC_RING_MAX);
				n_kind[CK_NIC]++;
				break;
			case IFACE__KIND_LOOPBACK:
				n_kind[CK_LOOP]++;
				break;
			case IFACE__KIND_EPAIR:
				n_kind[CK_EPAIR]++;
				break;
			case IFACE__KIND_VLAN:
				clampv(&k, &d->vlan->vid, 1, 4094);
				clampref(&k, &d->vlan->parent, n_if);
				n_kind[CK_VLAN]++;
				break;
			case IFACE__KIND_LAGG:
				clampenum(&k, (int *)&d->lagg->proto,
				    LAGG_PROTO_MAX);
				if (d->lagg->n_ports > LAGG_MAX_PORTS) {
					d->lagg->n_ports = LAGG_MAX_PORTS;
					k.changed++;
				}
				for (j = 0; j < d->lagg->n_ports; j++)
					clampref(&k, &d->lagg->ports[j], n_if);
				n_kind[CK_LAGG]++;
				break;
			case IFACE__KIND_CXGBE:
				clampv(&k, &d->cxgbe->n_etids, 1,
				    INTERP_CXGBE_ETIDS_MAX);
				clampv(&k, &d->cxgbe->n_classes, 1,
				    INTERP_CXGBE_CLASSES_MAX);
				clampv(&k, &d->cxgbe->tx_credits, CXGBE_CREDITS_MIN,
				    INTERP_CXGBE_CREDITS_MAX);
				clampv(&k, &d->cxgbe->max_backlog, 1,
				    INTERP_CXGBE_BACKLOG_MAX);
				n_kind[CK_CXGBE]++;
				break;
			case IFACE__KIND_MLX5:
				clampv(&k, &d->mlx5->workers, 1,
				    INTERP_MLX5_WORKERS_MAX);
				clampv(&k, &d->mlx5->channels_per_worker, 1,
				    INTERP_MLX5_RL_PER_WORKER_MAX);
				clampv(&k, &d->mlx5->tx_channels, 1,
				    INTERP_MLX5_CHANNELS_MAX);
				clampv(&k, &d->mlx5->sq_size, 1,
				    INTERP_MLX5_SQ_MAX);
				n_kind[CK_MLX5]++;
				break;
			default:
				n_kind[CK_NIC]++;
				break;
			}
			n_if += iface_count_of(d);
		}
		/* Routes and addresses past the limit go. */
		if (t->n_addrs > INTERP_MAX_ROUTES) {
			for (i = INTERP_MAX_ROUTES; i < t->n_addrs; i++)
				pbmsg_free(&t->addrs[i]->base);
			t->n_addrs = INTERP_MAX_ROUTES;
			k.changed++;
		}
		if (t->n_routes + t->n_addrs > INTERP_MAX_ROUTES) {
			keep = INTERP_MAX_ROUTES - t->n_addrs;
			for (i = (uint32_t)keep; i < t->n_routes; i++)
				pbmsg_free(&t->routes[i]->base);
			t->n_routes = keep;
			k.changed++;
		}
		for (i = 0; i < t->n_addrs; i++) {
			clampenum(&k, (int *)&t->addrs[i]->af, 2);
			clampref(&k, &t->addrs[i]->dst, INTERP_NDST);
			clampref(&k, &t->addrs[i]->iface, n_if);
		}
		for (i = 0; i < t->n_routes; i++) {
			clampenum(&k, (int *)&t->routes[i]->af, 2);
			clampenum(&k, (int *)&t->routes[i]->prefix, 3);
			clampref(&k, &t->routes[i]->dst, INTERP_NDST);
			clampref(&k, &t->routes[i]->iface, n_if);
		}
	}
	if (sc->n_ops > lim->max_ops) {
		for (i = lim->max_ops; i < sc->n_ops; i++)
			pbmsg_free(&sc->ops[i]->base);
		sc->n_ops = lim->max_ops;
		k.changed++;
	}
	for (i = 0; i < sc->n_ops; i++) {
		Op *op = sc->ops[i];

		clampref(&k, &op->thread, INTERP_MAX_THREADS);
		switch (op->op_case) {
		case OP__OP_OPEN:
			clampenum(&k, (int *)&op->open->af, 2);
			clampenum(&k, (int *)&op->open->proto, 2);
			clampref(&k, &op->open->dst, INTERP_NDST);
			break;
		case OP__OP_CONNECT:
			clampref(&k, &op->connect->sock, n_sock);
			clampref(&k, &op->connect->dst, INTERP_NDST);
			break;
		case OP__OP_SET_RATE:
			clampref(&k, &op->set_rate->sock, n_sock);
			break;
		case OP__OP_FLOWTYPE_NONE:
			clampref(&k, &op->flowtype_none->sock, n_sock);
			break;
		case OP__OP_SEND:
			clampref(&k, &op->send->sock, n_sock);
			clampv(&k, &op->send->size, 0, lim->max_send_size);
			break;
		case OP__OP_CLOSE:
			clampref(&k, &op->close->sock, n_sock);
			break;
		case OP__OP_TCPDROP:
			clampref(&k, &op->tcpdrop->sock, n_sock);
			break;
		case OP__OP_RECEIVE:
			clampref(&k, &op->receive->iface, n_if);
			clampenum(&k, (int *)&op->receive->af, 2);
			clampenum(&k, (int *)&op->receive->proto, 2);
			clampref(&k, &op->receive->dst, INTERP_NDST);
			clampv(&k, &op->receive->size, 0,
			    MIN(lim->max_send_size, 65535 - 20));
			break;
		case OP__OP_ROUTE_ADD:
		case OP__OP_ROUTE_CHANGE:
		case OP__OP_ROUTE_DELETE: {
			Route *r = op->op_case == OP__OP_ROUTE_ADD ?
			    op->route_add : op->op_case ==
			    OP__OP_ROUTE_CHANGE ? op->route_change :
			    op->route_delete;

			clampenum(&k, (int *)&r->af, 2);
			clampenum(&k, (int *)&r->prefix, 3);
			clampref(&k, &r->dst, INTERP_NDST);
			clampref(&k, &r->iface, n_if);
			break;
		}
		case OP__OP_VLAN_REPARENT:
			clampref(&k, &op->vlan_reparent->vlan,
			    n_kind[CK_VLAN]);
			clampref(&k, &op->vlan_reparent->parent, n_if);
			break;
		case OP__OP_LAGG_PORT_ADD:
			clampref(&k, &op->lagg_port_add->lagg, n_kind[CK_LAGG]);
			clampref(&k, &op->lagg_port_add->port, n_if);
			break;
		case OP__OP_LAGG_PORT_REMOVE:
			clampref(&k, &op->lagg_port_remove->lagg,
			    n_kind[CK_LAGG]);
			clampref(&k, &op->lagg_port_remove->port, n_if);
			break;
		case OP__OP_LINK:
			clampref(&k, &op->link->iface, n_if);
			break;
		case OP__OP_LAGG_PROTO:
			clampref(&k, &op->lagg_proto->lagg, n_kind[CK_LAGG]);
			clampenum(&k, (int *)&op->lagg_proto->proto,
			    LAGG_PROTO_MAX);
			break;
		case OP__OP_LAGG_OPTS:
			clampref(&k, &op->lagg_opts->lagg, n_kind[CK_LAGG]);
			break;
		case OP__OP_DETACH:
			clampref(&k, &op->detach->iface, n_if);
			break;
		case OP__OP_IFCAP:
			clampref(&k, &op->ifcap->iface, n_if);
			break;
		case OP__OP_NIC_TXEOF:
			clampref(&k, &op->nic_txeof->nic, n_kind[CK_NIC]);
			break;
		case OP__OP_MLX5_COMPLETE:
			clampref(&k, &op->mlx5_complete->mlx5,
			    n_kind[CK_MLX5]);
			break;
		case OP__OP_CXGBE_ACK:
			clampref(&k, &op->cxgbe_ack->cxgbe, n_kind[CK_CXGBE]);
			clampv(&k, &op->cxgbe_ack->flow, 0,
			    INTERP_CXGBE_ETIDS_MAX - 1);
			break;
		case OP__OP_MLX5_WORKER:
			clampref(&k, &op->mlx5_worker->mlx5, n_kind[CK_MLX5]);
			clampv(&k, &op->mlx5_worker->worker, 0,
			    INTERP_MLX5_WORKERS_MAX - 1);
			break;
		case OP__OP_TASKQUEUE:
			clampv(&k, &op->taskqueue->rounds, 1,
			    INTERP_TASKQUEUE_ROUNDS_MAX);
			break;
		case OP__OP_TAG_MODIFY:
			clampref(&k, &op->tag_modify->sock, n_sock);
			break;
		case OP__OP_TAG_QUERY:
			clampref(&k, &op->tag_query->sock, n_sock);
			break;
		case OP__OP_TLS_ENABLE:
			clampref(&k, &op->tls_enable->sock, n_sock);
			clampenum(&k, (int *)&op->tls_enable->version,
			    TLS_VERSION__TLS11 + 1);
			break;
		case OP__OP_TLS_SEND:
			clampref(&k, &op->tls_send->sock, n_sock);
			clampv(&k, &op->tls_send->records, 1, 4);
			clampv(&k, &op->tls_send->size, 1, 1024);
			break;
		case OP__OP_PACING:
			clampref(&k, &op->pacing->sock, n_sock);
			clampenum(&k, (int *)&op->pacing->action,
			    PACING_ACTION__PACE_RELEASE + 1);
			break;
		case OP__OP_FAIL_ALLOC:
			clampenum(&k, (int *)&op->fail_alloc->type,
			    MALLOC_KIND__MT_EPAIR + 1);
			break;
		default:
			break;
		}
	}
	/* Threaded mode: ops, then one slot per actor the run may have. */
	if (sc->n_switches > INTERP_MAX_SWITCHES) {
		for (i = INTERP_MAX_SWITCHES; i < sc->n_switches; i++)
			pbmsg_free(&sc->switches[i]->base);
		sc->n_switches = INTERP_MAX_SWITCHES;
		k.changed++;
	}
	for (i = 0; i < sc->n_switches; i++) {
		Switch *sw = sc->switches[i];

		clampref(&k, &sw->op, (uint32_t)sc->n_ops +
		    INTERP_MAX_SCHED_THREADS - INTERP_MAX_THREADS);
		clampv(&k, &sw->point, 0, INTERP_MAX_SWITCH_POINT);
		clampref(&k, &sw->to, INTERP_MAX_SCHED_THREADS);
	}
	return (k.changed);
}
