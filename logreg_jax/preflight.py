"""What a config asks beyond training, checked once before any training starts.

The scripts (through :func:`logreg_jax.route.fit_config`) call :func:`check` on the loaded data;
:func:`logreg_jax.fit.fit` itself trains without them, so a study's hundred fits check nothing twice.
"""

from __future__ import annotations

import numpy as np

from logreg_jax.config import Config
from logreg_jax.errors import ConfigError


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


def check(cfg: Config, d: int, name: str, X_raw: np.ndarray | None = None) -> None:
    """Every check of this module, for data of d raw features (X_raw: the rows, when in memory).

    Raises:
        ConfigError: naming the key and what was expected.
    """
    check_points(cfg, d, name)
    if X_raw is not None:
        check_plot_grid(cfg, X_raw)
