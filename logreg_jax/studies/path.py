"""The L1 / elastic-net regularization path of logistic regression, warm-started and cross-validated.

From ``l1_max`` (every weight zero, :func:`~logreg_jax.report.sparse.l1_max`) down to ``ratio``·λ_max
in ``points`` log-spaced λ, glmnet's α = ``l1_ratio`` splitting each into l1 = αλ and l2 = (1 − α)λ.
Each λ is solved by proximal Newton (:mod:`logreg_jax.proximal`) until its KKT violation is at most
``train.tol``, warm-started from the previous λ in one ``lax.scan``; the k folds are the same scan
vmapped over 0/1 row weights (:mod:`logreg_jax.studies.path_cv`). Figures:
:mod:`logreg_jax.studies.path_figures`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import RUN_ONLY, Config, require, valid_seed
from logreg_jax.loss import cross_entropy_terms
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.models.registry import get_model
from logreg_jax.proximal import Sparse, certify, prox_newton
from logreg_jax.report.sparse import duality_gap, l1_max
from logreg_jax.train import step


@dataclass(frozen=True)
class PathSection:
    points: int = 100  # λ values, log-spaced from λ_max down
    ratio: float | None = None  # smallest λ / λ_max; unset: 1e-2 when m < n, else 1e-4 (glmnet)
    l1_ratio: float = 1.0  # glmnet's α: 1 = lasso, in (0, 1) elastic net
    folds: int = 0  # k-fold cross-validation of every λ (vmapped); 0 = off
    seed: int = 0  # the folds' seed
    max_iter: int = 100  # proximal Newton steps per λ at most
    working_set: int = 256  # entries per Newton step at most (nonzero, then KKT violators); 0 = all

    def __post_init__(self):
        require(self.points >= 2, "points", "an integer >= 2")
        require(self.ratio is None or 0 < self.ratio < 1, "ratio", "a number in (0, 1)")
        require(0 < self.l1_ratio <= 1, "l1_ratio", "a number in (0, 1] (1 = lasso)")
        require(self.folds == 0 or self.folds >= 2, "folds", "0 (off) or an integer >= 2")
        require(valid_seed(self.seed), "seed", "an integer seed")
        require(self.max_iter >= 1, "max_iter", "an integer >= 1")
        require(self.working_set >= 0, "working_set", "an integer >= 0 (0 = every entry)")


@dataclass(frozen=True)
class SparseSynthetic:
    m: int = 0  # rows; 0 = off (data.path is read)
    n: int = 1000  # features, standard normal
    nonzero: int = 10  # true weights ±weight, the first `nonzero` features; the rest 0
    weight: float = 1.0  # size of each true weight (the logits' standard deviation is weight·√nonzero)
    seed: int = 0

    def __post_init__(self):
        require(self.m >= 0, "m", "an integer >= 0")
        require(self.n >= 1, "n", "an integer >= 1")
        require(1 <= self.nonzero <= self.n, "nonzero", "an integer in [1, n]")
        require(math.isfinite(self.weight) and self.weight > 0, "weight", "a finite number > 0")
        require(valid_seed(self.seed), "seed", "an integer seed")


@dataclass(frozen=True)
class PathConfig:
    """The base config (logistic regression, its ``train.tol`` the KKT target) and the ``[path]`` table."""

    IGNORES: ClassVar[tuple[str, ...]] = ("loss.l1", "loss.l2", "optimizer.name", "train.epochs", *RUN_ONLY)
    base: Config = field(default_factory=Config)
    path: PathSection = field(default_factory=PathSection)
    sparse_synthetic: SparseSynthetic = field(default_factory=SparseSynthetic)


def base_problem(base: Config) -> str | None:
    """What in the base config the path cannot take (checked by the script, naming the file), or None."""
    if not get_model(base.model).inference:
        return f'model.name = {base.model.name!r}: expected "logistic" (the path is binary logistic regression)'
    if base.dtype != "float64":
        return f"dtype = {base.dtype!r}: expected float64 (every point is certified to a gap of 1e-8)"
    return None


def sparse_synthetic(cfg: SparseSynthetic) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m, n) X ~ N(0, 1), (m,) labels from σ(Xw), and the (n,) true w (first ``nonzero`` entries ±weight)."""
    kx, ks, ky = jax.random.split(jax.random.key(cfg.seed), 3)
    with jax.enable_x64(True):
        X = np.asarray(jax.random.normal(kx, (cfg.m, cfg.n), jnp.float64))
        signs = np.asarray(jax.random.rademacher(ks, (cfg.nonzero,), jnp.float64))
        w = np.zeros(cfg.n)
        w[: cfg.nonzero] = cfg.weight * signs
        y = np.asarray(jax.random.bernoulli(ky, jax.nn.sigmoid(X @ w)), np.float64)
    return X, y, w


def lambdas(lmax: float, section: PathSection, m: int, n: int) -> np.ndarray:
    """(points,) λ from λ_max = l1_max / α down to ratio·λ_max, log-spaced (glmnet's sequence)."""
    ratio = section.ratio if section.ratio is not None else (1e-2 if m < n else 1e-4)
    top = lmax / section.l1_ratio
    return np.exp(np.linspace(math.log(top), math.log(top * ratio), section.points))


def path_grid(X, y, section: PathSection) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """(l1_max, λ, l1 = αλ, l2 = (1 − α)λ) for (m, n) standardized X and (m,) labels, each (points,)."""
    lmax = float(l1_max(jnp.asarray(X), jnp.asarray(y, X.dtype)))
    lams = lambdas(lmax, section, *X.shape)
    alpha = section.l1_ratio
    l1s = lams * alpha
    l1s[0] = lmax  # αλ_max rounded could differ from l1_max by an ulp; the first point is exact
    return lmax, lams, l1s, lams * (1 - alpha)


class PathResult(NamedTuple):
    """One path, (points, ...) per field: parameters θ (bias first), objective, gap, KKT, steps."""

    theta: jax.Array
    objective: jax.Array
    gap: jax.Array
    kkt: jax.Array
    steps: jax.Array


def _solve(theta, X1, y, v, l1, l2, tol, max_iter: int, working_set: int):
    """θ minimizing the row-weighted objective for one (l1, l2), from ``theta``, to KKT ≤ tol."""
    mk = jnp.sum(v)
    optimizer = prox_newton(working_set=working_set or None)

    def loss_fn(p):
        return jnp.sum(v * cross_entropy_terms(X1 @ p, y)) / mk + l2 / (2 * mk) * jnp.sum(p[1:] ** 2)

    def curvature(p, idx):  # the (k, k) block of X1ᵀ diag(v σ(1 − σ)) X1 / mk + l2 / mk on the weights
        s = jax.nn.sigmoid(X1 @ p)
        cols = X1[:, idx]
        return (cols * (v * s * (1 - s) / mk)[:, None]).T @ cols + jnp.diag(jnp.where(idx == 0, 0, l2 / mk))

    sparse = Sparse(l1 / mk, LOGISTIC.weights)

    def body(carry):
        p, state, k, _, _ = carry
        new_p, new_state, loss, grads = step(loss_fn, optimizer, p, state, sparse=sparse, curvature=curvature)
        _, kkt = certify(sparse, p, loss, grads)
        done = kkt <= tol
        return jnp.where(done, p, new_p), new_state, k + jnp.where(done, 0, 1), done, kkt

    def going(carry):
        _, _, k, done, _ = carry
        return ~done & (k < max_iter)

    start = (theta, optimizer.init(theta), jnp.asarray(0), jnp.asarray(False), jnp.asarray(jnp.inf, X1.dtype))
    p, _, k, _, kkt = jax.lax.while_loop(going, body, start)
    return p, kkt, k


@functools.partial(jax.jit, static_argnames=("max_iter", "working_set"))
def fit_path(X, y, v, l1s, l2s, tol, *, max_iter: int = 100, working_set: int = 256) -> PathResult:
    """The path over (points,) ``l1s``/``l2s`` on (m, n) standardized X (no bias column), rows v (m,).

    Starts at the exact λ_max solution (b = logit of the weighted mean label, w = 0), so at
    λ = λ_max the certificate holds before any step and every weight stays exactly 0.
    """
    X1 = jnp.concatenate([jnp.ones((X.shape[0], 1), X.dtype), X], axis=1)
    ybar = jnp.sum(v * y) / jnp.sum(v)
    theta0 = jnp.zeros(X1.shape[1], X.dtype).at[0].set(jnp.log(ybar / (1 - ybar)))

    def point(theta, lam):
        l1, l2 = lam
        theta, kkt, k = _solve(theta, X1, y, v, l1, l2, tol, max_iter, working_set)
        objective, gap = duality_gap(theta, X, y, l1, l2, v)
        return theta, PathResult(theta, objective, gap, kkt, k)

    return jax.lax.scan(point, theta0, (l1s, l2s))[1]
