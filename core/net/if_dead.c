/*
 * Model of sys/net/if_dead.c: the methods of a detached ifnet.  A caller
 * that still holds the ifnet (a tag, a route being torn down, an mbuf in
 * flight) reaches these instead of the driver, whose state may be gone.
 */
#include "net/if_var.h"

static int
ifdead_output(struct ifnet *ifp, struct mbuf *m, const struct sockaddr *sa,
    struct route *ro)
{
	m_freem(m);
	return (ENXIO);
}

static int
ifdead_transmit(struct ifnet *ifp, struct mbuf *m)
{
	m_freem(m);
	return (ENXIO);
}

static void
ifdead_input(struct ifnet *ifp, struct mbuf *m)
{
	m_freem(m);
}

static void
ifdead_qflush(struct ifnet *ifp)
{
}

static int
ifdead_ioctl(struct ifnet *ifp, u_long cmd, caddr_t data)
{
	return (ENXIO);
}

static int
ifdead_snd_tag_alloc(struct ifnet *ifp, union if_snd_tag_alloc_params *params,
    struct m_snd_tag **mstp)
{
	return (EOPNOTSUPP);
}

/*
 * Other threads may load a method while we replace it, so the stores are
 * atomic; each pointer is either the driver's or the dead one.
 */
#define	IFDEAD_SET(field, fn)						\
	__atomic_store_n(&ifp->field, (fn), __ATOMIC_RELAXED)

void
if_dead(struct ifnet *ifp)
{
	IFDEAD_SET(if_output, ifdead_output);
	IFDEAD_SET(if_transmit, ifdead_transmit);
	IFDEAD_SET(if_input, ifdead_input);
	IFDEAD_SET(if_qflush, ifdead_qflush);
	IFDEAD_SET(if_ioctl, ifdead_ioctl);
	IFDEAD_SET(if_snd_tag_alloc, ifdead_snd_tag_alloc);
}
