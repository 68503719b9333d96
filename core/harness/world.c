/*
 * Harness (not FreeBSD): the world one scenario runs in, quiesce, teardown
 * and the ledger (spec §10 invariants 3 and 11).  See harness/world.h.
 */
#include "sys/ktls.h"
#include <stdarg.h>

#include "harness/world.h"
#include "net/if_var.h"
#include "net/route.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"
#include "shim/canary.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/taskqueue.h"
#include "sys/mbuf.h"
#include "sys/socketvar.h"

/* The world's own bookkeeping is not model memory: plain libc. */
#undef malloc
#undef free

const struct world_limits world_default_limits = {
	.max_quiesce_steps = 10000,
	.max_bytes = 64u << 20,
};

struct world_stats world_stats;

struct world_ifnet {
	struct ifnet	*wi_ifp;
	void		(*wi_destroy)(struct ifnet *);
};

static struct world_limits world_lim;
static struct harness_actor *world_actors;
static struct world_ifnet *world_ifnets;
static int world_nifnets, world_maxifnets;

void
ledger_fail(struct ledger *l, const char *fmt, ...)
{
	va_list ap;

	if (l->problems++ == 0) {
		va_start(ap, fmt);
		vsnprintf(l->first, sizeof(l->first), fmt, ap);
		va_end(ap);
	}
}

void
harness_actor_register(struct harness_actor *a)
{
	struct harness_actor **ap;

	if (a->registered)
		return;
	/* Registration order is the order quiesce visits actors. */
	for (ap = &world_actors; *ap != NULL; ap = &(*ap)->next)
		;
	a->next = NULL;
	a->registered = true;
	*ap = a;
}

void
harness_actor_foreach(void (*cb)(struct harness_actor *, void *), void *arg)
{
	struct harness_actor *a;

	for (a = world_actors; a != NULL; a = a->next)
		cb(a, arg);
}

void
world_init(const struct world_limits *lim)
{
	struct harness_actor *a, *next;

	world_lim = lim != NULL ? *lim : world_default_limits;
	if (world_lim.max_quiesce_steps <= 0)
		world_lim.max_quiesce_steps =
		    world_default_limits.max_quiesce_steps;

	malloc_reset();
	witness_reset();
	epoch_reset();
	taskqueue_reset();
	canary_reset();
	mbuf_reset();
	if_reset();
	rt_reset();
	in_pcb_reset();
	socket_reset();
	ktls_reset();
	in_ifaddr_reset();
	in6_ifaddr_reset();
	/* Sysctls and statistics: nothing of the last input survives. */
	ipstat_reset();
	ip6stat_reset();
	V_ipforwarding = 0;
	V_ip6_forwarding = 0;
	V_ip_defttl = IPDEFTTL;
	V_ip6_defhlim = IPV6_DEFHLIM;

	for (a = world_actors; a != NULL; a = next) {
		next = a->next;
		a->next = NULL;
		a->registered = false;
	}
	world_actors = NULL;
	world_nifnets = 0;
	memset(&world_stats, 0, sizeof(world_stats));

	taskqueue_thread = taskqueue_create("taskqueue_thread", M_WAITOK);
	malloc_set_budget(world_lim.max_bytes);
}

void
world_add_ifnet(struct ifnet *ifp, void (*destroy)(struct ifnet *))
{
	struct world_ifnet *wi;

	KASSERT(ifp != NULL && destroy != NULL,
	    ("world: world_add_ifnet with a NULL argument"));
	if (world_nifnets == world_maxifnets) {
		world_maxifnets = world_maxifnets == 0 ? 16 :
		    world_maxifnets * 2;
		wi = realloc(world_ifnets,
		    (size_t)world_maxifnets * sizeof(*wi));
		if (wi == NULL)
			panic("world: out of memory for %d ifnets",
			    world_maxifnets);
		world_ifnets = wi;
	}
	world_ifnets[world_nifnets].wi_ifp = ifp;
	world_ifnets[world_nifnets].wi_destroy = destroy;
	world_nifnets++;
}

void
world_forget_ifnet(struct ifnet *ifp)
{
	int i;

	for (i = world_nifnets - 1; i >= 0; i--)
		if (world_ifnets[i].wi_ifp == ifp) {
			memmove(&world_ifnets[i], &world_ifnets[i + 1],
			    (size_t)(world_nifnets - i - 1) *
			    sizeof(world_ifnets[0]));
			world_nifnets--;
			return;
		}
}

/* Name of the first thing with work still pending, or NULL. */
struct world_pending_arg {
	const char	*name;
};

static void
world_pending_queue(struct taskqueue *tq, void *arg)
{
	struct world_pending_arg *wp = arg;

	if (wp->name == NULL && taskqueue_pending(tq) != 0)
		wp->name = taskqueue_name(tq);
}

static const char *
world_first_pending(void)
{
	struct world_pending_arg wp = { NULL };
	struct harness_actor *a;

	if (epoch_pending() != 0)
		return ("epoch callbacks");
	taskqueue_foreach(world_pending_queue, &wp);
	if (wp.name != NULL)
		return (wp.name);
	for (a = world_actors; a != NULL; a = a->next)
		if (a->pending != NULL && a->pending() > 0)
			return (a->name);
	return (NULL);
}

/* One round: deliver what every source has now; returns events. */
static int
world_round(void)
{
	struct harness_actor *a;
	int n;

	n = epoch_drain_callbacks();
	n += taskqueue_run_all();
	for (a = world_actors; a != NULL; a = a->next)
		if (a->progress != NULL)
			n += a->progress();
	return (n);
}

int
world_progress_all(void)
{
	const char *what;
	int n, steps;

	for (steps = 0; ; ) {
		what = world_first_pending();
		if (what == NULL)
			return (0);
		if (steps >= world_lim.max_quiesce_steps)
			break;
		n = world_round();
		steps++;
		world_stats.quiesce_steps++;
		world_stats.events_delivered += (uint64_t)n;
		/* Nothing moved and nothing will: same state next round. */
		if (n == 0) {
			what = world_first_pending();
			if (what == NULL)
				return (0);
			break;
		}
	}
	panic("quiesce: hang: %s still pending after %d steps", what, steps);
}

int
world_quiesce(void)
{
	struct harness_actor *a;
	int stuck;

	world_progress_all();
	for (a = world_actors; a != NULL; a = a->next) {
		if (a->stuck == NULL)
			continue;
		stuck = a->stuck();
		if (stuck > 0)
			panic("quiesce: hang: %s: %d outstanding that no "
			    "event can complete", a->name, stuck);
	}
	return (0);
}

void
world_teardown(void)
{
	struct world_ifnet wi;

	world_quiesce();
	soclose_all();
	world_quiesce();
	/* Newest first: wrappers go before the interfaces under them. */
	while (world_nifnets > 0) {
		wi = world_ifnets[--world_nifnets];
		wi.wi_destroy(wi.wi_ifp);
	}
	world_quiesce();
}

void
world_check_ledger(void)
{
	struct ledger l = { 0 };
	struct harness_actor *a;
	uint64_t tags;
	int n;

	tags = num_snd_tags();
	if (tags != 0)
		ledger_fail(&l, "num_snd_tags is %ju after teardown",
		    (uintmax_t)tags);
	if ((n = (int)mbuf_live_count()) != 0)
		ledger_fail(&l, "%d mbufs live after teardown", n);
	if ((n = ifnet_live_count()) != 0)
		ledger_fail(&l, "%d ifnets live after teardown", n);
	if ((n = inpcb_live_count()) != 0)
		ledger_fail(&l, "%d inpcbs live after teardown", n);
	if ((n = socket_live_count()) != 0)
		ledger_fail(&l, "%d sockets live after teardown", n);
	if ((n = rt_count()) != 0)
		ledger_fail(&l, "%d routes left after teardown", n);
	if ((n = ktls_live_count()) != 0)
		ledger_fail(&l, "%d ktls sessions live after teardown", n);
	if ((n = witness_held_count()) != 0)
		ledger_fail(&l, "%d locks held after teardown", n);
	if ((n = taskqueue_pending_all()) != 0)
		ledger_fail(&l, "%d tasks pending after teardown", n);
	if ((n = epoch_pending()) != 0)
		ledger_fail(&l, "%d epoch callbacks pending after teardown",
		    n);
	for (a = world_actors; a != NULL; a = a->next) {
		if (a->pending != NULL && (n = a->pending()) != 0)
			ledger_fail(&l, "%s: %d events pending after teardown",
			    a->name, n);
		if (a->ledger != NULL)
			a->ledger(&l);
	}
	if (l.problems > 1)
		panic("ledger: %s, and %d more", l.first, l.problems - 1);
	if (l.problems == 1)
		panic("ledger: %s", l.first);
}

struct world_leak {
	const struct malloc_type *type;
};

static void
world_first_leak(const struct malloc_type *mtp, void *arg)
{
	struct world_leak *wl = arg;

	if (wl->type == NULL)
		wl->type = mtp;
}

void
world_fini(void)
{
	struct world_leak wl = { NULL };
	uint64_t live;

	if (taskqueue_thread != NULL) {
		taskqueue_free(taskqueue_thread);
		taskqueue_thread = NULL;
	}
	free(world_ifnets);
	world_ifnets = NULL;
	world_nifnets = world_maxifnets = 0;
	malloc_fail_disarm();

	live = malloc_live_total();
	if (live != 0) {
		malloc_foreach_live(world_first_leak, &wl);
		panic("ledger: leaked %ju %s objects%s",
		    (uintmax_t)wl.type->ks_inuse, wl.type->ks_shortdesc,
		    live > wl.type->ks_inuse ? " (and more of other types)" :
		    "");
	}
}
