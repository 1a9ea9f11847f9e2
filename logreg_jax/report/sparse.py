"""Certificates for L1/elastic-net logistic regression with a free bias: ``l1_max`` and the duality gap.

Primal, in sum units over the rows i with weight vᵢ = 1 (a fold's training rows):
P(w, b) = Σᵢ ℓᵢ(zᵢ) + l1‖w‖₁ + (l2/2)‖w‖², z = Xw + b. Its Fenchel dual over residuals r with Σᵢ rᵢ = 0
(the free bias) is D(r) = Σᵢ H(yᵢ − rᵢ) − h*(Xᵀr), H the binary entropy and h* the conjugate of the
penalty: Σⱼ (|uⱼ| − l1)₊² / (2 l2), or for l2 = 0 the indicator of ‖u‖∞ ≤ l1. The residuals
r = y − σ(z) of any iterate, balanced and scaled into the dual domain, give P − D ≥ P − P* ≥ 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy


def l1_max(X, y, v=None) -> jax.Array:
    """The smallest ``l1`` whose solution has every weight zero (bias free): ‖Xᵀ(y − ȳ)‖∞ over rows v.

    Args:
        X: (m, n) features without the bias column. y: (m,) 0/1 labels. v: optional (m,) 0/1 row weights.
    """
    v = jnp.ones_like(y) if v is None else v
    ybar = jnp.sum(v * y) / jnp.sum(v)
    return jnp.max(jnp.abs(X.T @ (v * (y - ybar))))


def _entropy(p):
    return -xlogy(p, p) - xlogy(1 - p, 1 - p)


def duality_gap(theta, X, y, l1, l2, v=None) -> tuple[jax.Array, jax.Array]:
    """(primal objective, duality gap) in objective units (divided by the number of rows).

    Args:
        theta: (n + 1,) bias first, then weights. X: (m, n) features without the bias column.
        y: (m,) 0/1 labels. l1, l2: penalty strengths (``loss.l1``, ``loss.l2``).
        v: optional (m,) 0/1 row weights (rows with 0 do not count).

    Returns:
        Two scalars; the gap bounds the primal suboptimality from above.
    """
    v = jnp.ones_like(y) if v is None else v
    b, w = theta[0], theta[1:]
    z = X @ w + b
    loss = jnp.maximum(z, 0) + jnp.log1p(jnp.exp(-jnp.abs(z))) - y * z
    primal = jnp.sum(v * loss) + l1 * jnp.sum(jnp.abs(w)) + 0.5 * l2 * jnp.sum(w * w)
    r = v * (y - jax.nn.sigmoid(z))  # ≥ 0 on positives, ≤ 0 on negatives
    pos, neg = jnp.sum(jnp.where(y == 1, r, 0)), -jnp.sum(jnp.where(y == 1, 0, r))
    # Shrinking one side's residuals toward 0 keeps each y − r in [0, 1] and makes Σ r = 0 exactly.
    big = jnp.maximum(pos, neg)
    r = jnp.where(y == 1, r * jnp.where(pos > neg, neg / big, 1), r * jnp.where(neg > pos, pos / big, 1))
    u = X.T @ r
    if_lasso = jnp.minimum(1, l1 / jnp.maximum(jnp.max(jnp.abs(u)), jnp.finfo(u.dtype).tiny))
    scale = jnp.where(l2 > 0, 1.0, if_lasso)
    r, u = r * scale, u * scale
    conj = jnp.where(l2 > 0, jnp.sum(jnp.maximum(jnp.abs(u) - l1, 0) ** 2) / (2 * jnp.where(l2 > 0, l2, 1)), 0)
    dual = jnp.sum(v * _entropy(y - r)) - conj
    m = jnp.sum(v)
    return primal / m, (primal - dual) / m
