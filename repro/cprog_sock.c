/*
 * sndtag-cprog: the socket and packet operations (open, close, the
 * socket options and sends, kernel TLS and pacing users, receive): the
 * shadow's socket slots and packet budget, as interp.c keeps them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/interp_ktls.h"
#include "repro/cprog_int.h"

static bool
sock_open(void *arg, uint32_t s)
{
	return (cprog_gen.socks[s].live);
}

/* The slot the interpreter resolved the reference to; -1: none. */
static int
sock_get(uint32_t ref)
{
	return (interp_sock_resolve(ref, cprog_gen.lim.max_sockets, sock_open,
	    NULL));
}

static bool
packet_budget(uint32_t n)
{
	uint32_t old = cprog_gen.packets;

	cprog_gen.packets += n;
	return (old + n <= cprog_gen.lim.max_packets && old + n >= old);
}

static uint32_t
clamp_size(uint32_t size)
{
	return (size < cprog_gen.lim.max_send_size ? size :
	    cprog_gen.lim.max_send_size);
}

/* "sin4(&sa, in4(198, 18, d, 1), 5000 + d)" for a destination. */
static void
fmt_sockaddr(char *buf, size_t len, int af, uint32_t d)
{
	char a[96];

	cprog_gen.nd.sa = true;
	if (af == AF__V6) {
		cprog_fmt_in6(a, sizeof(a), d, 128, false);
		cprog_gen.nd.sin6 = true;
		snprintf(buf, len, "sin6(&sa, %s, %u)", a,
		    5000 + d % INTERP_NDST);
	} else {
		cprog_fmt_in4(a, sizeof(a), d, 32, false);
		cprog_gen.nd.sin4 = true;
		snprintf(buf, len, "sin4(&sa, %s, %u)", a,
		    5000 + d % INTERP_NDST);
	}
}

static const char *
so_var(int s)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "so%d", s);
	cprog_gen.socks[s].used = true;
	return (buf);
}

void
cprog_op_open(struct opctx *c, const SockOpen *o)
{
	bool udp = o->proto == L4__UDP;
	char sa[160];
	uint32_t s;

	cprog_tx(c, "open %s %s", interp_af_name(o->af), udp ? "udp" : "tcp");
	if (o->has_dst)
		cprog_tx(c, " dst=%u", o->dst % INTERP_NDST);
	for (s = 0; s < cprog_gen.lim.max_sockets; s++)
		if (!cprog_gen.socks[s].live)
			break;
	if (s == cprog_gen.lim.max_sockets) {
		c->skip = "no free slot";
		return;
	}
	cprog_tx(c, " sock=%u", s);
	if (o->has_dst)
		fmt_sockaddr(sa, sizeof(sa), o->af, o->dst);
	if (c->tres != NULL && strcmp(c->tres, "0") != 0) {
		/*
		 * The open failed.  On a fresh socket with one of the
		 * scenario's destinations soconnect cannot fail, so it was
		 * socreate: the slot stays free (the trace of every later
		 * op checks this).
		 */
		cprog_cx(c, "%ssocreate(%s, &%s, %s, %s)%s",
		    o->has_dst ? "if (" : "",
		    o->af == AF__V6 ? "AF_INET6" : "AF_INET", so_var(s),
		    udp ? "SOCK_DGRAM" : "SOCK_STREAM",
		    udp ? "IPPROTO_UDP" : "IPPROTO_TCP",
		    o->has_dst ? " == 0)" : ";");
		if (o->has_dst)
			cprog_cx(c, "\tsoconnect(%s, %s);", so_var(s), sa);
		return;
	}
	cprog_cx(c, "socreate(%s, &%s, %s, %s);",
	    o->af == AF__V6 ? "AF_INET6" : "AF_INET", so_var(s),
	    udp ? "SOCK_DGRAM" : "SOCK_STREAM",
	    udp ? "IPPROTO_UDP" : "IPPROTO_TCP");
	if (o->has_dst)
		cprog_cx(c, "soconnect(%s, %s);", so_var(s), sa);
	cprog_gen.socks[s].live = true;
	cprog_gen.socks[s].af = o->af;
}

void
cprog_op_close(struct opctx *c, const Close *o)
{
	int s = sock_get(o->sock);

	if (s < 0) {
		cprog_tx(c, "close");
		c->skip = "no socket";
		return;
	}
	cprog_tx(c, "close sock=%d", s);
	cprog_cx(c, "soclose(%s);", so_var(s));
	cprog_gen.socks[s].live = false;
}

static const char *const rl_action_name[] = { "TCP_RL_SET", "TCP_RL_CHG",
    "TCP_RL_QUERY", "TCP_RL_REL" };

void
cprog_op_sock(struct opctx *c, const Op *op)
{
	struct interp_ktls_args ka;
	char kbuf[64];
	const char *name, *so;
	uint32_t ref, size;
	char sa[160];
	int s;

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
		/* Kernel TLS and pacing users: fuzz/interp_ktls.c. */
		(void)interp_ktls_args(op, &ka);
		name = ka.name;
		ref = ka.sock;
		break;
	}
	cprog_tx(c, "%s", name);
	s = sock_get(ref);
	if (s < 0) {
		c->skip = "no socket";
		return;
	}
	cprog_tx(c, " sock=%d", s);
	so = so_var(s);
	switch (op->op_case) {
	case OP__OP_CONNECT:
		cprog_tx(c, " dst=%u", op->connect->dst % INTERP_NDST);
		/* The socket's own family picks the address. */
		fmt_sockaddr(sa, sizeof(sa), cprog_gen.socks[s].af,
		    op->connect->dst);
		cprog_cx(c, "soconnect(%s, %s);", so, sa);
		break;
	case OP__OP_SET_RATE:
		cprog_tx(c, " rate=%u", op->set_rate->rate);
		cprog_cx(c, "sosetopt_max_pacing_rate(%s, %u);", so,
		    op->set_rate->rate);
		break;
	case OP__OP_FLOWTYPE_NONE:
		cprog_gen.nd.inp = true;
		cprog_cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cprog_cx(c, "\tINP_WLOCK(inp);");
		cprog_cx(c, "\tinp->inp_flowtype = M_HASHTYPE_NONE;");
		cprog_cx(c, "\tif (!in_pcbrele_wlocked(inp))");
		cprog_cx(c, "\t\tINP_WUNLOCK(inp);");
		cprog_cx(c, "}");
		break;
	case OP__OP_SEND:
		size = clamp_size(op->send->size);
		cprog_tx(c, " size=%u", size);
		if (!packet_budget(interp_send_packets(size))) {
			c->skip = "packet budget";
			break;
		}
		cprog_cx(c, "sosend(%s, %u, 0);", so, size);
		/* The model's accounting, as the interpreter traces it. */
		cprog_gen.nd.tx = true;
		cprog_cx(c, "tx_report(%d, %s);", s, so);
		break;
	case OP__OP_TCPDROP:
		cprog_cx(c, "tcp_drop_socket(%s);", so);
		break;
	case OP__OP_TAG_MODIFY:
		cprog_tx(c, " rate=%u", op->tag_modify->rate);
		cprog_gen.nd.inp = true;
		cprog_cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cprog_cx(c, "\tINP_WLOCK(inp);");
		cprog_cx(c, "\tin_pcbmodify_txrtlmt(inp, %u);",
		    op->tag_modify->rate);
		cprog_cx(c, "\tif (!in_pcbrele_wlocked(inp))");
		cprog_cx(c, "\t\tINP_WUNLOCK(inp);");
		cprog_cx(c, "}");
		break;
	case OP__OP_TLS_ENABLE:
	case OP__OP_TLS_SEND:
	case OP__OP_PACING:
		interp_ktls_detail(&ka, kbuf, sizeof(kbuf));
		cprog_tx(c, "%s", kbuf);
		if (!packet_budget(interp_ktls_packets(&ka))) {
			c->skip = "packet budget";
			break;
		}
		if (ka.version != NULL)
			cprog_cx(c, "ktls_enable_tx(%s, %d);\t/* %s */", so,
			    ka.vminor, ka.version);
		else if (ka.records != 0)
			cprog_cx(c, "ktls_sosend(%s, %d, %d);", so, ka.records,
			    ka.size);
		else
			cprog_cx(c, "tcp_rl_pacing_user(%s, %s, %u);", so,
			    rl_action_name[ka.action], ka.rate);
		break;
	default:
		cprog_gen.nd.inp = cprog_gen.nd.rate = true;
		cprog_cx(c, "if (sopcbref(%s, &inp) == 0) {", so);
		cprog_cx(c, "\tINP_RLOCK(inp);");
		cprog_cx(c, "\tif (in_pcbquery_txrtlmt(inp, &rate) == 0)");
		cprog_cx(c, "\t\tin_pcbquerylevel_txrtlmt(inp, &level);");
		cprog_cx(c, "\tif (!in_pcbrele_rlocked(inp))");
		cprog_cx(c, "\t\tINP_RUNLOCK(inp);");
		cprog_cx(c, "}");
		break;
	}
}

void
cprog_op_receive(struct opctx *c, const Receive *o)
{
	uint32_t size = interp_receive_size(o, &cprog_gen.lim);
	bool tcp = o->proto == L4__TCP;
	struct sh_iface *f;
	char s4[96], d4[96];

	cprog_tx(c, "receive %s dst=%u size=%u %s", interp_af_name(o->af),
	    o->dst % INTERP_NDST, size, tcp ? "tcp" : "udp");
	f = cprog_iface_any(o->iface);
	if (f == NULL || f->state != ST_LIVE) {
		c->skip = f == NULL ? "no iface" : "detached";
		return;
	}
	cprog_tx(c, " iface=%s", f->name);
	/* Only the model knows if_input; an untraced op is taken to run. */
	if (f->kind != IK_NIC && cprog_traced_skip(c, "no input"))
		return;
	if (!packet_budget(1)) {
		c->skip = "packet budget";
		return;
	}
	cprog_gen.nd.m = true;
	if (o->af == AF__V6) {
		cprog_fmt_in6(s4, sizeof(s4), 0, 128, true);
		cprog_fmt_in6(d4, sizeof(d4), o->dst, 128, false);
		cprog_gen.nd.a6 = cprog_gen.nd.b6 = true;
		cprog_cx(c, "a6 = %s;", s4);
		cprog_cx(c, "b6 = %s;", d4);
		cprog_cx(c, "m = packet_build_ip6(&a6, &b6, %s, %u, M_NOWAIT);",
		    tcp ? "IPPROTO_TCP" : "IPPROTO_UDP", size);
	} else {
		cprog_fmt_in4(s4, sizeof(s4), 0, 32, true);
		cprog_fmt_in4(d4, sizeof(d4), o->dst, 32, false);
		cprog_cx(c, "m = packet_build_ip4(%s, %s,", s4, d4);
		cprog_cx(c, "    %s, %u, M_NOWAIT);",
		    tcp ? "IPPROTO_TCP" : "IPPROTO_UDP", size);
	}
	if (f->kind == IK_NIC) {
		cprog_cx(c, "if (m != NULL)");
		cprog_cx(c, "\tnic_rx(%s, m);", f->name);
	} else {
		/* What a driver's receive interrupt does. */
		cprog_gen.nd.et = true;
		cprog_cx(c, "if (m != NULL) {");
		cprog_cx(c, "\tNET_EPOCH_ENTER(et);");
		cprog_cx(c, "\tm->m_pkthdr.rcvif = %s;", f->name);
		cprog_cx(c, "\t%s->if_input(%s, m);", f->name, f->name);
		cprog_cx(c, "\tNET_EPOCH_EXIT(et);");
		cprog_cx(c, "}");
	}
}
