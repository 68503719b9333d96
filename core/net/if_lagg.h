/*
 * Model of sys/net/if_lagg.h: lagg interfaces and their ports
 * (ifconfig laggN create / laggproto / laggport / -laggport).
 */
#ifndef _NET_IF_LAGG_H_
#define	_NET_IF_LAGG_H_

#include "net/if_var.h"

MALLOC_DECLARE(M_LAGG);		/* softc, ports, wrapper tags */

#define	LAGG_PROTO_NONE		0
#define	LAGG_PROTO_ROUNDROBIN	1
#define	LAGG_PROTO_FAILOVER	2
#define	LAGG_PROTO_LOADBALANCE	3
#define	LAGG_PROTO_LACP		4
#define	LAGG_PROTO_BROADCAST	5
#define	LAGG_PROTO_MAX		6

#define	LAGG_OPT_USE_FLOWID	0x0020	/* use the mbuf flowid for hashing */

#define	LAGG_MAX_PORTS		8

/* Default shift of the mbuf flowid before it picks a port. */
#define	LAGG_DEF_FLOWID_SHIFT	16

struct ifnet *lagg_clone_create(int unit, int proto);
void	lagg_clone_destroy(struct ifnet *ifp);
int	lagg_port_create(struct ifnet *lagg, struct ifnet *port);
int	lagg_port_destroy(struct ifnet *lagg, struct ifnet *port);
int	lagg_set_proto(struct ifnet *lagg, int proto);
/* Set (opts > 0) or clear (opts < 0, as -opts) LAGG_OPT_* bits. */
int	lagg_set_opts(struct ifnet *lagg, int opts);
int	lagg_port_count(struct ifnet *lagg);
struct ifnet *lagg_port_ifp(struct ifnet *lagg, int i);	/* NULL past end */
int	lagg_get_proto(struct ifnet *lagg);	/* -1 if not a lagg */

/* As vlan_snd_tag: com.ifp is the lagg, tag was allocated on a port. */
struct lagg_snd_tag {
	struct m_snd_tag com;		/* ifp: the lagg */
	struct m_snd_tag *tag;		/* allocated on a port */
};

#endif /* !_NET_IF_LAGG_H_ */
