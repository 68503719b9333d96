/*
 * Spec name audit (sections 2-9 of the send-tag model): every function,
 * flag, field, constant and type the spec names is referenced here, so
 * the build breaks if one disappears or changes shape; names FreeBSD
 * keeps static (and the core too) are found by reading the core's
 * sources.  Then spot checks of every errno rule the spec states.
 * docs/INVARIANTS.md lists the names and where each one lives.
 */
#include <pthread.h>
#include <stddef.h>

#include "tests/testlib.h"
#include "tests/fixtures.h"
#include "harness/packet.h"
#include "harness/world.h"
#include "dev/nic/if_nic.h"
#include "dev/cxgbe/adapter.h"
#include "dev/cxgbe/offload.h"
#include "dev/mlx5/mlx5_en/en.h"
#include "net/if_var.h"
#include "net/if_lagg.h"
#include "net/if_vlan_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/epoch.h"
#include "shim/refcount.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"

/*
 * Constants and flags (§2-§9).
 */
_Static_assert(CSUM_SND_TAG == 0x80000000u, "CSUM_SND_TAG");
_Static_assert(IF_SND_TAG_TYPE_RATE_LIMIT == 0, "IF_SND_TAG_TYPE_RATE_LIMIT");
_Static_assert(IF_SND_TAG_TYPE_UNLIMITED == 1, "IF_SND_TAG_TYPE_UNLIMITED");
_Static_assert(M_HASHTYPE_NONE == 0, "M_HASHTYPE_NONE");
_Static_assert(IFCAP_TXRTLMT != 0 && (IFCAP_TXRTLMT & (IFCAP_TXRTLMT - 1)) == 0,
    "IFCAP_TXRTLMT is one bit");
_Static_assert(IFF_UP != 0 && IFF_DRV_RUNNING != 0, "IFF_UP, IFF_DRV_RUNNING");
_Static_assert(LINK_STATE_UP != LINK_STATE_DOWN, "LINK_STATE_*");
_Static_assert(INP_RATE_LIMIT_CHANGED != 0 && INP_DROPPED != 0,
    "INP_RATE_LIMIT_CHANGED, INP_DROPPED");
_Static_assert(M_PKTHDR != 0 && M_EXT != 0 && MCLBYTES > MLEN, "mbuf flags");
_Static_assert((EO_FLOWC_PENDING | EO_FLOWC_RPL_PENDING | EO_SND_TAG_REF |
    EO_FLUSH_RPL_PENDING) == (EO_FLOWC_PENDING ^ EO_FLOWC_RPL_PENDING ^
    EO_SND_TAG_REF ^ EO_FLUSH_RPL_PENDING), "EO_* flags are distinct bits");
_Static_assert(LAGG_PROTO_NONE != LAGG_PROTO_ROUNDROBIN &&
    LAGG_PROTO_FAILOVER != LAGG_PROTO_LOADBALANCE &&
    LAGG_PROTO_LACP != LAGG_PROTO_BROADCAST, "LAGG_PROTO_*");
_Static_assert(LAGG_OPT_USE_FLOWID != 0, "LAGG_OPT_USE_FLOWID");
_Static_assert(MLX5E_RL_ST_FREE != MLX5E_RL_ST_USED &&
    MLX5E_RL_ST_USED != MLX5E_RL_ST_DESTROY, "MLX5E_RL_ST_*");

/* Macros the spec names. */
#if !defined(M_ASSERT_NO_SND_TAG) || !defined(M_HASHTYPE_GET) || \
    !defined(M_HASHTYPE_SET) || !defined(INP_WLOCK_ASSERT) || \
    !defined(INP_TRY_UPGRADE) || !defined(INP_DOWNGRADE) || \
    !defined(NET_EPOCH_ENTER)
#error "a macro named by the spec is missing"
#endif

/*
 * Fields (§2-§9).  The pkthdr starts with the snd_tag/rcvif union.
 */
#define	FIELD(type, f)							\
	_Static_assert(sizeof(((type *)0)->f) > 0, #type "." #f)

_Static_assert(offsetof(struct pkthdr, snd_tag) == 0 &&
    offsetof(struct pkthdr, rcvif) == 0, "pkthdr union snd_tag/rcvif");
FIELD(struct pkthdr, csum_flags);
FIELD(struct pkthdr, flowid);
FIELD(struct pkthdr, len);
FIELD(struct mbuf, m_pkthdr);
FIELD(struct mbuf, m_next);
FIELD(struct mbuf, m_nextpkt);
FIELD(struct m_snd_tag, ifp);
FIELD(struct m_snd_tag, refcount);
FIELD(struct m_snd_tag, sw);
FIELD(struct if_snd_tag_sw, snd_tag_modify);
FIELD(struct if_snd_tag_sw, snd_tag_query);
FIELD(struct if_snd_tag_sw, snd_tag_free);
FIELD(struct if_snd_tag_sw, next_snd_tag);
FIELD(struct if_snd_tag_sw, type);
FIELD(union if_snd_tag_alloc_params, hdr.type);
FIELD(union if_snd_tag_alloc_params, hdr.flowid);
FIELD(union if_snd_tag_alloc_params, hdr.flowtype);
FIELD(union if_snd_tag_alloc_params, hdr.numa_domain);
FIELD(union if_snd_tag_alloc_params, rate_limit.max_rate);
FIELD(union if_snd_tag_alloc_params, unlimited.max_rate);
FIELD(union if_snd_tag_modify_params, rate_limit.max_rate);
FIELD(union if_snd_tag_query_params, rate_limit.max_rate);
FIELD(union if_snd_tag_query_params, rate_limit.queue_level);
FIELD(struct ifnet, if_output);
FIELD(struct ifnet, if_transmit);
FIELD(struct ifnet, if_snd_tag_alloc);
FIELD(struct ifnet, if_capabilities);
FIELD(struct ifnet, if_capenable);
FIELD(struct ifnet, if_refcount);
FIELD(struct ifnet, if_link_state);
FIELD(struct ifnet, if_snd_tags);	/* per-ifnet tag count */
FIELD(struct inpcb, inp_snd_tag);
FIELD(struct inpcb, inp_flags);
FIELD(struct inpcb, inp_flags2);
FIELD(struct inpcb, inp_socket);
FIELD(struct socket, so_max_pacing_rate);
FIELD(struct vlan_snd_tag, com);
FIELD(struct vlan_snd_tag, tag);
FIELD(struct lagg_snd_tag, com);
FIELD(struct lagg_snd_tag, tag);
FIELD(struct cxgbe_rate_tag, com);
FIELD(struct cxgbe_rate_tag, lock);
FIELD(struct cxgbe_rate_tag, flags);
FIELD(struct cxgbe_rate_tag, etid);
FIELD(struct cxgbe_rate_tag, schedcl);
FIELD(struct cxgbe_rate_tag, tx_credits);
FIELD(struct cxgbe_rate_tag, tx_total);
FIELD(struct cxgbe_rate_tag, tx_nocompl);
FIELD(struct cxgbe_rate_tag, ncompl);
FIELD(struct cxgbe_rate_tag, plen);
FIELD(struct cxgbe_rate_tag, pending_tx);
FIELD(struct cxgbe_rate_tag, pending_fwack);
FIELD(struct tx_sched_class, refcount);
FIELD(struct adapter, etid_tab);
FIELD(struct mlx5e_rl_channel, tag);
FIELD(struct mlx5e_rl_channel, state);
FIELD(struct mlx5e_channel, tag);
FIELD(struct mlx5e_priv, gone);

/* The wrappers' first member is the tag the stack sees. */
_Static_assert(offsetof(struct vlan_snd_tag, com) == 0, "vlan_snd_tag.com");
_Static_assert(offsetof(struct lagg_snd_tag, com) == 0, "lagg_snd_tag.com");
_Static_assert(offsetof(struct cxgbe_rate_tag, com) == 0,
    "cxgbe_rate_tag.com");

/*
 * Exported functions, through pointers of the spec's signatures: a
 * renamed function or a changed signature breaks the build.
 */
static void
test_function_names(void)
{
	/* §2 send tags */
	if_snd_tag_alloc_t *alloc[] = { m_snd_tag_alloc,
	    cxgbe_snd_tag_alloc, mlx5e_rl_snd_tag_alloc,
	    mlx5e_ul_snd_tag_alloc };
	void (*init)(struct m_snd_tag *, struct ifnet *,
	    const struct if_snd_tag_sw *) = m_snd_tag_init;
	struct m_snd_tag *(*ref)(struct m_snd_tag *) = m_snd_tag_ref;
	void (*rele[])(struct m_snd_tag *) = { m_snd_tag_rele,
	    m_snd_tag_destroy };
	uint64_t (*count)(void) = num_snd_tags;
	/* §3 mbufs */
	struct ifnet *(*rcvif)(struct mbuf *) = m_rcvif;
	void (*move)(struct mbuf *, struct mbuf *) = m_move_pkthdr;
	int (*dup)(struct mbuf *, const struct mbuf *, int) = m_dup_pkthdr;
	void (*demote)(struct mbuf *) = m_demote_pkthdr;
	void (*demote2)(struct mbuf *, int, int) = m_demote;
	void (*catpkt)(struct mbuf *, struct mbuf *) = m_catpkt;
	struct mbuf *(*mfree)(struct mbuf *) = m_free;
	void (*freem)(struct mbuf *) = m_freem;
	int (*hdrinit)(struct mbuf *, int) = m_pkthdr_init;
	struct mbuf *(*get[])(int, short) = { m_get, m_gethdr };
	struct mbuf *(*prepend)(struct mbuf *, int, int) = m_prepend;
	struct mbuf *(*pullup)(struct mbuf *, int) = m_pullup;
	struct mbuf *(*copyup)(struct mbuf *, int, int) = m_copyup;
	struct mbuf *(*copym)(struct mbuf *, int, int, int) = m_copym;
	struct mbuf *(*copypacket)(struct mbuf *, int) = m_copypacket;
	struct mbuf *(*mdup)(const struct mbuf *, int) = m_dup;
	u_int (*length)(struct mbuf *, struct mbuf **) = m_length;
	/* §4 ifnet */
	void (*ifref[])(struct ifnet *) = { if_ref, if_rele, if_detach,
	    if_dead };
	void (*linkstate)(struct ifnet *, int) = if_link_state_change;
	if_output_fn_t *output = ether_output;
	if_input_fn_t *input = ether_input;
	/* §5 inpcb */
	int (*attach)(struct inpcb *, struct ifnet *, uint32_t, uint32_t,
	    uint32_t, struct m_snd_tag **) = in_pcbattach_txrtlmt;
	void (*inpv[])(struct inpcb *) = { in_pcbdetach_txrtlmt,
	    in_pcboutput_eagain, in_pcbdetach, in_pcbdrop };
	void (*out)(struct inpcb *, struct ifnet *, struct mbuf *) =
	    in_pcboutput_txrtlmt;
	int (*modify)(struct inpcb *, uint32_t) = in_pcbmodify_txrtlmt;
	int (*query[])(struct inpcb *, uint32_t *) = { in_pcbquery_txrtlmt,
	    in_pcbquerylevel_txrtlmt };
	void (*drop)(struct inpcb *, int) = tcp_drop;
	/* §6 IP output, input, forwarding */
	int (*send4)(struct inpcb *, struct ifnet *, struct mbuf *,
	    const struct sockaddr_in *, struct route *) = ip_output_send;
	int (*send6)(struct inpcb *, struct ifnet *, struct ifnet *,
	    struct mbuf *, const struct sockaddr_in6 *, struct route *) =
	    ip6_output_send;
	int (*frag4)(struct ip *, struct mbuf **, int, u_long) = ip_fragment;
	int (*frag6)(struct ifnet *, struct mbuf *, int, u_char, int,
	    uint32_t) = ip6_fragment;
	void (*in[])(struct mbuf *) = { ip_input, ip6_input };
	void (*fwd[])(struct mbuf *, int) = { ip_forward, ip6_forward };
	/* §7, §8 wrappers (the swap is the model's shared helper) */
	void (*swap)(struct mbuf *, struct m_snd_tag *) = wrapper_snd_tag_swap;
	/* §9.1 cxgbe */
	int (*eotx)(struct ifnet *, struct mbuf *) = ethofld_transmit;
	int (*ack)(struct adapter *, int, int) = ethofld_fw4_ack;
	if_snd_tag_free_t *cxfree = cxgbe_snd_tag_free;
	if_snd_tag_modify_t *cxmodify = cxgbe_snd_tag_modify;
	if_snd_tag_query_t *cxquery = cxgbe_snd_tag_query;
	void (*flush)(struct cxgbe_rate_tag *) = send_etid_flush_wr;
	int (*reserve)(struct adapter *, uint64_t, int *) =
	    t4_reserve_cl_rl_kbps;
	void (*release)(struct adapter *, int) = t4_release_cl_rl;
	/* §9.2 mlx5 */
	if_transmit_fn_t *xmit = mlx5e_xmit;
	const struct if_snd_tag_sw *sws[] = { &cxgbe_rate_tag_sw,
	    &mlx5e_rl_snd_tag_sw, &mlx5e_ul_snd_tag_sw };
	size_t i;

	for (i = 0; i < nitems(alloc); i++)
		CHECK(alloc[i] != NULL);
	for (i = 0; i < nitems(rele); i++)
		CHECK(rele[i] != NULL);
	for (i = 0; i < nitems(get); i++)
		CHECK(get[i] != NULL);
	for (i = 0; i < nitems(ifref); i++)
		CHECK(ifref[i] != NULL);
	for (i = 0; i < nitems(inpv); i++)
		CHECK(inpv[i] != NULL);
	for (i = 0; i < nitems(query); i++)
		CHECK(query[i] != NULL);
	CHECK(in[0] != NULL && in[1] != NULL && fwd[0] != NULL &&
	    fwd[1] != NULL);
	CHECK(init != NULL && ref != NULL && count != NULL && rcvif != NULL &&
	    move != NULL && dup != NULL && demote != NULL && demote2 != NULL &&
	    catpkt != NULL && mfree != NULL && freem != NULL &&
	    hdrinit != NULL && prepend != NULL && pullup != NULL &&
	    copyup != NULL && copym != NULL && copypacket != NULL &&
	    mdup != NULL && length != NULL && linkstate != NULL &&
	    output != NULL && input != NULL && attach != NULL && out != NULL &&
	    modify != NULL && drop != NULL && send4 != NULL && send6 != NULL &&
	    frag4 != NULL && frag6 != NULL && swap != NULL && eotx != NULL &&
	    ack != NULL && flush != NULL && reserve != NULL &&
	    release != NULL && xmit != NULL);
	/* The drivers' switch tables hold the spec's methods. */
	CHECK(cxfree == cxgbe_rate_tag_sw.snd_tag_free);
	CHECK(cxmodify == cxgbe_rate_tag_sw.snd_tag_modify);
	CHECK(cxquery == cxgbe_rate_tag_sw.snd_tag_query);
	CHECK_EQ(sws[0]->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(sws[1]->type, IF_SND_TAG_TYPE_RATE_LIMIT);
	CHECK_EQ(sws[2]->type, IF_SND_TAG_TYPE_UNLIMITED);
	for (i = 0; i < nitems(sws); i++)
		CHECK(sws[i]->snd_tag_free != NULL);
}

/*
 * Names that are static in FreeBSD and in the core: the definition must
 * be in the core file named after the FreeBSD one, at the start of a
 * line (style(9)).  The repository root comes from this file's path.
 */
static const struct {
	const char	*file;
	const char	*name;
} static_names[] = {
	{ "core/net/if_vlan.c", "vlan_snd_tag_alloc" },
	{ "core/net/if_vlan.c", "vlan_snd_tag_modify" },
	{ "core/net/if_vlan.c", "vlan_snd_tag_query" },
	{ "core/net/if_vlan.c", "vlan_snd_tag_free" },
	{ "core/net/if_vlan.c", "vlan_transmit" },
	{ "core/net/if_lagg.c", "lookup_snd_tag_port" },
	{ "core/net/if_lagg.c", "lagg_snd_tag_alloc" },
	{ "core/net/if_lagg.c", "lagg_snd_tag_modify" },
	{ "core/net/if_lagg.c", "lagg_snd_tag_query" },
	{ "core/net/if_lagg.c", "lagg_snd_tag_free" },
	{ "core/net/if_lagg.c", "lagg_transmit" },
	{ "core/net/if_lagg.c", "lagg_enqueue" },
	{ "core/net/if_dead.c", "ifdead_snd_tag_alloc" },
	{ "core/net/if_epair.c", "epair_transmit" },
	{ "core/net/if_loop.c", "looutput" },
	{ "core/netinet6/ip6_output.c", "nd6_output_ifp" },
	{ "core/dev/cxgbe/t4_sge.c", "ethofld_tx" },
	{ "core/dev/cxgbe/t4_sge.c", "send_etid_flowc_wr" },
	{ "core/dev/cxgbe/t4_sge.c", "ethofld_transmit" },
	{ "core/dev/cxgbe/t4_sge.c", "ethofld_fw4_ack" },
	{ "core/dev/cxgbe/t4_sched.c", "cxgbe_snd_tag_alloc" },
	{ "core/dev/cxgbe/t4_sched.c", "cxgbe_snd_tag_modify" },
	{ "core/dev/cxgbe/t4_sched.c", "cxgbe_snd_tag_free" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_rl.c", "mlx5e_rl_snd_tag_alloc" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_rl.c", "mlx5e_rl_snd_tag_modify" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_rl.c", "mlx5e_rl_snd_tag_query" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_rl.c", "mlx5e_rl_snd_tag_free" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_main.c", "mlx5e_ul_snd_tag_alloc" },
	{ "core/dev/mlx5/mlx5_en/mlx5_en_main.c", "mlx5e_ul_snd_tag_free" },
	{ "core/kern/kern_mbuf.c", "m_snd_tag_destroy" },
	{ "core/kern/uipc_mbuf.c", "m_demote_pkthdr" },
	{ "core/netinet/in_pcb.c", "in_pcboutput_eagain" },
	{ "core/netinet/ip_output.c", "ip_output_send" },
	{ "core/netinet6/ip6_output.c", "ip6_output_send" },
};

/* Read a core source file; NULL when it cannot be read. */
static char *
t_read_source(const char *rel)
{
	char path[4096], *buf;
	const char *slash;
	size_t rootlen;
	long len;
	FILE *f;

	/* __FILE__ is <root>/tests/test_spec_names.c. */
	slash = strrchr(__FILE__, '/');
	CHECK(slash != NULL && slash - __FILE__ >= 6);
	rootlen = (size_t)(slash - __FILE__) - 5;	/* drop "tests" */
	CHECK(__FILE__[0] == '/');	/* CMake passes full source paths */
	CHECK(snprintf(path, sizeof(path), "%.*s%s", (int)rootlen, __FILE__,
	    rel) < (int)sizeof(path));
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return (NULL);
	}
	CHECK(fseek(f, 0, SEEK_END) == 0);
	len = ftell(f);
	CHECK(len > 0 && fseek(f, 0, SEEK_SET) == 0);
	buf = calloc(1, (size_t)len + 2);
	CHECK(buf != NULL);
	buf[0] = '\n';		/* a definition on the first line matches too */
	CHECK(fread(buf + 1, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	return (buf);
}

static bool
t_defines(const char *src, const char *name)
{
	char needle[128];

	CHECK(snprintf(needle, sizeof(needle), "\n%s(", name) <
	    (int)sizeof(needle));
	return (strstr(src, needle) != NULL);
}

static void
test_static_names(void)
{
	char *src;
	size_t i;
	bool ok;

	for (i = 0; i < nitems(static_names); i++) {
		src = t_read_source(static_names[i].file);
		CHECK(src != NULL);
		ok = t_defines(src, static_names[i].name);
		if (!ok)
			fprintf(stderr, "%s: no definition of %s\n",
			    static_names[i].file, static_names[i].name);
		CHECK(ok);
		/* The check itself can fail: a name that is not there. */
		CHECK(!t_defines(src, "no_such_function_in_the_core"));
		(free)(src);	/* libc: not model memory */
	}
}

/*
 * Behaviour spot checks: the errno rules of §2, §5, §7, §8, §9.
 */
static int
t_alloc(struct ifnet *ifp, struct m_snd_tag **mstp)
{
	return (t_alloc_type(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 7, mstp));
}

/* §2: no alloc method, or a detached ifnet: EOPNOTSUPP, nothing made. */
static void
test_alloc_eopnotsupp(void)
{
	struct ifnet *plain, *gone;
	struct m_snd_tag *mst;

	t_world_begin();
	plain = t_nic(0, 0);
	CHECK(plain->if_snd_tag_alloc == NULL);
	CHECK_EQ(t_alloc(plain, &mst), EOPNOTSUPP);
	CHECK(mst == NULL);
	gone = nic_attach("nic", 1, NIC_F_TXRTLMT, NIC_RING_DEFAULT, 1500);
	CHECK(gone != NULL);
	if_ref(gone);			/* keep the memory past the detach */
	nic_detach(gone);
	CHECK(gone->if_snd_tag_alloc != NULL);	/* the dead method */
	CHECK_EQ(t_alloc(gone, &mst), EOPNOTSUPP);
	CHECK_EQ(t_alloc_type(gone, IF_SND_TAG_TYPE_UNLIMITED, 0, &mst),
	    EOPNOTSUPP);
	CHECK(mst == NULL);
	CHECK_EQ(num_snd_tags(), 0);
	if_rele(gone);
	t_world_end();
}

/* A tag with only a free method: modify and query are EOPNOTSUPP. */
static void
t_bare_free(struct m_snd_tag *mst __unused)
{
}

static const struct if_snd_tag_sw t_bare_sw = {
	.snd_tag_free = t_bare_free,
	.type = IF_SND_TAG_TYPE_RATE_LIMIT,
};

static struct m_snd_tag t_bare_tag;

static int
t_bare_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params __unused,
    struct m_snd_tag **mstp)
{
	m_snd_tag_init(&t_bare_tag, ifp, &t_bare_sw);
	*mstp = &t_bare_tag;
	return (0);
}

static void
t_bare_destroy(struct ifnet *ifp)
{
	if_detach(ifp);
	if_free(ifp);
}

/* §5: attach with a tag set, modify/query without a tag or method. */
static void
test_inpcb_errnos(void)
{
	struct ifnet *ifp, *bare;
	struct socket *so;
	struct inpcb *inp;
	struct m_snd_tag *mst;
	uint32_t v;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	bare = if_alloc(IFT_ETHER);
	if_initname(bare, "bare", 0);
	bare->if_snd_tag_alloc = t_bare_alloc;
	if_attach(bare);
	world_add_ifnet(bare, t_bare_destroy);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	INP_WLOCK(inp);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 1000), EINVAL);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), EINVAL);
	CHECK_EQ(in_pcbquerylevel_txrtlmt(inp, &v), EINVAL);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	mst = inp->inp_snd_tag;
	CHECK_EQ(in_pcbattach_txrtlmt(inp, ifp, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), EINVAL);
	CHECK(inp->inp_snd_tag == mst);
	CHECK_EQ(num_snd_tags(), 1);
	in_pcbdetach_txrtlmt(inp);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK_EQ(in_pcbattach_txrtlmt(inp, bare, M_HASHTYPE_RSS_TCP_IPV4, 1,
	    1000, &inp->inp_snd_tag), 0);
	CHECK(inp->inp_snd_tag == &t_bare_tag);
	CHECK_EQ(in_pcbmodify_txrtlmt(inp, 1000), EOPNOTSUPP);
	CHECK_EQ(in_pcbquery_txrtlmt(inp, &v), EOPNOTSUPP);
	CHECK_EQ(in_pcbquerylevel_txrtlmt(inp, &v), EOPNOTSUPP);
	in_pcbdetach_txrtlmt(inp);
	INP_WUNLOCK(inp);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

/* §5: no RSS hash yet: no tag, CHANGED stays for the next packet. */
static void
test_output_without_hash(void)
{
	struct ifnet *ifp;
	struct socket *so;
	struct inpcb *inp;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	so = t_socket(SOCK_STREAM, ifp);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	m = t_pkt_len(NULL, 60);
	M_HASHTYPE_CLEAR(m);
	INP_WLOCK(inp);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag == NULL);
	CHECK(inp->inp_flags2 & INP_RATE_LIMIT_CHANGED);
	M_HASHTYPE_SET(m, M_HASHTYPE_RSS_TCP_IPV4);
	in_pcboutput_txrtlmt(inp, ifp, m);
	CHECK(inp->inp_snd_tag != NULL);
	CHECK((inp->inp_flags2 & INP_RATE_LIMIT_CHANGED) == 0);
	INP_WUNLOCK(inp);
	m_freem(m);
	t_world_end();
}

/* §7: vlan without parent: ENETDOWN (consumed), no tag: EOPNOTSUPP. */
static void
test_vlan_errnos(void)
{
	struct ifnet *vlan, *plain, *nic0, *nic1;
	struct m_snd_tag *mst;
	u_int mbufs;

	t_world_begin();
	vlan = vlan_clone_create(0, 5, NULL);
	CHECK(vlan != NULL);
	world_add_ifnet(vlan, vlan_clone_destroy);
	mbufs = mbuf_live_count();
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt_len(NULL, 60)), ENETDOWN);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK_EQ(counter_u64_fetch(vlan->if_oerrors), 1);
	CHECK_EQ(t_alloc(vlan, &mst), EOPNOTSUPP);
	/* A parent without send tags: EOPNOTSUPP too. */
	plain = t_nic(0, 0);
	CHECK_EQ(vlan_setparent(vlan, plain), 0);
	CHECK_EQ(t_alloc(vlan, &mst), EOPNOTSUPP);
	CHECK_EQ(num_snd_tags(), 0);
	/* Reparented under a tag: EAGAIN, consumed, an output error. */
	nic0 = t_nic(1, NIC_F_TXRTLMT);
	nic1 = t_nic(2, NIC_F_TXRTLMT);
	CHECK_EQ(vlan_setparent(vlan, nic0), 0);
	CHECK_EQ(t_alloc(vlan, &mst), 0);
	CHECK_EQ(vlan_setparent(vlan, nic1), 0);
	CHECK_EQ(vlan->if_transmit(vlan, t_pkt_len(mst, 60)), EAGAIN);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK_EQ(counter_u64_fetch(vlan->if_oerrors), 2);
	CHECK_EQ(nic_tx_total(nic0) + nic_tx_total(nic1), 0);
	CHECK_EQ(refcount_load(&mst->refcount), 1);
	m_snd_tag_rele(mst);
	t_world_end();
}

/* §8: no ports: ENXIO (consumed); no port for a tag: EOPNOTSUPP. */
static void
test_lagg_errnos(void)
{
	struct ifnet *lagg, *rr, *nic0, *nic1;
	struct m_snd_tag *mst;
	u_int mbufs;

	t_world_begin();
	lagg = t_lagg(0, LAGG_PROTO_FAILOVER, NULL, NULL);
	mbufs = mbuf_live_count();
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_len(NULL, 60)), ENXIO);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK_EQ(t_alloc(lagg, &mst), EOPNOTSUPP);
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	/* Round robin moves a flow between ports: no tag. */
	rr = t_lagg(1, LAGG_PROTO_ROUNDROBIN, NULL, NULL);
	CHECK_EQ(lagg_port_create(rr, nic0), 0);
	CHECK_EQ(t_alloc(rr, &mst), EOPNOTSUPP);
	CHECK_EQ(lagg_port_destroy(rr, nic0), 0);
	/* Load balance without LAGG_OPT_USE_FLOWID: no tag either. */
	CHECK_EQ(lagg_set_proto(rr, LAGG_PROTO_LOADBALANCE), 0);
	CHECK_EQ(lagg_port_create(rr, nic0), 0);
	CHECK_EQ(lagg_set_opts(rr, -LAGG_OPT_USE_FLOWID), 0);
	CHECK_EQ(t_alloc(rr, &mst), EOPNOTSUPP);
	CHECK_EQ(lagg_port_destroy(rr, nic0), 0);
	/* Failover moves to the other port under a tag: EAGAIN. */
	CHECK_EQ(lagg_port_create(lagg, nic0), 0);
	CHECK_EQ(lagg_port_create(lagg, nic1), 0);
	CHECK_EQ(t_alloc(lagg, &mst), 0);
	CHECK(mst->sw->next_snd_tag(mst)->ifp == nic0);
	CHECK_EQ(lagg_port_destroy(lagg, nic0), 0);
	CHECK_EQ(lagg->if_transmit(lagg, t_pkt_len(mst, 60)), EAGAIN);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK_EQ(nic_tx_total(nic0) + nic_tx_total(nic1), 0);
	m_snd_tag_rele(mst);
	CHECK_EQ(num_snd_tags(), 0);
	t_world_end();
}

/* §6: the mismatch in ip_output_send: EAGAIN and the mbuf freed. */
static void
test_ip_output_mismatch_eagain(void)
{
	struct t_reader r;
	struct ifnet *nic0, *nic1;
	struct socket *so;
	struct inpcb *inp;
	u_int mbufs;

	t_world_begin();
	ipstat_reset();
	nic0 = t_nic(0, NIC_F_TXRTLMT);
	nic1 = t_nic(1, NIC_F_TXRTLMT);
	so = t_socket(SOCK_DGRAM, nic0);
	inp = so->so_pcb;
	CHECK_EQ(sosetopt_max_pacing_rate(so, 1000), 0);
	CHECK_EQ(sosend(so, 100, 0), 0);
	CHECK(inp->inp_snd_tag != NULL && inp->inp_snd_tag->ifp == nic0);
	CHECK_EQ(rt_change(AF_INET, &net4, 24, nic1), 0);
	mbufs = mbuf_live_count();
	t_reader_start(&r, inp);
	CHECK_EQ(sosend(so, 100, 0), EAGAIN);
	t_reader_stop(&r);
	CHECK_EQ(mbuf_live_count(), mbufs);
	CHECK_EQ(ipstat.ips_odropped, 1);
	CHECK_EQ(nic_tx_total(nic1), 0);
	t_world_end();
}

/* §9.1: ENOBUFS past the backlog; ENOMEM without an etid, undone. */
static void
test_cxgbe_errnos(void)
{
	struct cxgbe_params p = {
		.n_etids = 1,
		.n_classes = 4,
		.tx_credits = 72,
		.max_backlog = 1,
	};
	union if_snd_tag_alloc_params ap;
	struct ifnet *ifp;
	struct m_snd_tag *mst, *mst2;
	struct cxgbe_rate_tag *cst;
	int error, i, sent;

	t_world_begin();
	ifp = cxgbe_attach(0, &p);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, cxgbe_detach);
	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_UNLIMITED, 0, &mst),
	    EOPNOTSUPP);
	CHECK_EQ(t_alloc(ifp, &mst), 0);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 1);
	/* The only etid is taken; a new rate's class is given back. */
	memset(&ap, 0, sizeof(ap));
	ap.rate_limit.hdr.type = IF_SND_TAG_TYPE_RATE_LIMIT;
	ap.rate_limit.max_rate = 2000000;
	mst2 = NULL;
	CHECK_EQ(m_snd_tag_alloc(ifp, &ap, &mst2), ENOMEM);
	CHECK(mst2 == NULL);
	CHECK_EQ(cxgbe_classes_in_use(ifp), 1);
	CHECK_EQ(cxgbe_etids_in_use(ifp), 1);
	/* Fill the credits, then the backlog of one, then ENOBUFS. */
	cst = mst_to_crt(mst);
	error = 0;
	for (i = sent = 0; i < 64 && error == 0; i++) {
		error = ifp->if_transmit(ifp, t_pkt_len(mst, 100));
		if (error == 0)
			sent++;
	}
	CHECK_EQ(error, ENOBUFS);
	CHECK_EQ(mbufq_len(&cst->pending_tx), 1);
	CHECK(sent > 1);
	CHECK_EQ(mbuf_live_count(), sent);	/* the dropped one is gone */
	m_snd_tag_rele(mst);
	t_world_end();
}

/* §9.2: no pacing: EOPNOTSUPP; no free channel: ENOMEM. */
static void
test_mlx5_errnos(void)
{
	struct mlx5e_params p = {
		.n_workers = 1,
		.channels_per_worker = 1,
		.n_channels = 1,
		.sq_size = 8,
		.packet_pacing = true,
	};
	struct ifnet *ifp, *nopace;
	struct m_snd_tag *a, *b;

	t_world_begin();
	ifp = mlx5e_attach(0, &p);
	CHECK(ifp != NULL);
	world_add_ifnet(ifp, mlx5e_detach);
	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 0, &a), 0);
	CHECK_EQ(t_alloc_type(ifp, IF_SND_TAG_TYPE_RATE_LIMIT, 1, &b), ENOMEM);
	CHECK(b == NULL);
	CHECK_EQ(mlx5e_rl_channels_in_use(ifp), 1);
	p.packet_pacing = false;
	nopace = mlx5e_attach(1, &p);
	CHECK(nopace != NULL);
	world_add_ifnet(nopace, mlx5e_detach);
	CHECK_EQ(t_alloc_type(nopace, IF_SND_TAG_TYPE_RATE_LIMIT, 0, &b),
	    EOPNOTSUPP);
	m_snd_tag_rele(a);
	t_world_end();
}

/* §3: a tagged mbuf has no rcvif; a received one keeps it. */
static void
test_m_rcvif(void)
{
	struct ifnet *ifp;
	struct m_snd_tag *mst;
	struct mbuf *m;

	t_world_begin();
	ifp = t_nic(0, NIC_F_TXRTLMT);
	CHECK_EQ(t_alloc(ifp, &mst), 0);
	m = t_pkt_len(NULL, 60);
	m->m_pkthdr.rcvif = ifp;
	CHECK(m_rcvif(m) == ifp);
	m_freem(m);
	m = t_pkt_len(mst, 60);
	CHECK(m->m_pkthdr.snd_tag != NULL);
	CHECK(m_rcvif(m) == NULL);
	m_freem(m);
	m_snd_tag_rele(mst);
	t_world_end();
}

int
main(void)
{
	RUN(test_function_names);
	RUN(test_static_names);
	RUN(test_alloc_eopnotsupp);
	RUN(test_inpcb_errnos);
	RUN(test_output_without_hash);
	RUN(test_vlan_errnos);
	RUN(test_lagg_errnos);
	RUN(test_ip_output_mismatch_eagain);
	RUN(test_cxgbe_errnos);
	RUN(test_mlx5_errnos);
	RUN(test_m_rcvif);
	return (t_done());
}
