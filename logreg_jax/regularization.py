"""The L2 strength λ against over- and underfitting: one full fit and one cross-validation per λ.

:func:`lambda_sweep` returns plain rows (numbers only) and the fitted models; scripts print them,
write them and draw them (:mod:`logreg_jax.regularization_plots`).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config
from logreg_jax.cv import cross_validate, stratified_kfold, with_l2
from logreg_jax.data import Dataset
from logreg_jax.experiment import Fit, fit, precision, predict, prepare
from logreg_jax.loss import objective


class LambdaResult(NamedTuple):
    """One λ of the sweep.

    Attributes:
        fitted: the model trained on all the data with this λ.
        row: ``lambda, train_loss, train_accuracy, grad_norm, val_accuracy_mean/_std,
            val_loss_mean/_std, cv_train_accuracy_mean`` (floats).
        cv: the full :func:`~logreg_jax.cv.cross_validate` result, folds included.
    """

    fitted: Fit
    row: dict
    cv: dict


def final_gradient_norm(fitted: Fit) -> float:
    """‖∇C‖ at the returned parameters (the training history stops one step before them)."""
    _, _, X = prepare(fitted.cfg, fitted.data)
    with precision(fitted.cfg):
        grads = jax.grad(objective, argnums=1)(fitted.model, fitted.params, jnp.asarray(X),
                                               jnp.asarray(fitted.data.y, X.dtype), fitted.cfg.loss.l2)
        return float(jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(grads))))


def lambda_sweep(cfg: Config, data: Dataset, lambdas: Sequence[float], *, k: int, key,
                 callback=None) -> list[LambdaResult]:
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
        lam_cfg = with_l2(cfg, lam)
        fitted = fit(lam_cfg, data)
        cv = cross_validate(lam_cfg, data, k=k, key=key)
        row = {
            "lambda": float(lam),
            "train_loss": fitted.history.final_loss,
            "train_accuracy": float(np.mean((predict(fitted, data.X) >= 0.5) == (data.y == 1))),
            "grad_norm": final_gradient_norm(fitted),
            "val_accuracy_mean": cv["val_accuracy_mean"], "val_accuracy_std": cv["val_accuracy_std"],
            "val_loss_mean": cv["val_loss_mean"], "val_loss_std": cv["val_loss_std"],
            "cv_train_accuracy_mean": cv["train_accuracy_mean"],
        }
        results.append(LambdaResult(fitted, row, cv))
        if callback is not None:
            callback(results[-1])
    return results


def best_lambda(results: Sequence[LambdaResult]) -> float:
    """The λ with the highest mean validation accuracy; ties go to the larger λ (the simpler model)."""
    return max(results, key=lambda r: (r.row["val_accuracy_mean"], r.row["lambda"])).row["lambda"]
