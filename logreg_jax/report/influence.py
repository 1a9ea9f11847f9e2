"""Which training rows a fitted linear model rests on: exact leave-one-out, influence functions, leverage.

All in float64, on the summed objective F(θ) = Σ_i ℓ_i(θ) + (λ/2) Σ w² (m × the mean objective
training minimizes; removing row i leaves λ as it is, as refitting the same config on m − 1 rows
does), with the feature map held fixed. H is the Hessian of F at the optimum θ̂, g_i = ∇ℓ_i(θ̂) the
per-example gradients, and L the mean held-out loss. The models are linear, scores Φ A, so all of
these are dense linear algebra on the inputs (:mod:`logreg_jax.report.loo`):

- exact: θ̂₋ᵢ minimizes F − ℓ_i; all m refits run in batches of rows as Newton iterations warm-started
  at the one-step estimate, each step solved by conjugate gradients preconditioned by H₋ᵢ(θ̂)⁻¹
  (Woodbury's identity on one inverse of H), until ‖∇(F − ℓ_i)/(m − 1)‖ ≤ tol;
- influence (Koh & Liang 2017): Δθ ≈ H⁻¹ g_i and ΔL ≈ ∇Lᵀ H⁻¹ g_i;
- one-step Newton (Pregibon 1981): Δθ ≈ H₋ᵢ⁻¹ g_i, the influence step with the leverage correction
  (for logistic regression H⁻¹ g_i / (1 − h_ii)), and ΔL = L(θ̂ + Δθ) − L(θ̂), the loss evaluated.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jax.scipy.linalg import cho_factor, cho_solve

from logreg_jax.loss import mean_cross_entropy
from logreg_jax.models.base import Model
from logreg_jax.report import linear, loo
from logreg_jax.train import COMPILER_OPTIONS  # the refits compile in a fraction of the time, and run faster


class Influence(NamedTuple):
    """Per training row (m of them): parameter changes (m, P) on removal and held-out loss changes (m,)."""

    exact_params: jax.Array
    exact_loss: jax.Array
    converged: jax.Array  # (m,) bool: the refit reached the gradient tolerance
    influence_params: jax.Array
    influence_loss: jax.Array
    newton_params: jax.Array
    newton_loss: jax.Array


def influence(model: Model, params, X, y, X_test, y_test, l2=0.0, tol=1e-10, chunk: int | None = None) -> Influence:
    """Exact leave-one-out and its two approximations for every training row.

    Args:
        model: a linear :class:`Model` (logistic or softmax).
        params: the fitted parameters (the optimum of the training objective).
        X: (m, n) training inputs (the fixed feature map applied); y: (m,) labels.
        X_test: (t, n) held-out inputs; y_test: (t,) labels.
        l2: the penalty strength λ of the fit.
        tol: gradient-norm tolerance of each refit (of its mean objective on m − 1 rows).
        chunk: rows refitted per batch; memory grows with chunk × m × K. None: at most
            ``loo.CHUNK``, fewer when m × K is large.

    Returns:
        :class:`Influence`, parameter changes flattened in ``ravel_pytree`` order.

    Raises:
        ValueError: the model's logits are not linear in its inputs (:func:`linear.check_linear`).
    """
    linear.check_linear(model, params, X)
    if chunk is None:
        scores = X.shape[0] * jnp.size(model.logits(params, X[:1]))
        chunk = int(min(loo.CHUNK, max(8, 2**23 // scores)))
    return _influence(model, params, X, y, X_test, y_test, l2, tol, chunk=chunk)


@functools.partial(jax.jit, static_argnames=("model", "chunk"), compiler_options=COMPILER_OPTIONS)
def _influence(model: Model, params, X, y, X_test, y_test, l2, tol, chunk: int) -> Influence:
    lin, A = linear.linear(model, params, X, y, l2)
    test = lin._replace(Phi=linear.inputs(model, X_test), y=y_test)
    m, t = X.shape[0], X_test.shape[0]
    Hinv = linear.inverse(linear.hessian(lin, A))
    R = linear.residuals((lin.Phi @ A)[:, None], y, jnp.ones((m, 1), A.dtype))[:, 0]
    ihvp = (lin.Phi[:, :, None] * R[:, None, :]).reshape(m, -1) @ Hinv  # (m, P): H⁻¹ g_i, g_i = φ_i ⊗ r_i
    exact, newton, norms, losses = loo.leave_one_out(lin, Hinv, A, test, tol, chunk, jnp.sum(ihvp * ihvp, 1))
    grad_test = linear.gradient(test._replace(pen=jnp.zeros_like(A)), A[:, None], jnp.full((t, 1), 1 / t, A.dtype))
    ihvp_loss = ihvp @ grad_test.ravel()
    return Influence(exact, losses[0], norms <= tol, ihvp, ihvp_loss, newton, losses[1])


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


def polish(model: Model, params, X, y, l2=0.0, steps: int = 8):
    """Newton steps on the training objective from a trained ``params`` (the removals are measured
    from the optimum itself, not from where training stopped). Returns (params, mean gradient norm)."""
    linear.check_linear(model, params, X)
    return _polish(model, params, X, y, l2, steps=steps)


@functools.partial(jax.jit, static_argnames=("model", "steps"), compiler_options=COMPILER_OPTIONS)
def _polish(model: Model, params, X, y, l2, steps: int):
    lin, A = linear.linear(model, params, X, y, l2)
    ones = jnp.ones((X.shape[0], 1), A.dtype)

    def step(_, A):
        g = linear.gradient(lin, A[:, None], ones)
        return A - (linear.inverse(linear.hessian(lin, A)) @ g.ravel()).reshape(A.shape)

    A = jax.lax.fori_loop(0, steps, step, A)
    return ravel_pytree(params)[1](A.ravel()), jnp.linalg.norm(linear.gradient(lin, A[:, None], ones)) / X.shape[0]


@functools.partial(jax.jit, static_argnames="model")
def point_loss_changes(model: Model, params, deltas, x, y):
    """The change of one held-out point's loss under each parameter change: (r, P) deltas, (n,) x → (r,)."""
    theta, unravel = ravel_pytree(params)
    loss = jax.vmap(lambda t: mean_cross_entropy(model.logits(unravel(t), x[None]), y[None]))
    return loss(theta + deltas) - loss(theta[None])[0]
