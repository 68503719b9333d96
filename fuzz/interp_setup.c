/*
 * Harness: the interpreter's setup of a scenario's topology (see
 * interp.h): interfaces with their drivers' parameters, local addresses
 * and routes, each traced on a line sndtag-cprog turns into a call.
 */
#include "fuzz/interp_int.h"

#include <stdarg.h>

#include "net/if_epair.h"
#include "net/if_lagg.h"
#include "net/if_loop.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/lock.h"
#include "dev/cxgbe/adapter.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/nic/if_nic.h"

static void __printflike(2, 3)
trace_setup(struct interp *ip, const char *fmt, ...)
{
	va_list ap;

	if (ip->trace == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(ip->trace, fmt, ap);
	va_end(ap);
	fputc('\n', ip->trace);
}

void
interp_iface_params(const Iface *d, struct interp_iface_params *p)
{
	const Nic *n;

	memset(p, 0, sizeof(*p));
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
	case IFACE__KIND_EPAIR:
	case IFACE__KIND_LAGG:
		break;
	case IFACE__KIND_VLAN:
		p->vid = clamp_u32(d->vlan->vid, 1, 4094);
		break;
	case IFACE__KIND_CXGBE:
		p->etids = clamp_u32(d->cxgbe->n_etids, 1,
		    INTERP_CXGBE_ETIDS_MAX);
		p->classes = clamp_u32(d->cxgbe->n_classes, 1,
		    INTERP_CXGBE_CLASSES_MAX);
		p->credits = clamp_u32(d->cxgbe->tx_credits,
		    CXGBE_CREDITS_MIN, INTERP_CXGBE_CREDITS_MAX);
		p->backlog = clamp_u32(d->cxgbe->max_backlog, 1,
		    INTERP_CXGBE_BACKLOG_MAX);
		break;
	case IFACE__KIND_MLX5:
		p->workers = clamp_u32(d->mlx5->workers, 1,
		    INTERP_MLX5_WORKERS_MAX);
		p->rl_per_worker = clamp_u32(d->mlx5->channels_per_worker, 1,
		    INTERP_MLX5_RL_PER_WORKER_MAX);
		p->channels = clamp_u32(d->mlx5->tx_channels, 1,
		    INTERP_MLX5_CHANNELS_MAX);
		p->sq_size = clamp_u32(d->mlx5->sq_size, 1,
		    INTERP_MLX5_SQ_MAX);
		break;
	default:
		/* A Nic, or an unset kind: a default Nic. */
		n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		p->mtu = n != NULL ? clamp_u32(n->mtu, INTERP_MTU_MIN,
		    INTERP_MTU_MAX) : 1500;
		p->ring = n != NULL ? clamp_u32(n->ring_size, 1,
		    INTERP_NIC_RING_MAX) : NIC_RING_DEFAULT;
		break;
	}
}

static void
setup_iface(struct interp *ip, const Iface *d)
{
	struct interp_iface_params pa;
	struct interp_iface *ifc, *p;
	struct ifnet *ifp, *a, *b;
	char ebuf[16];
	int error, flags;
	uint32_t i;

	interp_iface_params(d, &pa);
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
		ifp = loop_attach(ip->n_kind[IK_LOOP]);
		ifc = iface_add(ip, IK_LOOP, ifp);
		ip->n_kind[IK_LOOP]++;
		trace_setup(ip, "iface %s%s", ifc->name,
		    ifp == NULL ? " failed" : "");
		break;
	case IFACE__KIND_EPAIR:
		a = b = NULL;
		error = epair_clone_create(ip->n_kind[IK_EPAIR], &a, &b);
		if (error != 0)
			a = b = NULL;
		ifc = iface_add(ip, IK_EPAIR, a);
		p = iface_add(ip, IK_EPAIR, b);
		/* Both sides share the pair's kind index. */
		p->kind_index = ifc->kind_index;
		snprintf(ifc->name, sizeof(ifc->name), "epair%da",
		    ifc->kind_index);
		snprintf(p->name, sizeof(p->name), "epair%db", p->kind_index);
		ifc->peer = (int)(p - ip->ifaces);
		p->peer = (int)(ifc - ip->ifaces);
		ip->n_kind[IK_EPAIR]++;
		trace_setup(ip, "iface %s %s -> %s", ifc->name, p->name,
		    errname(error, ebuf, sizeof(ebuf)));
		break;
	case IFACE__KIND_VLAN: {
		const Vlan *v = d->vlan;
		uint16_t vid = (uint16_t)pa.vid;

		p = NULL;
		if (v->has_parent && ip->n_ifaces > 0) {
			p = &ip->ifaces[v->parent % (uint32_t)ip->n_ifaces];
			if (iface_state(p) != IS_LIVE)
				p = NULL;
		}
		ifp = vlan_clone_create(ip->n_kind[IK_VLAN], vid,
		    p != NULL ? p->ifp : NULL);
		ifc = iface_add(ip, IK_VLAN, ifp);
		ip->n_kind[IK_VLAN]++;
		trace_setup(ip, "iface %s vid=%u parent=%s%s", ifc->name,
		    vid, p != NULL ? p->name : "none",
		    ifp == NULL ? " failed" : "");
		break;
	}
	case IFACE__KIND_LAGG: {
		const Lagg *l = d->lagg;
		int proto = (int)(l->proto % LAGG_PROTO_MAX);

		ifp = lagg_clone_create(ip->n_kind[IK_LAGG], proto);
		ifc = iface_add(ip, IK_LAGG, ifp);
		ip->n_kind[IK_LAGG]++;
		trace_setup(ip, "iface %s proto=%s use_flowid=%d%s",
		    ifc->name, interp_lagg_proto_name((uint32_t)proto),
		    l->use_flowid ? 1 : 0,
		    ifp == NULL ? " failed" : "");
		if (ifp == NULL)
			break;
		if (l->use_flowid) {
			error = lagg_set_opts(ifp, LAGG_OPT_USE_FLOWID);
			trace_setup(ip, "  %s opts use_flowid -> %s",
			    ifc->name, errname(error, ebuf, sizeof(ebuf)));
		}
		for (i = 0; i < l->n_ports; i++) {
			/* Earlier interfaces only (this lagg is last). */
			if (ip->n_ifaces <= 1)
				break;
			p = &ip->ifaces[l->ports[i] %
			    (uint32_t)(ip->n_ifaces - 1)];
			if (!iface_is_leaf(p) || iface_state(p) != IS_LIVE) {
				trace_setup(ip, "  %s laggport %s -> skip",
				    ifc->name, p->name);
				continue;
			}
			error = lagg_port_create(ifp, p->ifp);
			trace_setup(ip, "  %s laggport %s -> %s", ifc->name,
			    p->name, errname(error, ebuf, sizeof(ebuf)));
		}
		break;
	}
	case IFACE__KIND_CXGBE: {
		struct cxgbe_params cp;

		cp.n_etids = (int)pa.etids;
		cp.n_classes = (int)pa.classes;
		cp.tx_credits = (int)pa.credits;
		cp.max_backlog = (int)pa.backlog;
		ifp = cxgbe_attach(ip->n_kind[IK_CXGBE], &cp);
		ifc = iface_add(ip, IK_CXGBE, ifp);
		ip->n_kind[IK_CXGBE]++;
		trace_setup(ip, "iface %s etids=%d classes=%d credits=%d "
		    "backlog=%d%s", ifc->name, cp.n_etids, cp.n_classes,
		    cp.tx_credits, cp.max_backlog,
		    ifp == NULL ? " failed" : "");
		break;
	}
	case IFACE__KIND_MLX5: {
		struct mlx5e_params mp;

		mp.n_workers = (int)pa.workers;
		mp.channels_per_worker = (int)pa.rl_per_worker;
		mp.n_channels = (int)pa.channels;
		mp.sq_size = (int)pa.sq_size;
		mp.packet_pacing = d->mlx5->packet_pacing != 0;
		ifp = mlx5e_attach(ip->n_kind[IK_MLX5], &mp);
		ifc = iface_add(ip, IK_MLX5, ifp);
		ifc->n_workers = mp.n_workers;
		ip->n_kind[IK_MLX5]++;
		trace_setup(ip, "iface %s workers=%d channels_per_worker=%d "
		    "tx_channels=%d sq_size=%d pacing=%d%s", ifc->name,
		    mp.n_workers, mp.channels_per_worker, mp.n_channels,
		    mp.sq_size, mp.packet_pacing ? 1 : 0,
		    ifp == NULL ? " failed" : "");
		break;
	}
	default: {
		/* A Nic, or an unset kind: a default Nic. */
		const Nic *n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		u_long mtu = pa.mtu;
		int ring = (int)pa.ring;

		flags = 0;
		if (n != NULL && n->txrtlmt)
			flags |= NIC_F_TXRTLMT;
		if (n != NULL && n->tso)
			flags |= NIC_F_TSO;
		ifp = nic_attach("nic", ip->n_kind[IK_NIC], flags, ring, mtu);
		ifc = iface_add(ip, IK_NIC, ifp);
		ip->n_kind[IK_NIC]++;
		trace_setup(ip, "iface %s%s%s mtu=%lu ring=%d%s", ifc->name,
		    (flags & NIC_F_TXRTLMT) ? " txrtlmt" : "",
		    (flags & NIC_F_TSO) ? " tso" : "", mtu, ring,
		    ifp == NULL ? " failed" : "");
		break;
	}
	}
}

int
route_call(int which, int af, uint32_t d, int prefix, struct ifnet *ifp)
{
	struct in_addr a4;
	struct in6_addr a6;
	int plen = interp_plen(af == AF_INET6 ? AF__V6 : AF__V4, prefix);
	const void *dst;

	if (af == AF_INET)
		a4.s_addr = interp_addr4(d, plen, false);
	else
		interp_addr6(a6.s6_addr, d, plen, false);
	dst = af == AF_INET ? (const void *)&a4 : (const void *)&a6;
	switch (which) {
	case 0:
		return (rt_add(af, dst, plen, ifp));
	case 1:
		return (rt_change(af, dst, plen, ifp));
	default:
		return (rt_delete(af, dst, plen));
	}
}

/* The topology: interfaces, local addresses, routes, as the input says. */
void
setup_topology(struct interp *ip)
{
	const Topology *t = ip->sc->topology;
	struct interp_iface *ifc;
	char ebuf[16];
	uint32_t i;
	int error;

	if (t == NULL)
		return;
	V_ipforwarding = t->forwarding ? 1 : 0;
	V_ip6_forwarding = t->forwarding ? 1 : 0;
	V_ip_defttl = INTERP_TTL;
	V_ip6_defhlim = INTERP_TTL;
	if (t->forwarding)
		trace_setup(ip, "forwarding on");
	for (i = 0; i < t->n_ifaces; i++)
		setup_iface(ip, t->ifaces[i]);
	for (i = 0; i < t->n_addrs; i++) {
		const LocalAddr *a = t->addrs[i];
		int af = af_of(a->af);

		ifc = iface_any(ip, a->iface);
		if (ifc == NULL || iface_state(ifc) != IS_LIVE) {
			trace_setup(ip, "addr %s dst=%u -> skip",
			    interp_af_name(a->af), a->dst % INTERP_NDST);
			continue;
		}
		if (af == AF_INET) {
			error = in_ifaddr_add(ifc->ifp, dst4(a->dst));
		} else {
			struct in6_addr a6 = dst6(a->dst);

			error = in6_ifaddr_add(ifc->ifp, &a6);
		}
		trace_setup(ip, "addr %s dst=%u iface=%s -> %s",
		    interp_af_name(a->af), a->dst % INTERP_NDST, ifc->name,
		    errname(error, ebuf, sizeof(ebuf)));
		witness_assert_unlocked("setup addr");
	}
	for (i = 0; i < t->n_routes; i++) {
		const Route *r = t->routes[i];
		int af = af_of(r->af);

		ifc = iface_any(ip, r->iface);
		if (ifc == NULL || iface_state(ifc) != IS_LIVE) {
			trace_setup(ip, "route %s dst=%u -> skip",
			    interp_af_name(r->af), r->dst % INTERP_NDST);
			continue;
		}
		error = route_call(0, af, r->dst, (int)r->prefix, ifc->ifp);
		trace_setup(ip, "route %s dst=%u %s iface=%s -> %s",
		    interp_af_name(r->af), r->dst % INTERP_NDST,
		    interp_prefix_name((int)r->prefix), ifc->name,
		    errname(error, ebuf, sizeof(ebuf)));
		witness_assert_unlocked("setup route");
	}
	witness_assert_unlocked("setup");
}
