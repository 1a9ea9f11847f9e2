"""Full-batch training: ``jax.value_and_grad`` of the objective and an optax update, in one loop.

:func:`train` takes the objective as a function of the parameters, closed over the data
(:func:`logreg_jax.loss.bound_objective` for (m, n) rows in memory). One iteration is :func:`step`:
the loss and its gradient by ``jax.value_and_grad``, then the optimizer's update. :func:`run_epochs`
repeats it as a ``lax.scan``, compiled once per chunk of epochs (:func:`train`); Python only loops
over chunks, so a script can report progress and the divergence guard can stop at the first
non-finite loss. With a gradient-norm threshold ``tol`` the scan freezes the state at the first
small enough gradient and Python stops after that chunk.

The same loop trains on data that do not fit this simple story (feature-major blocks, sharded
over devices, see :mod:`logreg_jax.scale`): only the objective it is given differs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax.compiled import debugging
from logreg_jax.errors import ConfigError, TrainingDiverged
from logreg_jax.optimizers import init_state, stored_loss_and_norm, stores_value
from logreg_jax.proximal import Sparse, certify, takes_l1


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


def step(objective: Callable, optimizer, params, opt_state, fresh: bool = False, **extra):
    """One optimizer step on ``objective(params) -> scalar``: returns (params, state, loss, grads).

    Line-search optimizers (L-BFGS, Newton) also need the loss itself, passed as extra arguments
    that the others ignore. L-BFGS's line search stores the value and gradient at the step it
    accepted; they are reused (``optax.value_and_grad_from_state``), which saves a pass over the data,
    unless ``fresh`` (minibatches: the stored value belongs to the previous batch). ``extra``
    (the L1 term ``sparse`` of :mod:`logreg_jax.proximal`) goes to the update as is.
    """
    optimizer = optax.with_extra_args_support(optimizer)
    if not fresh and stores_value(opt_state):
        loss, grads = optax.value_and_grad_from_state(objective)(params, state=opt_state)
    else:
        loss, grads = jax.value_and_grad(objective)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params, value=loss, grad=grads, value_fn=objective, **extra)
    return optax.apply_updates(params, updates), opt_state, loss, grads


def run_epochs(objective: Callable, optimizer, params, opt_state, stopped, tol, steps: int, sparse=None):
    """``steps`` iterations of :func:`step` as one ``lax.scan`` (call it inside ``jit`` or ``vmap``).

    An iteration whose starting gradient norm is ≤ ``tol`` (when ``tol`` > 0) sets ``stopped``;
    from then on the parameters and optimizer state stay frozen and the rows are marked inactive.

    Args:
        objective: params → scalar loss on the training data (closes over the data).
        optimizer: an optax transformation (its hyperparameters may be traced).
        params, opt_state: where to start.
        stopped: () bool, whether training has already converged.
        tol: () gradient-norm threshold. steps: number of iterations (static).
        sparse: an L1 term (:class:`~logreg_jax.proximal.Sparse`) or None; with it the loss is the
            full objective and ``tol`` applies to the KKT violation instead of the gradient norm.

    Returns:
        (params, opt_state, stopped, losses, norms, active), the last three of shape (steps,):
        the loss and gradient norm at the start of each iteration, and whether it took a step.
    """

    def epoch(carry, _):
        params, opt_state, stopped = carry
        extra = {} if sparse is None else {"sparse": sparse}
        new_params, new_state, loss, grads = step(objective, optimizer, params, opt_state, **extra)
        loss, norm = _report(sparse, params, loss, grads)
        stopped = stopped | ((tol > 0) & (norm <= tol))
        # A select, not lax.cond: under vmap a cond becomes a select anyway. The step computed
        # after convergence is discarded; Python stops at the end of the chunk.
        keep = functools.partial(jax.tree_util.tree_map, lambda old, new: jnp.where(stopped, old, new))
        return (keep(params, new_params), keep(opt_state, new_state), stopped), (loss, norm, ~stopped)

    (params, opt_state, stopped), (losses, norms, active) = jax.lax.scan(
        epoch, (params, opt_state, stopped), length=steps
    )
    return params, opt_state, stopped, losses, norms, active


# XLA's newer CPU fusion emitters compile the L-BFGS program much more slowly here, with no
# run-time difference (benchmarks/RESULTS.md); other backends ignore the option.
COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}

# One compiled chunk per objective function, optimizer and length: the data are arguments (leaves
# of the objective's jax.tree_util.Partial), so a new dataset of the same shape reuses the program.
run_chunk = jax.jit(run_epochs, static_argnames=("optimizer", "steps"), compiler_options=COMPILER_OPTIONS)


def _report(sparse, params, loss, grads):
    """(loss, norm) a history records: the smooth loss and its gradient norm, or with an L1 term
    the full objective and the KKT violation (:func:`logreg_jax.proximal.certify`)."""
    return (loss, optax.tree.norm(grads)) if sparse is None else certify(sparse, params, loss, grads)


@functools.partial(jax.jit, compiler_options=COMPILER_OPTIONS)
def value_and_norm(objective, params, sparse=None):
    """(loss, global gradient norm) at ``params`` (with an L1 term: see :func:`_report`)."""
    loss, grads = jax.value_and_grad(objective)(params)
    return _report(sparse, params, loss, grads)


def train(
    objective: jax.tree_util.Partial,
    params,
    *,
    optimizer: optax.GradientTransformation,
    epochs: int,
    tol: float = 0.0,
    chunk: int = 100,
    learning_rate: float | None = None,
    callback: Callable[[int, float, float], None] | None = None,
    sparse: Sparse | None = None,
) -> tuple[Any, History]:
    """Trains ``params`` for at most ``epochs`` full-batch steps on ``objective``: the one loop of
    every data layout (rows in memory, feature-major blocks, sharded arrays differ only in it).

    Args:
        objective: ``params -> scalar`` closed over the data as a ``jax.tree_util.Partial`` (its
            arrays are traced arguments, its function is the compilation key), e.g.
            :func:`logreg_jax.loss.bound_objective`.
        params: initial parameter pytree.
        optimizer: an optax gradient transformation.
        epochs: the most steps.
        tol: stop at the first iteration whose gradient norm is ≤ tol (checked inside the compiled
            loop, every iteration); 0 never stops early.
        chunk: epochs per compiled call (and per ``callback``).
        learning_rate: only quoted in the divergence message.
        callback: called after each chunk with (iterations done, latest loss, latest gradient norm).
        sparse: the L1 term (``loss.l1``, :func:`logreg_jax.proximal.l1_term`; needs ``prox_newton``):
            the history's loss is then the full objective, its gradient norm the KKT violation,
            and ``tol`` applies to that.

    Returns:
        (final params, :class:`History` of the iterations actually run).

    Raises:
        TrainingDiverged: the loss or gradient became non-finite; the message names the epoch.
    """
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    opt_state = init_state(optimizer, params)
    stopped, tol = jax.device_put((np.asarray(False), np.asarray(tol, dtype)))
    if sparse is not None and not takes_l1(opt_state):
        raise ConfigError('loss.l1 > 0: expected optimizer.name = "prox_newton" (the L1 term needs its proximal step)')
    losses, norms, done, programs = [], [], 0, {}
    while done < epochs and not bool(stopped):
        steps = min(chunk, epochs - done)
        inputs = dict(objective=objective, params=params, opt_state=opt_state, stopped=stopped, tol=tol, sparse=sparse)
        if steps not in programs:
            # Compiled for the first chunk's inputs, the program also takes the next chunks' (the
            # previous outputs, placed with the data), for which jit would compile a second one.
            # JAX's debugging modes need the jitted function itself.
            programs[steps] = (
                functools.partial(run_chunk, optimizer=optimizer, steps=steps)
                if debugging()
                else run_chunk.lower(optimizer=optimizer, steps=steps, **inputs).compile()
            )
        params, opt_state, stopped, loss, norm, active = programs[steps](**inputs)
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
    final_loss, final_norm = (None if sparse is not None else stored_loss_and_norm(opt_state)) or (
        float(v) for v in value_and_norm(objective, params, sparse)
    )
    if not np.isfinite(final_loss):
        raise TrainingDiverged.at(f"after epoch {done}", final_loss, learning_rate)
    return params, History(np.concatenate(losses), np.concatenate(norms), final_loss, final_norm, bool(stopped))
