/*
 * mbufs and the tag reference they carry (spec §3, §10 invariant 4):
 * move vs copy of the packet header, the chain operations built on them,
 * flag-only tag detection, and every M_NOWAIT failure path.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "net/if_var.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"

static const struct if_snd_tag_sw ttag_sw = {
	.snd_tag_free = t_tag_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static struct ifnet *tifp;
static struct t_tag ttag;

/* A fresh tag on a private ifnet; the test holds the first reference. */
static struct m_snd_tag *
tag_setup(void)
{
	tifp = if_alloc(IFT_ETHER);
	if_initname(tifp, "tst", 0);
	memset(&ttag, 0, sizeof(ttag));
	m_snd_tag_init(&ttag.com, tifp, &ttag_sw);
	return (&ttag.com);
}

static u_int
tag_refs(void)
{
	return (refcount_load(&ttag.com.refcount));
}

/* Drop the test's reference; everything else must be gone already. */
static void
tag_teardown(void)
{
	CHECK_EQ(tag_refs(), 1);
	m_snd_tag_rele(&ttag.com);
	CHECK_EQ(ttag.frees, 1);
	if_free(tifp);
	t_drain();
	CHECK_EQ(num_snd_tags(), 0);
	CHECK_EQ(mbuf_live_count(), 0);
}

static void
stamp(struct mbuf *m, struct m_snd_tag *mst)
{
	m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
	m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
}

static bool
tagged(const struct mbuf *m)
{
	return ((m->m_flags & M_PKTHDR) &&
	    (m->m_pkthdr.csum_flags & CSUM_SND_TAG));
}

static void
fill(struct mbuf *m, int len, uint8_t seed)
{
	int i;

	for (i = 0; i < len; i++)
		mtod(m, uint8_t *)[m->m_len + i] = (uint8_t)(seed + i);
	m->m_len += len;
}

/* A tagged packet: header mbuf with hlen bytes, then a cluster of clen. */
static struct mbuf *
packet(int hlen, int clen, struct m_snd_tag *mst)
{
	struct mbuf *m, *c;

	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	fill(m, hlen, 1);
	if (clen > 0) {
		c = m_getcl(M_NOWAIT, MT_DATA, 0);
		CHECK(c != NULL);
		fill(c, clen, 101);
		m->m_next = c;
	}
	m->m_pkthdr.len = hlen + clen;
	if (mst != NULL)
		stamp(m, mst);
	return (m);
}

static int
chain_count(const struct mbuf *m)
{
	int n = 0;

	for (; m != NULL; m = m->m_next)
		n++;
	return (n);
}

static void
test_alloc_free(void)
{
	struct mbuf *m, *c;
	u_int live = mbuf_live_count();

	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m != NULL);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK(m->m_pkthdr.snd_tag == NULL && m->m_pkthdr.csum_flags == 0);
	CHECK(m->m_data == m->m_dat && m->m_len == 0);
	CHECK_EQ(mbuf_live_count(), live + 1);
	c = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
	CHECK(c != NULL);
	CHECK((c->m_flags & (M_EXT | M_PKTHDR)) == (M_EXT | M_PKTHDR));
	CHECK_EQ(M_SIZE(c), MCLBYTES);
	CHECK(M_WRITABLE(c));
	CHECK_EQ(mbuf_live_count(), live + 2);
	m->m_next = c;
	m_freem(m);
	CHECK_EQ(mbuf_live_count(), live);
}

static void
count_cb(struct mbuf *m, void *arg)
{
	(*(int *)arg)++;
}

static void
test_foreach_live(void)
{
	struct mbuf *a, *b, *c;
	int n;

	a = m_get(M_NOWAIT, MT_DATA);
	b = m_gethdr(M_NOWAIT, MT_DATA);
	c = m_get(M_NOWAIT, MT_DATA);
	n = 0;
	mbuf_foreach_live(count_cb, &n);
	CHECK_EQ(n, 3);
	m_free(b);
	n = 0;
	mbuf_foreach_live(count_cb, &n);
	CHECK_EQ(n, 2);
	m_free(a);
	m_free(c);
	n = 0;
	mbuf_foreach_live(count_cb, &n);
	CHECK_EQ(n, 0);
}

static void
test_move_pkthdr_moves_reference(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *from, *to;

	from = packet(10, 0, mst);
	to = m_get(M_NOWAIT, MT_DATA);
	CHECK_EQ(tag_refs(), 2);
	m_move_pkthdr(to, from);
	CHECK_EQ(tag_refs(), 2);
	CHECK(tagged(to) && to->m_pkthdr.snd_tag == mst);
	CHECK((from->m_flags & M_PKTHDR) == 0);
	CHECK((from->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	CHECK(from->m_pkthdr.snd_tag == NULL);
	m_free(from);
	CHECK_EQ(tag_refs(), 2);
	m_free(to);
	CHECK_EQ(tag_refs(), 1);
	tag_teardown();
}

static void
test_dup_pkthdr_takes_reference(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *from, *to;

	from = packet(10, 0, mst);
	to = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m_dup_pkthdr(to, from, M_NOWAIT) != 0);
	CHECK_EQ(tag_refs(), 3);
	CHECK(tagged(to) && tagged(from));
	m_free(from);
	CHECK_EQ(tag_refs(), 2);
	m_free(to);
	CHECK_EQ(tag_refs(), 1);
	tag_teardown();
}

static void
test_copym_references(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m, *n, *k;
	char a[200], b[200];

	m = packet(20, 100, mst);
	/* From offset 0: header and a reference. */
	n = m_copym(m, 0, M_COPYALL, M_NOWAIT);
	CHECK(n != NULL && tagged(n) && n->m_pkthdr.snd_tag == mst);
	CHECK_EQ(tag_refs(), 3);
	CHECK_EQ(n->m_pkthdr.len, 120);
	/* Internal data is copied, the cluster shared. */
	CHECK(n->m_data != m->m_data);
	CHECK(n->m_next->m_ext.ext_buf == m->m_next->m_ext.ext_buf);
	CHECK_EQ(*m->m_next->m_ext.ext_cnt, 2);
	CHECK(!M_WRITABLE(m->m_next));
	m_copydata(m, 0, 120, a);
	m_copydata(n, 0, 120, b);
	CHECK(memcmp(a, b, 120) == 0);
	/* From an offset: no header, no reference. */
	k = m_copym(m, 5, 50, M_NOWAIT);
	CHECK(k != NULL && (k->m_flags & M_PKTHDR) == 0);
	CHECK_EQ(tag_refs(), 3);
	CHECK_EQ(m_length(k, NULL), 50);
	m_copydata(k, 0, 50, b);
	CHECK(memcmp(a + 5, b, 50) == 0);
	CHECK_EQ(*m->m_next->m_ext.ext_cnt, 3);
	m_freem(k);
	m_freem(n);
	CHECK_EQ(*m->m_next->m_ext.ext_cnt, 1);
	CHECK_EQ(tag_refs(), 2);
	m_freem(m);
	tag_teardown();
}

static void
test_copypacket_and_dup(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m, *c, *d;
	char a[600], b[600];

	m = packet(30, 500, mst);
	c = m_copypacket(m, M_NOWAIT);
	CHECK(c != NULL && tagged(c));
	CHECK_EQ(tag_refs(), 3);
	d = m_dup(m, M_NOWAIT);
	CHECK(d != NULL && tagged(d) && d->m_pkthdr.snd_tag == mst);
	CHECK_EQ(tag_refs(), 4);
	CHECK_EQ(d->m_pkthdr.len, 530);
	CHECK_EQ(m_length(d, NULL), 530);
	/* A deep copy: its storage is its own and writable. */
	for (struct mbuf *x = d; x != NULL; x = x->m_next) {
		CHECK(M_WRITABLE(x));
		if (x->m_flags & M_EXT)
			CHECK(x->m_ext.ext_buf != m->m_next->m_ext.ext_buf);
	}
	m_copydata(m, 0, 530, a);
	m_copydata(d, 0, 530, b);
	CHECK(memcmp(a, b, 530) == 0);
	m_freem(c);
	m_freem(d);
	CHECK_EQ(tag_refs(), 2);
	m_freem(m);
	tag_teardown();
}

static void
test_prepend_pullup_copyup_keep_one_reference(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m;
	char a[100];

	m = packet(10, 300, mst);
	M_PREPEND(m, 14, M_NOWAIT);
	CHECK(m != NULL && tagged(m) && m->m_pkthdr.snd_tag == mst);
	CHECK_EQ(tag_refs(), 2);
	CHECK_EQ(m->m_pkthdr.len, 324);
	CHECK((m->m_next->m_flags & M_PKTHDR) == 0);
	CHECK((m->m_next->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0);
	memset(mtod(m, char *), 0xee, 14);

	/* Pull the first 100 bytes into one mbuf. */
	m = m_pullup(m, 100);
	CHECK(m != NULL && tagged(m) && m->m_len >= 100);
	CHECK_EQ(tag_refs(), 2);
	CHECK_EQ(m_length(m, NULL), 324);
	m_copydata(m, 0, 100, a);
	CHECK_EQ((uint8_t)a[0], 0xee);
	CHECK_EQ((uint8_t)a[14], 1);
	CHECK_EQ((uint8_t)a[24], 101);

	m = m_copyup(m, 40, 16);
	CHECK(m != NULL && tagged(m));
	CHECK_EQ(tag_refs(), 2);
	CHECK_EQ(M_LEADINGSPACE(m), 16);
	CHECK_EQ(m_length(m, NULL), 324);

	/* A pullup that cannot be satisfied frees the packet and its ref. */
	m = m_pullup(m, MLEN + 1);
	CHECK(m == NULL);
	CHECK_EQ(tag_refs(), 1);
	tag_teardown();
}

/* The header mbuf is a cluster: m_pullup must allocate a new header. */
static void
test_pullup_from_cluster_header(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m, *c;

	m = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
	fill(m, 8, 1);
	c = m_get(M_NOWAIT, MT_DATA);
	fill(c, 60, 50);
	m->m_next = c;
	m->m_pkthdr.len = 68;
	stamp(m, mst);
	m = m_pullup(m, 40);
	CHECK(m != NULL && tagged(m) && (m->m_flags & M_EXT) == 0);
	CHECK(m->m_len >= 40);
	CHECK_EQ(m_length(m, NULL), 68);
	CHECK_EQ(tag_refs(), 2);
	m_freem(m);
	tag_teardown();
}

static void
demote_tagged(void *arg)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m = packet(10, 0, mst);

	m_demote_pkthdr(m);
}

static void
demote_chain_tagged(void *arg)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m = packet(10, 0, mst);

	m_demote(m, 1, 0);
}

static void
catpkt_tagged_tail(void *arg)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m = packet(10, 0, NULL), *n = packet(10, 0, mst);

	m_catpkt(m, n);
}

static void
catpkt_tagged_head(void *arg)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m = packet(10, 0, mst), *n = packet(10, 0, NULL);

	m_catpkt(m, n);
}

static void
test_demote_and_catpkt_refuse_tags(void)
{
	struct mbuf *m, *n;

	CHECK_PANICS(demote_tagged, NULL, "csum_snd_tag: demoting");
	CHECK_PANICS(demote_chain_tagged, NULL, "csum_snd_tag: demoting");
	CHECK_PANICS(catpkt_tagged_tail, NULL, "csum_snd_tag: m_catpkt");
	CHECK_PANICS(catpkt_tagged_head, NULL, "csum_snd_tag: m_catpkt");
	/* Untagged packets concatenate. */
	m = packet(10, 0, NULL);
	n = packet(20, 100, NULL);
	m_catpkt(m, n);
	CHECK_EQ(m->m_pkthdr.len, 130);
	CHECK_EQ(m_length(m, NULL), 130);
	for (n = m->m_next; n != NULL; n = n->m_next)
		CHECK((n->m_flags & M_PKTHDR) == 0);
	m_freem(m);
	CHECK_EQ(mbuf_live_count(), 0);
}

/*
 * rcvif shares the union with snd_tag.  Point it at something laid out
 * like a live tag: m_free and m_rcvif must go by the flag and leave it
 * alone.
 */
static void
test_free_goes_by_flag_only(void)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m;

	m = packet(10, 0, NULL);
	m->m_pkthdr.rcvif = (struct ifnet *)mst;
	CHECK(m_rcvif(m) == (struct ifnet *)mst);
	m_freem(m);
	CHECK_EQ(tag_refs(), 1);
	CHECK_EQ(ttag.frees, 0);

	m = packet(10, 0, mst);
	CHECK(m_rcvif(m) == NULL);
	m_freem(m);
	CHECK_EQ(tag_refs(), 1);
	tag_teardown();
}

static void
test_pkthdr_init_zeroes(void)
{
	struct mbuf *m = m_get(M_NOWAIT, MT_DATA);

	m->m_flags |= M_PKTHDR;
	m->m_pkthdr.len = 77;
	m->m_pkthdr.rcvif = (struct ifnet *)&m->m_dat[0];
	m->m_pkthdr.flowid = 5;
	CHECK_EQ(m_pkthdr_init(m, M_NOWAIT), 0);
	CHECK(m->m_pkthdr.rcvif == NULL && m->m_pkthdr.len == 0 &&
	    m->m_pkthdr.flowid == 0 && m->m_pkthdr.csum_flags == 0);
	m_free(m);
}

static void
test_chain_helpers(void)
{
	struct mbuf *m, *last;
	char buf[1000], out[1000];
	int i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	m = m_gethdr(M_NOWAIT, MT_DATA);
	CHECK(m_append(m, 1000, buf) == 1);
	CHECK_EQ(m->m_pkthdr.len, 1000);
	CHECK_EQ(m_length(m, &last), 1000);
	CHECK(last != NULL && last->m_next == NULL);
	m_copydata(m, 0, 1000, out);
	CHECK(memcmp(buf, out, 1000) == 0);
	m_adj(m, 10);
	CHECK_EQ(m->m_pkthdr.len, 990);
	m_copydata(m, 0, 5, out);
	CHECK(memcmp(buf + 10, out, 5) == 0);
	m_adj(m, -90);
	CHECK_EQ(m->m_pkthdr.len, 900);
	CHECK_EQ(m_length(m, NULL), 900);
	m_copydata(m, 895, 5, out);
	CHECK(memcmp(buf + 905, out, 5) == 0);
	m->m_pkthdr.len = 1;
	CHECK_EQ(m_fixhdr(m), 900);
	CHECK_EQ(m->m_pkthdr.len, 900);
	m_adj(m, -5000);
	CHECK_EQ(m->m_pkthdr.len, 0);
	CHECK_EQ(m_length(m, NULL), 0);
	m_freem(m);
	CHECK_EQ(mbuf_live_count(), 0);
}

/* m_append must not write into a cluster another mbuf shares. */
static void
test_append_respects_shared_cluster(void)
{
	struct mbuf *m, *c;
	char a[10] = "0123456789";

	m = packet(0, 10, NULL);
	c = m_copym(m, 0, M_COPYALL, M_NOWAIT);
	CHECK(c != NULL);
	CHECK(m_append(m, 10, a) == 1);
	CHECK_EQ(m_length(m, NULL), 20);
	CHECK(chain_count(m) == 3);	/* a new mbuf, not the shared cluster */
	CHECK_EQ(m_length(c, NULL), 10);
	m_freem(c);
	m_freem(m);
}

/*
 * Fault injection: fail the 1st, 2nd, ... M_NOWAIT allocation of an
 * operation until it runs without a failure.  Each failure must return
 * NULL with nothing leaked: no mbuf, no tag reference.
 */
enum fop { F_COPYM0, F_COPYM_OFF, F_COPYPACKET, F_DUP, F_PREPEND,
	F_PULLUP, F_COPYUP, F_GETCL, F_APPEND };

static const char *fop_names[] = { "copym0", "copym_off", "copypacket",
	"dup", "prepend", "pullup", "copyup", "getcl", "append" };

static void
fault_sweep(enum fop op)
{
	struct m_snd_tag *mst = tag_setup();
	struct mbuf *m, *r;
	uint64_t f0;
	u_int live0;
	bool consumes, injected;
	int nin, nth, ok;
	char big[3000];

	memset(big, 0x5a, sizeof(big));
	for (nth = 1; nth < 100; nth++) {
		/* Three mbufs: header, cluster, small tail. */
		m = packet(20, 1500, mst);
		r = m_get(M_NOWAIT, MT_DATA);
		fill(r, 40, 9);
		m->m_next->m_next = r;
		m->m_pkthdr.len += 40;
		if (op == F_PULLUP) {
			/* A cluster header, so pullup must allocate. */
			struct mbuf *h = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);

			fill(h, 4, 3);
			m_move_pkthdr(h, m);
			h->m_next = m;
			h->m_pkthdr.len += 4;
			m = h;
		}
		live0 = mbuf_live_count();
		nin = chain_count(m);
		CHECK_EQ(tag_refs(), 2);
		consumes = false;
		ok = 0;
		f0 = malloc_fail_count();
		malloc_fail_arm((uint32_t)nth, NULL);
		switch (op) {
		case F_COPYM0:
			r = m_copym(m, 0, M_COPYALL, M_NOWAIT);
			break;
		case F_COPYM_OFF:
			r = m_copym(m, 10, 1530, M_NOWAIT);
			break;
		case F_COPYPACKET:
			r = m_copypacket(m, M_NOWAIT);
			break;
		case F_DUP:
			r = m_dup(m, M_NOWAIT);
			break;
		case F_PREPEND:
			consumes = true;
			r = m_prepend(m, 14, M_NOWAIT);
			break;
		case F_PULLUP:
			consumes = true;
			r = m_pullup(m, 60);
			break;
		case F_COPYUP:
			consumes = true;
			r = m_copyup(m, 30, 8);
			break;
		case F_GETCL:
			r = m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR);
			break;
		case F_APPEND:
			ok = m_append(m, (int)sizeof(big), big);
			r = ok ? m : NULL;
			break;
		}
		malloc_fail_disarm();
		injected = malloc_fail_count() != f0;
		if (!injected) {
			CHECK(r != NULL);
			m_freem(r);
			if (!consumes && r != m)
				m_freem(m);
			CHECK_EQ(tag_refs(), 1);
			CHECK_EQ(mbuf_live_count(), 0);
			break;
		}
		if (op == F_APPEND) {
			/* Partial append: the packet stays consistent. */
			CHECK(!ok);
			CHECK_EQ((u_int)m->m_pkthdr.len, m_length(m, NULL));
			CHECK_EQ(tag_refs(), 2);
			m_freem(m);
		} else {
			if (r != NULL)
				fprintf(stderr, "%s: nth %d returned non-NULL\n",
				    fop_names[op], nth);
			CHECK(r == NULL);
			if (consumes) {
				/* The input went with the failure. */
				CHECK_EQ(mbuf_live_count(), live0 - (u_int)nin);
				CHECK_EQ(tag_refs(), 1);
			} else {
				CHECK_EQ(mbuf_live_count(), live0);
				CHECK_EQ(tag_refs(), 2);
				m_freem(m);
			}
		}
		CHECK_EQ(tag_refs(), 1);
		CHECK_EQ(mbuf_live_count(), 0);
	}
	/* At least one failure was injected, and the sweep ended. */
	CHECK(nth > 1 && nth < 100);
	tag_teardown();
}

static void
test_fault_injection(void)
{
	enum fop op;

	for (op = F_COPYM0; op <= F_APPEND; op++)
		fault_sweep(op);
}

static void
m_free_tagged_in_foreach(struct mbuf *m, void *arg)
{
	m_free(m);
}

static void
free_in_foreach(void *arg)
{
	(void)m_get(M_NOWAIT, MT_DATA);
	mbuf_foreach_live(m_free_tagged_in_foreach, NULL);
}

static void
test_foreach_forbids_free(void)
{
	CHECK_PANICS(free_in_foreach, NULL, "mbuf: free inside");
}

/*
 * Threads allocate and free (and hand mbufs to each other through a
 * locked queue); the registry and live count stay exact, and TSan sees
 * no race in it.
 */
#define	MT_ITERS	2000

static struct mtx mt_q_mtx;
static struct mbuf *mt_q;

static void *
mbuf_thread(void *arg)
{
	struct mbuf *m, *n;
	int i;

	for (i = 0; i < MT_ITERS; i++) {
		m = (i & 1) ? m_getcl(M_NOWAIT, MT_DATA, M_PKTHDR) :
		    m_gethdr(M_NOWAIT, MT_DATA);
		CHECK(m != NULL);
		m->m_len = 1;
		mtod(m, char *)[0] = (char)i;
		mtx_lock(&mt_q_mtx);
		n = mt_q;
		mt_q = m;
		mtx_unlock(&mt_q_mtx);
		if (n != NULL)
			m_freem(n);	/* most likely the other thread's */
	}
	return (NULL);
}

static void
test_threads(void)
{
	pthread_t th[2];
	int i, n;

	mtx_init(&mt_q_mtx, "test_q", NULL, MTX_DEF);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, mbuf_thread, NULL), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	n = 0;
	mbuf_foreach_live(count_cb, &n);
	CHECK_EQ(n, 1);
	CHECK_EQ(mbuf_live_count(), 1);
	m_freem(mt_q);
	mt_q = NULL;
	CHECK_EQ(mbuf_live_count(), 0);
	mtx_destroy(&mt_q_mtx);
}

int
main(void)
{
	RUN(test_alloc_free);
	RUN(test_foreach_live);
	RUN(test_move_pkthdr_moves_reference);
	RUN(test_dup_pkthdr_takes_reference);
	RUN(test_copym_references);
	RUN(test_copypacket_and_dup);
	RUN(test_prepend_pullup_copyup_keep_one_reference);
	RUN(test_pullup_from_cluster_header);
	RUN(test_demote_and_catpkt_refuse_tags);
	RUN(test_free_goes_by_flag_only);
	RUN(test_pkthdr_init_zeroes);
	RUN(test_chain_helpers);
	RUN(test_append_respects_shared_cluster);
	RUN(test_fault_injection);
	RUN(test_foreach_forbids_free);
	RUN(test_threads);
	return (t_done());
}
