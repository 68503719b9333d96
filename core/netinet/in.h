/*
 * Model of sys/netinet/in.h and netinet6/in6.h: addresses and the
 * protocol numbers the model uses.
 */
#ifndef _NETINET_IN_H_
#define	_NETINET_IN_H_

#include "shim/systm.h"

struct in_addr {
	uint32_t	s_addr;		/* host order in the model */
};

struct in6_addr {
	uint8_t		s6_addr[16];
};

#define	IPPROTO_TCP	6
#define	IPPROTO_UDP	17

struct sockaddr_in {
	uint8_t		sin_len;
	uint8_t		sin_family;
	uint16_t	sin_port;
	struct in_addr	sin_addr;
};

struct sockaddr_in6 {
	uint8_t		sin6_len;
	uint8_t		sin6_family;
	uint16_t	sin6_port;
	struct in6_addr	sin6_addr;
};

#endif /* !_NETINET_IN_H_ */
