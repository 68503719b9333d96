/*
 * Harness: packets as if received from the wire (see packet.h).
 */
#include "harness/packet.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"

/*
 * A header mbuf holding hdrlen bytes of header, followed by payload bytes
 * of a fixed pattern.  NULL (nothing allocated) on failure.
 */
static struct mbuf *
packet_alloc(int hdrlen, int payload, int how)
{
	struct mbuf *m, *n, **mp;
	int chunk, i, left;
	char *p;

	m = m_gethdr(how, MT_DATA);
	if (m == NULL)
		return (NULL);
	m->m_len = hdrlen;
	memset(mtod(m, void *), 0, hdrlen);
	mp = &m->m_next;
	left = payload;
	while (left > 0) {
		if (left > MLEN)
			n = m_getcl(how, MT_DATA, 0);
		else
			n = m_get(how, MT_DATA);
		if (n == NULL) {
			m_freem(m);
			return (NULL);
		}
		chunk = MIN(left, M_TRAILINGSPACE(n));
		p = mtod(n, char *);
		for (i = 0; i < chunk; i++)
			p[i] = (char)((payload - left + i) * 13 + 5);
		n->m_len = chunk;
		left -= chunk;
		*mp = n;
		mp = &n->m_next;
	}
	m->m_pkthdr.len = hdrlen + payload;
	return (m);
}

struct mbuf *
packet_build_ip4(struct in_addr src, struct in_addr dst, uint8_t proto,
    int payload, int how)
{
	struct mbuf *m;
	struct ip *ip;

	if (payload < 0 || payload > IP_MAXPACKET - (int)sizeof(struct ip))
		return (NULL);
	m = packet_alloc(sizeof(struct ip), payload, how);
	if (m == NULL)
		return (NULL);
	ip = mtod(m, struct ip *);
	ip->ip_v = IPVERSION;
	ip->ip_hl = sizeof(struct ip) >> 2;
	ip->ip_ttl = V_ip_defttl;	/* the sender is a host like us */
	ip->ip_p = proto;
	ip->ip_len = (uint16_t)(sizeof(struct ip) + payload);
	ip->ip_src = src;
	ip->ip_dst = dst;
	return (m);
}

struct mbuf *
packet_build_ip6(const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t proto, int payload, int how)
{
	struct ip6_hdr *ip6;
	struct mbuf *m;

	if (src == NULL || dst == NULL || payload < 0 ||
	    payload > IPV6_MAXPACKET)
		return (NULL);
	m = packet_alloc(sizeof(struct ip6_hdr), payload, how);
	if (m == NULL)
		return (NULL);
	ip6 = mtod(m, struct ip6_hdr *);
	ip6->ip6_vfc = IPV6_VERSION;
	ip6->ip6_nxt = proto;
	ip6->ip6_hlim = V_ip6_defhlim;
	ip6->ip6_plen = (uint16_t)payload;
	ip6->ip6_src = *src;
	ip6->ip6_dst = *dst;
	return (m);
}
