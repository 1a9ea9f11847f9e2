"""What a trained model is measured by: the run's ``metrics.json``.

Accuracy and the gradient check read the prepared training inputs (the feature-major blocks of a
full-batch run, or the source re-read batch by batch after minibatch training), so metrics make
no second full-size copy of the data.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax import block_loss, blocks
from logreg_jax.data import Dataset
from logreg_jax.diagnose import findings
from logreg_jax.experiment import Fit, precision, predict
from logreg_jax.loss import objective
from logreg_jax.minibatch import evaluate
from logreg_jax.sources import ArraySource

CHECK_ROWS = 4096  # samples the gradient check uses (all of them for smaller data)


def _source(fitted: Fit):
    return ArraySource(fitted.data) if isinstance(fitted.data, Dataset) else fitted.data


def sample_inputs(fitted: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``CHECK_ROWS`` prepared training rows (model inputs) and labels, for checks."""
    if fitted.inputs is not None:
        return blocks.sample_rows(fitted.inputs, CHECK_ROWS)
    source = _source(fitted)
    rows = source.read(0, min(source.m, CHECK_ROWS))
    return fitted.feature_map(np.asarray(rows[0], np.float64)).astype(fitted.cfg.dtype), rows[1]


def gradient_check(fitted: Fit) -> float | None:
    """max |hand-derived − autodiff| gradient at the trained params (None if no hand gradient),
    on the prepared training inputs (their first ``CHECK_ROWS`` samples)."""
    if fitted.model.gradient is None:
        return None
    X, y = sample_inputs(fitted)
    with precision(fitted.cfg):
        args = (fitted.params, jnp.asarray(X), jnp.asarray(y, X.dtype), fitted.cfg.loss.l2)
        auto = jax.grad(objective, argnums=1)(fitted.model, *args)
        hand = fitted.model.gradient(*args)
        diffs = jax.tree_util.tree_map(lambda a, b: jnp.max(jnp.abs(a - b)), hand, auto)
        return float(max(jax.tree_util.tree_leaves(diffs)))


def train_accuracy(fitted: Fit) -> float:
    """Training accuracy from the prepared inputs (streamed from the source after minibatches)."""
    with precision(fitted.cfg):
        if fitted.inputs is not None:
            return float(block_loss.accuracy(fitted.model, fitted.params, fitted.inputs, fitted.mesh))
        return evaluate(fitted.model, fitted.params, _source(fitted), fitted.feature_map, fitted.cfg.dtype)[2]


def summarize(fitted: Fit) -> dict:
    """The run's ``metrics.json``: loss, accuracy, parameters, predictions, gradient check, and the
    warnings of :func:`~logreg_jax.diagnose.findings` (``separated``, ``stalled``, ``warnings``)."""
    points = [list(p) for p in fitted.cfg.predict.points]
    metrics = {
        "final_loss": fitted.history.final_loss,
        "final_grad_norm": fitted.history.final_grad_norm,
        "train_accuracy": train_accuracy(fitted),
        "epochs": int(fitted.history.loss.size),  # iterations actually run (fewer if converged)
        "converged": fitted.history.converged,  # stopped by train.tol
        "n_samples": int(_source(fitted).m),
    }
    metrics.update(fitted.model.describe(fitted.params, fitted.feature_map))
    if points:
        metrics["predictions"] = [{"x": p, "probability": float(q)} for p, q in zip(points, predict(fitted, points))]
    metrics["gradient_check"] = gradient_check(fitted)
    # Separation and stalls: boolean fields and "warnings" (strings the script prints on stderr).
    metrics.update(findings(fitted.cfg, fitted.history, fitted.params, metrics["train_accuracy"]))
    return metrics
