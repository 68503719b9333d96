/*
 * Model of sys/netinet/ip.h: a simplified IPv4 header.  Fields keep their
 * FreeBSD names; values are host order in the model.
 */
#ifndef _NETINET_IP_H_
#define	_NETINET_IP_H_

#include "netinet/in.h"

struct ip {
	uint8_t		ip_v;		/* version (4) */
	uint8_t		ip_hl;		/* header length in 32-bit words */
	uint8_t		ip_ttl;
	uint8_t		ip_p;		/* protocol */
	uint16_t	ip_len;		/* total length */
	uint16_t	ip_id;
	uint16_t	ip_off;		/* fragment offset (8-byte units) */
	uint16_t	ip_sum;
	struct in_addr	ip_src;
	struct in_addr	ip_dst;
};

#define	IP_DF		0x4000
#define	IP_MF		0x2000
#define	IP_OFFMASK	0x1fff
#define	IP_MAXPACKET	65535

#endif /* !_NETINET_IP_H_ */
