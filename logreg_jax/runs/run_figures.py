"""The figures of a run folder, as painter jobs: their data computed here, in the run's process.

:func:`fit_figure_jobs` gives ``loss.png``, the evaluation figures (``confusion.png``; binary:
``roc.png``, ``calibration.png``) and, for two raw features, ``decision_boundary.png``: everything a
trained :class:`~logreg_jax.fit.Fit` can draw, handed to the painter before inference runs.
:func:`coefficient_job` gives ``coefficients.png`` from the inference table. The arguments are NumPy
arrays and plain values, so the figures can be drawn by a process without JAX
(:mod:`logreg_jax.runs.painter`).
"""

from __future__ import annotations

import numpy as np

from logreg_jax.fit import Fit, predict_proba
from logreg_jax.report.classification import confusion_matrix
from logreg_jax.report.grids import probability_grid
from logreg_jax.runs.painter import Job

FIT_FIGURES = "logreg_jax.report.fit_figures"
CLASS_FIGURES = "logreg_jax.report.class_figures"


def fit_figure_jobs(fitted: Fit) -> tuple[list[Job], list[str]]:
    """The jobs of the figures a trained model draws, and notes on the figures it skips."""
    cfg, data = fitted.cfg, fitted.data
    title = f"{cfg.name}: {cfg.model.name}, {cfg.optimizer.name} (lr {cfg.optimizer.learning_rate:g})"
    history = fitted.history
    jobs = [Job("loss.png", f"{FIT_FIGURES}:training_figure", (history.loss, history.grad_norm, title))]
    if fitted.rows is not None:  # in memory (data at scale are not re-read for figures)
        jobs += evaluation_jobs(fitted)
    n_features = len(data.feature_names)  # not data.X: for a .npy or synthetic source that reads every row
    if n_features != 2:
        return jobs, [f"decision_boundary.png skipped: the data have {n_features} features, the plot needs 2"]
    names = tuple(cfg.plot.axis_labels or data.feature_names)
    X, y = np.asarray(data.X), np.asarray(data.y)
    if fitted.model.n_classes > 2:
        grid = probability_grid(lambda pts: predict_proba(fitted, pts), X, cfg.plot)
        jobs.append(Job("decision_boundary.png", f"{CLASS_FIGURES}:class_map_figure", (grid, X, y, title, names)))
    else:
        grid = probability_grid(lambda pts: predict_proba(fitted, pts)[:, 1], X, cfg.plot)
        args = (grid, X, y, title, names, tuple(cfg.plot.class_names))
        jobs.append(Job("decision_boundary.png", f"{FIT_FIGURES}:decision_boundary_figure", args))
    return jobs, []


def evaluation_jobs(fitted: Fit) -> list[Job]:
    """``confusion.png`` (on the held-out set if there is one, else the training set) and, for a
    binary model, ``roc.png`` and ``calibration.png`` (training and held-out sets)."""
    sets = [("train", fitted.data)] + ([("test", fitted.test)] if fitted.test is not None else [])
    probs = [(name, np.asarray(data.y), predict_proba(fitted, data.X)) for name, data in sets]
    name, y, prob = probs[-1]
    n_classes = prob.shape[1]
    predicted = np.argmax(prob, axis=1) if n_classes > 2 else (prob[:, 1] >= 0.5)
    # Binary: decided on P ≥ 0.5 here; metrics decide on the logit z ≥ 0, identical but for the
    # rounding of σ(z) within 1e-7 of 0.5.
    labels = list(fitted.cfg.plot.class_names) if n_classes == 2 else [str(c) for c in range(n_classes)]
    where = "held-out" if name == "test" else "training"
    matrix = confusion_matrix(y, predicted, n_classes)
    title = f"{fitted.cfg.name}: {where} set ({y.size} samples)"
    jobs = [Job("confusion.png", f"{CLASS_FIGURES}:confusion_figure", (matrix, labels, title))]
    if n_classes == 2:
        positive = [(name, y, p[:, 1]) for name, y, p in probs]
        jobs.append(Job("roc.png", f"{CLASS_FIGURES}:roc_figure", (positive, f"{fitted.cfg.name}: ROC curve")))
        title = f"{fitted.cfg.name}: reliability diagram"
        jobs.append(Job("calibration.png", f"{CLASS_FIGURES}:calibration_figure", (positive,), {"title": title}))
    return jobs


def coefficient_job(fitted: Fit, metrics: dict) -> Job | None:
    """``coefficients.png`` from the ``inference`` block of ``metrics`` (None when it was refused),
    its title saying its units (standardized when the features were; the printed table is raw)."""
    block = metrics.get("inference", {}) if isinstance(metrics, dict) else {}
    if "coef" not in block:
        return None
    scaled = fitted.feature_map.standardizer is not None
    title = f"{fitted.cfg.name}: coefficients" + (
        " in standardized units\n(the printed table is in raw units)" if scaled else ""
    )
    args = (block["standardized"], block["names"], title)
    if not scaled:
        args += ("coefficient (log-odds per unit of the feature)",)
    return Job("coefficients.png", f"{FIT_FIGURES}:coefficients_figure", args)
