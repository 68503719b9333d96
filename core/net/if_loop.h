/*
 * Model of sys/net/if_loop.c's interface: loopback has no send-tag
 * support; looutput hands the packet straight back to the input path.
 */
#ifndef _NET_IF_LOOP_H_
#define	_NET_IF_LOOP_H_

#include "net/if_var.h"

struct ifnet *loop_attach(int unit);
void	loop_detach(struct ifnet *ifp);

#endif /* !_NET_IF_LOOP_H_ */
