/*
 * Issue 14 item 3: lagg and vlan follow their ports (if_lagg.c
 * lagg_linkstate, if_vlan.c vlan_link_state): a lagg is up while one of
 * its ports is, a vlan's link is its parent's, and a port's link event
 * travels through them to the tag path of a lagg over vlans.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"

static int
t_link(struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_link_state, __ATOMIC_RELAXED));
}

static void
test_lagg_follows_ports(void)
{
	struct ifnet *n0, *n1, *lagg, *vlan;

	t_world_begin();
	n0 = t_nic(0, NIC_F_TXRTLMT);
	n1 = t_nic(1, NIC_F_TXRTLMT);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, n0, n1);
	vlan = t_vlan(0, 3, lagg);
	CHECK_EQ(t_link(lagg), LINK_STATE_UP);
	CHECK_EQ(t_link(vlan), LINK_STATE_UP);
	if_link_state_change(n0, LINK_STATE_DOWN);
	CHECK_EQ(t_link(lagg), LINK_STATE_UP);
	if_link_state_change(n1, LINK_STATE_DOWN);
	CHECK_EQ(t_link(lagg), LINK_STATE_DOWN);
	CHECK_EQ(t_link(vlan), LINK_STATE_DOWN);	/* follows the lagg */
	if_link_state_change(n1, LINK_STATE_UP);
	CHECK_EQ(t_link(lagg), LINK_STATE_UP);
	CHECK_EQ(t_link(vlan), LINK_STATE_UP);
	CHECK_EQ(lagg_port_destroy(lagg, n1), 0);
	CHECK_EQ(t_link(lagg), LINK_STATE_DOWN);	/* n0 is still down */
	CHECK_EQ(lagg_port_create(lagg, n1), 0);
	CHECK_EQ(t_link(lagg), LINK_STATE_UP);
	CHECK_EQ(vlan_setparent(vlan, NULL), 0);
	CHECK_EQ(t_link(vlan), LINK_STATE_DOWN);
	CHECK_EQ(vlan_setparent(vlan, n1), 0);
	CHECK_EQ(t_link(vlan), LINK_STATE_UP);
	t_world_end();
}

/*
 * A lagg over two vlans: a nic's link event takes its vlan down, the
 * failover lagg moves to the other vlan, and the flow's next packet
 * meets its stale tag (EAGAIN) and re-allocates over the other port.
 */
static void
test_port_link_reaches_tag_path(void)
{
	struct ifnet *n0, *n1, *v0, *v1, *lagg;
	struct socket *so;
	struct inpcb *inp;

	t_world_begin();
	n0 = t_nic(0, NIC_F_TXRTLMT);
	n1 = t_nic(1, NIC_F_TXRTLMT);
	v0 = t_vlan(0, 10, n0);
	v1 = t_vlan(1, 11, n1);
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, v0, v1);
	so = t_tcp_socket(lagg, 125000);
	inp = t_inp(so);
	CHECK_EQ(sosend(so, 500, 0), 0);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK_EQ(t_inner(t_inner(inp->inp_snd_tag))->ifp, n0);
	if_link_state_change(n0, LINK_STATE_DOWN);
	CHECK_EQ(t_link(v0), LINK_STATE_DOWN);
	CHECK_EQ(t_link(lagg), LINK_STATE_UP);
	CHECK_EQ(sosend(so, 500, 0), EAGAIN);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) != 0);
	CHECK_EQ(sosend(so, 500, 0), 0);
	CHECK_EQ(t_inner(t_inner(inp->inp_snd_tag))->ifp, n1);
	t_world_end();
}

int
main(void)
{
	RUN(test_lagg_follows_ports);
	RUN(test_port_link_reaches_tag_path);
	return (t_done());
}
