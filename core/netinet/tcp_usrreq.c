/*
 * Model of the parts of sys/netinet/tcp_output.c, tcp_subr.c and
 * tcp_usrreq.c the send-tag scenarios need: an established connection
 * that segments a send by the MSS, or hands the ifnet one TSO burst, and
 * tcp_drop.  No handshake, retransmission or TIME_WAIT.
 *
 * As in FreeBSD, tcp_output runs with the inp write-locked, so every
 * change to the inp's send tag on the way down happens under it.
 */
#include "sys/socketvar.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"

struct tcphdr {
	uint16_t	th_sport;
	uint16_t	th_dport;
	uint32_t	th_seq;
	uint32_t	th_ack;
	uint8_t		th_off;		/* header length, 32-bit words */
	uint8_t		th_flags;
	uint16_t	th_win;
	uint16_t	th_sum;
	uint16_t	th_urp;
};
CTASSERT(sizeof(struct tcphdr) == 20);

#define	TH_PUSH		0x08
#define	TH_ACK		0x10

#define	TCP_DEFAULT_MSS	536		/* no route: RFC 879 */
#define	MAX_LINKHDR	16		/* room for if_output */

/*
 * Send the payload chain m (no pkthdr, consumed) as segments of at most
 * one MSS, or as TSO bursts when the route's ifnet does TSO.  Stops at
 * the first error and returns it.
 */
int
tcp_output(struct inpcb *inp, struct mbuf *m)
{
	struct epoch_tracker et;
	struct ifnet *ifp;
	struct mbuf *n;
	struct tcphdr *th;
	bool isv6, tso;
	int error, hdrlen, len, maxburst, mss, off, seglen;
	u_long mtu;

	INP_WLOCK_ASSERT(inp);
	isv6 = (inp->inp_vflag & INP_IPV6) != 0;
	hdrlen = (isv6 ? (int)sizeof(struct ip6_hdr) : (int)sizeof(struct ip)) +
	    (int)sizeof(struct tcphdr);
	len = m != NULL ? (int)m_length(m, NULL) : 0;

	/* tcp_maxmtu: the MSS and TSO come from the route's ifnet. */
	mtu = 0;
	tso = false;
	NET_EPOCH_ENTER(et);
	ifp = isv6 ? rt_lookup(AF_INET6, &inp->in6p_faddr) :
	    rt_lookup(AF_INET, &inp->inp_faddr);
	if (ifp != NULL) {
		mtu = ifp->if_mtu;
		tso = (if_getcapenable(ifp) & (isv6 ? IFCAP_TSO6 : IFCAP_TSO4))
		    != 0;
	}
	NET_EPOCH_EXIT(et);
	if (ifp == NULL)
		mss = TCP_DEFAULT_MSS;	/* ip_output reports no route */
	else if (mtu <= (u_long)hdrlen + 8 || mtu > IP_MAXPACKET) {
		m_freem(m);
		return (EMSGSIZE);
	} else
		mss = (int)mtu - hdrlen;
	maxburst = tso ? IP_MAXPACKET - hdrlen : mss;

	error = 0;
	for (off = 0; off < len; off += seglen) {
		seglen = MIN(len - off, maxburst);
		n = m_gethdr(M_NOWAIT, MT_DATA);
		if (n == NULL) {
			error = ENOBUFS;
			break;
		}
		n->m_data += MAX_LINKHDR;
		n->m_len = hdrlen;
		n->m_next = m_copym(m, off, seglen, M_NOWAIT);
		if (n->m_next == NULL) {
			m_free(n);
			error = ENOBUFS;
			break;
		}
		n->m_pkthdr.len = hdrlen + seglen;
		n->m_pkthdr.flowid = inp->inp_flowid;
		M_HASHTYPE_SET(n, inp->inp_flowtype);
		if (tso && seglen > mss) {
			n->m_pkthdr.csum_flags = isv6 ? CSUM_IP6_TSO :
			    CSUM_IP_TSO;
			n->m_pkthdr.tso_segsz = (uint16_t)mss;
		} else
			n->m_pkthdr.csum_flags = isv6 ? CSUM_IP6_TCP :
			    CSUM_IP_TCP;

		if (isv6) {
			struct ip6_hdr *ip6 = mtod(n, struct ip6_hdr *);

			memset(ip6, 0, sizeof(*ip6));
			ip6->ip6_vfc = IPV6_VERSION;
			ip6->ip6_nxt = IPPROTO_TCP;
			ip6->ip6_hlim = V_ip6_defhlim;
			ip6->ip6_src = inp->in6p_laddr;
			ip6->ip6_dst = inp->in6p_faddr;
			th = (struct tcphdr *)(ip6 + 1);
		} else {
			struct ip *ip = mtod(n, struct ip *);

			memset(ip, 0, sizeof(*ip));
			ip->ip_p = IPPROTO_TCP;
			ip->ip_ttl = V_ip_defttl;
			ip->ip_off = IP_DF;	/* path MTU discovery */
			ip->ip_src = inp->inp_laddr;
			ip->ip_dst = inp->inp_faddr;
			th = (struct tcphdr *)(ip + 1);
		}
		memset(th, 0, sizeof(*th));
		th->th_sport = inp->inp_lport;
		th->th_dport = inp->inp_fport;
		th->th_seq = (uint32_t)off;
		th->th_off = sizeof(*th) >> 2;
		th->th_flags = TH_ACK | (off + seglen == len ? TH_PUSH : 0);

		if (isv6)
			error = ip6_output(n, NULL, NULL, 0, NULL, NULL, inp);
		else
			error = ip_output(n, NULL, NULL, 0, NULL, inp);
		if (error != 0)
			break;
	}
	m_freem(m);
	return (error);
}

/* tcp_drop -> tcp_close: the connection is gone, the socket stays. */
void
tcp_drop(struct inpcb *inp, int error)
{
	struct socket *so;

	INP_WLOCK_ASSERT(inp);
	so = inp->inp_socket;
	if (so != NULL) {
		so->so_error = error;
		so->so_state &= ~SS_ISCONNECTED;
	}
	in_pcbdrop(inp);
}

/* tcpdrop(8): find the connection and drop it. */
int
tcp_drop_socket(struct socket *so)
{
	struct inpcb *inp;
	int error;

	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	INP_WLOCK(inp);
	/* The sysctl finds only live TCP connections. */
	if (inp->inp_proto != IPPROTO_TCP || inp->inp_socket == NULL ||
	    (inp->inp_flags & INP_DROPPED) ||
	    (so->so_state & SS_ISCONNECTED) == 0)
		error = ESRCH;
	else
		tcp_drop(inp, ECONNABORTED);
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
	return (error);
}
