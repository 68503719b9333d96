/*
 * Model of the cxgbe(4) pieces in sys/dev/cxgbe/adapter.h that the
 * ethofld (rate-limited offload transmit) path needs, and the harness's
 * entry points for attaching a port and firing firmware events.
 */
#ifndef _DEV_CXGBE_ADAPTER_H_
#define	_DEV_CXGBE_ADAPTER_H_

#include "net/if_var.h"

struct cxgbe_params {
	int	n_etids;	/* hardware flow ids (finite table) */
	int	n_classes;	/* scheduling classes */
	int	tx_credits;	/* credits per flow (16-byte units) */
	int	max_backlog;	/* pending_tx packets before ENOBUFS */
};

/* Parameter bounds: cxgbe_attach rejects anything outside them. */
#define	CXGBE_ETIDS_DEFAULT	16
#define	CXGBE_ETIDS_MAX		1024
#define	CXGBE_CLASSES_DEFAULT	4
#define	CXGBE_CLASSES_MAX	64
#define	CXGBE_CREDITS_MIN	72	/* two of the largest WRs (offload.h) */
#define	CXGBE_CREDITS_DEFAULT	128
#define	CXGBE_CREDITS_MAX	4096
#define	CXGBE_BACKLOG_DEFAULT	32
#define	CXGBE_BACKLOG_MAX	4096

struct ifnet *cxgbe_attach(int unit, const struct cxgbe_params *p);
void	cxgbe_detach(struct ifnet *ifp);
/*
 * The firmware returns 'credits' for the flow with the given etid: the
 * fw4_ack CPL, delivered to ethofld_fw4_ack().  ENOENT: no such flow or
 * nothing owed.  credits <= 0 means "everything the firmware owes".
 */
int	cxgbe_fw4_ack(struct ifnet *ifp, int etid, int credits);
/* Every acknowledgement the firmware owes, on every flow (quiesce). */
int	cxgbe_fw_progress(struct ifnet *ifp);
int	cxgbe_etids_in_use(struct ifnet *ifp);
/* The etid of the i-th flow in use (ascending), or -1. */
int	cxgbe_etid_nth(struct ifnet *ifp, int i);
/* Complete up to n (<= 0: all) packets of the plain (untagged) tx ring. */
int	cxgbe_txeof(struct ifnet *ifp, int n);
int	cxgbe_txq_count(struct ifnet *ifp);

#endif /* !_DEV_CXGBE_ADAPTER_H_ */
