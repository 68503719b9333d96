/*
 * test_behaviour: the behavioural expectations (fuzz/interp_expect.c,
 * docs/INVARIANTS.md "Behaviour") fire when the behaviour breaks, and
 * stay silent when it does not.
 *
 * Each case runs a scenario through the sequential interpreter, once as
 * is (the positive control: no report, clean ledger) and once with a
 * test-only sabotage (expect_test_sabotage, called after every op) that
 * breaks the behaviour the way a wrong core would: a connection that
 * loses its tag and is never re-evaluated, a rate change that never
 * reaches the driver, an input or output routine that frees packets
 * without counting them.  The wire and socket-result expectations are
 * broken at the ip:::send probe (expect_test_probe: a header as a wrong
 * ip_output would write it) or just before an op (a socket whose state
 * changes under the call).  The core itself is the correct one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/interp_expect.h"
#include "fuzz/pbtext.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "sys/socketvar.h"
#include "net/route.h"
#include "shim/epoch.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/cxgbe/offload.h"
#include "sys/mbuf.h"
#include "tests/testlib.h"

/* Two rate-limit capable nics; the route moves from one to the other. */
static const char pacing_route[] =
    "topology {\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "  routes { af: V6 dst: 0 iface: 0 }\n"
    "}\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { open { af: V6 proto: UDP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 1 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { route_change { af: V4 dst: 0 iface: 1 } }\n"
    "ops { route_change { af: V6 dst: 0 iface: 1 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { send { sock: 0 size: 3000 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { set_rate { sock: 0 rate: 250000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { nic_txeof { nic: 0 } }\n"
    "ops { nic_txeof { nic: 1 } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n";

/* A failover lagg loses its primary: the tag moves to the other port. */
static const char pacing_lagg[] =
    "topology {\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { lagg { proto: FAILOVER use_flowid: true ports: 0 ports: 1 } }\n"
    "  routes { af: V4 dst: 0 iface: 2 }\n"
    "}\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { link { iface: 0 up: false } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { nic_txeof { nic: 0 } }\n"
    "ops { nic_txeof { nic: 1 } }\n"
    "ops { close { sock: 0 } }\n";

/* mlx5 and cxgbe rate changes; the mlx5 worker runs only at the end. */
static const char rate_drivers[] =
    "topology {\n"
    "  ifaces { mlx5 { } }\n"
    "  ifaces { cxgbe { } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "  routes { af: V4 dst: 1 iface: 1 }\n"
    "}\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 1 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 1 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { set_rate { sock: 0 rate: 250000 } }\n"
    "ops { set_rate { sock: 1 rate: 250000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { deliver_all { } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n";

/* mlx5: a paced flow and an unpaced one, both with queued packets. */
static const char queues_mlx5[] =
    "topology {\n"
    "  ifaces { mlx5 { } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "}\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 2 rate: 250000 } }\n"
    "ops { send { sock: 0 size: 500 } }\n"
    "ops { send { sock: 2 size: 500 } }\n"
    "ops { mlx5_worker { mlx5: 0 worker: 0 } }\n"
    "ops { mlx5_worker { mlx5: 0 worker: 1 } }\n"
    "ops { send { sock: 0 size: 500 } }\n"
    "ops { send { sock: 2 size: 500 } }\n"
    "ops { send { sock: 1 size: 500 } }\n"
    "ops { epoch { } }\n"
    "ops { deliver_all { } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n"
    "ops { close { sock: 2 } }\n";

/*
 * cxgbe: two paced flows whose credits run out (packets wait on their
 * tags' pending_tx) and an unpaced one on the plain ring.
 */
static const char queues_cxgbe[] =
    "topology {\n"
    "  ifaces { cxgbe { n_etids: 4 tx_credits: 32 max_backlog: 16 } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "}\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 2 rate: 250000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { send { sock: 1 size: 500 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { cxgbe_ack { cxgbe: 0 flow: 0 credits: 8 } }\n"
    "ops { send { sock: 2 size: 4000 } }\n"
    "ops { deliver_all { } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n"
    "ops { close { sock: 2 } }\n"
    "ops { deliver_all { } }\n";

/* Forwarded, locally delivered, epair and loopback packets. */
static const char delivery[] =
    "topology {\n"
    "  ifaces { epair { } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { loopback { } }\n"
    "  addrs { af: V4 dst: 0 iface: 1 }\n"
    "  addrs { af: V4 dst: 2 iface: 3 }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "  routes { af: V4 dst: 1 iface: 2 }\n"
    "  routes { af: V4 dst: 2 iface: 3 }\n"
    "  forwarding: true\n"
    "}\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 2 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { epair_deliver { } }\n"
    "ops { receive { iface: 1 af: V4 dst: 1 size: 800 } }\n"
    "ops { receive { iface: 1 af: V4 dst: 0 size: 800 } }\n"
    "ops { send { sock: 1 size: 1000 } }\n"
    "ops { nic_txeof { nic: 0 } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n";

/* The same, a received packet first. */
static const char delivery_rx[] =
    "topology {\n"
    "  ifaces { epair { } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  addrs { af: V4 dst: 0 iface: 1 }\n"
    "  routes { af: V4 dst: 1 iface: 2 }\n"
    "  forwarding: true\n"
    "}\n"
    "ops { open { af: V4 proto: UDP dst: 1 } }\n"
    "ops { receive { iface: 1 af: V4 dst: 1 size: 800 } }\n"
    "ops { close { sock: 0 } }\n";

/*
 * IFCAP_TXRTLMT off on a lagg port (the lagg, its other port and the vlan
 * over it follow) while a paced connection sends through the vlan: the
 * tag stays until a rate change makes a send re-evaluate it, which
 * detaches it; back on (on the lagg), the next rate change allocates.
 */
static const char capability[] =
    "topology {\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { lagg { proto: FAILOVER use_flowid: true ports: 0 ports: 1 } }\n"
    "  ifaces { vlan { vid: 5 parent: 2 } }\n"
    "  routes { af: V4 dst: 0 iface: 3 }\n"
    "}\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { ifcap { iface: 0 txrtlmt: false } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { set_rate { sock: 0 rate: 250000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { ifcap { iface: 2 txrtlmt: true } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 1000 } }\n"
    "ops { nic_txeof { nic: 0 } }\n"
    "ops { nic_txeof { nic: 1 } }\n"
    "ops { close { sock: 0 } }\n";

/*
 * The wire and socket results: v4 and v6 datagrams of three fragments,
 * a paced TCP connection that is dropped and sends again, an unconnected
 * TCP socket, tcpdrop on every kind of socket, two forwarded packets.
 */
static const char wire[] =
    "topology {\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  ifaces { nic { txrtlmt: true } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "  routes { af: V6 dst: 0 iface: 0 }\n"
    "  routes { af: V4 dst: 1 iface: 1 }\n"
    "  routes { af: V6 dst: 1 iface: 1 }\n"
    "  forwarding: true\n"
    "}\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { open { af: V6 proto: UDP dst: 0 } }\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { open { af: V4 proto: TCP } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 2 rate: 125000 } }\n"
    "ops { send { sock: 0 size: 4000 } }\n"
    "ops { send { sock: 1 size: 4000 } }\n"
    "ops { send { sock: 2 size: 1000 } }\n"
    "ops { send { sock: 3 size: 100 } }\n"
    "ops { tls_send { sock: 3 records: 1 size: 100 } }\n"
    "ops { tcpdrop { sock: 3 } }\n"
    "ops { tcpdrop { sock: 0 } }\n"
    "ops { tcpdrop { sock: 2 } }\n"
    "ops { send { sock: 2 size: 100 } }\n"
    "ops { tcpdrop { sock: 2 } }\n"
    "ops { receive { iface: 0 af: V4 dst: 1 size: 500 } }\n"
    "ops { receive { iface: 0 af: V6 dst: 1 size: 500 } }\n"
    "ops { nic_txeof { nic: 0 } }\n"
    "ops { nic_txeof { nic: 1 } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n"
    "ops { close { sock: 2 } }\n"
    "ops { close { sock: 3 } }\n";

/* mlx5 with two workers and two channels: a paced and an unpaced flow. */
static const char placement[] =
    "topology {\n"
    "  ifaces { mlx5 { workers: 2 channels_per_worker: 1 tx_channels: 2 } }\n"
    "  routes { af: V4 dst: 0 iface: 0 }\n"
    "}\n"
    "ops { open { af: V4 proto: TCP dst: 0 } }\n"
    "ops { open { af: V4 proto: UDP dst: 0 } }\n"
    "ops { set_rate { sock: 0 rate: 125000 } }\n"
    "ops { set_rate { sock: 1 rate: 4294967295 } }\n"
    "ops { send { sock: 0 size: 500 } }\n"
    "ops { send { sock: 1 size: 500 } }\n"
    "ops { mlx5_worker { mlx5: 0 worker: 0 } }\n"
    "ops { mlx5_worker { mlx5: 0 worker: 1 } }\n"
    "ops { deliver_all { } }\n"
    "ops { close { sock: 0 } }\n"
    "ops { close { sock: 1 } }\n";

enum sabotage {
	SB_NONE,
	SB_PACING,	/* after a route/link change, lose the tag for good */
	SB_RATE,	/* the second rate never reaches the driver */
	SB_RECEIVE,	/* epair side b's input frees silently */
	SB_LOOPBACK,	/* lo's output frees silently and says 0 */
	SB_QUEUE_UNTAGGED, /* an untagged packet moves to a rate-limit queue */
	SB_QUEUE_FLOW,	/* two flows' rate-limit packets swap queues */
	SB_CXGBE_UNTAGGED, /* an untagged packet moves to a flow's etid */
	SB_CXGBE_FLOW,	/* two cxgbe flows' waiting packets swap */
	SB_CAP_KEEP,	/* the re-evaluating send keeps a tag, cap off */
	SB_CAP_ALLOC,	/* a later send allocates one, cap off */
	SB_FRAG_MF,	/* a middle IPv4 fragment without IP_MF */
	SB_FRAG_M6,	/* IPv6 fragments all without "more" */
	SB_FRAG_COUNT,	/* a fragment not counted in ips_ofragments */
	SB_SRC6,	/* an IPv6 packet from :: */
	SB_TTL,		/* a local UDP/IPv4 packet with TTL 0 */
	SB_NODEC,	/* a forwarded packet keeps the TTL it came with */
	SB_FORWARD,	/* a forwarded packet counted tagged */
	SB_OPACKETS,	/* a nic accepts a packet and does not count it */
	SB_SEND_CONN,	/* a connected socket's send says ENOTCONN */
	SB_TCPDROP,	/* tcpdrop does not find a live connection */
	SB_PLACEMENT,	/* a new tag is not where the flow's hash puts it */
};

static enum sabotage sabotage;
static bool changed_seen;
static int cap_sends;	/* sends since a rate change with the cap off */

static void
sink_input(struct ifnet *ifp, struct mbuf *m)
{
	(void)ifp;
	m_freem(m);
}

static int
sink_output(struct ifnet *ifp, struct mbuf *m, const struct sockaddr *dst,
    struct route *ro)
{
	(void)ifp; (void)dst; (void)ro;
	m_freem(m);
	return (0);
}

static struct inpcb *
view_inp(const struct expect_view *v)
{
	if (v->sock < 0 || v->sock >= v->nso || v->so[v->sock] == NULL)
		return (NULL);
	return (v->so[v->sock]->so_pcb);
}

static struct mlx5e_sq *
busy_sq(struct mlx5e_priv *priv, bool rl, int skip)
{
	struct mlx5e_sq *sq;
	int j, n;

	if (!rl) {
		/* A normal queue whose last packet is untagged. */
		for (j = 0; j < priv->params.n_channels; j++) {
			sq = &priv->channels[j].sq;
			if (sq->count > 0 && (sq->ring[(sq->head + sq->count -
			    1) % sq->size]->m_pkthdr.csum_flags &
			    CSUM_SND_TAG) == 0)
				return (sq);
		}
		return (NULL);
	}
	n = priv->params.n_workers * priv->params.channels_per_worker;
	for (j = 0; j < n; j++) {
		sq = &priv->rl_workers[j / priv->params.channels_per_worker].
		    channels[j % priv->params.channels_per_worker].sq;
		if (sq->count > 0 && skip-- == 0)
			return (sq);
	}
	return (NULL);
}

/* What a driver that ignores the tag when it picks a queue does. */
static void
sabotage_queue(const struct expect_view *v)
{
	struct mlx5e_priv *priv = v->ifp[0]->if_softc;
	struct mlx5e_sq *a, *b;
	struct mbuf *m;
	int ia, ib;

	a = busy_sq(priv, sabotage == SB_QUEUE_FLOW, 0);
	b = busy_sq(priv, true, sabotage == SB_QUEUE_FLOW ? 1 : 0);
	if (a == NULL || b == NULL || a == b || !b->running)
		return;
	ia = (a->head + a->count - 1) % a->size;
	if (sabotage == SB_QUEUE_FLOW) {
		ib = (b->head + b->count - 1) % b->size;
		m = a->ring[ia];
		a->ring[ia] = b->ring[ib];
		b->ring[ib] = m;
		return;
	}
	if (b->count == b->size ||
	    (a->ring[ia]->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0)
		return;
	m = a->ring[ia];
	a->ring[ia] = NULL;
	a->count--;
	b->ring[(b->head + b->count) % b->size] = m;
	b->count++;
}

/* The i-th cxgbe flow (etid order) with a packet waiting for credits. */
static struct cxgbe_rate_tag *
busy_cst(struct adapter *sc, int skip)
{
	int e;

	for (e = 0; e < sc->params.n_etids; e++)
		if (sc->etid_tab[e] != NULL &&
		    mbufq_first(&sc->etid_tab[e]->pending_tx) != NULL &&
		    skip-- == 0)
			return (sc->etid_tab[e]);
	return (NULL);
}

/* What a cxgbe that files packets under the wrong etid does. */
static void
sabotage_cxgbe(const struct expect_view *v)
{
	struct adapter *sc = v->ifp[0]->if_softc;
	struct cxgbe_rate_tag *a, *b;
	struct mbuf *m;

	a = busy_cst(sc, 0);
	if (a == NULL)
		return;
	if (sabotage == SB_CXGBE_UNTAGGED) {
		if (sc->txq.count == 0)
			return;
		/* The ring's newest packet joins the flow's backlog. */
		sc->txq.count--;
		m = sc->txq.ring[(sc->txq.head + sc->txq.count) %
		    CXGBE_TXQ_SIZE];
		mbufq_enqueue(&a->pending_tx, m);
		return;
	}
	if ((b = busy_cst(sc, 1)) == NULL)
		return;
	/* Swap the heads of the two backlogs. */
	m = mbufq_dequeue(&a->pending_tx);
	mbufq_enqueue(&a->pending_tx, mbufq_dequeue(&b->pending_tx));
	mbufq_enqueue(&b->pending_tx, m);
}

/*
 * What a core whose in_pcboutput_txrtlmt ignores IFCAP_TXRTLMT ends with
 * after a send: a tag on the route's ifnet although it has the
 * capability off.
 */
static void
sabotage_cap(const struct expect_view *v)
{
	struct epoch_tracker et;
	struct inpcb *inp;
	struct ifnet *ifp;
	bool off;

	if ((inp = view_inp(v)) == NULL)
		return;
	NET_EPOCH_ENTER(et);
	ifp = rt_lookup(AF_INET, &inp->inp_faddr);
	off = ifp != NULL && (if_getcapenable(ifp) & IFCAP_TXRTLMT) == 0;
	if (v->op_case == OP__OP_SET_RATE)
		cap_sends = off ? 0 : -1;
	else if (v->op_case == OP__OP_SEND && cap_sends >= 0 && off &&
	    ++cap_sends == (sabotage == SB_CAP_KEEP ? 1 : 2)) {
		INP_WLOCK(inp);
		if (inp->inp_snd_tag == NULL)
			(void)in_pcbattach_txrtlmt(inp, ifp, inp->inp_flowtype,
			    inp->inp_flowid, v->so[v->sock]->so_max_pacing_rate,
			    &inp->inp_snd_tag);
		INP_WUNLOCK(inp);
	}
	NET_EPOCH_EXIT(et);
}

static void
sabotage_op(const struct expect_view *v)
{
	struct inpcb *inp;

	switch (sabotage) {
	case SB_PACING:
		if (v->op_case == OP__OP_ROUTE_CHANGE ||
		    v->op_case == OP__OP_LINK)
			changed_seen = true;
		if (!changed_seen || v->op_case != OP__OP_SEND ||
		    (inp = view_inp(v)) == NULL)
			break;
		/* What a core that forgets INP_RATE_LIMIT_CHANGED does. */
		INP_WLOCK(inp);
		if (inp->inp_snd_tag != NULL)
			in_pcbdetach_txrtlmt(inp);
		inp->inp_flags2 &= ~INP_RATE_LIMIT_CHANGED;
		INP_WUNLOCK(inp);
		break;
	case SB_RATE:
		if (v->op_case != OP__OP_SET_RATE ||
		    (inp = view_inp(v)) == NULL ||
		    v->so[v->sock]->so_max_pacing_rate != 250000)
			break;
		INP_WLOCK(inp);
		inp->inp_flags2 &= ~INP_RATE_LIMIT_CHANGED;
		INP_WUNLOCK(inp);
		break;
	case SB_RECEIVE:
		/* Epair side b (the second interface) eats its input. */
		if (v->op_case == OP__OP_OPEN && v->nifp > 1)
			__atomic_store_n(&v->ifp[1]->if_input, sink_input,
			    __ATOMIC_RELAXED);
		break;
	case SB_LOOPBACK:
		if (v->op_case == OP__OP_OPEN && v->nifp > 3)
			__atomic_store_n(&v->ifp[3]->if_output, sink_output,
			    __ATOMIC_RELAXED);
		break;
	case SB_QUEUE_UNTAGGED:
	case SB_QUEUE_FLOW:
		if (v->op_case == OP__OP_SEND)
			sabotage_queue(v);
		break;
	case SB_CXGBE_UNTAGGED:
	case SB_CXGBE_FLOW:
		if (v->op_case == OP__OP_SEND)
			sabotage_cxgbe(v);
		break;
	case SB_CAP_KEEP:
	case SB_CAP_ALLOC:
		sabotage_cap(v);
		break;
	case SB_FRAG_COUNT:
		/* ip_fragment that forgets one fragment in its count. */
		if (v->op_case == OP__OP_SEND && ipstat.ips_ofragments > 0)
			ipstat.ips_ofragments--;
		break;
	case SB_OPACKETS:
		if (v->op_case == OP__OP_SEND && v->nifp > 0 &&
		    counter_u64_fetch(v->ifp[0]->if_opackets) > 0)
			counter_u64_add(v->ifp[0]->if_opackets, -1);
		break;
	case SB_PLACEMENT:
		/*
		 * The driver placed the flow by another hash: seen from the
		 * checker, the flowid the tag was allocated for changed.
		 */
		if (v->op_case == OP__OP_SEND && (inp = view_inp(v)) != NULL &&
		    inp->inp_snd_tag != NULL)
			inp->inp_flowid++;
		break;
	case SB_FORWARD:
		/* ip_output_send that counts a forwarded packet tagged. */
		if (v->op_case == OP__OP_RECEIVE && v->nifp > 1)
			v->ifp[1]->if_txstat.ifts_tagged++;
		break;
	default:
		break;
	}
}

/*
 * Just before an op: the socket changes under the call.  The op's socket
 * is not resolved yet; in `wire` the third send and the third tcpdrop
 * are on sock 2, the live TCP connection.
 */
static int begin_sends, begin_drops;

static void
sabotage_begin(const struct expect_view *v)
{
	struct socket *so;
	bool hit;

	if (v->op_case == OP__OP_SEND)
		hit = ++begin_sends == 3 && sabotage == SB_SEND_CONN;
	else if (v->op_case == OP__OP_TCPDROP)
		hit = ++begin_drops == 3 && sabotage == SB_TCPDROP;
	else
		hit = false;
	if (hit && v->nso > 2 && (so = v->so[2]) != NULL)
		so->so_state &= ~SS_ISCONNECTED;
}

/* At ip:::send: the header as a wrong ip_output would have written it. */
static void
sabotage_probe(struct mbuf *m, const struct ip *cip,
    const struct ip6_hdr *cip6)
{
	struct ip6_hdr *ip6;
	struct ip *ip;

	if (sabotage == SB_FRAG_MF && cip != NULL) {
		ip = mtod(m, struct ip *);
		/* A middle fragment: not the first, not the last. */
		if ((ip->ip_off & IP_OFFMASK) != 0 &&
		    (ip->ip_off & IP_MF) != 0)
			ip->ip_off &= ~IP_MF;
	}
	if (sabotage == SB_FRAG_M6 && cip6 != NULL) {
		ip6 = mtod(m, struct ip6_hdr *);
		ip6->ip6_frag_off &= ~IP6F_MORE_FRAG;
	}
	if (sabotage == SB_TTL && cip != NULL) {
		/* udp_output clears the header; this one forgets ip_ttl. */
		ip = mtod(m, struct ip *);
		if (ip->ip_p == IPPROTO_UDP && ip->ip_ttl == V_ip_defttl)
			ip->ip_ttl = 0;
	}
	if (sabotage == SB_NODEC && cip != NULL) {
		/* Only forwarded packets are one below the default. */
		ip = mtod(m, struct ip *);
		if (ip->ip_ttl == V_ip_defttl - 1)
			ip->ip_ttl = (uint8_t)V_ip_defttl;
	}
	if (sabotage == SB_SRC6 && cip6 != NULL) {
		ip6 = mtod(m, struct ip6_hdr *);
		memset(&ip6->ip6_src, 0, sizeof(ip6->ip6_src));
	}
}

static void
run_text(void *arg)
{
	struct interp_options o = { NULL, NULL };
	struct interp *ip;
	char err[256];
	Scenario *sc;

	sc = (Scenario *)pbtext_parse(&scenario__descriptor, arg,
	    strlen(arg), err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "test_behaviour: %s\n", err);
		abort();
	}
	changed_seen = false;
	cap_sends = -1;
	begin_sends = begin_drops = 0;
	expect_test_sabotage = sabotage != SB_NONE ? sabotage_op : NULL;
	expect_test_sabotage_begin = sabotage != SB_NONE ? sabotage_begin :
	    NULL;
	expect_test_probe = sabotage != SB_NONE ? sabotage_probe : NULL;
	ip = interp_new(sc, &o);
	if (ip == NULL) {
		fprintf(stderr, "test_behaviour: rejected: %s\n",
		    interp_reject_reason());
		abort();
	}
	if (interp_setup(ip) == 0)
		interp_run_sequential(ip);
	interp_finish(ip);
	interp_free(ip);
	expect_test_sabotage = NULL;
	expect_test_sabotage_begin = NULL;
	expect_test_probe = NULL;
	scenario__free_unpacked(sc, NULL);
}

/* Positive controls: the correct core, no sabotage, no report. */
static void
ok_pacing_route(void)
{
	sabotage = SB_NONE;
	run_text((void *)pacing_route);
}

static void
ok_pacing_lagg(void)
{
	sabotage = SB_NONE;
	run_text((void *)pacing_lagg);
}

static void
ok_rate_drivers(void)
{
	sabotage = SB_NONE;
	run_text((void *)rate_drivers);
}

static void
ok_delivery(void)
{
	sabotage = SB_NONE;
	run_text((void *)delivery);
	run_text((void *)delivery_rx);
}

static void
ok_queues_mlx5(void)
{
	sabotage = SB_NONE;
	run_text((void *)queues_mlx5);
}

static void
ok_capability(void)
{
	sabotage = SB_NONE;
	run_text((void *)capability);
}

static void
ok_queues_cxgbe(void)
{
	sabotage = SB_NONE;
	run_text((void *)queues_cxgbe);
}

/* Broken on purpose. */

static void
broken_queue_cxgbe_untagged(void)
{
	sabotage = SB_CXGBE_UNTAGGED;
	CHECK_PANICS(run_text, (void *)queues_cxgbe,
	    "queue selection: untagged packet on etid");
}

static void
broken_queue_cxgbe_other_flow(void)
{
	sabotage = SB_CXGBE_FLOW;
	CHECK_PANICS(run_text, (void *)queues_cxgbe,
	    "queue selection: another flow's packet on etid");
}

static void
broken_capability_kept(void)
{
	sabotage = SB_CAP_KEEP;
	CHECK_PANICS(run_text, (void *)capability,
	    "capability: tag kept after re-evaluation");
}

static void
broken_capability_alloc(void)
{
	sabotage = SB_CAP_ALLOC;
	CHECK_PANICS(run_text, (void *)capability,
	    "capability: tag allocated with IFCAP_TXRTLMT off");
}

static void
broken_queue_untagged(void)
{
	sabotage = SB_QUEUE_UNTAGGED;
	CHECK_PANICS(run_text, (void *)queues_mlx5,
	    "queue selection: untagged packet on a rate-limit queue");
}

static void
broken_queue_other_flow(void)
{
	sabotage = SB_QUEUE_FLOW;
	CHECK_PANICS(run_text, (void *)queues_mlx5,
	    "queue selection: another flow's packet on a rate-limit queue");
}

static void
broken_pacing_route(void)
{
	sabotage = SB_PACING;
	CHECK_PANICS(run_text, (void *)pacing_route,
	    "pacing liveness: untagged");
}

static void
broken_pacing_lagg(void)
{
	sabotage = SB_PACING;
	CHECK_PANICS(run_text, (void *)pacing_lagg,
	    "pacing liveness: untagged");
}

static void
broken_rate_nic(void)
{
	sabotage = SB_RATE;
	CHECK_PANICS(run_text, (void *)pacing_route,
	    "rate change: not at the driver");
}

static void
broken_rate_drivers(void)
{
	sabotage = SB_RATE;
	CHECK_PANICS(run_text, (void *)rate_drivers,
	    "rate change: not at the driver");
}

static void
broken_delivery_received(void)
{
	sabotage = SB_RECEIVE;
	CHECK_PANICS(run_text, (void *)delivery, "delivery: epair");
	CHECK_PANICS(run_text, (void *)delivery_rx,
	    "delivery: received packet lost");
}

static void
broken_delivery_loopback(void)
{
	sabotage = SB_LOOPBACK;
	CHECK_PANICS(run_text, (void *)delivery, "delivery: loopback");
}

static void
ok_wire(void)
{
	sabotage = SB_NONE;
	run_text((void *)wire);
}

static void
broken_fragments(void)
{
	sabotage = SB_FRAG_MF;
	CHECK_PANICS(run_text, (void *)wire, "fragments: no train open");
	sabotage = SB_FRAG_M6;
	CHECK_PANICS(run_text, (void *)wire, "fragments: no train open");
	sabotage = SB_FRAG_COUNT;
	CHECK_PANICS(run_text, (void *)wire, "fragments: not counted");
}

static void
broken_addresses(void)
{
	sabotage = SB_SRC6;
	CHECK_PANICS(run_text, (void *)wire, "addresses: unspecified");
}

static void
broken_hop_limit(void)
{
	sabotage = SB_TTL;
	CHECK_PANICS(run_text, (void *)wire, "hop limit: a local IPv4");
	sabotage = SB_NODEC;
	CHECK_PANICS(run_text, (void *)wire, "hop limit: a forwarded IPv4");
}

static void
broken_forwarded(void)
{
	sabotage = SB_FORWARD;
	CHECK_PANICS(run_text, (void *)wire, "forwarded: counted tagged");
}

static void
broken_output_counted(void)
{
	sabotage = SB_OPACKETS;
	CHECK_PANICS(run_text, (void *)wire, "output counted");
}

static void
ok_placement(void)
{
	sabotage = SB_NONE;
	run_text((void *)placement);
}

static void
broken_placement(void)
{
	sabotage = SB_PLACEMENT;
	CHECK_PANICS(run_text, (void *)placement,
	    "queue selection: placement");
}

static void
broken_send_result(void)
{
	sabotage = SB_SEND_CONN;
	CHECK_PANICS(run_text, (void *)wire,
	    "send result: refused while connected");
}

static void
broken_tcpdrop(void)
{
	sabotage = SB_TCPDROP;
	CHECK_PANICS(run_text, (void *)wire,
	    "tcpdrop: live connection not found");
}

int
main(void)
{
	RUN(ok_pacing_route);
	RUN(ok_pacing_lagg);
	RUN(ok_rate_drivers);
	RUN(ok_delivery);
	RUN(ok_queues_mlx5);
	RUN(ok_queues_cxgbe);
	RUN(ok_capability);
	RUN(ok_wire);
	RUN(ok_placement);
	RUN(broken_pacing_route);
	RUN(broken_pacing_lagg);
	RUN(broken_rate_nic);
	RUN(broken_rate_drivers);
	RUN(broken_delivery_received);
	RUN(broken_delivery_loopback);
	RUN(broken_queue_untagged);
	RUN(broken_queue_other_flow);
	RUN(broken_queue_cxgbe_untagged);
	RUN(broken_queue_cxgbe_other_flow);
	RUN(broken_capability_kept);
	RUN(broken_capability_alloc);
	RUN(broken_fragments);
	RUN(broken_addresses);
	RUN(broken_hop_limit);
	RUN(broken_forwarded);
	RUN(broken_output_counted);
	RUN(broken_send_result);
	RUN(broken_tcpdrop);
	RUN(broken_placement);
	return (t_done());
}
