/*
 * Model of sys/sys/mbuf.h: mbufs, the packet header with its
 * snd_tag/rcvif union, and send tags (struct m_snd_tag).
 *
 * Layout is simplified (every mbuf carries a pkthdr and a fixed internal
 * buffer) but the semantics are FreeBSD's: CSUM_SND_TAG in csum_flags is
 * the only indicator that the union holds a tag, and it means the mbuf
 * owns exactly one reference on it.
 */
#ifndef _SYS_MBUF_H_
#define	_SYS_MBUF_H_

#include "shim/systm.h"
#include "shim/malloc.h"

struct ifnet;
struct m_snd_tag;

#define	MSIZE		256		/* size of an mbuf */
#define	MCLBYTES	2048		/* size of a cluster */

/* m_flags */
#define	M_EXT		0x00000001	/* has associated external storage */
#define	M_PKTHDR	0x00000002	/* start of record */
#define	M_EOR		0x00000004	/* end of record */
#define	M_RDONLY	0x00000008	/* associated data is read-only */
#define	M_BCAST		0x00000010
#define	M_MCAST		0x00000020
#define	M_VLANTAG	0x00000080	/* ether_vtag is valid */
#define	M_COPYFLAGS	(M_PKTHDR | M_EOR | M_RDONLY | M_BCAST | M_MCAST | \
			    M_VLANTAG)

/* m_type */
#define	MT_NOTMBUF	0
#define	MT_DATA		1
#define	MT_HEADER	MT_DATA

/* m_copym length meaning "to the end". */
#define	M_COPYALL	1000000000

/* csum_flags */
#define	CSUM_IP			0x00000001
#define	CSUM_IP_UDP		0x00000002
#define	CSUM_IP_TCP		0x00000004
#define	CSUM_IP_TSO		0x00000010
#define	CSUM_IP6_UDP		0x00000200
#define	CSUM_IP6_TCP		0x00000400
#define	CSUM_IP6_TSO		0x00001000
#define	CSUM_TSO		(CSUM_IP_TSO | CSUM_IP6_TSO)
#define	CSUM_SND_TAG		0x80000000	/* pkthdr union holds a tag */

/* RSS hash types (M_HASHTYPE_*). */
#define	M_HASHTYPE_NONE			0
#define	M_HASHTYPE_RSS_TCP_IPV4		0x82
#define	M_HASHTYPE_RSS_TCP_IPV6		0x85
#define	M_HASHTYPE_OPAQUE		0x3f
#define	M_HASHTYPE_OPAQUE_HASH		0x3e
#define	M_HASHTYPE_GET(m)	((m)->m_pkthdr.rsstype)
#define	M_HASHTYPE_SET(m, v)	((m)->m_pkthdr.rsstype = (v))
#define	M_HASHTYPE_CLEAR(m)	((m)->m_pkthdr.rsstype = M_HASHTYPE_NONE)

struct pkthdr {
	union {
		struct m_snd_tag *snd_tag;	/* valid iff CSUM_SND_TAG */
		struct ifnet	*rcvif;		/* rcv interface */
	};
	int32_t		 len;		/* total packet length */
	uint32_t	 flowid;	/* packet's 4-tuple system */
	uint32_t	 csum_flags;	/* checksum and offload features */
	uint16_t	 tso_segsz;	/* TSO segment size */
	uint16_t	 ether_vtag;	/* Ethernet 802.1p+q vlan tag */
	uint8_t		 rsstype;	/* hash type */
};

/* External storage (clusters), shared between copies by ext_count. */
struct m_ext {
	char		*ext_buf;
	u_int		 ext_size;
	volatile u_int	*ext_cnt;	/* shared reference count */
	/*
	 * Kernel TLS: the session of an unencrypted TLS record (FreeBSD's
	 * m_epg_tls of an M_EXTPG mbuf).  It belongs to the storage: the
	 * last free of the storage drops the session reference.
	 */
	struct ktls_session *ext_tls;
};

struct mbuf {
	struct mbuf	*m_next;	/* next buffer in chain */
	struct mbuf	*m_nextpkt;	/* next chain in queue/record */
	caddr_t		 m_data;	/* location of data */
	int32_t		 m_len;		/* amount of data in this mbuf */
	uint8_t		 m_type;
	uint32_t	 m_flags;
	struct pkthdr	 m_pkthdr;	/* valid iff M_PKTHDR */
	struct m_ext	 m_ext;		/* valid iff M_EXT */
	char		 m_dat[MSIZE - 64];
	/* Harness: registry of live mbufs (kern_mbuf.c), not FreeBSD. */
	struct mbuf	*m_live_next;
	struct mbuf	*m_live_prev;
};

#define	MLEN		((int)sizeof(((struct mbuf *)0)->m_dat))
#define	MHLEN		MLEN

#define	mtod(m, t)	((t)((m)->m_data))
#define	M_START(m)	(((m)->m_flags & M_EXT) ? (m)->m_ext.ext_buf :	\
			    (m)->m_dat)
#define	M_SIZE(m)	(((m)->m_flags & M_EXT) ? (int)(m)->m_ext.ext_size : \
			    MLEN)
#define	M_LEADINGSPACE(m)	((int)((m)->m_data - M_START(m)))
#define	M_TRAILINGSPACE(m)	((int)(M_START(m) + M_SIZE(m) -		\
				    ((m)->m_data + (m)->m_len)))
#define	M_WRITABLE(m)	(!((m)->m_flags & M_RDONLY) &&			\
			    (!((m)->m_flags & M_EXT) ||			\
			    *(m)->m_ext.ext_cnt == 1))

#define	M_ASSERTPKTHDR(m)						\
	KASSERT((m) != NULL && ((m)->m_flags & M_PKTHDR),		\
	    ("mbuf: %s: no mbuf packet header!", __func__))

/* Later FreeBSD: receive paths assert this. */
#define	M_ASSERT_NO_SND_TAG(m)						\
	KASSERT((m) != NULL && ((m)->m_flags & M_PKTHDR) &&		\
	    ((m)->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,		\
	    ("receive mbuf has send tag! (%s)", __func__))

/* M_PREPEND as in FreeBSD: may replace m (NULL on failure, m freed). */
#define	M_PREPEND(m, plen, how) do {					\
	struct mbuf **_mmp = &(m);					\
	struct mbuf *_mm = *_mmp;					\
	int _mplen = (plen);						\
	int __mhow = (how);						\
									\
	if (M_LEADINGSPACE(_mm) >= _mplen) {				\
		_mm->m_data -= _mplen;					\
		_mm->m_len += _mplen;					\
	} else								\
		_mm = m_prepend(_mm, _mplen, __mhow);			\
	if (_mm != NULL && (_mm->m_flags & M_PKTHDR))			\
		_mm->m_pkthdr.len += _mplen;				\
	*_mmp = _mm;							\
} while (0)

MALLOC_DECLARE(M_MBUF);		/* mbufs */
MALLOC_DECLARE(M_MBUF_CLUSTER);	/* cluster storage */

/* Allocation and free (kern_mbuf.c). */
struct mbuf	*m_get(int how, short type);
struct mbuf	*m_gethdr(int how, short type);
struct mbuf	*m_getcl(int how, short type, int flags);
int		 m_clget(struct mbuf *m, int how);
struct mbuf	*m_free(struct mbuf *m);
void		 m_freem(struct mbuf *m);
int		 m_pkthdr_init(struct mbuf *m, int how);
u_int		 mbuf_live_count(void);	/* harness: mbufs not yet freed */
/*
 * Harness: call cb for every live mbuf (packet header or not).  cb must not
 * allocate or free mbufs.  Used by the variants' canaries and the ledger.
 */
void		 mbuf_foreach_live(void (*cb)(struct mbuf *, void *), void *arg);
void		 mbuf_reset(void);	/* between inputs; asserts none live */

/* Packet header and chain operations (uipc_mbuf.c). */
void		 m_move_pkthdr(struct mbuf *to, struct mbuf *from);
int		 m_dup_pkthdr(struct mbuf *to, const struct mbuf *from, int how);
void		 m_demote_pkthdr(struct mbuf *m);
void		 m_demote(struct mbuf *m0, int all, int flags);
struct mbuf	*m_copym(struct mbuf *m, int off, int len, int how);
struct mbuf	*m_copypacket(struct mbuf *m, int how);
struct mbuf	*m_dup(const struct mbuf *m, int how);
struct mbuf	*m_prepend(struct mbuf *m, int len, int how);
struct mbuf	*m_pullup(struct mbuf *m, int len);
struct mbuf	*m_copyup(struct mbuf *m, int len, int dstoff);
void		 m_cat(struct mbuf *m, struct mbuf *n);
void		 m_catpkt(struct mbuf *m, struct mbuf *n);
void		 m_adj(struct mbuf *mp, int req_len);
u_int		 m_length(struct mbuf *m, struct mbuf **last);
u_int		 m_fixhdr(struct mbuf *m);
void		 m_copydata(const struct mbuf *m, int off, int len, caddr_t cp);
int		 m_append(struct mbuf *m, int len, const void *cp);
struct ifnet	*m_rcvif(struct mbuf *m);

/*
 * Send tags (kern_mbuf.c, net/if_var.h).
 *
 * The per-tag switch table is the later FreeBSD form: it lets a tag be
 * freed through its owner even after its ifnet was detached and its ifnet
 * methods replaced by dead stubs.
 */
union if_snd_tag_alloc_params;
union if_snd_tag_modify_params;
union if_snd_tag_query_params;

typedef int	if_snd_tag_modify_t(struct m_snd_tag *,
		    union if_snd_tag_modify_params *);
typedef int	if_snd_tag_query_t(struct m_snd_tag *,
		    union if_snd_tag_query_params *);
typedef void	if_snd_tag_free_t(struct m_snd_tag *);
typedef struct m_snd_tag *if_next_send_tag_t(struct m_snd_tag *);

struct if_snd_tag_sw {
	if_snd_tag_modify_t	*snd_tag_modify;
	if_snd_tag_query_t	*snd_tag_query;
	if_snd_tag_free_t	*snd_tag_free;
	if_next_send_tag_t	*next_snd_tag;	/* wrappers: the inner tag */
	u_int			 type;		/* IF_SND_TAG_TYPE_* */
};

struct m_snd_tag {
	struct ifnet		*ifp;		/* device tag belongs to */
	const struct if_snd_tag_sw *sw;
	volatile u_int		 refcount;
};

int	m_snd_tag_alloc(struct ifnet *ifp,
	    union if_snd_tag_alloc_params *params, struct m_snd_tag **mstp);
void	m_snd_tag_init(struct m_snd_tag *mst, struct ifnet *ifp,
	    const struct if_snd_tag_sw *sw);
struct m_snd_tag *m_snd_tag_ref(struct m_snd_tag *mst);
void	m_snd_tag_rele(struct m_snd_tag *mst);
void	m_snd_tag_destroy(struct m_snd_tag *mst);

/* kern.ipc.num_snd_tags */
uint64_t num_snd_tags(void);

#endif /* !_SYS_MBUF_H_ */
