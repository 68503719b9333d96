/*
 * Model of sys/netinet/in_kdtrace.c: the ip provider's probes
 * (in_kdtrace.h).  Unobserved until someone attaches.
 */
#include <stddef.h>

#include "netinet/in_kdtrace.h"

ip_probe_send_t *ip_probe_send;
