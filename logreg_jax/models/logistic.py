"""Logistic regression: one sigmoid neuron, with its hand-derived gradient beside it.

Parameters are one vector θ of shape (n,), θ_0 the bias, and inputs X of shape (m, n) carry a
leading column of ones (:func:`logreg_jax.add_bias`). The model is P(y = 1 | x) = σ(θ·x).
Second derivatives: with w_i = σ(z_i)(1 − σ(z_i)) = dσ/dz, the Hessian of the mean
cross-entropy is (1/m) Xᵀ diag(w) X, plus (l2/m) on the diagonal except the bias entry.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.data.features import theta_in_raw_units
from logreg_jax.models.base import Model


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
def probability(theta, X):
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


def _penalty_mask(theta):
    """[0, 1, …, 1]: the L2 penalty acts on every entry but the bias θ_0."""
    return jnp.ones_like(theta).at[0].set(0)


@jax.jit
def analytic_hessian(theta, X, y, l2=0.0):
    """The hand-derived Hessian (1/m) Xᵀ diag(σ(1 − σ)) X + (l2/m) diag([0, 1, …, 1]).

    Differentiating ∇C = (1/m) Xᵀ (σ(Xθ) − y) once more: y drops out and dσ(z_i)/dθ = w_i x_i.

    Args:
        theta: (n,) parameters, θ_0 the bias.
        X: (m, n) inputs with the bias column.
        y: (m,) labels (unused: the Hessian of this loss does not depend on them).
        l2: penalty strength λ ≥ 0.

    Returns:
        (n, n) symmetric positive semi-definite matrix in θ's dtype.
    """
    del y
    z = X @ theta
    # σ(z) σ(−z) rather than σ(1 − σ): it keeps its relative accuracy where σ(z) rounds to 1.
    w = sigmoid(z) * sigmoid(-z)
    return (X.T * w) @ X / X.shape[0] + jnp.diag((l2 / X.shape[0]) * _penalty_mask(theta))


@jax.jit
def analytic_hvp(theta, X, y, v, l2=0.0):
    """The Hessian-vector product H v = (1/m) Xᵀ (σ(1 − σ) ⊙ X v) + (l2/m) [0, v_1, …], without H.

    Two matrix-vector products, O(m n) work and memory, instead of the O(m n²) of forming H.

    Args:
        theta: (n,) parameters.
        X: (m, n) inputs with the bias column.
        y: (m,) labels (unused).
        v: (n,) direction.
        l2: penalty strength λ ≥ 0.

    Returns:
        (n,) in θ's dtype.
    """
    del y
    z = X @ theta
    w = sigmoid(z) * sigmoid(-z)
    return X.T @ (w * (X @ v)) / X.shape[0] + (l2 / X.shape[0]) * _penalty_mask(theta) * v


def loop_gradient(theta, X, y, l2=0.0) -> np.ndarray:
    """The original tutorial's per-parameter gradient, one partial derivative at a time (NumPy).

    For each j: ∂C/∂θ_j = (1/m) Σ_i (σ(θ·x_i) − y_i) x_ij, plus (l2/m) θ_j for j ≥ 1. Each
    partial derivative recomputes the hypothesis, as the tutorial's ``Cost_Function_Derivative``
    does; only the sum over samples i is left to NumPy (a Python loop over a million samples for
    each of 33 parameters would take minutes). It is the baseline the vectorized
    :func:`analytic_gradient` and ``jax.grad`` are compared against.

    Args:
        theta: (n,) parameters.
        X: (m, n) inputs with the bias column.
        y: (m,) labels in {0, 1}.
        l2: penalty strength λ ≥ 0.

    Returns:
        (n,) NumPy array, computed in θ's dtype.
    """
    theta = np.asarray(theta)
    dtype = theta.dtype
    X, y = np.asarray(X, dtype), np.asarray(y, dtype)
    m, n = X.shape
    grad = np.empty(n, dtype)
    for j in range(n):
        with np.errstate(over="ignore"):  # exp(−z) = inf for z ≪ 0 gives σ = 0, as it should
            hypothesis = 1 / (1 + np.exp(-(X @ theta)))
        partial = np.sum((hypothesis - y) * X[:, j]) / dtype.type(m)
        if j > 0:
            partial += dtype.type(l2 / m) * theta[j]
        grad[j] = partial
    return grad


def describe(theta, feature_map) -> dict:
    """θ for ``metrics.json``, in the model's own units and on raw (unstandardized) features.

    ``theta_original_units`` gives the same probabilities as σ(θ'·[1, x]) on the raw columns
    (the raw monomials, with polynomial features); see :func:`logreg_jax.data.features.theta_in_raw_units`.
    """
    return {
        "theta": np.asarray(theta, np.float64).tolist(),
        "theta_original_units": theta_in_raw_units(theta, feature_map.standardizer).tolist(),
    }


MODEL = Model(
    name="logistic",
    init=init,
    logits=logits,
    weights=weights,
    gradient=analytic_gradient,
    bias_column=True,
    describe=describe,
    logits_fm=logits_fm,
    convex=True,
    inference=True,
)
