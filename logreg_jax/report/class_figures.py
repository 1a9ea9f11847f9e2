"""Figures of how well a classifier does: confusion matrix, ROC curve, reliability diagram, and the
K-class probability map over two features.

Builders take NumPy arrays and return :class:`matplotlib.figure.Figure` objects (no pyplot, no file
I/O); :mod:`logreg_jax.runs.run_figures` computes their inputs for a run folder.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from logreg_jax.report.classification import calibration_bins, roc_auc, roc_curve
from logreg_jax.report.fit_figures import CHAR_WIDTH, fixed_margins, fixed_title
from logreg_jax.report.grids import ProbabilityGrid


def class_color(k: int):
    """The colour of class k (tab10, cycling)."""
    return colormaps["tab10"](k % 10)


def draw_confusion(ax, matrix: np.ndarray, class_names, title: str = ""):
    """Draws the (K, K) confusion matrix as a table of counts, shaded by the share of each true
    class (rows: true class, columns: predicted); returns the image (for a colorbar)."""
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=9 if k > 5 else 11,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), class_names, rotation=45 if max(map(len, class_names)) > 3 else 0)
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted class", ylabel="true class")
    fixed_title(ax, title)
    return image


def confusion_figure(matrix: np.ndarray, class_names, title: str = "") -> Figure:
    """One confusion matrix (:func:`draw_confusion`) with its colorbar."""
    size = 2.2 + 0.45 * np.asarray(matrix).shape[0]
    longest = CHAR_WIDTH * max(map(len, class_names))  # x labels turn 45° past 3 characters (draw_confusion)
    bottom = 0.5 + (longest * 0.71 if max(map(len, class_names)) > 3 else 0.1)
    fig = fixed_margins(
        Figure(figsize=(size + 1.5 + longest, size + bottom)), left=0.45 + longest, right=0.4, bottom=bottom, top=0.3
    )
    ax = fig.add_subplot()
    fig.colorbar(draw_confusion(ax, matrix, class_names, title), ax=ax, label="share of the true class", shrink=0.8)
    return fig


def roc_figure(curves, title: str = "") -> Figure:
    """ROC curves: ``curves`` is a list of (label, y, score) with 0/1 labels y; the legend gives each area."""
    fig = fixed_margins(Figure(figsize=(5.2, 5)), left=0.65, right=0.12, bottom=0.5, top=0.3)
    ax = fig.add_subplot()
    for label, y, score in curves:
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, drawstyle="default", lw=1.8, label=f"{label} (AUC {roc_auc(y, score):.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="chance")
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        xlim=(0, 1),
        ylim=(0, 1.01),
        aspect="equal",
    )
    fixed_title(ax, title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def calibration_figure(sets, n_bins: int = 10, title: str = "") -> Figure:
    """Reliability diagram: per bin of predicted P(y = 1), the observed fraction of positives
    (marker area ∝ samples in the bin); a calibrated model lies on the diagonal.

    Args:
        sets: a list of (label, y, prob) with 0/1 labels y and predicted P(y = 1).
    """
    fig = fixed_margins(Figure(figsize=(5.2, 5)), left=0.65, right=0.12, bottom=0.5, top=0.3)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfectly calibrated")
    for i, (label, y, prob) in enumerate(sets):
        mean_p, frac, count = calibration_bins(y, prob, n_bins)
        ax.plot(mean_p, frac, color=f"C{i}", lw=1.2)
        ax.scatter(
            mean_p,
            frac,
            s=12 + 200 * count / count.max(),
            color=f"C{i}",
            edgecolors="k",
            linewidths=0.5,
            zorder=3,
            label=f"{label} ({y.size} samples)",
        )
    ax.set(
        xlabel="predicted probability (bin mean)",
        ylabel="observed fraction of positives",
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        aspect="equal",
    )
    fixed_title(ax, title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def class_map_figure(
    grid: ProbabilityGrid, X_raw, y, title: str = "", feature_names=("x1", "x2"), class_names=None
) -> Figure:
    """The K-class probability map over two raw features: each grid point in the colour of its most
    likely class, pale where that class's probability is low (1/K) and full where it is 1; the
    training points on top in their class colours.

    Args:
        grid: the (q, p, K) class probabilities over the grid (:func:`~logreg_jax.report.grids.probability_grid`).
        X_raw: (m, 2) raw features; y: (m,) class numbers.
    """
    a1, a2 = grid.x1, grid.x2
    g1, g2 = np.meshgrid(a1, a2)
    k = grid.probs.shape[-1]
    probs = grid.probs.reshape(-1, k)
    X_raw, y = np.asarray(X_raw), np.asarray(y)
    best, top = np.argmax(probs, axis=1), np.max(probs, axis=1)
    shade = ((top - 1 / k) / (1 - 1 / k))[:, None]
    colors = np.array([to_rgb(class_color(c)) for c in range(k)])
    rgb = (1 - shade) + shade * colors[best]  # white at P = 1/K, the class colour at P = 1
    fig = Figure(figsize=(7, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(
        rgb.reshape(*g1.shape, 3),
        origin="lower",
        extent=(a1[0], a1[-1], a2[0], a2[-1]),
        aspect="auto",
        interpolation="nearest",
    )
    ax.contour(g1, g2, best.reshape(g1.shape), levels=np.arange(k) + 0.5, colors="k", linewidths=0.8)
    names = class_names or [f"class {c}" for c in range(k)]
    for c in range(k):
        pts = X_raw[y == c]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            color=class_color(c),
            edgecolors="k",
            linewidths=0.6,
            s=30,
            marker="os^Dv<>ph*"[c % 10],
            label=names[c],
            zorder=3,
        )
    ax.set(xlabel=feature_names[0], ylabel=feature_names[1], title=title)
    ax.legend(
        loc="upper left",
        framealpha=0.9,
        title="colour: most likely class\nshade: its probability",
        title_fontsize=8,
        fontsize=8,
    )
    return fig
