"""Figures of a λ sweep: one decision boundary per λ, and accuracy against λ.

Built on :func:`logreg_jax.plots.probability_map`; functions return matplotlib Figures.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from logreg_jax.experiment import predict
from logreg_jax.plots import boundary_legend, probability_map


def boundaries_figure(results: Sequence, plot_cfg, feature_names, class_names, title: str = "") -> Figure:
    """A grid of probability maps (two per row), each with the P = 0.5 line and the data.

    Args:
        results: :class:`~logreg_jax.regularization.LambdaResult` per λ (its ``fitted`` and ``row``).
        plot_cfg: the ``PlotConfig`` (grid, levels, colormap).
        feature_names, class_names: axis labels and legend entries.
    """
    ncols = min(2, len(results))
    nrows = math.ceil(len(results) / ncols)
    fig = Figure(figsize=(5.2 * ncols + 1.0, 4.6 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    filled = None
    for ax, result in zip(axes, results):
        fitted, row = result.fitted, result.row
        filled = probability_map(ax, lambda pts, f=fitted: predict(f, pts), fitted.data.X, fitted.data.y,
                                 plot_cfg, feature_names, class_names)
        ax.set_title(f"λ = {row['lambda']:g}: training accuracy {100 * row['train_accuracy']:.1f} %")
    for ax in axes[len(results):]:
        ax.set_visible(False)
    fig.colorbar(filled, ax=axes[: len(results)].tolist(), label="P(y = 1)", ticks=np.linspace(0, 1, 6))
    boundary_legend(axes[0], loc="lower left", fontsize="small")
    fig.suptitle(title)
    return fig


def accuracy_vs_lambda_figure(results: Sequence, best: float, title: str = "") -> Figure:
    """Training accuracy and k-fold validation accuracy (mean ± std, and each fold) against λ.

    The λ axis is symmetric-log: logarithmic above the smallest positive λ and linear below it,
    so that λ = 0 (the unpenalized fit) has a place on it, labelled 0.
    """
    lambdas = np.array([r.row["lambda"] for r in results])
    fig = Figure(figsize=(7, 4.6), layout="constrained")
    ax = fig.add_subplot()
    positive = lambdas[lambdas > 0]
    ax.set_xscale("symlog", linthresh=positive.min() if positive.size else 1.0, linscale=0.6)
    order = np.argsort(lambdas)
    rows = [results[i].row for i in order]
    ax.plot(lambdas[order], [r["train_accuracy"] for r in rows], "o-", color="C0",
            label="training accuracy (fit on all data)")
    mean = np.array([r["val_accuracy_mean"] for r in rows])
    std = np.array([r["val_accuracy_std"] for r in rows])
    ax.errorbar(lambdas[order], mean, yerr=std, fmt="s-", color="C1", capsize=4,
                label=f"validation accuracy ({results[0].cv['k']}-fold mean ± std)")
    ax.fill_between(lambdas[order], mean - std, mean + std, color="C1", alpha=0.15)
    for i in order:
        folds = [f["val_accuracy"] for f in results[i].cv["folds"]]
        ax.scatter(np.full(len(folds), lambdas[i]), folds, s=12, color="C1", alpha=0.45, zorder=3,
                   label="each validation fold" if i == order[0] else None)
    ax.axvline(best, color="0.4", ls=":", label=f"best λ = {best:g}")
    y = results[0].fitted.data.y
    majority = max(np.mean(y == 1), np.mean(y == 0))
    ax.axhline(majority, color="0.3", ls="--", lw=1, label=f"majority class ({100 * majority:.1f} %)")
    ax.set_xticks(lambdas[order])
    ax.set_xticklabels([f"{lam:g}" for lam in lambdas[order]])
    ax.set(xlabel="λ (L2 strength; symmetric-log axis, so λ = 0 can be shown)", ylabel="accuracy",
           title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
    return fig
