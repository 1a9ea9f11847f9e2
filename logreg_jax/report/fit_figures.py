"""Figures of a trained model: the probability map over two raw features, and training curves.

Functions return :class:`matplotlib.figure.Figure` objects built without pyplot (no global
state, no display needed); callers save them. Figures whose labels have a known extent (numbers,
fixed axis titles) get fixed margins (:func:`fixed_margins`) instead of a layout engine:
constrained layout measures every text on the figure before drawing it, which was the largest
share of a short run's figure time (benchmarks/RESULTS.md, "Profile of the demo run").
"""

from __future__ import annotations

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from logreg_jax.report.grids import ProbabilityGrid

# The tutorial's colours: positives in blue, negatives in red.
POSITIVE_COLOR = (28 / 255, 159 / 255, 251 / 255)
NEGATIVE_COLOR = (252 / 255, 81 / 255, 80 / 255)


CHAR_WIDTH = 0.085  # inches per character of a 10-point DejaVu Sans label, on average: margins for names


def fixed_margins(fig: Figure, left=0.8, right=0.15, bottom=0.55, top=0.4, wspace=0.25) -> Figure:
    """Places the figure's subplots with margins given in inches (room for tick labels, axis
    labels and a title), so that saving it needs no layout pass: one draw per figure.

    Args:
        fig: a figure without a layout engine.
        left, right, bottom, top: margins in inches.
        wspace: the gap between subplots side by side, as a fraction of their mean width.

    Returns:
        ``fig``.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height, wspace=wspace
    )
    return fig


def fixed_title(ax, title: str, **kwargs) -> None:
    """``ax.set_title`` at a fixed height, just above the axes. Matplotlib's automatic height
    measures every tick label of the axes (to clear labels on top, which these figures do not
    have) and was the largest share of drawing the run-folder figures."""
    ax.set_title(title, y=1.0, **kwargs)


def draw_probability_map(
    ax, grid: ProbabilityGrid, X_raw, y, feature_names=("x1", "x2"), class_names=("y = 0", "y = 1")
):
    """Draws P(y = 1) as filled contours over the grid, the P = 0.5 line, and the data.

    Args:
        ax: a matplotlib Axes.
        grid: the model's P(y = 1) tabulated over the grid (:func:`~logreg_jax.report.grids.probability_grid`).
        X_raw: (m, 2) raw training features.
        y: (m,) labels in {0, 1}.

    Returns:
        The filled-contour set (for a colorbar).
    """
    g1, g2 = np.meshgrid(grid.x1, grid.x2)
    probs = grid.probs
    filled = ax.contourf(g1, g2, probs, levels=np.linspace(0, 1, grid.levels + 1), cmap=grid.cmap, vmin=0, vmax=1)
    if probs.min() < 0.5 < probs.max():
        ax.contour(g1, g2, probs, levels=[0.5], colors="k", linewidths=1.5)
    X_raw, y = np.asarray(X_raw), np.asarray(y)
    for label, color, marker in ((0, NEGATIVE_COLOR, "o"), (1, POSITIVE_COLOR, "^")):
        pts = X_raw[y == label]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            color=color,
            marker=marker,
            edgecolors="k",
            linewidths=0.6,
            s=36,
            label=class_names[label],
            zorder=3,
        )
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_xlim(grid.x1[0], grid.x1[-1])
    ax.set_ylim(grid.x2[0], grid.x2[-1])
    return filled


def boundary_legend(ax, loc: str = "upper right", **kwargs) -> None:
    """The legend of a probability map: its classes and a black line entry for the P = 0.5 contour
    (a contour line has no legend handle of its own). ``kwargs`` go to ``ax.legend``."""
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="k", lw=1.5, label="P = 0.5"))
    ax.legend(handles=handles, loc=loc, framealpha=0.9, **kwargs)


def decision_boundary_figure(
    grid: ProbabilityGrid, X_raw, y, title: str = "", feature_names=("x1", "x2"), class_names=("y = 0", "y = 1")
) -> Figure:
    """One probability map (:func:`draw_probability_map`) with a colorbar, a legend naming the
    P = 0.5 line, and a title."""
    fig = fixed_margins(Figure(figsize=(7, 5.6)), left=0.7, right=0.45, bottom=0.5, top=0.3)
    ax = fig.add_subplot()
    filled = draw_probability_map(ax, grid, X_raw, y, feature_names, class_names)
    fig.colorbar(filled, ax=ax, label="P(y = 1)", ticks=np.linspace(0, 1, 6), fraction=0.1, pad=0.04)
    boundary_legend(ax)
    fixed_title(ax, title)
    return fig


def training_figure(loss: np.ndarray, grad_norm: np.ndarray, title: str = "") -> Figure:
    """Loss and gradient norm against epoch, side by side (gradient norm on a log scale)."""
    fig = fixed_margins(Figure(figsize=(10, 4)), left=0.7, right=0.1, bottom=0.5, top=0.55, wspace=0.26)
    ax_loss, ax_grad = fig.subplots(1, 2)
    epochs = np.arange(1, loss.size + 1)
    ax_loss.plot(epochs, loss, color="C0")
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
    ax_grad.semilogy(epochs, grad_norm, color="C1")
    # Plain-text tick labels (1e−02): the default 10^k labels are mathtext, whose parser alone
    # costs a short run more than drawing the figure.
    ax_grad.yaxis.set_major_formatter(ticker.LogFormatter())
    ax_grad.yaxis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax_grad.set(xlabel="epoch", ylabel="‖∇C‖")
    for ax, name in ((ax_loss, "loss"), (ax_grad, "gradient norm")):
        ax.grid(True, alpha=0.3)
        fixed_title(ax, name)
    fig.suptitle(title)
    return fig


def panels_figure(
    panels, X_raw, y, title: str = "", feature_names=("x1", "x2"), class_names=("y = 0", "y = 1")
) -> Figure:
    """Probability maps side by side, on the same data, with one shared colorbar.

    Args:
        panels: ``(grid, title)`` per panel, each grid a :class:`~logreg_jax.report.grids.ProbabilityGrid`.
        X_raw: (m, 2) raw features; y: (m,) labels in {0, 1}.
        title: the figure's title.
    """
    fig = Figure(figsize=(4.8 * len(panels) + 1.0, 5.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True, sharey=True))
    for ax, (grid, panel_title) in zip(axes, panels):
        filled = draw_probability_map(ax, grid, X_raw, y, feature_names, class_names)
        ax.set_title(panel_title, fontsize=10)
    for ax in axes[1:]:
        ax.set_ylabel("")
    boundary_legend(axes[0], fontsize=8)
    fig.colorbar(filled, ax=list(axes), label="P(y = 1)", ticks=np.linspace(0, 1, 6))
    fig.suptitle(title)
    return fig


def coefficients_figure(
    block: dict, names, title: str = "", xlabel: str = "coefficient (log-odds per standard deviation of the feature)"
) -> Figure:
    """A forest plot: each coefficient with its confidence interval (and the bootstrap's, if any).

    Args:
        block: per-coefficient lists ``coef``, ``ci_low``, ``ci_high`` (optionally
            ``bootstrap_ci_low``/``bootstrap_ci_high``), as ``metrics.json``'s inference blocks hold them.
        names: the k coefficient names, drawn top to bottom.
        title, xlabel: the figure's title and the x-axis label.
    """
    k = len(names)
    top = 0.35 + 0.2 * title.count("\n")
    fig = fixed_margins(
        Figure(figsize=(7, 1.2 + 0.45 * k)),
        left=0.2 + CHAR_WIDTH * max(map(len, names)),
        right=0.2,
        bottom=0.5,
        top=top,
    )
    ax = fig.add_subplot()
    rows = np.arange(k)[::-1].astype(float)
    coef = np.asarray(block["coef"])
    boot = "bootstrap_ci_low" in block
    shift = 0.15 if boot else 0.0
    ax.errorbar(
        coef,
        rows + shift,
        xerr=[coef - np.asarray(block["ci_low"]), np.asarray(block["ci_high"]) - coef],
        fmt="o",
        color="C0",
        capsize=4,
        label="95 % interval (Wald)",
    )
    if boot:
        low, high = np.asarray(block["bootstrap_ci_low"]), np.asarray(block["bootstrap_ci_high"])
        ax.errorbar(
            coef,
            rows - shift,
            xerr=[coef - low, high - coef],
            fmt="s",
            color="C1",
            capsize=4,
            label="95 % interval (bootstrap percentiles)",
        )
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(rows, names)
    ax.set_ylim(-0.7, k - 0.3)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fixed_title(ax, title)
    return fig
