"""Running one training over several processes (hosts) with JAX's own distributed runtime.

Every process runs the same script with the same config, differing only in
``distributed.process_id``. :func:`initialize` connects them (``jax.distributed.initialize``,
CPU collectives through gloo); from then on ``jax.devices()`` lists the devices of every process,
the data mesh spans them all, each process fills only its own devices' rows, and XLA all-reduces
the loss and gradient across processes exactly as it does across the devices of one.
"""

from __future__ import annotations

import socket
import time

import jax
import numpy as np
from jax.experimental import multihost_utils

from logreg_jax.errors import LogregError


def initialize(cfg) -> None:
    """Joins the processes of a ``DistributedConfig`` (a no-op for one process, or if joined).

    Must run before any JAX computation in the process.

    Raises:
        LogregError: (processes other than 0) nothing listens at the coordinator address within
            ``cfg.timeout_s`` seconds.
    """
    if cfg.num_processes == 1 or jax.distributed.is_initialized():
        return
    # gloo is the default CPU collectives backend; set it explicitly so cross-process
    # all-reduces on CPU devices work with any jax default (GPUs use NCCL regardless).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if cfg.process_id != 0:
        wait_for_coordinator(cfg.coordinator, cfg.timeout_s)
    # Past this point a process that never joins makes JAX's runtime abort this one after the
    # timeout (with its own log): it cannot be caught, so the reachable coordinator is checked first.
    jax.distributed.initialize(
        coordinator_address=cfg.coordinator,
        num_processes=cfg.num_processes,
        process_id=cfg.process_id,
        initialization_timeout=cfg.timeout_s,
    )


def wait_for_coordinator(address: str, timeout_s: float) -> None:
    """Waits until something listens at ``address`` ("host:port"), polling; Ctrl-C stays live.

    Raises:
        LogregError: nothing listened there within ``timeout_s`` seconds.
    """
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except (OSError, ValueError) as err:
            if isinstance(err, ValueError) or time.monotonic() >= deadline:
                raise LogregError(
                    f"distributed.coordinator = {address!r}: no process 0 answered there within "
                    f"distributed.timeout_s = {timeout_s} s; start process 0 first, or check the "
                    "address"
                ) from None
        time.sleep(0.5)


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
