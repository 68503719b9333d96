/*
 * Model of sys/netinet6/ip6_input.c and ip6_forward.c: local delivery
 * (counted and freed), forwarding when net.inet6.ip6.forwarding is on,
 * else drop.  A received packet never has a send tag and keeps its rcvif
 * to the output driver.
 */
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"

/* The local address table: fixed slots, published by their state. */
#define	IN6_IFADDR_MAX	64

enum { SLOT_FREE = 0, SLOT_BUSY, SLOT_VALID };

static struct in6_ifaddr_slot {
	int		 state;
	struct ifnet	*ifp;
	struct in6_addr	 addr;		/* written while BUSY */
} in6_ifaddr_tab[IN6_IFADDR_MAX];

static bool
in6_addr_unspecified(const struct in6_addr *a)
{
	static const struct in6_addr any;

	return (memcmp(a, &any, sizeof(any)) == 0);
}

int
in6_ifaddr_add(struct ifnet *ifp, const struct in6_addr *addr)
{
	struct in6_ifaddr_slot *s;
	int expected, i;

	if (ifp == NULL || addr == NULL || in6_addr_unspecified(addr))
		return (EINVAL);
	if (in6_localip(addr))
		return (EEXIST);
	for (i = 0; i < IN6_IFADDR_MAX; i++) {
		s = &in6_ifaddr_tab[i];
		expected = SLOT_FREE;
		if (!__atomic_compare_exchange_n(&s->state, &expected,
		    SLOT_BUSY, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&s->ifp, ifp, __ATOMIC_RELAXED);
		s->addr = *addr;
		__atomic_store_n(&s->state, SLOT_VALID, __ATOMIC_RELEASE);
		return (0);
	}
	return (ENOSPC);
}

bool
in6_localip(const struct in6_addr *addr)
{
	struct in6_ifaddr_slot *s;
	int i;

	for (i = 0; i < IN6_IFADDR_MAX; i++) {
		s = &in6_ifaddr_tab[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SLOT_VALID)
			continue;
		if (memcmp(&s->addr, addr, sizeof(*addr)) == 0)
			return (true);
	}
	return (false);
}

bool
in6_ifaddr_lookup_ifp(struct ifnet *ifp, struct in6_addr *addr)
{
	struct in6_ifaddr_slot *s;
	int i;

	for (i = 0; i < IN6_IFADDR_MAX; i++) {
		s = &in6_ifaddr_tab[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
		    SLOT_VALID)
			continue;
		if (__atomic_load_n(&s->ifp, __ATOMIC_RELAXED) == ifp) {
			*addr = s->addr;
			return (true);
		}
	}
	return (false);
}

void
in6_ifaddr_purge(struct ifnet *ifp)
{
	struct in6_ifaddr_slot *s;
	int expected, i;

	for (i = 0; i < IN6_IFADDR_MAX; i++) {
		s = &in6_ifaddr_tab[i];
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
in6_ifaddr_reset(void)
{
	int i;

	for (i = 0; i < IN6_IFADDR_MAX; i++) {
		__atomic_store_n(&in6_ifaddr_tab[i].ifp, NULL,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&in6_ifaddr_tab[i].state, SLOT_FREE,
		    __ATOMIC_RELEASE);
	}
}

/* Forward with no inp: hop limit down, rcvif kept. */
void
ip6_forward(struct mbuf *m, int srcrt)
{
	struct ip6_hdr *ip6;
	int error;

	M_ASSERTPKTHDR(m);
	M_ASSERT_NO_SND_TAG(m);
	ip6 = mtod(m, struct ip6_hdr *);
	if (ip6->ip6_hlim <= 1) {
		/* ICMPv6 time exceeded is not modelled. */
		IP6STAT_INC(ip6s_odropped);
		m_freem(m);
		return;
	}
	ip6->ip6_hlim--;
	error = ip6_output(m, NULL, NULL, IPV6_FORWARDING, NULL, NULL, NULL);
	if (error == 0)
		IP6STAT_INC(ip6s_forward);
	else
		IP6STAT_INC(ip6s_cantforward);
	(void)srcrt;
}

void
ip6_input(struct mbuf *m)
{
	struct ip6_hdr *ip6;
	int plen;

	M_ASSERT_NO_SND_TAG(m);
	IP6STAT_INC(ip6s_total);

	if (m->m_len < (int)sizeof(struct ip6_hdr) &&
	    (m = m_pullup(m, sizeof(struct ip6_hdr))) == NULL) {
		IP6STAT_INC(ip6s_toosmall);
		return;
	}
	ip6 = mtod(m, struct ip6_hdr *);
	plen = ip6->ip6_plen;
	if ((ip6->ip6_vfc & IPV6_VERSION_MASK) != IPV6_VERSION ||
	    (int)sizeof(*ip6) + plen > m->m_pkthdr.len ||
	    in6_addr_unspecified(&ip6->ip6_dst)) {
		IP6STAT_INC(ip6s_badvers);
		goto drop;
	}
	if (m->m_pkthdr.len > (int)sizeof(*ip6) + plen)
		m_adj(m, (int)sizeof(*ip6) + plen - m->m_pkthdr.len);

	if (in6_localip(&ip6->ip6_dst)) {
		IP6STAT_INC(ip6s_delivered);
		m_freem(m);
		return;
	}
	if (__atomic_load_n(&V_ip6_forwarding, __ATOMIC_RELAXED) == 0) {
		IP6STAT_INC(ip6s_cantforward);
		goto drop;
	}
	ip6_forward(m, 0);
	return;
drop:
	m_freem(m);
}
