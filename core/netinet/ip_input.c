/*
 * Model of sys/netinet/ip_input.c: the receive side of IPv4.  Packets to
 * a local address are delivered (counted and freed: no socket receive
 * path is modelled); others are forwarded when net.inet.ip.forwarding is
 * on, else dropped.
 *
 * A received packet has rcvif set and never a send tag; it keeps its
 * rcvif all the way to the output driver, and ip_output_send (no inp)
 * never stamps it.
 */
#include "netinet/ip_var.h"
#include "shim/epoch.h"

/*
 * The local address table (in_ifaddrhead).  A fixed table of slots read
 * without a lock: a slot is published by storing its state last.  The
 * ifnet pointer is only compared, never dereferenced, so a slot needs no
 * ifnet reference.
 */
#define	IN_IFADDR_MAX	64

enum { SLOT_FREE = 0, SLOT_BUSY, SLOT_VALID };

static struct in_ifaddr_slot {
	int		 state;
	struct ifnet	*ifp;
	struct in_addr	 addr;
} in_ifaddr_tab[IN_IFADDR_MAX];

int
in_ifaddr_add(struct ifnet *ifp, struct in_addr addr)
{
	struct in_ifaddr_slot *s;
	int expected, i;

	if (ifp == NULL || addr.s_addr == 0)
		return (EINVAL);
	if (in_localip(addr))
		return (EEXIST);
	for (i = 0; i < IN_IFADDR_MAX; i++) {
		s = &in_ifaddr_tab[i];
		expected = SLOT_FREE;
		if (!__atomic_compare_exchange_n(&s->state, &expected,
		    SLOT_BUSY, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&s->ifp, ifp, __ATOMIC_RELAXED);
		__atomic_store_n(&s->addr.s_addr, addr.s_addr,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&s->state, SLOT_VALID, __ATOMIC_RELEASE);
		return (0);
	}
	return (ENOSPC);
}

bool
in_localip(struct in_addr addr)
{
	struct in_ifaddr_slot *s;
	int i;

	for (i = 0; i < IN_IFADDR_MAX; i++) {
		s = &in_ifaddr_tab[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SLOT_VALID)
			continue;
		if (__atomic_load_n(&s->addr.s_addr, __ATOMIC_RELAXED) ==
		    addr.s_addr)
			return (true);
	}
	return (false);
}

bool
in_ifaddr_lookup_ifp(struct ifnet *ifp, struct in_addr *addr)
{
	struct in_ifaddr_slot *s;
	int i;

	for (i = 0; i < IN_IFADDR_MAX; i++) {
		s = &in_ifaddr_tab[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SLOT_VALID)
			continue;
		if (__atomic_load_n(&s->ifp, __ATOMIC_RELAXED) == ifp) {
			addr->s_addr = __atomic_load_n(&s->addr.s_addr,
			    __ATOMIC_RELAXED);
			return (true);
		}
	}
	return (false);
}

void
in_ifaddr_purge(struct ifnet *ifp)
{
	struct in_ifaddr_slot *s;
	int expected, i;

	for (i = 0; i < IN_IFADDR_MAX; i++) {
		s = &in_ifaddr_tab[i];
		expected = SLOT_VALID;
		if (__atomic_load_n(&s->ifp, __ATOMIC_RELAXED) != ifp)
			continue;
		if (__atomic_compare_exchange_n(&s->state, &expected,
		    SLOT_BUSY, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			__atomic_store_n(&s->ifp, NULL, __ATOMIC_RELAXED);
			__atomic_store_n(&s->state, SLOT_FREE,
			    __ATOMIC_RELEASE);
		}
	}
}

void
in_ifaddr_reset(void)
{
	int i;

	for (i = 0; i < IN_IFADDR_MAX; i++) {
		__atomic_store_n(&in_ifaddr_tab[i].ifp, NULL,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&in_ifaddr_tab[i].state, SLOT_FREE,
		    __ATOMIC_RELEASE);
	}
}

/*
 * Forward a received packet: decrement the TTL and hand it to ip_output
 * with no inp.  rcvif stays set.
 */
void
ip_forward(struct mbuf *m, int srcrt)
{
	struct ip *ip;
	int error;

	M_ASSERTPKTHDR(m);
	M_ASSERT_NO_SND_TAG(m);
	ip = mtod(m, struct ip *);
	if (ip->ip_ttl <= 1) {
		/* ICMP time exceeded is not modelled. */
		IPSTAT_INC(ips_odropped);
		m_freem(m);
		return;
	}
	ip->ip_ttl--;
	error = ip_output(m, NULL, NULL, IP_FORWARDING, NULL, NULL);
	if (error == 0)
		IPSTAT_INC(ips_forward);
	else
		IPSTAT_INC(ips_cantforward);
	(void)srcrt;
}

void
ip_input(struct mbuf *m)
{
	struct ip *ip;
	int hlen;

	M_ASSERT_NO_SND_TAG(m);
	IPSTAT_INC(ips_total);

	/* Any input, however broken, is dropped cleanly, and counted. */
	if (m->m_len < (int)sizeof(struct ip) &&
	    (m = m_pullup(m, sizeof(struct ip))) == NULL) {
		IPSTAT_INC(ips_toosmall);
		return;
	}
	ip = mtod(m, struct ip *);
	hlen = ip->ip_hl << 2;
	if (ip->ip_v != IPVERSION || hlen != (int)sizeof(struct ip) ||
	    ip->ip_len < hlen || ip->ip_len > m->m_pkthdr.len) {
		IPSTAT_INC(ips_badvers);
		goto drop;
	}
	/* Link-layer padding past ip_len goes. */
	if (m->m_pkthdr.len > ip->ip_len)
		m_adj(m, ip->ip_len - m->m_pkthdr.len);

	if (in_localip(ip->ip_dst)) {
		IPSTAT_INC(ips_delivered);
		m_freem(m);
		return;
	}
	if (__atomic_load_n(&V_ipforwarding, __ATOMIC_RELAXED) == 0) {
		IPSTAT_INC(ips_cantforward);
		goto drop;
	}
	ip_forward(m, 0);
	return;
drop:
	m_freem(m);
}
