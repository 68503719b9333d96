/*
 * Model of sys/net/route.h: a small routing table (IPv4 and IPv6
 * destination prefixes -> ifnet) that scenarios can change at any time.
 *
 * Lookups run inside the net epoch and return the ifnet without a
 * reference (the epoch keeps it alive, as in FreeBSD's fib lookups).  A
 * route holds an if_ref on its ifnet; a deleted or replaced route is freed
 * through epoch_call, so the reference goes only after readers are gone.
 */
#ifndef _NET_ROUTE_H_
#define	_NET_ROUTE_H_

#include "net/if_var.h"
#include "netinet/in.h"

struct route {
	struct ifnet	*ro_ifp;	/* unused cache slot (signature only) */
};

/* af is AF_INET (dst: struct in_addr *) or AF_INET6 (struct in6_addr *). */
int	rt_add(int af, const void *dst, int plen, struct ifnet *ifp);
int	rt_change(int af, const void *dst, int plen, struct ifnet *ifp);
int	rt_delete(int af, const void *dst, int plen);
/* Longest prefix match; NET_EPOCH_ASSERT.  NULL: no route. */
struct ifnet *rt_lookup(int af, const void *dst);
/* if_detach: drop every route through ifp. */
void	rt_flush_ifp(struct ifnet *ifp);
int	rt_count(void);
void	rt_reset(void);		/* between inputs: drop all routes */

#endif /* !_NET_ROUTE_H_ */
