"""Running one training over several processes (hosts) with JAX's own distributed runtime.

Every process runs the same script with the same config, differing only in
``distributed.process_id``. :func:`initialize` connects them (``jax.distributed.initialize``,
CPU collectives through gloo); from then on ``jax.devices()`` lists the devices of every process,
the data mesh spans them all, each process fills only its own devices' rows, and XLA all-reduces
the loss and gradient across processes exactly as it does across the devices of one.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils


def initialize(cfg) -> None:
    """Joins the processes of a ``DistributedConfig`` (a no-op for one process, or if joined).

    Must run before any JAX computation in the process.
    """
    if cfg.num_processes == 1 or jax.distributed.is_initialized():
        return
    # gloo is the default CPU collectives backend; set it explicitly so cross-process
    # all-reduces on CPU devices work with any jax default (GPUs use NCCL regardless).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=cfg.coordinator, num_processes=cfg.num_processes,
                               process_id=cfg.process_id)


def gather(values: np.ndarray) -> np.ndarray:
    """Every process's ``values`` stacked, (processes, ...), on every process."""
    return np.asarray(multihost_utils.process_allgather(np.asarray(values)))


def to_host(tree):
    """A pytree of (replicated) arrays as NumPy, valid on every process."""
    def one(a):
        if isinstance(a, jax.Array) and not a.is_fully_addressable:
            return np.asarray(a.addressable_data(0))
        return np.asarray(a)

    return jax.tree_util.tree_map(one, tree)
