"""Synthetic classification data generated from a PRNG key (no files, no downloads)."""

from __future__ import annotations

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
