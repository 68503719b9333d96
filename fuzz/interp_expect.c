/*
 * Behavioural expectations: functional oracles after every sequential op
 * (interp_expect.h; docs/INVARIANTS.md, "Behaviour").
 *
 * Each expectation is FreeBSD's documented behaviour, stated from the
 * scenario's view and checked against the model's own accounting:
 *
 * pacing liveness  (in_pcb.c in_pcboutput_txrtlmt, ip_output.c
 *	ip_output_send, if_vlan.c/if_lagg.c EAGAIN): a connection with a
 *	pacing rate that is owed a tag (it holds one, or asked for a rate,
 *	or lost its tag to a mismatch) and sends on a route that has been
 *	stable for one send, to an ifnet with IFCAP_TXRTLMT enabled, sends
 *	no untagged packet, and never loses two sends in a row to a
 *	mismatch: the first EAGAIN detaches the tag and sets CHANGED, so
 *	the next packet allocates on the new ifnet.  A counted allocation
 *	failure (ENOMEM, EOPNOTSUPP of a round-robin lagg, no RSS hash)
 *	releases the stack from the promise: FreeBSD then sends untagged.
 * rate change  (in_pcboutput_txrtlmt -> in_pcbmodify_txrtlmt, or a new
 *	tag): when a send that went through ip_output_send completes and
 *	the connection holds a rate-limit tag, the driver's tag (through
 *	every wrapper) has been given the connection's current rate,
 *	unless the modify failed (counted) or the scenario itself set the
 *	tag's rate (TagModify) since the last SO_MAX_PACING_RATE.
 * queue selection  (mlx5_en_tx.c mlx5e_xmit, mlx5e_select_queue): a packet
 *	on an mlx5 rate-limit channel's queue carries that channel's tag;
 *	an untagged packet or another flow's tag is never there.  On a
 *	normal queue a shared (unlimited) tag is that channel's own; a
 *	rate-limit tag may be there (its queue was not running yet: the
 *	driver falls back to normal selection).  cxgbe (t4_main.c
 *	cxgbe_transmit, t4_sge.c ethofld_transmit): a tagged packet waits
 *	on its own tag's pending_tx, and the work requests go out on the
 *	etid that maps back to that tag; an untagged packet goes on the
 *	plain tx ring, a tagged one never does.  And placement
 *	(mlx5e_rl_snd_tag_alloc, mlx5e_ul_snd_tag_alloc, and
 *	mlx5e_tls_snd_tag_alloc, which hands the flow's header to its
 *	nested tag): a tag allocated for a flow sits where the flow's hash
 *	puts it, a rate-limit channel of worker flowid % workers or the
 *	shared tag of channel flowid % channels.
 * delivery  (ip_input.c, ip6_input.c, if_loop.c, if_epair.c): a received
 *	packet, each packet epair delivers and each packet loopback
 *	accepts ends delivered, forwarded or counted as a drop (ipstat,
 *	ip6stat, the ifnets' error counters): never lost silently.
 * capability  (SIOCSIFCAP in the drivers, in_pcb.c in_pcboutput_txrtlmt,
 *	ip_output.c ip_output_send): turning IFCAP_TXRTLMT off only flips
 *	if_capenable, so a connection keeps the tag it holds; but no new
 *	tag is allocated for a connection on an ifnet with the capability
 *	off, and a send that re-evaluates the tag (CHANGED set, or the tag
 *	is another ifnet's) on a route whose ifnet has it off detaches it:
 *	the connection holds no tag after that send and sent nothing
 *	tagged.  See expect_cap_begin.
 */
#include <stdlib.h>
#include <string.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"
#include "fuzz/interp_expect.h"
#include "fuzz/interp_expect_int.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "net/route.h"
#include "sys/ktls.h"
#include "sys/socketvar.h"
#include "shim/epoch.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "dev/cxgbe/offload.h"

/* Weak: the checker links against cores without these drivers' tags. */
extern const struct if_snd_tag_sw mlx5e_rl_snd_tag_sw
    __attribute__((weak));
extern const struct if_snd_tag_sw cxgbe_rate_tag_sw
    __attribute__((weak));
extern const struct if_snd_tag_sw mlx5e_ul_snd_tag_sw
    __attribute__((weak));

bool expect_enabled = true;
void (*expect_test_sabotage)(const struct expect_view *v);
void (*expect_test_sabotage_begin)(const struct expect_view *v);

struct expect_sock {
	struct socket	*so;		/* identity: a reused slot starts over */
	bool		 owed;		/* the stack owes it a tag */
	bool		 poked;		/* TagModify since the last set_rate */
	bool		 foreign;	/* a pacing user or TLS session owns the tag */
	bool		 mismatch;	/* the last checked send lost to EAGAIN */
	int		 stable;	/* sends since the last topology change */
	struct inp_txstat before;
};

static struct expect_sock esock[EXPECT_MAX_SOCKS];

static void	expect_cap_begin(const struct expect_view *v);
static void	expect_placement_end(const struct expect_view *v);
static void	expect_cap_end(const struct expect_view *v);
static uint64_t term_before;
static int expect_env = -1;

void
expect_reset(void)
{
	memset(esock, 0, sizeof(esock));
	term_before = 0;
	expect_wire_reset();
}

static bool
expect_on(void)
{
	const char *e;

	if (expect_env < 0) {
		e = getenv("SNDTAG_NO_EXPECT");
		expect_env = e == NULL || strcmp(e, "1") != 0;
	}
	return (expect_enabled && expect_env);
}

/*
 * Where every packet can end: delivered, forwarded, or a counted drop.
 * FreeBSD counts the same fates in ipstat, ip6stat and the ifnets.
 */
static uint64_t
expect_terminal(const struct expect_view *v)
{
	uint64_t t;
	int i;

	t = ipstat.ips_delivered + ipstat.ips_forward +
	    ipstat.ips_cantforward + ipstat.ips_noroute +
	    ipstat.ips_odropped + ipstat.ips_toosmall + ipstat.ips_badvers;
	t += ip6stat.ip6s_delivered + ip6stat.ip6s_forward +
	    ip6stat.ip6s_cantforward + ip6stat.ip6s_noroute +
	    ip6stat.ip6s_odropped + ip6stat.ip6s_toosmall +
	    ip6stat.ip6s_badvers;
	for (i = 0; i < v->nifp; i++) {
		t += counter_u64_fetch(v->ifp[i]->if_ierrors);
		t += counter_u64_fetch(v->ifp[i]->if_oerrors);
	}
	return (t);
}

static void
txstat_read(const struct inpcb *inp, struct inp_txstat *st)
{
	st->its_tagged = __atomic_load_n(&inp->inp_txstat.its_tagged,
	    __ATOMIC_RELAXED);
	st->its_untagged = __atomic_load_n(&inp->inp_txstat.its_untagged,
	    __ATOMIC_RELAXED);
	st->its_drop_mismatch = __atomic_load_n(
	    &inp->inp_txstat.its_drop_mismatch, __ATOMIC_RELAXED);
	st->its_drop_other = __atomic_load_n(
	    &inp->inp_txstat.its_drop_other, __ATOMIC_RELAXED);
	st->its_rl_fail = __atomic_load_n(&inp->inp_txstat.its_rl_fail,
	    __ATOMIC_RELAXED);
	st->its_rl_rate = __atomic_load_n(&inp->inp_txstat.its_rl_rate,
	    __ATOMIC_RELAXED);
}

static bool
is_change_op(int op_case)
{
	switch (op_case) {
	case OP__OP_ROUTE_ADD:
	case OP__OP_ROUTE_CHANGE:
	case OP__OP_ROUTE_DELETE:
	case OP__OP_VLAN_REPARENT:
	case OP__OP_LAGG_PORT_ADD:
	case OP__OP_LAGG_PORT_REMOVE:
	case OP__OP_LINK:
	case OP__OP_LAGG_PROTO:
	case OP__OP_LAGG_OPTS:
	case OP__OP_DETACH:
	case OP__OP_FAIL_ALLOC:
	case OP__OP_IFCAP:
		return (true);
	default:
		return (false);
	}
}

/* The rate the driver's tag was last given (the innermost tag). */
static bool
driver_rate(struct m_snd_tag *mst, uint64_t *rate)
{
	union if_snd_tag_query_params qp;

	while (mst->sw != NULL && mst->sw->next_snd_tag != NULL)
		mst = mst->sw->next_snd_tag(mst);
	if (mst->sw == NULL || mst->sw->type != IF_SND_TAG_TYPE_RATE_LIMIT)
		return (false);
	if (&mlx5e_rl_snd_tag_sw != NULL && mst->sw == &mlx5e_rl_snd_tag_sw) {
		/*
		 * mlx5 applies a rate in its worker (query reports the rate
		 * the queue runs at); what the driver was given is new_rate.
		 */
		*rate = __atomic_load_n(
		    &((struct mlx5e_rl_channel *)mst)->new_rate,
		    __ATOMIC_RELAXED);
		return (true);
	}
	if (mst->sw->snd_tag_query == NULL)
		return (false);
	memset(&qp, 0, sizeof(qp));
	if (mst->sw->snd_tag_query(mst, &qp) != 0)
		return (false);
	*rate = qp.rate_limit.max_rate;
	return (true);
}

int
expect_ifp_kind(const struct expect_view *v, const struct ifnet *ifp)
{
	int i;

	for (i = 0; i < v->nifp; i++)
		if (v->ifp[i] == ifp)
			return (v->kind[i]);
	return (IK_N);
}

void
expect_op_begin(const struct expect_view *v)
{
	struct expect_sock *es;
	struct inpcb *inp;
	int s;

	if (!expect_on())
		return;
	term_before = expect_terminal(v);
	/* The op's socket is resolved later: snapshot every open one. */
	for (s = 0; s < v->nso && s < EXPECT_MAX_SOCKS; s++) {
		if (v->so[s] == NULL)
			continue;
		es = &esock[s];
		if (es->so != v->so[s]) {
			memset(es, 0, sizeof(*es));
			es->so = v->so[s];
		}
		inp = es->so->so_pcb;
		if (inp != NULL)
			txstat_read(inp, &es->before);
	}
	expect_cap_begin(v);
	expect_sock_begin(v);
	expect_wire_begin(v);
	if (expect_test_sabotage_begin != NULL)
		expect_test_sabotage_begin(v);
}

static void
expect_send(const struct expect_view *v, struct expect_sock *es)
{
	struct inp_txstat now, d;
	struct m_snd_tag *mst;
	struct ifnet *ifp;
	struct inpcb *inp;
	struct socket *so = es->so;
	uint64_t attempts, drate;
	uint32_t rate;
	const char *xname;
	bool paces, loop;

	inp = so->so_pcb;
	if (inp == NULL)
		return;
	txstat_read(inp, &now);
	d.its_tagged = now.its_tagged - es->before.its_tagged;
	d.its_untagged = now.its_untagged - es->before.its_untagged;
	d.its_drop_mismatch = now.its_drop_mismatch -
	    es->before.its_drop_mismatch;
	d.its_drop_other = now.its_drop_other - es->before.its_drop_other;
	d.its_rl_fail = now.its_rl_fail - es->before.its_rl_fail;
	attempts = d.its_tagged + d.its_untagged + d.its_drop_mismatch +
	    d.its_drop_other;
	if (attempts == 0)
		return;		/* nothing reached ip_output_send */
	rate = __atomic_load_n(&so->so_max_pacing_rate, __ATOMIC_RELAXED);

	/* The route the packets took, now: the op changed no route. */
	ifp = in_pcbroute_ifp(inp);
	paces = ifp != NULL && (if_getcapenable(ifp) & IFCAP_TXRTLMT) != 0;
	loop = ifp != NULL && expect_ifp_kind(v, ifp) == IK_LOOP;
	xname = ifp != NULL ? ifp->if_xname : "(none)";
	if (ifp != NULL)
		if_rele(ifp);
	mst = inp->inp_snd_tag;

	/* delivery: what loopback accepted is delivered or counted. */
	if (loop && expect_terminal(v) - term_before <
	    d.its_tagged + d.its_untagged)
		panic("delivery: loopback: %ju packets accepted by lo, "
		    "%ju delivered or counted", (uintmax_t)(d.its_tagged +
		    d.its_untagged), (uintmax_t)(expect_terminal(v) -
		    term_before));

	if (es->foreign)
		return;

	/* pacing liveness */
	if (rate != 0 && paces && es->owed && es->stable >= 1 &&
	    d.its_rl_fail == 0 && d.its_drop_other == 0) {
		if (d.its_untagged != 0)
			panic("pacing liveness: untagged: sock %d rate %u sent "
			    "%ju untagged packets on %s (stable for %d sends)",
			    v->sock, rate, (uintmax_t)d.its_untagged,
			    xname, es->stable);
		if (d.its_drop_mismatch != 0 && es->mismatch)
			panic("pacing liveness: never re-allocated: sock %d "
			    "lost two sends in a row to a tag mismatch on %s",
			    v->sock, xname);
	}
	es->mismatch = d.its_drop_mismatch != 0;

	/* rate change: the driver's tag carries the current rate. */
	if (mst != NULL && d.its_rl_fail == 0 && !es->poked && rate != -1U &&
	    driver_rate(mst, &drate) && drate != rate)
		panic("rate change: not at the driver: sock %d asks %u, the "
		    "tag on %s was given %ju", v->sock, rate,
		    mst->ifp->if_xname, (uintmax_t)drate);

	/* What the stack owes it from now on (see the header comment). */
	if (mst != NULL)
		es->owed = true;
	else if (!paces || d.its_rl_fail != 0 || rate == 0)
		es->owed = false;
	es->stable++;
}

/* Every mlx5 queue holds only packets that belong there. */
static void
expect_queues(const struct expect_view *v)
{
	struct mlx5e_rl_channel *ch;
	struct mlx5e_priv *priv;
	struct mlx5e_sq *sq;
	struct m_snd_tag *mst;
	struct mbuf *m;
	int i, j, k;

	for (i = 0; i < v->nifp; i++) {
		if (v->kind[i] != IK_MLX5 ||
		    (priv = v->ifp[i]->if_softc) == NULL)
			continue;
		for (j = 0; priv->rl_workers != NULL &&
		    j < priv->params.n_workers *
		    priv->params.channels_per_worker; j++) {
			ch = &priv->rl_workers[j /
			    priv->params.channels_per_worker].channels[j %
			    priv->params.channels_per_worker];
			sq = &ch->sq;
			for (k = 0; sq->ring != NULL && k < sq->count; k++) {
				m = sq->ring[(sq->head + k) % sq->size];
				if ((m->m_pkthdr.csum_flags &
				    CSUM_SND_TAG) == 0)
					panic("queue selection: untagged "
					    "packet on a rate-limit queue: %s "
					    "channel %d", priv->ifp->if_xname,
					    j);
				/* A TLS tag's packets go on its nested tag's queue. */
				if (mlx5e_tls_queue_tag(m->m_pkthdr.snd_tag) !=
				    &ch->tag)
					panic("queue selection: another "
					    "flow's packet on a rate-limit "
					    "queue: %s channel %d",
					    priv->ifp->if_xname, j);
			}
		}
		for (j = 0; priv->channels != NULL &&
		    j < priv->params.n_channels; j++) {
			sq = &priv->channels[j].sq;
			for (k = 0; sq->ring != NULL && k < sq->count; k++) {
				m = sq->ring[(sq->head + k) % sq->size];
				if ((m->m_pkthdr.csum_flags &
				    CSUM_SND_TAG) == 0)
					continue;
				mst = mlx5e_tls_queue_tag(m->m_pkthdr.snd_tag);
				if (mst->sw != &mlx5e_rl_snd_tag_sw &&
				    mst != &priv->channels[j].tag)
					panic("queue selection: another "
					    "channel's shared tag on a normal "
					    "queue: %s channel %d",
					    priv->ifp->if_xname, j);
			}
		}
	}
}

/*
 * cxgbe: the etid table and the per-tag queues agree.  A committed
 * packet (pending_fwack) has handed its reference back in the correct
 * driver; if it still carries a tag, that tag is its flow's too.
 */
static void
expect_queues_cxgbe(const struct expect_view *v)
{
	struct cxgbe_rate_tag *cst;
	struct adapter *sc;
	struct mbuf *m;
	int i, e, k;

	for (i = 0; i < v->nifp; i++) {
		if (v->kind[i] != IK_CXGBE ||
		    (sc = v->ifp[i]->if_softc) == NULL)
			continue;
		for (k = 0; k < sc->txq.count; k++) {
			m = sc->txq.ring[(sc->txq.head + k) % CXGBE_TXQ_SIZE];
			if ((m->m_pkthdr.csum_flags & CSUM_SND_TAG) != 0)
				panic("queue selection: tagged packet on the "
				    "plain tx ring: %s", v->ifp[i]->if_xname);
		}
		for (e = 0; sc->etid_tab != NULL && e < sc->params.n_etids;
		    e++) {
			if ((cst = sc->etid_tab[e]) == NULL)
				continue;
			if (cst->etid != e)
				panic("queue selection: etid %d names the "
				    "flow of etid %d: %s", e, cst->etid,
				    v->ifp[i]->if_xname);
			for (m = mbufq_first(&cst->pending_tx); m != NULL;
			    m = m->m_nextpkt) {
				if ((m->m_pkthdr.csum_flags & CSUM_SND_TAG) ==
				    0)
					panic("queue selection: untagged "
					    "packet on etid %d: %s", e,
					    v->ifp[i]->if_xname);
				if (m->m_pkthdr.snd_tag != &cst->com)
					panic("queue selection: another "
					    "flow's packet on etid %d: %s", e,
					    v->ifp[i]->if_xname);
			}
			for (m = mbufq_first(&cst->pending_fwack); m != NULL;
			    m = m->m_nextpkt)
				if ((m->m_pkthdr.csum_flags & CSUM_SND_TAG) !=
				    0 && m->m_pkthdr.snd_tag != &cst->com)
					panic("queue selection: another "
					    "flow's packet on etid %d: %s", e,
					    v->ifp[i]->if_xname);
		}
	}
}

/* Pacing, rates, queues, capability and delivery after an op. */
static void
expect_tx_end(const struct expect_view *v)
{
	struct expect_sock *es;
	uint64_t t;
	int i;

	if (&mlx5e_rl_snd_tag_sw != NULL)
		expect_queues(v);
	if (&cxgbe_rate_tag_sw != NULL)
		expect_queues_cxgbe(v);
	if (&mlx5e_rl_snd_tag_sw != NULL && &mlx5e_ul_snd_tag_sw != NULL)
		expect_placement_end(v);
	expect_cap_end(v);
	if (is_change_op(v->op_case)) {
		for (i = 0; i < EXPECT_MAX_SOCKS; i++)
			esock[i].stable = 0;
		return;
	}
	switch (v->op_case) {
	case OP__OP_RECEIVE:
		if (v->error != 0)
			break;	/* skip, or no mbuf: nothing injected */
		t = expect_terminal(v);
		if (t == term_before)
			panic("delivery: received packet lost: neither "
			    "delivered, forwarded nor counted as a drop");
		break;
	case OP__OP_EPAIR_DELIVER:
		/*
		 * A packet queued to a side detached since is freed by
		 * if_dead's input, uncounted, in FreeBSD too: no promise.
		 */
		if (v->ndead != 0)
			break;
		t = expect_terminal(v);
		if (t - term_before < (uint64_t)v->delivered)
			panic("delivery: epair: %d packets delivered, %ju "
			    "delivered, forwarded or counted", v->delivered,
			    (uintmax_t)(t - term_before));
		break;
	default:
		break;
	}
	if (v->sock < 0 || v->sock >= v->nso || v->so[v->sock] == NULL ||
	    esock[v->sock].so != v->so[v->sock])
		return;
	es = &esock[v->sock];
	switch (v->op_case) {
	case OP__OP_CONNECT:
		es->stable = 0;
		break;
	case OP__OP_SET_RATE:
		if (v->error != 0)
			break;
		/* SO_MAX_PACING_RATE sets INP_RATE_LIMIT_CHANGED. */
		es->owed = es->so->so_max_pacing_rate != 0;
		es->poked = false;
		break;
	case OP__OP_TAG_MODIFY:
		es->poked = true;
		break;
	case OP__OP_PACING:
	case OP__OP_TLS_ENABLE:
		/*
		 * A pacing user (tcp_ratelimit) or a TLS session sets the
		 * inp's tag and its rate from its own paths, not from
		 * SO_MAX_PACING_RATE: the socket option's expectations say
		 * nothing more about this socket.
		 */
		es->foreign = true;
		break;
	case OP__OP_FLOWTYPE_NONE:
	case OP__OP_TCPDROP:
	case OP__OP_CLOSE:
		es->owed = false;
		break;
	case OP__OP_SEND:
	case OP__OP_TLS_SEND:
		/*
		 * Both go through ip_output_send; a TLS record send without
		 * a session is an ordinary send, and its failed
		 * re-allocation releases the promise like any other.
		 */
		expect_send(v, es);
		break;
	default:
		break;
	}
}

void
expect_op_end(const struct expect_view *v)
{
	if (!expect_on())
		return;
	if (expect_test_sabotage != NULL)
		expect_test_sabotage(v);
	expect_tx_end(v);
	/* The wire and the socket results: interp_expect_{wire,sock}.c */
	expect_wire_end(v);
	expect_sock_end(v);
}

/*
 * ---- capability changes (issue 15) ---------------------------------
 *
 * FreeBSD's drivers (mlx5e_ioctl, cxgbe_ioctl) answer SIOCSIFCAP by
 * flipping if_capenable only: tags already allocated keep working, and
 * ip_output_send looks at the capability only when it re-evaluates the
 * tag (INP_RATE_LIMIT_CHANGED, or the tag belongs to another ifnet);
 * in_pcboutput_txrtlmt then detaches it and allocates nothing on an
 * ifnet without IFCAP_TXRTLMT enabled.  So "no tagged packet after the
 * capability went off" is not the promise; these two are:
 *
 * (a) a tag the connection did not hold before the op was allocated on
 *     an ifnet (the route's: vlan and lagg included) with the
 *     capability enabled;
 * (b) a send that re-evaluated, on a route whose ifnet has the
 *     capability off, leaves the connection with no tag and sent
 *     nothing tagged.
 *
 * A pacing user (tcp_ratelimit) or a TLS session owns its tags through
 * its own paths (tcp_set_pacing_rate does not test IFCAP_TXRTLMT, a TLS
 * record goes with its session's tag): such sockets are exempt, as from
 * the other expectations.
 */
struct expect_cap {
	struct socket	*so;
	struct m_snd_tag *tag;		/* the inp's tag before the op */
	struct m_snd_tag *tls_tag;	/* its TLS session's, before the op */
	struct ifnet	*ifp;		/* the route's ifnet before the op */
	bool		 reeval;	/* the next send re-evaluates the tag */
	bool		 off;		/* ifp has IFCAP_TXRTLMT off */
};

static struct expect_cap ecap[EXPECT_MAX_SOCKS];

static void
expect_cap_begin(const struct expect_view *v)
{
	struct epoch_tracker et;
	struct expect_cap *ec;
	struct m_snd_tag *mst;
	struct inpcb *inp;
	bool sends;
	int n, s;

	/*
	 * expect_cap_end reads the end view's slots: these, and the one an
	 * open may add (the view stops at the slots used so far).
	 */
	n = v->nso + 1 < EXPECT_MAX_SOCKS ? v->nso + 1 : EXPECT_MAX_SOCKS;
	memset(ecap, 0, sizeof(ecap[0]) * (size_t)n);
	/*
	 * The route is (b)'s, and (b) looks only at a send op's own socket:
	 * other ops skip the lookup (it was a fifth of an execution).
	 */
	sends = v->op_case == OP__OP_SEND || v->op_case == OP__OP_TLS_SEND;
	NET_EPOCH_ENTER(et);
	for (s = 0; s < v->nso && s < EXPECT_MAX_SOCKS; s++) {
		if (v->so[s] == NULL || (inp = v->so[s]->so_pcb) == NULL)
			continue;
		ec = &ecap[s];
		ec->so = v->so[s];
		mst = inp->inp_snd_tag;
		ec->tag = mst;
		ec->tls_tag = v->so[s]->so_snd_tls != NULL ?
		    v->so[s]->so_snd_tls->snd_tag : NULL;
		if (!sends)
			continue;
		ec->ifp = in_pcbroute_lookup(inp);
		ec->off = ec->ifp != NULL &&
		    (if_getcapenable(ec->ifp) & IFCAP_TXRTLMT) == 0;
		ec->reeval = (inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) != 0 ||
		    (mst != NULL && mst->ifp != ec->ifp);
	}
	NET_EPOCH_EXIT(et);
}

/* (b): the op's own send, if it reached ip_output_send. */
static void
expect_cap_send(const struct expect_view *v, struct expect_cap *ec,
    struct inpcb *inp)
{
	struct epoch_tracker et;
	struct inp_txstat now, *b = &esock[v->sock].before;
	struct ifnet *ifp;

	if (!ec->reeval || !ec->off || esock[v->sock].so != ec->so)
		return;
	txstat_read(inp, &now);
	if (now.its_tagged + now.its_untagged + now.its_drop_mismatch +
	    now.its_drop_other == b->its_tagged + b->its_untagged +
	    b->its_drop_mismatch + b->its_drop_other)
		return;		/* nothing reached ip_output_send */
	NET_EPOCH_ENTER(et);
	ifp = in_pcbroute_lookup(inp);
	NET_EPOCH_EXIT(et);
	if (ifp != ec->ifp)
		return;
	if (inp->inp_snd_tag != NULL)
		panic("capability: tag kept after re-evaluation: sock %d "
		    "still holds a tag of %s after a send that re-evaluated "
		    "it on %s (IFCAP_TXRTLMT off)", v->sock,
		    inp->inp_snd_tag->ifp->if_xname, ifp->if_xname);
	if (now.its_tagged != b->its_tagged)
		panic("capability: tagged after re-evaluation: sock %d sent "
		    "%ju tagged packets on %s (IFCAP_TXRTLMT off) in a send "
		    "that re-evaluated its tag", v->sock,
		    (uintmax_t)(now.its_tagged - b->its_tagged),
		    ifp->if_xname);
}

static void
expect_cap_end(const struct expect_view *v)
{
	struct expect_cap *ec;
	struct m_snd_tag *mst;
	struct inpcb *inp;
	bool own;
	int s;

	for (s = 0; s < v->nso && s < EXPECT_MAX_SOCKS; s++) {
		ec = &ecap[s];
		if (ec->so == NULL || v->so[s] != ec->so ||
		    (inp = ec->so->so_pcb) == NULL)
			continue;
		own = s == v->sock;
		/* Exempt: see above (foreign is set after this op's end). */
		if ((esock[s].so == ec->so && esock[s].foreign) ||
		    (own && (v->op_case == OP__OP_PACING ||
		    v->op_case == OP__OP_TLS_ENABLE)))
			continue;
		/* (b) first: the more precise report for the op's send. */
		if (own && (v->op_case == OP__OP_SEND ||
		    v->op_case == OP__OP_TLS_SEND))
			expect_cap_send(v, ec, inp);
		/* (a) */
		mst = inp->inp_snd_tag;
		if (mst != NULL && mst != ec->tag &&
		    (if_getcapenable(mst->ifp) & IFCAP_TXRTLMT) == 0)
			panic("capability: tag allocated with IFCAP_TXRTLMT "
			    "off: sock %d got a new tag on %s", s,
			    mst->ifp->if_xname);
	}
}

/*
 * ---- placement (queue selection) ------------------------------------
 *
 * Checked only for a tag that is new in this op: a flow's hash may change
 * later (a reconnect) without moving a tag it already holds, in FreeBSD
 * too.
 */
static void
expect_placement(int s, struct inpcb *inp, struct m_snd_tag *mst)
{
	struct mlx5e_rl_channel *ch;
	struct mlx5e_priv *priv;
	uint32_t flowid = inp->inp_flowid, want;

	while (mst->sw != NULL && mst->sw->next_snd_tag != NULL)
		mst = mst->sw->next_snd_tag(mst);
	mst = mlx5e_tls_queue_tag(mst);
	if (mst->sw == &mlx5e_rl_snd_tag_sw) {
		ch = (struct mlx5e_rl_channel *)mst;
		priv = ch->worker->priv;
		want = flowid % (uint32_t)priv->params.n_workers;
		if ((uint32_t)ch->worker->ix != want)
			panic("queue selection: placement: sock %d (flowid "
			    "%u) got a rate-limit channel of worker %d on %s, "
			    "not of worker %u", s, flowid, ch->worker->ix,
			    priv->ifp->if_xname, want);
	} else if (mst->sw == &mlx5e_ul_snd_tag_sw) {
		priv = mst->ifp->if_softc;
		want = flowid % (uint32_t)priv->params.n_channels;
		if (mst != &priv->channels[want].tag)
			panic("queue selection: placement: sock %d (flowid "
			    "%u) got a shared tag on %s that is not channel "
			    "%u's", s, flowid, priv->ifp->if_xname, want);
	}
}

static void
expect_placement_end(const struct expect_view *v)
{
	struct expect_cap *ec;
	struct m_snd_tag *mst;
	struct socket *so;
	struct inpcb *inp;
	int s;

	for (s = 0; s < v->nso && s < EXPECT_MAX_SOCKS; s++) {
		ec = &ecap[s];
		if ((so = ec->so) == NULL || v->so[s] != so ||
		    (inp = so->so_pcb) == NULL)
			continue;
		if ((mst = inp->inp_snd_tag) != NULL && mst != ec->tag)
			expect_placement(s, inp, mst);
		if (so->so_snd_tls != NULL &&
		    (mst = so->so_snd_tls->snd_tag) != NULL &&
		    mst != ec->tls_tag)
			expect_placement(s, inp, mst);
	}
}
