/*
 * Model of sys/net/if_vlan_var.h: creating, reparenting and destroying
 * vlan interfaces (ifconfig vlanN create / vlandev / destroy).
 */
#ifndef _NET_IF_VLAN_VAR_H_
#define	_NET_IF_VLAN_VAR_H_

#include "net/if_var.h"

MALLOC_DECLARE(M_VLAN);		/* softc, trunk records, wrapper tags */

/* parent may be NULL (a vlan with no parent: transmit gives ENETDOWN). */
struct ifnet *vlan_clone_create(int unit, uint16_t vid, struct ifnet *parent);
void	vlan_clone_destroy(struct ifnet *ifp);
/* Reparent (NULL: unset).  Outstanding tags are not touched. */
int	vlan_setparent(struct ifnet *ifp, struct ifnet *parent);
struct ifnet *vlan_trunkdev(struct ifnet *ifp);	/* NULL if none */
uint16_t vlan_tag(struct ifnet *ifp);		/* the vlan id */
/*
 * A parent's capabilities changed (its SIOCSIFCAP, a lagg's port set):
 * its vlans follow.  FreeBSD calls it through VLAN_CAPABILITIES(ifp).
 */
void	vlan_trunk_capabilities(struct ifnet *ifp);
#define	VLAN_CAPABILITIES(ifp)	vlan_trunk_capabilities(ifp)

/*
 * A vlan send tag wraps a tag allocated on the parent; com.ifp is the vlan
 * ifnet, so ip_output's ifp check holds, and vlan_transmit swaps the
 * packet's reference to the inner tag before handing it to the parent.
 */
struct vlan_snd_tag {
	struct m_snd_tag com;		/* ifp: the vlan */
	struct m_snd_tag *tag;		/* allocated on the parent */
};

/*
 * Shared by the wrapper tags of vlan and lagg (if_vlan.c).
 *
 * wrapper_snd_tag_swap: the packet's reference moves from its wrapper tag
 * to 'inner', taking the inner reference before releasing the outer one
 * (spec invariant 6).  The swap names 'inner' for its duration
 * (wrapper_snd_tag_swap_begin/_end), and a wrapper's free method drops its
 * own reference on the inner tag through wrapper_snd_tag_rele_inner(),
 * which panics "snd_tag refcount: ..." if that would be the last reference
 * of the tag being swapped in: that happens only when the outer reference
 * was released first.
 */
void	wrapper_snd_tag_swap(struct mbuf *m, struct m_snd_tag *inner);
void	wrapper_snd_tag_swap_begin(struct m_snd_tag *inner);
void	wrapper_snd_tag_swap_end(void);
void	wrapper_snd_tag_rele_inner(struct m_snd_tag *inner);

/*
 * True when 'target' is 'ifp' or lies under it through vlan parents and
 * lagg ports (or the stack is too deep to tell): making 'target' stack on
 * 'ifp' would build a loop.
 */
bool	vlan_lagg_reaches(struct ifnet *ifp, struct ifnet *target);

#endif /* !_NET_IF_VLAN_VAR_H_ */
