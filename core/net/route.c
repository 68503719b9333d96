/*
 * Model of FreeBSD's routing table, reduced to what the send-tag paths
 * need: up to RT_MAX prefixes (IPv4 and IPv6) each pointing at an ifnet,
 * longest-prefix match.
 *
 * Entries are immutable once published.  Writers (under rt_mtx) replace a
 * slot with a release store and hand the old entry to the net epoch; the
 * entry's if_rele happens in the epoch callback, after every reader that
 * could have returned its ifnet has left.
 */
#include "net/route.h"
#include "shim/epoch.h"
#include "shim/lock.h"

#include <pthread.h>

MALLOC_DEFINE(M_RTABLE, "routetbl", "routing table entries");

#define	RT_MAX		64

struct rtentry {
	int		 rt_af;
	int		 rt_plen;
	uint8_t		 rt_dst[16];	/* prefix, host bits zeroed */
	struct ifnet	*rt_ifp;	/* holds a reference */
	struct epoch_context rt_epoch_ctx;
};

/*
 * The table is the harness's stand-in for FreeBSD's radix tree: how many
 * slots a walk visits is not the model's behaviour, so the walks are
 * __no_sancov; what they find is counted, in their callers.
 */

static struct rtentry *rt_table[RT_MAX];
/*
 * Slots [0, rt_nslots) may be in use (a high-water mark since the last
 * reset, raised under rt_mtx): a lookup per packet scans only those.
 */
static int rt_nslots;
static struct mtx rt_mtx;
static pthread_once_t rt_init_once = PTHREAD_ONCE_INIT;

static void
rt_init_locks(void)
{
	mtx_init(&rt_mtx, "rtable", NULL, MTX_DEF);
}

static void
rt_init(void)
{
	pthread_once(&rt_init_once, rt_init_locks);
}

static inline struct rtentry *
rt_slot_load(int i)
{
	return (__atomic_load_n(&rt_table[i], __ATOMIC_ACQUIRE));
}

static inline void
rt_slot_store(int i, struct rtentry *rt)
{
	__atomic_store_n(&rt_table[i], rt, __ATOMIC_RELEASE);
}

static inline int
rt_slots(void)
{
	return (__atomic_load_n(&rt_nslots, __ATOMIC_ACQUIRE));
}

static int
rt_addrlen(int af)
{
	switch (af) {
	case AF_INET:
		return (4);
	case AF_INET6:
		return (16);
	default:
		return (0);
	}
}

/*
 * Address bytes in network order, so prefixes compare bit by bit.  The
 * model keeps IPv4 addresses in host order.
 */
static void
rt_addrbytes(int af, const void *dst, uint8_t out[16])
{
	memset(out, 0, 16);
	if (af == AF_INET) {
		uint32_t a = ((const struct in_addr *)dst)->s_addr;

		out[0] = (uint8_t)(a >> 24);
		out[1] = (uint8_t)(a >> 16);
		out[2] = (uint8_t)(a >> 8);
		out[3] = (uint8_t)a;
	} else
		memcpy(out, ((const struct in6_addr *)dst)->s6_addr, 16);
}

static __no_sancov void
rt_mask(uint8_t a[16], int plen)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8)
			plen -= 8;
		else if (plen > 0) {
			a[i] &= (uint8_t)(0xff << (8 - plen));
			plen = 0;
		} else
			a[i] = 0;
	}
}

static __no_sancov bool
rt_matches(const struct rtentry *rt, int af, const uint8_t addr[16])
{
	uint8_t a[16];

	if (rt->rt_af != af)
		return (false);
	memcpy(a, addr, 16);
	rt_mask(a, rt->rt_plen);
	return (memcmp(a, rt->rt_dst, 16) == 0);
}

/* Validate and normalise a prefix; 0 or an errno. */
static int
rt_key(int af, const void *dst, int plen, uint8_t key[16])
{
	int alen;

	alen = rt_addrlen(af);
	if (alen == 0)
		return (EAFNOSUPPORT);
	if (dst == NULL || plen < 0 || plen > alen * 8)
		return (EINVAL);
	rt_addrbytes(af, dst, key);
	rt_mask(key, plen);
	return (0);
}

/* rt_mtx held: the slot of exactly this prefix, or -1. */
static __no_sancov int
rt_find_exact(int af, const uint8_t key[16], int plen)
{
	struct rtentry *rt;
	int i;

	for (i = 0; i < rt_nslots; i++) {
		rt = rt_table[i];
		if (rt != NULL && rt->rt_af == af && rt->rt_plen == plen &&
		    memcmp(rt->rt_dst, key, 16) == 0)
			return (i);
	}
	return (-1);
}

/* rt_mtx held: the first free slot, or RT_MAX. */
static __no_sancov int
rt_free_slot(void)
{
	int i;

	for (i = 0; i < rt_nslots; i++)
		if (rt_table[i] == NULL)
			return (i);
	return (rt_nslots);
}

static struct rtentry *
rt_entry_alloc(int af, const uint8_t key[16], int plen, struct ifnet *ifp)
{
	struct rtentry *rt;

	rt = malloc(sizeof(*rt), M_RTABLE, M_NOWAIT | M_ZERO);
	if (rt == NULL)
		return (NULL);
	rt->rt_af = af;
	rt->rt_plen = plen;
	memcpy(rt->rt_dst, key, 16);
	if_ref(ifp);
	rt->rt_ifp = ifp;
	return (rt);
}

static void
rt_entry_free_cb(epoch_context_t ctx)
{
	struct rtentry *rt;

	rt = (struct rtentry *)((char *)ctx -
	    offsetof(struct rtentry, rt_epoch_ctx));
	if_rele(rt->rt_ifp);
	free(rt, M_RTABLE);
}

/* Readers may still hold rt's ifnet: release it after the epoch. */
static void
rt_entry_retire(struct rtentry *rt)
{
	NET_EPOCH_CALL(rt_entry_free_cb, &rt->rt_epoch_ctx);
}

/* A route through a detached ifnet would pin it forever. */
static int
rt_check_ifp(struct ifnet *ifp)
{
	if (ifp == NULL)
		return (EINVAL);
	if (if_getflags(ifp) & IFF_DYING)
		return (ENXIO);
	return (0);
}

int
rt_add(int af, const void *dst, int plen, struct ifnet *ifp)
{
	struct rtentry *rt;
	uint8_t key[16];
	int error, i;

	rt_init();
	if ((error = rt_key(af, dst, plen, key)) != 0)
		return (error);
	mtx_lock(&rt_mtx);
	if ((error = rt_check_ifp(ifp)) != 0)
		goto out;
	if (rt_find_exact(af, key, plen) >= 0) {
		error = EEXIST;
		goto out;
	}
	if ((i = rt_free_slot()) == RT_MAX) {
		error = ENOBUFS;
		goto out;
	}
	rt = rt_entry_alloc(af, key, plen, ifp);
	if (rt == NULL) {
		error = ENOMEM;
		goto out;
	}
	rt_slot_store(i, rt);
	/* After the slot: a reader that sees the new bound sees the entry. */
	if (i == rt_nslots)
		__atomic_store_n(&rt_nslots, i + 1, __ATOMIC_RELEASE);
out:
	mtx_unlock(&rt_mtx);
	return (error);
}

int
rt_change(int af, const void *dst, int plen, struct ifnet *ifp)
{
	struct rtentry *old, *rt;
	uint8_t key[16];
	int error, i;

	rt_init();
	if ((error = rt_key(af, dst, plen, key)) != 0)
		return (error);
	old = NULL;
	mtx_lock(&rt_mtx);
	if ((error = rt_check_ifp(ifp)) != 0)
		goto out;
	if ((i = rt_find_exact(af, key, plen)) < 0) {
		error = ESRCH;
		goto out;
	}
	rt = rt_entry_alloc(af, key, plen, ifp);
	if (rt == NULL) {
		error = ENOMEM;
		goto out;
	}
	old = rt_table[i];
	rt_slot_store(i, rt);
out:
	mtx_unlock(&rt_mtx);
	if (old != NULL)
		rt_entry_retire(old);
	return (error);
}

int
rt_delete(int af, const void *dst, int plen)
{
	struct rtentry *old;
	uint8_t key[16];
	int error, i;

	rt_init();
	if ((error = rt_key(af, dst, plen, key)) != 0)
		return (error);
	old = NULL;
	mtx_lock(&rt_mtx);
	if ((i = rt_find_exact(af, key, plen)) < 0)
		error = ESRCH;
	else {
		old = rt_table[i];
		rt_slot_store(i, NULL);
	}
	mtx_unlock(&rt_mtx);
	if (old != NULL)
		rt_entry_retire(old);
	return (error);
}

/* Longest-prefix match over the slots in use (inside the net epoch). */
static __no_sancov struct rtentry *
rt_best(int af, const uint8_t addr[16])
{
	struct rtentry *rt, *best;
	int i, n;

	best = NULL;
	n = rt_slots();
	for (i = 0; i < n; i++) {
		rt = rt_slot_load(i);
		if (rt == NULL || !rt_matches(rt, af, addr))
			continue;
		if (best == NULL || rt->rt_plen > best->rt_plen)
			best = rt;
	}
	return (best);
}

struct ifnet *
rt_lookup(int af, const void *dst)
{
	struct rtentry *best;
	uint8_t addr[16];

	NET_EPOCH_ASSERT();
	if (rt_addrlen(af) == 0 || dst == NULL)
		return (NULL);
	rt_addrbytes(af, dst, addr);
	best = rt_best(af, addr);
	return (best != NULL ? best->rt_ifp : NULL);
}

/* rt_mtx held: unpublish every route through ifp into gone[]; the count. */
static __no_sancov int
rt_unlink_ifp(struct ifnet *ifp, struct rtentry *gone[RT_MAX])
{
	struct rtentry *rt;
	int i, n = 0;

	for (i = 0; i < rt_nslots; i++) {
		rt = rt_table[i];
		if (rt != NULL && rt->rt_ifp == ifp) {
			rt_slot_store(i, NULL);
			gone[n++] = rt;
		}
	}
	return (n);
}

void
rt_flush_ifp(struct ifnet *ifp)
{
	struct rtentry *gone[RT_MAX];
	int i, n;

	rt_init();
	mtx_lock(&rt_mtx);
	n = rt_unlink_ifp(ifp, gone);
	mtx_unlock(&rt_mtx);
	for (i = 0; i < n; i++)
		rt_entry_retire(gone[i]);
}

__no_sancov int
rt_count(void)
{
	int i, n;

	rt_init();
	n = 0;
	mtx_lock(&rt_mtx);
	for (i = 0; i < rt_nslots; i++)
		if (rt_table[i] != NULL)
			n++;
	mtx_unlock(&rt_mtx);
	return (n);
}

/*
 * Between inputs: drop every route at once.  No reader may be inside the
 * epoch (the harness calls this with the world quiesced).
 */
__no_sancov void
rt_reset(void)
{
	struct rtentry *rt;
	int i;

	rt_init();
	mtx_lock(&rt_mtx);
	for (i = 0; i < rt_nslots; i++) {
		rt = rt_table[i];
		if (rt == NULL)
			continue;
		rt_slot_store(i, NULL);
		if_rele(rt->rt_ifp);
		free(rt, M_RTABLE);
	}
	__atomic_store_n(&rt_nslots, 0, __ATOMIC_RELEASE);
	mtx_unlock(&rt_mtx);
}
