"""Which training rows a fitted linear model rests on: exact leave-one-out, influence functions, leverage.

All in float64, on the summed objective F(θ) = Σ_i ℓ_i(θ) + (λ/2) Σ w² (m × the mean objective
training minimizes; removing row i leaves λ as it is, as refitting the same config on m − 1 rows
does), with the feature map held fixed. H is ``jax.hessian`` of F at the optimum θ̂, g_i = ∇ℓ_i(θ̂)
the per-example gradients (``jax.vmap`` of ``jax.grad``), and L the mean held-out loss.

- exact: θ̂₋ᵢ minimizes F − ℓ_i; all m refits run as one vmapped Newton iteration warm-started at
  θ̂: first with the Hessian frozen at H₋ᵢ(θ̂) = H − h_i (h_i = G_iᵀ S_i G_i, G_i the row's logit
  Jacobian and S_i the cross-entropy's curvature in the logits), applied by Woodbury's identity from
  one Cholesky factor of H; rows not finished then take Newton steps solved by conjugate gradients
  on exact Hessian-vector products, preconditioned by H₋ᵢ(θ̂)⁻¹; until ‖∇(F − ℓ_i)/(m − 1)‖ ≤ tol;
- influence (Koh & Liang 2017): Δθ ≈ H⁻¹ g_i and ΔL ≈ ∇Lᵀ H⁻¹ g_i;
- one-step Newton (Pregibon 1981): Δθ ≈ H₋ᵢ⁻¹ g_i, the influence step with the leverage correction
  (for logistic regression H⁻¹ g_i / (1 − h_ii)), and ΔL = L(θ̂ + Δθ) − L(θ̂), the loss evaluated.

Softmax scores are unchanged by adding one constant to every bias, an unpenalized direction u in
which H is singular; gradients are orthogonal to u, so H + u uᵀ is used in its place: every step
stays orthogonal to u and the biases keep the full fit's sum.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jax.scipy.linalg import cho_factor, cho_solve

from logreg_jax.loss import l2_penalty, mean_cross_entropy
from logreg_jax.models.base import Model

CHORD_ITERATIONS = 30  # frozen-Hessian steps per refit at most, then
MAX_ITERATIONS = 50  # Newton steps by conjugate gradients at most
CG_ITERATIONS = 4  # per Newton step


class Influence(NamedTuple):
    """Per training row (m of them): parameter changes (m, P) on removal and held-out loss changes (m,)."""

    exact_params: jax.Array
    exact_loss: jax.Array
    converged: jax.Array  # (m,) bool: the refit reached the gradient tolerance
    influence_params: jax.Array
    influence_loss: jax.Array
    newton_params: jax.Array
    newton_loss: jax.Array


def _terms(model: Model, params, l2):
    """(θ̂ flat, unravel, per-row loss, penalty, gauge direction u or zeros) of a linear model."""
    theta, unravel = ravel_pytree(params)

    def row_loss(t, x, y):
        return mean_cross_entropy(model.logits(unravel(t), x[None]), y[None])

    def penalty(t):
        return l2_penalty(model.weights(unravel(t)), l2, 1)

    gauge = jnp.zeros_like(theta)
    if model.gauge is not None:  # softmax: a common bias shift changes no score
        # The model's gauge is rank one, (u·θ)²/2: u is the one eigenvector of its Hessian.
        gauge = jnp.linalg.eigh(jax.hessian(lambda t: model.gauge(unravel(t)))(theta))[1][:, -1]
    return theta, unravel, row_loss, penalty, gauge


def mean_loss(model: Model, params, X, y):
    """The mean cross-entropy (no penalty) of ``params`` on (m, n) X, (m,) y."""
    return mean_cross_entropy(model.logits(params, X), y)


@functools.partial(jax.jit, static_argnames=("model", "chunk"))
def influence(model: Model, params, X, y, X_test, y_test, l2=0.0, tol=1e-10, chunk: int = 256) -> Influence:
    """Exact leave-one-out and its two approximations for every training row.

    Args:
        model: a linear :class:`Model` (logistic or softmax).
        params: the fitted parameters (the optimum of the training objective).
        X: (m, n) training inputs (the fixed feature map applied); y: (m,) labels.
        X_test: (t, n) held-out inputs; y_test: (t,) labels.
        l2: the penalty strength λ of the fit.
        tol: gradient-norm tolerance of each refit (of its mean objective on m − 1 rows).
        chunk: rows refitted per vmapped batch: memory grows with chunk × m, not m².

    Returns:
        :class:`Influence`, parameter changes flattened in ``ravel_pytree`` order.
    """
    m = X.shape[0]
    theta, unravel, row_loss, penalty, u = _terms(model, params, l2)

    def total(t, w):
        return jax.vmap(row_loss, (None, 0, 0))(t, X, y) @ w + penalty(t)

    def test_loss(t):
        return mean_loss(model, unravel(t), X_test, y_test)

    ones = jnp.ones(m, X.dtype)
    factor = cho_factor(jax.hessian(total)(theta, ones) + jnp.outer(u, u))
    grads = jax.vmap(jax.grad(row_loss), (None, 0, 0))(theta, X, y)  # (m, P)

    def logits_of(t, x):
        return jnp.atleast_1d(model.logits(unravel(t), x[None])[0])

    def curvature(z, yi):  # the cross-entropy's Hessian in the row's K logits (K = 1: binary), (K, K)
        return jax.hessian(lambda s: mean_cross_entropy(s if s.size == 1 else s[None], yi[None]))(z)

    def solver(x, yi):
        """v ↦ H₋ᵢ⁻¹ v by Woodbury, (H − Gᵀ S G)⁻¹ = H⁻¹ + U (I − S G U)⁻¹ S Uᵀ with U = H⁻¹ Gᵀ
        (this form needs no S⁻¹: the softmax's S is singular)."""
        G = jax.jacfwd(logits_of)(theta, x)  # (K, P)
        S = curvature(logits_of(theta, x), yi)
        U = cho_solve(factor, G.T)  # (P, K)
        inner = jnp.eye(S.shape[0], dtype=X.dtype) - S @ (G @ U)
        return lambda v: cho_solve(factor, v) + U @ jnp.linalg.solve(inner, S @ (U.T @ v))

    grad_total = jax.grad(total)
    base = test_loss(theta)

    def one(i):
        solve = solver(X[i], y[i])
        w = ones.at[i].set(0)

        def gradient(t):
            return grad_total(t, w)

        def cond(limit):
            return lambda state: (state[2] > tol / 10) & (state[1] < limit)

        def chord(state):
            """A Newton step with the Hessian frozen at θ̂: cheap, and enough for most rows."""
            t, k, _ = state
            t = t - solve(gradient(t))
            return t, k + 1, jnp.linalg.norm(gradient(t)) / (m - 1)

        def newton_cg(state):
            """A Newton step, H₋ᵢ(t) d = ∇, by conjugate gradients on exact Hessian-vector products
            preconditioned by H₋ᵢ(θ̂)⁻¹: for the rows whose removal moves θ too far for the frozen one.
            Under vmap a batch takes these steps only while one of its rows is unfinished."""
            t, k, _ = state
            g = gradient(t)
            d, _ = jax.scipy.sparse.linalg.cg(
                lambda v: jax.jvp(gradient, (t,), (v,))[1], g, x0=solve(g), M=solve, maxiter=CG_ITERATIONS
            )
            t = t - d
            return t, k + 1, jnp.linalg.norm(gradient(t)) / (m - 1)

        newton = solve(grads[i])  # the first step from θ̂, where ∇(F − ℓ_i) = −g_i
        start = (theta + newton, 1, jnp.linalg.norm(gradient(theta + newton)) / (m - 1))
        state = jax.lax.while_loop(cond(CHORD_ITERATIONS), chord, start)
        t, _, norm = jax.lax.while_loop(cond(CHORD_ITERATIONS + MAX_ITERATIONS), newton_cg, state)
        return t - theta, test_loss(t) - base, norm <= tol, newton, test_loss(theta + newton) - base

    rows = jnp.arange(m)
    exact, exact_loss, ok, newton, newton_loss = jax.lax.map(one, rows, batch_size=min(chunk, m))
    ihvp = cho_solve(factor, grads.T).T  # (m, P): H⁻¹ g_i
    return Influence(exact, exact_loss, ok, ihvp, ihvp @ jax.grad(test_loss)(theta), newton, newton_loss)


class GLMDiagnostics(NamedTuple):
    """statsmodels' ``GLMInfluence`` for an unpenalized logistic fit: (m,) leverage and Cook's distance,
    (m, k) one-step parameter changes θ̂ − θ̂₋ᵢ (``d_params``)."""

    leverage: jax.Array
    cooks_distance: jax.Array
    d_params: jax.Array


@jax.jit
def glm_diagnostics(theta, X, y) -> GLMDiagnostics:
    """Leverage h_ii = w_i x_iᵀ (Xᵀ W X)⁻¹ x_i (w = p (1 − p)), Cook's distance r_i² h_ii / (k (1 − h_ii)²)
    with the Pearson residual r_i = (y_i − p_i) / √w_i, and d_params (Xᵀ W X)⁻¹ x_i (y_i − p_i) / (1 − h_ii).

    Args:
        theta: (k,) the maximum-likelihood fit; X: (m, k) inputs with the bias column; y: (m,) 0/1.
    """
    z = X @ theta
    p, w = jax.nn.sigmoid(z), jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)
    factor = cho_factor((X.T * w) @ X)
    A = cho_solve(factor, X.T).T  # (m, k): (XᵀWX)⁻¹ x_i
    h = w * jnp.sum(A * X, axis=1)
    cooks = (y - p) ** 2 / w / X.shape[1] * h / (1 - h) ** 2
    return GLMDiagnostics(h, cooks, A * ((y - p) / (1 - h))[:, None])


@functools.partial(jax.jit, static_argnames=("model", "steps"))
def polish(model: Model, params, X, y, l2=0.0, steps: int = 8):
    """Newton steps on the training objective from a trained ``params`` (the removals are measured
    from the optimum itself, not from where training stopped). Returns (params, mean gradient norm)."""
    theta, unravel, row_loss, penalty, u = _terms(model, params, l2)

    def total(t):
        return jnp.sum(jax.vmap(row_loss, (None, 0, 0))(t, X, y)) + penalty(t)

    def step(_, t):
        return t - jnp.linalg.solve(jax.hessian(total)(t) + jnp.outer(u, u), jax.grad(total)(t))

    theta = jax.lax.fori_loop(0, steps, step, theta)
    return unravel(theta), jnp.linalg.norm(jax.grad(total)(theta)) / X.shape[0]


@functools.partial(jax.jit, static_argnames="model")
def point_loss_changes(model: Model, params, deltas, x, y):
    """The change of one held-out point's loss under each parameter change: (r, P) deltas, (n,) x → (r,)."""
    theta, unravel = ravel_pytree(params)
    loss = jax.vmap(lambda t: mean_loss(model, unravel(t), x[None], y[None]))
    return loss(theta + deltas) - loss(theta[None])[0]
