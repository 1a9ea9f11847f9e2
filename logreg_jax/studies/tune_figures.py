"""The figures of the λ-tuning study: the grid with the descent path, unrolled vs implicit, strengths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

_HALF_WIDTH = 0.35  # of each tangent segment, in ln λ


def path_figure(grid_l2, grid_loss, path, title: str = "") -> Figure:
    """V against λ on the grid, the descent's visited points (numbered) and the tangent of slope
    dV/d ln λ at each. With one λ per weight the points sit at the geometric mean of the strengths
    and the tangents are left out (they are slopes along 30 axes); a second panel gives V per step.
    """
    per_feature = np.ndim(path["l2"][0]) > 0
    fig = Figure(figsize=(11 if per_feature else 7.5, 4.8), layout="constrained")
    axes = fig.subplots(1, 2 if per_feature else 1, squeeze=False).ravel()
    ax = axes[0]
    ax.plot(grid_l2, grid_loss, color="0.3", lw=1, zorder=2, label=f"grid ({len(grid_l2)} values, one vmapped call)")
    best = int(np.argmin(grid_loss))
    ax.plot(grid_l2[best], grid_loss[best], "v", color="0.3", ms=8, label=f"grid minimum λ = {grid_l2[best]:.4g}")
    x = np.exp(np.mean(np.log(np.asarray(path["l2"], float)), axis=-1)) if per_feature else np.asarray(path["l2"])
    v = np.asarray(path["loss"])
    ax.plot(
        x, v, "o-", color="C1", ms=4, lw=0.8, label="descent on ln λ" + (" (geometric mean λ)" if per_feature else "")
    )
    if not per_feature:
        for xi, vi, gi in zip(x, v, path["grad"]):
            du = np.array([-_HALF_WIDTH, _HALF_WIDTH])
            ax.plot(xi * np.exp(du), vi + gi * du, color="C3", lw=2.5, alpha=0.55, zorder=1)
        ax.plot([], [], color="C3", lw=2.5, alpha=0.55, label="tangent, slope dV/d ln λ (from jax.grad)")
    ax.annotate("start", (x[0], v[0]), textcoords="offset points", xytext=(6, 6), fontsize="small")
    ax.set_xscale("log")
    ax.set_xlim(grid_l2[0], grid_l2[-1])
    span = grid_loss.max() - min(grid_loss.min(), v.min())
    ax.set_ylim(min(grid_loss.min(), v.min()) - 0.05 * span, max(v.max(), grid_loss.min() + 0.4 * span))
    ax.set(xlabel="λ (L2 strength)", ylabel="validation cross-entropy V", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if per_feature:
        ax = axes[1]
        ax.plot(np.arange(len(v)), v, "o-", color="C1", ms=4, label="descent (one λ per weight)")
        ax.axhline(grid_loss[best], color="0.3", ls="--", label="grid minimum (one shared λ)")
        ax.set(xlabel="outer step", ylabel="validation cross-entropy V", title="V per outer step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def unrolled_figure(steps: Sequence[int], errors: Sequence[float], lr: float, title: str = "") -> Figure:
    """Relative error of the unrolled hypergradient against the implicit one, against N."""
    fig = Figure(figsize=(6.5, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ax.loglog(steps, errors, "o-", color="C2")
    ax.set(
        xlabel=f"N, gradient-descent steps unrolled (optax.sgd, learning rate {lr:g})",
        ylabel="‖g_N − g‖ / ‖g‖",
        title=title,
    )
    ax.grid(True, which="both", alpha=0.3)
    return fig


def strengths_figure(l2: Sequence[float], names: Sequence[str], grid_best: float, title: str = "") -> Figure:
    """The final λ of each weight (log scale), with the grid's best shared λ for reference."""
    l2 = np.asarray(l2)
    fig = Figure(figsize=(9, 0.22 * l2.size + 1.6), layout="constrained")
    ax = fig.add_subplot()
    order = np.arange(l2.size)[::-1]
    ax.barh(np.arange(l2.size), l2[order], color="C1")
    # One name per input for a binary model; a K-class model has K weights per input.
    labels = [names[i] if len(names) == l2.size else f"weight {i}" for i in order]
    ax.set_yticks(np.arange(l2.size), labels, fontsize="small")
    ax.set_xscale("log")
    ax.axvline(grid_best, color="0.3", ls="--", label=f"grid's best shared λ = {grid_best:.4g}")
    ax.set(xlabel="λ_j (per-weight L2 strength, log scale)", title=title)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return fig
