/*
 * Fixtures shared by the ctest suites: the addresses, ifnets, sockets,
 * tags and packets many suites build the same way.  A helper that only
 * one suite needs, or whose defaults are one suite's own (a flowid, a
 * packet length), stays in that suite, usually as a one-line wrapper
 * around a helper here.
 *
 * Every helper CHECKs what it builds, so a case fails at the line that
 * set up a broken fixture rather than later.  The ifnet helpers register
 * their ifnet with the world (world_add_ifnet), so they need a case
 * between t_world_begin() and t_world_end().
 */
#ifndef _TESTS_FIXTURES_H_
#define	_TESTS_FIXTURES_H_

#include <pthread.h>

#include "net/if_var.h"
#include "netinet/in.h"
#include "sys/mbuf.h"

struct inpcb;
struct socket;

/* The remote end of the suites' IPv4 and IPv6 flows, and its prefix. */
extern const struct in_addr dst4;	/* 192.168.1.5 */
extern const struct in_addr net4;	/* 192.168.1/24 */
extern const struct in6_addr dst6;	/* 2001:db8::5 */
extern const struct in6_addr net6;	/* 2001:db8::/32 */

/* Run deferred epoch callbacks, including those queued by callbacks. */
void	t_drain(void);

/* A tag's reference count. */
u_int	t_refs(struct m_snd_tag *mst);
/* The tag a wrapper (vlan, lagg) holds; CHECKs that it is a wrapper. */
struct m_snd_tag *t_inner(struct m_snd_tag *mst);
struct inpcb *t_inp(struct socket *so);

/*
 * ifnets, each registered with the world.  t_nic: the plain nic with the
 * default ring and MTU 1500; t_nic_ring chooses both (ring 0 is the
 * default ring).  t_lagg adds p0 and p1 as ports when not NULL.
 */
struct ifnet *t_nic(int unit, int flags);
struct ifnet *t_nic_ring(int unit, int flags, int ring, u_long mtu);
struct ifnet *t_vlan(int unit, uint16_t vid, struct ifnet *parent);
struct ifnet *t_lagg(int unit, int proto, struct ifnet *p0,
	    struct ifnet *p1);
struct ifnet *t_cxgbe_attach(int unit, int etids, int classes, int credits,
	    int backlog);
/* Detach and free an ifnet the case made itself (no world), then drain. */
void	t_ifnet_destroy(struct ifnet *ifp);

/*
 * Connected sockets.  With ifp, the destination's prefix (net4, net6) is
 * routed through it first; without, the route must be there already.
 * t_socket connects to dst4 port 80, t_socket_port to another port,
 * t_socket6 to dst6 port 443.  t_tcp_socket is a t_socket(SOCK_STREAM)
 * with SO_MAX_PACING_RATE set to rate.
 */
void	t_sin(struct sockaddr_in *sin, uint16_t port);	/* dst4:port */
struct socket *t_socket(int type, struct ifnet *ifp);
struct socket *t_socket_port(int type, struct ifnet *ifp, uint16_t port);
struct socket *t_socket6(int type, struct ifnet *ifp);
struct socket *t_tcp_socket(struct ifnet *ifp, uint32_t rate);

/*
 * Tags from m_snd_tag_alloc.  t_tag_alloc sets every field the suites
 * use; *mstp is NULL unless it returns 0.  t_alloc_type: an opaque-hash
 * flow at 1000000 bytes/s.  t_alloc_rate: an opaque-hash flow at rate;
 * with errp the error is stored there (NULL returned on one), without it
 * the allocation must succeed.
 */
int	t_tag_alloc(struct ifnet *ifp, uint32_t type, uint32_t flowid,
	    uint32_t flowtype, uint64_t rate, struct m_snd_tag **mstp);
int	t_alloc_type(struct ifnet *ifp, uint32_t type, uint32_t flowid,
	    struct m_snd_tag **mstp);
struct m_snd_tag *t_alloc_rate(struct ifnet *ifp, uint32_t type,
	    uint32_t flowid, uint64_t rate, int *errp);

/*
 * A test-owned tag whose memory is the test's: the free method only
 * counts.  Each suite declares its own if_snd_tag_sw with t_tag_free.
 */
struct t_tag {
	struct m_snd_tag com;
	int		 frees;
};
void	t_tag_free(struct m_snd_tag *mst);

/*
 * A len-byte packet (len <= MLEN) filled with 0x45, with that flowid and
 * hash type; with mst it owns one reference on it (CSUM_SND_TAG set), as
 * ip_output would leave it.  t_pkt_len: flowid 7, opaque hash, the flow
 * of t_alloc_type(..., 7, ...).
 */
struct mbuf *t_pkt_make(struct m_snd_tag *mst, int len, uint32_t flowid,
	    uint32_t hashtype);
struct mbuf *t_pkt_len(struct m_snd_tag *mst, int len);

/*
 * A second reader of an inp on another thread, so the holder of the
 * read lock cannot upgrade it.  t_reader_start returns once the reader
 * holds the lock; t_reader_stop releases it and joins the thread.
 */
struct t_reader {
	struct inpcb	*inp;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 state;		/* 1: holding, 2: release */
	pthread_t	 td;
};
void	t_reader_start(struct t_reader *r, struct inpcb *inp);
void	t_reader_stop(struct t_reader *r);

#endif /* !_TESTS_FIXTURES_H_ */
