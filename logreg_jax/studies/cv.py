"""Stratified k-fold cross-validation: validation accuracy and loss of a config on held-out data.

Each fold's model is trained with :func:`logreg_jax.fit` on that fold's training part alone, so
the feature map (polynomial columns, standardization statistics) is fitted without ever seeing
the validation samples: nothing leaks from the held-out fold into training.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config, require
from logreg_jax.data.files import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.fit import Fit, fit, precision
from logreg_jax.loss import objective
from logreg_jax.report.metrics import accuracy_on


@dataclass(frozen=True)
class CVConfig:
    """The ``[cv]`` table of an experiment that cross-validates (add it as a field of its Config)."""

    k: int = 5  # stratified folds; at most the size of the smallest class
    # Seed of the fold shuffle, apart from `seed` so the folds stay put when the init changes:
    # every model or λ is scored on the same folds.
    seed: int = 0

    def __post_init__(self):
        require(self.k >= 2, "k", "an integer >= 2")
        require(-(2**63) <= self.seed < 2**63, "seed", "an integer in [-2**63, 2**63 - 1]")


def stratified_kfold(y, k: int, *, key) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits sample indices into ``k`` folds with (nearly) the class proportions of ``y``.

    Each class's indices are shuffled with ``key``; the shuffled classes are laid end to end and
    dealt round-robin to the folds, so within a class the fold counts differ by at most one, and
    so do the fold sizes.

    Args:
        y: (m,) class labels (any values; typically 0/1).
        k: number of folds, 2 ≤ k ≤ the size of the smallest class.
        key: a JAX PRNG key; the same key gives the same folds.

    Returns:
        ``k`` pairs (train indices, validation indices), each sorted int64; the validation sets
        are disjoint, their union is every index, and each train set is the complement.

    Raises:
        ConfigError: ``k`` is not an integer in [2, smallest class size].
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min()) if counts.size else 0
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= smallest:
        which = f"class {classes[counts.argmin()]:g} has {smallest} samples" if counts.size else "no samples"
        raise ConfigError(
            f"cv.k = {k!r} folds: expected an integer with 2 <= k <= {smallest}, "
            f"the size of the smallest class ({which}), so every fold holds every class"
        )
    keys = jax.random.split(key, classes.size)
    order = np.concatenate(
        [
            np.flatnonzero(y == c)[np.asarray(jax.random.permutation(class_key, int(n)))]
            for c, n, class_key in zip(classes, counts, keys)
        ]
    )
    fold_of = np.empty(y.size, dtype=np.int64)
    fold_of[order] = np.arange(y.size) % k
    everything = np.arange(y.size)
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]


def _subset(data: Dataset, idx: np.ndarray) -> Dataset:
    return Dataset(data.X[idx], data.y[idx], data.feature_names)


def _cross_entropy(fitted: Fit, data: Dataset) -> float:
    """Mean cross-entropy on ``data`` without the L2 penalty (which is not a property of the data)."""
    X = fitted.feature_map(data.X).astype(fitted.cfg.dtype)
    with precision(fitted.cfg):
        return float(objective(fitted.model, fitted.params, jnp.asarray(X), jnp.asarray(data.y, X.dtype), 0.0))


def cross_validate(cfg: Config, data: Dataset, *, k: int, key) -> dict:
    """Trains ``cfg`` on each of ``k`` stratified training parts and scores the held-out fold.

    Args:
        cfg: the experiment config (model, features, loss.l2, optimizer, epochs).
        data: the full dataset to split.
        k: number of folds (see :func:`stratified_kfold`).
        key: JAX PRNG key that shuffles the folds.

    Returns:
        ``{"k", "folds": [per fold: n_train, n_val, train_accuracy, train_loss (penalized, the
        objective minimised), val_accuracy, val_loss (unpenalized cross-entropy), grad_norm (at
        the start of the last epoch)], and for each of val_accuracy, val_loss, train_accuracy:
        "<name>_mean" and "<name>_std"}`` (std over folds, ddof = 0).

    Raises:
        ConfigError: bad ``k``; and whatever :func:`logreg_jax.fit` raises.
    """
    folds = []
    for f, (train_idx, val_idx) in enumerate(stratified_kfold(data.y, k, key=key)):
        train_data, val_data = _subset(data, train_idx), _subset(data, val_idx)
        fitted = fit(cfg, train_data)
        folds.append(
            {
                "fold": f,
                "n_train": int(train_idx.size),
                "n_val": int(val_idx.size),
                "train_accuracy": accuracy_on(fitted, train_data.X, train_data.y),
                "train_loss": fitted.history.final_loss,
                "val_accuracy": accuracy_on(fitted, val_data.X, val_data.y),
                "val_loss": _cross_entropy(fitted, val_data),
                "grad_norm": float(fitted.history.grad_norm[-1]),
            }
        )
    result = {"k": k, "folds": folds}
    for name in ("val_accuracy", "val_loss", "train_accuracy"):
        values = np.array([fold[name] for fold in folds])
        result[f"{name}_mean"], result[f"{name}_std"] = float(values.mean()), float(values.std())
    return result


def fit_and_score(cfg: Config, data: Dataset, *, k: int, key) -> tuple[Fit, dict, dict]:
    """Fits ``cfg`` on all of ``data`` and cross-validates it: the row every comparison reports.

    Args:
        cfg, data, k, key: as for :func:`cross_validate` (the same key gives the same folds).

    Returns:
        (the fit on all the data, its row, the :func:`cross_validate` result). The row holds
        train_loss, train_accuracy and grad_norm (at the returned parameters) of the full fit,
        and val_accuracy_mean/_std, val_loss_mean/_std and cv_train_accuracy_mean of the folds.
    """
    fitted = fit(cfg, data)
    cv = cross_validate(cfg, data, k=k, key=key)
    row = {
        "train_loss": fitted.history.final_loss,
        "train_accuracy": accuracy_on(fitted, data.X, data.y),
        "grad_norm": fitted.history.final_grad_norm,
        "val_accuracy_mean": cv["val_accuracy_mean"],
        "val_accuracy_std": cv["val_accuracy_std"],
        "val_loss_mean": cv["val_loss_mean"],
        "val_loss_std": cv["val_loss_std"],
        "cv_train_accuracy_mean": cv["train_accuracy_mean"],
    }
    return fitted, row, cv


def with_l2(cfg: Config, l2: float) -> Config:
    """``cfg`` with ``loss.l2`` replaced (the frozen config is copied, never changed)."""
    return dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, l2=float(l2)))
