/*
 * Model of sys/netinet6/ip6_var.h and ip6.h: IPv6 output, input and
 * forwarding, with a simplified header.
 */
#ifndef _NETINET6_IP6_VAR_H_
#define	_NETINET6_IP6_VAR_H_

#include "net/route.h"
#include "netinet/in.h"

struct inpcb;

struct ip6_hdr {
	uint8_t		ip6_vfc;	/* version (6) in the high nibble */
	uint8_t		ip6_nxt;	/* next header */
	uint8_t		ip6_hlim;
	uint8_t		ip6_pad;
	uint32_t	ip6_flow;
	uint16_t	ip6_plen;	/* payload length */
	uint16_t	ip6_frag_off;	/* model: fragment header folded in */
	uint32_t	ip6_frag_id;
	struct in6_addr	ip6_src;
	struct in6_addr	ip6_dst;
};
#define	IP6F_MORE_FRAG	0x0001
#define	IP6F_OFF_MASK	0xfff8		/* fragment offset, bytes */
#define	IP6_MMTU	1280
#define	IPV6_VERSION		0x60
#define	IPV6_VERSION_MASK	0xf0
#define	IPV6_DEFHLIM		64
#define	IPV6_MAXPACKET		65535	/* ip6_plen limit */

/* ip6_output flags */
#define	IPV6_FORWARDING	0x02		/* most of the ip6 header exists */

extern int V_ip6_forwarding;		/* net.inet6.ip6.forwarding */
extern int V_ip6_defhlim;		/* net.inet6.ip6.hlim */

int	ip6_output(struct mbuf *m, void *opt, struct route *ro, int flags,
	    void *im6o, struct ifnet **ifpp, struct inpcb *inp);
int	ip6_output_send(struct inpcb *inp, struct ifnet *ifp,
	    struct ifnet *origifp, struct mbuf *m,
	    const struct sockaddr_in6 *dst, struct route *ro);
int	ip6_fragment(struct ifnet *ifp, struct mbuf *m0, int hlen,
	    u_char nextproto, int fraglen, uint32_t id);
void	ip6_input(struct mbuf *m);
void	ip6_forward(struct mbuf *m, int srcrt);

int	in6_ifaddr_add(struct ifnet *ifp, const struct in6_addr *addr);
bool	in6_localip(const struct in6_addr *addr);
bool	in6_ifaddr_lookup_ifp(struct ifnet *ifp, struct in6_addr *addr);
void	in6_ifaddr_purge(struct ifnet *ifp);
void	in6_ifaddr_reset(void);

struct ip6stat {
	uint64_t	ip6s_total;	/* packets received (ip6_input) */
	uint64_t	ip6s_toosmall;	/* shorter than a header */
	uint64_t	ip6s_badvers;	/* version, length or address bad */
	uint64_t	ip6s_cantforward; /* not for us and not forwarded */
	uint64_t	ip6s_delivered;
	uint64_t	ip6s_forward;
	uint64_t	ip6s_noroute;
	uint64_t	ip6s_fragmented;
	uint64_t	ip6s_ofragments;
	uint64_t	ip6s_odropped;
	uint64_t	ip6s_localout;
};
extern struct ip6stat ip6stat;
#define	IP6STAT_INC(name)						\
	__atomic_fetch_add(&ip6stat.name, 1, __ATOMIC_RELAXED)
#define	IP6STAT_ADD(name, n)						\
	__atomic_fetch_add(&ip6stat.name, (n), __ATOMIC_RELAXED)
void	ip6stat_reset(void);

#endif /* !_NETINET6_IP6_VAR_H_ */
