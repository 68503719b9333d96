/*
 * Model of sys/net/if_vlan_var.h: creating, reparenting and destroying
 * vlan interfaces (ifconfig vlanN create / vlandev / destroy).
 */
#ifndef _NET_IF_VLAN_VAR_H_
#define	_NET_IF_VLAN_VAR_H_

#include "net/if_var.h"

/* parent may be NULL (a vlan with no parent: transmit gives ENETDOWN). */
struct ifnet *vlan_clone_create(int unit, uint16_t vid, struct ifnet *parent);
void	vlan_clone_destroy(struct ifnet *ifp);
/* Reparent (NULL: unset).  Outstanding tags are not touched. */
int	vlan_setparent(struct ifnet *ifp, struct ifnet *parent);
struct ifnet *vlan_trunkdev(struct ifnet *ifp);	/* NULL if none */

#endif /* !_NET_IF_VLAN_VAR_H_ */
