/*
 * Model of sys/sys/ktls.h and the transmit half of sys/kern/uipc_ktls.c:
 * kernel TLS sessions in ifnet mode, whose send tag the NIC encrypts with.
 *
 * Ownership (as in FreeBSD):
 *  - the socket's send buffer (so_snd_tls, FreeBSD's sb_tls_info) holds
 *    one session reference until the socket closes;
 *  - every unencrypted TLS record holds one, through its storage
 *    (m_ext.ext_tls, FreeBSD's m_epg_tls of an M_EXTPG mbuf), dropped
 *    with the storage's last free;
 *  - a pending reset (ktls_output_eagain) holds one, plus an inp
 *    reference, until ktls_reset_send_tag has run;
 *  - the session holds one reference on snd_tag (NULL while a reset is
 *    re-allocating, and after a reset whose allocation failed); its
 *    last ktls_free releases it in ktls_cleanup.
 * snd_tag changes only under the inp write lock; ip_output_send reads it
 * with the inp locked.
 */
#ifndef _SYS_KTLS_H_
#define	_SYS_KTLS_H_

#include "sys/mbuf.h"
#include "shim/lock.h"
#include "shim/taskqueue.h"

struct inpcb;
struct socket;

#define	TCP_TLS_MODE_NONE	0
#define	TCP_TLS_MODE_SW		1
#define	TCP_TLS_MODE_IFNET	2

#define	TLS_MAJOR_VER_ONE	3
#define	TLS_MINOR_VER_TWO	3
#define	TLS_MINOR_VER_THREE	4

/* Largest record payload a scenario sends (fits one cluster). */
#define	KTLS_MAX_RECORD		1024
#define	KTLS_MAX_RECORDS	4	/* records per ktls_sosend */

struct ktls_session {
	struct m_snd_tag *snd_tag;	/* IFNET mode; NULL during a reset */
	u_int		 mode;		/* TCP_TLS_MODE_* */
	volatile u_int	 refcount;
	uint8_t		 tls_vmajor;
	uint8_t		 tls_vminor;
	/* Reset of the send tag after a route change (ktls_output_eagain). */
	struct mtx	 mtx;		/* reset_pending (FreeBSD: mtx_pool) */
	bool		 reset_pending;
	struct task	 reset_tag_task;
	struct inpcb	*inp;		/* referenced while the task is queued */
};

MALLOC_DECLARE(M_KTLS);

/* TCP_TXTLS_ENABLE: create the socket's session (IFNET, else SW). */
int	ktls_enable_tx(struct socket *so, uint8_t tls_vminor);
/* The socket's transmit mode, TCP_TLS_MODE_* (ktls_get_tx_mode). */
int	ktls_get_tx_mode(struct socket *so);
struct ktls_session *ktls_hold(struct ktls_session *tls);
void	ktls_free(struct ktls_session *tls);
/* ip_output_send / ip6_output_send: stamp a TLS record (or EAGAIN). */
int	ktls_output_stamp(struct inpcb *inp, struct ifnet *ifp,
	    struct mbuf *m, struct ktls_session *tls);
/* ip_output_send / ip6_output_send: a TLS record met EAGAIN. */
int	ktls_output_eagain(struct inpcb *inp, struct ktls_session *tls);
/* tcp_ratelimit: new rate on a TLS + rate limit tag (inp locked). */
int	ktls_modify_txrtlmt(struct ktls_session *tls, uint64_t max_pacing_rate);
int	ktls_query_txrtlmt(struct ktls_session *tls, uint64_t *max_rate,
	    uint32_t *queue_level);
/*
 * Send nrec TLS records of reclen payload bytes each on so (sosend with
 * the records framed by ktls_frame); plain data without a session.
 */
int	ktls_sosend(struct socket *so, int nrec, int reclen);
/* soclose: drop the send buffer's session reference. */
void	ktls_sbdestroy(struct socket *so);

/* The session of a TLS record (mbuf_has_tls_session + m_epg_tls). */
static inline struct ktls_session *
mbuf_tls_session(const struct mbuf *m)
{
	if (m == NULL || (m->m_flags & M_EXT) == 0)
		return (NULL);
	return (m->m_ext.ext_tls);
}

/* Harness. */
int	ktls_live_count(void);		/* sessions not yet destroyed */
void	ktls_reset(void);		/* between inputs */

#endif /* !_SYS_KTLS_H_ */
