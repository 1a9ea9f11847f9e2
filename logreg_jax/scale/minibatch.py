"""Minibatch training straight from a row source: the data are read batch by batch.

Every epoch draws a permutation of the m rows seeded by ``fold_in(shuffle_key, epoch)``; each batch
is read from the source (for a ``.npy`` file, only its rows, sorted so the reads go forward
through the file), mapped by the fitted feature map, and fed to one jitted optax step. Nothing
holds the whole data set, so a memory-mapped file larger than memory trains as well as a small
one; metrics at the end stream over the rows in chunks the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax.data.features import FeatureMap
from logreg_jax.errors import TrainingDiverged
from logreg_jax.loss import correct_predictions, l2_penalty, mean_cross_entropy
from logreg_jax.models.base import Model
from logreg_jax.optimizers import init_state
from logreg_jax.report import diagnose
from logreg_jax.scale.pipeline import CHUNK_ROWS
from logreg_jax.train import History, step


@functools.partial(jax.jit, static_argnames=("model", "optimizer"))
def _step(params, opt_state, X, y, count, l2, m, *, model, optimizer):
    """One update on a batch, its first ``count`` rows real (the rest padding, see :func:`_mapped`).
    Its loss is the batch's mean cross-entropy plus the penalty of the whole objective, (l2 / 2m) Σw²
    over all m rows, so that it estimates the objective that :func:`evaluate` reports.
    :func:`logreg_jax.train.step` with ``fresh``: a line search's stored value and gradient belong
    to the previous batch, so they are never reused here."""
    valid = jnp.arange(X.shape[0]) < count

    def loss_fn(params):
        return mean_cross_entropy(model.logits(params, X), y, valid) + l2_penalty(model.weights(params), l2, m)

    params, opt_state, loss, grads = step(loss_fn, optimizer, params, opt_state, fresh=True)
    return params, opt_state, loss, optax.tree.norm(grads)


@functools.partial(jax.jit, static_argnames=("model",))
def _sums(params, X, y, count, *, model):
    """Summed cross-entropy, its gradient, and correct predictions over the first ``count`` rows."""
    valid = jnp.arange(X.shape[0]) < count

    def total(params):
        return mean_cross_entropy(model.logits(params, X), y, valid) * count

    loss, grads = jax.value_and_grad(total)(params)
    return loss, grads, correct_predictions(model, params, X, y, valid)


def _mapped(source, feature_map: FeatureMap, dtype, rows, size: int):
    """(X, y, count): the mapped ``rows`` (an index array, or a range (lo, hi)) padded to ``size``
    rows, and how many are real. Every batch then has one shape, the last and smaller one too, so
    that its program compiles once. The padding repeats the last real row: a model's loss there is
    as finite as on the data, so masking it out leaves no NaN in the gradient."""
    X, y = source.take(rows) if isinstance(rows, np.ndarray) else source.read(*rows)
    X, y = np.asarray(feature_map(np.asarray(X, np.float64)), dtype), np.asarray(y, dtype)
    pad = size - X.shape[0]
    return jax.device_put(
        (np.pad(X, ((0, pad), (0, 0)), "edge"), np.pad(y, (0, pad), "edge"), np.asarray(X.shape[0], np.int32))
    )


def evaluate(model: Model, params, source, feature_map: FeatureMap, dtype, l2: float = 0.0):
    """(loss, gradient norm, accuracy) over every row of ``source``, streamed in chunks."""
    loss, grads, correct = 0.0, None, 0
    for lo in range(0, source.m, CHUNK_ROWS):
        chunk = _mapped(source, feature_map, dtype, (lo, min(source.m, lo + CHUNK_ROWS)), min(CHUNK_ROWS, source.m))
        part = _sums(params, *chunk, model=model)
        loss, correct = loss + float(part[0]), correct + int(part[2])
        grads = part[1] if grads is None else jax.tree_util.tree_map(jnp.add, grads, part[1])
    penalty, norm = _penalized(params, grads, l2, source.m, model=model)
    return loss / source.m + float(penalty), float(norm), correct / source.m


@functools.partial(jax.jit, static_argnames=("l2", "m", "model"))
def _penalized(params, grads, l2, m, *, model):
    """(the L2 penalty, the norm of the objective's gradient) from the loss's summed gradient, as
    one program (op by op, each of its dozen operations is a program to compile in a new process;
    l2 and m static: the Python arithmetic of the penalty's factor, as before)."""
    penalty, penalty_grad = jax.value_and_grad(lambda p: l2_penalty(model.weights(p), l2, m))(params)
    return penalty, optax.tree.norm(jax.tree_util.tree_map(lambda g, h: g / m + h, grads, penalty_grad))


def train_minibatch(
    model: Model,
    params,
    source,
    feature_map: FeatureMap,
    dtype,
    *,
    batch_size: int,
    key,
    optimizer: optax.GradientTransformation,
    epochs: int,
    l2: float = 0.0,
    tol: float = 0.0,
    chunk: int = 10,
    learning_rate: float | None = None,
    callback: Callable[[int, float, float], None] | None = None,
) -> tuple[Any, History]:
    """Trains on batches of ``batch_size`` rows read from ``source``, reshuffled every epoch.

    Args:
        model, params, optimizer, epochs, l2, learning_rate: as for :func:`logreg_jax.train.train`.
        source: a row source (:mod:`logreg_jax.scale.sources`). feature_map: the fitted map.
        dtype: the training dtype. batch_size: rows per step (the last batch may be smaller).
        key: the run's shuffle key.
        tol: stop after an epoch whose mean batch gradient norm is ≤ tol (0: never).
        chunk: epochs between ``callback`` calls.

    Returns:
        (params, :class:`History`): per epoch, the mean over its batches of the loss and gradient
        norm at the parameters each batch started from; final loss and gradient norm over all rows.
    """
    opt_state = init_state(optimizer, params)
    start_loss = evaluate(model, params, source, feature_map, dtype, l2)[0]  # judged against at the end
    l2_arr, m_arr = jax.device_put((np.asarray(l2, dtype), np.asarray(source.m, dtype)))
    losses, norms, converged = [], [], False
    for epoch in range(epochs):
        # The permutation is drawn on the host, seeded from the run's key: the data live there,
        # and jax.random.permutation of m indices costs more memory than a batch.
        epoch_key = jax.random.key_data(jax.random.fold_in(key, epoch))
        order = np.random.default_rng(np.asarray(epoch_key)).permutation(source.m)
        loss_sum = norm_sum = 0.0
        for start in range(0, source.m, batch_size):
            rows = np.sort(order[start : start + batch_size])
            batch = _mapped(source, feature_map, dtype, rows, min(batch_size, source.m))
            params, opt_state, loss, norm = _step(
                params, opt_state, *batch, l2_arr, m_arr, model=model, optimizer=optimizer
            )
            loss_sum, norm_sum = loss_sum + float(loss) * rows.size, norm_sum + float(norm) * rows.size
        losses.append(loss_sum / source.m)
        norms.append(norm_sum / source.m)
        if not (np.isfinite(losses[-1]) and np.isfinite(norms[-1])):
            raise TrainingDiverged.at(f"at epoch {epoch + 1}", losses[-1], learning_rate)
        converged = tol > 0 and norms[-1] <= tol
        if callback is not None and ((epoch + 1) % chunk == 0 or converged or epoch + 1 == epochs):
            callback(epoch + 1, losses[-1], norms[-1])
        if converged:
            break
    final_loss, final_norm, _ = evaluate(model, params, source, feature_map, dtype, l2)
    if not np.isfinite(final_loss):
        raise TrainingDiverged.at(f"after epoch {len(losses)}", final_loss, learning_rate)
    diagnose.check_minibatch(start_loss, final_loss, len(losses), learning_rate)
    return params, History(np.asarray(losses), np.asarray(norms), final_loss, final_norm, bool(converged))
