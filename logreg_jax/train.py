"""Full-batch training: a ``lax.scan`` over chunks of epochs, one jit region per chunk.

Each epoch evaluates the loss and its gradient (``jax.value_and_grad``) and applies one optax
update, all inside the compiled scan. Python only loops over chunks, so a script can report
progress and the divergence guard can stop at the first non-finite loss. With a gradient-norm
threshold ``tol`` the scan freezes the state at the first small enough gradient and Python stops
after that chunk. :func:`run_epochs` is the scan itself, which a sweep runs under ``vmap``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax import block_loss
from logreg_jax import blocks as blk
from logreg_jax.blocks import Blocks
from logreg_jax.errors import TrainingDiverged
from logreg_jax.loss import objective
from logreg_jax.model import Model


class History(NamedTuple):
    """What training recorded, one row per iteration actually run.

    Attributes:
        loss: (iterations,) float64, the loss at the parameters each iteration started from.
        grad_norm: (iterations,) float64, the global L2 norm of the gradient there.
        final_loss: the loss at the returned parameters.
        final_grad_norm: the gradient norm at the returned parameters.
        converged: whether training stopped because the gradient norm fell to ``tol``.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    final_loss: float
    final_grad_norm: float = float("nan")
    converged: bool = False


def data_objective(model: Model, params, X, y, l2, mesh=None):
    """The training loss on either layout: :class:`Blocks` (y unused) or (m, n) rows and (m,) y."""
    if isinstance(X, Blocks):
        return block_loss.objective(model, params, X, l2, mesh)
    return objective(model, params, X, y, l2)


def run_epochs(model: Model, optimizer, params, opt_state, stopped, X, y, l2, tol, steps: int, mesh=None):
    """``steps`` full-batch iterations as one ``lax.scan`` (call it inside ``jit`` or ``vmap``).

    An iteration whose starting gradient norm is ≤ ``tol`` (when ``tol`` > 0) sets ``stopped``;
    from then on the parameters and optimizer state stay frozen and the rows are marked inactive.

    Args:
        model: the :class:`Model`.
        optimizer: an optax transformation (its hyperparameters may be traced).
        params, opt_state: where to start.
        stopped: () bool, whether training has already converged.
        X: (m, n) inputs, or :class:`Blocks` (then y is unused). y: (m,) labels.
        l2: () penalty. tol: () gradient-norm threshold. steps: number of iterations (static).
        mesh: with :class:`Blocks` sharded over its ``"data"`` axis, the mesh (static); else None.

    Returns:
        (params, opt_state, stopped, losses, norms, active), the last three of shape (steps,):
        the loss and gradient norm at the start of each iteration, and whether it took a step.
    """
    def loss_fn(params):
        return data_objective(model, params, X, y, l2, mesh)

    # Line-search optimizers (L-BFGS, Newton) need the loss itself; the others ignore the extras.
    optimizer = optax.with_extra_args_support(optimizer)

    def epoch(carry, _):
        params, opt_state, stopped = carry
        loss, grads = _value_and_grad(loss_fn, params, opt_state)
        norm = optax.tree.norm(grads)
        stopped = stopped | ((tol > 0) & (norm <= tol))
        updates, new_state = optimizer.update(grads, opt_state, params, value=loss, grad=grads, value_fn=loss_fn)
        # A select, not lax.cond: under vmap a cond becomes a select anyway, and a device
        # conditional every iteration can cost a host round trip on GPU. The update computed after
        # convergence is discarded; Python stops at the end of the chunk.
        keep = lambda old, new: jnp.where(stopped, old, new)  # noqa: E731
        params = jax.tree_util.tree_map(keep, params, optax.apply_updates(params, updates))
        opt_state = jax.tree_util.tree_map(keep, opt_state, new_state)
        return (params, opt_state, stopped), (loss, norm, ~stopped)

    (params, opt_state, stopped), (losses, norms, active) = jax.lax.scan(
        epoch, (params, opt_state, stopped), length=steps)
    return params, opt_state, stopped, losses, norms, active


def _value_and_grad(loss_fn, params, opt_state):
    """``jax.value_and_grad(loss_fn)(params)``, taken from the optimizer state when its line search
    stored the value and gradient at the step it accepted (L-BFGS's zoom line search does): that
    saves one pass over the data per iteration (``optax.value_and_grad_from_state``)."""
    try:
        stored = all(optax.tree.get(opt_state, key) is not None for key in ("value", "grad"))
    except KeyError:  # several line searches in one chain: which one's value is ambiguous
        stored = False
    if stored:
        return optax.value_and_grad_from_state(loss_fn)(params, state=opt_state)
    return jax.value_and_grad(loss_fn)(params)


# XLA's newer CPU fusion emitters make the L-BFGS program compile ~1.7× slower (0.76–0.88 s against
# 0.42–0.53 s at 1e6 × 32 on 2 cores) with no run-time difference measured here; the option is
# ignored by other backends.
_COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


@functools.partial(jax.jit, static_argnames=("model", "optimizer", "steps", "mesh"),
                   compiler_options=_COMPILER_OPTIONS)
def _run_chunk(params, opt_state, stopped, X, y, l2, tol, *, model, optimizer, steps, mesh):
    """``steps`` epochs of full-batch training, compiled as one scan."""
    return run_epochs(model, optimizer, params, opt_state, stopped, X, y, l2, tol, steps, mesh)


@functools.partial(jax.jit, static_argnames=("model", "mesh"), compiler_options=_COMPILER_OPTIONS)
def _loss_and_norm(params, X, y, l2, *, model, mesh):
    loss, grads = jax.value_and_grad(data_objective, argnums=1)(model, params, X, y, l2, mesh)
    return loss, optax.tree.norm(grads)


def train(model: Model, params, X, y, *, optimizer: optax.GradientTransformation, epochs: int,
          l2: float = 0.0, tol: float = 0.0, chunk: int = 100, learning_rate: float | None = None,
          callback: Callable[[int, float, float], None] | None = None, mesh=None) -> tuple[Any, History]:
    """Trains ``params`` for at most ``epochs`` full-batch steps.

    Args:
        model: the :class:`Model`.
        params: initial parameter pytree.
        X: (m, n) inputs in the dtype to train in, copied into feature-major :class:`Blocks`;
            or the :class:`Blocks` themselves (prepared without a copy, see
            :mod:`logreg_jax.pipeline`; sharded over ``mesh`` when given).
        y: (m,) labels in {0, 1}; None with :class:`Blocks`.
        optimizer: an optax gradient transformation.
        epochs: the most steps.
        l2: L2 penalty strength.
        tol: stop at the first iteration whose gradient norm is ≤ tol (checked inside the compiled
            loop, every iteration); 0 never stops early.
        chunk: epochs per compiled call (and per ``callback``).
        learning_rate: only quoted in the divergence message.
        callback: called after each chunk with (iterations done, latest loss, latest gradient norm).
        mesh: a ``jax.sharding.Mesh`` with a ``"data"`` axis that the Blocks are sharded over
            (data-parallel: each device sums its blocks, XLA all-reduces loss and gradient).

    Returns:
        (final params, :class:`History` of the iterations actually run).

    Raises:
        TrainingDiverged: the loss or gradient became non-finite; the message names the epoch.
    """
    if not isinstance(X, Blocks):
        X = blk.from_rows(X, np.asarray(y, np.asarray(X).dtype))
    dtype = X.X.dtype
    y = None
    l2 = jnp.asarray(l2, dtype=dtype)
    tol = jnp.asarray(tol, dtype=dtype)
    opt_state = optimizer.init(params)
    stopped = jnp.asarray(False)
    losses, norms, done = [], [], 0
    while done < epochs and not bool(stopped):
        steps = min(chunk, epochs - done)
        params, opt_state, stopped, loss, norm, active = _run_chunk(
            params, opt_state, stopped, X, y, l2, tol, model=model, optimizer=optimizer, steps=steps, mesh=mesh)
        used = int(np.sum(np.asarray(active)))
        loss, norm = np.asarray(loss, np.float64)[:used], np.asarray(norm, np.float64)[:used]
        bad = np.flatnonzero(~(np.isfinite(loss) & np.isfinite(norm)))
        if bad.size:
            raise TrainingDiverged.at(f"at epoch {done + int(bad[0]) + 1}", loss[bad[0]], learning_rate)
        losses.append(loss)
        norms.append(norm)
        done += used
        if callback is not None and used:
            callback(done, float(loss[-1]), float(norm[-1]))
    final = _stored_loss_and_norm(opt_state)
    if final is None:
        final = _loss_and_norm(params, X, y, l2, model=model, mesh=mesh)
    final_loss, final_norm = (float(v) for v in final)
    if not np.isfinite(final_loss):
        raise TrainingDiverged.at(f"after epoch {done}", final_loss, learning_rate)
    return params, History(np.concatenate(losses), np.concatenate(norms), final_loss, final_norm, bool(stopped))


def _stored_loss_and_norm(opt_state):
    """The loss and gradient norm at the current parameters if the optimizer's line search stored
    them (see :func:`_value_and_grad`), else None: one program less to compile on a first run."""
    try:
        value, grad = (optax.tree.get(opt_state, key) for key in ("value", "grad"))
    except KeyError:
        return None
    if value is None or grad is None or not np.isfinite(float(value)):
        return None
    leaves = jax.tree_util.tree_leaves(grad)
    return float(value), float(np.sqrt(sum(np.sum(np.square(np.asarray(g, np.float64))) for g in leaves)))
