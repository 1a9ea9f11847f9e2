"""Cross-validation of the regularization path: the k folds vmapped, glmnet's ``lambda_min`` and ``lambda_1se``."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.data.splits import stratified_kfold
from logreg_jax.loss import cross_entropy_terms
from logreg_jax.studies.path import fit_path


def held_out_deviance(theta, X, y, v):
    """(points,) mean cross-entropy on the rows with v = 0, for each θ of a (points, n + 1) path."""
    z = theta[:, :1] + theta[:, 1:] @ X.T  # (points, m)
    held = 1 - v
    return jnp.sum(held * cross_entropy_terms(z, jnp.broadcast_to(y, z.shape)), axis=1) / jnp.sum(held)


@functools.partial(jax.jit, static_argnames=("max_iter", "working_set"))
def cv_path(X, y, folds, l1s, l2s, tol, *, max_iter: int = 100, working_set: int = 256):
    """(k, points) held-out deviance and the (k,)-batched :class:`PathResult`, the folds vmapped.

    A fold of mₖ rows trains at l1·mₖ/m, l2·mₖ/m: the same strength per row as the full data (glmnet's
    λ, in mean units), so the λ chosen carries over to the full-data path. At the same l1 in sum units a
    fold would be penalized m/mₖ = 1.25× harder per row (5 folds), and its choice would under-penalize
    the full data by that factor.

    Args:
        folds: (k, m) 0/1 training-row weights, one row per fold (:func:`fold_weights`).
    """

    def fold(v):
        share = jnp.sum(v) / v.size
        return fit_path(X, y, v, l1s * share, l2s * share, tol, max_iter=max_iter, working_set=working_set)

    results = jax.vmap(fold)(folds)
    deviance = jax.vmap(lambda th, v: held_out_deviance(th, X, y, v))(results.theta, folds)
    return deviance, results


def fold_weights(y: np.ndarray, k: int, key) -> np.ndarray:
    """(k, m) 0/1 training-row weights of the stratified k-fold split (row i is held out in one fold)."""
    rows = np.arange(y.size)
    return np.stack([np.isin(rows, train) for train, _ in stratified_kfold(y, k, key=key, name="path.folds")]).astype(
        np.float64
    )


def choose(lams: np.ndarray, deviance: np.ndarray) -> dict:
    """glmnet's choices from (k, points) held-out deviance: ``lambda_min`` and ``lambda_1se``
    (the largest λ whose mean is within one standard error of the minimum), with the CV curve."""
    mean = deviance.mean(axis=0)
    se = deviance.std(axis=0, ddof=1) / math.sqrt(deviance.shape[0])
    best = int(np.argmin(mean))
    within = np.flatnonzero(mean <= mean[best] + se[best])
    one_se = int(within[np.argmax(lams[within])])
    return {
        "lambda_min": float(lams[best]),
        "lambda_1se": float(lams[one_se]),
        "index_min": best,
        "index_1se": one_se,
        "cv_mean": mean.tolist(),
        "cv_se": se.tolist(),
    }
