"""The L2 strength λ against over- and underfitting: one full fit and one cross-validation per λ.

:func:`lambda_sweep` returns plain rows (numbers only) and the fitted models; the script prints
and writes them; :func:`boundaries_figure` and :func:`accuracy_vs_lambda_figure` draw them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np
from matplotlib.figure import Figure

from logreg_jax.config import RUN_ONLY, Config, replace_key, require
from logreg_jax.data.files import Dataset
from logreg_jax.data.splits import stratified_kfold
from logreg_jax.fit import Fit, predict_proba
from logreg_jax.report.fit_figures import boundary_legend, draw_probability_map
from logreg_jax.report.grids import probability_grid
from logreg_jax.studies.cv import CVConfig, fit_and_score

COLUMNS = (
    "lambda",
    "train_loss",
    "train_accuracy",
    "grad_norm",
    "val_accuracy_mean",
    "val_accuracy_std",
    "val_loss_mean",
    "val_loss_std",
    "cv_train_accuracy_mean",
)


@dataclass(frozen=True)
class RegularizationConfig:
    """The base config (``loss.l2`` replaced by each λ), the λ list and the ``[cv]`` table."""

    IGNORES: ClassVar[tuple[str, ...]] = ("loss.l2", *RUN_ONLY)
    base: Config = field(default_factory=Config)
    lambdas: tuple[float, ...] = (0.0, 1.0, 10.0, 100.0)  # L2 strengths to compare
    cv: CVConfig = field(default_factory=CVConfig)

    def __post_init__(self):
        require(
            len(self.lambdas) > 0
            and all(math.isfinite(v) and v >= 0 for v in self.lambdas)
            and len(set(self.lambdas)) == len(self.lambdas),
            "lambdas",
            "a non-empty list of distinct finite numbers >= 0",
        )


class LambdaResult(NamedTuple):
    """One λ of the sweep.

    Attributes:
        fitted: the model trained on all the data with this λ.
        row: ``lambda, train_loss, train_accuracy, grad_norm, val_accuracy_mean/_std,
            val_loss_mean/_std, cv_train_accuracy_mean`` (floats).
        cv: the full :func:`~logreg_jax.studies.cv.cross_validate` result, folds included.
    """

    fitted: Fit
    row: dict
    cv: dict


def lambda_sweep(
    cfg: Config, data: Dataset, lambdas: Sequence[float], *, k: int, key, callback=None
) -> list[LambdaResult]:
    """Fits ``cfg`` with each λ on all of ``data`` and cross-validates it on the same k folds.

    Args:
        cfg: the base config; its ``loss.l2`` is replaced by each λ.
        data: the dataset.
        lambdas: the L2 strengths, in the order to report them.
        k: number of stratified folds.
        key: PRNG key of the fold shuffle; every λ sees the same folds, so they compare fairly.
        callback: called with each finished :class:`LambdaResult` (for progress lines).

    Returns:
        One :class:`LambdaResult` per λ.
    """
    stratified_kfold(data.y, k, key=key)  # a bad k fails here, before any training
    results = []
    for lam in lambdas:
        fitted, row, cv = fit_and_score(replace_key(cfg, "loss.l2", float(lam)), data, k=k, key=key)
        row = {"lambda": float(lam), **row}
        results.append(LambdaResult(fitted, row, cv))
        if callback is not None:
            callback(results[-1])
    return results


def best_lambda(results: Sequence[LambdaResult]) -> float:
    """The λ with the highest mean validation accuracy; ties go to the larger λ (the simpler model)."""
    return max(results, key=lambda r: (r.row["val_accuracy_mean"], r.row["lambda"])).row["lambda"]


def boundaries_figure(results: Sequence, plot_cfg, feature_names, class_names, title: str = "") -> Figure:
    """A grid of probability maps (two per row), each with the P = 0.5 line and the data.

    Args:
        results: :class:`LambdaResult` per λ (its ``fitted`` and ``row``).
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
        grid = probability_grid(lambda pts, f=fitted: predict_proba(f, pts)[:, 1], fitted.data.X, plot_cfg)
        filled = draw_probability_map(ax, grid, fitted.data.X, fitted.data.y, feature_names, class_names)
        ax.set_title(f"λ = {row['lambda']:g}: training accuracy {100 * row['train_accuracy']:.1f} %")
    for ax in axes[len(results) :]:
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
    ax.plot(
        lambdas[order],
        [r["train_accuracy"] for r in rows],
        "o-",
        color="C0",
        label="training accuracy (fit on all data)",
    )
    mean = np.array([r["val_accuracy_mean"] for r in rows])
    std = np.array([r["val_accuracy_std"] for r in rows])
    ax.errorbar(
        lambdas[order],
        mean,
        yerr=std,
        fmt="s-",
        color="C1",
        capsize=4,
        label=f"validation accuracy ({results[0].cv['k']}-fold mean ± std)",
    )
    ax.fill_between(lambdas[order], mean - std, mean + std, color="C1", alpha=0.15)
    for i in order:
        folds = [f["val_accuracy"] for f in results[i].cv["folds"]]
        ax.scatter(
            np.full(len(folds), lambdas[i]),
            folds,
            s=12,
            color="C1",
            alpha=0.45,
            zorder=3,
            label="each validation fold" if i == order[0] else None,
        )
    ax.axvline(best, color="0.4", ls=":", label=f"best λ = {best:g}")
    y = results[0].fitted.data.y
    majority = max(np.mean(y == 1), np.mean(y == 0))
    ax.axhline(majority, color="0.3", ls="--", lw=1, label=f"majority class ({100 * majority:.1f} %)")
    ax.set_xticks(lambdas[order])
    ax.set_xticklabels([f"{lam:g}" for lam in lambdas[order]])
    ax.set(xlabel="λ (L2 strength; symmetric-log axis, so λ = 0 can be shown)", ylabel="accuracy", title=title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
    return fig
