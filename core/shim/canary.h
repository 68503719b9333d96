/*
 * Harness: Magma-style canaries for the historic and race variants.
 *
 * Each variant's code (compiled in only with its SNDTAG_VARIANT_* define)
 * marks its bug site:
 *	CANARY_REACHED(CANARY_NOREF);		the historic code ran
 *	if (bug condition holds)
 *		CANARY_TRIGGERED(CANARY_NOREF);	and its bug fired
 * so a campaign can tell "never reached" from "reached but not detected".
 * Counters are process-wide, reset by world_init, and printed by the
 * replay tool.  The correct core contains no canary calls.
 *
 * With SNDTAG_CANARY_DIR=<dir> in the environment, the first reach and
 * the first trigger of each canary over a whole campaign (every process
 * of it) create <dir>/<name>.reached and <dir>/<name>.triggered holding
 * the CLOCK_MONOTONIC time in seconds: tools/sndtag bench tte reads them
 * to time exposure.  Only a counter going from 0 to 1 (once per input at
 * most) leaves the inline increment.
 */
#ifndef _SHIM_CANARY_H_
#define	_SHIM_CANARY_H_

#include "shim/systm.h"

enum canary_id {
	CANARY_NOREF = 0,		/* §11.1 no tag references */
	CANARY_RCVIF_AS_TAG,		/* §11.2 rcvif read as a tag */
	CANARY_NO_IFP_CHECK,		/* §11.3 no ip_output mismatch check */
	CANARY_WRAPPER_PASSTHRU,	/* §11.4 vlan/lagg pass parent tag */
	CANARY_NO_IFP_PIN,		/* §11.5 tags do not pin ifnet */
	CANARY_CXGBE_NOFLUSH,		/* §11.6 cxgbe without its fix */
	CANARY_CXGBE_NO_TMPREF,		/* §11.7 no temporary reference */
	CANARY_MLX5_UNUSED_IFP,		/* §11.8 ifp of an unused tag */
	CANARY_RACE_REFCOUNT,		/* non-atomic tag refcount */
	CANARY_RACE_LAGG_EPOCH,		/* lagg port list without epoch */
	CANARY_RACE_INP_UNLOCKED,	/* inp_snd_tag read unlocked */
	CANARY_CXGBE_FW4_ACK_REVIVE,	/* upstream fw4_ack temporary ref */
	CANARY_N
};

struct canary_counts {
	uint64_t	reached;
	uint64_t	triggered;
};

extern struct canary_counts canary_table[CANARY_N];

#define	CANARY_REACHED(id) do {						\
	if (__atomic_fetch_add(&canary_table[(id)].reached, 1,		\
	    __ATOMIC_RELAXED) == 0)					\
		canary_first((id), 0);					\
} while (0)
#define	CANARY_TRIGGERED(id) do {					\
	if (__atomic_fetch_add(&canary_table[(id)].triggered, 1,	\
	    __ATOMIC_RELAXED) == 0)					\
		canary_first((id), 1);					\
} while (0)

const char *canary_name(enum canary_id id);	/* e.g. "noref" */
void	canary_reset(void);
/* First hit of a canary in this input: the SNDTAG_CANARY_DIR stamp. */
void	canary_first(enum canary_id id, int triggered);
/* One line per canary with a non-zero count, "canary <name> reached=N triggered=M". */
void	canary_print(FILE *fp);

#endif /* !_SHIM_CANARY_H_ */
