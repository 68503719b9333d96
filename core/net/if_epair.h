/*
 * Model of sys/net/if_epair.c's interface: a pair of Ethernet interfaces;
 * a packet transmitted on one is received on the other.  Delivery is
 * deferred (the epair queue is an actor): it happens when the scenario or
 * quiesce asks for progress.
 */
#ifndef _NET_IF_EPAIR_H_
#define	_NET_IF_EPAIR_H_

#include "net/if_var.h"

/*
 * Packets in flight, both ways, over all pairs: full (ENOBUFS) after a
 * handful of sends, and a forwarding loop's storm is capped early.
 */
#define	EPAIR_QUEUE_MAX		64

int	epair_clone_create(int unit, struct ifnet **a, struct ifnet **b);
/* Destroys both sides (either may be passed). */
void	epair_clone_destroy(struct ifnet *ifp);
/* Deliver up to n queued packets (both directions); returns how many. */
int	epair_deliver(int n);
int	epair_queued(void);

#endif /* !_NET_IF_EPAIR_H_ */
