"""Softmax regression: K linear scores, one per class, with the hand-derived gradient beside it.

Parameters are ``{"W": (n, K), "b": (K,)}``, one weight vector and one bias per class: the full
(over-)parameterization scikit-learn's ``LogisticRegression`` uses, which the L2 penalty on W makes
identifiable (adding the same vector to every column of W only raises the penalty). Inputs carry no
bias column. The model is P(y = k | x) = softmax(x W + b)_k; with K = 2 it is logistic regression
with θ = w₁ − w₀ (and bias b₁ − b₀), since softmax(z)₁ = σ(z₁ − z₀).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from logreg_jax.models.base import Model


def init(key, n_inputs: int, cfg, *, n_classes: int) -> dict:
    """Initial ``{"W": (n_inputs, n_classes), "b": (n_classes,)}``, biases zero.

    Args:
        key: a PRNG key.
        n_inputs: number of input columns (no bias column).
        cfg: a ``ModelConfig``; ``cfg.init`` is ``"zeros"`` (the convex loss needs no symmetry
            breaking), ``"uniform"`` (U[0, 1), as the logistic tutorial) or ``"normal"`` (N(0, 1 / n)).
        n_classes: K, taken from the training labels.
    """
    shape = (n_inputs, n_classes)
    if cfg.init == "zeros":
        W = jnp.zeros(shape)
    elif cfg.init == "uniform":
        W = jax.random.uniform(key, shape)
    elif cfg.init == "normal":
        W = jax.random.normal(key, shape) / jnp.sqrt(n_inputs)
    else:
        raise ValueError(f"unknown init {cfg.init!r}")
    return {"W": W, "b": jnp.zeros((n_classes,), W.dtype)}


def logits(params, X):
    """Scores z = X W + b: (m, n) → (m, K); P(y = k | x) = softmax(z)_k."""
    return X @ params["W"] + params["b"]


def weights(params):
    """The entries the L2 penalty acts on: W; the K biases are left alone."""
    return params["W"]


def one_hot(y, n_classes: int, dtype):
    """(m,) class numbers 0 … K−1 (any numeric dtype) → (m, K) rows of zeros with a 1 at y."""
    return jax.nn.one_hot(y.astype(jnp.int32), n_classes, dtype=dtype)


@jax.jit
def analytic_gradient(params, X, y, l2=0.0):
    """The hand-derived gradient of the mean categorical cross-entropy plus L2 penalty.

    With z = x W + b and C = (1/m) Σ_i [log Σ_k e^{z_ik} − z_{i,y_i}], dC/dz_ik = (p_ik − Y_ik)/m,
    p = softmax(z) and Y the one-hot labels: the same "prediction minus target" as the binary
    loss, one column per class. Hence ∇W = (1/m) Xᵀ (P − Y) + (l2/m) W and ∇b = mean of (P − Y).

    Args:
        params: ``{"W": (n, K), "b": (K,)}``.
        X: (m, n) inputs.
        y: (m,) class numbers 0 … K−1.
        l2: penalty strength λ ≥ 0; the penalty (λ / 2m) Σ W² leaves b alone.

    Returns:
        ``{"W": (n, K), "b": (K,)}`` in the parameters' dtype.
    """
    W = params["W"]
    m = X.shape[0]
    residual = jax.nn.softmax(logits(params, X), axis=1) - one_hot(y, W.shape[1], W.dtype)
    return {"W": X.T @ residual / m + (l2 / m) * W, "b": jnp.mean(residual, axis=0)}


def bias_gauge(params):
    """(Σ_k b_k)² / 2: zero at the one optimum whose biases sum to 0 (the K biases are unpenalized,
    and adding the same c to each leaves every probability unchanged)."""
    return 0.5 * jnp.sum(params["b"]) ** 2


@functools.cache  # one Model per K: jitted functions take the Model as a static argument
def for_classes(n_classes: int) -> Model:
    """Softmax regression over K classes."""
    return Model(
        name="softmax",
        init=functools.partial(init, n_classes=n_classes),
        logits=logits,
        weights=weights,
        gradient=analytic_gradient,
        bias_column=False,
        n_classes=n_classes,
        multiclass=True,
        convex=True,
        gauge=bias_gauge,
        for_classes=for_classes,
    )


MODEL = for_classes(2)
