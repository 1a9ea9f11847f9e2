"""Differentiating through the optimum: θ*(λ) and its derivatives by the implicit function theorem.

At the optimum of the training objective C(θ, λ), ∇_θ C(θ*(λ), λ) = 0 for every λ; differentiating
that identity gives H dθ* + ∂_λ∇_θ C dλ = 0, so dθ*/dλ = −H⁻¹ ∂²C/∂θ∂λ with H the Hessian at θ*.
:func:`solution` trains to θ* (damped Newton) and carries that rule as a ``jax.custom_jvp``: JAX
transposes the linear rule for reverse mode (``jax.grad``, ``jax.vjp``), uses it as is in forward
mode (``jax.jvp``, ``jax.jacfwd``), and, since the rule calls :func:`solution` again, differentiates
it to any order. The solve uses a Cholesky factorization of the exact Hessian up to
:data:`CHOLESKY_MAX` parameters and conjugate gradients on Hessian-vector products above.

Softmax regression's unpenalized biases make C flat along b + c·1 (the same probabilities), so H is
singular there; the objective solved here adds (Σ_k b_k)² / 2, which leaves the probabilities and
the loss unchanged and picks the optimum with Σ_k b_k = 0, where H is positive definite.

:func:`unrolled_solution` is the reference: ``steps`` of gradient descent in a ``lax.scan``, which
``jax.grad`` differentiates step by step.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from logreg_jax.errors import LogregError
from logreg_jax.loss import l2_penalty, sample_losses
from logreg_jax.models.base import Model

CHOLESKY_MAX = 2000  # parameters; above, H is never formed (n² memory, n³ factorization)
NEWTON_STEPS = 100  # the most damped Newton steps of one inner solve
GRAD_TOL = 1e-10  # ‖∇C‖∞ an inner solve must reach (float64); above it the tangents are NaN
_STEP_SIZES = 0.5 ** jnp.arange(20.0)  # the backtracking candidates of each Newton step


class NotConverged(LogregError):
    """The inner solve stopped short of the optimum, or H is not positive definite there."""


def training_objective(model: Model, params, X, y, l2, w=None):
    """The weighted mean cross-entropy plus (l2 / 2 m_w) Σ_j w_j² (and softmax's gauge term).

    With ``w`` None (or all ones) this is :func:`logreg_jax.loss.objective`; 0/1 row weights select
    the training rows of a fold without changing the array shapes, so folds can be vmapped.

    Args:
        model: the :class:`Model` (binary logits (m,) or K-class scores (m, K)).
        params: its parameter pytree.
        X: (m, n) inputs; y: (m,) labels.
        l2: scalar strength, or (p,) one per weight (see :func:`~logreg_jax.loss.l2_penalty`).
        w: optional (m,) row weights.

    Returns:
        Scalar.
    """
    z = model.logits(params, X)
    w = jnp.ones(X.shape[0], z.dtype) if w is None else w.astype(z.dtype)
    m = jnp.sum(w)
    gauge = model.gauge(params) if model.gauge is not None else 0.0
    return sample_losses(z, y) @ w / m + l2_penalty(model.weights(params), l2, m) + gauge


def validation_loss(model: Model, params, X, y, w=None):
    """The (weighted) mean cross-entropy, unpenalized: what the held-out rows score."""
    z = model.logits(params, X)
    w = jnp.ones(X.shape[0], z.dtype) if w is None else w.astype(z.dtype)
    return sample_losses(z, y) @ w / jnp.sum(w)


def _flat_objective(model, unravel, X, y, w):
    return lambda flat, l2: training_objective(model, unravel(flat), X, y, l2, w)


def _newton(f, flat, l2, steps):
    """Damped Newton on f(·, l2) from ``flat``: each step the largest of :data:`_STEP_SIZES` that
    decreases f. It polishes past :data:`GRAD_TOL` (to 1e-3 of it) and stops early only when no
    step decreases f any more (rounding), so refits compared by finite differences are as tight as
    float64 allows."""
    grad, hess = jax.grad(f), jax.hessian(f)

    def step(carry):
        i, t, _, _ = carry
        g = grad(t, l2)
        d = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(hess(t, l2)), g)
        values = jax.vmap(lambda s: f(t - s * d, l2))(_STEP_SIZES)
        # Near the optimum f is flat to rounding and cannot rank the steps; the full Newton step is right there.
        ok = (values <= f(t, l2)) | ((_STEP_SIZES == 1) & (jnp.max(jnp.abs(g)) < 1e-6))
        s = jnp.where(jnp.any(ok), _STEP_SIZES[jnp.argmax(ok)], 0.0)
        t_new = t - s * d
        return i + 1, t_new, jnp.max(jnp.abs(grad(t_new, l2))), jnp.all(t_new == t)

    def more(carry):
        i, t, gnorm, stalled = carry
        return (i < steps) & (gnorm > 1e-3 * GRAD_TOL) & ~stalled & jnp.all(jnp.isfinite(t))

    g0 = jnp.max(jnp.abs(grad(flat, l2)))
    return jax.lax.while_loop(more, step, (0, flat, g0, False))[1]


def _solve_linear(f, theta, l2, b, solver):
    """H⁻¹ b at θ*: Cholesky of the exact Hessian, or CG on Hessian-vector products."""
    if solver == "auto":
        solver = "cholesky" if theta.size <= CHOLESKY_MAX else "cg"
    if solver == "cholesky":
        return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(jax.hessian(f)(theta, l2)), b)
    grad = jax.grad(f)
    hvp = lambda v: jax.jvp(lambda t: grad(t, l2), (theta,), (v,))[1]  # noqa: E731
    # The solve as its own linear primitive (H is symmetric, so it is its own transpose): reverse
    # mode transposes it without differentiating the CG iterations.
    cg = lambda matvec, rhs: jax.scipy.sparse.linalg.cg(matvec, rhs, tol=1e-12, maxiter=10 * theta.size)[0]  # noqa: E731
    return jax.lax.custom_linear_solve(hvp, b, cg, symmetric=True)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 6, 7))
def _solution(model, init, X, y, l2, w, steps, solver):
    flat, unravel = ravel_pytree(init)
    f = _flat_objective(model, unravel, X, y, w)
    return unravel(_newton(f, jax.lax.stop_gradient(flat), jax.lax.stop_gradient(l2), steps))


@_solution.defjvp
def _solution_jvp(model, steps, solver, primals, tangents):
    init, X, y, l2, w = primals
    _, dX, _, dl2, dw = tangents
    params = _solution(model, init, X, y, l2, w, steps, solver)  # again a custom_jvp: higher orders work
    theta, unravel = ravel_pytree(params)
    f = lambda t, X, l2, w: training_objective(model, unravel(t), X, y, l2, w)  # noqa: E731
    grad = jax.grad(f)
    # ∂(∇_θ C)/∂(X, λ, w) along the tangents: the right-hand side of H dθ = −b.
    b = jax.jvp(lambda X, l2, w: grad(theta, X, l2, w), (X, l2, w), (dX, dl2, dw))[1]
    dtheta = -_solve_linear(lambda t, l2: f(t, X, l2, w), theta, l2, b, solver)
    # A θ short of the optimum has no implicit derivative: NaN, never a silently wrong number.
    converged = jnp.max(jnp.abs(grad(theta, X, l2, w))) <= GRAD_TOL * 10
    # A factor, not a select: its transpose (reverse mode) carries the NaN too.
    return params, unravel(dtheta * jnp.where(converged, 1.0, jnp.nan))


def solution(model: Model, init, X, y, l2, w=None, *, steps: int = NEWTON_STEPS, solver: str = "auto"):
    """θ*(λ), the minimizer of :func:`training_objective`, differentiable in ``l2`` (and X, w).

    Args:
        model: the :class:`Model`; its Hessian must be positive definite at the optimum.
        init: the starting parameter pytree (a warm start; θ* does not depend on it, nor do derivatives).
        X: (m, n) inputs; y: (m,) labels.
        l2: scalar λ, or (p,) one per weight.
        w: optional (m,) row weights (a fold's training rows).
        steps: the most damped Newton steps.
        solver: ``"cholesky"``, ``"cg"`` or ``"auto"`` (Cholesky up to :data:`CHOLESKY_MAX` parameters).

    Returns:
        The parameter pytree at the optimum; its tangents are NaN where the solve did not reach
        ‖∇C‖∞ ≤ 10·:data:`GRAD_TOL` (check with :func:`check_optimum` outside ``jit``).
    """
    if w is None:
        w = jnp.ones(X.shape[0], X.dtype)
    return _solution(model, init, X, y, l2, w, steps, solver)


def optimum_report(model: Model, params, X, y, l2, w=None):
    """(‖∇C‖∞, smallest Hessian eigenvalue) at ``params``: jittable, vmappable."""
    theta, unravel = ravel_pytree(params)
    f = lambda t: training_objective(model, unravel(t), X, y, l2, w)  # noqa: E731
    return jnp.max(jnp.abs(jax.grad(f)(theta))), jnp.linalg.eigvalsh(jax.hessian(f)(theta))[0]


def check_optimum(model: Model, params, X, y, l2, w=None, tol: float = GRAD_TOL) -> None:
    """Raises :class:`NotConverged` naming λ and ‖∇C‖∞ unless ``params`` is a strict minimum."""
    gnorm, low = (float(v) for v in optimum_report(model, params, X, y, l2, w))
    where = f"λ = {jnp.asarray(l2).tolist()}"
    if not gnorm <= tol:
        raise NotConverged(f"{where}: the inner solve stopped at ‖∇C‖∞ = {gnorm:.3g} > {tol:g}; no hypergradient")
    if not low > 0:
        raise NotConverged(
            f"{where}: the Hessian at the optimum is not positive definite (smallest eigenvalue {low:.3g}); "
            "θ*(λ) is not a differentiable function of λ there"
        )


def unrolled_solution(model: Model, init, X, y, l2, w=None, *, steps: int, learning_rate: float):
    """The reference: ``steps`` of gradient descent (optax.sgd) from ``init`` in a ``lax.scan``.

    ``jax.grad`` of anything computed from the result differentiates every step; as ``steps``
    grows its derivative in λ converges to that of :func:`solution`.
    """
    opt = optax.sgd(learning_rate)
    loss = lambda p: training_objective(model, p, X, y, l2, w)  # noqa: E731

    def step(carry, _):
        p, state = carry
        updates, state = opt.update(jax.grad(loss)(p), state, p)
        return (optax.apply_updates(p, updates), state), None

    return jax.lax.scan(step, (init, opt.init(init)), length=steps)[0][0]
