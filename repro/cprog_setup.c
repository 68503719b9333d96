/*
 * sndtag-cprog: the setup, i.e. world_init() and the topology as attach
 * calls, each under the interpreter's trace line for it, and the values
 * and names (clamps, addresses, protocols, detach functions) that the
 * operations spell the same way.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "repro/cprog_int.h"

#include "harness/world.h"
#include "net/if_lagg.h"

/* ---- values and names ----------------------------------------------- */

/* interp_addr4's address (a route's prefix: masked) as in4(...). */
void
cprog_fmt_in4(char *buf, size_t len, uint32_t d, int plen, bool source)
{
	uint32_t a = interp_addr4(d, plen, source);

	snprintf(buf, len, "in4(%u, %u, %u, %u)", a >> 24, (a >> 16) & 0xff,
	    (a >> 8) & 0xff, a & 0xff);
	cprog_gen.nd.in4 = true;
}

/* interp_addr6's address as in6(...), eight 16-bit words. */
void
cprog_fmt_in6(char *buf, size_t len, uint32_t d, int plen, bool source)
{
	uint8_t b[16];
	size_t o = 0;
	int i;

	interp_addr6(b, d, plen, source);
	o += (size_t)snprintf(buf + o, len - o, "in6(");
	for (i = 0; i < 8 && o < len; i++) {
		unsigned w = (unsigned)b[2 * i] << 8 | b[2 * i + 1];

		o += (size_t)snprintf(buf + o, len - o, w == 0 ? "%s0" :
		    "%s0x%x", i == 0 ? "" : ", ", w);
	}
	if (o < len)
		snprintf(buf + o, len - o, ")");
	cprog_gen.nd.in6 = true;
}

const char *
cprog_lagg_proto_sym(uint32_t proto)
{
	static const char *const names[LAGG_PROTO_MAX] = { "LAGG_PROTO_NONE",
	    "LAGG_PROTO_ROUNDROBIN", "LAGG_PROTO_FAILOVER",
	    "LAGG_PROTO_LOADBALANCE", "LAGG_PROTO_LACP",
	    "LAGG_PROTO_BROADCAST" };

	return (names[proto % LAGG_PROTO_MAX]);
}

const char *
cprog_detach_fn(int kind)
{
	static const char *const fns[IK_N] = { "nic_detach", "loop_detach",
	    "epair_clone_destroy", "vlan_clone_destroy",
	    "lagg_clone_destroy", "cxgbe_detach", "mlx5e_detach" };

	return (fns[kind]);
}

/* ---- setup ---------------------------------------------------------- */

/*
 * The next setup line of the trace, which must start with 'expect';
 * NULL if the run ended before it.
 */
static const char *
setup_line(const char *expect)
{
	const char *l;

	if (cprog_gen.setup_pos >= cprog_gen.n_setup) {
		if (cprog_gen.clean || cprog_gen.crash_op >= 0 ||
		    !cprog_gen.setup_crashed)
			cprog_fatal("%s: the interpreter's setup trace ends "
			    "before '%s'; cannot mirror it", cprog_gen.path,
			    expect);
		return (NULL);
	}
	l = cprog_gen.setup[cprog_gen.setup_pos++];
	if (strncmp(l, expect, strlen(expect)) != 0)
		cprog_fatal("%s: setup: expected '%s', the interpreter traced "
		    "'%s'; cannot mirror it", cprog_gen.path, expect, l);
	return (l);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

static struct sh_iface *
iface_add(int kind, bool ok)
{
	struct sh_iface *f = &cprog_gen.ifaces[cprog_gen.n_ifaces++];

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->kind_index = cprog_gen.n_kind[kind];
	f->peer = -1;
	f->parent = -1;
	f->state = ok ? ST_LIVE : ST_NONE;
	snprintf(f->name, sizeof(f->name), "%s%d", interp_iface_kind_name(kind),
	    f->kind_index);
	return (f);
}

/* "failed" on a trace line; an untraced line is taken to succeed. */
static bool
setup_ok(const char *line)
{
	return (line == NULL || !ends_with(line, " failed"));
}

static void
setup_register(FILE *b, const struct sh_iface *f)
{
	if (f->state == ST_LIVE)
		cprog_out(b, "\tworld_add_ifnet(%s, %s);\n", f->name,
		    cprog_detach_fn(f->kind));
	else {
		/* As the interpreter: only an interface that exists. */
		cprog_out(b, "\tif (%s != NULL)\t/* NULL in the interpreter's "
		    "run */\n\t\tworld_add_ifnet(%s, %s);\n", f->name, f->name,
		    cprog_detach_fn(f->kind));
	}
}

static void
setup_iface(FILE *b, const Iface *d)
{
	struct interp_iface_params pa;
	struct sh_iface *f, *p;
	char expect[160];
	const char *l;
	uint32_t i;

	/* The interpreter's own clamps: the same attach arguments. */
	interp_iface_params(d, &pa);
	switch (d->kind_case) {
	case IFACE__KIND_LOOPBACK:
		snprintf(expect, sizeof(expect), "iface lo%d",
		    cprog_gen.n_kind[IK_LOOP]);
		l = setup_line(expect);
		f = iface_add(IK_LOOP, setup_ok(l));
		cprog_gen.n_kind[IK_LOOP]++;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\t%s = loop_attach(%d);\n", f->name,
		    f->kind_index);
		setup_register(b, f);
		break;
	case IFACE__KIND_EPAIR: {
		int k = cprog_gen.n_kind[IK_EPAIR];
		bool ok;

		snprintf(expect, sizeof(expect), "iface epair%da epair%db -> ",
		    k, k);
		l = setup_line(expect);
		ok = l == NULL || strcmp(cprog_result_of(l), "0") == 0;
		f = iface_add(IK_EPAIR, ok);
		p = iface_add(IK_EPAIR, ok);
		p->kind_index = f->kind_index;
		snprintf(f->name, sizeof(f->name), "epair%da", k);
		snprintf(p->name, sizeof(p->name), "epair%db", k);
		f->peer = (int)(p - cprog_gen.ifaces);
		p->peer = (int)(f - cprog_gen.ifaces);
		cprog_gen.n_kind[IK_EPAIR]++;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\tepair_clone_create(%d, &%s, &%s);\n", k,
		    f->name, p->name);
		if (ok) {
			cprog_out(b,
			    "\t/* One world entry for the pair: destroying "
			    "either side destroys both. */\n");
			cprog_out(b,
			    "\tworld_add_ifnet(%s, epair_clone_destroy);\n",
			    p->name);
		} else
			cprog_out(b, "\t/* the pair was not created in the "
			    "interpreter's run */\n");
		break;
	}
	case IFACE__KIND_VLAN: {
		const Vlan *v = d->vlan;
		uint16_t vid = (uint16_t)pa.vid;

		p = NULL;
		if (v->has_parent && cprog_gen.n_ifaces > 0) {
			p = &cprog_gen.ifaces[v->parent %
			    (uint32_t)cprog_gen.n_ifaces];
			if (p->state != ST_LIVE)
				p = NULL;
		}
		snprintf(expect, sizeof(expect), "iface vlan%d vid=%u "
		    "parent=%s", cprog_gen.n_kind[IK_VLAN], vid,
		    p != NULL ? p->name : "none");
		l = setup_line(expect);
		f = iface_add(IK_VLAN, setup_ok(l));
		f->parent = p != NULL ? (int)(p - cprog_gen.ifaces) : -1;
		cprog_gen.n_kind[IK_VLAN]++;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\t%s = vlan_clone_create(%d, %u, %s);\n", f->name,
		    f->kind_index, vid, p != NULL ? p->name : "NULL");
		setup_register(b, f);
		break;
	}
	case IFACE__KIND_LAGG: {
		const Lagg *lg = d->lagg;
		uint32_t proto = lg->proto % LAGG_PROTO_MAX;

		snprintf(expect, sizeof(expect), "iface lagg%d proto=%s "
		    "use_flowid=%d", cprog_gen.n_kind[IK_LAGG],
		    interp_lagg_proto_name(proto), lg->use_flowid ? 1 : 0);
		l = setup_line(expect);
		f = iface_add(IK_LAGG, setup_ok(l));
		cprog_gen.n_kind[IK_LAGG]++;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\t%s = lagg_clone_create(%d, %s);\n", f->name,
		    f->kind_index, cprog_lagg_proto_sym(proto));
		setup_register(b, f);
		if (f->state != ST_LIVE)
			break;
		if (lg->use_flowid) {
			snprintf(expect, sizeof(expect), "  %s opts use_flowid "
			    "-> ", f->name);
			l = setup_line(expect);
			cprog_comment(b, "\t", l != NULL ? l + 2 : expect + 2);
			cprog_out(b,
			    "\tlagg_set_opts(%s, LAGG_OPT_USE_FLOWID);\n",
			    f->name);
		}
		for (i = 0; i < lg->n_ports; i++) {
			if (cprog_gen.n_ifaces <= 1)
				break;
			p = &cprog_gen.ifaces[lg->ports[i] %
			    (uint32_t)(cprog_gen.n_ifaces - 1)];
			snprintf(expect, sizeof(expect), "  %s laggport %s -> ",
			    f->name, p->name);
			l = setup_line(expect);
			if (p->kind == IK_VLAN || p->kind == IK_LAGG ||
			    p->state != ST_LIVE) {
				if (l != NULL &&
				    strcmp(cprog_result_of(l), "skip"))
					cprog_fatal("%s: setup: the "
					    "interpreter did not skip '%s'",
					    cprog_gen.path, l);
				cprog_comment(b, "\t", l != NULL ? l + 2 :
				    expect + 2);
				continue;
			}
			cprog_comment(b, "\t", l != NULL ? l + 2 : expect + 2);
			cprog_out(b, "\tlagg_port_create(%s, %s);\n", f->name,
			    p->name);
		}
		break;
	}
	case IFACE__KIND_CXGBE: {
		uint32_t e = pa.etids, cl = pa.classes, cr = pa.credits;
		uint32_t bl = pa.backlog;

		snprintf(expect, sizeof(expect), "iface cxgbe%d etids=%u "
		    "classes=%u credits=%u backlog=%u",
		    cprog_gen.n_kind[IK_CXGBE], e, cl, cr, bl);
		l = setup_line(expect);
		f = iface_add(IK_CXGBE, setup_ok(l));
		cprog_gen.n_kind[IK_CXGBE]++;
		cprog_gen.nd.cp = true;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\tcp = (struct cxgbe_params){ .n_etids = %u, "
		    ".n_classes = %u,\n\t    .tx_credits = %u, "
		    ".max_backlog = %u };\n", e, cl, cr, bl);
		cprog_out(b, "\t%s = cxgbe_attach(%d, &cp);\n", f->name,
		    f->kind_index);
		setup_register(b, f);
		break;
	}
	case IFACE__KIND_MLX5: {
		uint32_t w = pa.workers, cpw = pa.rl_per_worker;
		uint32_t ch = pa.channels, sq = pa.sq_size;
		int pacing = d->mlx5->packet_pacing != 0;

		snprintf(expect, sizeof(expect), "iface mlx5%d workers=%u "
		    "channels_per_worker=%u tx_channels=%u sq_size=%u "
		    "pacing=%d", cprog_gen.n_kind[IK_MLX5], w, cpw, ch, sq,
		    pacing);
		l = setup_line(expect);
		f = iface_add(IK_MLX5, setup_ok(l));
		f->n_workers = (int)w;
		cprog_gen.n_kind[IK_MLX5]++;
		cprog_gen.nd.mp = true;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		cprog_out(b, "\tmp = (struct mlx5e_params){ .n_workers = %u, "
		    ".channels_per_worker = %u,\n\t    .n_channels = %u, "
		    ".sq_size = %u, .packet_pacing = %s };\n", w, cpw, ch, sq,
		    pacing ? "true" : "false");
		cprog_out(b, "\t%s = mlx5e_attach(%d, &mp);\n", f->name,
		    f->kind_index);
		setup_register(b, f);
		break;
	}
	default: {
		const Nic *n = d->kind_case == IFACE__KIND_NIC ? d->nic : NULL;
		uint32_t mtu = pa.mtu, ring = pa.ring;
		bool rl = n != NULL && n->txrtlmt, tso = n != NULL && n->tso;
		char flags[64], ringbuf[24];

		snprintf(expect, sizeof(expect), "iface nic%d%s%s mtu=%u "
		    "ring=%u", cprog_gen.n_kind[IK_NIC], rl ? " txrtlmt" : "",
		    tso ? " tso" : "", mtu, ring);
		l = setup_line(expect);
		f = iface_add(IK_NIC, setup_ok(l));
		cprog_gen.n_kind[IK_NIC]++;
		cprog_comment(b, "\t", l != NULL ? l : expect);
		snprintf(flags, sizeof(flags), "%s%s%s",
		    rl ? "NIC_F_TXRTLMT" : "", rl && tso ? " | " : "",
		    tso ? "NIC_F_TSO" : "");
		if (n != NULL)
			snprintf(ringbuf, sizeof(ringbuf), "%u", ring);
		else
			snprintf(ringbuf, sizeof(ringbuf), "NIC_RING_DEFAULT");
		cprog_out(b, "\t%s = nic_attach(\"nic\", %d, %s, %s, %u);\n",
		    f->name, f->kind_index, flags[0] != '\0' ? flags : "0",
		    ringbuf, mtu);
		setup_register(b, f);
		break;
	}
	}
}

void
cprog_emit_setup(FILE *b)
{
	const Topology *t = cprog_gen.sc->topology;
	struct sh_iface *f;
	char expect[160], a[96];
	const char *l;
	uint32_t i;

	if ((int)cprog_gen.lim.max_quiesce_steps ==
	    world_default_limits.max_quiesce_steps &&
	    cprog_gen.lim.max_bytes == world_default_limits.max_bytes)
		cprog_out(b, "\t/* The interpreter's limits are the world's "
		    "defaults. */\n\tworld_init(NULL);\n");
	else {
		cprog_gen.nd.limits = true;
		cprog_out(b,
		    "\twl.max_quiesce_steps = %u;\n\twl.max_bytes = %zu;\n"
		    "\tworld_init(&wl);\n", cprog_gen.lim.max_quiesce_steps,
		    cprog_gen.lim.max_bytes);
	}
	if (t == NULL)
		return;
	cprog_out(b,
	    "\t/* The interpreter's TTL: a forwarding loop ends within "
	    "%d hops. */\n\tV_ip_defttl = %d;\n\tV_ip6_defhlim = %d;\n",
	    INTERP_TTL, INTERP_TTL, INTERP_TTL);
	if (t->forwarding) {
		l = setup_line("forwarding on");
		cprog_comment(b, "\t", "forwarding on");
		cprog_out(b,
		    "\tV_ipforwarding = 1;\n\tV_ip6_forwarding = 1;\n");
	}
	for (i = 0; i < t->n_ifaces; i++) {
		cprog_out(b, "\n");
		setup_iface(b, t->ifaces[i]);
	}
	for (i = 0; i < t->n_addrs; i++) {
		const LocalAddr *ad = t->addrs[i];

		cprog_out(b, "\n");
		f = cprog_gen.n_ifaces > 0 ? &cprog_gen.ifaces[ad->iface %
		    (uint32_t)cprog_gen.n_ifaces] : NULL;
		if (f == NULL || f->state != ST_LIVE) {
			snprintf(expect, sizeof(expect), "addr %s dst=%u -> "
			    "skip", interp_af_name(ad->af),
			    ad->dst % INTERP_NDST);
			l = setup_line(expect);
			cprog_comment(b, "\t", expect);
			continue;
		}
		snprintf(expect, sizeof(expect), "addr %s dst=%u iface=%s -> ",
		    interp_af_name(ad->af), ad->dst % INTERP_NDST, f->name);
		l = setup_line(expect);
		cprog_comment(b, "\t", l != NULL ? l : expect);
		if (ad->af == AF__V6) {
			cprog_fmt_in6(a, sizeof(a), ad->dst, 128, false);
			cprog_gen.nd.a6 = true;
			cprog_out(b, "\ta6 = %s;\n\tin6_ifaddr_add(%s, &a6);\n",
			    a, f->name);
		} else {
			cprog_fmt_in4(a, sizeof(a), ad->dst, 32, false);
			cprog_out(b, "\tin_ifaddr_add(%s, %s);\n", f->name, a);
		}
		cprog_out(b, "\twitness_assert_unlocked(\"setup addr\");\n");
	}
	for (i = 0; i < t->n_routes; i++) {
		const Route *r = t->routes[i];
		int plen = interp_plen(r->af, (int)r->prefix);

		cprog_out(b, "\n");
		f = cprog_gen.n_ifaces > 0 ? &cprog_gen.ifaces[r->iface %
		    (uint32_t)cprog_gen.n_ifaces] : NULL;
		if (f == NULL || f->state != ST_LIVE) {
			snprintf(expect, sizeof(expect), "route %s dst=%u -> "
			    "skip", interp_af_name(r->af), r->dst % INTERP_NDST);
			l = setup_line(expect);
			cprog_comment(b, "\t", expect);
			continue;
		}
		snprintf(expect, sizeof(expect), "route %s dst=%u %s iface=%s "
		    "-> ", interp_af_name(r->af), r->dst % INTERP_NDST,
		    interp_prefix_name((int)r->prefix), f->name);
		l = setup_line(expect);
		cprog_comment(b, "\t", l != NULL ? l : expect);
		if (r->af == AF__V6) {
			cprog_fmt_in6(a, sizeof(a), r->dst, plen, false);
			cprog_gen.nd.a6 = true;
			cprog_out(b,
			    "\ta6 = %s;\n\trt_add(AF_INET6, &a6, %d, %s);\n",
			    a, plen, f->name);
		} else {
			cprog_fmt_in4(a, sizeof(a), r->dst, plen, false);
			cprog_gen.nd.a4 = true;
			cprog_out(b,
			    "\ta4 = %s;\n\trt_add(AF_INET, &a4, %d, %s);\n",
			    a, plen, f->name);
		}
		cprog_out(b, "\twitness_assert_unlocked(\"setup route\");\n");
	}
	cprog_out(b, "\twitness_assert_unlocked(\"setup\");\n");
}
