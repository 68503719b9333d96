/*
 * Model of sys/netinet/ip_output.c: route lookup, fragmentation and the
 * send helper that stamps the inp's send tag on each packet (spec §6).
 *
 * ip_output_send stands in for if_output and consumes the mbuf on every
 * path.  The tag is stamped per packet, after ip_fragment, so every
 * fragment owns its own reference, taken while the inp lock is held.
 */
#include "netinet/ip_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_kdtrace.h"
#include "shim/epoch.h"
#include "shim/canary.h"
#include "sys/ktls.h"

struct ipstat ipstat;
int V_ipforwarding;
int V_ip_defttl = IPDEFTTL;

static uint32_t ip_id_next;		/* ip_id when there is no inp */

#define	MAX_LINKHDR	16		/* room for if_output */

void
ipstat_reset(void)
{
	memset(&ipstat, 0, sizeof(ipstat));
	__atomic_store_n(&ip_id_next, 0, __ATOMIC_RELAXED);
}

static uint16_t
ip_newid(struct inpcb *inp)
{
	uint32_t *p = inp != NULL ? &inp->inp_ip_id : &ip_id_next;

	/* UDP senders share the inp under the read lock: atomically. */
	return ((uint16_t)__atomic_fetch_add(p, 1, __ATOMIC_RELAXED));
}

int
ip_output_send(struct inpcb *inp, struct ifnet *ifp, struct mbuf *m,
    const struct sockaddr_in *gw, struct route *ro)
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
			error = if_getoutputfn(ifp)(ifp, m,
			    (const struct sockaddr *)gw, ro);
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
		/* Historic: only CHANGED triggers a re-evaluation. */
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
		/* Historic: no mismatch check, the tag goes to any ifnet. */
		CANARY_REACHED(CANARY_NO_IFP_CHECK);
		if (mst->ifp != ifp)
			CANARY_TRIGGERED(CANARY_NO_IFP_CHECK);
#else
		/* Still another ifnet (no upgrade possible): give up. */
		if (mst->ifp != ifp) {
			IPSTAT_INC(ips_odropped);
			m_freem(m);
			error = EAGAIN;
			goto done;
		}
#endif
#if defined(SNDTAG_VARIANT_NOREF)
		/* Historic: a bare copy of the pointer, no reference. */
		CANARY_REACHED(CANARY_NOREF);
		m->m_pkthdr.snd_tag = mst;
#elif defined(SNDTAG_VARIANT_RACE_INP_UNLOCKED)
		{
			bool wlocked;

			/*
			 * Race: the inp lock is let go before the tag is read
			 * again and referenced, so a concurrent detach can
			 * free it in between.
			 */
			CANARY_REACHED(CANARY_RACE_INP_UNLOCKED);
			wlocked = INP_WLOCKED(inp);
			if (wlocked)
				INP_WUNLOCK(inp);
			else
				INP_RUNLOCK(inp);
			sched_point(SP_EXPLICIT, inp,
			    "ip_output_send unlocked");
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
	error = if_getoutputfn(ifp)(ifp, m, (const struct sockaddr *)gw, ro);
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
	/* A mismatch here or in a wrapper below: re-allocate next time. */
	if (error == EAGAIN)
		in_pcboutput_eagain(inp);
	return (error);
}

/*
 * Split the packet *m_frag (header at ip, not tagged) into fragments of
 * at most mtu bytes, chained by m_nextpkt; the original becomes the
 * first.  On error the packet is left as it was (the caller frees it)
 * and no fragment is left allocated.
 */
int
ip_fragment(struct ip *ip, struct mbuf **m_frag, int mtu,
    u_long if_hwassist_flags)
{
	struct mbuf *m0, *m, *mfirst, **mnext;
	struct ip *mhip;
	int error, firstlen, hlen, ip_len, ip_off, len, nfrags, off;

	m0 = *m_frag;
	M_ASSERTPKTHDR(m0);
	KASSERT((m0->m_pkthdr.csum_flags & CSUM_SND_TAG) == 0,
	    ("csum_snd_tag: %s: tag on a packet before fragmentation",
	    __func__));
	KASSERT(m0->m_nextpkt == NULL,
	    ("mbuf: %s: packet already has fragments", __func__));
	hlen = ip->ip_hl << 2;
	ip_len = ip->ip_len;
	if (ip->ip_off & IP_DF)
		return (EMSGSIZE);
	if (hlen < (int)sizeof(struct ip) || ip_len <= hlen ||
	    ip_len > m0->m_pkthdr.len || m0->m_len < hlen)
		return (EINVAL);
	len = (mtu - hlen) & ~7;
	if (len < 8)
		return (EMSGSIZE);
	firstlen = len;
	/* Re-fragmenting a fragment keeps its offset and MF. */
	ip_off = ip->ip_off & (IP_OFFMASK | IP_MF);

	error = 0;
	nfrags = 0;
	mfirst = NULL;
	mnext = &mfirst;
	for (off = hlen + len; off < ip_len; off += len) {
		m = m_gethdr(M_NOWAIT, MT_DATA);
		if (m == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		*mnext = m;
		mnext = &m->m_nextpkt;
		/*
		 * Copy the whole packet header (rcvif of a forwarded packet,
		 * flowid, hash): there is no tag yet, so this takes none.
		 */
		if (m_dup_pkthdr(m, m0, M_NOWAIT) == 0) {
			error = ENOBUFS;
			goto fail;
		}
		m->m_data += MAX_LINKHDR;
		mhip = mtod(m, struct ip *);
		*mhip = *ip;
		m->m_len = hlen;
		mhip->ip_off = (uint16_t)(((off - hlen) >> 3) + ip_off);
		if (off + len >= ip_len)
			len = ip_len - off;
		else
			mhip->ip_off |= IP_MF;
		mhip->ip_len = (uint16_t)(hlen + len);
		m->m_next = m_copym(m0, off, len, M_NOWAIT);
		if (m->m_next == NULL) {
			error = ENOBUFS;
			goto fail;
		}
		m->m_pkthdr.len = hlen + len;
		m->m_pkthdr.csum_flags &= ~CSUM_TSO;
		nfrags++;
	}

	/* The original, trimmed, is the first fragment. */
	m_adj(m0, hlen + firstlen - m0->m_pkthdr.len);
	ip->ip_len = (uint16_t)(hlen + firstlen);
	ip->ip_off = (uint16_t)(ip_off | IP_MF);
	m0->m_pkthdr.csum_flags &= ~CSUM_TSO;
	m0->m_nextpkt = mfirst;
	IPSTAT_ADD(ips_ofragments, nfrags + 1);
	(void)if_hwassist_flags;
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
ip_output(struct mbuf *m, struct mbuf *opt, struct route *ro, int flags,
    void *imo, struct inpcb *inp)
{
	struct epoch_tracker et;
	struct sockaddr_in dst;
	struct ifnet *ifp;
	struct mbuf *m0;
	struct ip *ip;
	int error, hlen, ip_len, mtu;

	M_ASSERTPKTHDR(m);
	KASSERT(opt == NULL, ("ip_output: options are not modelled"));
	if (inp != NULL)
		INP_LOCK_ASSERT(inp);

	hlen = sizeof(struct ip);
	if (m->m_len < hlen && (m = m_pullup(m, hlen)) == NULL) {
		IPSTAT_INC(ips_odropped);
		return (ENOBUFS);
	}
	ip = mtod(m, struct ip *);
	if ((flags & IP_FORWARDING) == 0) {
		if (m->m_pkthdr.len > IP_MAXPACKET) {
			m_freem(m);
			IPSTAT_INC(ips_odropped);
			return (EMSGSIZE);
		}
		ip->ip_v = IPVERSION;
		ip->ip_hl = (uint8_t)(hlen >> 2);
		ip->ip_len = (uint16_t)m->m_pkthdr.len;
		ip->ip_id = ip_newid(inp);
		IPSTAT_INC(ips_localout);
	} else
		hlen = ip->ip_hl << 2;
	ip_len = ip->ip_len;

	memset(&dst, 0, sizeof(dst));
	dst.sin_len = sizeof(dst);
	dst.sin_family = AF_INET;
	dst.sin_addr = ip->ip_dst;

	NET_EPOCH_ENTER(et);
	ifp = rt_lookup(AF_INET, &ip->ip_dst);
	if (ifp == NULL) {
		IPSTAT_INC(ips_noroute);
		error = EHOSTUNREACH;
		goto bad;
	}
	mtu = ifp->if_mtu > IP_MAXPACKET ? IP_MAXPACKET : (int)ifp->if_mtu;

	if (ip_len <= mtu ||
	    ((m->m_pkthdr.csum_flags & CSUM_IP_TSO) != 0 &&
	    (if_getcapenable(ifp) & IFCAP_TSO4) != 0)) {
		IP_PROBE(send, m, inp, ip, ifp, ip, NULL);
		error = ip_output_send(inp, ifp, m, &dst, ro);
		goto done;
	}

	if (ip->ip_off & IP_DF) {
		error = EMSGSIZE;
		goto bad;
	}
	error = ip_fragment(ip, &m, mtu, 0);
	if (error != 0)
		goto bad;
	IPSTAT_INC(ips_fragmented);
	for (; m != NULL; m = m0) {
		m0 = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if (error == 0) {
			IP_PROBE(send, m, inp, mtod(m, struct ip *), ifp,
			    mtod(m, struct ip *), NULL);
			error = ip_output_send(inp, ifp, m, &dst, ro);
		}
		else {
			IPSTAT_INC(ips_odropped);
			m_freem(m);
		}
	}
done:
	NET_EPOCH_EXIT(et);
	return (error);
bad:
	IPSTAT_INC(ips_odropped);
	m_freem(m);
	goto done;
}
