"""The L1 penalty's proximal machinery: soft thresholding and proximal Newton as an optax transformation.

The objective is the smooth part f (mean cross-entropy + L2, what ``jax.value_and_grad`` differentiates)
plus λ Σⱼ |wⱼ| over the penalized entries (``model.weights``; the bias is free), λ = ``loss.l1`` / m.
Proximal Newton (Lee, Sun & Saunders, 2014) minimizes, at each iterate p with gradient g and Hessian H
of f, the model g·d + ½ dᵀHd + λ‖p + d‖₁ by cyclic coordinate descent, each coordinate an exact soft
threshold (so a weight the threshold sets to zero is 0.0, not 1e-17), then backtracks on the full
objective. The KKT violation certifies convergence without another pass over the data.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree


@functools.partial(jax.tree_util.register_dataclass, data_fields=["l1"], meta_fields=["weights"])
@dataclasses.dataclass(frozen=True)
class Sparse:
    """The L1 term an update needs, passed as an extra argument (``sparse=``) of ``update``.

    A pytree whose leaf is the strength (traced in a jitted trainer) and whose static part is the
    model's ``weights``, so one compiled program serves every λ.

    Attributes:
        l1: () strength in objective units, ``loss.l1`` / m (may be traced).
        weights: ``model.weights``: params → pytree of the penalized entries.
    """

    l1: jax.Array
    weights: object


def l1_term(model, l1: float, m: int, dtype) -> Sparse | None:
    """The :class:`Sparse` term of ``loss.l1 = l1`` on m rows, or None without an L1 penalty."""
    return Sparse(jnp.asarray(l1 / m, dtype), model.weights) if l1 else None


def soft_threshold(x, t):
    """argminᵤ ½(u − x)² + t|u| = sign(x)·max(|x| − t, 0), elementwise; exactly 0 where |x| ≤ t."""
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - t, 0)


def penalty_mask(weights, params) -> jax.Array:
    """(n,) flat 0/1 mask of the entries ``weights`` selects (the derivative of their sum)."""
    mask = jax.grad(lambda p: sum(jnp.sum(w) for w in jax.tree_util.tree_leaves(weights(p))))(params)
    return ravel_pytree(mask)[0]


def l1_value(sparse: Sparse, params) -> jax.Array:
    """λ Σ |w| over the penalized entries, in objective units."""
    return sparse.l1 * sum(jnp.sum(jnp.abs(w)) for w in jax.tree_util.tree_leaves(sparse.weights(params)))


def kkt_violation(flat_p, flat_g, lam) -> jax.Array:
    """max over entries of the distance of −∇f from λ∂|·| (λⱼ = 0 for free entries): 0 at the optimum.

    Args:
        flat_p, flat_g: (n,) parameters and gradient of the smooth part. lam: (n,) per-entry strengths.
    """
    nonzero = jnp.abs(flat_g + lam * jnp.sign(flat_p))
    zero = jnp.maximum(jnp.abs(flat_g) - lam, 0)
    return jnp.max(jnp.where(flat_p != 0, nonzero, zero))


def certify(sparse: Sparse, params, loss, grads) -> tuple[jax.Array, jax.Array]:
    """(full objective, KKT violation) at ``params`` from the smooth ``loss`` and its ``grads``."""
    flat_p = ravel_pytree(params)[0]
    lam = sparse.l1 * penalty_mask(sparse.weights, params)
    return loss + l1_value(sparse, params), kkt_violation(flat_p, ravel_pytree(grads)[0], lam)


def coordinate_descent(H, g, p, lam, max_sweeps: int = 200):
    """argmin_z g·(z − p) + ½(z − p)ᵀH(z − p) + Σⱼ λⱼ|zⱼ| by cyclic coordinate descent.

    Args:
        H: (n, n) positive semidefinite Hessian. g, p, lam: (n,).
        max_sweeps: the most passes over the coordinates; fewer once no coordinate moves by more
            than eps^¾ (relative), e.g. 1.8e-12 in float64.

    Returns:
        (n,) z; every entry with λⱼ > 0 that the threshold zeroes is exactly 0.
    """
    tol = jnp.finfo(p.dtype).eps ** 0.75
    diag = jnp.maximum(jnp.diag(H), jnp.finfo(p.dtype).tiny)

    def coordinate(j, carry):
        z, r, move = carry  # r = H (z − p), kept up to date
        new = soft_threshold(diag[j] * z[j] - g[j] - r[j], lam[j]) / diag[j]
        delta = new - z[j]
        return z.at[j].set(new), r + H[:, j] * delta, jnp.maximum(move, jnp.abs(delta))

    def sweep(carry):
        z, r, _, k = carry
        z, r, move = jax.lax.fori_loop(0, p.size, coordinate, (z, r, jnp.zeros((), p.dtype)))
        return z, r, move, k + 1

    def going(carry):
        z, _, move, k = carry
        return (move > tol * (1 + jnp.max(jnp.abs(z)))) & (k < max_sweeps)

    start = (p, jnp.zeros_like(p), jnp.asarray(jnp.inf, p.dtype), jnp.asarray(0))
    return jax.lax.while_loop(going, sweep, start)[0]


class ProxNewtonState(NamedTuple):
    """The step the line search took last (1 = the full proximal Newton step), for inspection."""

    step_size: jax.Array


def takes_l1(opt_state) -> bool:
    """Whether an optimizer state is (or chains) :func:`prox_newton`'s, the one update that uses ``sparse``."""
    states = jax.tree_util.tree_leaves(opt_state, is_leaf=lambda s: isinstance(s, ProxNewtonState))
    return any(isinstance(s, ProxNewtonState) for s in states)


def prox_newton(max_backtracking_steps: int = 40, max_sweeps: int = 200) -> optax.GradientTransformationExtraArgs:
    """Proximal Newton for f + λ‖w‖₁: a coordinate-descent direction and an Armijo backtracking step.

    The Hessian of f is ``jax.hessian`` of the ``value_fn`` training passes (any model, flattened with
    ``ravel_pytree``). With ``sparse`` absent (or λ = 0) this is Newton's method with an exact solve.

    Returns:
        A transformation whose ``update`` takes ``value`` (f at params), ``value_fn`` and ``sparse``.
    """

    def init(params):
        return ProxNewtonState(step_size=jnp.ones((), ravel_pytree(params)[0].dtype))

    def update(updates, state, params=None, *, value, value_fn, sparse: Sparse | None = None, **extra):
        del state, extra
        flat_g, unravel = ravel_pytree(updates)
        flat_p, unravel_p = ravel_pytree(params)
        l1 = jnp.zeros((), flat_p.dtype) if sparse is None else jnp.asarray(sparse.l1, flat_p.dtype)
        lam = l1 * penalty_mask(sparse.weights, params) if sparse is not None else jnp.zeros_like(flat_p)

        def full(flat):  # f + λ‖w‖₁
            return value_fn(unravel_p(flat)) + jnp.sum(lam * jnp.abs(flat))

        hessian = jax.hessian(lambda flat: value_fn(unravel_p(flat)))(flat_p)
        z = coordinate_descent(hessian, flat_g, flat_p, lam, max_sweeps)
        d = z - flat_p
        start = value + jnp.sum(lam * jnp.abs(flat_p))
        decrease = jnp.vdot(flat_g, d) + jnp.sum(lam * (jnp.abs(z) - jnp.abs(flat_p)))
        # Near the optimum the predicted decrease is at the rounding level of F: allow that much.
        slack = 10 * jnp.finfo(flat_p.dtype).eps * jnp.abs(start)

        def shorter(carry):
            t, k = carry
            return t * 0.5, k + 1

        def failing(carry):
            t, k = carry
            return (full(flat_p + t * d) > start + 1e-4 * t * decrease + slack) & (k < max_backtracking_steps)

        t, k = jax.lax.while_loop(failing, shorter, (jnp.ones((), flat_p.dtype), jnp.asarray(0)))
        t = jnp.where(k < max_backtracking_steps, t, 0.0)
        # t = 1 gives p + (z − p), which is exactly 0 where z is: the threshold's zeros survive.
        step = jnp.where(t == 1, d, t * d)
        return unravel(step.astype(flat_g.dtype)), ProxNewtonState(step_size=t)

    return optax.GradientTransformationExtraArgs(init, update)
