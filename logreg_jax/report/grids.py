"""A model's probabilities tabulated over a grid of two raw features: what a probability map draws.

NumPy only (no matplotlib, no JAX): a run tabulates its model here, in its own process, and the
figure is drawn from the table (by :mod:`logreg_jax.report.fit_figures` or
:mod:`logreg_jax.report.class_figures`), in this process or in the painter
(:mod:`logreg_jax.runs.painter`), which loads no JAX.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class ProbabilityGrid(NamedTuple):
    """A model's probabilities over a grid of two raw features, with how the plot section draws them.

    Attributes:
        x1: (p,) grid values of feature 1; x2: (q,) grid values of feature 2.
        probs: (q, p) P(y = 1) at (x1[j], x2[i]), or (q, p, K) class probabilities.
        levels: filled-contour levels between 0 and 1 (``plot.levels``); cmap: the colormap name.
    """

    x1: np.ndarray
    x2: np.ndarray
    probs: np.ndarray
    levels: int = 20
    cmap: str = "RdYlBu"


def grid_axes(X_raw: np.ndarray, plot_cfg) -> tuple[np.ndarray, np.ndarray]:
    """The two 1-D grid axes: the configured ranges and step, else the data range plus 5 %."""
    axes = []
    for lo, hi in plot_cfg.grid_ranges(X_raw):
        if plot_cfg.step is None:
            axes.append(np.linspace(lo, hi, 300))
        else:
            axes.append(np.arange(lo, hi + plot_cfg.step / 2, plot_cfg.step))
    return axes[0], axes[1]


def probability_grid(prob_fn: Callable[[np.ndarray], np.ndarray], X_raw, plot_cfg) -> ProbabilityGrid:
    """``prob_fn`` tabulated over the plot section's grid around (m, 2) raw features ``X_raw``.

    Args:
        prob_fn: (k, 2) raw feature rows → (k,) P(y = 1), or (k, K) class probabilities.
        X_raw: (m, 2) raw training features (the grid's range when the config sets none).
        plot_cfg: a ``PlotConfig`` (grid ranges, step, levels, colormap).
    """
    x1, x2 = grid_axes(np.asarray(X_raw), plot_cfg)
    g1, g2 = np.meshgrid(x1, x2)
    probs = np.asarray(prob_fn(np.column_stack([g1.ravel(), g2.ravel()])), np.float64)
    return ProbabilityGrid(x1, x2, probs.reshape(*g1.shape, *probs.shape[1:]), plot_cfg.levels, plot_cfg.cmap)
