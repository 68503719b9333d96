/*
 * sndtag-cprog's parts (see cprog.c): the generator's state, the shadow
 * of the interpreter's tables it resolves references with, and what one
 * part calls in another.
 */
#ifndef _REPRO_CPROG_INT_H_
#define	_REPRO_CPROG_INT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.pb-c.h"
#include "fuzz/interp.h"

#define	ST_NONE		0	/* creation failed */
#define	ST_LIVE		1
#define	ST_DEAD		2

/* The shadow of one of interp.c's interfaces, in creation order. */
struct sh_iface {
	int		 kind;
	int		 kind_index;
	int		 peer;		/* epair: the other side; -1 */
	int		 n_workers;	/* mlx5 */
	int		 state;
	int		 parent;	/* vlan: its parent; -1 none */
	char		 name[24];	/* interp.c's name, the C name */
};

/* The shadow of one of interp.c's socket slots. */
struct sh_sock {
	bool		 live;
	bool		 used;		/* declare the variable */
	int		 af;		/* AF__V4 / AF__V6 */
};

/* Declarations and helpers the generated program needs. */
struct needs {
	bool	sa, a4, a6, b6, cp, mp, et, inp, m, rate, i, k;
	bool	in4, in6, sin4, sin6;
	bool	m_nic, m_rtable, m_epair, m_cxgbe;
	bool	limits, tx, ifrep;
};

/* The generator's state: one scenario, one run of the interpreter. */
struct cprog {
	const Scenario	*sc;
	struct interp_limits lim;
	struct sh_iface	 ifaces[INTERP_MAX_IFACES];
	int		 n_ifaces;
	int		 n_kind[IK_N];
	struct sh_sock	 socks[INTERP_MAX_SOCKETS];
	uint32_t	 packets;
	uint8_t		 op_thread[1024];
	/* The interpreter's trace. */
	char		**setup;	/* setup lines */
	size_t		 n_setup, setup_pos;
	char		**opline;	/* per op: "text -> result" */
	long		 crash_op;	/* op the run ended in; -1 */
	bool		 setup_crashed;	/* the run ended in setup */
	bool		 clean;		/* traced a clean ledger */
	/* Output. */
	FILE		*body;
	struct needs	 nd;
	const char	*path;
};

extern struct cprog cprog_gen;	/* cprog.c */

/* One operation being written (cprog_ops.c, cprog_sock.c). */
struct opctx {
	uint32_t	 i;
	const char	*tres;		/* traced result; NULL: none */
	char		 text[256];	/* the trace line's start */
	size_t		 tlen;
	const char	*skip;		/* the op does nothing: why */
	FILE		*code;		/* the op's calls */
	char		*codebuf;
	size_t		 codelen;
	bool		 core;		/* calls the core */
};

/* cprog.c: the interpreter's run and its trace. */
void	cprog_fatal(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
const char *cprog_result_of(const char *line);
bool	cprog_starts_with(const char *s, const char *p);

/* cprog_text.c: comments, and the text the program needs. */
void	cprog_out(FILE *fp, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	cprog_comment(FILE *fp, const char *indent, const char *text);
void	cprog_comment_text(FILE *fp, const char *text);
void	cprog_comment_body(FILE *fp, const char *text);
void	cprog_emit_helpers(FILE *fp);
void	cprog_emit_decls(FILE *fp);

/* cprog_setup.c: values and names as the program spells them; setup. */
void	cprog_fmt_in4(char *buf, size_t len, uint32_t d, int plen, bool source);
void	cprog_fmt_in6(char *buf, size_t len, uint32_t d, int plen, bool source);
const char *cprog_lagg_proto_sym(uint32_t proto);
const char *cprog_detach_fn(int kind);
void	cprog_emit_setup(FILE *b);

/* cprog_ops.c: one operation. */
void	cprog_tx(struct opctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	cprog_cx(struct opctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
bool	cprog_traced_skip(struct opctx *c, const char *why);
struct sh_iface *cprog_iface_any(uint32_t ref);
void	cprog_emit_op(FILE *b, uint32_t i, bool *any_fail_alloc);

/* cprog_sock.c: the socket and packet operations. */
void	cprog_op_open(struct opctx *c, const SockOpen *o);
void	cprog_op_close(struct opctx *c, const Close *o);
void	cprog_op_sock(struct opctx *c, const Op *op);
void	cprog_op_receive(struct opctx *c, const Receive *o);

#endif /* !_REPRO_CPROG_INT_H_ */
