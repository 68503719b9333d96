/*
 * Harness: the interpreter's operations (see interp.h): one function per
 * kind of op, each resolving its references in the tables interp.c keeps
 * and tracing what it did.
 */
#include "fuzz/interp_int.h"
#include "fuzz/interp_ktls.h"

#include "harness/packet.h"
#include "harness/world.h"
#include "net/if_epair.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"
#include "shim/malloc.h"
#include "shim/taskqueue.h"
#include "sys/socketvar.h"
#include "dev/cxgbe/adapter.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/nic/if_nic.h"

/*
 * Malloc types defined in model files, not declared in a shared header.
 * Weak, so a build without one still links; FailAlloc on a missing type
 * is a traced skip.
 */
extern struct malloc_type M_VLAN[1] __attribute__((weak));
extern struct malloc_type M_LAGG[1] __attribute__((weak));
extern struct malloc_type M_NIC[1] __attribute__((weak));
extern struct malloc_type M_CXGBE[1] __attribute__((weak));
extern struct malloc_type M_MLX5EN[1] __attribute__((weak));
extern struct malloc_type M_RTABLE[1] __attribute__((weak));
extern struct malloc_type M_EPAIR[1] __attribute__((weak));

/* NULL with *ok false: the type is not in this build. */
static struct malloc_type *
malloc_kind_type(int k, bool *ok)
{
	struct malloc_type *t = NULL;

	*ok = true;
	switch (k) {
	case MALLOC_KIND__MT_MBUF:
		t = M_MBUF;
		break;
	case MALLOC_KIND__MT_CLUSTER:
		t = M_MBUF_CLUSTER;
		break;
	case MALLOC_KIND__MT_SOCKET:
		t = M_SOCKET;
		break;
	case MALLOC_KIND__MT_PCB:
		t = M_PCB;
		break;
	case MALLOC_KIND__MT_IFNET:
		t = M_IFNET;
		break;
	case MALLOC_KIND__MT_VLAN:
		t = M_VLAN;
		break;
	case MALLOC_KIND__MT_LAGG:
		t = M_LAGG;
		break;
	case MALLOC_KIND__MT_NIC:
		t = M_NIC;
		break;
	case MALLOC_KIND__MT_CXGBE:
		t = M_CXGBE;
		break;
	case MALLOC_KIND__MT_MLX5:
		t = M_MLX5EN;
		break;
	case MALLOC_KIND__MT_ROUTE:
		t = M_RTABLE;
		break;
	case MALLOC_KIND__MT_DEVBUF:
		t = M_DEVBUF;
		break;
	case MALLOC_KIND__MT_TEMP:
		t = M_TEMP;
		break;
	case MALLOC_KIND__MT_EPAIR:
		t = M_EPAIR;
		break;
	default:
		return (NULL);		/* any */
	}
	if (t == NULL)
		*ok = false;
	return (t);
}

static bool
packet_budget(struct interp *ip, uint32_t n)
{
	uint32_t old;

	old = __atomic_fetch_add(&ip->packets, n, __ATOMIC_RELAXED);
	return (old + n <= ip->lim.max_packets && old + n >= old);
}

static uint32_t
clamp_size(struct interp *ip, uint32_t size)
{
	return (MIN(size, ip->lim.max_send_size));
}

/* One for the send, one per KiB it may segment or fragment into. */
uint32_t
interp_send_packets(uint32_t size)
{
	return (1 + size / 1024);
}

/* At most the send size, and what fits the IP header's length field. */
uint32_t
interp_receive_size(const Receive *o, const struct interp_limits *lim)
{
	uint32_t size = MIN(o->size, lim->max_send_size);

	if (af_of(o->af) == AF_INET)
		return (MIN(size, IP_MAXPACKET - (uint32_t)sizeof(struct ip)));
	return (MIN(size, IPV6_MAXPACKET));
}

uint32_t
interp_taskqueue_rounds(const TaskqueueRun *t)
{
	return (clamp_u32(t->rounds, 1, INTERP_TASKQUEUE_ROUNDS_MAX));
}

static void
sockaddr_of(int af, uint32_t d, struct sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (af == AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_len = sizeof(sin);
		sin.sin_family = AF_INET;
		sin.sin_port = (uint16_t)(5000 + d % INTERP_NDST);
		sin.sin_addr = dst4(d);
		memcpy(sa, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_len = sizeof(sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = (uint16_t)(5000 + d % INTERP_NDST);
		sin6.sin6_addr = dst6(d);
		CTASSERT(sizeof(sin6) <= sizeof(struct sockaddr));
		memcpy(sa, &sin6, sizeof(sin6));
	}
}

static int
op_open(struct interp *ip, const SockOpen *o, struct interp_opctx *c)
{
	struct interp_file *f = NULL;
	struct socket *so;
	struct sockaddr sa;
	int af = af_of(o->af), udp = o->proto == L4__UDP;
	int busy, error;
	uint32_t s;

	ctx_printf(c, "open %s %s", interp_af_name(o->af), udp ? "udp" : "tcp");
	if (o->has_dst)
		ctx_printf(c, " dst=%u", o->dst % INTERP_NDST);
	for (s = 0; s < ip->lim.max_sockets; s++) {
		busy = 0;
		if (__atomic_compare_exchange_n(&ip->files[s].busy, &busy, 1,
		    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			f = &ip->files[s];
			break;
		}
	}
	if (f == NULL) {
		c->skip = "no free slot";
		return (SKIP);
	}
	ctx_printf(c, " sock=%u", s);
	if (__atomic_load_n(&ip->files_hw, __ATOMIC_RELAXED) <= s)
		__atomic_store_n(&ip->files_hw, s + 1, __ATOMIC_RELAXED);
	error = socreate(af, &so, udp ? SOCK_DGRAM : SOCK_STREAM,
	    udp ? IPPROTO_UDP : IPPROTO_TCP);
	if (error != 0) {
		__atomic_store_n(&f->busy, 0, __ATOMIC_RELEASE);
		return (error);
	}
	__atomic_store_n(&f->closing, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->so, so, __ATOMIC_RELEASE);
	__atomic_store_n(&f->refs, 1, __ATOMIC_RELEASE);
	if (!o->has_dst)
		return (0);
	sockaddr_of(af, o->dst, &sa);
	return (soconnect(so, &sa));
}

static int
op_close(struct interp *ip, const Close *o, struct interp_opctx *c)
{
	struct interp_file *f;
	struct socket *so;
	int s, closing = 0, error;

	s = sock_get(ip, o->sock, &so);
	if (s < 0) {
		ctx_printf(c, "close");
		c->skip = "no socket";
		return (SKIP);
	}
	ctx_printf(c, "close sock=%d", s);
	f = &ip->files[s];
	if (!__atomic_compare_exchange_n(&f->closing, &closing, 1, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		(void)file_drop(f);
		c->skip = "closing";
		return (SKIP);
	}
	(void)file_drop(f);		/* the table's reference */
	error = file_drop(f);		/* ours: closes unless in use */
	return (error);
}

/* The ops that act on one open socket. */
static int
op_sock(struct interp *ip, const Op *op, struct interp_opctx *c)
{
	struct socket *so;
	struct inpcb *inp;
	struct sockaddr sa;
	struct interp_ktls_args ka;
	uint32_t ref, rate = 0, size;
	int s, error = 0;
	const char *name;
	char kbuf[64];

	switch (op->op_case) {
	case OP__OP_CONNECT:
		name = "connect";
		ref = op->connect->sock;
		break;
	case OP__OP_SET_RATE:
		name = "set_rate";
		ref = op->set_rate->sock;
		break;
	case OP__OP_FLOWTYPE_NONE:
		name = "flowtype_none";
		ref = op->flowtype_none->sock;
		break;
	case OP__OP_SEND:
		name = "send";
		ref = op->send->sock;
		break;
	case OP__OP_TCPDROP:
		name = "tcpdrop";
		ref = op->tcpdrop->sock;
		break;
	case OP__OP_TAG_MODIFY:
		name = "tag_modify";
		ref = op->tag_modify->sock;
		break;
	case OP__OP_TAG_QUERY:
		name = "tag_query";
		ref = op->tag_query->sock;
		break;
	default:
		/* Kernel TLS and pacing users (interp_ktls.c). */
		(void)interp_ktls_args(op, &ka);
		name = ka.name;
		ref = ka.sock;
		break;
	}
	ctx_printf(c, "%s", name);
	s = sock_get(ip, ref, &so);
	if (s < 0) {
		c->skip = "no socket";
		return (SKIP);
	}
	ctx_printf(c, " sock=%d", s);
	c->sock = s;
	switch (op->op_case) {
	case OP__OP_CONNECT:
		ctx_printf(c, " dst=%u", op->connect->dst % INTERP_NDST);
		sockaddr_of(so->so_family, op->connect->dst, &sa);
		error = soconnect(so, &sa);
		break;
	case OP__OP_SET_RATE:
		ctx_printf(c, " rate=%u", op->set_rate->rate);
		error = sosetopt_max_pacing_rate(so, op->set_rate->rate);
		break;
	case OP__OP_FLOWTYPE_NONE:
		/* A flow with no RSS hash: no tag can be allocated for it. */
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_WLOCK(inp);
		inp->inp_flowtype = M_HASHTYPE_NONE;
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
		break;
	case OP__OP_SEND:
		size = clamp_size(ip, op->send->size);
		ctx_printf(c, " size=%u", size);
		if (!packet_budget(ip, interp_send_packets(size))) {
			c->skip = "packet budget";
			error = SKIP;
			break;
		}
		error = sosend(so, (int)size, 0);
		break;
	case OP__OP_TCPDROP:
		error = tcp_drop_socket(so);
		break;
	case OP__OP_TAG_MODIFY:
		ctx_printf(c, " rate=%u", op->tag_modify->rate);
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_WLOCK(inp);
		error = in_pcbmodify_txrtlmt(inp, op->tag_modify->rate);
		if (!in_pcbrele_wlocked(inp))
			INP_WUNLOCK(inp);
		break;
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		interp_ktls_detail(&ka, kbuf, sizeof(kbuf));
		ctx_printf(c, "%s", kbuf);
		if (!packet_budget(ip, interp_ktls_packets(&ka))) {
			c->skip = "packet budget";
			error = SKIP;
			break;
		}
		error = interp_ktls_run(so, &ka);
		break;
	default:
		if ((error = sopcbref(so, &inp)) != 0)
			break;
		INP_RLOCK(inp);
		error = in_pcbquery_txrtlmt(inp, &rate);
		if (error == 0) {
			uint32_t level = 0;

			ctx_printf(c, " rate=%u", rate);
			if (in_pcbquerylevel_txrtlmt(inp, &level) == 0)
				ctx_printf(c, " level=%u", level);
		}
		if (!in_pcbrele_rlocked(inp))
			INP_RUNLOCK(inp);
		break;
	}
	(void)file_drop(&ip->files[s]);
	return (error);
}

static int
op_receive(struct interp *ip, const Receive *o, struct interp_opctx *c)
{
	struct interp_iface *ifc;
	struct epoch_tracker et;
	struct mbuf *m;
	uint32_t size = interp_receive_size(o, &ip->lim);
	uint8_t proto = o->proto == L4__TCP ? IPPROTO_TCP : IPPROTO_UDP;
	int af = af_of(o->af);

	ifc = iface_any(ip, o->iface);
	ctx_printf(c, "receive %s dst=%u size=%u %s", interp_af_name(o->af),
	    o->dst % INTERP_NDST, size, proto == IPPROTO_TCP ? "tcp" : "udp");
	if (ifc == NULL || iface_hold(ifc, c) == NULL) {
		c->skip = ifc == NULL ? "no iface" : "detached";
		return (SKIP);
	}
	ctx_printf(c, " iface=%s", ifc->name);
	if (ifc->kind != IK_NIC && if_getinputfn(ifc->ifp) == NULL) {
		c->skip = "no input";
		return (SKIP);
	}
	if (!packet_budget(ip, 1)) {
		c->skip = "packet budget";
		return (SKIP);
	}
	if (af == AF_INET) {
		m = packet_build_ip4(src4(), dst4(o->dst), proto, (int)size,
		    M_NOWAIT);
	} else {
		struct in6_addr s6 = src6(), d6 = dst6(o->dst);

		m = packet_build_ip6(&s6, &d6, proto, (int)size, M_NOWAIT);
	}
	if (m == NULL)
		return (ENOBUFS);
	if (ifc->kind == IK_NIC) {
		nic_rx(ifc->ifp, m);
	} else {
		/* What a driver's receive interrupt does. */
		NET_EPOCH_ENTER(et);
		m->m_pkthdr.rcvif = ifc->ifp;
		if_getinputfn(ifc->ifp)(ifc->ifp, m);
		NET_EPOCH_EXIT(et);
	}
	return (0);
}

static struct interp_iface *
op_iface_kind(struct interp *ip, int kind, uint32_t ref,
    struct interp_opctx *c)
{
	struct interp_iface *ifc = iface_kind(ip, kind, ref);

	if (ifc == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	ctx_printf(c, " %s", ifc->name);
	if (iface_hold(ifc, c) == NULL) {
		c->skip = "detached";
		return (NULL);
	}
	return (ifc);
}

static struct interp_iface *
op_iface_any(struct interp *ip, const char *what, uint32_t ref,
    struct interp_opctx *c)
{
	struct interp_iface *ifc = iface_any(ip, ref);

	if (ifc == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	ctx_printf(c, " %s=%s", what, ifc->name);
	if (iface_hold(ifc, c) == NULL) {
		c->skip = "detached";
		return (NULL);
	}
	return (ifc);
}

static int
op_route(struct interp *ip, int which, const Route *r, struct interp_opctx *c)
{
	static const char *const names[] = { "route_add", "route_change",
	    "route_delete" };
	struct interp_iface *ifc = NULL;
	int af = af_of(r->af);

	ctx_printf(c, "%s %s dst=%u %s", names[which], interp_af_name(r->af),
	    r->dst % INTERP_NDST, interp_prefix_name((int)r->prefix));
	if (which != 2) {
		ifc = op_iface_any(ip, "iface", r->iface, c);
		if (ifc == NULL)
			return (SKIP);
	}
	return (route_call(which, af, r->dst, (int)r->prefix,
	    ifc != NULL ? ifc->ifp : NULL));
}

static int
op_other(struct interp *ip, const Op *op, struct interp_opctx *c)
{
	struct interp_iface *ifc, *p;
	uint32_t n;
	int error;

	switch (op->op_case) {
	case OP__OP_EPAIR_DELIVER:
		n = op->epair_deliver->count;
		ctx_printf(c, "epair_deliver count=%u", n);
		error = epair_deliver(n == 0 ? INT_MAX : (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		c->delivered = error;
		return (0);
	case OP__OP_ROUTE_ADD:
		return (op_route(ip, 0, op->route_add, c));
	case OP__OP_ROUTE_CHANGE:
		return (op_route(ip, 1, op->route_change, c));
	case OP__OP_ROUTE_DELETE:
		return (op_route(ip, 2, op->route_delete, c));
	case OP__OP_VLAN_REPARENT: {
		const VlanReparent *v = op->vlan_reparent;

		ctx_printf(c, "vlan_reparent");
		ifc = op_iface_kind(ip, IK_VLAN, v->vlan, c);
		if (ifc == NULL)
			return (SKIP);
		if (!v->has_parent) {
			ctx_printf(c, " parent=none");
			return (vlan_setparent(ifc->ifp, NULL));
		}
		p = op_iface_any(ip, "parent", v->parent, c);
		if (p == NULL)
			return (SKIP);
		if (p == ifc || vlan_would_loop(ip, ifc, p)) {
			c->skip = "loop";
			return (SKIP);
		}
		return (vlan_setparent(ifc->ifp, p->ifp));
	}
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE: {
		const LaggPort *l = op->op_case == OP__OP_LAGG_PORT_ADD ?
		    op->lagg_port_add : op->lagg_port_remove;
		bool add = op->op_case == OP__OP_LAGG_PORT_ADD;

		ctx_printf(c, "%s", add ? "lagg_port_add" : "lagg_port_remove");
		ifc = op_iface_kind(ip, IK_LAGG, l->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		p = op_iface_any(ip, "port", l->port, c);
		if (p == NULL)
			return (SKIP);
		if (!iface_is_leaf(p)) {
			c->skip = "not a port kind";
			return (SKIP);
		}
		return (add ? lagg_port_create(ifc->ifp, p->ifp) :
		    lagg_port_destroy(ifc->ifp, p->ifp));
	}
	case OP__OP_LINK:
		ctx_printf(c, "link %s", op->link->up ? "up" : "down");
		ifc = op_iface_any(ip, "iface", op->link->iface, c);
		if (ifc == NULL)
			return (SKIP);
		if_link_state_change(ifc->ifp, op->link->up ? LINK_STATE_UP :
		    LINK_STATE_DOWN);
		return (0);
	case OP__OP_LAGG_PROTO:
		ctx_printf(c, "lagg_proto proto=%s",
		    interp_lagg_proto_name(op->lagg_proto->proto));
		ifc = op_iface_kind(ip, IK_LAGG, op->lagg_proto->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		return (lagg_set_proto(ifc->ifp,
		    (int)(op->lagg_proto->proto % LAGG_PROTO_MAX)));
	case OP__OP_LAGG_OPTS:
		ctx_printf(c, "lagg_opts use_flowid=%d",
		    op->lagg_opts->use_flowid ? 1 : 0);
		ifc = op_iface_kind(ip, IK_LAGG, op->lagg_opts->lagg, c);
		if (ifc == NULL)
			return (SKIP);
		return (lagg_set_opts(ifc->ifp, op->lagg_opts->use_flowid ?
		    LAGG_OPT_USE_FLOWID : -LAGG_OPT_USE_FLOWID));
	case OP__OP_IFCAP:
		ctx_printf(c, "ifcap txrtlmt=%s", op->ifcap->txrtlmt ? "on" :
		    "off");
		ifc = op_iface_any(ip, "iface", op->ifcap->iface, c);
		if (ifc == NULL)
			return (SKIP);
		return (ifconfig_setcap(ifc->ifp, IFCAP_TXRTLMT,
		    op->ifcap->txrtlmt));
	case OP__OP_DETACH:
		ctx_printf(c, "detach");
		ifc = op_iface_any(ip, "iface", op->detach->iface, c);
		if (ifc == NULL)
			return (SKIP);
		if (!iface_detach(ip, ifc)) {
			c->skip = "detached";
			return (SKIP);
		}
		return (0);
	case OP__OP_NIC_TXEOF:
		n = op->nic_txeof->count;
		ctx_printf(c, "nic_txeof count=%u", n);
		ifc = op_iface_kind(ip, IK_NIC, op->nic_txeof->nic, c);
		if (ifc == NULL)
			return (SKIP);
		error = nic_txeof(ifc->ifp, n == 0 ? INT_MAX :
		    (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_MLX5_COMPLETE:
		n = op->mlx5_complete->count;
		ctx_printf(c, "mlx5_complete count=%u", n);
		ifc = op_iface_kind(ip, IK_MLX5, op->mlx5_complete->mlx5, c);
		if (ifc == NULL)
			return (SKIP);
		error = mlx5e_tx_complete(ifc->ifp, n == 0 ? INT_MAX :
		    (int)MIN(n, INT_MAX));
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_CXGBE_ACK: {
		const CxgbeAck *a = op->cxgbe_ack;
		int k, etid;

		ctx_printf(c, "cxgbe_ack credits=%u", a->credits);
		ifc = op_iface_kind(ip, IK_CXGBE, a->cxgbe, c);
		if (ifc == NULL)
			return (SKIP);
		k = cxgbe_etids_in_use(ifc->ifp);
		if (k <= 0) {
			c->skip = "no flow";
			return (SKIP);
		}
		etid = cxgbe_etid_nth(ifc->ifp, (int)(a->flow % (uint32_t)k));
		ctx_printf(c, " flow=%u", a->flow % (uint32_t)k);
		if (etid < 0) {
			c->skip = "no flow";
			return (SKIP);
		}
		return (cxgbe_fw4_ack(ifc->ifp, etid,
		    (int)MIN(a->credits, INT_MAX)));
	}
	case OP__OP_MLX5_WORKER:
		ctx_printf(c, "mlx5_worker");
		ifc = op_iface_kind(ip, IK_MLX5, op->mlx5_worker->mlx5, c);
		if (ifc == NULL)
			return (SKIP);
		n = op->mlx5_worker->worker % (uint32_t)ifc->n_workers;
		ctx_printf(c, " worker=%u", n);
		error = mlx5e_rl_worker_run(ifc->ifp, (int)n);
		ctx_printf(c, " done=%d", error);
		return (0);
	case OP__OP_TASKQUEUE:
		n = interp_taskqueue_rounds(op->taskqueue);
		ctx_printf(c, "taskqueue rounds=%u", n);
		error = 0;
		while (n-- > 0)
			error += taskqueue_run_all();
		ctx_printf(c, " ran=%d", error);
		return (0);
	case OP__OP_EPOCH:
		error = epoch_drain_callbacks();
		ctx_printf(c, "epoch ran=%d", error);
		return (0);
	case OP__OP_DELIVER_ALL:
		ctx_printf(c, "deliver_all");
		return (world_progress_all());
	case OP__OP_FAIL_ALLOC: {
		const FailAlloc *fa = op->fail_alloc;
		struct malloc_type *mt;
		bool ok;

		ctx_printf(c, "fail_alloc nth=%u type=%s", fa->nth,
		    interp_malloc_kind_name((int)fa->type));
		if (fa->nth == 0) {
			malloc_fail_disarm();
			return (0);
		}
		mt = malloc_kind_type((int)fa->type, &ok);
		if (!ok) {
			c->skip = "type not in this build";
			return (SKIP);
		}
		malloc_fail_arm(fa->nth, mt);
		return (0);
	}
	default:
		ctx_printf(c, "nop");
		return (0);
	}
}

const char *
op_name(const Op *op)
{
	switch (op->op_case) {
	case OP__OP_OPEN: return ("op open");
	case OP__OP_CONNECT: return ("op connect");
	case OP__OP_SET_RATE: return ("op set_rate");
	case OP__OP_FLOWTYPE_NONE: return ("op flowtype_none");
	case OP__OP_SEND: return ("op send");
	case OP__OP_CLOSE: return ("op close");
	case OP__OP_TCPDROP: return ("op tcpdrop");
	case OP__OP_RECEIVE: return ("op receive");
	case OP__OP_EPAIR_DELIVER: return ("op epair_deliver");
	case OP__OP_ROUTE_ADD: return ("op route_add");
	case OP__OP_ROUTE_CHANGE: return ("op route_change");
	case OP__OP_ROUTE_DELETE: return ("op route_delete");
	case OP__OP_VLAN_REPARENT: return ("op vlan_reparent");
	case OP__OP_LAGG_PORT_ADD: return ("op lagg_port_add");
	case OP__OP_LAGG_PORT_REMOVE: return ("op lagg_port_remove");
	case OP__OP_LINK: return ("op link");
	case OP__OP_LAGG_PROTO: return ("op lagg_proto");
	case OP__OP_LAGG_OPTS: return ("op lagg_opts");
	case OP__OP_DETACH: return ("op detach");
	case OP__OP_NIC_TXEOF: return ("op nic_txeof");
	case OP__OP_MLX5_COMPLETE: return ("op mlx5_complete");
	case OP__OP_CXGBE_ACK: return ("op cxgbe_ack");
	case OP__OP_MLX5_WORKER: return ("op mlx5_worker");
	case OP__OP_TASKQUEUE: return ("op taskqueue");
	case OP__OP_EPOCH: return ("op epoch");
	case OP__OP_DELIVER_ALL: return ("op deliver_all");
	case OP__OP_TAG_MODIFY: return ("op tag_modify");
	case OP__OP_TAG_QUERY: return ("op tag_query");
	case OP__OP_FAIL_ALLOC: return ("op fail_alloc");
	case OP__OP_TLS_ENABLE: return ("op tls_enable");
	case OP__OP_TLS_SEND: return ("op tls_send");
	case OP__OP_PACING: return ("op pacing");
	case OP__OP_IFCAP: return ("op ifcap");
	default: return ("op nop");
	}
}

/* Run one op: its trace text goes to c, its result is returned. */
int
op_dispatch(struct interp *ip, const Op *op, struct interp_opctx *c)
{
	int error;

	switch (op->op_case) {
	case OP__OP_OPEN:
		error = op_open(ip, op->open, c);
		break;
	case OP__OP_CLOSE:
		error = op_close(ip, op->close, c);
		break;
	case OP__OP_CONNECT:
	case OP__OP_SET_RATE:
	case OP__OP_FLOWTYPE_NONE:
	case OP__OP_SEND:
	case OP__OP_TCPDROP:
	case OP__OP_TAG_MODIFY:
	case OP__OP_TAG_QUERY:
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		error = op_sock(ip, op, c);
		break;
	case OP__OP_RECEIVE:
		error = op_receive(ip, op->receive, c);
		break;
	default:
		error = op_other(ip, op, c);
		break;
	}
	return (error);
}
