"""Runs that end badly but finite, recognised after training from what it recorded.

Three findings, each from the :class:`~logreg_jax.train.History`, the config and the accuracy:

- **divergence** (an error): the loss became non-finite (caught during training), or a full-batch
  run ended above the loss it started from. Every step of a working full-batch optimizer lowers the
  loss, so ending higher means the steps overshoot; :func:`diverged` is the same rule, vectorised,
  for sweeps;
- **separation** (a warning): a logistic model with ``loss.l2 = 0`` classifies every training
  sample right. The data (in feature space) are then linearly separable, the loss has no minimum
  (it tends to 0 as ‖θ‖ → ∞) and no maximum-likelihood estimate exists; ``loss.l2 > 0`` restores one;
- **stall** (a warning): the loss stayed where it was (to a few units in its last place) for the
  last :data:`STALL_ITERATIONS` iterations while ‖∇C‖ was still above ``train.tol`` > 0: the steps
  no longer change the loss at the training precision (typically float32), so ``train.tol``
  cannot be reached.
"""

from __future__ import annotations

import jax
import numpy as np

from logreg_jax.errors import TrainingDiverged

RISE_RTOL = 1e-3  # a final loss this much (relatively) above the start is divergence, not rounding
STALL_ITERATIONS = 50  # iterations without any change of the loss that make a stall


def rose(start, final):
    """Whether ``final`` loss is above ``start`` beyond rounding (arrays broadcast)."""
    start, final = np.asarray(start, np.float64), np.asarray(final, np.float64)
    return final > start + RISE_RTOL * np.abs(start)


def diverged(losses: np.ndarray, active: np.ndarray, final: np.ndarray) -> np.ndarray:
    """The divergence rule for k full-batch runs at once (a sweep's members).

    Args:
        losses: (k, iterations) loss at the start of each iteration (anything where inactive).
        active: (k, iterations) bool, whether the run was still training then (False after it
            stopped at ``train.tol``); column 0 is always active.
        final: (k,) loss at each run's final parameters.

    Returns:
        (k,) bool: a non-finite loss while active or at the end, or a final loss above the start.
    """
    losses, final = np.asarray(losses, np.float64), np.asarray(final, np.float64)
    bad = np.asarray(active, bool) & ~np.isfinite(losses)
    return ~np.isfinite(final) | np.any(bad, axis=1) | rose(losses[:, 0], final)


def check_divergence(history, cfg) -> None:
    """Raises :class:`TrainingDiverged` when a full-batch run ended above its starting loss.

    (A non-finite loss is already refused by :func:`~logreg_jax.train.train`.) Minibatch losses
    are noisy estimates, so only full-batch runs are judged.
    """
    if cfg.train.batch_size is not None or history.loss.size == 0:
        return
    start, final = float(history.loss[0]), float(history.final_loss)
    if not rose(start, final):
        return
    first = int(np.argmax(rose(start, np.append(history.loss, final))))  # index of the first higher loss
    hint = (
        f"a smaller optimizer.learning_rate (now {cfg.optimizer.learning_rate:g})"
        if cfg.optimizer.name not in ("lbfgs", "newton")
        else 'dtype = "float64"'
    )
    if not cfg.features.standardize:
        hint += " or features.standardize = true"
    raise TrainingDiverged(
        f"training diverged: the loss rose from {start:.6g} at the start to {final:.6g} "
        f"after epoch {history.loss.size} (first above it after epoch {first}); try {hint}"
    )


def check_minibatch(start: float, final: float, epochs: int, learning_rate: float) -> None:
    """Raises :class:`TrainingDiverged` when a minibatch run's loss over all rows ended above the
    same loss at its initial parameters: single batch losses are noisy, the full-data ones are not."""
    if rose(start, final):
        raise TrainingDiverged(
            f"training diverged: the loss over all rows rose from {start:.6g} at the start to {final:.6g} "
            f"after epoch {epochs} of minibatch training; try a smaller optimizer.learning_rate "
            f"(now {learning_rate:g}), a larger train.batch_size or features.standardize = true"
        )


QUASI_RTOL = 1e-2  # wrong-side margins within this share of the largest |z|: on the boundary (ties)


def quasi_separated(X, y, theta) -> bool:
    """Whether the fitted direction θ/‖θ‖ separates the (m, n) inputs ``X`` by their (m,) 0/1
    labels ``y`` but for points on its boundary: every wrong-side point has a margin within
    :data:`QUASI_RTOL` of the largest |x·θ|. Then (with l2 = 0) ‖θ‖ grows without bound, the
    boundary points' logits stay near 0, and no finite maximum-likelihood estimate exists.
    Data that overlap have wrong-side points far from the boundary, so they are never flagged."""
    z = np.asarray(X, np.float64) @ np.asarray(theta, np.float64).ravel()
    margins = (2 * np.asarray(y, np.float64) - 1) * z
    return bool(margins.min() >= -QUASI_RTOL * np.abs(z).max())


def findings(cfg, model, history, params, train_accuracy: float, inputs=None) -> dict:
    """The ``metrics.json`` fields of the warnings, and the warnings themselves.

    Args:
        cfg: the run's config. model: its :class:`~logreg_jax.models.base.Model` (separation is
            diagnosed for models with ``inference``). history: its :class:`~logreg_jax.train.History`.
        params: the trained parameter pytree. train_accuracy: accuracy on the training data.
        inputs: the ((m, n) X, (m,) y) training inputs of a logistic model, for the
            quasi-separation check (skipped when None).

    Returns:
        ``{"converged": bool, "separated": bool, "stalled": bool, "warnings": [str, ...]}``
        (``converged`` false without a finite optimum, separated or quasi-separated data); the
        script prints each warning on stderr.
    """
    warnings = []
    unpenalized = model.inference and cfg.loss.l2 == 0
    separated = unpenalized and train_accuracy == 1.0
    quasi = unpenalized and not separated and inputs is not None and quasi_separated(*inputs, params)
    if quasi:
        warnings.append(
            "with loss.l2 = 0 the model separates the training samples but for those on its boundary "
            "(quasi-complete separation): no maximum-likelihood estimate exists and ‖θ‖ grows as long "
            "as training runs; set loss.l2 > 0 (e.g. 1) for finite parameters"
        )
    if separated:
        norm = float(
            np.sqrt(sum(np.sum(np.square(np.asarray(p, np.float64))) for p in jax.tree_util.tree_leaves(params)))
        )
        warnings.append(
            f"the model classifies every training sample correctly with loss.l2 = 0: the data are "
            f"linearly separable, no maximum-likelihood estimate exists and ‖θ‖ (now {norm:.3g}) "
            "grows as long as training runs; set loss.l2 > 0 (e.g. 1) for finite parameters"
        )
    stalled = _stalled(cfg, history)
    if stalled:
        warnings.append(
            f"the optimizer stalled: the loss stayed at {history.final_loss:.8g} for the last "
            f"{STALL_ITERATIONS} iterations with ‖∇C‖ = {history.final_grad_norm:.2g} above "
            f"train.tol = {cfg.train.tol:g}; {cfg.dtype} cannot resolve smaller steps: "
            + ('try dtype = "float64" or a larger train.tol' if cfg.dtype != "float64" else "try a larger train.tol")
        )
    # No finite optimum: whatever train.tol saw, the run did not converge (to anything).
    converged = bool(history.converged) and not (separated or quasi)
    return {"converged": converged, "separated": separated or quasi, "stalled": stalled, "warnings": warnings}


def _stalled(cfg, history) -> bool:
    if (
        history.converged
        or cfg.train.tol <= 0
        or cfg.train.batch_size is not None
        or history.loss.size < STALL_ITERATIONS
        or not history.final_grad_norm > cfg.train.tol
    ):
        return False
    tail = np.append(history.loss[-STALL_ITERATIONS:], history.final_loss)
    # "No change" at the training precision: a few units in the last place of the loss.
    return bool(np.ptp(tail) <= 4 * np.finfo(cfg.dtype).eps * abs(tail[-1]))
