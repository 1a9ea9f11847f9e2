"""Full-batch training: a ``lax.scan`` over chunks of epochs, one jit region per chunk.

Each epoch evaluates the loss and its gradient (``jax.value_and_grad``) and applies one optax
update, all inside the compiled scan. Python only loops over chunks, so a script can report
progress and the divergence guard can stop at the first non-finite loss.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax.errors import TrainingDiverged
from logreg_jax.loss import objective
from logreg_jax.model import Model


@functools.lru_cache(maxsize=64)
def make_optimizer(cfg) -> optax.GradientTransformation:
    """The optax optimizer named by an ``OptimizerConfig`` (one object per config, cached).

    The same (frozen, hashable) config gives the same optimizer object, so the compiled training
    chunk, which is keyed on it, is reused across fits: a λ sweep or k folds compile once per shape.

    ``sgd`` is the tutorial's θ := θ − η ∇C; ``momentum`` is heavy-ball (or Nesterov) SGD;
    ``adam`` is Adam with optax's defaults for everything but the learning rate; ``lbfgs`` is
    optax's L-BFGS with its zoom line search, which chooses the step (the learning rate is unused)
    and keeps ``memory_size`` past steps (optax's default 10 stalls on ill-conditioned problems
    such as the unpenalized degree-6 microchips fit; a memory above the parameter count converges).
    """
    if cfg.name == "sgd":
        return optax.sgd(cfg.learning_rate)
    if cfg.name == "momentum":
        return optax.sgd(cfg.learning_rate, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.name == "adam":
        return optax.adam(cfg.learning_rate)
    if cfg.name == "lbfgs":
        return optax.lbfgs(memory_size=cfg.memory_size)
    raise ValueError(f"unknown optimizer {cfg.name!r}")


class History(NamedTuple):
    """What training recorded.

    Attributes:
        loss: (epochs,) float64, the loss at the parameters each epoch started from.
        grad_norm: (epochs,) float64, the global L2 norm of the gradient there.
        final_loss: the loss at the returned parameters.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    final_loss: float


@functools.partial(jax.jit, static_argnames=("model", "optimizer", "steps"))
def _run_chunk(params, opt_state, X, y, l2, *, model, optimizer, steps):
    """``steps`` epochs of full-batch training, compiled as one scan."""
    def loss_fn(params):
        return objective(model, params, X, y, l2)

    # Line-search optimizers (L-BFGS) need the loss itself; the others ignore the extra arguments.
    optimizer = optax.with_extra_args_support(optimizer)

    def epoch(carry, _):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params, value=loss, grad=grads, value_fn=loss_fn)
        params = optax.apply_updates(params, updates)
        return (params, opt_state), (loss, optax.tree.norm(grads))

    (params, opt_state), (losses, norms) = jax.lax.scan(epoch, (params, opt_state), length=steps)
    return params, opt_state, losses, norms


def train(model: Model, params, X, y, *, optimizer: optax.GradientTransformation, epochs: int,
          l2: float = 0.0, chunk: int = 100, learning_rate: float | None = None,
          callback: Callable[[int, float, float], None] | None = None) -> tuple[Any, History]:
    """Trains ``params`` for ``epochs`` full-batch steps.

    Args:
        model: the :class:`Model`.
        params: initial parameter pytree.
        X: (m, n) inputs, in the dtype to train in.
        y: (m,) labels in {0, 1}.
        optimizer: an optax gradient transformation.
        epochs: number of steps.
        l2: L2 penalty strength.
        chunk: epochs per compiled call (and per ``callback``).
        learning_rate: only quoted in the divergence message.
        callback: called after each chunk with (epochs done, latest loss, latest gradient norm).

    Returns:
        (final params, :class:`History`).

    Raises:
        TrainingDiverged: the loss or gradient became non-finite; the message names the epoch.
    """
    X = jnp.asarray(X)
    y = jnp.asarray(y, dtype=X.dtype)
    l2 = jnp.asarray(l2, dtype=X.dtype)
    opt_state = optimizer.init(params)
    losses, norms, done = [], [], 0
    while done < epochs:
        steps = min(chunk, epochs - done)
        params, opt_state, loss, norm = _run_chunk(params, opt_state, X, y, l2,
                                                   model=model, optimizer=optimizer, steps=steps)
        loss, norm = np.asarray(loss, np.float64), np.asarray(norm, np.float64)
        bad = np.flatnonzero(~(np.isfinite(loss) & np.isfinite(norm)))
        if bad.size:
            _diverged(f"at epoch {done + int(bad[0]) + 1}", loss[bad[0]], learning_rate)
        losses.append(loss)
        norms.append(norm)
        done += steps
        if callback is not None:
            callback(done, float(loss[-1]), float(norm[-1]))
    final_loss = float(objective(model, params, X, y, l2))
    if not np.isfinite(final_loss):
        _diverged(f"after epoch {epochs}", final_loss, learning_rate)
    return params, History(np.concatenate(losses), np.concatenate(norms), final_loss)


def _diverged(when: str, loss: float, learning_rate: float | None):
    hint = f" (now {learning_rate:g})" if learning_rate is not None else ""
    raise TrainingDiverged(
        f"training diverged {when}: the loss became {loss}; "
        f"try a smaller optimizer.learning_rate{hint}"
    )
