/*
 * Wire expectations: what the IP output path hands an interface, seen at
 * FreeBSD's ip:::send probe (netinet/in_kdtrace.h), and what the output
 * counters say about it (interp_expect.h; docs/INVARIANTS.md,
 * "Behaviour").  The probe is attached only inside an op of a sequential
 * run, so the threaded runner never calls into this file.
 *
 * fragments  (ip_output.c ip_fragment, ip6_output.c ip6_fragment; RFC 791,
 *	RFC 8200 4.5): a datagram the host fragments leaves as one train,
 *	the first fragment at offset 0, each next one where the previous
 *	ended, "more fragments" on every one but the last.  An error may
 *	cut a train short (the rest is freed and counted as a drop); it
 *	never leaves a gap, nor a fragment after the last.  Every fragment
 *	sent was counted when it was made: over an op, the rise of
 *	ips_ofragments (ip6s_ofragments) is at least the number of local
 *	fragments probed.
 * addresses  (in_pcb.c in_pcbconnect, in6_pcbconnect -> in6_selectsrc;
 *	RFC 1122 3.2.1.3, RFC 4291 2.5.2): a locally originated packet
 *	has a specified source and a specified destination address.
 * forwarded  (ip_output.c ip_output_send: only an inp's tag is stamped
 *	on a packet; spec 6): a received packet that is forwarded leaves
 *	untagged and is counted so on its interface (if_txstat): an op
 *	that originates no local traffic (a received packet, an epair
 *	delivery) leaves every interface's ifts_tagged as it was.
 * output counted  (if_nic.c, t4_main.c cxgbe_transmit, if_vlan.c,
 *	if_epair.c, if_loop.c; netstat -i's Opkts): an interface whose
 *	transmit counts IFCOUNTER_OPACKETS when it accepts a packet counts
 *	at least every packet the IP output path handed it and it
 *	accepted (if_txstat), over each op.  mlx5 counts on completion
 *	(mlx5e_poll_tx_cq) and a lagg in its ports, so they are left out.
 *
 * hop limit  (in_pcb.c in_pcballoc: inp_ip_ttl = net.inet.ip.ttl;
 *	in6_selecthlim: net.inet6.ip6.hlim; ip_input.c ip_forward: RFC
 *	1812 5.3.1): the language sets no IP_TTL or IPV6_UNICAST_HOPS, so
 *	a locally originated packet carries the system's default; a
 *	forwarded one was decremented on the way and is still alive:
 *	1 <= TTL < the default (every sender of the model, received
 *	packets included, starts at the default).
 *
 * Forwarded packets are not held to the train and address rules: the
 * host did not build their headers (a router passes fragments as they
 * came).
 */
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/interp_expect.h"
#include "fuzz/interp_expect_int.h"
#include "netinet/in_kdtrace.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "net/if_var.h"
#include "sys/mbuf.h"
#include "shim/systm.h"

void (*expect_test_probe)(struct mbuf *m, const struct ip *ip,
    const struct ip6_hdr *ip6);

/* The fragment train being sent; one at a time (one ip_output loop). */
static struct {
	bool		open;		/* more fragments are due */
	bool		v6;
	uint32_t	id;
	uint32_t	next;		/* byte offset the next one must have */
} train;

static int	wire_local;		/* local packets probed this op */
static int	wire_frags4, wire_frags6; /* local fragments probed */
static uint64_t	wire_ofrag4, wire_ofrag6; /* the counters at op begin */
/* Every live interface's counters at op begin. */
static struct {
	struct ifnet	*ifp;
	uint64_t	 tagged;	/* ifts_tagged */
	uint64_t	 accepted;	/* ifts_tagged + ifts_untagged */
	uint64_t	 opackets;
} wire_if[EXPECT_MAX_IFPS];
static int	wire_nifp;

static bool
in6_unspecified(const struct in6_addr *a)
{
	static const struct in6_addr any;

	return (memcmp(a, &any, sizeof(any)) == 0);
}

/* One fragment of a local datagram: offset and length in bytes. */
static void
wire_fragment(bool v6, uint32_t id, uint32_t off, uint32_t len, bool more,
    const char *xname)
{
	if (off == 0) {
		train.open = more;
		train.v6 = v6;
		train.id = id;
		train.next = len;
		return;
	}
	if (!train.open || train.v6 != v6 || train.id != id)
		panic("fragments: no train open: IPv%d datagram %u has a "
		    "fragment at offset %u on %s, after its last one or "
		    "without a first", v6 ? 6 : 4, id, off, xname);
	if (off != train.next)
		panic("fragments: gap in the train: IPv%d datagram %u has a "
		    "fragment at offset %u on %s where the train is at %u",
		    v6 ? 6 : 4, id, off, xname, train.next);
	train.open = more;
	train.next += len;
}

static void
wire_probe(struct mbuf *m, struct inpcb *inp, const void *ipinfo,
    struct ifnet *ifp, const struct ip *ip, const struct ip6_hdr *ip6)
{
	const char *xname = ifp->if_xname;
	uint32_t off;
	int hops, def;

	(void)ipinfo;
	if (expect_test_probe != NULL)
		expect_test_probe(m, ip, ip6);
	hops = ip != NULL ? ip->ip_ttl : ip6->ip6_hlim;
	def = ip != NULL ? V_ip_defttl : V_ip6_defhlim;
	if (inp == NULL) {	/* forwarded */
		if (hops == 0 || hops >= def)
			panic("hop limit: a forwarded IPv%d packet on %s "
			    "leaves with %d (the default is %d)",
			    ip != NULL ? 4 : 6, xname, hops, def);
		return;
	}
	wire_local++;
	if (hops != def)
		panic("hop limit: a local IPv%d packet on %s leaves with %d, "
		    "not the default %d", ip != NULL ? 4 : 6, xname, hops, def);
	if (ip != NULL) {
		if (ip->ip_src.s_addr == 0 || ip->ip_dst.s_addr == 0)
			panic("addresses: unspecified: a local IPv4 packet "
			    "on %s from %08x to %08x", xname, ip->ip_src.s_addr,
			    ip->ip_dst.s_addr);
		if ((ip->ip_off & (IP_MF | IP_OFFMASK)) == 0)
			return;
		wire_frags4++;
		off = (uint32_t)(ip->ip_off & IP_OFFMASK) << 3;
		wire_fragment(false, ip->ip_id, off,
		    (uint32_t)ip->ip_len - ((uint32_t)ip->ip_hl << 2),
		    (ip->ip_off & IP_MF) != 0, xname);
		return;
	}
	if (in6_unspecified(&ip6->ip6_src) || in6_unspecified(&ip6->ip6_dst))
		panic("addresses: unspecified: a local IPv6 packet on %s "
		    "with no %s address", xname,
		    in6_unspecified(&ip6->ip6_src) ? "source" :
		    "destination");
	if (ip6->ip6_frag_id == 0)
		return;		/* the model's "no fragment header" */
	wire_frags6++;
	wire_fragment(true, ip6->ip6_frag_id,
	    ip6->ip6_frag_off & IP6F_OFF_MASK, ip6->ip6_plen,
	    (ip6->ip6_frag_off & IP6F_MORE_FRAG) != 0, xname);
}

/* An op that cannot originate local traffic: only forwarding sends. */
static bool
forwards_only(int op_case)
{
	return (op_case == OP__OP_RECEIVE || op_case == OP__OP_EPAIR_DELIVER);
}

static uint64_t
ifts_tagged(struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_txstat.ifts_tagged,
	    __ATOMIC_RELAXED));
}

static uint64_t
ifts_accepted(struct ifnet *ifp)
{
	return (ifts_tagged(ifp) + __atomic_load_n(
	    &ifp->if_txstat.ifts_untagged, __ATOMIC_RELAXED));
}

/*
 * Its transmit counts OPACKETS as it accepts a packet (lagg counts on
 * its ports, mlx5 when the queue's worker sends).
 */
static bool
counts_on_accept(int kind)
{
	switch (kind) {
	case IK_NIC:
	case IK_CXGBE:
	case IK_VLAN:
	case IK_EPAIR:
	case IK_LOOP:
		return (true);
	default:
		return (false);
	}
}

void
expect_wire_reset(void)
{
	__atomic_store_n(&ip_probe_send, NULL, __ATOMIC_RELAXED);
	memset(&train, 0, sizeof(train));
}

void
expect_wire_begin(const struct expect_view *v)
{
	int i;

	wire_local = wire_frags4 = wire_frags6 = 0;
	wire_ofrag4 = ipstat.ips_ofragments;
	wire_ofrag6 = ip6stat.ip6s_ofragments;
	for (i = 0; i < v->nifp; i++) {
		wire_if[i].ifp = v->ifp[i];
		wire_if[i].tagged = ifts_tagged(v->ifp[i]);
		wire_if[i].accepted = ifts_accepted(v->ifp[i]);
		wire_if[i].opackets = counter_u64_fetch(v->ifp[i]->if_opackets);
	}
	wire_nifp = v->nifp;
	__atomic_store_n(&ip_probe_send, wire_probe, __ATOMIC_RELAXED);
}

int
expect_wire_local(void)
{
	return (wire_local);
}

void
expect_wire_end(const struct expect_view *v)
{
	struct ifnet *ifp;
	uint64_t acc, opk;
	int i, j;

	__atomic_store_n(&ip_probe_send, NULL, __ATOMIC_RELAXED);
	if (ipstat.ips_ofragments - wire_ofrag4 < (uint64_t)wire_frags4)
		panic("fragments: not counted: %d IPv4 fragments sent, "
		    "ips_ofragments rose by %ju", wire_frags4,
		    (uintmax_t)(ipstat.ips_ofragments - wire_ofrag4));
	if (ip6stat.ip6s_ofragments - wire_ofrag6 < (uint64_t)wire_frags6)
		panic("fragments: not counted: %d IPv6 fragments sent, "
		    "ip6s_ofragments rose by %ju", wire_frags6,
		    (uintmax_t)(ip6stat.ip6s_ofragments - wire_ofrag6));
	/* Interfaces live before and after the op. */
	for (i = 0; i < wire_nifp; i++) {
		for (j = 0; j < v->nifp && v->ifp[j] != wire_if[i].ifp; j++)
			;
		if (j == v->nifp)
			continue;
		ifp = v->ifp[j];
		if (forwards_only(v->op_case) &&
		    ifts_tagged(ifp) != wire_if[i].tagged)
			panic("forwarded: counted tagged: %s counted %ju "
			    "tagged packets in an op that only forwards",
			    ifp->if_xname, (uintmax_t)(ifts_tagged(ifp) -
			    wire_if[i].tagged));
		acc = ifts_accepted(ifp) - wire_if[i].accepted;
		opk = counter_u64_fetch(ifp->if_opackets) - wire_if[i].opackets;
		if (counts_on_accept(v->kind[j]) && opk < acc)
			panic("output counted: %s accepted %ju packets from "
			    "the IP output path and counted %ju in "
			    "IFCOUNTER_OPACKETS", ifp->if_xname,
			    (uintmax_t)acc, (uintmax_t)opk);
	}
}
