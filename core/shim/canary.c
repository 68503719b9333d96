/*
 * Harness: canary counters for the historic and race variants (see
 * shim/canary.h).  Names match the variant names in core/CMakeLists.txt.
 */
#include "shim/canary.h"

struct canary_counts canary_table[CANARY_N];

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
