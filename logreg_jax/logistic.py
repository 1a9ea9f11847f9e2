"""Logistic regression: one sigmoid neuron, with its hand-derived gradient beside it.

Parameters are one vector θ of shape (n,), θ_0 the bias, and inputs X of shape (m, n) carry a
leading column of ones (:func:`logreg_jax.add_bias`). The model is P(y = 1 | x) = σ(θ·x).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.jit
def sigmoid(z):
    """σ(z) = 1 / (1 + exp(−z)), elementwise, without overflow for large |z|."""
    return jax.nn.sigmoid(z)


def sigmoid_derivative(z):
    """σ'(z) = σ(z) (1 − σ(z))."""
    s = jax.nn.sigmoid(z)
    return s * (1 - s)


def init(key, n_inputs: int, cfg) -> jax.Array:
    """Initial θ of shape (n_inputs,), the bias included.

    Args:
        key: a PRNG key.
        n_inputs: number of input columns, the bias column included.
        cfg: a ``ModelConfig``; ``cfg.init`` is ``"uniform"`` (U[0, 1), the tutorial's choice),
            ``"zeros"``, or ``"normal"`` (N(0, 1 / n_inputs)).
    """
    if cfg.init == "uniform":
        return jax.random.uniform(key, (n_inputs,))
    if cfg.init == "zeros":
        return jnp.zeros((n_inputs,))
    if cfg.init == "normal":
        return jax.random.normal(key, (n_inputs,)) / jnp.sqrt(n_inputs)
    raise ValueError(f"unknown init {cfg.init!r}")


def logits(theta, X):
    """z = X θ: (n,), (m, n) → (m,)."""
    return X @ theta


def logits_fm(theta, Xt):
    """z = θ Xt for feature-major inputs: (n,), (n, m) → (m,), contracting the contiguous axis."""
    return theta @ Xt


def weights(theta):
    """The entries the L2 penalty acts on: θ_1 … θ_{n−1}; the bias θ_0 is left alone."""
    return theta[1:]


@jax.jit
def predict_proba(theta, X):
    """P(y = 1 | x) = σ(X θ): (n,), (m, n) → (m,)."""
    return sigmoid(logits(theta, X))


@jax.jit
def analytic_gradient(theta, X, y, l2=0.0):
    """The hand-derived gradient of the mean cross-entropy plus L2 penalty.

    For C = (1/m) Σ −y log σ(z) − (1 − y) log(1 − σ(z)) with z = θ·x, dC/dz = σ(z) − y, so
    ∇C = (1/m) Xᵀ (σ(Xθ) − y), and the penalty (l2 / 2m) Σ_{j≥1} θ_j² adds (l2/m)·[0, θ_1, …].

    Args:
        theta: (n,) parameters, θ_0 the bias.
        X: (m, n) inputs with the bias column.
        y: (m,) labels in {0, 1}.
        l2: penalty strength λ ≥ 0.

    Returns:
        (n,) gradient in θ's dtype.
    """
    m = X.shape[0]
    residual = sigmoid(X @ theta) - y.astype(theta.dtype)
    return X.T @ residual / m + (l2 / m) * theta.at[0].set(0)
