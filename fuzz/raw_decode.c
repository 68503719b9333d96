/*
 * Harness: raw bytes -> Scenario (see raw_decode.h).  Everything lives in
 * one static arena, so decoding never fails and never allocates.
 */
#include "fuzz/raw_decode.h"

#include <stdbool.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"

#define	RAW_MAX_IFACES	8
#define	RAW_MAX_ROUTES	16
#define	RAW_MAX_PORTS	4

union raw_opmsg {
	SockOpen	open;
	SockConnect	connect;
	SetRate		set_rate;
	FlowtypeNone	flowtype_none;
	Send		send;
	Close		close;
	TcpDrop		tcpdrop;
	Receive		receive;
	EpairDeliver	epair_deliver;
	Route		route;
	VlanReparent	vlan_reparent;
	LaggPort	lagg_port;
	LinkState	link;
	LaggSetProto	lagg_proto;
	LaggSetOpts	lagg_opts;
	Detach		detach;
	NicTxeof	nic_txeof;
	Mlx5Complete	mlx5_complete;
	CxgbeAck	cxgbe_ack;
	Mlx5Worker	mlx5_worker;
	TaskqueueRun	taskqueue;
	EpochRun	epoch;
	DeliverAll	deliver_all;
	TagModify	tag_modify;
	TagQuery	tag_query;
	FailAlloc	fail_alloc;
	TlsEnable	tls_enable;
	TlsSend		tls_send;
	Pacing		pacing;
	IfCap		ifcap;
};

union raw_ifmsg {
	Nic		nic;
	Loopback	loopback;
	Epair		epair;
	Vlan		vlan;
	Lagg		lagg;
	Cxgbe		cxgbe;
	Mlx5		mlx5;
};

static struct raw_arena {
	Scenario	sc;
	Topology	topo;
	Iface		ifaces[RAW_MAX_IFACES];
	Iface		*ifacep[RAW_MAX_IFACES];
	union raw_ifmsg	 ifmsg[RAW_MAX_IFACES];
	uint32_t	 ports[RAW_MAX_IFACES][RAW_MAX_PORTS];
	Route		routes[RAW_MAX_ROUTES];
	Route		*routep[RAW_MAX_ROUTES];
	Op		ops[RAW_MAX_OPS];
	Op		*opp[RAW_MAX_OPS];
	union raw_opmsg	 opmsg[RAW_MAX_OPS];
} A;

/* ---- fixed topologies ---------------------------------------------- */

static Iface *
add_iface(void)
{
	Iface *ifc = &A.ifaces[A.topo.n_ifaces];

	iface__init(ifc);
	A.ifacep[A.topo.n_ifaces] = ifc;
	A.topo.n_ifaces++;
	return (ifc);
}

static union raw_ifmsg *
ifmsg(void)
{
	return (&A.ifmsg[A.topo.n_ifaces - 1]);
}

static void
add_nic(bool txrtlmt, bool tso, uint32_t mtu)
{
	Iface *ifc = add_iface();
	Nic *n = &ifmsg()->nic;

	nic__init(n);
	n->has_txrtlmt = n->txrtlmt = txrtlmt;
	n->has_tso = n->tso = tso;
	n->has_mtu = 1;
	n->mtu = mtu;
	ifc->kind_case = IFACE__KIND_NIC;
	ifc->nic = n;
}

static void
add_loop(void)
{
	Iface *ifc = add_iface();

	loopback__init(&ifmsg()->loopback);
	ifc->kind_case = IFACE__KIND_LOOPBACK;
	ifc->loopback = &ifmsg()->loopback;
}

static void
add_epair(void)
{
	Iface *ifc = add_iface();

	epair__init(&ifmsg()->epair);
	ifc->kind_case = IFACE__KIND_EPAIR;
	ifc->epair = &ifmsg()->epair;
}

static void
add_vlan(uint32_t vid, uint32_t parent)
{
	Iface *ifc = add_iface();
	Vlan *v = &ifmsg()->vlan;

	vlan__init(v);
	v->has_vid = 1;
	v->vid = vid;
	v->has_parent = 1;
	v->parent = parent;
	ifc->kind_case = IFACE__KIND_VLAN;
	ifc->vlan = v;
}

static void
add_lagg(LaggProto proto, bool use_flowid, uint32_t p0, uint32_t p1)
{
	size_t k = A.topo.n_ifaces;
	Iface *ifc = add_iface();
	Lagg *l = &ifmsg()->lagg;

	lagg__init(l);
	l->has_proto = 1;
	l->proto = proto;
	l->has_use_flowid = l->use_flowid = use_flowid;
	A.ports[k][0] = p0;
	A.ports[k][1] = p1;
	l->n_ports = 2;
	l->ports = A.ports[k];
	ifc->kind_case = IFACE__KIND_LAGG;
	ifc->lagg = l;
}

static void
add_cxgbe(void)
{
	Iface *ifc = add_iface();

	cxgbe__init(&ifmsg()->cxgbe);
	ifc->kind_case = IFACE__KIND_CXGBE;
	ifc->cxgbe = &ifmsg()->cxgbe;
}

static void
add_mlx5(void)
{
	Iface *ifc = add_iface();

	mlx5__init(&ifmsg()->mlx5);
	ifc->kind_case = IFACE__KIND_MLX5;
	ifc->mlx5 = &ifmsg()->mlx5;
}

/* Routes: destination d (v4 and v6 /net) through interface i. */
static void
add_route(uint32_t d, uint32_t i)
{
	int af;

	for (af = 0; af < 2 && A.topo.n_routes < RAW_MAX_ROUTES; af++) {
		Route *r = &A.routes[A.topo.n_routes];

		route__init(r);
		r->has_af = 1;
		r->af = af ? AF__V6 : AF__V4;
		r->has_dst = 1;
		r->dst = d;
		r->has_iface = 1;
		r->iface = i;
		A.routep[A.topo.n_routes++] = r;
	}
}

/*
 * Interfaces are numbered in creation order (an epair is two); each
 * topology routes destinations 0.. to its interesting interfaces.
 */
static void
build_topology(uint8_t which)
{
	switch (which % RAW_NTOPOLOGIES) {
	case 0:		/* rate-limit nic + plain nic */
		add_nic(true, true, 1500);
		add_nic(false, false, 1500);
		add_route(0, 0);
		add_route(1, 1);
		break;
	case 1:		/* vlan over a rate-limit nic */
		add_nic(true, false, 1500);
		add_nic(false, false, 1500);
		add_vlan(10, 0);
		add_route(0, 2);
		add_route(1, 1);
		add_route(2, 0);
		break;
	case 2:		/* failover lagg over two rate-limit nics */
		add_nic(true, false, 1500);
		add_nic(true, true, 9000);
		add_lagg(LAGG_PROTO__FAILOVER, true, 0, 1);
		add_route(0, 2);
		add_route(1, 0);
		break;
	case 3:		/* cxgbe + plain nic */
		add_cxgbe();
		add_nic(false, false, 1500);
		add_route(0, 0);
		add_route(1, 1);
		break;
	case 4:		/* mlx5 + loopback */
		add_mlx5();
		add_loop();
		add_route(0, 0);
		add_route(1, 1);
		break;
	case 5:		/* epair + rate-limit nic */
		add_epair();
		add_nic(true, false, 1500);
		add_route(0, 0);
		add_route(1, 2);
		add_route(2, 1);
		break;
	case 6:		/* vlan over a loadbalance lagg of cxgbe and mlx5 */
		add_cxgbe();
		add_mlx5();
		add_lagg(LAGG_PROTO__LOADBALANCE, true, 0, 1);
		add_vlan(20, 2);
		add_route(0, 3);
		add_route(1, 2);
		add_route(2, 0);
		break;
	default:	/* one of everything */
		add_nic(true, true, 1500);
		add_nic(false, false, 1280);
		add_cxgbe();
		add_mlx5();
		add_lagg(LAGG_PROTO__FAILOVER, true, 2, 3);
		add_vlan(30, 0);
		add_epair();
		add_route(0, 0);
		add_route(1, 1);
		add_route(2, 4);
		add_route(3, 5);
		add_route(4, 6);
		break;
	}
}

/* ---- operations ---------------------------------------------------- */

static const uint32_t raw_rates[8] = {
	0, 0xffffffffu, 125000, 1250000, 12500000, 1000, 100000000, 1
};

/* Argument bytes of each opcode, in the order of the switch below. */
static const uint8_t raw_nargs[] = {
	1,	/* open */
	2,	/* connect */
	2,	/* set_rate */
	1,	/* flowtype_none */
	3,	/* send */
	1,	/* close */
	1,	/* tcpdrop */
	3,	/* receive */
	1,	/* epair_deliver */
	2,	/* route_add */
	2,	/* route_change */
	1,	/* route_delete */
	2,	/* vlan_reparent */
	2,	/* lagg_port_add */
	2,	/* lagg_port_remove */
	2,	/* link */
	2,	/* lagg_proto */
	2,	/* lagg_opts */
	1,	/* detach */
	2,	/* nic_txeof */
	2,	/* mlx5_complete */
	3,	/* cxgbe_ack */
	2,	/* mlx5_worker */
	1,	/* taskqueue */
	1,	/* epoch */
	1,	/* deliver_all */
	2,	/* tag_modify */
	1,	/* tag_query */
	2,	/* fail_alloc */
	2,	/* tls_enable */
	3,	/* tls_send */
	3,	/* pacing */
	2,	/* ifcap (0x80) */
};
#define	RAW_NOPS	(sizeof(raw_nargs) / sizeof(raw_nargs[0]))

/*
 * The op of an opcode byte: the low 5 bits, and bit 7 for the ops past
 * the first 32 (bits 5-6 are the thread).
 */
static unsigned int
raw_opcode(uint8_t code)
{
	return ((((code & 0x80) >> 2) | (code & 0x1f)) % RAW_NOPS);
}

static void
route_args(Route *r, uint8_t a, uint8_t b)
{
	route__init(r);
	r->has_af = 1;
	r->af = (a & 1) ? AF__V6 : AF__V4;
	r->has_prefix = 1;
	r->prefix = (PrefixKind)((a >> 1) % 3);
	r->has_dst = 1;
	r->dst = a >> 3;
	r->has_iface = 1;
	r->iface = b;
}

static void
decode_op(Op *op, union raw_opmsg *u, uint8_t code, const uint8_t *arg)
{
	uint8_t a = arg[0], b = arg[1], c = arg[2];

	op__init(op);
	op->has_thread = 1;
	op->thread = (code >> 5) & 3;
	switch (raw_opcode(code)) {
	case 0:
		sock_open__init(&u->open);
		u->open.has_af = 1;
		u->open.af = (a & 1) ? AF__V6 : AF__V4;
		u->open.has_proto = 1;
		u->open.proto = (a & 2) ? L4__UDP : L4__TCP;
		if (a & 4) {
			u->open.has_dst = 1;
			u->open.dst = a >> 3;
		}
		op->op_case = OP__OP_OPEN;
		op->open = &u->open;
		break;
	case 1:
		sock_connect__init(&u->connect);
		u->connect.has_sock = u->connect.has_dst = 1;
		u->connect.sock = a;
		u->connect.dst = b;
		op->op_case = OP__OP_CONNECT;
		op->connect = &u->connect;
		break;
	case 2:
		set_rate__init(&u->set_rate);
		u->set_rate.has_sock = u->set_rate.has_rate = 1;
		u->set_rate.sock = a;
		u->set_rate.rate = raw_rates[b % 8];
		op->op_case = OP__OP_SET_RATE;
		op->set_rate = &u->set_rate;
		break;
	case 3:
		flowtype_none__init(&u->flowtype_none);
		u->flowtype_none.has_sock = 1;
		u->flowtype_none.sock = a;
		op->op_case = OP__OP_FLOWTYPE_NONE;
		op->flowtype_none = &u->flowtype_none;
		break;
	case 4:
		send__init(&u->send);
		u->send.has_sock = u->send.has_size = 1;
		u->send.sock = a;
		/*
		 * Spread over the interpreter's range: clamping would turn
		 * most values into the largest, dearest send.
		 */
		u->send.size = (((uint32_t)b << 8) | c) %
		    (INTERP_SEND_MAX + 1);
		op->op_case = OP__OP_SEND;
		op->send = &u->send;
		break;
	case 5:
		close__init(&u->close);
		u->close.has_sock = 1;
		u->close.sock = a;
		op->op_case = OP__OP_CLOSE;
		op->close = &u->close;
		break;
	case 6:
		tcp_drop__init(&u->tcpdrop);
		u->tcpdrop.has_sock = 1;
		u->tcpdrop.sock = a;
		op->op_case = OP__OP_TCPDROP;
		op->tcpdrop = &u->tcpdrop;
		break;
	case 7:
		receive__init(&u->receive);
		u->receive.has_iface = u->receive.has_af = 1;
		u->receive.has_dst = u->receive.has_size = 1;
		u->receive.has_proto = 1;
		u->receive.iface = a;
		u->receive.af = (b & 1) ? AF__V6 : AF__V4;
		u->receive.proto = (b & 2) ? L4__TCP : L4__UDP;
		u->receive.dst = b >> 2;
		u->receive.size = (uint32_t)c * 16;
		op->op_case = OP__OP_RECEIVE;
		op->receive = &u->receive;
		break;
	case 8:
		epair_deliver__init(&u->epair_deliver);
		u->epair_deliver.has_count = 1;
		u->epair_deliver.count = a;
		op->op_case = OP__OP_EPAIR_DELIVER;
		op->epair_deliver = &u->epair_deliver;
		break;
	case 9:
		route_args(&u->route, a, b);
		op->op_case = OP__OP_ROUTE_ADD;
		op->route_add = &u->route;
		break;
	case 10:
		route_args(&u->route, a, b);
		op->op_case = OP__OP_ROUTE_CHANGE;
		op->route_change = &u->route;
		break;
	case 11:
		route_args(&u->route, a, 0);
		u->route.has_iface = 0;
		op->op_case = OP__OP_ROUTE_DELETE;
		op->route_delete = &u->route;
		break;
	case 12:
		vlan_reparent__init(&u->vlan_reparent);
		u->vlan_reparent.has_vlan = 1;
		u->vlan_reparent.vlan = a;
		if (b != 0xff) {
			u->vlan_reparent.has_parent = 1;
			u->vlan_reparent.parent = b;
		}
		op->op_case = OP__OP_VLAN_REPARENT;
		op->vlan_reparent = &u->vlan_reparent;
		break;
	case 13:
	case 14:
		lagg_port__init(&u->lagg_port);
		u->lagg_port.has_lagg = u->lagg_port.has_port = 1;
		u->lagg_port.lagg = a;
		u->lagg_port.port = b;
		if (raw_opcode(code) == 13) {
			op->op_case = OP__OP_LAGG_PORT_ADD;
			op->lagg_port_add = &u->lagg_port;
		} else {
			op->op_case = OP__OP_LAGG_PORT_REMOVE;
			op->lagg_port_remove = &u->lagg_port;
		}
		break;
	case 15:
		link_state__init(&u->link);
		u->link.has_iface = u->link.has_up = 1;
		u->link.iface = a;
		u->link.up = b & 1;
		op->op_case = OP__OP_LINK;
		op->link = &u->link;
		break;
	case 16:
		lagg_set_proto__init(&u->lagg_proto);
		u->lagg_proto.has_lagg = u->lagg_proto.has_proto = 1;
		u->lagg_proto.lagg = a;
		u->lagg_proto.proto = (LaggProto)(b % 6);
		op->op_case = OP__OP_LAGG_PROTO;
		op->lagg_proto = &u->lagg_proto;
		break;
	case 17:
		lagg_set_opts__init(&u->lagg_opts);
		u->lagg_opts.has_lagg = u->lagg_opts.has_use_flowid = 1;
		u->lagg_opts.lagg = a;
		u->lagg_opts.use_flowid = b & 1;
		op->op_case = OP__OP_LAGG_OPTS;
		op->lagg_opts = &u->lagg_opts;
		break;
	case 18:
		detach__init(&u->detach);
		u->detach.has_iface = 1;
		u->detach.iface = a;
		op->op_case = OP__OP_DETACH;
		op->detach = &u->detach;
		break;
	case 19:
		nic_txeof__init(&u->nic_txeof);
		u->nic_txeof.has_nic = u->nic_txeof.has_count = 1;
		u->nic_txeof.nic = a;
		u->nic_txeof.count = b;
		op->op_case = OP__OP_NIC_TXEOF;
		op->nic_txeof = &u->nic_txeof;
		break;
	case 20:
		mlx5_complete__init(&u->mlx5_complete);
		u->mlx5_complete.has_mlx5 = u->mlx5_complete.has_count = 1;
		u->mlx5_complete.mlx5 = a;
		u->mlx5_complete.count = b;
		op->op_case = OP__OP_MLX5_COMPLETE;
		op->mlx5_complete = &u->mlx5_complete;
		break;
	case 21:
		cxgbe_ack__init(&u->cxgbe_ack);
		u->cxgbe_ack.has_cxgbe = u->cxgbe_ack.has_flow = 1;
		u->cxgbe_ack.has_credits = 1;
		u->cxgbe_ack.cxgbe = a;
		u->cxgbe_ack.flow = b;
		u->cxgbe_ack.credits = (uint32_t)c * 8;
		op->op_case = OP__OP_CXGBE_ACK;
		op->cxgbe_ack = &u->cxgbe_ack;
		break;
	case 22:
		mlx5_worker__init(&u->mlx5_worker);
		u->mlx5_worker.has_mlx5 = u->mlx5_worker.has_worker = 1;
		u->mlx5_worker.mlx5 = a;
		u->mlx5_worker.worker = b;
		op->op_case = OP__OP_MLX5_WORKER;
		op->mlx5_worker = &u->mlx5_worker;
		break;
	case 23:
		taskqueue_run__init(&u->taskqueue);
		u->taskqueue.has_rounds = 1;
		u->taskqueue.rounds = (a & 3) + 1;
		op->op_case = OP__OP_TASKQUEUE;
		op->taskqueue = &u->taskqueue;
		break;
	case 24:
		epoch_run__init(&u->epoch);
		op->op_case = OP__OP_EPOCH;
		op->epoch = &u->epoch;
		break;
	case 25:
		deliver_all__init(&u->deliver_all);
		op->op_case = OP__OP_DELIVER_ALL;
		op->deliver_all = &u->deliver_all;
		break;
	case 26:
		tag_modify__init(&u->tag_modify);
		u->tag_modify.has_sock = u->tag_modify.has_rate = 1;
		u->tag_modify.sock = a;
		u->tag_modify.rate = raw_rates[b % 8];
		op->op_case = OP__OP_TAG_MODIFY;
		op->tag_modify = &u->tag_modify;
		break;
	case 27:
		tag_query__init(&u->tag_query);
		u->tag_query.has_sock = 1;
		u->tag_query.sock = a;
		op->op_case = OP__OP_TAG_QUERY;
		op->tag_query = &u->tag_query;
		break;
	case 29:
		tls_enable__init(&u->tls_enable);
		u->tls_enable.has_sock = u->tls_enable.has_version = 1;
		u->tls_enable.sock = a;
		u->tls_enable.version = (TlsVersion)(b % 3);
		op->op_case = OP__OP_TLS_ENABLE;
		op->tls_enable = &u->tls_enable;
		break;
	case 30:
		tls_send__init(&u->tls_send);
		u->tls_send.has_sock = u->tls_send.has_records = 1;
		u->tls_send.has_size = 1;
		u->tls_send.sock = a;
		u->tls_send.records = 1 + b % 4;
		u->tls_send.size = 1 + (uint32_t)c * 4;
		op->op_case = OP__OP_TLS_SEND;
		op->tls_send = &u->tls_send;
		break;
	case 31:
		pacing__init(&u->pacing);
		u->pacing.has_sock = u->pacing.has_action = 1;
		u->pacing.has_rate = 1;
		u->pacing.sock = a;
		u->pacing.action = (PacingAction)(b % 4);
		u->pacing.rate = raw_rates[c % 8];
		op->op_case = OP__OP_PACING;
		op->pacing = &u->pacing;
		break;
	case 32:
		if_cap__init(&u->ifcap);
		u->ifcap.has_iface = u->ifcap.has_txrtlmt = 1;
		u->ifcap.iface = a;
		u->ifcap.txrtlmt = b & 1;
		op->op_case = OP__OP_IFCAP;
		op->ifcap = &u->ifcap;
		break;
	default:
		fail_alloc__init(&u->fail_alloc);
		u->fail_alloc.has_nth = u->fail_alloc.has_type = 1;
		u->fail_alloc.nth = a;
		u->fail_alloc.type = (MallocKind)(b % 15);
		op->op_case = OP__OP_FAIL_ALLOC;
		op->fail_alloc = &u->fail_alloc;
		break;
	}
}

const Scenario *
raw_decode(const uint8_t *data, size_t size)
{
	uint8_t arg[3];
	size_t pos, n;
	uint8_t code;

	memset(&A, 0, sizeof(A));
	scenario__init(&A.sc);
	topology__init(&A.topo);
	A.topo.ifaces = A.ifacep;
	A.topo.routes = A.routep;
	A.topo.has_forwarding = 1;
	A.topo.forwarding = 1;
	A.sc.topology = &A.topo;
	A.sc.ops = A.opp;
	build_topology(size > 0 ? data[0] : 0);
	pos = 1;
	while (pos < size && A.sc.n_ops < RAW_MAX_OPS) {
		code = data[pos];
		n = raw_nargs[raw_opcode(code)];
		if (pos + 1 + n > size)
			break;
		memset(arg, 0, sizeof(arg));
		memcpy(arg, data + pos + 1, n);
		decode_op(&A.ops[A.sc.n_ops], &A.opmsg[A.sc.n_ops], code, arg);
		A.opp[A.sc.n_ops] = &A.ops[A.sc.n_ops];
		A.sc.n_ops++;
		pos += 1 + n;
	}
	return (&A.sc);
}
