"""Choosing λ by gradient: descent on ln λ through the implicit solution map, checked on a grid.

The validation loss V(u) (u = ln λ) is the mean over folds of the held-out cross-entropy at
θ*_f(e^u), each θ*_f from :func:`logreg_jax.hypergrad.solution`, the folds vmapped
(:mod:`~logreg_jax.studies.tune_problem`: k-fold CV by row weights, or ``data.test_path``).
:func:`descend` runs optax.adam on u, warm-starting every inner solve from the previous optimum;
:func:`score_grid` scores a dense grid of λ in one vmapped call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax.config import RUN_ONLY, Config, require
from logreg_jax.hypergrad import GRAD_TOL, NotConverged, unrolled_solution, validation_loss
from logreg_jax.optimizers import init_state
from logreg_jax.studies.tune_problem import TuneProblem, report, value


@dataclass(frozen=True)
class TuneTable:
    """The ``[tune]`` table."""

    folds: int = 5  # stratified k-fold CV; unused when data.test_path names a held-out file
    seed: int = 0  # the fold shuffle
    l2_start: float = 1.0  # λ of the first outer step
    steps: int = 30  # the most outer steps (gradient evaluations)
    learning_rate: float = 0.5  # optax.adam's step on ln λ
    per_feature: bool = False  # one λ per weight (the bias never penalized)
    grid_points: int = 200  # the dense check grid, log-spaced over grid_range
    grid_range: tuple[float, float] = (1e-4, 1e2)
    unrolled_steps: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000)  # N of the unrolled reference
    unrolled_learning_rate: float = 1.0  # its optax.sgd step

    def __post_init__(self):
        pos = lambda v: math.isfinite(v) and v > 0  # noqa: E731
        require(self.folds >= 2, "folds", "an integer >= 2")
        require(pos(self.l2_start), "l2_start", "a finite number > 0")
        require(self.steps >= 1, "steps", "an integer >= 1")
        require(pos(self.learning_rate), "learning_rate", "a finite number > 0")
        require(self.grid_points >= 2, "grid_points", "an integer >= 2")
        ok = len(self.grid_range) == 2 and all(pos(v) for v in self.grid_range)
        require(ok and self.grid_range[0] < self.grid_range[1], "grid_range", "[low, high] with 0 < low < high")
        require(all(n >= 1 for n in self.unrolled_steps), "unrolled_steps", "a list of integers >= 1")
        require(pos(self.unrolled_learning_rate), "unrolled_learning_rate", "a finite number > 0")


@dataclass(frozen=True)
class TuneConfig:
    """The base config (model, data, features, dtype; ``loss.l2`` is what is tuned) and ``[tune]``."""

    # It trains by its own Newton solves (no optimizer, train) and scores folds or data.test_path.
    IGNORES: ClassVar[tuple[str, ...]] = (
        "loss.l2",
        "loss.l1",  # the hypergradient is of the smooth objective's optimum
        "optimizer",
        "train",
        *(k for k in RUN_ONLY if k not in ("data.test_path", "train.batch_size")),
    )
    base: Config = field(default_factory=Config)
    tune: TuneTable = field(default_factory=TuneTable)


def check_folds(l2, gnorm, low) -> None:
    """One-line :class:`NotConverged` naming λ, the fold and ‖∇C‖∞ (or the Hessian's eigenvalue)."""
    gnorm, low = np.atleast_1d(np.asarray(gnorm)), np.atleast_1d(np.asarray(low))
    where = f"λ = {np.round(np.asarray(l2), 10).tolist()}"
    for f in range(gnorm.size):
        if not gnorm[f] <= 10 * GRAD_TOL:
            raise NotConverged(
                f"{where}, fold {f}: the inner solve stopped at ‖∇C‖∞ = {gnorm[f]:.3g}; no hypergradient"
            )
        if not low[f] > 0:
            raise NotConverged(f"{where}, fold {f}: the Hessian is not positive definite (eigenvalue {low[f]:.3g})")


class DescentPath(NamedTuple):
    """The outer descent: per step λ ((p,) each with per_feature), V and dV/d ln λ."""

    l2: list
    loss: list
    grad: list


def descend(p: TuneProblem, t: TuneTable, callback=None) -> DescentPath:
    """Adam on u = ln λ from ``t.l2_start`` for ``t.steps`` evaluations, warm-starting the inner solves.

    Raises:
        NotConverged: an inner solve that did not reach the optimum (λ, fold and ‖∇C‖∞ named).
    """
    shape = (p.model.weights(p.init).size,) if t.per_feature else ()
    u = jnp.full(shape, math.log(t.l2_start), p.X.dtype)
    # b1 = 0.5, not 0.9: with long momentum the path overshoots the minimum of V and swings back for 20 steps.
    opt = optax.adam(t.learning_rate, b1=0.5)

    @jax.jit
    def step(u, state, inits):
        (v, params), g = jax.value_and_grad(value, argnums=1, has_aux=True)(p, u, inits)
        updates, state = opt.update(g, state, u)
        return optax.apply_updates(u, updates), state, params, v, g, report(p, u, params)

    state, inits = init_state(opt, u), jax.vmap(lambda _: p.init)(p.w)
    path = DescentPath([], [], [])
    for _ in range(t.steps):
        u_new, state, inits, v, g, optimum = step(u, state, inits)
        check_folds(np.exp(np.asarray(u)), *optimum)
        path.l2.append(np.exp(np.asarray(u)).tolist())
        path.loss.append(float(v))
        path.grad.append(np.asarray(g).tolist())
        if callback is not None:
            callback(path)
        u = u_new
    return path


def score_grid(p: TuneProblem, t: TuneTable) -> tuple[np.ndarray, np.ndarray]:
    """(grid_points,) λ log-spaced over ``t.grid_range`` and V at each, one vmapped call (cold starts)."""
    l2 = np.geomspace(*t.grid_range, t.grid_points)
    inits = jax.vmap(lambda _: p.init)(p.w)

    @jax.jit
    def run(us):
        def one(u):
            v, params = value(p, u, inits)
            return v, report(p, u, params)

        return jax.vmap(one)(us)

    losses, (gnorm, low) = run(jnp.log(jnp.asarray(l2, p.X.dtype)))
    for i in range(l2.size):
        check_folds(l2[i], gnorm[i], low[i])
    return l2, np.asarray(losses)


def unrolled_errors(p: TuneProblem, t: TuneTable, l2) -> tuple[list[int], list[float]]:
    """Relative error ‖g_N − g‖ / ‖g‖ of the unrolled hypergradient (N steps of optax.sgd from the
    zero init, differentiated through the ``lax.scan``) against the implicit one g, at ``l2``."""
    u = jnp.log(jnp.asarray(l2, p.X.dtype))
    inits = jax.vmap(lambda _: p.init)(p.w)
    exact = jax.grad(lambda u: value(p, u, inits)[0])(u)

    def unrolled(u, n):
        def one(X, w, Xv, v):
            params = unrolled_solution(
                p.model, p.init, X, p.y, jnp.exp(u), w, steps=n, learning_rate=t.unrolled_learning_rate
            )
            return validation_loss(p.model, params, Xv, p.yv, v)

        return jnp.mean(jax.vmap(one)(p.X, p.w, p.Xv, p.v))

    errors = []
    for n in t.unrolled_steps:
        g = jax.jit(jax.grad(unrolled), static_argnums=1)(u, n)
        errors.append(float(jnp.linalg.norm(g - exact) / jnp.linalg.norm(exact)))
    return list(t.unrolled_steps), errors
