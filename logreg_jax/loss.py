"""The mean cross-entropy with an L2 penalty, for any :class:`~logreg_jax.models.registry.Model`.

Binary models give one logit per sample, (m,), and the binary cross-entropy applies; K-class
models (softmax regression, the MLP with K outputs) give (m, K) scores and the categorical one.

The loss is computed from the logits through ``softplus``, never as log(σ(z)): for z = 1e4,
σ(z) rounds to 1 and log(1 − σ(z)) is −inf, while softplus(1e4) = 1e4 exactly.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.models import logistic
from logreg_jax.models.base import Model


@jax.custom_jvp
def softplus(x):
    """log(1 + eˣ) elementwise, stable for any x (e^−|x| never overflows); softplus(−∞) = 0.

    The same function as ``jax.nn.softplus`` with a cheaper derivative, σ(x): jax's generic rule
    (that of ``logaddexp``) recomputes exponentials, which dominated the elementwise work of a
    training epoch at a million samples (docs/scale.md).
    """
    return jnp.maximum(x, 0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    # σ is itself differentiable (lax.logistic), so Hessians through the loss stay exact.
    return softplus(x), dx * jax.nn.sigmoid(x)


def cross_entropy_terms(z, y, valid=None):
    """Per-sample −y log σ(z) − (1 − y) log(1 − σ(z)), stable and exact for any finite z.

    Args:
        z: (m,) logits.
        y: (m,) labels, each exactly 0 or 1 (``load_dataset`` checks this).
        valid: optional (m,) bool; samples where it is False (padding) give exactly 0 and a zero
            derivative.

    Returns:
        (m,) losses in z's dtype; the derivative of each with respect to its z_i is σ(z_i) − y_i.
    """
    y = y.astype(z.dtype)
    # −log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z): with s = 1 − 2y = ∓1 each sample
    # costs one softplus, computed without cancellation (a confident correct prediction keeps its
    # tiny loss e^−|z|), and its derivative s·σ(s z) is exactly σ(z) − y: half the transcendental
    # functions of the two-log_sigmoid form.
    sz = (1 - 2 * y) * z
    if valid is not None:
        # Masking the argument (softplus(−∞) = 0, σ(−∞) = 0) rather than the terms lets XLA fuse
        # the loss and its derivative into one loop.
        sz = jnp.where(valid, sz, -jnp.inf)
    return softplus(sz)


def sample_losses(z, y):
    """Per-sample cross-entropy of any model: (m,) logits with 0/1 labels (:func:`cross_entropy_terms`),
    or (m, K) scores with class numbers (logsumexp(z_i) − z_{i, y_i}) → (m,)."""
    if z.ndim == 2:
        return jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y.astype(jnp.int32)[:, None], axis=1)[:, 0]
    return cross_entropy_terms(z, y)


def binary_cross_entropy(z, y):
    """The mean of :func:`cross_entropy_terms`: (m,) logits, (m,) 0/1 labels → scalar."""
    return jnp.mean(cross_entropy_terms(z, y))


def categorical_cross_entropy(z, y):
    """The mean of −log softmax(z_i)_{y_i} = logsumexp(z_i) − z_{i, y_i}: (m, K) scores, (m,) class
    numbers 0 … K−1 (any numeric dtype) → scalar. ``logsumexp`` subtracts the row maximum, so no
    e^z overflows, and the derivative with respect to z_i is softmax(z_i) − onehot(y_i)."""
    return jnp.mean(sample_losses(z, y))


def mean_cross_entropy(z, y, valid=None):
    """The model's data term: binary for (m,) logits, categorical for (m, K) scores. With ``valid``,
    (m,) bool, the mean over the rows where it is True: padding rows count for nothing."""
    if valid is not None:
        return jnp.sum(jnp.where(valid, sample_losses(z, y), 0)) / jnp.sum(valid)
    return categorical_cross_entropy(z, y) if z.ndim == 2 else binary_cross_entropy(z, y)


def l2_penalty(weights, l2, m):
    """(l2 / 2m) Σ w² over every leaf of the ``weights`` pytree.

    ``l2`` is a scalar, or a (p,) vector of one strength per weight, in the order of the leaves
    raveled and concatenated (:func:`jax.flatten_util.ravel_pytree` of ``weights``): Σ_j l2_j w_j² / 2m.
    """
    leaves = jax.tree_util.tree_leaves(weights)
    if jnp.ndim(l2) == 0:
        squares = sum(jnp.sum(w * w) for w in leaves)
        return (l2 / (2 * m)) * squares
    flat = jnp.concatenate([jnp.ravel(w) for w in leaves])
    return jnp.sum(l2 * flat * flat) / (2 * m)


@functools.partial(jax.jit, static_argnums=0)
def objective(model: Model, params, X, y, l2=0.0):
    """Mean cross-entropy of ``model.logits(params, X)`` against y, plus the L2 penalty.

    Args:
        model: the :class:`Model` (static: one compilation per model).
        params: the model's parameter pytree.
        X: (m, n) inputs.
        y: (m,) labels in {0, 1}, or class numbers 0 … K−1 for a K-class model.
        l2: penalty strength λ ≥ 0, or a (p,) vector of one per weight (see :func:`l2_penalty`).

    Returns:
        Scalar loss.
    """
    return mean_cross_entropy(model.logits(params, X), y) + l2_penalty(model.weights(params), l2, X.shape[0])


@functools.cache
def _objective_of(model: Model):
    def objective_on(X, y, l2, params):
        return objective(model, params, X, y, l2)

    return objective_on


def bound_objective(model: Model, X, y, l2=0.0) -> jax.tree_util.Partial:
    """:func:`objective` on fixed data, as a function of the parameters alone: what training differentiates.

    A ``jax.tree_util.Partial``: X, y and l2 are its leaves (traced arguments of a jitted trainer),
    its function is one object per model, so every dataset of the same shapes shares one compilation.

    Args:
        model: the :class:`Model`. X: (m, n) inputs. y: (m,) labels. l2: penalty strength λ ≥ 0.
    """
    X = _on_device(X, None)
    return jax.tree_util.Partial(_objective_of(model), X, _on_device(y, X.dtype), _on_device(l2, X.dtype))


def _on_device(a, dtype):
    """``jnp.asarray(a, dtype)``, but host values by ``jax.device_put``: ``jnp.asarray`` traces and
    lowers a conversion program per dtype on a process's first call, a visible share of a short
    run's fixed cost."""
    return jnp.asarray(a, dtype) if isinstance(a, jax.Array) else jax.device_put(np.asarray(a, dtype))


@functools.partial(jax.jit, static_argnums=0)
def correct_predictions(model: Model, params, X, y, valid=None):
    """How many samples the model classifies right: (m, n) X, (m,) labels → integer scalar (with
    ``valid``, (m,) bool, of the rows where it is True).

    The prediction is 1 where P(y = 1) ≥ 0.5, decided on the logit (z ≥ 0) so that rounding of
    σ(z) to 0.5 in float32 cannot flip it; every accuracy in the project uses this rule. A K-class
    model predicts its highest score (the most probable class; ties go to the lowest class).
    """
    z = model.logits(params, X)
    hits = jnp.argmax(z, axis=1) == y.astype(jnp.int32) if z.ndim == 2 else (z >= 0) == (y == 1)
    return jnp.sum(hits if valid is None else hits & valid)


def accuracy(model: Model, params, X, y) -> float:
    """The fraction of samples classified right (see :func:`correct_predictions`), exact in float64."""
    return int(correct_predictions(model, params, X, y)) / X.shape[0]


@jax.jit
def cross_entropy(theta, X, y, l2=0.0):
    """The logistic-regression loss C(θ) (see :func:`objective`); θ (n,), X (m, n) with bias column."""
    return objective(logistic.MODEL, theta, X, y, l2)


autodiff_gradient = jax.jit(jax.grad(cross_entropy))
autodiff_gradient.__doc__ = """``jax.grad`` of :func:`cross_entropy`: (n,) θ, (m, n) X, (m,) y, l2 → (n,) gradient."""

autodiff_hessian = jax.jit(jax.hessian(cross_entropy))
autodiff_hessian.__doc__ = (
    """``jax.hessian`` of :func:`cross_entropy` (forward over reverse): θ (n,), X, y, l2 → (n, n)."""
)


@jax.jit
def autodiff_hvp(theta, X, y, v, l2=0.0):
    """H v by forward-over-reverse: the ``jax.jvp`` of ``jax.grad`` along v, never forming H.

    Args:
        theta: (n,) parameters.
        X: (m, n) inputs with the bias column.
        y: (m,) labels in {0, 1}.
        v: (n,) direction, in θ's dtype.
        l2: penalty strength λ ≥ 0.

    Returns:
        (n,) Hessian-vector product, at the cost of about two gradient evaluations.
    """
    grad = jax.grad(cross_entropy)
    return jax.jvp(lambda t: grad(t, X, y, l2), (theta,), (v,))[1]
