"""What a config asks beyond training, checked once before any training starts.

The scripts (through :func:`logreg_jax.route.fit_config`) call :func:`check` on the loaded data;
:func:`logreg_jax.fit.fit` itself trains without it, so a study's hundred fits check nothing twice.
Each function raises :class:`~logreg_jax.errors.ConfigError` naming the key and value, so a run that
could only fail late fails in its first second instead. (Checks of the data themselves, such as
held-out rows that are training rows, belong to the data: :mod:`logreg_jax.data.splits`.)
"""

from __future__ import annotations

import functools
import os
import resource
from pathlib import Path

import numpy as np

from logreg_jax.config import Config
from logreg_jax.data.features import n_inputs
from logreg_jax.errors import ConfigError
from logreg_jax.models.base import Model

# Of the memory this process may use, the most one estimated allocation may ask for: JAX, the
# data and the compiled programs need the rest.
MEMORY_SHARE = 0.5
BOOTSTRAP_BYTES = 8  # the bootstrap refits in float64 whatever the run's dtype


def available_memory() -> int:
    """Bytes this process may allocate: the least of physical memory, the address-space limit
    (``ulimit -v``) and the cgroup's ``memory.max`` (a container's limit)."""
    limits = [os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    return min(limits)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


def check_memory(key: str, value, need: float, limit: int | None = None) -> None:
    """Raises ConfigError if ``need`` bytes (what ``key = value`` asks for) exceed the share
    :data:`MEMORY_SHARE` of ``limit`` (default :func:`available_memory`)."""
    limit = available_memory() if limit is None else limit
    if need > MEMORY_SHARE * limit:
        raise ConfigError(
            f"{key} = {value!r}: needs about {_gib(need)} of memory, but this process may use "
            f"{_gib(limit)}; make it smaller"
        )


def bootstrap_bytes(cfg: Config, m: int, n: int) -> float:
    """Memory of the vmapped bootstrap (:mod:`logreg_jax.report.bootstrap`): per resample its (m,)
    row counts, the (m, n) weighted inputs of a Newton step and its (n, n) Hessian, in float64."""
    return cfg.inference.bootstrap * (m + m * n + n * n) * BOOTSTRAP_BYTES


def check_plot_grid(cfg: Config, X_raw: np.ndarray) -> None:
    """``plot.step`` must give a grid that fits the data's two features."""
    problem = cfg.plot.grid_problem(X_raw) if X_raw.shape[1] == 2 else None
    if problem is not None:
        raise ConfigError(f"plot.step = {cfg.plot.step:g}: expected {problem}")


def check_points(cfg: Config, d: int, name: str) -> None:
    """``predict.points`` must have one value per raw feature of the data."""
    for point in cfg.predict.points:
        if len(point) != d:
            raise ConfigError(f"predict.points: {list(point)} has {len(point)} values, but {name} has {d} features")


def check(cfg: Config, model: Model, m: int, d: int, k: int, name: str, X_raw: np.ndarray | None = None) -> None:
    """Every check of this module, for m rows of d raw features in k classes (X_raw: the rows, in memory).

    Raises:
        ConfigError: naming the key and what was expected.
    """
    check_points(cfg, d, name)
    if X_raw is not None:
        check_plot_grid(cfg, X_raw)
    n = n_inputs(d, cfg.features.polynomial_degree, model.bias_column)
    if model.memory_bytes is not None:
        need, key = model.memory_bytes(cfg, m, n, k)
        value = functools.reduce(getattr, key.split("."), cfg)
        check_memory(key, list(value) if isinstance(value, tuple) else value, need)
    if cfg.inference.enabled and cfg.inference.bootstrap > 0 and model.inference:
        check_memory("inference.bootstrap", cfg.inference.bootstrap, bootstrap_bytes(cfg, m, n))
