/*
 * Harness: the kernel-TLS and pacing-user operations.  See
 * interp_ktls.h; the model they drive is core/kern/uipc_ktls.c,
 * core/netinet/tcp_ratelimit.c and core/dev/mlx5/mlx5_en/mlx5_en_hw_tls.c.
 */
#include <stdio.h>

#include "fuzz/interp_ktls.h"
#include "sys/ktls.h"
#include "netinet/tcp_ratelimit.h"

static int
clampi(uint32_t v, int lo, int hi)
{
	if (v < (uint32_t)lo)
		return (lo);
	if (v > (uint32_t)hi)
		return (hi);
	return ((int)v);
}

bool
interp_ktls_args(const Op *op, struct interp_ktls_args *a)
{
	static const char *const vnames[] = { "tls12", "tls13", "tls11" };
	static const int vminor[] = { TLS_MINOR_VER_TWO,
	    TLS_MINOR_VER_THREE, 2 };
	static const char *const anames[] = { "set", "change", "query",
	    "release" };
	uint32_t v;

	memset(a, 0, sizeof(*a));
	switch (op->op_case) {
	case OP__OP_TLS_ENABLE:
		a->name = "tls_enable";
		a->sock = op->tls_enable->sock;
		v = (uint32_t)op->tls_enable->version;
		if (v > 2)
			v = 0;
		a->version = vnames[v];
		a->vminor = vminor[v];
		return (true);
	case OP__OP_TLS_SEND:
		a->name = "tls_send";
		a->sock = op->tls_send->sock;
		a->records = clampi(op->tls_send->records, 1,
		    KTLS_MAX_RECORDS);
		a->size = clampi(op->tls_send->size, 1, KTLS_MAX_RECORD);
		return (true);
	case OP__OP_PACING:
		a->name = "pacing";
		a->sock = op->pacing->sock;
		v = (uint32_t)op->pacing->action;
		a->action = v < TCP_RL_NACTIONS ? (int)v : TCP_RL_SET;
		a->action_name = anames[a->action];
		a->rate = op->pacing->rate;
		return (true);
	default:
		return (false);
	}
}

void
interp_ktls_detail(const struct interp_ktls_args *a, char *buf, size_t size)
{
	if (a->version != NULL)
		snprintf(buf, size, " version=%s", a->version);
	else if (a->records != 0)
		snprintf(buf, size, " records=%d size=%d", a->records,
		    a->size);
	else if (a->action == TCP_RL_QUERY || a->action == TCP_RL_REL)
		snprintf(buf, size, " %s", a->action_name);
	else
		snprintf(buf, size, " %s rate=%u", a->action_name, a->rate);
}

uint32_t
interp_ktls_packets(const struct interp_ktls_args *a)
{
	return (a->records != 0 ? (uint32_t)a->records : 0);
}

int
interp_ktls_run(struct socket *so, const struct interp_ktls_args *a)
{
	if (a->version != NULL)
		return (ktls_enable_tx(so, (uint8_t)a->vminor));
	if (a->records != 0)
		return (ktls_sosend(so, a->records, a->size));
	return (tcp_rl_pacing_user(so, a->action, a->rate));
}
