/*
 * Model of sys/kern/uipc_mbuf.c: packet-header moves and copies, and the
 * chain operations built on them.
 *
 * The send-tag rules: m_move_pkthdr moves the mbuf's reference (the source
 * loses flag and pointer), m_dup_pkthdr takes a new one, m_demote_pkthdr
 * and m_catpkt must never see a tagged packet (they would drop the header
 * without releasing).  Every M_NOWAIT failure frees what was built so far
 * and, where FreeBSD does, the input chain too.
 */
#include "sys/mbuf.h"
#include "net/if_var.h"
#include "shim/canary.h"
#include "shim/refcount.h"

/* Offset of m_data inside its storage, and room after m_data + m_len. */
static inline int
m_dataoff(const struct mbuf *m)
{
	return ((int)(m->m_data - M_START(m)));
}

/* Trailing space we may write into: none in shared or read-only storage. */
static inline int
m_writable_trailing(const struct mbuf *m)
{
	if (!M_WRITABLE(m))
		return (0);
	return (M_TRAILINGSPACE(m));
}

static void
m_assert_untagged_dst(const struct mbuf *to, const char *fn)
{
	KASSERT((to->m_flags & M_PKTHDR) == 0 ||
	    (to->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: %s onto a tagged mbuf would leak its reference",
	    fn));
}

/*
 * Move the packet header (and its tag reference) from 'from' to 'to';
 * 'from' stops being a packet header.
 */
void
m_move_pkthdr(struct mbuf *to, struct mbuf *from)
{
	M_ASSERTPKTHDR(from);
	m_assert_untagged_dst(to, __func__);
	to->m_flags = (from->m_flags & M_COPYFLAGS) | (to->m_flags & M_EXT);
	if ((to->m_flags & M_EXT) == 0)
		to->m_data = to->m_dat;
	to->m_pkthdr = from->m_pkthdr;
	from->m_flags &= ~M_PKTHDR;
#ifdef SNDTAG_VARIANT_NOREF
	/* Historic: the pointer was a bare copy; nothing to move. */
	if (from->m_pkthdr.csum_flags & CSUM_SND_TAG)
		CANARY_REACHED(CANARY_NOREF);
#else
	if (from->m_pkthdr.csum_flags & CSUM_SND_TAG) {
		from->m_pkthdr.csum_flags &= ~CSUM_SND_TAG;
		from->m_pkthdr.snd_tag = NULL;
	}
#endif
}

/*
 * Copy the packet header; the copy owns its own tag reference.  Returns
 * non-zero on success, as FreeBSD's (the model has no m_tags to copy, so
 * it cannot fail).
 */
int
m_dup_pkthdr(struct mbuf *to, const struct mbuf *from, int how)
{
	M_ASSERTPKTHDR(from);
	m_assert_untagged_dst(to, __func__);
	to->m_flags = (from->m_flags & M_COPYFLAGS) | (to->m_flags & M_EXT);
	if ((to->m_flags & M_EXT) == 0)
		to->m_data = to->m_dat;
	to->m_pkthdr = from->m_pkthdr;
#ifdef SNDTAG_VARIANT_NOREF
	/* Historic: the copy shared the pointer without a reference. */
	if (from->m_pkthdr.csum_flags & CSUM_SND_TAG)
		CANARY_REACHED(CANARY_NOREF);
#else
	if (from->m_pkthdr.csum_flags & CSUM_SND_TAG)
		m_snd_tag_ref(from->m_pkthdr.snd_tag);
#endif
	return (1);
}

void
m_demote_pkthdr(struct mbuf *m)
{
	M_ASSERTPKTHDR(m);
	KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: demoting a tagged mbuf would leak its reference"));
	m->m_flags &= ~M_PKTHDR;
	memset(&m->m_pkthdr, 0, sizeof(m->m_pkthdr));
}

/* Clean the flags of m0 (if all) and the rest of its chain. */
void
m_demote(struct mbuf *m0, int all, int flags)
{
	struct mbuf *m;

	for (m = all ? m0 : m0->m_next; m != NULL; m = m->m_next) {
		KASSERT(m->m_nextpkt == NULL,
		    ("mbuf: m_demote: m_nextpkt not NULL"));
		if (m->m_flags & M_PKTHDR)
			m_demote_pkthdr(m);
		m->m_flags &= (M_EXT | M_RDONLY | flags);
	}
}

/* Share m's cluster with n (n has no storage of its own yet). */
static void
mb_dupcl(struct mbuf *n, const struct mbuf *m)
{
	KASSERT(m->m_flags & M_EXT, ("mbuf: mb_dupcl: source has no cluster"));
	KASSERT((n->m_flags & M_EXT) == 0,
	    ("mbuf: mb_dupcl: destination has storage"));
	refcount_acquire(m->m_ext.ext_cnt);
	n->m_ext = m->m_ext;
	n->m_flags |= M_EXT | (m->m_flags & M_RDONLY);
}

/*
 * Copy len bytes (M_COPYALL: to the end) from offset off0.  Clusters are
 * shared, internal data copied.  From offset 0 of a packet header the copy
 * gets the header, with its own tag reference.
 */
struct mbuf *
m_copym(struct mbuf *m, int off0, int len, int how)
{
	struct mbuf *n, **np, *top;
	int off = off0;
	bool copyhdr = false;

	KASSERT(off >= 0, ("mbuf: m_copym: negative offset %d", off));
	KASSERT(len >= 0, ("mbuf: m_copym: negative length %d", len));
	KASSERT(m != NULL, ("mbuf: m_copym: NULL chain"));
	if (off == 0 && (m->m_flags & M_PKTHDR))
		copyhdr = true;
	while (off > 0) {
		KASSERT(m != NULL,
		    ("mbuf: m_copym: offset %d past the chain", off0));
		if (off < m->m_len)
			break;
		off -= m->m_len;
		m = m->m_next;
	}
	np = &top;
	top = NULL;
	while (len > 0) {
		if (m == NULL) {
			KASSERT(len == M_COPYALL,
			    ("mbuf: m_copym: length past the chain"));
			break;
		}
		if (copyhdr)
			n = m_gethdr(how, m->m_type);
		else
			n = m_get(how, m->m_type);
		*np = n;
		if (n == NULL)
			goto nospace;
		if (copyhdr) {
			if (m_dup_pkthdr(n, m, how) == 0)
				goto nospace;
			if (len == M_COPYALL)
				n->m_pkthdr.len -= off0;
			else
				n->m_pkthdr.len = len;
			copyhdr = false;
		}
		n->m_len = MIN(len, m->m_len - off);
		if (m->m_flags & M_EXT) {
			n->m_data = m->m_data + off;
			mb_dupcl(n, m);
		} else if (n->m_len > 0)
			memcpy(mtod(n, caddr_t), mtod(m, caddr_t) + off,
			    (size_t)n->m_len);
		if (len != M_COPYALL)
			len -= n->m_len;
		off = 0;
		m = m->m_next;
		np = &n->m_next;
	}
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

struct mbuf *
m_copypacket(struct mbuf *m, int how)
{
	M_ASSERTPKTHDR(m);
	return (m_copym(m, 0, M_COPYALL, how));
}

/*
 * Deep copy of a packet into fresh, writable storage.  The copy's header
 * owns its own tag reference.
 */
struct mbuf *
m_dup(const struct mbuf *m, int how)
{
	struct mbuf **p, *top, *n;
	const struct mbuf *src;
	int64_t total;
	int remain, moff, nsize;

	if (m == NULL)
		return (NULL);
	M_ASSERTPKTHDR(m);
	remain = m->m_pkthdr.len;
	total = 0;
	for (src = m; src != NULL; src = src->m_next)
		total += src->m_len;
	/* The copy loop below relies on the header matching the chain. */
	KASSERT(remain == total,
	    ("mbuf: m_dup: m_pkthdr.len %d is not the chain length %jd",
	    remain, (intmax_t)total));
	src = m;
	moff = 0;
	p = &top;
	top = NULL;
	while (remain > 0 || top == NULL) {
		if (remain > MLEN) {
			n = m_getcl(how, m->m_type, 0);
			nsize = MCLBYTES;
		} else {
			n = m_get(how, m->m_type);
			nsize = MLEN;
		}
		if (n == NULL)
			goto nospace;
		if (top == NULL) {
			top = n;
			if (m_dup_pkthdr(n, m, how) == 0)
				goto nospace;
			n->m_flags &= ~M_RDONLY;
		} else
			*p = n;
		p = &n->m_next;
		n->m_len = 0;
		while (n->m_len < nsize && src != NULL) {
			int chunk = MIN(nsize - n->m_len, src->m_len - moff);

			if (chunk > 0)
				memcpy(n->m_data + n->m_len, src->m_data + moff,
				    (size_t)chunk);
			moff += chunk;
			n->m_len += chunk;
			remain -= chunk;
			if (moff == src->m_len) {
				src = src->m_next;
				moff = 0;
			}
		}
	}
	return (top);
nospace:
	m_freem(top);
	return (NULL);
}

/*
 * Put a new mbuf of len bytes in front of m; the header (and tag
 * reference) moves to it.  On failure m is freed.
 */
struct mbuf *
m_prepend(struct mbuf *m, int len, int how)
{
	struct mbuf *mn;

	KASSERT(len >= 0 && len <= MLEN,
	    ("mbuf: m_prepend: bad length %d", len));
	if (m->m_flags & M_PKTHDR)
		mn = m_gethdr(how, m->m_type);
	else
		mn = m_get(how, m->m_type);
	if (mn == NULL) {
		m_freem(m);
		return (NULL);
	}
	if (m->m_flags & M_PKTHDR)
		m_move_pkthdr(mn, m);
	mn->m_next = m;
	m = mn;
	/* Leave the data at the end, long-aligned, as M_ALIGN does. */
	if (len < M_SIZE(m))
		m->m_data += (M_SIZE(m) - len) & ~(int)(sizeof(long) - 1);
	m->m_len = len;
	return (m);
}

/*
 * Move len bytes from the front of chain n into m's internal buffer, which
 * has room for them, and link what is left of n behind m.  When n runs out
 * first, both are freed (with any tag reference m holds) and NULL returned.
 * The common tail of m_pullup and m_copyup.
 */
static struct mbuf *
m_gather(struct mbuf *m, struct mbuf *n, int len)
{
	int count, space;

	space = MLEN - (m_dataoff(m) + m->m_len);
	do {
		count = MIN(MIN(len, space), n->m_len);
		if (count > 0)
			memcpy(mtod(m, caddr_t) + m->m_len, mtod(n, caddr_t),
			    (size_t)count);
		len -= count;
		m->m_len += count;
		n->m_len -= count;
		space -= count;
		if (n->m_len > 0)
			n->m_data += count;
		else
			n = m_free(n);
	} while (len > 0 && n != NULL);
	if (len > 0) {
		(void)m_free(m);
		m_freem(n);
		return (NULL);
	}
	m->m_next = n;
	return (m);
}

/*
 * Make the first len bytes contiguous in the first mbuf.  On failure the
 * whole chain is freed (its tag reference with it) and NULL returned.
 */
struct mbuf *
m_pullup(struct mbuf *n, int len)
{
	struct mbuf *m;

	KASSERT(len >= 0, ("mbuf: m_pullup: negative length %d", len));
	if (n->m_len >= len)
		return (n);
	/*
	 * If the first mbuf has room and there is more data, pull into it;
	 * otherwise take a new mbuf for the header.
	 */
	if ((n->m_flags & M_EXT) == 0 && m_dataoff(n) + len <= MLEN &&
	    n->m_next != NULL) {
		m = n;
		n = n->m_next;
		len -= m->m_len;
	} else {
		if (len > MLEN)
			goto bad;
		m = m_get(M_NOWAIT, n->m_type);
		if (m == NULL)
			goto bad;
		if (n->m_flags & M_PKTHDR)
			m_move_pkthdr(m, n);
	}
	return (m_gather(m, n, len));
bad:
	m_freem(n);
	return (NULL);
}

/*
 * Like m_pullup, but always into a new mbuf, with dstoff bytes of leading
 * space.
 */
struct mbuf *
m_copyup(struct mbuf *n, int len, int dstoff)
{
	struct mbuf *m;

	KASSERT(len >= 0 && dstoff >= 0,
	    ("mbuf: m_copyup: bad length %d or offset %d", len, dstoff));
	if (len > MLEN - dstoff)
		goto bad;
	m = m_get(M_NOWAIT, n->m_type);
	if (m == NULL)
		goto bad;
	if (n->m_flags & M_PKTHDR)
		m_move_pkthdr(m, n);
	m->m_data += dstoff;
	return (m_gather(m, n, len));
bad:
	m_freem(n);
	return (NULL);
}

/*
 * Append chain n to chain m, copying data into m's last mbuf while it
 * fits.  Packet headers are not updated (m_catpkt does that).
 */
void
m_cat(struct mbuf *m, struct mbuf *n)
{
	while (m->m_next != NULL)
		m = m->m_next;
	while (n != NULL) {
		if (m_writable_trailing(m) < n->m_len) {
			m->m_next = n;
			return;
		}
		if (n->m_len > 0)
			memcpy(mtod(m, caddr_t) + m->m_len, mtod(n, caddr_t),
			    (size_t)n->m_len);
		m->m_len += n->m_len;
		n = m_free(n);
	}
}

/*
 * Concatenate two packets.  n's header is demoted without a release, so
 * neither packet may be tagged.
 */
void
m_catpkt(struct mbuf *m, struct mbuf *n)
{
	M_ASSERTPKTHDR(m);
	M_ASSERTPKTHDR(n);
	KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0 &&
	    (n->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: m_catpkt of a tagged packet would leak its "
	    "reference"));
	m->m_pkthdr.len += n->m_pkthdr.len;
	m_demote(n, 1, 0);
	m_cat(m, n);
}

/* Trim req_len bytes from the head (> 0) or the tail (< 0). */
void
m_adj(struct mbuf *mp, int req_len)
{
	struct mbuf *m;
	int len = req_len, count;

	if ((m = mp) == NULL)
		return;
	if (len >= 0) {
		while (m != NULL && len > 0) {
			if (m->m_len <= len) {
				len -= m->m_len;
				m->m_len = 0;
				m = m->m_next;
			} else {
				m->m_len -= len;
				m->m_data += len;
				len = 0;
			}
		}
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len -= (req_len - len);
	} else {
		/* Find the length to keep, then cut the chain there. */
		if (len == INT32_MIN)
			len = INT32_MAX;
		else
			len = -len;
		count = 0;
		for (m = mp; m != NULL; m = m->m_next)
			count += m->m_len;
		if (len >= count)
			count = 0;
		else
			count -= len;
		if (mp->m_flags & M_PKTHDR)
			mp->m_pkthdr.len = count;
		for (m = mp; m != NULL; m = m->m_next) {
			if (m->m_len >= count) {
				m->m_len = count;
				if (m->m_next != NULL) {
					m_freem(m->m_next);
					m->m_next = NULL;
				}
				break;
			}
			count -= m->m_len;
		}
	}
}

u_int
m_length(struct mbuf *m0, struct mbuf **last)
{
	struct mbuf *m;
	u_int len = 0;

	for (m = m0; m != NULL; m = m->m_next) {
		len += (u_int)m->m_len;
		if (m->m_next == NULL)
			break;
	}
	if (last != NULL)
		*last = m;
	return (len);
}

u_int
m_fixhdr(struct mbuf *m0)
{
	u_int len;

	M_ASSERTPKTHDR(m0);
	len = m_length(m0, NULL);
	m0->m_pkthdr.len = (int32_t)len;
	return (len);
}

void
m_copydata(const struct mbuf *m, int off, int len, caddr_t cp)
{
	u_int count;

	KASSERT(off >= 0, ("mbuf: m_copydata: negative offset %d", off));
	KASSERT(len >= 0, ("mbuf: m_copydata: negative length %d", len));
	while (off > 0) {
		KASSERT(m != NULL, ("mbuf: m_copydata: offset past the chain"));
		if (off < m->m_len)
			break;
		off -= m->m_len;
		m = m->m_next;
	}
	while (len > 0) {
		KASSERT(m != NULL, ("mbuf: m_copydata: length past the chain"));
		count = (u_int)MIN(m->m_len - off, len);
		memcpy(cp, mtod(m, caddr_t) + off, count);
		len -= (int)count;
		cp += count;
		off = 0;
		m = m->m_next;
	}
}

/*
 * Append len bytes to the chain, allocating mbufs as needed.  Returns 1
 * when everything was appended, 0 when an allocation failed part way (the
 * header length covers what was appended).
 */
int
m_append(struct mbuf *m0, int len, const void *cpv)
{
	const char *cp = cpv;
	struct mbuf *m, *n;
	int remainder, space;

	KASSERT(len >= 0, ("mbuf: m_append: negative length %d", len));
	for (m = m0; m->m_next != NULL; m = m->m_next)
		;
	remainder = len;
	space = m_writable_trailing(m);
	if (space > 0) {
		if (space > remainder)
			space = remainder;
		if (space > 0)
			memcpy(mtod(m, caddr_t) + m->m_len, cp, (size_t)space);
		m->m_len += space;
		cp += space;
		remainder -= space;
	}
	while (remainder > 0) {
		n = m_get(M_NOWAIT, m->m_type);
		if (n == NULL)
			break;
		n->m_len = MIN(MLEN, remainder);
		memcpy(mtod(n, caddr_t), cp, (size_t)n->m_len);
		cp += n->m_len;
		remainder -= n->m_len;
		m->m_next = n;
		m = n;
	}
	if (m0->m_flags & M_PKTHDR)
		m0->m_pkthdr.len += len - remainder;
	return (remainder == 0);
}

/* The receive interface, or NULL when the union holds a send tag. */
struct ifnet *
m_rcvif(struct mbuf *m)
{
	M_ASSERTPKTHDR(m);
#ifdef SNDTAG_VARIANT_RCVIF_AS_TAG
	/* Historic: no flag to consult; the union is returned as it is. */
#else
	if (m->m_pkthdr.csum_flags & CSUM_SND_TAG)
		return (NULL);
#endif
	return (m->m_pkthdr.rcvif);
}
