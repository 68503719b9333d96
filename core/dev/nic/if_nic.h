/*
 * A plain Ethernet NIC (harness driver, modelled on a simple FreeBSD
 * driver such as em(4)): a transmit ring that holds mbufs until the
 * scenario delivers a tx completion, and a receive entry point.
 *
 * Without NIC_F_TXRTLMT it has no send-tag support (if_snd_tag_alloc is
 * NULL) and asserts that it never receives a tagged packet.  With it, it
 * supports rate-limit and unlimited tags in the simplest correct way, so
 * the IP output path can be tested before the real drivers.
 */
#ifndef _DEV_NIC_IF_NIC_H_
#define	_DEV_NIC_IF_NIC_H_

#include "net/if_var.h"

#define	NIC_F_TXRTLMT	0x0001		/* send tags (IFCAP_TXRTLMT) */
#define	NIC_F_TSO	0x0002		/* IFCAP_TSO */

#define	NIC_RING_DEFAULT	64

struct ifnet *nic_attach(const char *name, int unit, int flags,
	    int ring_size, u_long mtu);
void	nic_detach(struct ifnet *ifp);		/* if_detach + if_free */
/*
 * Complete up to n (n < 0: all) of the oldest transmitted packets;
 * returns how many.
 */
int	nic_txeof(struct ifnet *ifp, int n);
int	nic_ring_count(struct ifnet *ifp);
/* The i-th packet in the tx ring (0 oldest), for tests; NULL past end. */
struct mbuf *nic_ring_peek(struct ifnet *ifp, int i);
/* Deliver m as received on ifp (sets rcvif, calls if_input). */
void	nic_rx(struct ifnet *ifp, struct mbuf *m);
/* Packets transmitted so far (completed or not). */
uint64_t nic_tx_total(struct ifnet *ifp);
/* Tags currently allocated on a NIC_F_TXRTLMT nic. */
int	nic_tags_live(struct ifnet *ifp);

#endif /* !_DEV_NIC_IF_NIC_H_ */
