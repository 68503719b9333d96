/*
 * Model of sys/sys/socketvar.h and the socket calls the scenarios make
 * (uipc_socket.c, tcp_usrreq.c, udp_usrreq.c, tcp_subr.c): enough to open,
 * connect, set SO_MAX_PACING_RATE, send, close and tcpdrop.
 */
#ifndef _SYS_SOCKETVAR_H_
#define	_SYS_SOCKETVAR_H_

#include "netinet/in_pcb.h"

#define	SOCK_STREAM	1
#define	SOCK_DGRAM	2

#define	SS_ISCONNECTED	0x0002

struct socket {
	struct socket	*so_next;	/* global list (for teardown) */
	/*
	 * so_lock guards so_closed and handing out so_pcb: every call takes
	 * an inp reference under it, so soclose may run concurrently with
	 * a send on another thread.
	 */
	struct mtx	 so_lock;
	bool		 so_closed;	/* soclose ran (SS_NOFDREF) */
	short		 so_type;	/* SOCK_STREAM, SOCK_DGRAM */
	short		 so_state;
	int		 so_error;
	int		 so_family;	/* AF_INET, AF_INET6 */
	struct inpcb	*so_pcb;
	/* 0: no pacing; -1U: unlimited tag; otherwise bytes/s. */
	uint32_t	 so_max_pacing_rate;
	/* Kernel TLS transmit session (sb_tls_info), sys/ktls.h. */
	struct ktls_session *so_snd_tls;
};

MALLOC_DECLARE(M_SOCKET);

int	socreate(int dom, struct socket **aso, int type, int proto);
int	soconnect(struct socket *so, const struct sockaddr *nam);
/* SO_MAX_PACING_RATE: sets the rate and INP_RATE_LIMIT_CHANGED. */
int	sosetopt_max_pacing_rate(struct socket *so, uint32_t rate);
/*
 * Send len bytes of payload as one pru_send: TCP segments by the MSS (or
 * one TSO burst when the route's ifnet has IFCAP_TSO); UDP sends one
 * datagram that ip_output may fragment.
 */
int	sosend(struct socket *so, int len, int flags);
/*
 * Close: in_pcbdetach (releases the tag) and in_pcbfree.  No TIME_WAIT.
 * The socket memory itself stays until soclose_all()/teardown, so a call
 * on a closed socket (a second close, a send after close) is a clean
 * EBADF rather than a use after free.
 */
int	soclose(struct socket *so);
/* tcpdrop(8): tcp_drop() on the socket's connection. */
int	tcp_drop_socket(struct socket *so);
/* Teardown: close every open socket (harness). */
void	soclose_all(void);
/* Socket objects allocated (open, or closed and awaiting teardown). */
int	socket_live_count(void);
void	socket_reset(void);

/*
 * The socket's inp with a reference (EBADF once closed); drop it with
 * in_pcbrele_wlocked/in_pcbrele_rlocked.
 */
int	sopcbref(struct socket *so, struct inpcb **inpp);

/* Protocol output (tcp_usrreq.c, udp_usrreq.c); m is the payload chain. */
int	tcp_output(struct inpcb *inp, struct mbuf *m);	/* inp wlocked */
int	udp_output(struct inpcb *inp, struct mbuf *m);	/* takes rlock */
void	tcp_drop(struct inpcb *inp, int error);		/* inp wlocked */

#endif /* !_SYS_SOCKETVAR_H_ */
