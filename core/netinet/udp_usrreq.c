/*
 * Model of udp_output (sys/netinet/udp_usrreq.c, udp6_output): one
 * datagram per send, which ip_output may fragment.
 *
 * As in FreeBSD, a connected send holds only the inp *read* lock, so
 * in_pcboutput_txrtlmt has to try-upgrade before it may touch the tag,
 * and two senders on one socket can run at once.
 */
#include "sys/socketvar.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"

struct udphdr {
	uint16_t	uh_sport;
	uint16_t	uh_dport;
	uint16_t	uh_ulen;
	uint16_t	uh_sum;
};
CTASSERT(sizeof(struct udphdr) == 8);

/* Send the datagram m (pkthdr, payload only); m is consumed. */
int
udp_output(struct inpcb *inp, struct mbuf *m)
{
	struct socket *so;
	struct udphdr *uh;
	bool isv6;
	int error, hdrlen, len;

	M_ASSERTPKTHDR(m);
	INP_RLOCK(inp);
	so = inp->inp_socket;
	if (so == NULL) {
		/* Closed under us (the caller's reference kept inp). */
		error = EBADF;
		goto release;
	}
	if ((so->so_state & SS_ISCONNECTED) == 0) {
		error = EDESTADDRREQ;
		goto release;
	}
	isv6 = (inp->inp_vflag & INP_IPV6) != 0;
	hdrlen = (isv6 ? (int)sizeof(struct ip6_hdr) : (int)sizeof(struct ip)) +
	    (int)sizeof(struct udphdr);
	len = m->m_pkthdr.len;
	if (len + hdrlen > IP_MAXPACKET) {
		error = EMSGSIZE;
		goto release;
	}

	M_PREPEND(m, hdrlen, M_NOWAIT);
	if (m == NULL) {
		error = ENOBUFS;
		goto out;
	}
	if (m->m_len < hdrlen) {
		m = m_pullup(m, hdrlen);
		if (m == NULL) {
			error = ENOBUFS;
			goto out;
		}
	}
	m->m_pkthdr.flowid = inp->inp_flowid;
	M_HASHTYPE_SET(m, inp->inp_flowtype);
	if (isv6) {
		struct ip6_hdr *ip6 = mtod(m, struct ip6_hdr *);

		memset(ip6, 0, sizeof(*ip6));
		ip6->ip6_vfc = IPV6_VERSION;
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_hlim = V_ip6_defhlim;
		ip6->ip6_src = inp->in6p_laddr;
		ip6->ip6_dst = inp->in6p_faddr;
		uh = (struct udphdr *)(ip6 + 1);
		m->m_pkthdr.csum_flags = CSUM_IP6_UDP;
	} else {
		struct ip *ip = mtod(m, struct ip *);

		memset(ip, 0, sizeof(*ip));
		ip->ip_p = IPPROTO_UDP;
		ip->ip_ttl = V_ip_defttl;
		ip->ip_src = inp->inp_laddr;
		ip->ip_dst = inp->inp_faddr;
		uh = (struct udphdr *)(ip + 1);
		m->m_pkthdr.csum_flags = CSUM_IP_UDP;
	}
	uh->uh_sport = inp->inp_lport;
	uh->uh_dport = inp->inp_fport;
	uh->uh_ulen = (uint16_t)(len + sizeof(*uh));
	uh->uh_sum = 0;

	if (isv6)
		error = ip6_output(m, NULL, NULL, 0, NULL, NULL, inp);
	else
		error = ip_output(m, NULL, NULL, 0, NULL, inp);
	INP_RUNLOCK(inp);
	return (error);

release:
	m_freem(m);
out:
	INP_RUNLOCK(inp);
	return (error);
}
