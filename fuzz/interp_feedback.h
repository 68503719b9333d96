/*
 * Harness: state feedback.  The bugs this harness hunts are orders and
 * states (a tag with references left when its socket is gone, an mbuf
 * still holding a tag when its interface detaches), and most of them add
 * no new branch: the code that frees a tag is the same whoever calls it.
 * So after every operation of a sequential run the interpreter reports an
 * abstract lifecycle state, and this module turns it into features the
 * engine keeps inputs for, as if they were new edges: libFuzzer reads
 * them as extra counters (__libfuzzer_extra_counters).
 *
 * Features, each hashed into FB_MAP_SIZE counters.  A feature is reached
 * or not: its counter is 1 however often the input reaches it, so the
 * engine's hit-count buckets see nothing.  When they did, how often an
 * input reached a state grew with its length, so every longer input was
 * "new": the corpus grew by the inputs' length, not their states.
 *	(op kind, outcome class)
 *	a socket's tag state: has a tag, the kind of interface the tag
 *	    belongs to and whether that interface is detached, the tag's
 *	    reference count (bucketed), CHANGED, DROPPED, closed
 *	(num_snd_tags, live mbufs), bucketed
 *	(previous op kind, op kind) while any tag exists
 * States are not crossed with the op that reached them: that would
 * multiply the features (and the corpus, and the engine's bookkeeping
 * per input) for little guidance.
 */
#ifndef _FUZZ_INTERP_FEEDBACK_H_
#define	_FUZZ_INTERP_FEEDBACK_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define	FB_MAP_SIZE	4096

/* One socket's tag state after an op. */
struct fb_sock {
	bool		has_tag;
	uint8_t		tag_kind;	/* interpreter's interface kind + 1 */
	bool		tag_if_dead;
	uint32_t	tag_refs;
	bool		changed;	/* INP_RATE_LIMIT_CHANGED */
	bool		dropped;	/* INP_DROPPED */
	bool		no_pcb;		/* closed (pcb gone) */
};

void	fb_reset(void);		/* start of an input */
void	fb_op(int op_kind, int error, const struct fb_sock *socks, int n,
	    uint64_t tags, uint32_t mbufs);
/*
 * Features found elsewhere (the threaded mode's interleaving features,
 * core/shim/sched_ctl.c): every non-zero byte of map[0..len) is a
 * feature.  Called on the thread that runs the input, after the run.
 */
void	fb_merge(const uint8_t *map, size_t len);
/* Distinct features hit since fb_reset (for tests and the analysis). */
uint32_t fb_features(void);

#endif /* !_FUZZ_INTERP_FEEDBACK_H_ */
