/* Fixtures shared by the ctest suites; see fixtures.h. */
#include <pthread.h>

#include "tests/fixtures.h"
#include "tests/testlib.h"
#include "harness/world.h"
#include "dev/cxgbe/adapter.h"
#include "dev/nic/if_nic.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/socketvar.h"

const struct in_addr dst4 = { 0xc0a80105 };
const struct in_addr net4 = { 0xc0a80100 };
const struct in6_addr dst6 = { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 5 } };
const struct in6_addr net6 = { { 0x20, 0x01, 0x0d, 0xb8 } };

void
t_drain(void)
{
	while (epoch_pending() > 0)
		(void)epoch_drain_callbacks();
}

u_int
t_refs(struct m_snd_tag *mst)
{
	return (refcount_load(&mst->refcount));
}

struct m_snd_tag *
t_inner(struct m_snd_tag *mst)
{
	CHECK(mst->sw != NULL && mst->sw->next_snd_tag != NULL);
	return (mst->sw->next_snd_tag(mst));
}

struct inpcb *
t_inp(struct socket *so)
{
	return (so->so_pcb);
}

struct ifnet *
t_nic_ring(int unit, int flags, int ring, u_long mtu)
{
	struct ifnet *ifp;

	ifp = nic_attach("nic", unit, flags, ring, mtu);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, nic_detach);
	return (ifp);
}

struct ifnet *
t_nic(int unit, int flags)
{
	return (t_nic_ring(unit, flags, NIC_RING_DEFAULT, 1500));
}

struct ifnet *
t_vlan(int unit, uint16_t vid, struct ifnet *parent)
{
	struct ifnet *ifp;

	ifp = vlan_clone_create(unit, vid, parent);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, vlan_clone_destroy);
	return (ifp);
}

struct ifnet *
t_lagg(int unit, int proto, struct ifnet *p0, struct ifnet *p1)
{
	struct ifnet *ifp;

	ifp = lagg_clone_create(unit, proto);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, lagg_clone_destroy);
	if (p0 != NULL)
		CHECK_EQ(lagg_port_create(ifp, p0), 0);
	if (p1 != NULL)
		CHECK_EQ(lagg_port_create(ifp, p1), 0);
	return (ifp);
}

struct ifnet *
t_cxgbe_attach(int unit, int etids, int classes, int credits, int backlog)
{
	struct cxgbe_params p = {
		.n_etids = etids,
		.n_classes = classes,
		.tx_credits = credits,
		.max_backlog = backlog,
	};
	struct ifnet *ifp;

	ifp = cxgbe_attach(unit, &p);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, cxgbe_detach);
	return (ifp);
}

void
t_ifnet_destroy(struct ifnet *ifp)
{
	if_detach(ifp);
	if_free(ifp);
	t_drain();
}

void
t_sin(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_len = sizeof(*sin);
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	sin->sin_addr = dst4;
}

struct socket *
t_socket_port(int type, struct ifnet *ifp, uint16_t port)
{
	struct sockaddr_in sin;
	struct socket *so;

	if (ifp != NULL)
		CHECK_EQ(rt_add(AF_INET, &net4, 24, ifp), 0);
	CHECK_EQ(socreate(AF_INET, &so, type, 0), 0);
	t_sin(&sin, port);
	CHECK_EQ(soconnect(so, (struct sockaddr *)&sin), 0);
	return (so);
}

struct socket *
t_socket(int type, struct ifnet *ifp)
{
	return (t_socket_port(type, ifp, 80));
}

struct socket *
t_socket6(int type, struct ifnet *ifp)
{
	struct sockaddr_in6 sin6;
	struct socket *so;

	if (ifp != NULL)
		CHECK_EQ(rt_add(AF_INET6, &net6, 32, ifp), 0);
	CHECK_EQ(socreate(AF_INET6, &so, type, 0), 0);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_len = sizeof(sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = 443;
	sin6.sin6_addr = dst6;
	CHECK_EQ(soconnect(so, (struct sockaddr *)&sin6), 0);
	return (so);
}

struct socket *
t_tcp_socket(struct ifnet *ifp, uint32_t rate)
{
	struct socket *so;

	so = t_socket(SOCK_STREAM, ifp);
	CHECK_EQ(sosetopt_max_pacing_rate(so, rate), 0);
	return (so);
}

int
t_tag_alloc(struct ifnet *ifp, uint32_t type, uint32_t flowid,
    uint32_t flowtype, uint64_t rate, struct m_snd_tag **mstp)
{
	union if_snd_tag_alloc_params p;

	memset(&p, 0, sizeof(p));
	p.rate_limit.hdr.type = type;
	p.rate_limit.hdr.flowid = flowid;
	p.rate_limit.hdr.flowtype = flowtype;
	p.rate_limit.max_rate = rate;
	*mstp = NULL;
	return (m_snd_tag_alloc(ifp, &p, mstp));
}

int
t_alloc_type(struct ifnet *ifp, uint32_t type, uint32_t flowid,
    struct m_snd_tag **mstp)
{
	return (t_tag_alloc(ifp, type, flowid, M_HASHTYPE_OPAQUE_HASH,
	    1000000, mstp));
}

struct m_snd_tag *
t_alloc_rate(struct ifnet *ifp, uint32_t type, uint32_t flowid,
    uint64_t rate, int *errp)
{
	struct m_snd_tag *mst;
	int error;

	error = t_tag_alloc(ifp, type, flowid, M_HASHTYPE_OPAQUE_HASH, rate,
	    &mst);
	if (errp != NULL)
		*errp = error;
	else
		CHECK_EQ(error, 0);
	return (error == 0 ? mst : NULL);
}

void
t_tag_free(struct m_snd_tag *mst)
{
	((struct t_tag *)mst)->frees++;
}

struct mbuf *
t_pkt_make(struct m_snd_tag *mst, int len, uint32_t flowid,
    uint32_t hashtype)
{
	struct mbuf *m;

	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	CHECK(len <= MLEN);
	memset(mtod(m, char *), 0x45, (size_t)len);
	m->m_len = m->m_pkthdr.len = len;
	m->m_pkthdr.flowid = flowid;
	M_HASHTYPE_SET(m, hashtype);
	if (mst != NULL) {
		m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
		m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	}
	return (m);
}

struct mbuf *
t_pkt_len(struct m_snd_tag *mst, int len)
{
	return (t_pkt_make(mst, len, 7, M_HASHTYPE_OPAQUE_HASH));
}

static void *
t_reader_main(void *arg)
{
	struct t_reader *r = arg;

	INP_RLOCK(r->inp);
	pthread_mutex_lock(&r->mu);
	r->state = 1;
	pthread_cond_broadcast(&r->cv);
	while (r->state != 2)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	INP_RUNLOCK(r->inp);
	return (NULL);
}

void
t_reader_start(struct t_reader *r, struct inpcb *inp)
{
	r->inp = inp;
	r->state = 0;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	CHECK_EQ(pthread_create(&r->td, NULL, t_reader_main, r), 0);
	pthread_mutex_lock(&r->mu);
	while (r->state != 1)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

void
t_reader_stop(struct t_reader *r)
{
	pthread_mutex_lock(&r->mu);
	r->state = 2;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	CHECK_EQ(pthread_join(r->td, NULL), 0);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}
