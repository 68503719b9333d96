/*
 * Model of sys/netinet6/ip6_output.c: the IPv6 twin of ip_output.c.
 * ip6_output_send stamps the inp's tag per packet (after ip6_fragment),
 * consuming the mbuf on every path; routers never fragment, so a
 * forwarded packet larger than the MTU is dropped (EMSGSIZE).
 */
#include "netinet6/ip6_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_kdtrace.h"
#include "shim/epoch.h"
#include "shim/canary.h"
#include "sys/ktls.h"

struct ip6stat ip6stat;
int V_ip6_forwarding;
int V_ip6_defhlim = IPV6_DEFHLIM;

static uint32_t ip6_id_next;		/* fragment ids */

#define	MAX_LINKHDR	16		/* room for if_output */
#define	IP6_MTU_MAX	65535

void
ip6stat_reset(void)
{
	memset(&ip6stat, 0, sizeof(ip6stat));
	__atomic_store_n(&ip6_id_next, 0, __ATOMIC_RELAXED);
}

/* Never 0: a zero id means "not a fragment" in the folded header. */
static uint32_t
ip6_randomid(void)
{
	uint32_t id;

	do {
		id = __atomic_add_fetch(&ip6_id_next, 1, __ATOMIC_RELAXED);
	} while (id == 0);
	return (id);
}

/* nd6_output_ifp: neighbour discovery is not modelled. */
static int
nd6_output_ifp(struct ifnet *ifp, struct ifnet *origifp, struct mbuf *m,
    const struct sockaddr_in6 *dst, struct route *ro)
{
	(void)origifp;
	return (if_getoutputfn(ifp)(ifp, m, (const struct sockaddr *)dst, ro));
}

int
ip6_output_send(struct inpcb *inp, struct ifnet *ifp, struct ifnet *origifp,
    struct mbuf *m, const struct sockaddr_in6 *dst, struct route *ro)
{
	struct ktls_session *tls;
	struct m_snd_tag *mst;
	bool tagged = false;
	int error;

	M_ASSERTPKTHDR(m);
	KASSERT((m->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: %s: packet %p is already tagged", __func__,
	    (void *)m));
	mst = NULL;

	/*
	 * Kernel TLS: a TLS record always goes with its session's tag
	 * (uipc_ktls.c); EAGAIN queues the session's tag reset.
	 */
	tls = mbuf_tls_session(m->m_next);
	if (tls != NULL) {
		tls = ktls_hold(tls);
		error = ktls_output_stamp(inp, ifp, m, tls);
		if (error == 0)
			error = nd6_output_ifp(ifp, origifp, m, dst, ro);
		/* Counted before EAGAIN becomes ENOBUFS: a mismatch. */
		if_txstat_count(ifp, true, error);
		if (error == EAGAIN)
			error = ktls_output_eagain(inp, tls);
		ktls_free(tls);
		return (error);
	}

	if (inp != NULL) {
		INP_LOCK_ASSERT(inp);
#ifdef SNDTAG_VARIANT_NO_IFP_CHECK
		if ((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) != 0)
#else
		if ((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) != 0 ||
		    (inp->inp_snd_tag != NULL &&
		    inp->inp_snd_tag->ifp != ifp))
#endif
			in_pcboutput_txrtlmt(inp, ifp, m);
		mst = inp->inp_snd_tag;
	}

	if (mst != NULL) {
		KASSERT(m->m_pkthdr.rcvif == NULL,
		    ("csum_snd_tag: trying to add a send tag to a forwarded "
		    "packet (rcvif %p)", (void *)m->m_pkthdr.rcvif));
#ifdef SNDTAG_VARIANT_NO_IFP_CHECK
		CANARY_REACHED(CANARY_NO_IFP_CHECK);
		if (mst->ifp != ifp)
			CANARY_TRIGGERED(CANARY_NO_IFP_CHECK);
#else
		if (mst->ifp != ifp) {
			IP6STAT_INC(ip6s_odropped);
			m_freem(m);
			error = EAGAIN;
			goto done;
		}
#endif
#if defined(SNDTAG_VARIANT_NOREF)
		CANARY_REACHED(CANARY_NOREF);
		m->m_pkthdr.snd_tag = mst;
#elif defined(SNDTAG_VARIANT_RACE_INP_UNLOCKED)
		{
			bool wlocked;

			CANARY_REACHED(CANARY_RACE_INP_UNLOCKED);
			wlocked = INP_WLOCKED(inp);
			if (wlocked)
				INP_WUNLOCK(inp);
			else
				INP_RUNLOCK(inp);
			sched_point(SP_EXPLICIT, inp,
			    "ip6_output_send unlocked");
			mst = inp->inp_snd_tag;
			if (mst != NULL)
				m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
			if (wlocked)
				INP_WLOCK(inp);
			else
				INP_RLOCK(inp);
			if (inp->inp_snd_tag != mst)
				CANARY_TRIGGERED(CANARY_RACE_INP_UNLOCKED);
		}
#else
		m->m_pkthdr.snd_tag = m_snd_tag_ref(mst);
#endif
		if (mst != NULL)
			m->m_pkthdr.csum_flags |= CSUM_SND_TAG;
	}

	tagged = (m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0;
	error = nd6_output_ifp(ifp, origifp, m, dst, ro);
	if (inp != NULL) {
		if (error == 0 && tagged)
			INP_TXSTAT_INC(inp, its_tagged);
		else if (error == 0)
			INP_TXSTAT_INC(inp, its_untagged);
	}

#ifndef SNDTAG_VARIANT_NO_IFP_CHECK
done:
#endif
	if_txstat_count(ifp, tagged, error);
	if (inp != NULL && error == EAGAIN)
		INP_TXSTAT_INC(inp, its_drop_mismatch);
	else if (inp != NULL && error != 0)
		INP_TXSTAT_INC(inp, its_drop_other);
	if (error == EAGAIN)
		in_pcboutput_eagain(inp);
	return (error);
}

/*
 * Build the fragments of m0 (header of hlen bytes, not tagged) carrying
 * fraglen bytes each, chained from m0->m_nextpkt.  m0 itself is left as
 * it was; the caller frees it after sending the fragments.  On error
 * nothing new is left allocated.
 */
int
ip6_fragment(struct ifnet *ifp, struct mbuf *m0, int hlen, u_char nextproto,
    int fraglen, uint32_t id)
{
	struct mbuf *m, *mfirst, **mnext;
	struct ip6_hdr *ip6, *mhip6;
	int error, len, nfrags, off, tlen;

	M_ASSERTPKTHDR(m0);
	KASSERT((m0->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: %s: tag on a packet before fragmentation",
	    __func__));
	KASSERT(m0->m_nextpkt == NULL,
	    ("mbuf: %s: packet already has fragments", __func__));
	(void)ifp;
	if (m0->m_len < hlen || hlen < (int)sizeof(struct ip6_hdr))
		return (EINVAL);
	if (fraglen < 8 || (fraglen & 7) != 0)
		return (EMSGSIZE);
	ip6 = mtod(m0, struct ip6_hdr *);
	tlen = m0->m_pkthdr.len;

	error = 0;
	nfrags = 0;
	mfirst = NULL;
	mnext = &mfirst;
	for (off = hlen; off < tlen; off += len) {
		len = MIN(fraglen, tlen - off);
		m = m_gethdr(M_NOWAIT, MT_DATA);
		if (m == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		*mnext = m;
		mnext = &m->m_nextpkt;
		if (m_dup_pkthdr(m, m0, M_NOWAIT) == 0) {
			error = ENOBUFS;
			goto fail;
		}
		m->m_data += MAX_LINKHDR;
		mhip6 = mtod(m, struct ip6_hdr *);
		*mhip6 = *ip6;
		m->m_len = hlen;
		mhip6->ip6_nxt = nextproto;
		mhip6->ip6_plen = (uint16_t)(hlen - sizeof(*ip6) + len);
		mhip6->ip6_frag_off = (uint16_t)((off - hlen) & IP6F_OFF_MASK);
		if (off + len < tlen)
			mhip6->ip6_frag_off |= IP6F_MORE_FRAG;
		mhip6->ip6_frag_id = id;
		m->m_next = m_copym(m0, off, len, M_NOWAIT);
		if (m->m_next == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		m->m_pkthdr.len = hlen + len;
		m->m_pkthdr.csum_flags &= ~CSUM_TSO;
		nfrags++;
	}
	m0->m_nextpkt = mfirst;
	IP6STAT_ADD(ip6s_ofragments, nfrags);
	return (0);

fail:
	while ((m = mfirst) != NULL) {
		mfirst = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	return (error);
}

int
ip6_output(struct mbuf *m, void *opt, struct route *ro, int flags,
    void *im6o, struct ifnet **ifpp, struct inpcb *inp)
{
	struct epoch_tracker et;
	struct sockaddr_in6 dst;
	struct ifnet *ifp;
	struct ip6_hdr *ip6;
	struct mbuf *m0;
	int error, fraglen, hlen, mtu, tlen;

	M_ASSERTPKTHDR(m);
	KASSERT(opt == NULL, ("ip6_output: options are not modelled"));
	if (inp != NULL)
		INP_LOCK_ASSERT(inp);
	if (ifpp != NULL)
		*ifpp = NULL;

	hlen = sizeof(struct ip6_hdr);
	if (m->m_len < hlen && (m = m_pullup(m, hlen)) == NULL) {
		IP6STAT_INC(ip6s_odropped);
		return (ENOBUFS);
	}
	ip6 = mtod(m, struct ip6_hdr *);
	tlen = m->m_pkthdr.len;
	if ((flags & IPV6_FORWARDING) == 0) {
		if (tlen - hlen > IPV6_MAXPACKET) {
			m_freem(m);
			IP6STAT_INC(ip6s_odropped);
			return (EMSGSIZE);
		}
		ip6->ip6_vfc = (ip6->ip6_vfc & ~IPV6_VERSION_MASK) |
		    IPV6_VERSION;
		ip6->ip6_plen = (uint16_t)(tlen - hlen);
		IP6STAT_INC(ip6s_localout);
	}

	memset(&dst, 0, sizeof(dst));
	dst.sin6_len = sizeof(dst);
	dst.sin6_family = AF_INET6;
	dst.sin6_addr = ip6->ip6_dst;

	NET_EPOCH_ENTER(et);
	ifp = rt_lookup(AF_INET6, &ip6->ip6_dst);
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
	/*
	 * Historic: until the output path was put under the net epoch
	 * (D23187, 2020) ip6_output held no epoch section; a reference
	 * (the route's, in FreeBSD) kept the ifnet.  So the send helper,
	 * and a wrapper's tag allocation under it, ran outside the epoch,
	 * and lagg_snd_tag_alloc's unprotected port lookup was exposed.
	 * ip_output did enter the epoch then, so IPv4 stays covered.
	 */
	if (ifp != NULL)
		if_ref(ifp);
	NET_EPOCH_EXIT(et);
#endif
	if (ifp == NULL) {
		IP6STAT_INC(ip6s_noroute);
		error = EHOSTUNREACH;
		goto bad;
	}
	if (ifpp != NULL)
		*ifpp = ifp;
	mtu = ifp->if_mtu > IP6_MTU_MAX ? IP6_MTU_MAX :
	    (int)ifp->if_mtu;

	if (tlen <= mtu ||
	    ((m->m_pkthdr.csum_flags & CSUM_IP6_TSO) != 0 &&
	    (if_getcapenable(ifp) & IFCAP_TSO6) != 0)) {
		IP_PROBE(send, m, inp, ip6, ifp, NULL, ip6);
		error = ip6_output_send(inp, ifp, ifp, m, &dst, ro);
		goto done;
	}

	/* Routers do not fragment; ICMPv6 too big is not modelled. */
	if (flags & IPV6_FORWARDING) {
		error = EMSGSIZE;
		goto bad;
	}
	fraglen = (mtu - hlen) & ~7;
	if (fraglen < 8) {
		error = EMSGSIZE;
		goto bad;
	}
	error = ip6_fragment(ifp, m, hlen, ip6->ip6_nxt, fraglen,
	    ip6_randomid());
	if (error != 0)
		goto bad;
	IP6STAT_INC(ip6s_fragmented);
	/* The fragments carry all the data; the original goes. */
	m0 = m->m_nextpkt;
	m->m_nextpkt = NULL;
	m_freem(m);
	for (m = m0; m != NULL; m = m0) {
		m0 = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if (error == 0) {
			IP_PROBE(send, m, inp, mtod(m, struct ip6_hdr *), ifp,
			    NULL, mtod(m, struct ip6_hdr *));
			error = ip6_output_send(inp, ifp, ifp, m, &dst, ro);
		}
		else {
			IP6STAT_INC(ip6s_odropped);
			m_freem(m);
		}
	}
done:
#ifdef SNDTAG_VARIANT_RACE_LAGG_EPOCH
	if (ifp != NULL)
		if_rele(ifp);
#else
	NET_EPOCH_EXIT(et);
#endif
	return (error);
bad:
	IP6STAT_INC(ip6s_odropped);
	m_freem(m);
	goto done;
}
