/*
 * Model of sys/net/if_ethersubr.c.  The model carries no link-layer
 * header: ether_output "resolves L2" trivially and hands the packet to the
 * driver's if_transmit; ether_input takes a packet whose first byte is the
 * IP header and demultiplexes it by IP version.
 */
#include "net/if_var.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"

void (*vlan_input_p)(struct ifnet *, struct mbuf *);
struct mbuf *(*lagg_input_ethernet_p)(struct ifnet *, struct mbuf *);

int
ether_output(struct ifnet *ifp, struct mbuf *m, const struct sockaddr *dst,
    struct route *ro)
{
	M_ASSERTPKTHDR(m);
	if ((if_getflags(ifp) & IFF_UP) == 0 ||
	    (if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0) {
		m_freem(m);
		return (ENETDOWN);
	}
	/* if_detach may be swapping in the dead methods right now. */
	return (if_gettransmitfn(ifp)(ifp, m));
}

/*
 * Version of the IP header at the front of m: the model's struct ip keeps
 * the version in a whole byte (4), struct ip6_hdr in the high nibble of
 * ip6_vfc (0x60), and a real IPv4 header has it in the high nibble too.
 */
static int
ether_ip_version(struct mbuf *m)
{
	uint8_t b;

	b = *mtod(m, uint8_t *);
	if (b == 4 || (b >> 4) == 4)
		return (4);
	if ((b >> 4) == 6)
		return (6);
	return (0);
}

void
ether_demux(struct ifnet *ifp, struct mbuf *m)
{
	M_ASSERT_NO_SND_TAG(m);
	if (m->m_len < 1 && (m = m_pullup(m, 1)) == NULL) {
		if_inc_counter(ifp, IFCOUNTER_IERRORS, 1);
		return;
	}
	switch (ether_ip_version(m)) {
	case 4:
		ip_input(m);
		break;
	case 6:
		ip6_input(m);
		break;
	default:
		if_inc_counter(ifp, IFCOUNTER_IERRORS, 1);
		m_freem(m);
		break;
	}
}

void
ether_input(struct ifnet *ifp, struct mbuf *m)
{
	M_ASSERT_NO_SND_TAG(m);
	m->m_pkthdr.rcvif = ifp;
	if (m->m_pkthdr.len < 1) {
		if_inc_counter(ifp, IFCOUNTER_IERRORS, 1);
		m_freem(m);
		return;
	}
	/*
	 * A lagg port's frames belong to the lagg.  if_lagg is set and
	 * cleared under the lagg lock while frames arrive; the port it
	 * points to is freed through the net epoch our caller is in.
	 */
	if (__atomic_load_n(&ifp->if_lagg, __ATOMIC_ACQUIRE) != NULL &&
	    lagg_input_ethernet_p != NULL) {
		m = lagg_input_ethernet_p(ifp, m);
		if (m == NULL)
			return;
		ifp = m->m_pkthdr.rcvif;
	}
	if (m->m_flags & M_VLANTAG) {
		if (ifp->if_vlantrunk == NULL || vlan_input_p == NULL) {
			if_inc_counter(ifp, IFCOUNTER_IERRORS, 1);
			m_freem(m);
			return;
		}
		vlan_input_p(ifp, m);
		return;
	}
	ether_demux(ifp, m);
}
