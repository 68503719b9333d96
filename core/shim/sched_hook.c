/*
 * Userspace shim: the scheduler seam.  NULL in the sequential mode; the
 * controlled scheduler (fuzz/, tools/) installs its ops before it starts
 * any model thread and clears them after joining them.
 */
#include "shim/sched.h"

const struct sched_ops *sched_active_ops = NULL;
