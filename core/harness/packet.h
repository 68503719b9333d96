/*
 * Harness (not FreeBSD): build the packets that scenarios inject as if
 * received from the wire, so the forwarding and receive paths run on real
 * headers.
 */
#ifndef _HARNESS_PACKET_H_
#define	_HARNESS_PACKET_H_

#include "sys/mbuf.h"
#include "netinet/in.h"

/*
 * A packet with an IPv4 (or IPv6) header and 'payload' bytes of a fixed
 * pattern, M_PKTHDR set, no tag, no rcvif.  NULL when allocation fails.
 */
struct mbuf *packet_build_ip4(struct in_addr src, struct in_addr dst,
	    uint8_t proto, int payload, int how);
struct mbuf *packet_build_ip6(const struct in6_addr *src,
	    const struct in6_addr *dst, uint8_t proto, int payload, int how);

#endif /* !_HARNESS_PACKET_H_ */
