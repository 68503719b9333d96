/*
 * Send-tag life cycle: m_snd_tag_alloc/init/ref/rele/destroy, the
 * counters, and the ifnet pin (spec §2, §10 invariants 1-3).
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/world.h"
#include "net/if_var.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"

/* A test-owned tag: the free method records what it saw. */
struct ttag {
	struct m_snd_tag com;
	int		 frees;
	u_int		 ifp_refs_at_free;
	uint64_t	 num_tags_at_free;
	bool		 heap;		/* free() the memory in the free method */
};

static int ttag_frees_total;

static void
ttag_free(struct m_snd_tag *mst)
{
	struct ttag *t = (struct ttag *)mst;

	ttag_frees_total++;
	t->frees++;
	t->ifp_refs_at_free = refcount_load(&mst->ifp->if_refcount);
	t->num_tags_at_free = num_snd_tags();
	if (t->heap)
		free(t, M_TEMP);
}

static const struct if_snd_tag_sw ttag_sw = {
	.snd_tag_free = ttag_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static struct ifnet *
t_ifnet(const char *name)
{
	struct ifnet *ifp;

	ifp = if_alloc(IFT_ETHER);
	if_initname(ifp, name, 0);
	return (ifp);
}

/* Drop the if_alloc reference and let the deferred free run. */
static void
t_ifnet_free(struct ifnet *ifp)
{
	if_free(ifp);
	t_drain();
}

static void
test_alloc_without_method(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	union if_snd_tag_alloc_params p = { .hdr.type =
	    IF_SND_TAG_TYPE_RATE_LIMIT };
	struct m_snd_tag *mst = NULL;

	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), EOPNOTSUPP);
	CHECK(mst == NULL);
	CHECK_EQ(num_snd_tags(), 0);
	t_ifnet_free(ifp);
}

static int alloc_calls;

static int
t_alloc_method(struct ifnet *ifp, union if_snd_tag_alloc_params *p,
    struct m_snd_tag **mstp)
{
	struct ttag *t;

	alloc_calls++;
	if (p->hdr.type != IF_SND_TAG_TYPE_UNLIMITED)
		return (EINVAL);
	t = malloc(sizeof(*t), M_TEMP, M_NOWAIT | M_ZERO);
	if (t == NULL)
		return (ENOMEM);
	t->heap = true;
	m_snd_tag_init(&t->com, ifp, &ttag_sw);
	*mstp = &t->com;
	return (0);
}

static void
test_alloc_calls_method(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	union if_snd_tag_alloc_params p = { .hdr.type =
	    IF_SND_TAG_TYPE_RATE_LIMIT };
	struct m_snd_tag *mst = NULL;
	int before = ttag_frees_total;

	ifp->if_snd_tag_alloc = t_alloc_method;
	alloc_calls = 0;
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), EINVAL);
	CHECK_EQ(alloc_calls, 1);
	p.hdr.type = IF_SND_TAG_TYPE_UNLIMITED;
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), 0);
	CHECK_EQ(alloc_calls, 2);
	CHECK(mst != NULL && mst->ifp == ifp && mst->sw == &ttag_sw);
	CHECK_EQ(num_snd_tags(), 1);
	m_snd_tag_rele(mst);
	CHECK_EQ(ttag_frees_total, before + 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_ifnet_free(ifp);
}

static void
test_init_counts_and_pins(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };

	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	CHECK(t.com.ifp == ifp);
	CHECK_EQ(refcount_load(&t.com.refcount), 1);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 2);
	CHECK_EQ(num_snd_tags(), 1);
	CHECK_EQ(counter_u64_fetch(ifp->if_snd_tags), 1);

	CHECK(m_snd_tag_ref(&t.com) == &t.com);
	CHECK_EQ(refcount_load(&t.com.refcount), 2);
	m_snd_tag_rele(&t.com);
	CHECK_EQ(refcount_load(&t.com.refcount), 1);
	CHECK_EQ(t.frees, 0);

	m_snd_tag_rele(&t.com);
	CHECK_EQ(t.frees, 1);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(counter_u64_fetch(ifp->if_snd_tags), 0);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	t_ifnet_free(ifp);
}

/* destroy: free first (ifnet still referenced, tag still counted). */
static void
test_destroy_order(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };
	int i;

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	for (i = 0; i < 5; i++)
		m_snd_tag_ref(&t.com);
	for (i = 0; i < 5; i++)
		m_snd_tag_rele(&t.com);
	CHECK_EQ(t.frees, 0);
	m_snd_tag_rele(&t.com);
	CHECK_EQ(t.frees, 1);
	/* At free time the tag's if_ref and its count were still held. */
	CHECK_EQ(t.ifp_refs_at_free, 2);
	CHECK_EQ(t.num_tags_at_free, 1);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_ifnet_free(ifp);
}

static void
double_release(void *arg)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	m_snd_tag_rele(&t.com);
	m_snd_tag_rele(&t.com);
}

static void
ref_after_zero(void *arg)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	m_snd_tag_rele(&t.com);
	(void)m_snd_tag_ref(&t.com);
}

static void
test_refcount_oracles(void)
{
	CHECK_PANICS(double_release, NULL, "snd_tag refcount");
	CHECK_PANICS(ref_after_zero, NULL, "snd_tag refcount");
}

/* A reference nobody releases keeps the tag counted (the ledger's view). */
static void
test_leaked_reference_counts(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	m_snd_tag_ref(&t.com);
	m_snd_tag_rele(&t.com);
	CHECK(num_snd_tags() != 0);
	CHECK_EQ(t.frees, 0);
	/* And the ifnet stays pinned: if_free cannot free it. */
	if_free(ifp);
	t_drain();
	CHECK_EQ(ifnet_live_count(), 1);
	m_snd_tag_rele(&t.com);
	CHECK_EQ(num_snd_tags(), 0);
	t_drain();
	CHECK_EQ(ifnet_live_count(), 0);
}

static void
leak_in_world(void *arg)
{
	struct ifnet *ifp;
	struct ttag *t;

	t_world_begin();
	ifp = t_ifnet("leak");
	if_attach(ifp);
	world_add_ifnet(ifp, (void (*)(struct ifnet *))arg);
	t = malloc(sizeof(*t), M_TEMP, M_WAITOK | M_ZERO);
	t->heap = true;
	m_snd_tag_init(&t->com, ifp, &ttag_sw);
	/* The reference is never released. */
	t_world_end();
}

static void
t_destroy_ifnet(struct ifnet *ifp)
{
	if_detach(ifp);
	if_free(ifp);
}

static void
test_leak_caught_by_ledger(void)
{
	CHECK_PANICS(leak_in_world, (void *)t_destroy_ifnet,
	    "ledger: num_snd_tags is 1");
}

/*
 * A tag outlives its ifnet's detach and if_free: the memory stays, the
 * methods are dead, and the last release frees the ifnet.
 */
static void
test_tag_pins_detached_ifnet(void)
{
	struct ifnet *ifp = t_ifnet("pin");
	union if_snd_tag_alloc_params p = { .hdr.type =
	    IF_SND_TAG_TYPE_UNLIMITED };
	struct m_snd_tag *mst = NULL, *mst2 = NULL;
	int live0 = ifnet_live_count();

	ifp->if_snd_tag_alloc = t_alloc_method;
	if_attach(ifp);
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst), 0);
	if_detach(ifp);
	if_free(ifp);
	t_drain();
	CHECK_EQ(ifnet_live_count(), live0);
	CHECK_EQ(refcount_load(&ifp->if_refcount), 1);
	CHECK(if_getflags(ifp) & IFF_DYING);
	/* Dead methods: no new tag on a detached ifnet. */
	CHECK_EQ(m_snd_tag_alloc(ifp, &p, &mst2), EOPNOTSUPP);
	CHECK(mst2 == NULL);
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(ifnet_live_count(), live0);	/* freed through the epoch */
	t_drain();
	CHECK_EQ(ifnet_live_count(), live0 - 1);
}

/* Two threads take and drop references: the count must be exact. */
#define	RACE_ITERS	20000

static void *
ref_rele_loop(void *arg)
{
	struct m_snd_tag *mst = arg;
	int i;

	for (i = 0; i < RACE_ITERS; i++) {
		m_snd_tag_ref(mst);
		m_snd_tag_rele(mst);
	}
	return (NULL);
}

static void
test_concurrent_ref_rele(void)
{
	struct ifnet *ifp = t_ifnet("race");
	struct ttag t = { 0 };
	pthread_t th[2];
	int i;

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, ref_rele_loop, &t.com),
		    0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	CHECK_EQ(refcount_load(&t.com.refcount), 1);
	CHECK_EQ(t.frees, 0);
	m_snd_tag_rele(&t.com);
	CHECK_EQ(t.frees, 1);
	t_ifnet_free(ifp);
}

/* The tag lives in an mbuf: freeing the mbuf drops exactly its ref. */
static void
test_mbuf_reference(void)
{
	struct ifnet *ifp = t_ifnet("tst");
	struct ttag t = { 0 };
	struct mbuf *m;

	m_snd_tag_init(&t.com, ifp, &ttag_sw);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	m->m_pkthdr.snd_tag = m_snd_tag_ref(&t.com);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	m_snd_tag_rele(&t.com);			/* the inp lets go */
	CHECK_EQ(t.frees, 0);
	CHECK_EQ(num_snd_tags(), 1);
	m_freem(m);
	CHECK_EQ(t.frees, 1);
	CHECK_EQ(num_snd_tags(), 0);
	t_ifnet_free(ifp);
}

int
main(void)
{
	RUN(test_alloc_without_method);
	RUN(test_alloc_calls_method);
	RUN(test_init_counts_and_pins);
	RUN(test_destroy_order);
	RUN(test_refcount_oracles);
	RUN(test_leaked_reference_counts);
	RUN(test_leak_caught_by_ledger);
	RUN(test_tag_pins_detached_ifnet);
	RUN(test_concurrent_ref_rele);
	RUN(test_mbuf_reference);
	return (t_done());
}
