/*
 * Model of the send-tag side of sys/netinet/tcp_ratelimit.c.
 *
 * rt_find_real_interface allocates a throw-away tag on the route's ifnet
 * and follows next_snd_tag through the wrappers (vlan, lagg) to the tag
 * of the hardware that really sends, then releases it.  Setting a rate
 * attaches the inp's tag (in_pcbattach_txrtlmt); on an ifnet-TLS
 * connection the session's TLS + rate limit tag carries the rate instead
 * (ktls_modify_txrtlmt), as FreeBSD does.  Changing modifies, and on
 * failure lets the tag go; releasing detaches it.  A dropped connection
 * gets no new tag (in_pcbattach_txrtlmt refuses it), but changes and
 * releases still reach its tag, as a RACK or BBR timer firing during a
 * drop would.
 */
#include "netinet/tcp_ratelimit.h"
#include "net/route.h"
#include "sys/ktls.h"
#include "shim/epoch.h"

struct ifnet *
rt_find_real_interface(struct ifnet *ifp, struct inpcb *inp, int *error)
{
	union if_snd_tag_alloc_params params;
	struct m_snd_tag *tag, *next;
	struct ifnet *tifp;
	int err;

	memset(&params, 0, sizeof(params));
	params.hdr.type = IF_SND_TAG_TYPE_UNLIMITED;
	params.hdr.flowid = inp->inp_flowid;
	params.hdr.flowtype = inp->inp_flowtype;
	params.unlimited.max_rate = -1U;
	params.unlimited.flags = M_NOWAIT;
	err = m_snd_tag_alloc(ifp, &params, &tag);
	if (err != 0) {
		*error = err;
		return (NULL);
	}
	/* Down through the wrappers to the hardware tag. */
	tifp = tag->ifp;
	for (next = tag; next->sw->next_snd_tag != NULL; ) {
		next = next->sw->next_snd_tag(next);
		tifp = next->ifp;
	}
	if_ref(tifp);
	m_snd_tag_rele(tag);
	*error = 0;
	return (tifp);
}

static struct ktls_session *
tcp_rl_tls(struct inpcb *inp)
{
	struct ktls_session *tls;

	if (inp->inp_socket == NULL)
		return (NULL);
	tls = inp->inp_socket->so_snd_tls;
	return (tls != NULL && tls->mode == TCP_TLS_MODE_IFNET ? tls : NULL);
}

int
tcp_set_pacing_rate(struct inpcb *inp, uint64_t bytes_per_sec)
{
	struct ktls_session *tls;
	struct ifnet *ifp, *rifp;
	int error;

	INP_WLOCK_ASSERT(inp);
	if (bytes_per_sec == 0 || bytes_per_sec >= -1U)
		return (EINVAL);
	ifp = in_pcbroute_ifp(inp);
	if (ifp == NULL)
		return (ENETUNREACH);

	tls = tcp_rl_tls(inp);
	if (tls != NULL &&
	    (if_getcapenable(ifp) & IFCAP_TXTLS_RTLMT) == 0) {
		error = EINVAL;
		goto out;
	}
	/* The rate table belongs to the hardware under the wrappers. */
	rifp = rt_find_real_interface(ifp, inp, &error);
	if (rifp == NULL)
		goto out;
	if_rele(rifp);
	if (tls != NULL)
		error = ktls_modify_txrtlmt(tls, bytes_per_sec);
	else if (inp->inp_snd_tag != NULL)
		error = in_pcbmodify_txrtlmt(inp, (uint32_t)bytes_per_sec);
	else
		error = in_pcbattach_txrtlmt(inp, ifp, inp->inp_flowtype,
		    inp->inp_flowid, (uint32_t)bytes_per_sec,
		    &inp->inp_snd_tag);
out:
	if_rele(ifp);
	return (error);
}

int
tcp_chg_pacing_rate(struct inpcb *inp, uint64_t bytes_per_sec)
{
	struct ktls_session *tls;
	int error;

	INP_WLOCK_ASSERT(inp);
	tls = tcp_rl_tls(inp);
	if (tls != NULL) {
		/* No TLS + rate limit tag: the NIC cannot pace TLS. */
		if (tls->snd_tag != NULL && tls->snd_tag->sw->type !=
		    IF_SND_TAG_TYPE_TLS_RATE_LIMIT)
			return (EOPNOTSUPP);
		return (ktls_modify_txrtlmt(tls, bytes_per_sec));
	}
	if (inp->inp_snd_tag == NULL)
		return (EINVAL);		/* wrong interface */
	error = in_pcbmodify_txrtlmt(inp, (uint32_t)bytes_per_sec);
	if (error != 0)
		in_pcbdetach_txrtlmt(inp);
	return (error);
}

int
tcp_query_pacing_rate(struct inpcb *inp, uint64_t *rate, uint32_t *level)
{
	struct ktls_session *tls;
	uint32_t r;
	int error;

	INP_WLOCK_ASSERT(inp);
	tls = tcp_rl_tls(inp);
	if (tls != NULL)
		return (ktls_query_txrtlmt(tls, rate, level));
	error = in_pcbquery_txrtlmt(inp, &r);
	if (error == 0) {
		*rate = r;
		error = in_pcbquerylevel_txrtlmt(inp, level);
	}
	return (error);
}

void
tcp_rel_pacing_rate(struct inpcb *inp)
{
	INP_WLOCK_ASSERT(inp);
	if (inp->inp_snd_tag != NULL)
		in_pcbdetach_txrtlmt(inp);
}

int
tcp_rl_pacing_user(struct socket *so, int action, uint64_t rate)
{
	struct inpcb *inp;
	uint64_t r;
	uint32_t level;
	int error;

	error = sopcbref(so, &inp);
	if (error != 0)
		return (error);
	INP_WLOCK(inp);
	if (inp->inp_proto != IPPROTO_TCP)
		error = EINVAL;
	else {
		switch (action) {
		case TCP_RL_SET:
			error = tcp_set_pacing_rate(inp, rate);
			break;
		case TCP_RL_CHG:
			error = tcp_chg_pacing_rate(inp, rate);
			break;
		case TCP_RL_QUERY:
			error = tcp_query_pacing_rate(inp, &r, &level);
			break;
		default:
			tcp_rel_pacing_rate(inp);
			break;
		}
	}
	if (!in_pcbrele_wlocked(inp))
		INP_WUNLOCK(inp);
	return (error);
}
