/*
 * sndtag-minimize, pass 3: the values.  Threads and references go to 0,
 * sizes and driver dimensions down and counts toward 1, by bisection.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "repro/minimize_int.h"

#include "dev/cxgbe/adapter.h"

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

/*
 * A field's default in scenario.proto (0 if it has none): what the field
 * means when it is left out, so a value equal to it need not be written.
 */
static uint32_t
schema_default(const ProtobufCMessage *m, const char *field)
{
	const ProtobufCFieldDescriptor *f;

	f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor,
	    field);
	return (f != NULL && f->default_value != NULL ?
	    *(const uint32_t *)f->default_value : 0);
}

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
	/* Field f of message msg, toward l. */
#define	FIELD(msg, f, l, h, nm, w)					\
	SLOT(&(msg)->f, &(msg)->has_##f, (l),				\
	    schema_default(&(msg)->base, #f), (h), (nm), (w))
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
			FIELD(op->send, size, 1, S_DOWN, "send size", i);
			break;
		case OP__OP_RECEIVE:
			FIELD(op->receive, size, 1, S_DOWN, "receive size", i);
			break;
		case OP__OP_EPAIR_DELIVER:
			FIELD(op->epair_deliver, count, 1, S_COUNT,
			    "epair_deliver count", i);
			break;
		case OP__OP_NIC_TXEOF:
			FIELD(op->nic_txeof, count, 1, S_COUNT,
			    "nic_txeof count", i);
			break;
		case OP__OP_MLX5_COMPLETE:
			FIELD(op->mlx5_complete, count, 1, S_COUNT,
			    "mlx5_complete count", i);
			break;
		case OP__OP_CXGBE_ACK:
			FIELD(op->cxgbe_ack, credits, 1, S_COUNT,
			    "cxgbe_ack credits", i);
			break;
		case OP__OP_TASKQUEUE:
			FIELD(op->taskqueue, rounds, 1, S_DOWN,
			    "taskqueue rounds", i);
			break;
		case OP__OP_FAIL_ALLOC:
			if (op->fail_alloc->nth != 0)
				FIELD(op->fail_alloc, nth, 1, S_DOWN,
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
			FIELD(d->nic, ring_size, 1, S_DOWN, "nic ring_size",
			    i);
			break;
		case IFACE__KIND_CXGBE:
			FIELD(d->cxgbe, n_etids, 1, S_DOWN, "cxgbe n_etids",
			    i);
			FIELD(d->cxgbe, n_classes, 1, S_DOWN,
			    "cxgbe n_classes", i);
			/* The interpreter raises less to its floor. */
			FIELD(d->cxgbe, tx_credits, CXGBE_CREDITS_MIN, S_DOWN,
			    "cxgbe tx_credits", i);
			FIELD(d->cxgbe, max_backlog, 1, S_DOWN,
			    "cxgbe max_backlog", i);
			break;
		case IFACE__KIND_MLX5:
			FIELD(d->mlx5, workers, 1, S_DOWN, "mlx5 workers", i);
			FIELD(d->mlx5, channels_per_worker, 1, S_DOWN,
			    "mlx5 channels_per_worker", i);
			FIELD(d->mlx5, tx_channels, 1, S_DOWN,
			    "mlx5 tx_channels", i);
			FIELD(d->mlx5, sq_size, 1, S_DOWN, "mlx5 sq_size", i);
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
#undef	FIELD
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

	copy = min_unpack_current();
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
	ok = min_try_view(copy, desc);
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
	while (good - bad > 1 && !min_state.out_of_tries) {
		mid = bad + (good - bad) / 2;
		if (try_slot(k, mid)) {
			good = mid;
			any = true;
		} else
			bad = mid;
	}
	return (any);
}

bool
min_pass_scalars(void)
{
	Scenario *copy, v;
	size_t k, n, i;
	bool any = false, threads = false;
	uint32_t val;

	/* All threads to 0 in one candidate first. */
	for (i = 0; i < min_state.sc->n_ops; i++)
		if (min_state.sc->ops[i]->thread != 0)
			threads = true;
	if (threads) {
		copy = min_unpack_current();
		for (i = 0; i < copy->n_ops; i++) {
			copy->ops[i]->thread = 0;
			copy->ops[i]->has_thread = 0;
		}
		v = *copy;
		if (min_try_view(&v, "every op on thread 0"))
			any = true;
		scenario__free_unpacked(copy, NULL);
	}
	min_progress("values");
	n = slots_of(min_state.sc, slots_buf);
	for (k = 0; k < n && !min_state.out_of_tries; k++) {
		if (slots_of(min_state.sc, slots_buf) <= k)
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
