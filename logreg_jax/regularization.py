"""The L2 strength λ against over- and underfitting: one full fit and one cross-validation per λ.

:func:`lambda_sweep` returns plain rows (numbers only) and the fitted models; scripts print them,
write them and draw them (:mod:`logreg_jax.regularization_plots`).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from logreg_jax.config import Config
from logreg_jax.cv import fit_and_score, stratified_kfold, with_l2
from logreg_jax.data import Dataset
from logreg_jax.experiment import Fit


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
        fitted, row, cv = fit_and_score(with_l2(cfg, lam), data, k=k, key=key)
        row = {"lambda": float(lam), **row}
        results.append(LambdaResult(fitted, row, cv))
        if callback is not None:
            callback(results[-1])
    return results


def best_lambda(results: Sequence[LambdaResult]) -> float:
    """The λ with the highest mean validation accuracy; ties go to the larger λ (the simpler model)."""
    return max(results, key=lambda r: (r.row["val_accuracy_mean"], r.row["lambda"])).row["lambda"]
