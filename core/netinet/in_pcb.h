/*
 * Model of sys/netinet/in_pcb.h: the inpcb fields and the RATELIMIT
 * functions of in_pcb.c.
 *
 * inp_snd_tag owns one reference and changes only under the write lock.
 */
#ifndef _NETINET_IN_PCB_H_
#define	_NETINET_IN_PCB_H_

#include "shim/lock.h"
#include "net/if_var.h"
#include "netinet/in.h"

struct socket;

/*
 * Per-connection transmit accounting, kept the way FreeBSD keeps its
 * statistics (tcpstat, if_inc_counter): counted where the packet's fate
 * is decided, read by the behaviour oracles (docs/INVARIANTS.md) and the
 * trace.  Updated with relaxed atomics: UDP senders share the read lock.
 */
struct inp_txstat {
	uint64_t	its_tagged;	/* if_output accepted, with a tag */
	uint64_t	its_untagged;	/* if_output accepted, no tag */
	uint64_t	its_drop_mismatch; /* EAGAIN: tag/ifp mismatch */
	uint64_t	its_drop_other;	/* if_output failed otherwise */
	uint64_t	its_rl_fail;	/* tag alloc/modify failed or no hash */
	uint64_t	its_rl_rate;	/* rate the tag last accepted */
};
#define	INP_TXSTAT_INC(inp, name)					\
	__atomic_fetch_add(&(inp)->inp_txstat.name, 1, __ATOMIC_RELAXED)

struct inpcb {
	struct inpcb	*inp_next;	/* global list (for teardown) */
	struct rwlock	 inp_lock;
	int		 inp_flags;	/* INP_DROPPED, ... */
	int		 inp_flags2;	/* INP_RATE_LIMIT_CHANGED, ... */
	u_char		 inp_vflag;	/* INP_IPV4 / INP_IPV6 */
	u_char		 inp_proto;	/* IPPROTO_TCP / IPPROTO_UDP */
	volatile u_int	 inp_refcount;
	struct socket	*inp_socket;	/* back pointer to socket */
	struct m_snd_tag *inp_snd_tag;	/* send tag for outgoing packets */
	uint32_t	 inp_flowid;	/* RSS hash of the 4-tuple */
	uint32_t	 inp_flowtype;	/* M_HASHTYPE_* */
	struct in_addr	 inp_laddr;
	struct in_addr	 inp_faddr;
	struct in6_addr	 in6p_laddr;
	struct in6_addr	 in6p_faddr;
	uint16_t	 inp_lport;
	uint16_t	 inp_fport;
	uint32_t	 inp_ip_id;	/* next IP id (fragment grouping) */
	struct inp_txstat inp_txstat;	/* transmit accounting */
};

/* inp_vflag */
#define	INP_IPV4	0x1
#define	INP_IPV6	0x2

/* inp_flags */
#define	INP_DROPPED	0x04000000	/* protocol drop flag */
#define	INP_FREED	0x00010000	/* in_pcbfree has run */

/* inp_flags2 */
#define	INP_RATE_LIMIT_CHANGED	0x00000400	/* rate limit needs attention */

#define	INP_LOCK_INIT(inp, d, t)	rw_init(&(inp)->inp_lock, (t))
#define	INP_LOCK_DESTROY(inp)	rw_destroy(&(inp)->inp_lock)
#define	INP_RLOCK(inp)		rw_rlock(&(inp)->inp_lock)
#define	INP_WLOCK(inp)		rw_wlock(&(inp)->inp_lock)
#define	INP_TRY_UPGRADE(inp)	rw_try_upgrade(&(inp)->inp_lock)
#define	INP_DOWNGRADE(inp)	rw_downgrade(&(inp)->inp_lock)
#define	INP_WLOCKED(inp)	rw_wowned(&(inp)->inp_lock)
#define	INP_RUNLOCK(inp)	rw_runlock(&(inp)->inp_lock)
#define	INP_WUNLOCK(inp)	rw_wunlock(&(inp)->inp_lock)
#define	INP_UNLOCK(inp)		(INP_WLOCKED(inp) ? INP_WUNLOCK(inp) :	\
				    INP_RUNLOCK(inp))
#define	INP_LOCK_ASSERT(inp)	rw_assert(&(inp)->inp_lock, RA_LOCKED)
#define	INP_RLOCK_ASSERT(inp)	rw_assert(&(inp)->inp_lock, RA_RLOCKED)
#define	INP_WLOCK_ASSERT(inp)	rw_assert(&(inp)->inp_lock, RA_WLOCKED)
#define	INP_UNLOCK_ASSERT(inp)	rw_assert(&(inp)->inp_lock, RA_UNLOCKED)

MALLOC_DECLARE(M_PCB);

/* in_pcb.c */
int	in_pcballoc(struct socket *so, int proto, int vflag);
void	in_pcbdetach(struct inpcb *inp);	/* socket goes away */
void	in_pcbdrop(struct inpcb *inp);		/* INP_DROPPED */
void	in_pcbfree(struct inpcb *inp);		/* called write-locked */
void	in_pcbref(struct inpcb *inp);
bool	in_pcbrele_wlocked(struct inpcb *inp);	/* true: inp freed */
bool	in_pcbrele_rlocked(struct inpcb *inp);	/* true: inp freed */
int	inpcb_live_count(void);			/* harness ledger */
void	in_pcb_reset(void);
/*
 * Harness: override the hash type set at connect (e.g. M_HASHTYPE_NONE,
 * which makes in_pcboutput_txrtlmt return EAGAIN and allocate nothing).
 */
int	in_pcb_set_flowtype(struct inpcb *inp, uint32_t flowtype);

/*
 * The ifnet the connection's packets take now, referenced (if_rele it),
 * or NULL.  FreeBSD's KTLS and pacing paths read the route cached in the
 * inp (inp_route); the model has no cache and looks the route up.
 */
struct ifnet *in_pcbroute_ifp(struct inpcb *inp);
/* The same in the caller's net epoch, not referenced. */
struct ifnet *in_pcbroute_lookup(struct inpcb *inp);

/* RATELIMIT (in_pcb.c) */
int	in_pcbattach_txrtlmt(struct inpcb *inp, struct ifnet *ifp,
	    uint32_t flowtype, uint32_t flowid, uint32_t max_pacing_rate,
	    struct m_snd_tag **st);
void	in_pcbdetach_txrtlmt(struct inpcb *inp);
int	in_pcbmodify_txrtlmt(struct inpcb *inp, uint32_t max_pacing_rate);
int	in_pcbquery_txrtlmt(struct inpcb *inp, uint32_t *p_max_pacing_rate);
int	in_pcbquerylevel_txrtlmt(struct inpcb *inp, uint32_t *p_txqueue_level);
void	in_pcboutput_txrtlmt(struct inpcb *inp, struct ifnet *ifp,
	    struct mbuf *mb);
void	in_pcboutput_eagain(struct inpcb *inp);

#endif /* !_NETINET_IN_PCB_H_ */
