"""Stratified k-fold cross-validation: validation accuracy and loss of a config on held-out data.

Each fold's model is trained with :func:`logreg_jax.fit` on that fold's training part alone, so
the feature map (polynomial columns, standardization statistics) is fitted without ever seeing
the validation samples: nothing leaks from the held-out fold into training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logreg_jax.config import Config, require
from logreg_jax.data.files import Dataset
from logreg_jax.data.splits import stratified_kfold, subset
from logreg_jax.fit import Fit, fit
from logreg_jax.report.metrics import accuracy_on, loss_on


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


def cross_validate(cfg: Config, data: Dataset, *, k: int, key) -> dict:
    """Trains ``cfg`` on each of ``k`` stratified training parts and scores the held-out fold.

    Args:
        cfg: the experiment config (model, features, loss.l2, optimizer, epochs).
        data: the full dataset to split.
        k: number of folds (see :func:`logreg_jax.data.splits.stratified_kfold`).
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
        train_data, val_data = subset(data, train_idx), subset(data, val_idx)
        fitted = fit(cfg, train_data)
        folds.append(
            {
                "fold": f,
                "n_train": int(train_idx.size),
                "n_val": int(val_idx.size),
                "train_accuracy": accuracy_on(fitted, train_data.X, train_data.y),
                "train_loss": fitted.history.final_loss,
                "val_accuracy": accuracy_on(fitted, val_data.X, val_data.y),
                "val_loss": loss_on(fitted, val_data.X, val_data.y),
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
