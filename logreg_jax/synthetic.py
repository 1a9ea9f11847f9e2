"""Synthetic classification data generated from a PRNG key (no files, no downloads)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.data import Dataset


def linear_dataset(key, m: int, d: int, *, dtype=np.float32) -> Dataset:
    """Labels drawn from a logistic model on Gaussian features.

    x ~ N(0, I_d); a true θ* ~ N(0, 4/d) (bias 0.5) gives logits of standard deviation ≈ 2, so the
    classes overlap (a finite maximum-likelihood fit exists) but are well predictable; then
    y ~ Bernoulli(σ(θ*·[1, x])).

    Args:
        key: PRNG key.
        m: number of samples.
        d: number of features.
        dtype: dtype of the returned features.

    Returns:
        A :class:`Dataset` with X (m, d) and y (m,) as NumPy arrays.
    """
    theta_key, x_key, y_key = jax.random.split(key, 3)
    theta = jax.random.normal(theta_key, (d,)) * (2.0 / np.sqrt(d))
    X = jax.random.normal(x_key, (m, d), dtype=jnp.float32)
    y = jax.random.bernoulli(y_key, jax.nn.sigmoid(0.5 + X @ theta))
    names = tuple(f"x{j + 1}" for j in range(d))
    return Dataset(X=np.asarray(X, dtype=dtype), y=np.asarray(y, dtype=dtype), feature_names=names)


def xor_dataset(key, m: int, noise: float) -> Dataset:
    """Noisy points around the four quadrant centres (±1, ±1), labelled by the xor of the signs.

    The centres (1, 1) and (−1, −1) are class 0, (1, −1) and (−1, 1) class 1, so no straight
    line separates the classes: logistic regression on (x1, x2) stays near 50 % accuracy, while
    one hidden layer suffices. Each quadrant gets m // 4 points (the first m % 4 quadrants one
    more), in random order; each point is its centre plus N(0, noise² I).

    Args:
        key: PRNG key.
        m: number of samples, ≥ 4.
        noise: standard deviation of the points around their centre.

    Returns:
        A :class:`Dataset` with X (m, 2) and y (m,) as float64 NumPy arrays, names ("x1", "x2").
    """
    X, y = _xor_arrays(key, m, noise)
    return Dataset(X=np.asarray(X, np.float64), y=np.asarray(y, np.float64), feature_names=("x1", "x2"))


@functools.partial(jax.jit, static_argnums=1)
def _xor_arrays(key, m, noise):
    order_key, noise_key = jax.random.split(key)
    quadrant = jax.random.permutation(order_key, jnp.arange(m) % 4)
    signs = jnp.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=jnp.float32)
    centres = signs[quadrant]
    X = centres + noise * jax.random.normal(noise_key, (m, 2), dtype=jnp.float32)
    return X, centres[:, 0] != centres[:, 1]
