/*
 * Socket-result expectations: an op's errno follows from the socket's
 * state before it (interp_expect.h; docs/INVARIANTS.md, "Behaviour").
 *
 * send result  (uipc_socket.c sosend, uipc_ktls.c ktls_sosend,
 *	udp_usrreq.c udp_output; FreeBSD sosend_generic): a socket that is
 *	not connected sends nothing (a stream socket fails with ENOTCONN,
 *	or ECONNRESET once dropped; a datagram socket without an address
 *	with EDESTADDRREQ).  A connected one never fails with the
 *	not-connected errno of its type.
 * tcpdrop  (tcp_usrreq.c tcp_drop_socket; FreeBSD tcp_subr.c
 *	sysctl_drop, which looks connections up in the pcb hash): it finds
 *	exactly the live TCP connections.  On one it returns 0 and leaves
 *	it dropped; on any other socket it returns ESRCH and changes
 *	nothing.
 */
#include <errno.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp_expect.h"
#include "fuzz/interp_expect_int.h"
#include "netinet/in_pcb.h"
#include "sys/socketvar.h"
#include "shim/systm.h"

struct sock_state {
	struct socket	*so;		/* NULL: no pcb, nothing to say */
	bool		 stream;
	bool		 tcp;
	bool		 connected;	/* SS_ISCONNECTED */
	bool		 dropped;	/* INP_DROPPED, or the socket gone */
};

static struct sock_state sstate[EXPECT_MAX_SOCKS];

static void
sock_read(struct socket *so, struct sock_state *st)
{
	struct inpcb *inp = so->so_pcb;

	memset(st, 0, sizeof(*st));
	if (inp == NULL || so->so_closed)
		return;		/* EBADF before any rule applies */
	st->so = so;
	st->stream = so->so_type == SOCK_STREAM;
	st->tcp = inp->inp_proto == IPPROTO_TCP;
	st->connected = (so->so_state & SS_ISCONNECTED) != 0;
	st->dropped = (inp->inp_flags & INP_DROPPED) != 0 ||
	    inp->inp_socket == NULL;
}

void
expect_sock_begin(const struct expect_view *v)
{
	int s;

	/* Only these ops are checked; the op's socket is not resolved yet. */
	if (v->op_case != OP__OP_SEND && v->op_case != OP__OP_TLS_SEND &&
	    v->op_case != OP__OP_TCPDROP)
		return;
	for (s = 0; s < v->nso && s < EXPECT_MAX_SOCKS; s++) {
		if (v->so[s] != NULL)
			sock_read(v->so[s], &sstate[s]);
		else
			sstate[s].so = NULL;
	}
}

static void
expect_send_result(const struct expect_view *v, const struct sock_state *b)
{
	int notconn = b->stream ? ENOTCONN : EDESTADDRREQ;

	if (v->op_case == OP__OP_TLS_SEND && !b->stream)
		return;		/* EINVAL: no TLS on datagram sockets */
	if (b->connected && !b->dropped && v->error == notconn)
		panic("send result: refused while connected: sock %d is "
		    "connected and the send failed with %s", v->sock,
		    b->stream ? "ENOTCONN" : "EDESTADDRREQ");
	if (b->connected && !b->dropped)
		return;
	if (expect_wire_local() != 0)
		panic("send result: sent while unconnected: sock %d is %s "
		    "and %d packets left the host", v->sock,
		    b->dropped ? "dropped" : "not connected",
		    expect_wire_local());
	if (b->stream && v->error == 0)
		panic("send result: success while unconnected: sock %d is %s "
		    "and the send returned 0",
		    v->sock, b->dropped ? "dropped" : "not connected");
}

static void
expect_tcpdrop(const struct expect_view *v, const struct sock_state *b)
{
	struct sock_state a;
	bool live;

	live = b->tcp && b->connected && !b->dropped;
	sock_read(v->so[v->sock], &a);
	if (live && v->error != 0)
		panic("tcpdrop: live connection not found: sock %d is a live "
		    "TCP connection and tcpdrop failed with error %d", v->sock, v->error);
	if (live && a.so != NULL && (!a.dropped || a.connected))
		panic("tcpdrop: not dropped: sock %d is still %s after "
		    "tcpdrop", v->sock,
		    a.connected ? "connected" : "not dropped");
	if (live)
		return;
	if (v->error != ESRCH)
		panic("tcpdrop: found a dead one: sock %d is not a live TCP "
		    "connection and tcpdrop returned %d, not ESRCH", v->sock, v->error);
	if (a.so != NULL && (a.dropped != b->dropped ||
	    a.connected != b->connected))
		panic("tcpdrop: changed a dead one: sock %d is not a live TCP "
		    "connection and tcpdrop changed it", v->sock);
}

void
expect_sock_end(const struct expect_view *v)
{
	const struct sock_state *b;

	if (v->sock < 0 || v->sock >= v->nso || v->sock >= EXPECT_MAX_SOCKS ||
	    v->error == EXPECT_SKIPPED)
		return;
	b = &sstate[v->sock];
	if (b->so == NULL || v->so[v->sock] != b->so)
		return;
	switch (v->op_case) {
	case OP__OP_SEND:
	case OP__OP_TLS_SEND:
		expect_send_result(v, b);
		break;
	case OP__OP_TCPDROP:
		expect_tcpdrop(v, b);
		break;
	default:
		break;
	}
}
