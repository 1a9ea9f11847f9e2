"""Which training rows a fit rests on: every leave-one-out refit beside its two approximations.

:func:`check_study` refuses what has no answer before any work; :func:`influence_study` fits the config,
refits it without each training row (:mod:`logreg_jax.report.influence`) and returns the table's rows
and the metrics; :func:`scatter_figure` and :func:`point_figure` draw them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import numpy as np
from matplotlib.figure import Figure

import logreg_jax as lj
from logreg_jax.config import Config, require
from logreg_jax.report import influence as inf
from logreg_jax.report.bootstrap import separated

COLUMNS = ("row", "label", "exact_loo", "influence", "newton_step", "leverage", "cooks_distance")


@dataclass(frozen=True)
class InfluenceSection:
    """The ``[influence]`` table."""

    point: int = 0  # the held-out point whose most helpful and harmful training rows are drawn
    top: int = 6  # training rows shown on each side

    def __post_init__(self):
        require(self.point >= 0, "point", "an index >= 0 of a held-out point")
        require(self.top >= 1, "top", "an integer >= 1")


@dataclass(frozen=True)
class InfluenceConfig:
    """The training config (with its held-out set) and the ``[influence]`` table."""

    # loss.l1: the approximations need the Hessian of a smooth objective.
    IGNORES: ClassVar[tuple[str, ...]] = ("loss.l1", "train.batch_size", "distributed", "inference")
    base: Config = field(default_factory=Config)
    influence: InfluenceSection = field(default_factory=InfluenceSection)


def check_study(cfg: InfluenceConfig) -> None:
    """One-line errors for what has no leave-one-out answer, before any data are read or trained."""
    base = cfg.base
    if not (base.data.test_fraction > 0 or base.data.test_path):
        raise lj.ConfigError("data.test_fraction / data.test_path: not set; the study needs a held-out set")
    model = lj.get_model(base.model)
    if not model.convex:
        raise lj.ConfigError(
            f'model.name = "{base.model.name}": expected "logistic" or "softmax" (a convex model with an exact Hessian)'
        )
    if model.gauge is not None and base.loss.l2 <= 0:
        raise lj.ConfigError("loss.l2 = 0: expected > 0 for softmax (without a penalty its optimum is not unique)")


def _ranks(a):
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(len(a))
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, ranks)
    return sums[inverse] / counts[inverse]  # ties share their mean rank


def correlations(exact, approx) -> tuple[float, float]:
    """(Pearson, Spearman) of two (m,) arrays."""
    return float(np.corrcoef(exact, approx)[0, 1]), float(np.corrcoef(_ranks(exact), _ranks(approx))[0, 1])


class Study(NamedTuple):
    """The fit, the table (one dict per training row), the metrics, and the chosen point's per-row changes."""

    fitted: lj.Fit
    rows: list
    metrics: dict
    point_changes: np.ndarray  # (m,) exact change of the point's loss when each training row is removed


def influence_study(cfg: InfluenceConfig) -> Study:
    """Fits ``cfg.base``, then every leave-one-out refit and both approximations, in float64.

    Raises:
        ConfigError, DataError: what :func:`check_study` refuses, a point index beyond the held-out set,
            separable data with λ = 0, or refits that did not converge.
    """
    check_study(cfg)
    base, l2 = cfg.base, cfg.base.loss.l2
    fitted = lj.fit(base)
    if cfg.influence.point >= len(fitted.test.y):
        raise lj.ConfigError(
            f"influence.point = {cfg.influence.point}: expected an index below the {len(fitted.test.y)} held-out points"
        )
    with jax.enable_x64(True):
        X = np.asarray(fitted.inputs[0], np.float64)
        y = np.asarray(fitted.inputs[1], np.float64)
        Xt = np.asarray(fitted.feature_map(np.asarray(fitted.test.X, np.float64)), np.float64)
        yt = np.asarray(fitted.test.y, np.float64)
        params = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), fitted.params)
        logistic = fitted.model.inference  # the GLM diagnostics are logistic regression's
        if logistic and l2 == 0 and bool(separated(params, X, y)):
            raise lj.DataError(
                f"{base.data.path}: the training rows are perfectly separated, so with loss.l2 = 0 there is no "
                "finite optimum to remove rows from; set loss.l2 > 0"
            )
        params, norm = inf.polish(fitted.model, params, X, y, l2)
        if not float(norm) <= 1e-10:
            raise lj.DataError(f"{base.data.path}: the fit did not reach the optimum (gradient norm {float(norm):.2g})")
        start = time.perf_counter()
        result = jax.block_until_ready(inf.influence(fitted.model, params, X, y, Xt, yt, l2))
        seconds = time.perf_counter() - start
        result = jax.tree_util.tree_map(np.asarray, result)
        p = cfg.influence.point
        point = np.asarray(inf.point_loss_changes(fitted.model, params, result.exact_params, Xt[p], yt[p]))
        glm = inf.glm_diagnostics(params, X, y) if logistic and l2 == 0 else None
    if not result.converged.all():
        raise lj.DataError(
            f"{int((~result.converged).sum())} leave-one-out refits did not reach the gradient tolerance"
        )
    index = fitted.data.index  # the split's rows of the training file
    lines = np.arange(len(y)) if index is None else index
    rows = []
    for i in range(len(y)):
        row = dict(row=int(lines[i]), label=int(y[i]), exact_loo=float(result.exact_loss[i]))
        row.update(influence=float(result.influence_loss[i]), newton_step=float(result.newton_loss[i]))
        if glm is not None:
            row.update(leverage=float(glm.leverage[i]), cooks_distance=float(glm.cooks_distance[i]))
        rows.append(row)
    exact = result.exact_loss
    largest = int(np.argmax(np.abs(exact)))
    metrics = dict(n_rows=len(y), n_test=len(yt), l2=l2, refit_seconds=seconds, point=p)
    for name, approx in (("influence", result.influence_loss), ("newton", result.newton_loss)):
        pearson, spearman = correlations(exact, approx)
        metrics |= {f"pearson_{name}": pearson, f"spearman_{name}": spearman}
        metrics[f"max_abs_error_{name}"] = float(np.max(np.abs(approx - exact)))
        metrics[f"worst_row_{name}"] = int(lines[int(np.argmax(np.abs(approx - exact)))])
    metrics["largest_exact_row"] = int(lines[largest])
    metrics["largest_exact_loo"] = float(exact[largest])
    return Study(fitted, rows, metrics, point)


def scatter_figure(study: Study, title: str = "", marked: int = 3) -> Figure:
    """Predicted against exact change of the held-out loss (Koh & Liang's Fig. 2), one panel per
    approximation, the y = x line, and the ``marked`` rows each approximation misses most, by row number."""
    exact = np.array([r["exact_loo"] for r in study.rows])
    fig = Figure(figsize=(11, 5), layout="constrained")
    for ax, key, label in zip(
        fig.subplots(1, 2), ("influence", "newton_step"), ("influence function", "one-step Newton")
    ):
        approx = np.array([r[key] for r in study.rows])
        ax.scatter(exact, approx, s=10, alpha=0.6, color="C0")
        lim = [min(exact.min(), approx.min()), max(exact.max(), approx.max())]
        ax.plot(lim, lim, color="0.4", lw=1, ls="--", label="y = x")
        for i in np.argsort(-np.abs(approx - exact))[:marked]:
            ax.scatter(exact[i], approx[i], s=40, facecolors="none", edgecolors="C3")
            ax.annotate(
                f"row {study.rows[i]['row']}",
                (exact[i], approx[i]),
                fontsize=8,
                color="C3",
                xytext=(4, -10),
                textcoords="offset points",
            )
        pearson, spearman = correlations(exact, approx)
        ax.set(
            xlabel="exact change of the mean held-out loss (row removed, refitted)",
            ylabel=f"predicted by the {label}",
            title=f"{label}: Pearson {pearson:.3f}, Spearman {spearman:.3f}",
        )
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    fig.suptitle(title)
    return fig


def point_figure(study: Study, X_raw, labels, top: int, title: str = "") -> Figure:
    """The training rows whose removal raises (they helped) and lowers (they hurt) one held-out point's
    loss most; 64 features are drawn as the 8 × 8 digit images, others as a bar per row."""
    order = np.argsort(study.point_changes)
    sides = (("helped", order[::-1][:top]), ("hurt", order[:top]))
    if np.shape(X_raw)[1] == 64:
        fig = Figure(figsize=(1.6 * top, 4.2), layout="constrained")
        axes = fig.subplots(2, top, squeeze=False)
        for r, (name, idx) in enumerate(sides):
            for ax, i in zip(axes[r], idx):
                ax.imshow(np.reshape(X_raw[i], (8, 8)), cmap="gray_r")
                ax.set_title(
                    f"{name}: {int(labels[i])}\nrow {study.rows[i]['row']}\n{study.point_changes[i]:+.2g}", fontsize=8
                )
                ax.set_axis_off()
    else:
        fig = Figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
        idx = np.r_[sides[0][1], sides[1][1][::-1]]
        ax.barh(
            [f"row {study.rows[i]['row']} (y = {int(labels[i])})" for i in idx],
            study.point_changes[idx],
            color=["C2" if study.point_changes[i] > 0 else "C3" for i in idx],
        )
        ax.invert_yaxis()
        ax.set(xlabel="change of the point's loss when the row is removed (> 0: the row helped it)")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title)
    return fig
