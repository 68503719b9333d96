/*
 * Model of sys/net/if_var.h (and the bits of net/if.h it needs): struct
 * ifnet, its methods, send-tag allocation parameters, if_ref/if_rele.
 */
#ifndef _NET_IF_VAR_H_
#define	_NET_IF_VAR_H_

#include "shim/systm.h"
#include "shim/counter.h"
#include "shim/epoch.h"
#include "sys/mbuf.h"

#define	IFNAMSIZ	16

/* if_type */
#define	IFT_ETHER		0x06
#define	IFT_LOOP		0x18
#define	IFT_L2VLAN		0x87
#define	IFT_IEEE8023ADLAG	0xa1

/* if_flags */
#define	IFF_UP		0x00000001
#define	IFF_LOOPBACK	0x00000008
#define	IFF_DYING	0x00200000	/* if_detach() has run */

/* if_drv_flags */
#define	IFF_DRV_RUNNING	0x00000040
#define	IFF_DRV_OACTIVE	0x00000400

/* if_capabilities / if_capenable */
#define	IFCAP_TSO4	0x00000100
#define	IFCAP_TSO6	0x00000200
#define	IFCAP_TSO	(IFCAP_TSO4 | IFCAP_TSO6)
#define	IFCAP_TXRTLMT	0x10000000	/* hardware rate limiting */
#define	IFCAP_MEXTPG	0x20000000	/* unmapped (M_EXTPG) mbufs */
#define	IFCAP_TXTLS4	0x00400000	/* kernel TLS offload, IPv4 */
#define	IFCAP_TXTLS6	0x00800000	/* kernel TLS offload, IPv6 */
#define	IFCAP_TXTLS	(IFCAP_TXTLS4 | IFCAP_TXTLS6)
#define	IFCAP_TXTLS_RTLMT 0x40000000	/* TLS + rate limit tags */
/* What a wrapper (vlan, lagg) passes on from below. */
#define	IFCAP_SNDTAG_MASK (IFCAP_TXRTLMT | IFCAP_MEXTPG | IFCAP_TXTLS | \
			    IFCAP_TXTLS_RTLMT)

/*
 * ioctls (the subset of sys/sockio.h the model has).  SIOCSIFCAP sets
 * if_capenable to ifr_reqcap, as far as the driver supports each bit.
 */
#define	SIOCSIFCAP	0x8020691eUL
#define	SIOCGIFCAP	0xc020691fUL

struct ifreq {
	char		 ifr_name[IFNAMSIZ];
	int		 ifr_reqcap;	/* SIOCSIFCAP: wanted; SIOCGIFCAP: can */
	int		 ifr_curcap;	/* SIOCGIFCAP: enabled */
};

/* if_link_state */
#define	LINK_STATE_UNKNOWN	0
#define	LINK_STATE_DOWN		1
#define	LINK_STATE_UP		2

/* Send tag types. */
#define	IF_SND_TAG_TYPE_RATE_LIMIT	0
#define	IF_SND_TAG_TYPE_UNLIMITED	1
#define	IF_SND_TAG_TYPE_TLS		2
#define	IF_SND_TAG_TYPE_TLS_RATE_LIMIT	3
#define	IF_SND_TAG_TYPE_MAX		4

struct if_snd_tag_alloc_header {
	uint32_t	type;		/* send tag type, IF_SND_TAG_TYPE_* */
	uint32_t	flowid;		/* mbuf hash value */
	uint32_t	flowtype;	/* mbuf hash type */
	uint8_t		numa_domain;
};

struct if_snd_tag_alloc_rate_limit {
	struct if_snd_tag_alloc_header hdr;
	uint64_t	max_rate;	/* in bytes/s */
	uint32_t	flags;
};

struct if_snd_tag_rate_limit_params {
	uint64_t	max_rate;	/* in bytes/s */
	uint32_t	queue_level;	/* 0 (empty) .. 65535 (full) */
	uint32_t	flags;
};

struct inpcb;
struct ktls_session;

/* Kernel TLS tags (later FreeBSD): the session the NIC encrypts for. */
struct if_snd_tag_alloc_tls {
	struct if_snd_tag_alloc_header hdr;
	struct inpcb	*inp;
	const struct ktls_session *tls;
};

struct if_snd_tag_alloc_tls_rate_limit {
	struct if_snd_tag_alloc_header hdr;
	struct inpcb	*inp;
	const struct ktls_session *tls;
	uint64_t	max_rate;	/* in bytes/s */
};

union if_snd_tag_alloc_params {
	struct if_snd_tag_alloc_header hdr;
	struct if_snd_tag_alloc_rate_limit rate_limit;
	struct if_snd_tag_alloc_rate_limit unlimited;
	struct if_snd_tag_alloc_tls tls;
	struct if_snd_tag_alloc_tls_rate_limit tls_rate_limit;
};

union if_snd_tag_modify_params {
	struct if_snd_tag_rate_limit_params rate_limit;
	struct if_snd_tag_rate_limit_params unlimited;
	struct if_snd_tag_rate_limit_params tls_rate_limit;
};

union if_snd_tag_query_params {
	struct if_snd_tag_rate_limit_params rate_limit;
	struct if_snd_tag_rate_limit_params unlimited;
	struct if_snd_tag_rate_limit_params tls_rate_limit;
};

typedef int	if_snd_tag_alloc_t(struct ifnet *,
		    union if_snd_tag_alloc_params *, struct m_snd_tag **);

/*
 * Per-interface transmit accounting of the IP output path (the model's,
 * like struct inp_txstat per connection): what ip_output_send and
 * ip6_output_send handed to this ifnet (the route's, wrappers included),
 * tagged or not, and what came back refused, by reason.  FreeBSD's
 * drivers keep rate-limit statistics of their own; the trace and the C
 * reproducer print these.  Relaxed atomics: senders run concurrently.
 */
struct if_txstat {
	uint64_t	ifts_tagged;	/* accepted, with a send tag */
	uint64_t	ifts_untagged;	/* accepted, no tag */
	uint64_t	ifts_drop_mismatch; /* EAGAIN: tag of another ifnet */
	uint64_t	ifts_drop_nobufs; /* ENOBUFS: a queue or ring full */
	uint64_t	ifts_drop_other; /* any other error */
};

/* Minimal sockaddr and route, enough for if_output's signature. */
struct sockaddr {
	uint8_t		sa_len;
	uint8_t		sa_family;
	char		sa_data[30];	/* room for an IPv6 address */
};
#define	AF_INET		2
#define	AF_INET6	28

struct route;

typedef int	if_output_fn_t(struct ifnet *, struct mbuf *,
		    const struct sockaddr *, struct route *);
typedef int	if_transmit_fn_t(struct ifnet *, struct mbuf *);
typedef void	if_input_fn_t(struct ifnet *, struct mbuf *);
typedef void	if_qflush_fn_t(struct ifnet *);
typedef int	if_ioctl_fn_t(struct ifnet *, u_long, caddr_t);

struct ifnet {
	struct ifnet	*if_next;	/* global list (V_ifnet) */
	char		 if_xname[IFNAMSIZ];
	const char	*if_dname;	/* driver name */
	u_short		 if_index;
	u_char		 if_type;
	int		 if_flags;
	int		 if_drv_flags;
	int		 if_capabilities;
	int		 if_capenable;
	int		 if_link_state;
	u_long		 if_mtu;
	volatile u_int	 if_refcount;
	void		*if_softc;	/* driver state */
	void		*if_lagg;	/* lagg port, if this is a lagg member */
	void		*if_vlantrunk;	/* vlans configured on this parent */
	/* Methods. */
	if_output_fn_t	*if_output;
	if_transmit_fn_t *if_transmit;
	if_input_fn_t	*if_input;
	if_qflush_fn_t	*if_qflush;
	if_ioctl_fn_t	*if_ioctl;	/* NULL: no ioctls (epair, lo) */
	if_snd_tag_alloc_t *if_snd_tag_alloc;
	/*
	 * Harness hook: runs when the last reference is dropped, before the
	 * ifnet memory goes, so a driver can free state that tags (which pin
	 * the ifnet) may still reach through if_softc.
	 */
	void		(*if_free_softc)(struct ifnet *);
	/* Statistics. */
	counter_u64_t	 if_opackets;
	counter_u64_t	 if_oerrors;
	counter_u64_t	 if_ipackets;
	counter_u64_t	 if_ierrors;
	counter_u64_t	 if_snd_tags;	/* tags whose ifp is this ifnet */
	struct if_txstat if_txstat;	/* the IP output path's view */
	/* if.c private. */
	struct ifnet	*if_live_next;	/* every allocated ifnet (ledger) */
	struct epoch_context if_epoch_ctx; /* deferred free after last rele */
	bool		 if_attached;	/* on the V_ifnet list */
};

typedef struct ifnet *if_t;

/*
 * Flag and link-state accessors (FreeBSD's if_t KPI names).  Flags change
 * at detach and link events while other threads read them, so they are
 * accessed atomically; use these rather than the fields when another
 * thread may be changing the ifnet.
 */
static inline int
if_getflags(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_flags, __ATOMIC_RELAXED));
}

static inline int
if_getdrvflags(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_drv_flags, __ATOMIC_RELAXED));
}

static inline void
if_setflagbits(struct ifnet *ifp, int set, int clear)
{
	__atomic_fetch_or(&ifp->if_flags, set, __ATOMIC_RELAXED);
	__atomic_fetch_and(&ifp->if_flags, ~clear, __ATOMIC_RELAXED);
}

static inline void
if_setdrvflagbits(struct ifnet *ifp, int set, int clear)
{
	__atomic_fetch_or(&ifp->if_drv_flags, set, __ATOMIC_RELAXED);
	__atomic_fetch_and(&ifp->if_drv_flags, ~clear, __ATOMIC_RELAXED);
}

static inline int
if_getlinkstate(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_link_state, __ATOMIC_RELAXED));
}

/*
 * Capabilities (if_getcapenable, FreeBSD's names): a vlan's follow its
 * parent's and change while transmit paths test them, so they are read
 * atomically.  FreeBSD reads them plainly (an aligned int load is atomic
 * on every platform it runs on); C calls that a data race.
 */
static inline int
if_getcapabilities(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_capabilities, __ATOMIC_RELAXED));
}

static inline int
if_getcapenable(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_capenable, __ATOMIC_RELAXED));
}

/*
 * SIOCSIFCAP: a driver turns bits of if_capenable on and off while
 * transmit paths test them.
 */
static inline void
if_setcapenablebit(struct ifnet *ifp, int set, int clear)
{
	__atomic_fetch_or(&ifp->if_capenable, set, __ATOMIC_RELAXED);
	__atomic_fetch_and(&ifp->if_capenable, ~clear, __ATOMIC_RELAXED);
}

/*
 * Methods (if_getinputfn, if_gettransmitfn as in FreeBSD; if_getoutputfn
 * and if_getsndtagallocfn are the model's, for the two FreeBSD calls
 * through the field).  if_dead swaps them while other threads call
 * through them; each load yields the driver's method or the dead one.
 */
static inline if_output_fn_t *
if_getoutputfn(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_output, __ATOMIC_RELAXED));
}

static inline if_transmit_fn_t *
if_gettransmitfn(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_transmit, __ATOMIC_RELAXED));
}

static inline if_input_fn_t *
if_getinputfn(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_input, __ATOMIC_RELAXED));
}

static inline if_ioctl_fn_t *
if_getioctlfn(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_ioctl, __ATOMIC_RELAXED));
}

static inline if_snd_tag_alloc_t *
if_getsndtagallocfn(const struct ifnet *ifp)
{
	return (__atomic_load_n(&ifp->if_snd_tag_alloc, __ATOMIC_RELAXED));
}

#define	IFCOUNTER_OPACKETS	0
#define	IFCOUNTER_OERRORS	1
#define	IFCOUNTER_IPACKETS	2
#define	IFCOUNTER_IERRORS	3
void	if_inc_counter(struct ifnet *ifp, int cnt, int64_t inc);
/* Account one packet the IP output path handed to ifp (struct if_txstat). */
void	if_txstat_count(struct ifnet *ifp, bool tagged, int error);

MALLOC_DECLARE(M_IFNET);

/* if.c */
struct ifnet *if_alloc(u_char type);
void	if_initname(struct ifnet *ifp, const char *name, int unit);
void	if_attach(struct ifnet *ifp);
void	if_detach(struct ifnet *ifp);	/* dead methods, off the list */
void	if_free(struct ifnet *ifp);	/* drops the if_alloc reference */
void	if_ref(struct ifnet *ifp);
bool	if_try_ref(struct ifnet *ifp);	/* in the net epoch */
void	if_rele(struct ifnet *ifp);
void	if_link_state_change(struct ifnet *ifp, int link_state);
/* SIOCSIFCAP/SIOCGIFCAP (ifconfig [-]txrtlmt): EINVAL beyond capabilities. */
int	ifhwioctl(u_long cmd, struct ifnet *ifp, caddr_t data);
/*
 * Harness stand-in for ifconfig(8)'s setifcap: SIOCGIFCAP, then SIOCSIFCAP
 * with 'cap' set (on) or cleared in the current if_capenable.
 */
int	ifconfig_setcap(struct ifnet *ifp, int cap, bool on);
struct ifnet *ifunit(const char *name);	/* NULL if none; no reference */
struct ifnet *ifnet_byindex(u_short idx);
/* Link-state listeners (lagg), called with no locks held. */
typedef void if_link_event_t(void *arg, struct ifnet *ifp, int state);
void	if_link_event_register(if_link_event_t *fn, void *arg);
void	if_link_event_deregister(if_link_event_t *fn, void *arg);
/* Departure listeners (vlan, lagg), called from if_detach. */
typedef void if_departure_event_t(void *arg, struct ifnet *ifp);
void	if_departure_event_register(if_departure_event_t *fn, void *arg);
void	if_departure_event_deregister(if_departure_event_t *fn, void *arg);

/* Harness ledger: ifnets whose memory is still allocated. */
int	ifnet_live_count(void);
/*
 * Harness (variant canaries): true when ifp is no longer an allocated
 * ifnet, or is one that if_detach has run on.  Never dereferences a freed
 * ifp: it looks the pointer up in the live list.
 */
bool	ifnet_gone_or_dying(const struct ifnet *ifp);
void	ifnet_foreach_live(void (*cb)(struct ifnet *, void *), void *arg);
void	if_reset(void);

/* if_dead.c: the methods of a detached ifnet. */
void	if_dead(struct ifnet *ifp);

/* if_ethersubr.c: Ethernet if_output, resolves L2 then if_transmit. */
int	ether_output(struct ifnet *ifp, struct mbuf *m,
	    const struct sockaddr *dst, struct route *ro);
void	ether_input(struct ifnet *ifp, struct mbuf *m);
/*
 * Hand a received packet (rcvif set, no tag) to ip_input or ip6_input by
 * the IP version in its first byte; anything else is dropped and counted
 * as an input error.  Shared by ether_input and looutput.
 */
void	ether_demux(struct ifnet *ifp, struct mbuf *m);
/*
 * Receive hooks, as FreeBSD's: a vlan-tagged frame (M_VLANTAG) on an
 * ifnet with if_vlantrunk goes to vlan_input_p; a frame on a lagg port
 * (if_lagg) goes first through lagg_input_ethernet_p, which returns the
 * mbuf re-homed on the lagg (rcvif changed) or NULL when it consumed it.
 * NULL hooks: the frame is handled as untagged / not a port.
 */
extern void (*vlan_input_p)(struct ifnet *, struct mbuf *);
extern struct mbuf *(*lagg_input_ethernet_p)(struct ifnet *, struct mbuf *);

#endif /* !_NET_IF_VAR_H_ */
