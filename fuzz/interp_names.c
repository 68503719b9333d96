/*
 * Harness: what a scenario's numbers name (see interp.h): addresses,
 * route prefixes, socket slots and the names the trace prints.  The
 * interpreter and sndtag-cprog both call these, so a reproducer's
 * addresses and slots are the run's by construction, not by a second
 * copy of the rules.  No core code here, only a core header's constant.
 */
#include "fuzz/interp.h"

#include <string.h>

#include "scenario.pb-c.h"

#include "net/if_lagg.h"

/*
 * Destination d is 198.18.d.1; the source of received packets is
 * 198.19.0.2.  Host byte order, as the model's in_addr keeps it; masked
 * to plen for a route's prefix.
 */
uint32_t
interp_addr4(uint32_t d, int plen, bool source)
{
	uint32_t a;

	if (source)
		a = (198u << 24) | (19u << 16) | 2;
	else
		a = (198u << 24) | (18u << 16) | ((d % INTERP_NDST) << 8) | 1;
	if (plen <= 0)
		return (0);
	if (plen < 32)
		a &= 0xffffffffu << (32 - plen);
	return (a);
}

/* Destination 2001:db8:0:d::1, source 2001:db8:ffff::2; masked to plen. */
void
interp_addr6(uint8_t a[16], uint32_t d, int plen, bool source)
{
	int i;

	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	if (source) {
		a[4] = a[5] = 0xff;
		a[15] = 2;
	} else {
		a[7] = (uint8_t)(d % INTERP_NDST);
		a[15] = 1;
	}
	for (i = 0; i < 16; i++) {
		if (plen >= (i + 1) * 8)
			continue;
		if (plen <= i * 8)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff << (8 - (plen - i * 8)));
	}
}

int
interp_plen(int af, int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return (af == AF__V6 ? 128 : 32);
	case PREFIX_KIND__PREFIX_DEFAULT:
		return (0);
	default:
		return (af == AF__V6 ? 64 : 24);
	}
}

const char *
interp_prefix_name(int prefix)
{
	switch (prefix) {
	case PREFIX_KIND__PREFIX_HOST:
		return ("host");
	case PREFIX_KIND__PREFIX_DEFAULT:
		return ("default");
	default:
		return ("net");
	}
}

const char *
interp_af_name(int af)
{
	return (af == AF__V6 ? "v6" : "v4");
}

const char *
interp_lagg_proto_name(uint32_t proto)
{
	static const char *const names[LAGG_PROTO_MAX] = { "none",
	    "roundrobin", "failover", "loadbalance", "lacp", "broadcast" };

	return (names[proto % LAGG_PROTO_MAX]);
}

const char *
interp_iface_kind_name(int kind)
{
	static const char *const names[IK_N] = {
		"nic", "lo", "epair", "vlan", "lagg", "cxgbe", "mlx5"
	};

	if (kind < 0 || kind >= IK_N)
		return ("?");
	return (names[kind]);
}

const char *
interp_malloc_kind_name(int k)
{
	static const char *const names[] = {
		"any", "mbuf", "cluster", "socket", "pcb", "ifnet", "vlan",
		"lagg", "nic", "cxgbe", "mlx5", "route", "devbuf", "temp",
		"epair"
	};

	if (k < 0 || (size_t)k >= sizeof(names) / sizeof(names[0]))
		return ("any");
	return (names[k]);
}

/*
 * A socket reference names slot ref % n or, if that one is not open, the
 * next open one after it (wrapping), so most references find a socket.
 */
int
interp_sock_resolve(uint32_t ref, uint32_t n,
    bool (*take)(void *arg, uint32_t slot), void *arg)
{
	uint32_t i, s;

	for (i = 0; i < n; i++) {
		s = (ref + i) % n;
		if (take(arg, s))
			return ((int)s);
	}
	return (-1);
}
