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
/* Complete up to n transmitted packets on every channel. */
int	mlx5e_tx_complete(struct ifnet *ifp, int n);
int	mlx5e_rl_channels_in_use(struct ifnet *ifp);

#endif /* !_DEV_MLX5_MLX5_EN_EN_H_ */
