/*
 * The routing table: longest-prefix match, change and delete with the
 * old route's ifnet reference released only after the epoch.
 */
#include <pthread.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "net/if_var.h"
#include "net/route.h"
#include "shim/epoch.h"
#include "shim/refcount.h"

static struct ifnet *
t_ifnet(const char *name)
{
	struct ifnet *ifp;

	ifp = if_alloc(IFT_ETHER);
	if_initname(ifp, name, 0);
	if_attach(ifp);
	return (ifp);
}

static u_int
refs(struct ifnet *ifp)
{
	return (refcount_load(&ifp->if_refcount));
}

static struct in_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct in_addr in = { ((uint32_t)a << 24) | ((uint32_t)b << 16) |
	    ((uint32_t)c << 8) | d };

	return (in);
}

static struct ifnet *
lookup4(struct in_addr a)
{
	struct epoch_tracker et;
	struct ifnet *ifp;

	NET_EPOCH_ENTER(et);
	ifp = rt_lookup(AF_INET, &a);
	NET_EPOCH_EXIT(et);
	return (ifp);
}

static struct ifnet *
lookup6(const struct in6_addr *a)
{
	struct epoch_tracker et;
	struct ifnet *ifp;

	NET_EPOCH_ENTER(et);
	ifp = rt_lookup(AF_INET6, a);
	NET_EPOCH_EXIT(et);
	return (ifp);
}

static void
test_longest_prefix_match(void)
{
	struct ifnet *a = t_ifnet("a"), *b = t_ifnet("b"), *c = t_ifnet("c");
	struct in_addr any = v4(0, 0, 0, 0), ten = v4(10, 0, 0, 0);
	struct in_addr sub = v4(10, 1, 2, 0), host = v4(10, 1, 2, 3);
	struct in6_addr p6 = { { 0x20, 0x01, 0x0d, 0xb8 } }, h6 = p6;

	h6.s6_addr[15] = 1;
	CHECK_EQ(rt_add(AF_INET, &any, 0, a), 0);
	CHECK_EQ(rt_add(AF_INET, &ten, 8, b), 0);
	CHECK_EQ(rt_add(AF_INET, &sub, 24, c), 0);
	CHECK_EQ(rt_add(AF_INET6, &p6, 32, c), 0);
	CHECK_EQ(rt_count(), 4);
	CHECK_EQ(refs(a), 2);
	CHECK_EQ(refs(c), 3);
	CHECK(lookup4(host) == c);
	CHECK(lookup4(v4(10, 9, 9, 9)) == b);
	CHECK(lookup4(v4(192, 168, 0, 1)) == a);
	CHECK(lookup6(&h6) == c);
	h6.s6_addr[3] = 0xb9;
	CHECK(lookup6(&h6) == NULL);
	/* Host bits of the prefix do not matter; the prefix is the key. */
	CHECK_EQ(rt_add(AF_INET, &host, 24, a), EEXIST);
	t_ifnet_destroy(a);
	t_ifnet_destroy(b);
	t_ifnet_destroy(c);
	CHECK_EQ(rt_count(), 0);
	CHECK_EQ(ifnet_live_count(), 0);
}

static void
test_bad_arguments(void)
{
	struct ifnet *a = t_ifnet("a");
	struct in_addr ten = v4(10, 0, 0, 0);
	struct in6_addr p6 = { { 0x20, 0x01 } };

	CHECK_EQ(rt_add(AF_INET, &ten, 33, a), EINVAL);
	CHECK_EQ(rt_add(AF_INET, &ten, -1, a), EINVAL);
	CHECK_EQ(rt_add(AF_INET6, &p6, 129, a), EINVAL);
	CHECK_EQ(rt_add(99, &ten, 8, a), EAFNOSUPPORT);
	CHECK_EQ(rt_add(AF_INET, NULL, 8, a), EINVAL);
	CHECK_EQ(rt_add(AF_INET, &ten, 8, NULL), EINVAL);
	CHECK_EQ(rt_change(AF_INET, &ten, 8, a), ESRCH);
	CHECK_EQ(rt_delete(AF_INET, &ten, 8), ESRCH);
	CHECK_EQ(rt_delete(AF_INET6, &p6, 200), EINVAL);
	CHECK_EQ(rt_count(), 0);
	CHECK_EQ(refs(a), 1);
	t_ifnet_destroy(a);
}

static void
test_table_full(void)
{
	struct ifnet *a = t_ifnet("a");
	struct in_addr d;
	int i;

	for (i = 0; i < 64; i++) {
		d = v4(10, (uint8_t)i, 0, 0);
		CHECK_EQ(rt_add(AF_INET, &d, 16, a), 0);
	}
	d = v4(11, 0, 0, 0);
	CHECK_EQ(rt_add(AF_INET, &d, 8, a), ENOBUFS);
	CHECK_EQ(rt_count(), 64);
	CHECK_EQ(refs(a), 65);
	t_ifnet_destroy(a);		/* flushes them all */
	CHECK_EQ(rt_count(), 0);
	CHECK_EQ(ifnet_live_count(), 0);
}

/*
 * Lookups scan the slots up to the highest one used since the last
 * reset: a route behind a hole is still found, a hole is filled without
 * hiding the slots after it, and a reset starts the table afresh.
 */
static void
test_holes(void)
{
	struct ifnet *a = t_ifnet("a"), *b = t_ifnet("b");
	struct in_addr p10 = v4(10, 0, 0, 0), p11 = v4(11, 0, 0, 0);
	struct in_addr p12 = v4(12, 0, 0, 0), p13 = v4(13, 0, 0, 0);
	struct in_addr p14 = v4(14, 0, 0, 0);

	CHECK_EQ(rt_add(AF_INET, &p10, 8, a), 0);
	CHECK_EQ(rt_add(AF_INET, &p11, 8, b), 0);
	CHECK_EQ(rt_add(AF_INET, &p12, 8, a), 0);
	CHECK_EQ(rt_delete(AF_INET, &p11, 8), 0);
	CHECK(lookup4(v4(12, 1, 2, 3)) == a);
	CHECK(lookup4(v4(11, 1, 2, 3)) == NULL);
	CHECK_EQ(rt_add(AF_INET, &p13, 8, b), 0);	/* into the hole */
	CHECK(lookup4(v4(13, 1, 2, 3)) == b);
	CHECK(lookup4(v4(12, 1, 2, 3)) == a);
	CHECK_EQ(rt_delete(AF_INET, &p12, 8), 0);
	CHECK_EQ(rt_add(AF_INET, &p12, 8, b), 0);
	CHECK(lookup4(v4(12, 1, 2, 3)) == b);
	CHECK_EQ(rt_count(), 3);
	rt_reset();
	CHECK_EQ(rt_count(), 0);
	CHECK(lookup4(v4(10, 1, 2, 3)) == NULL);
	CHECK_EQ(rt_add(AF_INET, &p14, 8, b), 0);
	CHECK(lookup4(v4(14, 1, 2, 3)) == b);
	CHECK(lookup4(v4(12, 1, 2, 3)) == NULL);
	t_ifnet_destroy(a);
	t_ifnet_destroy(b);
	CHECK_EQ(rt_count(), 0);
}

/*
 * A reader inside the epoch keeps using the ifnet it looked up while the
 * route moves; the old ifnet's route reference goes after it leaves.
 */
static void
test_change_defers_release(void)
{
	struct ifnet *a = t_ifnet("a"), *b = t_ifnet("b"), *got;
	struct in_addr ten = v4(10, 0, 0, 0), host = v4(10, 0, 0, 1);
	struct epoch_tracker et;

	CHECK_EQ(rt_add(AF_INET, &ten, 8, a), 0);
	NET_EPOCH_ENTER(et);
	got = rt_lookup(AF_INET, &host);
	CHECK(got == a);
	CHECK_EQ(rt_change(AF_INET, &ten, 8, b), 0);
	CHECK(rt_lookup(AF_INET, &host) == b);
	CHECK_EQ(refs(a), 2);		/* still held for the reader */
	CHECK_EQ(refs(b), 2);
	CHECK(strcmp(got->if_xname, "a0") == 0);
	NET_EPOCH_EXIT(et);
	CHECK(epoch_pending() > 0);
	t_drain();
	CHECK_EQ(refs(a), 1);
	CHECK_EQ(rt_count(), 1);

	NET_EPOCH_ENTER(et);
	got = rt_lookup(AF_INET, &host);
	CHECK_EQ(rt_delete(AF_INET, &ten, 8), 0);
	CHECK(rt_lookup(AF_INET, &host) == NULL);
	CHECK(got == b && refs(b) == 2);
	NET_EPOCH_EXIT(et);
	t_drain();
	CHECK_EQ(refs(b), 1);
	CHECK_EQ(rt_count(), 0);
	t_ifnet_destroy(a);
	t_ifnet_destroy(b);
}

/*
 * Detach flushes the ifnet's routes, so a route never pins a detached
 * ifnet: it is freed once the flushed entry's callback has run.
 */
static void
test_detach_flushes(void)
{
	struct ifnet *a = t_ifnet("a"), *b = t_ifnet("b");
	struct in_addr ten = v4(10, 0, 0, 0), x = v4(20, 0, 0, 0);

	CHECK_EQ(rt_add(AF_INET, &ten, 8, a), 0);
	CHECK_EQ(rt_add(AF_INET, &x, 8, b), 0);
	if_detach(a);
	if_free(a);
	CHECK_EQ(rt_count(), 1);
	CHECK_EQ(ifnet_live_count(), 2);
	t_drain();	/* route callback, then if_destroy */
	CHECK_EQ(ifnet_live_count(), 1);
	CHECK(lookup4(v4(20, 1, 1, 1)) == b);
	t_ifnet_destroy(b);
	t_drain();
	CHECK_EQ(ifnet_live_count(), 0);
}

static void
lookup_outside_epoch(void *arg)
{
	struct in_addr a = v4(1, 2, 3, 4);

	(void)rt_lookup(AF_INET, &a);
}

static void
test_lookup_needs_epoch(void)
{
	CHECK_PANICS(lookup_outside_epoch, NULL, "epoch: not in the net epoch");
}

static void
test_alloc_failure(void)
{
	struct ifnet *a = t_ifnet("a"), *b = t_ifnet("b");
	struct in_addr ten = v4(10, 0, 0, 0);

	malloc_fail_arm(1, NULL);
	CHECK_EQ(rt_add(AF_INET, &ten, 8, a), ENOMEM);
	malloc_fail_disarm();
	CHECK_EQ(rt_count(), 0);
	CHECK_EQ(refs(a), 1);
	CHECK_EQ(rt_add(AF_INET, &ten, 8, a), 0);
	malloc_fail_arm(1, NULL);
	CHECK_EQ(rt_change(AF_INET, &ten, 8, b), ENOMEM);
	malloc_fail_disarm();
	CHECK(lookup4(ten) == a);
	CHECK_EQ(refs(a), 2);
	CHECK_EQ(refs(b), 1);
	t_ifnet_destroy(a);
	t_ifnet_destroy(b);
	t_drain();
	CHECK_EQ(ifnet_live_count(), 0);
}

static void
test_reset(void)
{
	struct ifnet *a = t_ifnet("a");
	struct in_addr ten = v4(10, 0, 0, 0);

	CHECK_EQ(rt_add(AF_INET, &ten, 8, a), 0);
	rt_reset();
	CHECK_EQ(rt_count(), 0);
	CHECK_EQ(refs(a), 1);
	t_ifnet_destroy(a);
}

/*
 * Readers look up and use the ifnet inside the epoch while a writer moves
 * the route between two ifnets and drains callbacks.  TSan checks the
 * publication and the deferred release; the counts must come back.
 */
#define	RT_MT_ITERS	2000

static struct ifnet *mt_a, *mt_b;
static int mt_stop;

static void *
rt_reader(void *arg)
{
	struct in_addr host = v4(10, 0, 0, 1);
	struct epoch_tracker et;
	struct ifnet *ifp;
	u_int seen = 0;

	while (!__atomic_load_n(&mt_stop, __ATOMIC_ACQUIRE)) {
		NET_EPOCH_ENTER(et);
		ifp = rt_lookup(AF_INET, &host);
		CHECK(ifp == mt_a || ifp == mt_b);
		CHECK(ifp->if_xname[0] == 'a' || ifp->if_xname[0] == 'b');
		CHECK(refcount_load(&ifp->if_refcount) >= 1);
		NET_EPOCH_EXIT(et);
		seen++;
	}
	return ((void *)(uintptr_t)seen);
}

static void
test_threads(void)
{
	struct in_addr ten = v4(10, 0, 0, 0);
	pthread_t th[2];
	int i;

	mt_a = t_ifnet("a");
	mt_b = t_ifnet("b");
	CHECK_EQ(rt_add(AF_INET, &ten, 8, mt_a), 0);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, rt_reader, NULL), 0);
	for (i = 0; i < RT_MT_ITERS; i++) {
		CHECK_EQ(rt_change(AF_INET, &ten, 8, (i & 1) ? mt_a : mt_b),
		    0);
		(void)epoch_drain_callbacks();
	}
	__atomic_store_n(&mt_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	t_drain();
	/* The last change (odd i) left the route on a. */
	CHECK_EQ(refs(mt_a), 2);
	CHECK_EQ(refs(mt_b), 1);
	CHECK_EQ(rt_delete(AF_INET, &ten, 8), 0);
	t_ifnet_destroy(mt_a);
	t_ifnet_destroy(mt_b);
	CHECK_EQ(ifnet_live_count(), 0);
}

int
main(void)
{
	RUN(test_longest_prefix_match);
	RUN(test_bad_arguments);
	RUN(test_table_full);
	RUN(test_holes);
	RUN(test_change_defers_release);
	RUN(test_detach_flushes);
	RUN(test_lookup_needs_epoch);
	RUN(test_alloc_failure);
	RUN(test_reset);
	RUN(test_threads);
	return (t_done());
}
