"""The folds of the λ-tuning study, stacked for vmapped solves, and the validation loss V(ln λ).

With k-fold CV each fold is the full row set with 0/1 row weights (training rows) and its own
feature map, fitted on its training rows alone; with a held-out file there is one "fold".
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config
from logreg_jax.data.features import FeatureMap, polynomial_names
from logreg_jax.data.files import Dataset
from logreg_jax.data.splits import stratified_kfold
from logreg_jax.fit import initial_params, prepare
from logreg_jax.hypergrad import optimum_report, solution, validation_loss
from logreg_jax.models.base import Model


class TuneProblem(NamedTuple):
    """The folds, stacked: F folds of m training rows (weights w) and m' validation rows (weights v).

    Attributes:
        model: the :class:`Model`; init: its zero-or-random start (one pytree, shared by the folds).
        X: (F, m, n) training inputs per fold; y: (m,); w: (F, m).
        Xv: (F, m', n) validation inputs per fold; yv: (m',); v: (F, m').
        names: the model input names of the penalized weights (figures).
    """

    model: Model
    init: object
    X: jax.Array
    y: jax.Array
    w: jax.Array
    Xv: jax.Array
    yv: jax.Array
    v: jax.Array
    names: tuple[str, ...]


def make_problem(cfg: Config, data: Dataset, test: Dataset | None, *, folds: int, key) -> TuneProblem:
    """Stacks the folds of ``data`` (or the one split data/test) for vmapped solves.

    Each fold's feature map is fitted on its training rows alone, so nothing of the validation
    rows leaks into the standardization.
    """
    model, fmap, _ = prepare(cfg, data)
    names = tuple(fmap_names(fmap, data.feature_names))
    raw = np.asarray(data.X, np.float64)
    if test is not None:
        maps, trains, vals = [fmap], [np.ones(raw.shape[0])], [np.ones(test.X.shape[0])]
        Xv_raw, yv = np.asarray(test.X, np.float64), test.y
    else:
        maps, trains, vals = [], [], []
        splits = stratified_kfold(data.y, folds, key=key, name="tune.folds")
        for train_idx, _ in splits:
            maps.append(prepare(cfg, Dataset(raw[train_idx], data.y[train_idx], data.feature_names))[1])
            w = np.zeros(raw.shape[0])
            w[train_idx] = 1.0
            trains.append(w)
            vals.append(1.0 - w)
        Xv_raw, yv = raw, data.y
    dtype = cfg.dtype
    stack = lambda arrays: jnp.asarray(np.stack(arrays), dtype)  # noqa: E731
    n = maps[0](raw[:1]).shape[1]
    init = initial_params(model, cfg.seed, n, cfg.model)  # the run's named init key; θ* does not depend on it
    return TuneProblem(
        model,
        init,
        stack([m(raw) for m in maps]),
        jnp.asarray(data.y),
        stack(trains),
        stack([m(Xv_raw) for m in maps]),
        jnp.asarray(yv),
        stack(vals),
        names,
    )


def fmap_names(fmap: FeatureMap, names) -> list[str]:
    """The names of the non-bias model inputs (polynomial monomials of the raw feature names)."""
    return list(polynomial_names(tuple(names), fmap.degree))


def fold_losses(p: TuneProblem, u, inits):
    """(F,) validation losses and the F optima at λ = e^u (u scalar or (p,))."""

    def one(init, X, w, Xv, v):
        params = solution(p.model, init, X, p.y, jnp.exp(u), w)
        return validation_loss(p.model, params, Xv, p.yv, v), params

    return jax.vmap(one)(inits, p.X, p.w, p.Xv, p.v)


def value(p: TuneProblem, u, inits):
    """V(u), the mean validation loss over folds, and the optima (aux)."""
    losses, params = fold_losses(p, u, inits)
    return jnp.mean(losses), params


def report(p: TuneProblem, u, params):
    """(F,) ‖∇C‖∞ and smallest Hessian eigenvalue of each fold's optimum."""
    return jax.vmap(lambda q, X, w: optimum_report(p.model, q, X, p.y, jnp.exp(u), w))(params, p.X, p.w)
