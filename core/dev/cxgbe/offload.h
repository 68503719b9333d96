/*
 * Private state of the cxgbe(4) model: the adapter (one port), its etid
 * table, scheduling classes, firmware queue and plain tx ring, and the
 * ethofld rate-limit send tag (struct cxgbe_rate_tag, as in
 * sys/dev/cxgbe/offload.h and adapter.h).
 *
 * Lock order: cst->lock -> sc->fw_lock, sc->etid_lock, sc->tc_lock.
 * sc->fw_ack_lock (serialises firmware acknowledgements) comes before
 * everything else; it is taken only by the firmware side.
 */
#ifndef _DEV_CXGBE_OFFLOAD_H_
#define	_DEV_CXGBE_OFFLOAD_H_

#include "dev/cxgbe/adapter.h"
#include "shim/lock.h"

MALLOC_DECLARE(M_CXGBE);

/* A minimal mbufq(9): a FIFO of packets linked by m_nextpkt. */
struct mbufq {
	struct mbuf	*mq_head;
	struct mbuf	*mq_tail;
	int		 mq_len;
};

static inline void
mbufq_init(struct mbufq *mq)
{
	mq->mq_head = mq->mq_tail = NULL;
	mq->mq_len = 0;
}

static inline struct mbuf *
mbufq_first(const struct mbufq *mq)
{
	return (mq->mq_head);
}

static inline int
mbufq_len(const struct mbufq *mq)
{
	return (mq->mq_len);
}

static inline void
mbufq_enqueue(struct mbufq *mq, struct mbuf *m)
{
	m->m_nextpkt = NULL;
	if (mq->mq_tail != NULL)
		mq->mq_tail->m_nextpkt = m;
	else
		mq->mq_head = m;
	mq->mq_tail = m;
	mq->mq_len++;
}

static inline struct mbuf *
mbufq_dequeue(struct mbufq *mq)
{
	struct mbuf *m;

	m = mq->mq_head;
	if (m != NULL) {
		mq->mq_head = m->m_nextpkt;
		if (mq->mq_head == NULL)
			mq->mq_tail = NULL;
		m->m_nextpkt = NULL;
		mq->mq_len--;
	}
	return (m);
}

/* cst->flags */
#define	EO_FLOWC_PENDING	0x0001	/* flowc WR still to be sent */
#define	EO_FLOWC_RPL_PENDING	0x0002	/* flowc credits not yet back */
#define	EO_SND_TAG_REF		0x0004	/* the kernel still holds the tag */
#define	EO_FLUSH_RPL_PENDING	0x0008	/* flush WR credits not yet back */

/* Work request sizes, in 16-byte credits (as the real WRs round up). */
#define	ETID_FLOWC_LEN16	4	/* fw_flowc_wr with 6 parameters */
#define	ETID_FLUSH_LEN16	1	/* fw_flowc_wr with none */
#define	EO_MAX_NSEGS		38	/* gather list entries per WR */
#define	EO_IMMHDR_MAX		54	/* Ethernet + IPv4 + TCP headers */
/* The largest tx WR: header, lso, immediate headers, full gather list. */
#define	EO_MAX_WR_LEN16		36

/* Parameter bounds: adapter.h.  Coalescing must leave room for a full WR. */
CTASSERT(CXGBE_CREDITS_MIN == 2 * EO_MAX_WR_LEN16);
#define	CXGBE_TXQ_SIZE		64	/* the plain (untagged) tx ring */
#define	CXGBE_MAX_KBPS		100000000ULL	/* 100 Gbps port */

/* Kinds of work request, as the firmware model records them. */
#define	EO_WR_FLOWC		1
#define	EO_WR_TX		2
#define	EO_WR_FLUSH		3

struct eo_wr {
	uint16_t	 len16;
	uint8_t		 compl;		/* F_FW_WR_COMPL: ask for fw4_ack */
	uint8_t		 kind;
};

/*
 * The firmware's view of one etid: WRs committed and not yet
 * acknowledged, in order.  An acknowledgement is owed for each WR that
 * asked for a completion; it returns the credits of every WR up to and
 * including that one (the firmware coalesces).  WRs behind the last
 * completion request are returned by nothing until a later WR asks.
 */
struct eo_fwq {
	struct eo_wr	*ring;		/* tx_total entries (WR >= 1 credit) */
	int		 size;
	int		 head;
	int		 count;
	int		 ncompl;	/* acknowledgements owed */
	int		 credits;	/* credits held by the firmware */
};

struct cxgbe_rate_tag {
	struct m_snd_tag com;
	struct adapter	*adapter;
	struct mtx	 lock;
	u_int		 flags;
	int		 etid;
	int		 schedcl;
	uint64_t	 max_rate;	/* bytes/s */
	int		 tx_credits;	/* credits available */
	int		 tx_total;	/* credits when everything is home */
	int		 tx_nocompl;	/* credits since the last compl WR */
	int		 ncompl;	/* compl WRs not yet acknowledged */
	int		 plen;		/* bytes in pending_tx + pending_fwack */
	int		 mbuf_refs;	/* tag references held by queued mbufs */
	struct mbufq	 pending_tx;	/* waiting for credits */
	struct mbufq	 pending_fwack;	/* committed, waiting for fw4_ack */
};

struct tx_sched_class {
	int		 refcount;
	uint64_t	 kbps;
};

/* The plain tx ring for untagged packets. */
struct cxgbe_txq {
	struct mtx	 lock;
	struct mbuf	*ring[CXGBE_TXQ_SIZE];
	int		 head;
	int		 count;
	bool		 running;
};

struct adapter {
	struct ifnet	*ifp;		/* NULL once the ifnet is gone */
	char		 name[IFNAMSIZ];
	struct cxgbe_params params;
	/* etid table */
	struct mtx	 etid_lock;
	struct cxgbe_rate_tag **etid_tab;
	int		*etid_free;	/* stack of free etids */
	int		 etid_nfree;
	int		 etids_in_use;
	/* scheduling classes */
	struct mtx	 tc_lock;
	struct tx_sched_class *tc;
	/* firmware */
	struct mtx	 fw_ack_lock;
	struct mtx	 fw_lock;
	struct eo_fwq	*fwq;		/* by etid */
	/* plain transmit */
	struct cxgbe_txq txq;
	/* harness bookkeeping (the actor's list), under cxgbe_list_lock */
	struct adapter	*next;
	int		 pins;
	bool		 ifnet_gone;	/* if_free_softc ran */
	bool		 free_pending;
};

extern const struct if_snd_tag_sw cxgbe_rate_tag_sw;

static inline struct cxgbe_rate_tag *
mst_to_crt(struct m_snd_tag *mst)
{
	return ((struct cxgbe_rate_tag *)mst);
}

/* t4_sge.c */
int	ethofld_transmit(struct ifnet *ifp, struct mbuf *m0);
int	ethofld_fw4_ack(struct adapter *sc, int etid, int credits);
int	mbuf_eo_len16(struct mbuf *m);
void	send_etid_flush_wr(struct cxgbe_rate_tag *cst);
/* Firmware side: take the WRs that one acknowledgement returns. */
int	t4_fw_take_ack(struct adapter *sc, int etid);

/* t4_sched.c */
int	cxgbe_snd_tag_alloc(struct ifnet *ifp,
	    union if_snd_tag_alloc_params *params, struct m_snd_tag **pt);
int	cxgbe_snd_tag_modify(struct m_snd_tag *mst,
	    union if_snd_tag_modify_params *params);
int	cxgbe_snd_tag_query(struct m_snd_tag *mst,
	    union if_snd_tag_query_params *params);
void	cxgbe_snd_tag_free(struct m_snd_tag *mst);
void	cxgbe_snd_tag_free_locked(struct cxgbe_rate_tag *cst);
int	t4_reserve_cl_rl_kbps(struct adapter *sc, uint64_t kbps, int *tc_idx);
void	t4_release_cl_rl(struct adapter *sc, int tc_idx);
struct cxgbe_rate_tag *lookup_etid(struct adapter *sc, int etid);

/* t4_main.c: for tests and the ledger. */
int	cxgbe_class_refs(struct ifnet *ifp, int cl);
int	cxgbe_classes_in_use(struct ifnet *ifp);
struct cxgbe_rate_tag *cxgbe_etid_tag(struct ifnet *ifp, int etid);
int	cxgbe_fw_wrs(struct ifnet *ifp, int etid);	/* WRs at the fw */
/*
 * The last etid went home: free an adapter whose ifnet is gone.  The
 * caller holds a pin (cxgbe_pin), so the adapter outlives the call even
 * when another thread's release or unpin would free it meanwhile; the
 * caller's cxgbe_unpin frees it then.
 */
void	cxgbe_adapter_release(struct adapter *sc);
void	cxgbe_pin(struct adapter *sc);
void	cxgbe_unpin(struct adapter *sc);

#endif /* !_DEV_CXGBE_OFFLOAD_H_ */
