"""A linear model's penalized cross-entropy in matrix form, for many parameter matrices at once.

A linear model's scores are Z = Φ A: Φ (m, d) its inputs (a column of ones appended when the model's
biases are parameters of their own), A (d, K) its parameters as ``ravel_pytree`` ravels them (K = 1:
one logit per row). With row weights w (m,):

- the gradient of Σ_j w_j ℓ_j + ½ Σ λ ⊙ A² is Φᵀ R + λ ⊙ A, R (m, K) the cross-entropy's gradient in
  the scores, and a Hessian-vector product is Φᵀ (S ⊙ Φ V) + λ ⊙ V, S the curvature in the scores;
- the Hessian is Σ_j φ_j φ_jᵀ ⊗ S_j + diag(λ).

B parameter matrices are stacked as (d, B, K), so that the products with Φ are single matrix products
(m, d) × (d, B K), not B small ones. A softmax's scores do not change along the gauge direction u (one
constant added to every bias), in which every Hessian is singular; every gradient is orthogonal to u, so
H + u uᵀ takes H's place.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from logreg_jax.loss import l2_penalty, sample_losses
from logreg_jax.models.base import Model

HESSIAN_BLOCK = 2048  # rows summed into the Hessian at once: memory grows with this × P × K


class Linear(NamedTuple):
    """The objective Σ_j w_j ℓ(φ_j A, y_j) + ½ Σ λ ⊙ A² of a linear model."""

    Phi: jax.Array  # (m, d) inputs
    y: jax.Array  # (m,) labels
    pen: jax.Array  # (d, K) the L2 strength on each parameter (0 on biases)
    u: jax.Array  # (d, K) the unit gauge direction, or zeros


def inputs(model: Model, X):
    """Φ (m, d): X (m, n), with a column of ones appended when the model's biases are its own."""
    return X if model.bias_column else jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], axis=1)


def check_linear(model: Model, params, X) -> None:
    """Raises ValueError unless ``model.logits`` is Φ A with A the ravelled parameters (checked at a
    probe point, so that a zero fit cannot hide another layout)."""
    theta, unravel = ravel_pytree(params)
    probe = jnp.sin(jnp.arange(1, theta.size + 1, dtype=theta.dtype))
    X = jnp.asarray(X[:8], theta.dtype)
    Phi = inputs(model, X)
    z = jnp.reshape(model.logits(unravel(probe), X), (Phi.shape[0], -1))
    if z.shape[1] * Phi.shape[1] != theta.size or not jnp.allclose(
        z, Phi @ probe.reshape(Phi.shape[1], -1), rtol=1e-5, atol=1e-5 * float(jnp.max(jnp.abs(z)))
    ):
        raise ValueError(f"model {model.name!r}: expected logits X A linear in the inputs, A the ravelled parameters")


def linear(model: Model, params, X, y, l2) -> tuple[Linear, jax.Array]:
    """(the objective in matrix form, A (d, K) the parameters) of a model :func:`check_linear` accepts."""
    theta, unravel = ravel_pytree(params)
    Phi = inputs(model, X)
    A = theta.reshape(Phi.shape[1], -1)
    # The penalty is diagonal and quadratic: its gradient at ones is each parameter's strength.
    pen = jax.grad(lambda t: l2_penalty(model.weights(unravel(t)), l2, 1))(jnp.ones_like(theta))
    u = jnp.zeros_like(theta)
    if model.gauge is not None:  # rank one, (u·θ)²/2: any nonzero column of its Hessian is along u
        Hg = jax.hessian(lambda t: model.gauge(unravel(t)))(theta)
        j = jnp.argmax(jnp.diag(Hg))
        u = Hg[:, j] / jnp.sqrt(Hg[j, j])
    return Linear(Phi, y, pen.reshape(A.shape), u.reshape(A.shape)), A


def row_losses(Z, y):
    """(m, ...) cross-entropy of each row's K scores: Z (m, ..., K) for labels y (m,)."""
    shape, K = Z.shape[:-1], Z.shape[-1]
    labels = jnp.broadcast_to(y.reshape(-1, *(1,) * (len(shape) - 1)), shape).reshape(-1)
    z = Z.reshape(-1, K)
    return sample_losses(z[:, 0] if K == 1 else z, labels).reshape(shape)


def residuals(Z, y, w):
    """(m, ..., K): the gradient in the scores Z (m, ..., K) of Σ w ⊙ ℓ, weights w (m, ...)."""
    return jax.grad(lambda Z: jnp.sum(w * row_losses(Z, y)))(Z)


def curvatures(Z, y):
    """(m, K, K): each row's cross-entropy Hessian in its scores Z (m, K)."""
    _, curvature = jax.linearize(lambda Z: residuals(Z, y, jnp.ones(Z.shape[0], Z.dtype)), Z)
    K = Z.shape[1]
    basis = jnp.broadcast_to(jnp.eye(K, dtype=Z.dtype)[:, None], (K, *Z.shape))  # e_k in every row
    return jnp.moveaxis(jax.vmap(curvature)(basis), 0, 2)


def scores(lin: Linear, T):
    """Z (m, B, K) of B parameter matrices T (d, B, K)."""
    return (lin.Phi @ T.reshape(T.shape[0], -1)).reshape(lin.Phi.shape[0], *T.shape[1:])


def back(lin: Linear, R):
    """Φᵀ R: (m, B, K) → (d, B, K)."""
    return (lin.Phi.T @ R.reshape(R.shape[0], -1)).reshape(lin.Phi.shape[1], *R.shape[1:])


def gradient(lin: Linear, T, w):
    """(d, B, K): the objective's gradients at T (d, B, K), row weights w (m, B)."""
    return back(lin, residuals(scores(lin, T), lin.y, w)) + lin.pen[:, None] * T


def hvp_at(lin: Linear, T, w):
    """V ↦ (H(T) + u uᵀ) V for B matrices at once: (d, B, K) → (d, B, K)."""
    _, curvature = jax.linearize(lambda Z: residuals(Z, lin.y, w), scores(lin, T))
    u = lin.u[:, None]
    return lambda V: (
        back(lin, curvature(scores(lin, V))) + lin.pen[:, None] * V + u * jnp.sum(u * V, (0, 2), keepdims=True)
    )


def hessian(lin: Linear, A):
    """(P, P), P = d K: the Hessian of the objective (all rows) at A (d, K), plus u uᵀ."""
    (m, d), K = lin.Phi.shape, A.shape[1]
    S = curvatures(lin.Phi @ A, lin.y)

    def block(Phi, S):
        return jnp.einsum("ja,jkl,jb->akbl", Phi, S, Phi).reshape(d * K, d * K)

    if m <= HESSIAN_BLOCK:
        H = block(lin.Phi, S)
    else:
        pad = -m % HESSIAN_BLOCK  # zero rows add nothing
        Phi = jnp.pad(lin.Phi, ((0, pad), (0, 0))).reshape(-1, HESSIAN_BLOCK, d)
        S = jnp.pad(S, ((0, pad), (0, 0), (0, 0))).reshape(-1, HESSIAN_BLOCK, K, K)
        H, _ = jax.lax.scan(lambda H, b: (H + block(*b), None), jnp.zeros((d * K, d * K), A.dtype), (Phi, S))
    return H + jnp.diag(lin.pen.ravel()) + jnp.outer(lin.u.ravel(), lin.u.ravel())


def inverse(H):
    """H⁻¹ of a symmetric positive definite H, by its eigendecomposition (which compiles much faster on
    the CPU than a Cholesky factor and its triangular solves)."""
    w, V = jnp.linalg.eigh(H)
    return (V / w) @ V.T
