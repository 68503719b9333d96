/*
 * The behaviour checker's parts (interp_expect.c calls them around each
 * op): the wire expectations (interp_expect_wire.c) and the socket
 * results (interp_expect_sock.c).
 */
#ifndef _FUZZ_INTERP_EXPECT_INT_H_
#define	_FUZZ_INTERP_EXPECT_INT_H_

struct expect_view;
struct ifnet;

/* The driver (IK_*, interp.h) of a live interface of the view; IK_N if none. */
int	expect_ifp_kind(const struct expect_view *v, const struct ifnet *ifp);

void	expect_wire_reset(void);
void	expect_wire_begin(const struct expect_view *v);
void	expect_wire_end(const struct expect_view *v);
/* Locally originated packets the ip:::send probe saw in this op. */
int	expect_wire_local(void);

void	expect_sock_begin(const struct expect_view *v);
void	expect_sock_end(const struct expect_view *v);

#endif /* !_FUZZ_INTERP_EXPECT_INT_H_ */
