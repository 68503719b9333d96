/*
 * Harness: canary counters for the historic and race variants (see
 * shim/canary.h).  Names match the variant names in core/CMakeLists.txt.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "shim/canary.h"

struct canary_counts canary_table[CANARY_N];

/*
 * Stamps already written or found in SNDTAG_CANARY_DIR by this process,
 * so each is attempted once per process however often the canary fires.
 */
static int canary_stamped[CANARY_N][2];

static const char *const canary_names[CANARY_N] = {
	[CANARY_NOREF] = "noref",
	[CANARY_RCVIF_AS_TAG] = "rcvif",
	[CANARY_NO_IFP_CHECK] = "nomismatch",
	[CANARY_WRAPPER_PASSTHRU] = "passthru",
	[CANARY_NO_IFP_PIN] = "nopin",
	[CANARY_CXGBE_NOFLUSH] = "cxgbe_noflush",
	[CANARY_CXGBE_NO_TMPREF] = "cxgbe_notmpref",
	[CANARY_MLX5_UNUSED_IFP] = "mlx5_ifp",
	[CANARY_RACE_REFCOUNT] = "race_refcount",
	[CANARY_RACE_LAGG_EPOCH] = "race_lagg_epoch",
	[CANARY_RACE_INP_UNLOCKED] = "race_inp_unlocked",
	[CANARY_CXGBE_FW4_ACK_REVIVE] = "cxgbe_fw4_ack_revive",
};

const char *
canary_name(enum canary_id id)
{
	if ((unsigned)id >= CANARY_N || canary_names[id] == NULL)
		return ("unknown");
	return (canary_names[id]);
}

void
canary_reset(void)
{
	int i;

	for (i = 0; i < CANARY_N; i++) {
		__atomic_store_n(&canary_table[i].reached, 0,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&canary_table[i].triggered, 0,
		    __ATOMIC_RELAXED);
	}
}

/*
 * Kept out of the fuzzer's coverage: the stamp is a measurement and must
 * not look like new behaviour to the engine.  O_EXCL makes the first
 * process of a campaign win; later ones find the file and stop trying.
 */
__attribute__((no_sanitize("coverage"))) void
canary_first(enum canary_id id, int triggered)
{
	static const char *const kind[2] = { "reached", "triggered" };
	struct timespec ts;
	char path[4096], line[64];
	const char *dir;
	int fd, len;

	if ((unsigned)id >= CANARY_N || triggered < 0 || triggered > 1)
		return;
	if (__atomic_exchange_n(&canary_stamped[id][triggered], 1,
	    __ATOMIC_RELAXED) != 0)
		return;
	dir = getenv("SNDTAG_CANARY_DIR");
	if (dir == NULL || dir[0] == '\0')
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (snprintf(path, sizeof(path), "%s/%s.%s", dir, canary_name(id),
	    kind[triggered]) >= (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%jd.%09ld\n", (intmax_t)ts.tv_sec,
	    ts.tv_nsec);
	if (write(fd, line, (size_t)len) != len) {
		/* A torn stamp is worse than none: the reader sees no file. */
		(void)unlink(path);
	}
	close(fd);
}

void
canary_print(FILE *fp)
{
	uint64_t r, t;
	int i;

	for (i = 0; i < CANARY_N; i++) {
		r = __atomic_load_n(&canary_table[i].reached, __ATOMIC_RELAXED);
		t = __atomic_load_n(&canary_table[i].triggered,
		    __ATOMIC_RELAXED);
		if (r != 0 || t != 0)
			fprintf(fp, "canary %s reached=%ju triggered=%ju\n",
			    canary_name((enum canary_id)i), (uintmax_t)r,
			    (uintmax_t)t);
	}
}
