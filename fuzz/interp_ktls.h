/*
 * Harness: the kernel-TLS and pacing-user operations (TlsEnable, TlsSend,
 * Pacing in fuzz/scenario.proto).  Their meaning lives here once: the
 * interpreter (fuzz/interp.c) runs them through interp_ktls_run, the C
 * reproducer generator (repro/cprog_sock.c) and the clamp (interp_clamp.c)
 * take the same resolved arguments and trace text from interp_ktls_args
 * and interp_ktls_detail.
 */
#ifndef _FUZZ_INTERP_KTLS_H_
#define	_FUZZ_INTERP_KTLS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.pb-c.h"

struct socket;

struct interp_ktls_args {
	const char	*name;		/* trace name of the op */
	uint32_t	 sock;		/* socket reference (unresolved) */
	int		 vminor;	/* TlsEnable: TLS_MINOR_VER_* or 2 */
	const char	*version;	/* TlsEnable: "tls12", ... */
	int		 records;	/* TlsSend: 1..KTLS_MAX_RECORDS */
	int		 size;		/* TlsSend: 1..KTLS_MAX_RECORD */
	int		 action;	/* Pacing: TCP_RL_* */
	const char	*action_name;	/* Pacing: "set", ... */
	uint32_t	 rate;		/* Pacing */
};

/* True for the ops of this file; fills a with their clamped meaning. */
bool	interp_ktls_args(const Op *op, struct interp_ktls_args *a);
/* The trace text after "<name> sock=N" (same in interp and cprog). */
void	interp_ktls_detail(const struct interp_ktls_args *a, char *buf,
	    size_t size);
/* Packets an op may create, for the interpreter's packet budget. */
uint32_t interp_ktls_packets(const struct interp_ktls_args *a);
/* Run the op on so (a use reference held by the caller). */
int	interp_ktls_run(struct socket *so, const struct interp_ktls_args *a);

#endif /* !_FUZZ_INTERP_KTLS_H_ */
