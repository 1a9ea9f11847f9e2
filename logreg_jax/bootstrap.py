"""The bootstrap of a logistic fit: N resamples of the rows, refitted together in one compiled call.

Drawing m rows with replacement is the same as weighting each row by how often it was drawn, so
every resample is the *weighted* summed negative log-likelihood on the same (m, k) inputs, and
``jax.vmap`` refits all of them at once. Each member takes a fixed number of Newton steps from the
full-data optimum: the member's own optimum is close by (about one standard error away), where
Newton converges quadratically, so a few steps reach float64 precision without a line search.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from logreg_jax import logistic
from logreg_jax.loss import cross_entropy_terms, l2_penalty

NEWTON_STEPS = 25  # from the full-data optimum; ~6 already reach float64 precision on the exam scores


def weighted_nll(theta, X, y, w, l2=0.0):
    """Σ_i w_i · (cross-entropy of sample i) + (l2 / 2) Σ_{j≥1} θ_j², the bias θ_0 unpenalized.

    With w = 1 this is m × :func:`logreg_jax.loss.objective`: the summed (not mean) penalized
    negative log-likelihood, whose Hessian is the observed information.

    Args:
        theta: (k,) parameters, θ_0 the bias.
        X: (m, k) model inputs with the bias column.
        y: (m,) labels in {0, 1}.
        w: (m,) row weights (bootstrap counts, or ones).
        l2: penalty strength λ ≥ 0.

    Returns:
        Scalar in θ's dtype.
    """
    return cross_entropy_terms(X @ theta, y) @ w.astype(theta.dtype) + l2_penalty(logistic.weights(theta), l2, 1)


@jax.jit
def separated(theta, X, y, w=None):
    """Whether θ puts every (weighted) training point strictly on its own side of the boundary.

    Then θ itself separates the data, the likelihood grows without bound along c·θ (c → ∞), and
    without a penalty no finite maximum-likelihood estimate exists. Never true of data that are
    not separable, whatever θ, so it cannot refuse a valid fit.

    Args:
        theta: (k,); X: (m, k); y: (m,) in {0, 1}; w: optional (m,) weights (rows with w = 0 do not count).

    Returns:
        Boolean scalar.
    """
    right = (2 * y.astype(theta.dtype) - 1) * (X @ theta) > 0
    return jnp.all(right if w is None else right | (w == 0))


@functools.partial(jax.jit, static_argnames=("n", "m"))
def resample_counts(key, n: int, m: int):
    """How often each of m rows is drawn in each of n resamples with replacement: (n, m) int32."""
    draws = jax.random.randint(key, (n, m), 0, m)
    return jax.vmap(lambda rows: jnp.bincount(rows, length=m))(draws)


@functools.partial(jax.jit, static_argnames="steps")
def refit(theta, X, y, counts, l2=0.0, steps: int = NEWTON_STEPS):
    """Newton refits of the weighted fits, one per row of ``counts``, all in one vmapped program.

    Args:
        theta: (k,) starting point, the full-data optimum.
        X: (m, k) model inputs with the bias column; y: (m,) labels.
        counts: (n, m) row weights, one resample per row (:func:`resample_counts`).
        l2: penalty strength λ ≥ 0.
        steps: Newton steps per member.

    Returns:
        (n, k) refitted θ, and (n,) bool: the member converged (finite, mean gradient ≤ 1e-8, and,
        for l2 = 0, not separated: such a resample has no finite estimate).
    """
    grad, hess = jax.grad(weighted_nll), jax.hessian(weighted_nll)

    def one(w):
        def step(_, t):
            return t - jnp.linalg.solve(hess(t, X, y, w, l2), grad(t, X, y, w, l2))

        t = jax.lax.fori_loop(0, steps, step, theta)
        small = jnp.max(jnp.abs(grad(t, X, y, w, l2))) <= 1e-8 * X.shape[0]
        ok = jnp.all(jnp.isfinite(t)) & small & ((l2 > 0) | ~separated(t, X, y, w))
        return t, ok

    return jax.vmap(one)(counts)


@functools.partial(jax.jit, static_argnames=("n", "steps"))
def bootstrap(key, theta, X, y, n: int, l2=0.0, steps: int = NEWTON_STEPS):
    """n bootstrap refits of a logistic fit, resampled from ``key`` and refitted in one compiled call.

    Returns:
        (n, k) refitted θ and (n,) converged flags (see :func:`refit`); the resamples are
        ``resample_counts(key, n, m)``.
    """
    return refit(theta, X, y, resample_counts(key, n, X.shape[0]), l2, steps=steps)
