/*
 * sndtag-cprog: one operation, resolved by the shadow and checked
 * against the interpreter's trace line for it (cprog_emit_op), and the
 * operations on interfaces, routes and the model's own work queues;
 * the socket and packet operations are in cprog_sock.c.
 */
#ifndef _GNU_SOURCE
#define	_GNU_SOURCE	/* open_memstream */
#endif
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "repro/cprog_int.h"

#include "shim/malloc.h"

/* As fuzz/interp.c: types defined in model files only, weak. */
extern struct malloc_type M_VLAN[1] __attribute__((weak));
extern struct malloc_type M_LAGG[1] __attribute__((weak));
extern struct malloc_type M_NIC[1] __attribute__((weak));
extern struct malloc_type M_CXGBE[1] __attribute__((weak));
extern struct malloc_type M_MLX5EN[1] __attribute__((weak));
extern struct malloc_type M_RTABLE[1] __attribute__((weak));
extern struct malloc_type M_EPAIR[1] __attribute__((weak));

void
cprog_tx(struct opctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->tlen >= sizeof(c->text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->text + c->tlen, sizeof(c->text) - c->tlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->tlen = c->tlen + (size_t)n < sizeof(c->text) ?
		    c->tlen + (size_t)n : sizeof(c->text) - 1;
}

/* One line of the op's code, indented one tab. */
void
cprog_cx(struct opctx *c, const char *fmt, ...)
{
	va_list ap;

	fputc('\t', c->code);
	va_start(ap, fmt);
	vfprintf(c->code, fmt, ap);
	va_end(ap);
	fputc('\n', c->code);
	c->core = true;
}

/* The interpreter skipped this op for 'why' (known only from its trace). */
bool
cprog_traced_skip(struct opctx *c, const char *why)
{
	char want[96];

	if (c->tres == NULL)
		return (false);
	snprintf(want, sizeof(want), "skip (%s)", why);
	if (strcmp(c->tres, want) != 0)
		return (false);
	c->skip = why;
	return (true);
}

struct sh_iface *
cprog_iface_any(uint32_t ref)
{
	if (cprog_gen.n_ifaces == 0)
		return (NULL);
	return (&cprog_gen.ifaces[ref % (uint32_t)cprog_gen.n_ifaces]);
}

static struct sh_iface *
iface_kind(int kind, uint32_t ref)
{
	uint32_t k;
	int i;

	if (cprog_gen.n_kind[kind] == 0)
		return (NULL);
	k = ref % (uint32_t)cprog_gen.n_kind[kind];
	for (i = 0; i < cprog_gen.n_ifaces; i++)
		if (cprog_gen.ifaces[i].kind == kind &&
		    cprog_gen.ifaces[i].kind_index == (int)k)
			return (&cprog_gen.ifaces[i]);
	return (NULL);
}

static struct sh_iface *
op_iface_kind(struct opctx *c, int kind, uint32_t ref)
{
	struct sh_iface *f = iface_kind(kind, ref);

	if (f == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	cprog_tx(c, " %s", f->name);
	if (f->state != ST_LIVE) {
		c->skip = "detached";
		return (NULL);
	}
	return (f);
}

static struct sh_iface *
op_iface_any(struct opctx *c, const char *what, uint32_t ref)
{
	struct sh_iface *f = cprog_iface_any(ref);

	if (f == NULL) {
		c->skip = "no iface";
		return (NULL);
	}
	cprog_tx(c, " %s=%s", what, f->name);
	if (f->state != ST_LIVE) {
		c->skip = "detached";
		return (NULL);
	}
	return (f);
}

static void
op_route(struct opctx *c, int which, const Route *r)
{
	static const char *const names[] = { "route_add", "route_change",
	    "route_delete" };
	struct sh_iface *f = NULL;
	int plen = interp_plen(r->af, (int)r->prefix);
	char a[96];

	cprog_tx(c, "%s %s dst=%u %s", names[which], interp_af_name(r->af),
	    r->dst % INTERP_NDST, interp_prefix_name((int)r->prefix));
	if (which != 2) {
		f = op_iface_any(c, "iface", r->iface);
		if (f == NULL)
			return;
	}
	if (r->af == AF__V6) {
		cprog_fmt_in6(a, sizeof(a), r->dst, plen, false);
		cprog_gen.nd.a6 = true;
		cprog_cx(c, "a6 = %s;", a);
	} else {
		cprog_fmt_in4(a, sizeof(a), r->dst, plen, false);
		cprog_gen.nd.a4 = true;
		cprog_cx(c, "a4 = %s;", a);
	}
	if (which == 2)
		cprog_cx(c, "rt_delete(%s, &%s, %d);", r->af == AF__V6 ?
		    "AF_INET6" : "AF_INET", r->af == AF__V6 ? "a6" : "a4",
		    plen);
	else
		cprog_cx(c, "%s(%s, &%s, %d, %s);", which == 0 ? "rt_add" :
		    "rt_change", r->af == AF__V6 ? "AF_INET6" : "AF_INET",
		    r->af == AF__V6 ? "a6" : "a4", plen, f->name);
}

/* "INT_MAX" for 0 (everything), else the count. */
static const char *
count_arg(uint32_t n)
{
	static char buf[16];

	if (n == 0 || n > INT_MAX)
		return ("INT_MAX");
	snprintf(buf, sizeof(buf), "%u", n);
	return (buf);
}

/* Would making p the parent of vlan v close a loop (best effort)? */
static bool
vlan_would_loop(const struct sh_iface *v, const struct sh_iface *p)
{
	int idx = (int)(p - cprog_gen.ifaces), depth;

	for (depth = 0; depth < INTERP_MAX_IFACES && idx >= 0; depth++) {
		if (&cprog_gen.ifaces[idx] == v)
			return (true);
		if (cprog_gen.ifaces[idx].kind != IK_VLAN ||
		    cprog_gen.ifaces[idx].state != ST_LIVE)
			return (false);
		idx = cprog_gen.ifaces[idx].parent;
	}
	return (idx >= 0);
}

static void
detach_shadow(struct sh_iface *f)
{
	int i, me = (int)(f - cprog_gen.ifaces);

	f->state = ST_DEAD;
	if (f->peer >= 0)
		cprog_gen.ifaces[f->peer].state = ST_DEAD;
	for (i = 0; i < cprog_gen.n_ifaces; i++)
		if (cprog_gen.ifaces[i].kind == IK_VLAN &&
		    (cprog_gen.ifaces[i].parent == me ||
		    (f->peer >= 0 && cprog_gen.ifaces[i].parent == f->peer)))
			cprog_gen.ifaces[i].parent = -1;
}

/* The C name of a FailAlloc type; NULL for "any"; "" if not built. */
static const char *
malloc_kind_sym(int k)
{
	switch (k) {
	case MALLOC_KIND__MT_MBUF:
		return ("M_MBUF");
	case MALLOC_KIND__MT_CLUSTER:
		return ("M_MBUF_CLUSTER");
	case MALLOC_KIND__MT_SOCKET:
		return ("M_SOCKET");
	case MALLOC_KIND__MT_PCB:
		return ("M_PCB");
	case MALLOC_KIND__MT_IFNET:
		return ("M_IFNET");
	case MALLOC_KIND__MT_VLAN:
		return (M_VLAN != NULL ? "M_VLAN" : "");
	case MALLOC_KIND__MT_LAGG:
		return (M_LAGG != NULL ? "M_LAGG" : "");
	case MALLOC_KIND__MT_NIC:
		cprog_gen.nd.m_nic = M_NIC != NULL;
		return (M_NIC != NULL ? "M_NIC" : "");
	case MALLOC_KIND__MT_CXGBE:
		cprog_gen.nd.m_cxgbe = M_CXGBE != NULL;
		return (M_CXGBE != NULL ? "M_CXGBE" : "");
	case MALLOC_KIND__MT_MLX5:
		return (M_MLX5EN != NULL ? "M_MLX5EN" : "");
	case MALLOC_KIND__MT_ROUTE:
		cprog_gen.nd.m_rtable = M_RTABLE != NULL;
		return (M_RTABLE != NULL ? "M_RTABLE" : "");
	case MALLOC_KIND__MT_DEVBUF:
		return ("M_DEVBUF");
	case MALLOC_KIND__MT_TEMP:
		return ("M_TEMP");
	case MALLOC_KIND__MT_EPAIR:
		cprog_gen.nd.m_epair = M_EPAIR != NULL;
		return (M_EPAIR != NULL ? "M_EPAIR" : "");
	default:
		return (NULL);
	}
}

static void
op_other(struct opctx *c, const Op *op)
{
	struct sh_iface *f, *p;
	uint32_t n;

	switch (op->op_case) {
	case OP__OP_EPAIR_DELIVER:
		n = op->epair_deliver->count;
		cprog_tx(c, "epair_deliver count=%u", n);
		cprog_cx(c, "epair_deliver(%s);", count_arg(n));
		break;
	case OP__OP_ROUTE_ADD:
		op_route(c, 0, op->route_add);
		break;
	case OP__OP_ROUTE_CHANGE:
		op_route(c, 1, op->route_change);
		break;
	case OP__OP_ROUTE_DELETE:
		op_route(c, 2, op->route_delete);
		break;
	case OP__OP_VLAN_REPARENT: {
		const VlanReparent *v = op->vlan_reparent;

		cprog_tx(c, "vlan_reparent");
		f = op_iface_kind(c, IK_VLAN, v->vlan);
		if (f == NULL)
			break;
		if (!v->has_parent) {
			cprog_tx(c, " parent=none");
			cprog_cx(c, "vlan_setparent(%s, NULL);", f->name);
			if (c->tres == NULL || strcmp(c->tres, "0") == 0)
				f->parent = -1;
			break;
		}
		p = op_iface_any(c, "parent", v->parent);
		if (p == NULL)
			break;
		if (p == f || (c->tres != NULL ? cprog_traced_skip(c, "loop") :
		    vlan_would_loop(f, p))) {
			c->skip = "loop";
			break;
		}
		cprog_cx(c, "vlan_setparent(%s, %s);", f->name, p->name);
		if (c->tres == NULL || strcmp(c->tres, "0") == 0)
			f->parent = (int)(p - cprog_gen.ifaces);
		break;
	}
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE: {
		bool add = op->op_case == OP__OP_LAGG_PORT_ADD;
		const LaggPort *l = add ? op->lagg_port_add :
		    op->lagg_port_remove;

		cprog_tx(c, "%s", add ? "lagg_port_add" : "lagg_port_remove");
		f = op_iface_kind(c, IK_LAGG, l->lagg);
		if (f == NULL)
			break;
		p = op_iface_any(c, "port", l->port);
		if (p == NULL)
			break;
		if (p->kind == IK_VLAN || p->kind == IK_LAGG) {
			c->skip = "not a port kind";
			break;
		}
		cprog_cx(c, "%s(%s, %s);", add ? "lagg_port_create" :
		    "lagg_port_destroy", f->name, p->name);
		break;
	}
	case OP__OP_LINK:
		cprog_tx(c, "link %s", op->link->up ? "up" : "down");
		f = op_iface_any(c, "iface", op->link->iface);
		if (f == NULL)
			break;
		cprog_cx(c, "if_link_state_change(%s, %s);", f->name,
		    op->link->up ? "LINK_STATE_UP" : "LINK_STATE_DOWN");
		break;
	case OP__OP_LAGG_PROTO:
		cprog_tx(c, "lagg_proto proto=%s",
		    interp_lagg_proto_name(op->lagg_proto->proto));
		f = op_iface_kind(c, IK_LAGG, op->lagg_proto->lagg);
		if (f == NULL)
			break;
		cprog_cx(c, "lagg_set_proto(%s, %s);", f->name,
		    cprog_lagg_proto_sym(op->lagg_proto->proto));
		break;
	case OP__OP_LAGG_OPTS:
		cprog_tx(c, "lagg_opts use_flowid=%d",
		    op->lagg_opts->use_flowid ? 1 : 0);
		f = op_iface_kind(c, IK_LAGG, op->lagg_opts->lagg);
		if (f == NULL)
			break;
		cprog_cx(c, "lagg_set_opts(%s, %sLAGG_OPT_USE_FLOWID);",
		    f->name, op->lagg_opts->use_flowid ? "" : "-");
		break;
	case OP__OP_IFCAP:
		cprog_tx(c, "ifcap txrtlmt=%s",
		    op->ifcap->txrtlmt ? "on" : "off");
		f = op_iface_any(c, "iface", op->ifcap->iface);
		if (f == NULL)
			break;
		cprog_cx(c, "ifconfig_setcap(%s, IFCAP_TXRTLMT, %s);", f->name,
		    op->ifcap->txrtlmt ? "true" : "false");
		break;
	case OP__OP_DETACH:
		cprog_tx(c, "detach");
		f = op_iface_any(c, "iface", op->detach->iface);
		if (f == NULL)
			break;
		/*
		 * The interpreter keeps the world's entry and its teardown
		 * hook skips a detached interface; forgetting the entry
		 * gives the same calls at teardown.
		 */
		if (f->kind == IK_EPAIR)
			cprog_cx(c, "world_forget_ifnet(%s);", cprog_gen.ifaces[
			    f->peer > (int)(f - cprog_gen.ifaces) ? f->peer :
			    (int)(f - cprog_gen.ifaces)].name);
		else
			cprog_cx(c, "world_forget_ifnet(%s);", f->name);
		cprog_cx(c, "%s(%s);", cprog_detach_fn(f->kind), f->name);
		detach_shadow(f);
		break;
	case OP__OP_NIC_TXEOF:
		n = op->nic_txeof->count;
		cprog_tx(c, "nic_txeof count=%u", n);
		f = op_iface_kind(c, IK_NIC, op->nic_txeof->nic);
		if (f == NULL)
			break;
		cprog_cx(c, "nic_txeof(%s, %s);", f->name, count_arg(n));
		break;
	case OP__OP_MLX5_COMPLETE:
		n = op->mlx5_complete->count;
		cprog_tx(c, "mlx5_complete count=%u", n);
		f = op_iface_kind(c, IK_MLX5, op->mlx5_complete->mlx5);
		if (f == NULL)
			break;
		cprog_cx(c, "mlx5e_tx_complete(%s, %s);", f->name,
		    count_arg(n));
		break;
	case OP__OP_CXGBE_ACK: {
		const CxgbeAck *a = op->cxgbe_ack;

		cprog_tx(c, "cxgbe_ack credits=%u", a->credits);
		f = op_iface_kind(c, IK_CXGBE, a->cxgbe);
		if (f == NULL)
			break;
		if (cprog_traced_skip(c, "no flow"))
			break;
		/* The n-th etid in use is the model's state: look it up. */
		cprog_gen.nd.k = true;
		cprog_cx(c, "k = cxgbe_etids_in_use(%s);", f->name);
		cprog_cx(c,
		    "if (k > 0 && (etid = cxgbe_etid_nth(%s, %u %% k)) >= 0)",
		    f->name, a->flow);
		cprog_cx(c, "\tcxgbe_fw4_ack(%s, etid, %u);", f->name,
		    a->credits > INT_MAX ? INT_MAX : a->credits);
		break;
	}
	case OP__OP_MLX5_WORKER:
		cprog_tx(c, "mlx5_worker");
		f = op_iface_kind(c, IK_MLX5, op->mlx5_worker->mlx5);
		if (f == NULL)
			break;
		n = op->mlx5_worker->worker % (uint32_t)f->n_workers;
		cprog_tx(c, " worker=%u", n);
		cprog_cx(c, "mlx5e_rl_worker_run(%s, %u);", f->name, n);
		break;
	case OP__OP_TASKQUEUE:
		n = interp_taskqueue_rounds(op->taskqueue);
		cprog_tx(c, "taskqueue rounds=%u", n);
		if (n == 1)
			cprog_cx(c, "taskqueue_run_all();");
		else {
			cprog_gen.nd.i = true;
			cprog_cx(c, "for (i = 0; i < %u; i++)", n);
			cprog_cx(c, "\ttaskqueue_run_all();");
		}
		break;
	case OP__OP_EPOCH:
		cprog_tx(c, "epoch");
		cprog_cx(c, "epoch_drain_callbacks();");
		break;
	case OP__OP_DELIVER_ALL:
		cprog_tx(c, "deliver_all");
		cprog_cx(c, "world_progress_all();");
		break;
	case OP__OP_FAIL_ALLOC: {
		const FailAlloc *fa = op->fail_alloc;
		const char *sym;

		cprog_tx(c, "fail_alloc nth=%u type=%s", fa->nth,
		    interp_malloc_kind_name((int)fa->type));
		if (fa->nth == 0) {
			cprog_cx(c, "malloc_fail_disarm();");
			break;
		}
		sym = malloc_kind_sym((int)fa->type);
		if (sym != NULL && sym[0] == '\0') {
			c->skip = "type not in this build";
			break;
		}
		cprog_cx(c, "malloc_fail_arm(%u, %s);", fa->nth,
		    sym != NULL ? sym : "NULL");
		break;
	}
	default:
		cprog_tx(c, "nop");
		break;
	}
}

/* interp.c's op_name() without the "op " (the schema's field name). */
static const char *
op_name(const Op *op)
{
	const ProtobufCFieldDescriptor *fd;

	if (op->op_case == OP__OP__NOT_SET)
		return ("nop");
	fd = protobuf_c_message_descriptor_get_field(&op__descriptor,
	    (unsigned)op->op_case);
	return (fd != NULL ? fd->name : "nop");
}

void
cprog_emit_op(FILE *b, uint32_t i, bool *any_fail_alloc)
{
	const Op *op = cprog_gen.sc->ops[i];
	struct opctx c;
	const char *line = cprog_gen.opline[i], *res;
	char head[320], nm[64];
	size_t tl;

	memset(&c, 0, sizeof(c));
	c.i = i;
	c.code = open_memstream(&c.codebuf, &c.codelen);
	if (c.code == NULL)
		cprog_fatal("out of memory");
	res = line != NULL ? cprog_result_of(line) : NULL;
	c.tres = res;
	if (op->op_case == OP__OP_FAIL_ALLOC)
		*any_fail_alloc = true;
	switch (op->op_case) {
	case OP__OP_OPEN:
		cprog_op_open(&c, op->open);
		break;
	case OP__OP_CLOSE:
		cprog_op_close(&c, op->close);
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
		cprog_op_sock(&c, op);
		break;
	case OP__OP_RECEIVE:
		cprog_op_receive(&c, op->receive);
		break;
	default:
		op_other(&c, op);
		break;
	}
	fclose(c.code);
	/* Check the shadow against the interpreter's own line. */
	if (line != NULL) {
		tl = (size_t)(res - line) >= 4 ? (size_t)(res - line) - 4 :
		    strlen(line);
		if (tl < c.tlen || strncmp(line, c.text, c.tlen) != 0)
			cprog_fatal("%s: op #%u: the interpreter traced '%s', "
			    "the generator resolved '%s'; cannot mirror it",
			    cprog_gen.path, i, line, c.text);
		if (c.skip != NULL) {
			char want[96];

			snprintf(want, sizeof(want), "skip (%s)", c.skip);
			if (strcmp(res, want) != 0)
				cprog_fatal("%s: op #%u: the interpreter "
				    "traced '%s', the generator expected a "
				    "skip (%s); cannot mirror it",
				    cprog_gen.path, i, line, c.skip);
		} else if (cprog_starts_with(res, "skip"))
			cprog_fatal("%s: op #%u: the interpreter traced '%s', "
			    "the generator expected a call; cannot mirror it",
			    cprog_gen.path, i, line);
	}
	cprog_out(b, "\n");
	if (line != NULL)
		snprintf(head, sizeof(head), "#%u t%u %s", i,
		    cprog_gen.op_thread[i], line);
	else
		snprintf(head, sizeof(head), "#%u t%u %s%s%s (%s)", i,
		    cprog_gen.op_thread[i], c.text,
		    c.skip != NULL ? " -> skip " : "",
		    c.skip != NULL ? c.skip : "",
		    (long)i == cprog_gen.crash_op ?
		    "the run ends in this operation on this core" :
		    "not reached on this core; resolved without a trace");
	cprog_comment(b, "\t", head);
	if (c.skip == NULL && c.codelen > 0) {
		fwrite(c.codebuf, 1, c.codelen, b);
		snprintf(nm, sizeof(nm), "op %s", op_name(op));
		if (c.core)
			cprog_out(b, "\twitness_assert_unlocked(\"%s\");\n",
			    nm);
	}
	(free)(c.codebuf);
}
