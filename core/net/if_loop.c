/*
 * Model of sys/net/if_loop.c: the loopback interface.  It has no send-tag
 * support, so a tagged packet reaching it is a bug above (the IP output
 * mismatch check should have turned it into EAGAIN).  Output is turned
 * straight into input on lo, dispatched synchronously (FreeBSD queues it
 * to the netisr; the order of events is the same for one packet).
 */
#include "net/if_loop.h"

#define	LOMTU	16384

static int
lo_transmit(struct ifnet *ifp, struct mbuf *m)
{
	M_ASSERTPKTHDR(m);
	KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("tag at tag-less driver: %s got a tagged packet", ifp->if_xname));
	if ((if_getflags(ifp) & IFF_UP) == 0 ||
	    (if_getdrvflags(ifp) & IFF_DRV_RUNNING) == 0) {
		if_inc_counter(ifp, IFCOUNTER_OERRORS, 1);
		m_freem(m);
		return (ENETDOWN);
	}
	if_inc_counter(ifp, IFCOUNTER_OPACKETS, 1);
	/* The packet is now a received one: rcvif replaces everything. */
	m->m_pkthdr.rcvif = ifp;
	m->m_pkthdr.csum_flags = 0;
	m->m_nextpkt = NULL;
	if_inc_counter(ifp, IFCOUNTER_IPACKETS, 1);
	ether_demux(ifp, m);
	return (0);
}

static int
looutput(struct ifnet *ifp, struct mbuf *m, const struct sockaddr *dst,
    struct route *ro)
{
	return (lo_transmit(ifp, m));
}

static void
lo_input(struct ifnet *ifp, struct mbuf *m)
{
	M_ASSERT_NO_SND_TAG(m);
	m->m_pkthdr.rcvif = ifp;
	ether_demux(ifp, m);
}

struct ifnet *
loop_attach(int unit)
{
	struct ifnet *ifp;

	ifp = if_alloc(IFT_LOOP);
	if_initname(ifp, "lo", unit);
	ifp->if_mtu = LOMTU;
	ifp->if_output = looutput;
	ifp->if_transmit = lo_transmit;
	ifp->if_input = lo_input;
	ifp->if_snd_tag_alloc = NULL;
	ifp->if_flags = IFF_LOOPBACK | IFF_UP;
	ifp->if_drv_flags = IFF_DRV_RUNNING;
	ifp->if_link_state = LINK_STATE_UP;
	if_attach(ifp);
	return (ifp);
}

void
loop_detach(struct ifnet *ifp)
{
	if_detach(ifp);
	if_free(ifp);
}
