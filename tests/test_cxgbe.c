/*
 * cxgbe ethofld (spec §9.1): rate-limit tags, etids, scheduling classes,
 * credits and completion coalescing, the flush on free, and the
 * firmware actor.  Direct unit tests: tags come from m_snd_tag_alloc and
 * packets go straight to if_transmit.
 */
#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "dev/cxgbe/adapter.h"
#include "dev/cxgbe/offload.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"
#include "net/route.h"
#include "netinet/in_pcb.h"

#define	RATE		1000000		/* bytes/s: 8000 kbps */
#define	PKTLEN		100		/* one mbuf: 7 credits per WR */
#define	PKT_LEN16	7

static struct m_snd_tag *
t_alloc(struct ifnet *ifp, uint64_t rate, int *errp)
{
	return (t_alloc_rate(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 7, rate, errp));
}

static int
t_send(struct ifnet *ifp, struct m_snd_tag *mst)
{
	return (ifp->if_transmit(ifp, t_pkt_len(mst, PKTLEN)));
}

static void
test_wr_credits_are_deterministic(void)
{
	struct mbuf *m;

	t_world_begin();
	m = t_pkt_len(NULL, PKTLEN);
	CHECK_EQ(mbuf_eo_len16(m), PKT_LEN16);
	m->m_pkthdr.csum_flags |= CSUM_TSO;
	CHECK_EQ(mbuf_eo_len16(m), PKT_LEN16 + 1);
	m_freem(m);
	m = t_pkt_len(NULL, 20);	/* headers only: no gather list */
	CHECK_EQ(mbuf_eo_len16(m), 4);
	m_freem(m);
	t_world_end();
}

/*
 * Acceptance (§11.6 fixed): the socket closes while the flow's last
 * WRs asked for no completion.  The commit-time drop of the mbuf
 * references lets the kernel's release reach cxgbe_snd_tag_free, whose
 * flush brings every credit home; the tag, its etid and its class are
 * returned.
 */
static void
test_close_with_uncompleted_wrs_returns_etid_and_credits(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	int etid, i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	etid = cxgbe_etid_nth(ifp, 0);
	CHECK(etid >= 0);
	cst = cxgbe_etid_tag(ifp, etid);
	CHECK(cst != NULL && &cst->com == mst);

	/*
	 * flowc (4) + 5 WRs of 7: the first asks for a completion, the
	 * next four are coalesced (7..28 < 128 / 2).
	 */
	for (i = 0; i < 5; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	CHECK_EQ(cxgbe_fw_wrs(ifp, etid), 6);
	CHECK_EQ(cst->ncompl, 1);
	CHECK_EQ(cst->tx_nocompl, 4 * PKT_LEN16);
	CHECK_EQ(cst->tx_credits, 128 - ETID_FLOWC_LEN16 - 5 * PKT_LEN16);
	CHECK_EQ(mbufq_len(&cst->pending_fwack), 5);
	/* Committed packets hold no reference: only the "inp" does. */
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(mbuf_live_count(), 5);

	/* The socket closes: the kernel's reference goes. */
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 0);		/* the kernel is done... */
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);	/* ...credits are not */
	CHECK((cst->flags & EO_SND_TAG_REF) == 0);

	/* The one completion, then the flush it triggers. */
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 1), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK((cst->flags & EO_FLUSH_RPL_PENDING) != 0);
	CHECK_EQ(cxgbe_fw_wrs(ifp, etid), 5);	/* 4 coalesced + flush */
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), 0);

	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), ENOENT);
	CHECK_EQ(witness_held_count(), 0);
	t_world_end();
}

/* Same, but quiesce (the actor) does the firmware's work. */
static void
test_close_then_quiesce_frees_everything(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	int i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	for (i = 0; i < 12; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	/* The flow's tail asked for no completion. */
	m_snd_tag_rele(mst);
	world_quiesce();
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

/* Acknowledged before the close: free sends the flush at once. */
static void
test_ack_then_close_flushes_on_free(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	int etid, i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	etid = cxgbe_etid_nth(ifp, 0);
	cst = cxgbe_etid_tag(ifp, etid);
	for (i = 0; i < 3; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), 0);
	CHECK_EQ(cst->ncompl, 0);
	CHECK_EQ(cxgbe_fw_wrs(ifp, etid), 2);	/* uncovered, no ack owed */
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), ENOENT);
	m_snd_tag_rele(mst);
	CHECK_EQ(cxgbe_fw_wrs(ifp, etid), 3);	/* + flush */
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

/* Nothing ever sent: free returns the etid right away. */
static void
test_free_unused_tag_is_immediate(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

/*
 * Packets waiting for credits keep the tag alive after the close; the
 * acks send them (the temporary reference keeps the tag stable) and
 * the last one's release reaches free, flush and all.
 */
static void
test_close_with_packets_waiting_for_credits(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	int etid, i, sent;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, CXGBE_CREDITS_MIN, 8);
	mst = t_alloc(ifp, RATE, NULL);
	etid = cxgbe_etid_nth(ifp, 0);
	cst = cxgbe_etid_tag(ifp, etid);
	/* 72 - 4 (flowc) = 68: 9 WRs of 7 fit, the rest wait. */
	for (i = 0; i < 12; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	CHECK_EQ(mbufq_len(&cst->pending_tx), 3);
	CHECK_EQ(t_refs(mst), 1 + 3);
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 1);		/* waiting packets hold it */
	CHECK((cst->flags & EO_SND_TAG_REF) != 0);
	sent = 0;
	while (cxgbe_fw4_ack(ifp, etid, 1) == 0)
		sent++;
	CHECK(sent >= 2);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

static void
test_etid_exhaustion_enomem_rolls_back(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *a, *b;
	int error;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 2, 4, 128, 32);
	a = t_alloc(ifp, RATE, NULL);
	b = t_alloc(ifp, 2 * RATE, NULL);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 2);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 2);
	/* Same rate as a: the class reservation must be undone. */
	CHECK(t_alloc(ifp, RATE, &error) == NULL);
	CHECK_EQ(error, ENOMEM);
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 1);
	/* A new rate: the fresh class must be given back. */
	CHECK(t_alloc(ifp, 3 * RATE, &error) == NULL);
	CHECK_EQ(error, ENOMEM);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 2);
	CHECK_EQ(num_snd_tags(), 2);
	m_snd_tag_rele(a);
	/* The freed etid is reusable. */
	a = t_alloc(ifp, 3 * RATE, NULL);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 2);
	m_snd_tag_rele(a);
	m_snd_tag_rele(b);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	t_world_end();
}

/* Every M_NOWAIT allocation of alloc fails in turn: clean ENOMEM. */
static void
test_alloc_fault_injection(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	uint64_t inuse;
	int error, nth;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	inuse = M_CXGBE->ks_inuse;
	for (nth = 1; nth <= 2; nth++) {
		malloc_fail_arm((uint32_t)nth, M_CXGBE);
		CHECK(t_alloc(ifp, RATE, &error) == NULL);
		malloc_fail_disarm();
		CHECK_EQ(error, ENOMEM);
		CHECK_EQ(M_CXGBE->ks_inuse, inuse);
		CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
		CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
		CHECK_EQ(num_snd_tags(), 0);
	}
	mst = t_alloc(ifp, RATE, NULL);
	m_snd_tag_rele(mst);
	t_world_end();
}

static void
test_attach_fault_injection(void)
{
	struct cxgbe_params p = { .n_etids = 4 };
	struct ifnet *ifp;
	int nth;

	t_world_begin();
	for (nth = 1; nth <= 5; nth++) {
		malloc_fail_arm((uint32_t)nth, M_CXGBE);
		ifp = cxgbe_attach(0, &p);
		malloc_fail_disarm();
		CHECK(ifp == NULL);
		CHECK_EQ(M_CXGBE->ks_inuse, 0);
	}
	ifp = cxgbe_attach(0, &p);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, cxgbe_detach);
	t_world_end();
}

static void
test_bad_params_rejected(void)
{
	struct cxgbe_params p;

	t_world_begin();
	p = (struct cxgbe_params){ .n_etids = -1 };
	CHECK(cxgbe_attach(0, &p) == NULL);
	p = (struct cxgbe_params){ .tx_credits = CXGBE_CREDITS_MIN - 1 };
	CHECK(cxgbe_attach(0, &p) == NULL);
	p = (struct cxgbe_params){ .n_classes = CXGBE_CLASSES_MAX + 1 };
	CHECK(cxgbe_attach(0, &p) == NULL);
	p = (struct cxgbe_params){ .max_backlog = -3 };
	CHECK(cxgbe_attach(0, &p) == NULL);
	CHECK_EQ(M_CXGBE->ks_inuse, 0);
	t_world_end();
}

static void
test_backlog_enobufs(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	int i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, CXGBE_CREDITS_MIN, 2);
	mst = t_alloc(ifp, RATE, NULL);
	cst = cxgbe_etid_tag(ifp, cxgbe_etid_nth(ifp, 0));
	for (i = 0; i < 9; i++)			/* all fit */
		CHECK_EQ(t_send(ifp, mst), 0);
	CHECK_EQ(t_send(ifp, mst), 0);		/* waits */
	CHECK_EQ(t_send(ifp, mst), 0);		/* waits */
	CHECK_EQ(mbufq_len(&cst->pending_tx), 2);
	CHECK_EQ(t_send(ifp, mst), ENOBUFS);	/* past the backlog */
	CHECK_EQ(mbufq_len(&cst->pending_tx), 2);
	CHECK_EQ(t_refs(mst), 1 + 2);		/* the drop released its ref */
	CHECK_EQ(counter_u64_fetch(ifp->if_oerrors), 1);
	CHECK_EQ(mbuf_live_count(), 11);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* A chain no WR can carry is defragmented; the tag moves with it. */
static struct mbuf *
t_long_chain(struct m_snd_tag *mst)
{
	struct mbuf *m, *n, *last;
	int i;

	m = t_pkt_len(mst, 60);
	last = m;
	for (i = 0; i < EO_MAX_NSEGS + 1; i++) {
		n = m_get(M_NOWAIT, MT_DATA);
		CHECK(n != NULL);
		memset(mtod(n, char *), i, 8);
		n->m_len = 8;
		last->m_next = n;
		last = n;
		m->m_pkthdr.len += 8;
	}
	CHECK_EQ(m_length(m, NULL), 60 + 8 * (EO_MAX_NSEGS + 1));
	return (m);
}

static void
test_long_chain_defragmented(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	struct mbuf *m;
	char buf[8];

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	cst = mst_to_crt(mst);
	CHECK_EQ(ifp->if_transmit(ifp, t_long_chain(mst)), 0);
	m = mbufq_first(&cst->pending_fwack);
	CHECK(m != NULL && m->m_next == NULL);	/* one cluster */
	CHECK_EQ(m->m_pkthdr.len, 60 + 8 * (EO_MAX_NSEGS + 1));
	m_copydata(m, 60 + 8 * 5, 8, buf);
	CHECK_EQ(buf[0], 5);
	CHECK((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK_EQ(t_refs(mst), 1);

	/* The copy cannot be made: dropped, reference released. */
	m = t_long_chain(mst);
	malloc_fail_arm(1, M_MBUF);
	CHECK_EQ(ifp->if_transmit(ifp, m), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(t_refs(mst), 1);
	m = t_long_chain(mst);
	malloc_fail_arm(1, M_MBUF_CLUSTER);
	CHECK_EQ(ifp->if_transmit(ifp, m), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(t_refs(mst), 1);
	CHECK_EQ(mbuf_live_count(), 1);
	m_snd_tag_rele(mst);
	t_world_end();
}

static void
test_modify_and_query(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst, *other;
	union if_snd_tag_modify_params mp = { 0 };
	union if_snd_tag_query_params qp = { 0 };
	int i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 2, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 1);

	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, RATE);
	CHECK_EQ(qp.rate_limit.queue_level, 0);

	/* A new rate moves the tag to a new class; the old one empties. */
	mp.rate_limit.max_rate = 4 * RATE;
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), 0);
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 0);
	CHECK_EQ(cxgbe_class_refs(ifp, 1), 1);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, 4 * RATE);

	/* Both classes busy: modify fails, keeps the rate, unlocks. */
	other = t_alloc(ifp, 5 * RATE, NULL);
	mp.rate_limit.max_rate = 6 * RATE;
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), ENOSPC);
	CHECK_EQ(witness_held_count(), 0);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.max_rate, 4 * RATE);
	/* A rate the port cannot do. */
	mp.rate_limit.max_rate = 100;		/* 0 kbps */
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), ERANGE);
	CHECK_EQ(witness_held_count(), 0);
	/* Sharing a class at the same rate. */
	mp.rate_limit.max_rate = 5 * RATE;
	CHECK_EQ(mst->sw->snd_tag_modify(mst, &mp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 1);
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 2);

	/* Credits out show as queue level. */
	for (i = 0; i < 4; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	CHECK_EQ(mst->sw->snd_tag_query(mst, &qp), 0);
	CHECK_EQ(qp.rate_limit.queue_level,
	    (ETID_FLOWC_LEN16 + 4 * PKT_LEN16) * 65535 / 128);

	m_snd_tag_rele(other);
	m_snd_tag_rele(mst);
	world_quiesce();
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	t_world_end();
}

static void
test_class_refcounts_return_to_zero(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *t[6];
	int i, error;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 8, 2, 128, 32);
	for (i = 0; i < 3; i++)
		t[i] = t_alloc(ifp, RATE, NULL);
	for (i = 3; i < 5; i++)
		t[i] = t_alloc(ifp, 2 * RATE, NULL);
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 3);
	CHECK_EQ(cxgbe_class_refs(ifp, 1), 2);
	/* Third rate, no class left. */
	CHECK(t_alloc(ifp, 3 * RATE, &error) == NULL);
	CHECK_EQ(error, ENOSPC);
	/* Below 1 kbps. */
	CHECK(t_alloc(ifp, 10, &error) == NULL);
	CHECK_EQ(error, ERANGE);
	for (i = 0; i < 5; i++) {
		CHECK_EQ(t_send(ifp, t[i]), 0);
		m_snd_tag_rele(t[i]);
	}
	CHECK(cxgbe_classes_in_use(ifp) > 0);	/* flushes outstanding */
	world_quiesce();
	CHECK_EQ(cxgbe_class_refs(ifp, 0), 0);
	CHECK_EQ(cxgbe_class_refs(ifp, 1), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	t_world_end();
}

static void
test_unsupported_type(void)
{
	struct ifnet *ifp;
	union if_snd_tag_alloc_params p = {
		.hdr.type = IF_SND_TAG_TYPE_UNLIMITED,
	};
	struct m_snd_tag *mst = NULL;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	CHECK(mst == NULL);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	t_world_end();
}

/* Untagged packets use the plain ring, emptied by completions. */
static void
test_untagged_ring(void)
{
	struct ifnet *ifp;
	int i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	for (i = 0; i < CXGBE_TXQ_SIZE; i++)
		CHECK_EQ(t_send(ifp, NULL), 0);
	CHECK_EQ(t_send(ifp, NULL), ENOBUFS);
	CHECK_EQ(cxgbe_txq_count(ifp), CXGBE_TXQ_SIZE);
	CHECK_EQ(cxgbe_txeof(ifp, 10), 10);
	CHECK_EQ(cxgbe_txq_count(ifp), CXGBE_TXQ_SIZE - 10);
	CHECK_EQ(mbuf_live_count(), CXGBE_TXQ_SIZE - 10);
	/* Teardown's quiesce completes the rest. */
	t_world_end();
}

/* Detach with a tag still held: the adapter outlives the ifnet's list. */
static void
test_detach_with_tag_outstanding(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	int i, etid;

	t_world_begin();
	ifp = cxgbe_attach(0, NULL);
	CHECK(ifp != NULL);
	mst = t_alloc(ifp, RATE, NULL);
	etid = cxgbe_etid_nth(ifp, 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	cxgbe_detach(ifp);
	cxgbe_detach(ifp);			/* again: a no-op */
	(void)epoch_drain_callbacks();
	CHECK_EQ(ifnet_live_count(), 1);	/* pinned by the tag */
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK_EQ(cxgbe_fw4_ack(ifp, etid, 0), 0);
	m_snd_tag_rele(mst);			/* flush */
	world_quiesce();			/* last ack, ifnet freed */
	CHECK_EQ(ifnet_live_count(), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(M_CXGBE->ks_inuse, 0);
	t_world_end();
}

/*
 * End to end, through a TCP socket: SO_MAX_PACING_RATE gets the flow a
 * tag on the cxgbe port, its segments are coalesced into WRs that ask
 * for no completion, and the socket closes (or is dropped) with those
 * outstanding.  Every etid, class and credit comes home, and the
 * ledger is clean.
 */

static void
t_socket_close_case(bool drop)
{
	struct ifnet *ifp;
	struct socket *so;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;
	int i, etid;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	so = t_tcp_socket(ifp, RATE);
	for (i = 0; i < 6; i++)
		CHECK_EQ(sosend(so, 1000, 0), 0);
	mst = ((struct inpcb *)so->so_pcb)->inp_snd_tag;
	CHECK(mst != NULL && mst->ifp == ifp);
	cst = mst_to_crt(mst);
	etid = cst->etid;
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	CHECK_EQ(mbufq_len(&cst->pending_fwack), 6);
	CHECK(cst->tx_nocompl > 0);		/* WRs without completion */
	CHECK_EQ(cst->ncompl, 1);
	CHECK_EQ(t_refs(mst), 1);		/* only the inp's */

	if (drop)
		CHECK_EQ(tcp_drop_socket(so), 0);
	CHECK_EQ(soclose(so), 0);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);	/* credits still out */
	CHECK(cxgbe_fw_wrs(ifp, etid) > 0);

	world_quiesce();
	CHECK_EQ(cxgbe_etids_in_use(ifp), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 0);
	CHECK_EQ(cxgbe_fw_wrs(ifp, etid), 0);
	CHECK_EQ(mbuf_live_count(), 0);
	t_world_end();
}

static void
test_socket_close_with_uncompleted_wrs_returns_etid(void)
{
	t_socket_close_case(false);
}

static void
test_tcpdrop_with_uncompleted_wrs_returns_etid(void)
{
	t_socket_close_case(true);
}

/* Detach under an open paced socket; close later; all comes home. */
static void
test_detach_under_open_socket(void)
{
	struct ifnet *ifp;
	struct socket *so;
	int i;

	t_world_begin();
	ifp = cxgbe_attach(0, NULL);
	CHECK(ifp != NULL);
	so = t_tcp_socket(ifp, RATE);
	for (i = 0; i < 4; i++)
		CHECK_EQ(sosend(so, 1000, 0), 0);
	cxgbe_detach(ifp);
	world_quiesce();		/* no hang: the inp still holds it */
	CHECK_EQ(ifnet_live_count(), 1);
	CHECK(sosend(so, 1000, 0) != 0);	/* no route any more */
	CHECK_EQ(soclose(so), 0);
	world_quiesce();
	CHECK_EQ(ifnet_live_count(), 0);
	CHECK_EQ(M_CXGBE->ks_inuse, 0);
	t_world_end();
}

/*
 * Oracles: each driver invariant, broken on purpose, is caught.
 */
static void
broken_free_with_credits_out(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct cxgbe_rate_tag *cst;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	CHECK_EQ(t_send(ifp, mst), 0);
	cst = mst_to_crt(mst);
	/* Free the tag as if everything were home. */
	mtx_lock(&cst->lock);
	cst->flags &= ~EO_SND_TAG_REF;
	cxgbe_snd_tag_free_locked(cst);
}

static void
broken_tag_of_other_ifnet(void *arg)
{
	struct ifnet *a, *b;
	struct m_snd_tag *mst;

	t_world_begin();
	a = t_cxgbe_attach(0, 4, 4, 128, 32);
	b = t_cxgbe_attach(1, 4, 4, 128, 32);
	mst = t_alloc(a, RATE, NULL);
	(void)t_send(b, mst);
}

static void
broken_unexpected_completion(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct adapter *sc;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	(void)mst;
	sc = ifp->if_softc;
	(void)ethofld_fw4_ack(sc, cxgbe_etid_nth(ifp, 0), PKT_LEN16);
}

/*
 * The firmware never acknowledges (its completion requests are lost):
 * after the close, the etid's credits can never come home, and
 * quiesce reports the hang.
 */
static void
broken_lost_completions_hang(void *arg)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct adapter *sc;
	struct eo_fwq *fwq;
	int etid, i;

	t_world_begin();
	ifp = t_cxgbe_attach(0, 4, 4, 128, 32);
	mst = t_alloc(ifp, RATE, NULL);
	for (i = 0; i < 4; i++)
		CHECK_EQ(t_send(ifp, mst), 0);
	sc = ifp->if_softc;
	etid = cxgbe_etid_nth(ifp, 0);
	fwq = &sc->fwq[etid];
	for (i = 0; i < fwq->count; i++)
		fwq->ring[(fwq->head + i) % fwq->size].compl = 0;
	fwq->ncompl = 0;
	m_snd_tag_rele(mst);
	world_quiesce();
}

static void
test_oracles(void)
{
	CHECK_PANICS(broken_free_with_credits_out, NULL,
	    "cxgbe: etid 0 freed with credits out");
	CHECK_PANICS(broken_tag_of_other_ifnet, NULL,
	    "tag ifp mismatch: cxl1 got a tag of cxl0");
	CHECK_PANICS(broken_unexpected_completion, NULL,
	    "cxgbe: etid 0 wasn't expecting a completion");
	CHECK_PANICS(broken_lost_completions_hang, NULL,
	    "quiesce: hang: cxgbe");
}

int
main(void)
{
	RUN(test_wr_credits_are_deterministic);
	RUN(test_close_with_uncompleted_wrs_returns_etid_and_credits);
	RUN(test_close_then_quiesce_frees_everything);
	RUN(test_ack_then_close_flushes_on_free);
	RUN(test_free_unused_tag_is_immediate);
	RUN(test_close_with_packets_waiting_for_credits);
	RUN(test_etid_exhaustion_enomem_rolls_back);
	RUN(test_alloc_fault_injection);
	RUN(test_attach_fault_injection);
	RUN(test_bad_params_rejected);
	RUN(test_backlog_enobufs);
	RUN(test_long_chain_defragmented);
	RUN(test_modify_and_query);
	RUN(test_class_refcounts_return_to_zero);
	RUN(test_unsupported_type);
	RUN(test_untagged_ring);
	RUN(test_detach_with_tag_outstanding);
	RUN(test_socket_close_with_uncompleted_wrs_returns_etid);
	RUN(test_tcpdrop_with_uncompleted_wrs_returns_etid);
	RUN(test_detach_under_open_socket);
	RUN(test_oracles);
	return (t_done());
}
