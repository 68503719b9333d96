/*
 * Model of sys/netinet/in_kdtrace.h: the ip provider's send probe.
 *
 * FreeBSD fires ip:::send (SDT) in ip_output and ip6_output right before
 * each packet, every fragment included, goes to the send helper.  Here
 * a probe is a hook: NULL unless an observer (the fuzzers' behaviour
 * oracles, docs/INVARIANTS.md "wire") is attached, so an unobserved
 * probe costs one load.  The arguments keep FreeBSD's order (pktinfo,
 * csinfo, ipinfo, ifinfo, ipv4, ipv6); pktinfo is the mbuf and csinfo
 * the sending inp (NULL for a forwarded packet), which FreeBSD's
 * translators would take them from.
 */
#ifndef _NETINET_IN_KDTRACE_H_
#define	_NETINET_IN_KDTRACE_H_

struct mbuf;
struct inpcb;
struct ifnet;
struct ip;
struct ip6_hdr;

typedef void ip_probe_send_t(struct mbuf *m, struct inpcb *inp,
    const void *ipinfo, struct ifnet *ifp, const struct ip *ip,
    const struct ip6_hdr *ip6);

extern ip_probe_send_t *ip_probe_send;

#define	IP_PROBE(probe, arg0, arg1, arg2, arg3, arg4, arg5) do {	\
	ip_probe_##probe##_t *_fn;					\
									\
	_fn = __atomic_load_n(&ip_probe_##probe, __ATOMIC_RELAXED);	\
	if (_fn != NULL)						\
		_fn((arg0), (arg1), (arg2), (arg3), (arg4), (arg5));	\
} while (0)

#endif /* !_NETINET_IN_KDTRACE_H_ */
