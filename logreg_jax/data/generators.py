"""Generated datasets: the noisy xor of four Gaussian clusters, and chunks of the synthetic
logistic-regression data a config's ``data.synthetic`` section describes (jitted, seeded by key)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.data.files import Dataset


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


@functools.partial(jax.jit, static_argnums=(2, 3))
def synthetic_chunk(key, c, rows: int, d: int):
    """Chunk c of the logistic synthetic data (:class:`~logreg_jax.scale.sources.SyntheticSource`):
    (rows, d) features x ~ N(0, I) and labels y ~ Bernoulli(σ(0.5 + x·θ)), drawn from ``fold_in(data
    key, c)`` so that any chunk can be generated alone; ``key`` splits into θ's key and the data key.
    θ ~ N(0, 4/d) is drawn again in every chunk (d numbers): as a program of its own it cost a
    run more to compile than it costs every chunk to draw. Everything is drawn in float32, so a seed
    gives the same rows to float32 and float64 runs (JAX's x64 mode would draw θ and y otherwise)."""
    theta_key, data_key = jax.random.split(key)
    theta = jax.random.normal(theta_key, (d,), dtype=jnp.float32) * (2.0 / d**0.5)
    x_key, y_key = jax.random.split(jax.random.fold_in(data_key, c))
    X = jax.random.normal(x_key, (rows, d), dtype=jnp.float32)
    y = jax.random.bernoulli(y_key, jax.nn.sigmoid(0.5 + X @ theta))
    return X, y
