"""Exact leave-one-out refits of a linear model (:mod:`logreg_jax.report.linear`), all rows in batches.

Removing row i takes G_iᵀ S_i G_i (G_i = φ_iᵀ ⊗ I_K, rank K) off the Hessian, so H₋ᵢ(θ̂)⁻¹ is H⁻¹ plus
a rank-K Woodbury correction: one inverse of H serves every row. Each refit starts at the one-step
Newton estimate θ̂ + H₋ᵢ(θ̂)⁻¹ g_i and takes Newton steps H₋ᵢ(θ) δ = ∇, each solved by a few
conjugate-gradient iterations preconditioned by H₋ᵢ(θ̂)⁻¹, until its mean gradient norm is ≤ tol / 10.
A batch of rows iterates until its slowest row is done, so the rows are first sorted by the length of
their influence step H⁻¹ g_i (how far the removal moves θ̂), which groups rows that need as many steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from logreg_jax.report.linear import Linear, curvatures, gradient, hvp_at, residuals, row_losses, scores

CG_ITERATIONS = 3  # per Newton step: the preconditioner is close to the Hessian, so a few suffice
MAX_STEPS = 40  # Newton steps per refit at most
CHUNK = 64  # rows per batch at most: small, so that one hard row holds up few others


def batches(m: int, size: int):
    """(n, b) row indices in n batches of b ≤ size covering range(m), the last padded with m − 1."""
    n = -(-m // min(size, m))
    b = -(-m // n)
    return jnp.minimum(jnp.arange(n * b), m - 1).reshape(n, b)


def downdates(lin: Linear, Hinv, A, rows):
    """For rows (B,): U (B, P, K) = H⁻¹ G_iᵀ and C (B, K, K) = (I − S_i G_i U_i)⁻¹ S_i, so that
    H₋ᵢ⁻¹ v = H⁻¹ v + U_i C_i U_iᵀ v (Woodbury; this form needs no S⁻¹: the softmax's S is singular)."""
    phi, (d, K) = lin.Phi[rows], A.shape
    U = jnp.einsum("pak,ba->bpk", Hinv.reshape(-1, d, K), phi)
    GU = jnp.einsum("ba,balk->blk", phi, U.reshape(-1, d, K, K))
    S = curvatures(phi @ A, lin.y[rows])
    if K == 1:  # one logit: C = s / (1 − s h), h the row's leverage-like x_iᵀ H⁻¹ x_i
        return U, S / (1 - S * GU)
    # With S = L Lᵀ, (I − S M)⁻¹ S = L (I − Lᵀ M L)⁻¹ Lᵀ, whose inner matrix is symmetric positive
    # definite (its eigenvalues are 1 − the row's leverages): both by symmetric eigendecompositions.
    s, Q = jnp.linalg.eigh(S)
    L = Q * jnp.sqrt(jnp.maximum(s, 0))[:, None, :]
    Lt = L.transpose(0, 2, 1)
    nu, R = jnp.linalg.eigh(jnp.eye(K, dtype=A.dtype) - Lt @ GU @ L)
    LR = L @ R
    return U, (LR / nu[:, None, :]) @ LR.transpose(0, 2, 1)


def precondition(Hinv, U, C, V):
    """H₋ᵢ(θ̂)⁻¹ V for each of B rows: (d, B, K) → (d, B, K)."""
    d, B, K = V.shape
    v = V.transpose(1, 0, 2).reshape(B, -1)
    low = jnp.einsum("bpk,bk->bp", U, jnp.einsum("bkl,bl->bk", C, jnp.einsum("bpk,bp->bk", U, v)))
    return (v @ Hinv + low).reshape(B, d, K).transpose(1, 0, 2)


def _dot(a, b):
    return jnp.sum(a * b, axis=(0, 2))  # (B,): one inner product per refit


def _ratio(a, b):  # a / b per refit, as (1, B, 1); 0 where b is 0 (a refit whose residual vanished)
    return jnp.where(b > 0, a / jnp.where(b > 0, b, 1), 0)[None, :, None]


def _newton_step(lin: Linear, T, G, W, solve):
    """δ with H₋ᵢ(T) δ ≈ G for B refits: conjugate gradients from zero, preconditioned by ``solve``."""
    hvp = hvp_at(lin, T, W)

    def cg(_, state):
        x, r, p, rz = state
        z = solve(r)
        rz_next = _dot(r, z)
        p = z + _ratio(rz_next, rz) * p  # rz = inf at the start: p = z
        Ap = hvp(p)
        alpha = _ratio(rz_next, _dot(p, Ap))
        return x + alpha * p, r - alpha * Ap, p, rz_next

    start = (jnp.zeros_like(G), G, jnp.zeros_like(G), jnp.full(G.shape[1], jnp.inf, G.dtype))
    return jax.lax.fori_loop(0, CG_ITERATIONS, cg, start)[0]


def refits(lin: Linear, Hinv, A, rows, test: Linear, tol):
    """The refits without each of rows (B,), from the one-step Newton estimate, taking up to ``MAX_STEPS``
    Newton steps while one of them has a mean gradient norm above tol / 10.

    Returns:
        (B, 2P + 3): per row its refitted minus full parameters (P), one-step Newton change (P), the
        refit's mean gradient norm, and the changes of the mean loss on ``test`` for both.
    """
    m = lin.Phi.shape[0]
    U, C = downdates(lin, Hinv, A, rows)
    phi = lin.Phi[rows]
    r = residuals((phi @ A)[:, None], lin.y[rows], jnp.ones((len(rows), 1), A.dtype))[:, 0]  # (B, K)
    newton = precondition(Hinv, U, C, phi.T[:, :, None] * r[None])  # g_i = φ_i ⊗ r_i
    W = (jnp.arange(m)[:, None] != rows[None]).astype(A.dtype)  # (m, B): row i left out

    def body(state):
        """The gradients at T, and a Newton step unless every refit is done: then the loop ends."""
        k, T, _, _ = state
        G = gradient(lin, T, W)
        norms = jnp.sqrt(_dot(G, G)) / (m - 1)
        busy = norms > tol / 10
        go = jnp.any(busy) & (k < MAX_STEPS)
        step = jax.lax.cond(
            go, lambda G: _newton_step(lin, T, G, W, lambda V: precondition(Hinv, U, C, V)), jnp.zeros_like, G
        )
        return k + 1, T - jnp.where(busy[None, :, None], step, 0), norms, go

    start = (0, A[:, None] + newton, jnp.zeros(len(rows), A.dtype), True)
    _, T, norms, _ = jax.lax.while_loop(lambda state: state[3], body, start)
    Z = scores(test, jnp.concatenate([T, A[:, None] + newton], axis=1))
    losses = jnp.mean(row_losses(Z, test.y), axis=0) - jnp.mean(row_losses(test.Phi @ A, test.y))
    flat = [a.transpose(1, 0, 2).reshape(len(rows), -1) for a in (T - A[:, None], newton)]
    return jnp.concatenate([*flat, norms[:, None], losses.reshape(2, -1).T], axis=1)


def leave_one_out(lin: Linear, Hinv, A, test: Linear, tol, chunk: int, effort):
    """Every row's refit: (m, P) refitted minus full parameters, (m, P) one-step Newton changes,
    (m,) mean gradient norms of the refits, (2, m) changes of the mean loss on ``test`` for both.

    The rows are refitted in batches of ``chunk`` in the order of ``effort`` (m,), an estimate of how
    far each refit moves (the influence step ‖H⁻¹ g_i‖), so that a batch holds rows that need about as
    many Newton steps.
    """
    m, P = lin.Phi.shape[0], A.size
    order = jnp.argsort(effort)
    out = jax.lax.map(lambda rows: refits(lin, Hinv, A, rows, test, tol), order[batches(m, chunk)])
    out = jnp.zeros((m, out.shape[-1]), A.dtype).at[order].set(out.reshape(-1, out.shape[-1])[:m])
    return out[:, :P], out[:, P : 2 * P], out[:, 2 * P], out[:, 2 * P + 1 :].T
