/*
 * Model of sys/netinet/tcp_ratelimit.h: the pacing user of send tags as
 * the RACK and BBR stacks drive it (tcp_set_pacing_rate,
 * tcp_chg_pacing_rate, tcp_rel_pacing_rate), from their own paths
 * (timers, rate changes), not only from the send path, including on a
 * dropped connection.  Rate tables are not modelled: a rate is used as
 * asked.
 */
#ifndef _NETINET_TCP_RATELIMIT_H_
#define	_NETINET_TCP_RATELIMIT_H_

#include "sys/socketvar.h"

/* What a pacing user does (the scenario's PacingUser action). */
#define	TCP_RL_SET	0	/* tcp_set_pacing_rate */
#define	TCP_RL_CHG	1	/* tcp_chg_pacing_rate */
#define	TCP_RL_QUERY	2	/* query the hardware rate / queue level */
#define	TCP_RL_REL	3	/* tcp_rel_pacing_rate */
#define	TCP_RL_NACTIONS	4

/* All with the inp write-locked. */
int	tcp_set_pacing_rate(struct inpcb *inp, uint64_t bytes_per_sec);
int	tcp_chg_pacing_rate(struct inpcb *inp, uint64_t bytes_per_sec);
int	tcp_query_pacing_rate(struct inpcb *inp, uint64_t *rate,
	    uint32_t *level);
void	tcp_rel_pacing_rate(struct inpcb *inp);
/* The ifnet that really sends for ifp: walks next_snd_tag (referenced). */
struct ifnet *rt_find_real_interface(struct ifnet *ifp, struct inpcb *inp,
	    int *error);

/* The scenario's entry: one action on a socket's connection. */
int	tcp_rl_pacing_user(struct socket *so, int action, uint64_t rate);

#endif /* !_NETINET_TCP_RATELIMIT_H_ */
