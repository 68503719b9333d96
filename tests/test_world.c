/* The harness world: lifecycle, quiesce, hang detection, ledger. */
#include "tests/testlib.h"
#include "harness/world.h"
#include "shim/epoch.h"
#include "shim/lock.h"
#include "shim/malloc.h"
#include "shim/taskqueue.h"

static void
finish(void)
{
	world_teardown();
	world_check_ledger();
	world_fini();
}

static int task_runs;

static void
count_task(void *arg, int pending)
{
	task_runs += pending;
}

static void
test_empty_world_lifecycle(void)
{
	struct task t;

	world_init(NULL);
	CHECK(taskqueue_thread != NULL);
	CHECK_EQ(witness_held_count(), 0);
	/* Work left on the system queue is delivered by teardown. */
	task_runs = 0;
	TASK_INIT(&t, 0, count_task, NULL);
	taskqueue_enqueue(taskqueue_thread, &t);
	taskqueue_enqueue(taskqueue_thread, &t);
	finish();
	CHECK_EQ(task_runs, 2);
	CHECK(taskqueue_thread == NULL);
	CHECK_EQ(malloc_live_total(), 0);
	/* A second world starts from scratch. */
	world_init(NULL);
	CHECK(taskqueue_thread != NULL);
	finish();
}

static void
leak_one(void *arg)
{
	world_init(NULL);
	(void)malloc(24, M_TEMP, M_WAITOK);
	finish();
}

static void
test_leak_caught_by_fini(void)
{
	CHECK_PANICS(leak_one, NULL, "ledger: leaked 1 temp objects");
}

static void
test_budget_and_faults_per_world(void)
{
	struct world_limits lim = world_default_limits;
	void *p;

	lim.max_bytes = 4096;
	world_init(&lim);
	p = malloc(8192, M_TEMP, M_NOWAIT);
	CHECK(p == NULL);
	malloc_fail_arm(1, NULL);
	finish();
	/* The next world has the default budget and no armed fault. */
	world_init(NULL);
	p = malloc(8192, M_TEMP, M_NOWAIT);
	CHECK(p != NULL);
	free(p, M_TEMP);
	finish();
}

/* An actor with a few events that complete over several rounds. */
static int tidy_events;
static int tidy_rounds;

static int
tidy_pending(void)
{
	return (tidy_events);
}

static int
tidy_progress(void)
{
	if (tidy_events == 0)
		return (0);
	tidy_rounds++;
	tidy_events--;		/* one per round */
	return (1);
}

static struct harness_actor tidy_actor = {
	.name = "tidy",
	.pending = tidy_pending,
	.progress = tidy_progress,
};

static void
test_actor_settles(void)
{
	world_init(NULL);
	harness_actor_register(&tidy_actor);
	harness_actor_register(&tidy_actor);	/* idempotent */
	tidy_events = 3;
	tidy_rounds = 0;
	CHECK_EQ(world_quiesce(), 0);
	CHECK_EQ(tidy_events, 0);
	CHECK_EQ(tidy_rounds, 3);
	CHECK(world_stats.quiesce_steps >= 3);
	CHECK(world_stats.events_delivered >= 3);
	finish();
	/* world_init forgets actors: it is not visited any more. */
	world_init(NULL);
	tidy_events = 1;
	CHECK_EQ(world_quiesce(), 0);
	CHECK_EQ(tidy_events, 1);
	tidy_events = 0;
	finish();
}

/* Always has work and always "delivers" it, yet never gets done. */
static int
busy_pending(void)
{
	return (1);
}

static int
busy_progress(void)
{
	return (1);
}

static struct harness_actor busy_actor = {
	.name = "busy",
	.pending = busy_pending,
	.progress = busy_progress,
};

static void
never_settles(void *arg)
{
	struct world_limits lim = world_default_limits;

	lim.max_quiesce_steps = 50;
	world_init(&lim);
	harness_actor_register(&busy_actor);
	finish();
}

/* Has work that nothing ever delivers. */
static int
idle_progress(void)
{
	return (0);
}

static struct harness_actor idle_actor = {
	.name = "idle",
	.pending = busy_pending,
	.progress = idle_progress,
};

static void
never_moves(void *arg)
{
	world_init(NULL);
	harness_actor_register(&idle_actor);
	finish();
}

static int
stuck_two(void)
{
	return (2);
}

static struct harness_actor stuck_actor = {
	.name = "credits",
	.pending = tidy_pending,
	.progress = tidy_progress,
	.stuck = stuck_two,
};

static void
stuck_credits(void *arg)
{
	world_init(NULL);
	tidy_events = 0;
	harness_actor_register(&stuck_actor);
	finish();
}

static void
test_hangs_are_reported(void)
{
	CHECK_PANICS(never_settles, NULL,
	    "quiesce: hang: busy still pending after 50 steps");
	CHECK_PANICS(never_moves, NULL, "quiesce: hang: idle still pending");
	CHECK_PANICS(stuck_credits, NULL, "quiesce: hang: credits: 2 "
	    "outstanding that no event can complete");
}

static void
ledger_two(struct ledger *l)
{
	ledger_fail(l, "driver: etid %d not returned", 7);
	ledger_fail(l, "driver: etid %d not returned", 8);
}

static struct harness_actor leaky_actor = {
	.name = "leaky",
	.ledger = ledger_two,
};

static void
actor_ledger_fails(void *arg)
{
	world_init(NULL);
	harness_actor_register(&leaky_actor);
	finish();
}

static void
lock_left_held(void *arg)
{
	static struct mtx m;

	world_init(NULL);
	mtx_init(&m, "forgotten", NULL, MTX_DEF);
	mtx_lock(&m);
	world_teardown();
	world_check_ledger();
}

static void
test_ledger_reports(void)
{
	CHECK_PANICS(actor_ledger_fails, NULL,
	    "ledger: driver: etid 7 not returned, and 1 more");
	CHECK_PANICS(lock_left_held, NULL,
	    "ledger: 1 locks held after teardown");
}

/* Fake interfaces: the world only keeps the pointers and destroy fns. */
static int destroyed[8];
static int ndestroyed;
static char fake_if[8];

static void
fake_destroy(struct ifnet *ifp)
{
	destroyed[ndestroyed++] = (int)((char *)ifp - fake_if);
}

static void
test_ifnets_destroyed_newest_first(void)
{
	int i;

	world_init(NULL);
	ndestroyed = 0;
	for (i = 0; i < 4; i++)
		world_add_ifnet((struct ifnet *)&fake_if[i], fake_destroy);
	world_forget_ifnet((struct ifnet *)&fake_if[1]);
	finish();
	CHECK_EQ(ndestroyed, 3);
	CHECK_EQ(destroyed[0], 3);
	CHECK_EQ(destroyed[1], 2);
	CHECK_EQ(destroyed[2], 0);
}

static struct epoch_context late_ctx;
static int late_runs;

static void
late_cb(epoch_context_t ctx)
{
	late_runs++;
}

static void
test_epoch_callbacks_drained_by_quiesce(void)
{
	world_init(NULL);
	late_runs = 0;
	NET_EPOCH_CALL(late_cb, &late_ctx);
	CHECK_EQ(epoch_pending(), 1);
	finish();
	CHECK_EQ(late_runs, 1);
	CHECK_EQ(epoch_pending(), 0);
}

int
main(void)
{
	RUN(test_empty_world_lifecycle);
	RUN(test_leak_caught_by_fini);
	RUN(test_budget_and_faults_per_world);
	RUN(test_actor_settles);
	RUN(test_hangs_are_reported);
	RUN(test_ledger_reports);
	RUN(test_ifnets_destroyed_newest_first);
	RUN(test_epoch_callbacks_drained_by_quiesce);
	return (t_done());
}
