/*
 * Model of sys/netinet/ip_var.h: IPv4 output, input and forwarding.
 */
#ifndef _NETINET_IP_VAR_H_
#define	_NETINET_IP_VAR_H_

#include "net/route.h"
#include "netinet/ip.h"

struct inpcb;

/* ip_output flags */
#define	IP_FORWARDING	0x1		/* most of ip header exists */

extern int V_ipforwarding;		/* net.inet.ip.forwarding */
#define	IPDEFTTL	64
extern int V_ip_defttl;			/* net.inet.ip.ttl */

int	ip_output(struct mbuf *m, struct mbuf *opt, struct route *ro,
	    int flags, void *imo, struct inpcb *inp);
/* Exposed (static in FreeBSD) so tests can drive it directly. */
int	ip_output_send(struct inpcb *inp, struct ifnet *ifp, struct mbuf *m,
	    const struct sockaddr_in *gw, struct route *ro);
int	ip_fragment(struct ip *ip, struct mbuf **m_frag, int mtu,
	    u_long if_hwassist_flags);
void	ip_input(struct mbuf *m);
void	ip_forward(struct mbuf *m, int srcrt);

/* Local addresses: packets to these are delivered, not forwarded. */
int	in_ifaddr_add(struct ifnet *ifp, struct in_addr addr);
bool	in_localip(struct in_addr addr);
/* First address configured on ifp (for choosing a source); false: none. */
bool	in_ifaddr_lookup_ifp(struct ifnet *ifp, struct in_addr *addr);
void	in_ifaddr_purge(struct ifnet *ifp);
void	in_ifaddr_reset(void);

/* Statistics the scenarios and tests read (ipstat). */
struct ipstat {
	uint64_t	ips_total;	/* packets received (ip_input) */
	uint64_t	ips_toosmall;	/* shorter than a header */
	uint64_t	ips_badvers;	/* version, header or length bad */
	uint64_t	ips_cantforward; /* not for us and not forwarded */
	uint64_t	ips_delivered;
	uint64_t	ips_forward;
	uint64_t	ips_noroute;
	uint64_t	ips_fragmented;
	uint64_t	ips_ofragments;
	uint64_t	ips_odropped;
	uint64_t	ips_localout;
};
extern struct ipstat ipstat;
/* Updated from any thread: atomically, so the counters never race. */
#define	IPSTAT_INC(name)						\
	__atomic_fetch_add(&ipstat.name, 1, __ATOMIC_RELAXED)
#define	IPSTAT_ADD(name, n)						\
	__atomic_fetch_add(&ipstat.name, (n), __ATOMIC_RELAXED)
void	ipstat_reset(void);

#define	IPVERSION	4
#define	IPDEFTTL	64

#endif /* !_NETINET_IP_VAR_H_ */
