/*
 * Model of the mlx5en(4) pieces (sys/dev/mlx5/mlx5_en/en.h, en_rl.h) that
 * rate-limit and unlimited send tags need, and the harness's entry points.
 */
#ifndef _DEV_MLX5_MLX5_EN_EN_H_
#define	_DEV_MLX5_MLX5_EN_EN_H_

#include "net/if_var.h"

struct mlx5e_params {
	int	n_workers;		/* rate-limit worker threads */
	int	channels_per_worker;	/* preallocated rate-limit channels */
	int	n_channels;		/* tx channels (unlimited tags) */
	int	sq_size;		/* tx queue depth per channel */
	bool	packet_pacing;		/* rate limiting enabled */
};

struct ifnet *mlx5e_attach(int unit, const struct mlx5e_params *p);
/*
 * Set "gone", detach the ifnet; the rest of the teardown (waiting for
 * every rate-limit channel and unlimited reference) completes as the
 * tags go away, driven by the worker actor.
 */
void	mlx5e_detach(struct ifnet *ifp);
/* Run the pending work of one rate-limit worker; returns items done. */
int	mlx5e_rl_worker_run(struct ifnet *ifp, int worker);
/* Complete up to n (<= 0: all) transmitted packets on every channel. */
int	mlx5e_tx_complete(struct ifnet *ifp, int n);
int	mlx5e_rl_channels_in_use(struct ifnet *ifp);
/* Packets queued on every send queue, not yet completed. */
int	mlx5e_tx_inflight(struct ifnet *ifp);
/* Work items queued on one rate-limit worker. */
int	mlx5e_rl_worker_pending(struct ifnet *ifp, int worker);

/*
 * Driver-private state (mlx5_en_main.c, mlx5_en_rl.c, mlx5_en_tx.c).
 *
 * Lock order: a worker's mtx and priv->lock are leaves; a send queue's
 * lock is never held while calling out (mbufs are freed after unlock).
 */
#include "shim/lock.h"

MALLOC_DECLARE(M_MLX5EN);

#define	MLX5E_MAX_WORKERS	16
#define	MLX5E_MAX_RL_PER_WORKER	256
#define	MLX5E_MAX_CHANNELS	64
#define	MLX5E_MAX_SQ_SIZE	4096

struct mlx5e_priv;

/* A send queue: a ring of mbufs freed by tx completions. */
struct mlx5e_sq {
	struct mtx	 lock;
	struct mbuf	**ring;
	int		 size;
	int		 head;
	int		 count;
	bool		 running;	/* accepts packets */
	uint64_t	 rate;		/* rate-limit queue: bytes/s */
	uint64_t	 completed;	/* packets completed, not yet counted */
};

/* A tx channel with its shared unlimited tag. */
struct mlx5e_channel {
	struct m_snd_tag tag;		/* initialised once, at setup */
	struct mlx5e_priv *priv;
	struct mlx5e_sq	 sq;
	int		 ix;
	bool		 tag_done;	/* its free method has run */
};

/* Rate-limit channel states. */
#define	MLX5E_RL_ST_FREE	0
#define	MLX5E_RL_ST_USED	1
#define	MLX5E_RL_ST_DESTROY	2

struct mlx5e_rl_worker;

/* A preallocated rate-limit channel with its embedded tag. */
struct mlx5e_rl_channel {
	/* Not valid while the channel is free: ifp is NULL then. */
	struct m_snd_tag tag;
	struct mlx5e_rl_worker *worker;
	struct mlx5e_rl_channel *next;	/* free list or process list */
	struct mlx5e_sq	 sq;		/* opened by the worker */
	uint64_t	 init_rate;	/* rate the queue runs at */
	uint64_t	 new_rate;	/* rate asked for */
	int		 state;
	bool		 queued;	/* on the worker's process list */
};

struct mlx5e_rl_worker {
	struct mtx	 mtx;
	struct mlx5e_priv *priv;
	struct mlx5e_rl_channel *channels;
	struct mlx5e_rl_channel *index_list;	/* free channels */
	struct mlx5e_rl_channel *process_head;
	struct mlx5e_rl_channel **process_tailp;
	int		 nprocess;
	int		 active;		/* channels not free */
	int		 ix;
};

/*
 * Kernel TLS (mlx5_en_hw_tls.c): a TLS tag with its nested rate-limit
 * (or unlimited) tag; freed tags are torn down by the driver's TLS work
 * queue, which the actor runs.
 */
#define	MLX5E_TLS_ST_INIT	0
#define	MLX5E_TLS_ST_SETUP	1
#define	MLX5E_TLS_ST_TXRDY	2
#define	MLX5E_TLS_ST_RELEASE	3
#define	MLX5E_TLS_MAX_RESOURCES	4	/* TIS contexts: small, so ENOMEM */

struct mlx5e_tls_tag {
	struct m_snd_tag tag;
	struct mlx5e_priv *priv;
	struct m_snd_tag *rl_tag;	/* nested: one reference, ours */
	int		 state;
	struct mlx5e_tls_tag *next;	/* release list */
};

struct mlx5e_tls {
	struct mtx	 mtx;		/* a leaf */
	u_int		 num_resources;	/* tags allocated, not torn down */
	u_int		 max_resources;
	struct mlx5e_tls_tag *release_head;
	int		 nrelease;
	bool		 init;
};

struct mlx5e_priv {
	struct ifnet	*ifp;
	char		 name[IFNAMSIZ];
	struct mlx5e_params params;
	struct mtx	 lock;		/* gone, detaching, tag_done */
	bool		 gone;
	bool		 detaching;	/* waiting for every tag to go */
	struct mlx5e_channel *channels;
	struct mlx5e_rl_worker *rl_workers;
	struct mlx5e_tls tls;
	/* harness bookkeeping (the actor's list) */
	struct mlx5e_priv *next;
	int		 pins;
	bool		 free_pending;
};

extern const struct if_snd_tag_sw mlx5e_rl_snd_tag_sw;
extern const struct if_snd_tag_sw mlx5e_ul_snd_tag_sw;

/* mlx5_en_rl.c */
int	mlx5e_rl_init(struct mlx5e_priv *priv);	/* allocation only */
void	mlx5e_rl_start(struct mlx5e_priv *priv);	/* locks, free lists */
void	mlx5e_rl_cleanup(struct mlx5e_priv *priv);
int	mlx5e_rl_snd_tag_alloc(struct ifnet *ifp,
	    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt);
int	mlx5e_rl_worker_process(struct mlx5e_rl_worker *rlw);
int	mlx5e_rl_pending(struct mlx5e_priv *priv);
int	mlx5e_rl_active(struct mlx5e_priv *priv);
int	mlx5e_rl_stuck(struct mlx5e_priv *priv);

/* mlx5_en_hw_tls.c */
void	mlx5e_tls_init(struct mlx5e_priv *priv);
void	mlx5e_tls_cleanup(struct mlx5e_priv *priv);
int	mlx5e_tls_snd_tag_alloc(struct ifnet *ifp,
	    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt);
/* A TLS tag's nested tag (the queue is the nested tag's); else mst. */
struct m_snd_tag *mlx5e_tls_queue_tag(struct m_snd_tag *mst);
int	mlx5e_tls_process(struct mlx5e_priv *priv);	/* the work queue */
int	mlx5e_tls_pending(struct mlx5e_priv *priv);
u_int	mlx5e_tls_active(struct mlx5e_priv *priv);

/* mlx5_en_main.c */
int	mlx5e_ul_snd_tag_alloc(struct ifnet *ifp,
	    union if_snd_tag_alloc_params *params, struct m_snd_tag **ppmt);

/* mlx5_en_tx.c */
int	mlx5e_xmit(struct ifnet *ifp, struct mbuf *m);
int	mlx5e_sq_complete(struct mlx5e_sq *sq, int n);
int	mlx5e_sq_count(struct mlx5e_sq *sq);
int	mlx5e_sq_alloc(struct mlx5e_sq *sq, int size);	/* ring only */
void	mlx5e_sq_init(struct mlx5e_sq *sq, const char *name, bool running);
void	mlx5e_sq_destroy(struct mlx5e_sq *sq);
int	mlx5e_complete_all(struct mlx5e_priv *priv, int n);
int	mlx5e_inflight(struct mlx5e_priv *priv);

#endif /* !_DEV_MLX5_MLX5_EN_EN_H_ */
