"""The L1 penalty's proximal machinery: the penalty, its certificate, and proximal Newton as an optax transformation.

The objective is the smooth part f (mean cross-entropy + L2, what ``jax.value_and_grad`` differentiates)
plus λ Σⱼ |wⱼ| over the penalized entries (``model.weights``; the bias is free), λ = ``loss.l1`` / m.
Proximal Newton (Lee, Sun & Saunders, 2014) minimizes, at each iterate p with gradient g and Hessian H
of f, the model g·d + ½ dᵀHd + λ‖p + d‖₁ by cyclic coordinate descent, each coordinate an exact soft
threshold (so a weight the threshold sets to zero is 0.0, not 1e-17), optionally on a working set of
entries only (:mod:`logreg_jax.subproblem`), then backtracks on the full objective. The KKT violation
over every entry certifies convergence without another pass over the data."""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from logreg_jax.subproblem import coordinate_descent, hessian_block, select_working_set


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


class ProxNewtonState(NamedTuple):
    """The step the line search took last (1 = the full proximal Newton step), for inspection."""

    step_size: jax.Array


def takes_l1(opt_state) -> bool:
    """Whether an optimizer state is (or chains) :func:`prox_newton`'s, the one update that uses ``sparse``."""
    states = jax.tree_util.tree_leaves(opt_state, is_leaf=lambda s: isinstance(s, ProxNewtonState))
    return any(isinstance(s, ProxNewtonState) for s in states)


def prox_newton(
    max_backtracking_steps: int = 40, max_sweeps: int = 200, working_set: int | None = None
) -> optax.GradientTransformationExtraArgs:
    """Proximal Newton for f + λ‖w‖₁: a coordinate-descent direction and an Armijo backtracking step.

    Each step solves the quadratic model on a working set of at most ``working_set`` entries
    (:func:`~logreg_jax.subproblem.select_working_set`; None = all of them, the exact Newton model).
    Its Hessian block is ``curvature(params, idx)`` when the caller knows the structure (e.g.
    Xᵀ diag(σ(1 − σ)) X for a model linear in its features), else ``jax.hessian`` of ``value_fn``
    restricted to those entries (any model, flattened with ``ravel_pytree``). With ``sparse`` absent
    (or λ = 0) this is Newton's method with an exact solve.

    Returns:
        A transformation whose ``update`` takes ``value`` (f at params), ``value_fn``, ``sparse`` and
        optionally ``curvature``: (params, (k,) flat indices) → (k, k) Hessian block of f.
    """

    def init(params):
        return ProxNewtonState(step_size=jnp.ones((), ravel_pytree(params)[0].dtype))

    def update(updates, state, params=None, *, value, value_fn, sparse: Sparse | None = None, curvature=None, **extra):
        del state, extra
        flat_g, unravel = ravel_pytree(updates)
        flat_p, unravel_p = ravel_pytree(params)
        l1 = jnp.zeros((), flat_p.dtype) if sparse is None else jnp.asarray(sparse.l1, flat_p.dtype)
        lam = l1 * penalty_mask(sparse.weights, params) if sparse is not None else jnp.zeros_like(flat_p)

        def full(flat):  # f + λ‖w‖₁
            return value_fn(unravel_p(flat)) + jnp.sum(lam * jnp.abs(flat))

        size = flat_p.size if working_set is None else min(working_set, flat_p.size)
        idx = jnp.arange(size) if size == flat_p.size else select_working_set(flat_p, flat_g, lam, size)
        if curvature is None:
            hessian = hessian_block(lambda flat: value_fn(unravel_p(flat)), flat_p, idx)
        else:
            hessian = curvature(params, idx)
        sub = coordinate_descent(hessian, flat_g[idx], flat_p[idx], lam[idx], max_sweeps)
        d = jnp.zeros_like(flat_p).at[idx].set(sub - flat_p[idx])  # 0 outside the working set
        z = flat_p + d
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
