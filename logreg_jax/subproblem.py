"""Proximal Newton's subproblem: which coordinates it covers (the working set) and how it is solved.

At an iterate p with gradient g of the smooth part f and per-entry L1 strengths λ, the subproblem is
minᵤ g·(z − p) + ½ (z − p)ᵀH(z − p) + Σⱼ λⱼ|zⱼ|. With many features most weights are zero and stay
zero: an entry with wⱼ = 0 and |gⱼ| ≤ λⱼ already satisfies its optimality condition. So the
subproblem is restricted to a working set (glmnet's active set, skglm's working sets): the free
entries and nonzero weights, then the zero weights that violate their condition, largest violation
first. Only that block of H is formed (k × k instead of n × n); the entries outside keep dⱼ = 0.
That is still a descent step, and the KKT violation over all n entries (:mod:`logreg_jax.proximal`)
decides convergence, so a too small set costs steps, never correctness.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def soft_threshold(x, t):
    """argminᵤ ½(u − x)² + t|u| = sign(x)·max(|x| − t, 0), elementwise; exactly 0 where |x| ≤ t."""
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - t, 0)


def select_working_set(flat_p, flat_g, lam, size: int) -> jax.Array:
    """(size,) sorted indices of the entries farthest from their optimality condition.

    The score is the entry's KKT violation: |gⱼ + λⱼ sign pⱼ| where pⱼ ≠ 0 or λⱼ = 0 (≥ 0), and
    |gⱼ| − λⱼ where pⱼ = 0 (negative when satisfied). So every nonzero or violating entry is in the
    set when they fit; when they do not, the ones farthest from optimal move and those already
    optimal on the last block make room, so no violator is locked out by a full set.

    Args:
        flat_p, flat_g, lam: (n,) parameters, gradient of the smooth part, per-entry strengths
            (0 for free entries such as the bias). size: k ≤ n, static.

    Returns:
        (k,) int indices, ascending.
    """
    active = (flat_p != 0) | (lam == 0)
    violation = jnp.where(active, jnp.abs(flat_g + lam * jnp.sign(flat_p)), jnp.abs(flat_g) - lam)
    return jnp.sort(jax.lax.top_k(violation, size)[1])


def hessian_block(f, flat, idx) -> jax.Array:
    """(k, k) block over the entries ``idx`` (k,) of the Hessian of f: (n,) → () at (n,) ``flat``.

    Any model: ``jax.hessian`` of f restricted to those entries (k directions, not n).
    """
    return jax.hessian(lambda sub: f(flat.at[idx].set(sub)))(flat[idx])


def coordinate_descent(H, g, p, lam, max_sweeps: int = 200):
    """argmin_z g·(z − p) + ½(z − p)ᵀH(z − p) + Σⱼ λⱼ|zⱼ| by cyclic coordinate descent.

    Args:
        H: (k, k) positive semidefinite Hessian block. g, p, lam: (k,).
        max_sweeps: the most passes over the coordinates; fewer once no coordinate moves by more
            than eps^¾ (relative), e.g. 1.8e-12 in float64.

    Returns:
        (k,) z; every entry with λⱼ > 0 that the threshold zeroes is exactly 0.
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
