/*
 * sndtag-minimize's parts (see minimize.c): the minimizer's state, how
 * a pass tries a candidate, and the passes.
 */
#ifndef _REPRO_MINIMIZE_INT_H_
#define	_REPRO_MINIMIZE_INT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.pb-c.h"
#include "repro/crashrun.h"

/* The smallest scenario so far and how the search goes. */
struct minimize {
	uint8_t		*buf;		/* smallest so far, packed */
	size_t		 len;
	Scenario	*sc;		/* buf, unpacked */
	char		 bucket[CRASH_BUCKET_MAX];
	unsigned	 tries;
	unsigned	 max_tries;
	unsigned	 timeout_ms;
	bool		 quiet;
	bool		 out_of_tries;
	bool		 threaded;	/* --threaded: --strategy switch */
};

extern struct minimize min_state;	/* minimize.c */

/* minimize.c: progress lines, and trying a candidate. */
void	min_progress(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The current scenario, unpacked afresh (the caller frees it). */
Scenario *min_unpack_current(void);
uint32_t min_n_ifaces_of(const Scenario *sc);
bool	min_try_view(const Scenario *view, const char *what);

/* The passes: true if one made the scenario smaller. */
bool	min_pass_ops(void);		/* minimize_ops.c */
bool	min_pass_switches(void);	/* minimize_ops.c */
bool	min_pass_topology(void);	/* minimize_topology.c */
bool	min_pass_scalars(void);		/* minimize_scalars.c */

#endif /* !_REPRO_MINIMIZE_INT_H_ */
