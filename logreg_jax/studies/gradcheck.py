"""Analytic vs autodiff vs loop vs finite differences: errors against a float64 reference, timings.

Every method is evaluated in the case's dtype and compared with an independent float64 NumPy
evaluation of the closed forms. The error measure is

    rel_err = max_j |a_j − b_j| / max_j Σ_i |t_ij|,

the largest error divided by the largest magnitude of the terms t_ij summed into an entry (for
the gradient t_ij = (σ_i − y_i) x_ij / m plus the penalty). That is what floating point can be
held to: a sum is computed to within ~eps Σ|t|. For the Hessian the denominator is exactly
max|H| (positive semi-definite: its largest entry is on the diagonal, a sum of terms ≥ 0); for
the gradient and HVP it is ≥ max|b|, and it stays finite at the optimum, where ∇C ≈ 0 and
max|a − b| / max|b| (also recorded, as ``rel_to_value``) measures nothing but cancellation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.loss import autodiff_gradient, autodiff_hessian, autodiff_hvp, cross_entropy
from logreg_jax.models.logistic import analytic_gradient, analytic_hessian, analytic_hvp, loop_gradient
from logreg_jax.studies.timing import time_calls

METHODS = {
    "gradient": ("analytic", "autodiff", "loop", "finite_diff"),
    "hessian": ("analytic", "autodiff", "finite_diff"),
    "hvp": ("analytic", "autodiff", "finite_diff"),
}


class Point(NamedTuple):
    """Where derivatives are compared: a label ("draw 0", "optimum"), θ (n,) and an HVP direction v (n,)."""

    label: str
    theta: np.ndarray
    v: np.ndarray


class Problem(NamedTuple):
    """One dataset prepared for the comparison: float64 inputs X (m, n) with bias, labels y (m,)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    l2: float
    points: tuple[Point, ...]


class Reference(NamedTuple):
    """Float64 values of the derivatives and the magnitudes of their summed terms."""

    gradient: np.ndarray
    gradient_terms: np.ndarray
    hessian: np.ndarray
    hvp: np.ndarray
    hvp_terms: np.ndarray


def reference(theta, X, y, v, l2=0.0) -> Reference:
    """The closed forms in float64 NumPy (no JAX), with Σ|terms| for the error measure."""
    theta, X, y, v = (np.asarray(a, np.float64) for a in (theta, X, y, v))
    m = X.shape[0]
    mask = np.ones_like(theta)
    mask[0] = 0.0
    z = X @ theta
    with np.errstate(over="ignore"):
        s, s_minus = 1 / (1 + np.exp(-z)), 1 / (1 + np.exp(z))
    residual, w, absX = s - y, s * s_minus, np.abs(X)
    return Reference(
        gradient=X.T @ residual / m + l2 / m * mask * theta,
        gradient_terms=absX.T @ np.abs(residual) / m + l2 / m * mask * np.abs(theta),
        hessian=(X.T * w) @ X / m + np.diag(l2 / m * mask),
        hvp=X.T @ (w * (X @ v)) / m + l2 / m * mask * v,
        hvp_terms=absX.T @ (w * (absX @ np.abs(v))) / m + l2 / m * mask * np.abs(v),
    )


def errors(a, b, terms=None) -> dict:
    """max |a − b|, ``rel_err`` (over max Σ|terms|, default |b|) and ``rel_to_value`` (over max |b|)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    diff = float(np.max(np.abs(a - b)))
    tiny = np.finfo(np.float64).tiny
    scale = float(np.max(np.abs(b if terms is None else terms)))
    return {
        "max_abs_err": diff,
        "rel_err": diff / max(scale, tiny),
        "rel_to_value": diff / max(float(np.max(np.abs(b))), tiny),
    }


def _step(dtype) -> float:
    """eps^(1/3): balances the truncation error O(h²) of central differences against round-off O(eps/h)."""
    return float(np.finfo(dtype).eps) ** (1 / 3)


def central_differences(f: Callable, theta, direction=None) -> np.ndarray:
    """Central differences of ``f`` at θ, in θ's dtype, with step eps^(1/3) · max(1, |θ|).

    Args:
        f: (n,) → scalar or array, evaluated in θ's dtype.
        theta: (n,) point.
        direction: None for every coordinate direction (the Jacobian, stacked on the last axis),
            or an (n,) vector (the directional derivative).

    Returns:
        float64 NumPy array: f's shape + (n,) for coordinates, f's shape for a direction.
    """
    theta = jnp.asarray(theta)
    scale = max(1.0, float(jnp.max(jnp.abs(theta))))
    dirs = [direction] if direction is not None else list(jnp.eye(theta.size, dtype=theta.dtype))
    columns = []
    for d in dirs:
        d = jnp.asarray(d, theta.dtype)
        h = _step(theta.dtype) * scale / float(jnp.max(jnp.abs(d)))
        plus, minus = theta + h * d, theta - h * d
        # Divide by the step actually taken once θ ± h d is rounded to the dtype.
        taken = float(np.max(np.abs(np.asarray(plus, np.float64) - np.asarray(minus, np.float64))))
        taken /= float(jnp.max(jnp.abs(d)))
        columns.append((np.asarray(f(plus), np.float64) - np.asarray(f(minus), np.float64)) / taken)
    return columns[0] if direction is not None else np.stack(columns, axis=-1)


def derivatives(theta, X, y, v, l2: float) -> dict:
    """Every method's gradient, Hessian and HVP, computed in the dtype of the arrays given."""
    loss = lambda t: cross_entropy(t, X, y, l2)  # noqa: E731
    grad = lambda t: analytic_gradient(t, X, y, l2)  # noqa: E731
    return {
        "gradient": {
            "analytic": grad(theta),
            "autodiff": autodiff_gradient(theta, X, y, l2),
            "loop": loop_gradient(theta, X, y, l2),
            "finite_diff": central_differences(loss, theta),
        },
        "hessian": {
            "analytic": analytic_hessian(theta, X, y, l2),
            "autodiff": autodiff_hessian(theta, X, y, l2),
            "finite_diff": central_differences(grad, theta),
        },
        "hvp": {
            "analytic": analytic_hvp(theta, X, y, v, l2),
            "autodiff": autodiff_hvp(theta, X, y, v, l2),
            "finite_diff": central_differences(grad, theta, v),
        },
    }


def compare_methods(problem: Problem, dtypes=("float32", "float64")) -> list[dict]:
    """One row per (point, dtype, quantity, method): the errors against the float64 reference.

    Returns:
        Dicts with dataset, m, n, point, dtype, quantity, method, max_abs_err, rel_err,
        rel_to_value, and ``ref_max_abs`` (max |reference|).
    """
    rows = []
    m, n = problem.X.shape
    with jax.enable_x64(True):
        for point in problem.points:
            ref = reference(point.theta, problem.X, problem.y, point.v, problem.l2)
            scales = {
                "gradient": (ref.gradient, ref.gradient_terms),
                "hessian": (ref.hessian, None),
                "hvp": (ref.hvp, ref.hvp_terms),
            }
            for dtype in dtypes:
                args = [jnp.asarray(a, dtype) for a in (point.theta, problem.X, problem.y, point.v)]
                found = derivatives(*args, problem.l2)
                for quantity, methods in METHODS.items():
                    value, terms = scales[quantity]
                    for method in methods:
                        rows.append(
                            {
                                "dataset": problem.name,
                                "m": m,
                                "n": n,
                                "point": point.label,
                                "dtype": dtype,
                                "quantity": quantity,
                                "method": method,
                                **errors(found[quantity][method], value, terms),
                                "ref_max_abs": float(np.max(np.abs(value))),
                            }
                        )
    return rows


def median_time(fn: Callable, args, repeats: int) -> float:
    """Median seconds per call of ``fn(*args)`` over ``repeats`` calls, after one warm-up call
    that compiles (see :func:`logreg_jax.studies.timing.time_calls`)."""
    return time_calls(fn, args, repeats)[1]


def time_gradients(theta, X, y, l2: float, dtypes, repeats: int, loop_repeats: int = 3) -> list[dict]:
    """Seconds per call of the jitted analytic and autodiff gradients and the NumPy loop, per dtype.

    Returns:
        Dicts with m, n, dtype, analytic_s, autodiff_s, loop_s, and ratio (autodiff / analytic).
    """
    rows = []
    with jax.enable_x64(True):
        for dtype in dtypes:
            args = [jnp.asarray(a, dtype) for a in (theta, X, y)] + [l2]
            t_analytic = median_time(analytic_gradient, args, repeats)
            t_autodiff = median_time(autodiff_gradient, args, repeats)
            loop_args = [np.asarray(a, dtype) for a in (theta, X, y)] + [l2]
            t_loop = median_time(loop_gradient, loop_args, min(repeats, loop_repeats))
            rows.append(
                {
                    "m": X.shape[0],
                    "n": X.shape[1],
                    "dtype": dtype,
                    "analytic_s": t_analytic,
                    "autodiff_s": t_autodiff,
                    "loop_s": t_loop,
                    "ratio": t_autodiff / t_analytic,
                }
            )
    return rows


def worst(rows: list[dict], key: str = "rel_err") -> dict:
    """{(quantity, method, dtype): the largest ``key`` over all datasets and points}."""
    out: dict = {}
    for r in rows:
        k = (r["quantity"], r["method"], r["dtype"])
        out[k] = max(out.get(k, 0.0), r[key])
    return out
