/*
 * sndtag-cprog: the program's text that is not a call of the scenario:
 * comments (the trace lines), the small helper functions the calls use
 * (address and sockaddr builders, the accounting reports) and main()'s
 * declarations, each written only if the body needs it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "repro/cprog_int.h"

/* ---- output helpers ------------------------------------------------- */

void
cprog_out(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
}

/* A comment line. */
void
cprog_comment(FILE *fp, const char *indent, const char *text)
{
	fprintf(fp, "%s/* ", indent);
	cprog_comment_text(fp, text);
	fprintf(fp, " */\n");
}

/* Text inside a block comment, with any star-slash broken up. */
void
cprog_comment_text(FILE *fp, const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		fputc(*p, fp);
		if (p[0] == '*' && p[1] == '/')
			fputc(' ', fp);
	}
}

/* " *\t<text>" as a line of the header comment. */
void
cprog_comment_body(FILE *fp, const char *text)
{
	fprintf(fp, " *\t");
	cprog_comment_text(fp, text);
	fputc('\n', fp);
}

/* ---- the program ---------------------------------------------------- */

/* The helper functions the body calls (cprog_gen.nd says which). */
void
cprog_emit_helpers(FILE *fp)
{
	if (cprog_gen.nd.tx)
		cprog_out(fp,
"\n"
"/* The connection's transmit accounting (struct inp_txstat). */\n"
"static void\n"
"tx_report(int s, struct socket *so)\n"
"{\n"
"\tconst struct inp_txstat *st;\n"
"\tstruct inpcb *inp = so->so_pcb;\n"
"\n"
"\tif (inp == NULL)\n"
"\t\treturn;\n"
"\tst = &inp->inp_txstat;\n"
"\tprintf(\"tx sock=%%d tagged=%%ju untagged=%%ju drop_mismatch=%%ju \"\n"
"\t    \"drop_other=%%ju rl_fail=%%ju rl_rate=%%ju\\n\", s,\n"
"\t    (uintmax_t)st->its_tagged, (uintmax_t)st->its_untagged,\n"
"\t    (uintmax_t)st->its_drop_mismatch, (uintmax_t)st->its_drop_other,\n"
"\t    (uintmax_t)st->its_rl_fail, (uintmax_t)st->its_rl_rate);\n"
"}\n");
	if (cprog_gen.nd.ifrep)
		cprog_out(fp,
"\n"
"/* One interface's accounting, as the interpreter traces it. */\n"
"static void\n"
"if_report(struct ifnet *ifp, void *arg)\n"
"{\n"
"\tconst struct if_txstat *st = &ifp->if_txstat;\n"
"\n"
"\t(void)arg;\n"
"\tprintf(\"if %%s tagged=%%ju untagged=%%ju drop_mismatch=%%ju \"\n"
"\t    \"drop_nobufs=%%ju drop_other=%%ju opackets=%%ju oerrors=%%ju \"\n"
"\t    \"ipackets=%%ju ierrors=%%ju\\n\", ifp->if_xname,\n"
"\t    (uintmax_t)st->ifts_tagged, (uintmax_t)st->ifts_untagged,\n"
"\t    (uintmax_t)st->ifts_drop_mismatch,\n"
"\t    (uintmax_t)st->ifts_drop_nobufs, (uintmax_t)st->ifts_drop_other,\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_opackets),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_oerrors),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_ipackets),\n"
"\t    (uintmax_t)counter_u64_fetch(ifp->if_ierrors));\n"
"}\n");
	if (cprog_gen.nd.in4)
		cprog_out(fp,
"\n"
"/* An IPv4 address; the model keeps addresses in host byte order. */\n"
"static struct in_addr\n"
"in4(int a, int b, int c, int d)\n"
"{\n"
"\tstruct in_addr in;\n"
"\n"
"\tin.s_addr = (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |\n"
"\t    (uint32_t)d;\n"
"\treturn (in);\n"
"}\n");
	if (cprog_gen.nd.in6)
		cprog_out(fp,
"\n"
"/* An IPv6 address from its eight 16-bit words. */\n"
"static struct in6_addr\n"
"in6(int w0, int w1, int w2, int w3, int w4, int w5, int w6, int w7)\n"
"{\n"
"\tconst int w[8] = { w0, w1, w2, w3, w4, w5, w6, w7 };\n"
"\tstruct in6_addr in;\n"
"\tint i;\n"
"\n"
"\tfor (i = 0; i < 8; i++) {\n"
"\t\tin.s6_addr[2 * i] = (uint8_t)(w[i] >> 8);\n"
"\t\tin.s6_addr[2 * i + 1] = (uint8_t)w[i];\n"
"\t}\n"
"\treturn (in);\n"
"}\n");
	if (cprog_gen.nd.sin4)
		cprog_out(fp,
"\n"
"/* A sockaddr_in in the model's struct sockaddr (room for either family). */\n"
"static const struct sockaddr *\n"
"sin4(struct sockaddr *sa, struct in_addr addr, int port)\n"
"{\n"
"\tstruct sockaddr_in sin;\n"
"\n"
"\tmemset(sa, 0, sizeof(*sa));\n"
"\tmemset(&sin, 0, sizeof(sin));\n"
"\tsin.sin_len = sizeof(sin);\n"
"\tsin.sin_family = AF_INET;\n"
"\tsin.sin_port = (uint16_t)port;\n"
"\tsin.sin_addr = addr;\n"
"\tmemcpy(sa, &sin, sizeof(sin));\n"
"\treturn (sa);\n"
"}\n");
	if (cprog_gen.nd.sin6)
		cprog_out(fp,
"\n"
"/* A sockaddr_in6 in the model's struct sockaddr. */\n"
"static const struct sockaddr *\n"
"sin6(struct sockaddr *sa, struct in6_addr addr, int port)\n"
"{\n"
"\tstruct sockaddr_in6 sin6;\n"
"\n"
"\tmemset(sa, 0, sizeof(*sa));\n"
"\tmemset(&sin6, 0, sizeof(sin6));\n"
"\tsin6.sin6_len = sizeof(sin6);\n"
"\tsin6.sin6_family = AF_INET6;\n"
"\tsin6.sin6_port = (uint16_t)port;\n"
"\tsin6.sin6_addr = addr;\n"
"\tmemcpy(sa, &sin6, sizeof(sin6));\n"
"\treturn (sa);\n"
"}\n");
}

/* main()'s locals: interfaces, the sockets used, the scratch the body needs. */
void
cprog_emit_decls(FILE *fp)
{
	int i, col = 0, n = 0;

	for (i = 0; i < cprog_gen.n_ifaces; i++) {
		if (n == 0) {
			cprog_out(fp, "\tstruct ifnet *%s = NULL",
			    cprog_gen.ifaces[i].name);
			col = 22 + (int)strlen(cprog_gen.ifaces[i].name) + 7;
		} else if (col + (int)strlen(cprog_gen.ifaces[i].name) +
		    10 > 72) {
			cprog_out(fp, ";\n\tstruct ifnet *%s = NULL",
			    cprog_gen.ifaces[i].name);
			col = 22 + (int)strlen(cprog_gen.ifaces[i].name) + 7;
		} else {
			cprog_out(fp, ", *%s = NULL", cprog_gen.ifaces[i].name);
			col += (int)strlen(cprog_gen.ifaces[i].name) + 10;
		}
		n++;
	}
	if (n > 0)
		cprog_out(fp, ";\n");
	n = 0;
	for (i = 0; i < INTERP_MAX_SOCKETS; i++) {
		if (!cprog_gen.socks[i].used)
			continue;
		cprog_out(fp, n == 0 ? "\tstruct socket *so%d = NULL" :
		    (n % 4 == 0 ? ";\n\tstruct socket *so%d = NULL" :
		    ", *so%d = NULL"), i);
		n++;
	}
	if (n > 0)
		cprog_out(fp, ";\n");
	if (cprog_gen.nd.limits)
		cprog_out(fp, "\tstruct world_limits wl;\n");
	if (cprog_gen.nd.cp)
		cprog_out(fp, "\tstruct cxgbe_params cp;\n");
	if (cprog_gen.nd.mp)
		cprog_out(fp, "\tstruct mlx5e_params mp;\n");
	if (cprog_gen.nd.et)
		cprog_out(fp, "\tstruct epoch_tracker et;\n");
	if (cprog_gen.nd.sa)
		cprog_out(fp, "\tstruct sockaddr sa;\n");
	if (cprog_gen.nd.a4)
		cprog_out(fp, "\tstruct in_addr a4;\n");
	if (cprog_gen.nd.a6 || cprog_gen.nd.b6)
		cprog_out(fp, "\tstruct in6_addr %s;\n",
		    cprog_gen.nd.a6 && cprog_gen.nd.b6 ? "a6, b6" :
		    cprog_gen.nd.a6 ? "a6" : "b6");
	if (cprog_gen.nd.inp)
		cprog_out(fp, "\tstruct inpcb *inp;\n");
	if (cprog_gen.nd.m)
		cprog_out(fp, "\tstruct mbuf *m;\n");
	if (cprog_gen.nd.rate)
		cprog_out(fp, "\tuint32_t rate, level;\n");
	if (cprog_gen.nd.i || cprog_gen.nd.k)
		cprog_out(fp, "\tint %s%s%s;\n", cprog_gen.nd.i ? "i" : "",
		    cprog_gen.nd.i && cprog_gen.nd.k ? ", " : "",
		    cprog_gen.nd.k ? "k, etid" : "");
}
