"""What a trained model is measured by: the run's ``metrics.json``.

Accuracy and the gradient check read the training inputs the fit kept (:attr:`Fit.inputs`): the
(m, n) rows in memory, or for data at scale the feature-major blocks, or the source re-read batch
by batch after minibatch training, so metrics make no second full-size copy of the data.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.fit import Fit, model_inputs, precision, predict_proba, run_keys
from logreg_jax.loss import accuracy, mean_cross_entropy, objective
from logreg_jax.report.classification import class_report
from logreg_jax.report.diagnose import findings
from logreg_jax.report.inference import Inference, inference

CHECK_ROWS = 4096  # samples the gradient check uses (all of them for smaller data)


def sample_inputs(fitted: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``CHECK_ROWS`` prepared training rows (model inputs) and labels, for checks."""
    return fitted.inputs.sample(CHECK_ROWS)


@functools.partial(jax.jit, static_argnums=0)
def _gradient_gap(model, params, X, y, l2):
    auto = jax.grad(objective, argnums=1)(model, params, X, y, l2)
    diffs = jax.tree_util.tree_map(lambda a, b: jnp.max(jnp.abs(a - b)), model.gradient(params, X, y, l2), auto)
    return jnp.max(jnp.stack(jax.tree_util.tree_leaves(diffs)))


def gradient_check(fitted: Fit) -> float | None:
    """max |hand-derived − autodiff| gradient at the trained params (None if no hand gradient),
    on the prepared training inputs (their first ``CHECK_ROWS`` samples), in one compiled program."""
    if fitted.model.gradient is None:
        return None
    X, y = sample_inputs(fitted)
    with precision(fitted.cfg):
        return float(_gradient_gap(fitted.model, fitted.params, X, np.asarray(y, X.dtype), fitted.cfg.loss.l2))


def train_accuracy(fitted: Fit) -> float:
    """Training accuracy on the inputs the fit trained on."""
    with precision(fitted.cfg):
        return fitted.inputs.accuracy(fitted.model, fitted.params)


def accuracy_on(fitted: Fit, X_raw, y) -> float:
    """Accuracy of the fitted model on (k, d) raw rows with (k,) labels, through its stored
    feature map (the rule of :func:`logreg_jax.loss.accuracy`)."""
    with precision(fitted.cfg):
        return accuracy(fitted.model, fitted.params, model_inputs(fitted, X_raw), jnp.asarray(y))


def loss_on(fitted: Fit, X_raw, y) -> float:
    """The mean cross-entropy (no penalty) of the fitted model on (k, d) raw rows with (k,) labels."""
    with precision(fitted.cfg):
        return float(
            mean_cross_entropy(fitted.model.logits(fitted.params, model_inputs(fitted, X_raw)), jnp.asarray(y))
        )


def held_out_metrics(fitted: Fit) -> dict:
    """The held-out loss and accuracy (when there is a test set), and per set (train, test) the
    :func:`~logreg_jax.report.classification.class_report`: ``train_auc``/``test_auc`` for binary models, a
    confusion matrix with per-class precision and recall (``train_``/``test_`` prefixed) for K classes.
    Empty for data at scale (no second pass over them)."""
    if fitted.rows is None:
        return {}
    sets = {"train": fitted.rows} | ({"test": fitted.test} if fitted.test is not None else {})
    metrics = {}
    if fitted.test is not None:
        metrics = {
            "test_loss": loss_on(fitted, fitted.test.X, fitted.test.y),
            "test_accuracy": accuracy_on(fitted, fitted.test.X, fitted.test.y),
            "n_test": int(fitted.test.y.size),
        }
    for name, data in sets.items():
        metrics |= {f"{name}_{k}": v for k, v in class_report(data.y, predict_proba(fitted, data.X)).items()}
    return metrics


def summarize(fitted: Fit) -> dict:
    """The run's ``metrics.json``: loss, accuracy, parameters, predictions, gradient check, and the
    warnings of :func:`~logreg_jax.report.diagnose.findings` (``separated``, ``stalled``, ``warnings``)."""
    points = [list(p) for p in fitted.cfg.predict.points]
    metrics = {
        "final_loss": fitted.history.final_loss,
        "final_grad_norm": fitted.history.final_grad_norm,
        "train_accuracy": train_accuracy(fitted),
        "epochs": int(fitted.history.loss.size),  # iterations actually run (fewer if converged)
        "converged": fitted.history.converged,  # stopped by train.tol
        "n_samples": fitted.inputs.m,
    }
    metrics.update(held_out_metrics(fitted))
    metrics.update(fitted.model.describe(fitted.params, fitted.feature_map))
    if points:
        # P(y = 1) for a binary model; for K classes the probability of each class
        proba = predict_proba(fitted, points)
        proba = proba[:, 1] if fitted.model.n_classes == 2 else proba
        metrics["predictions"] = [{"x": p, "probability": q.tolist()} for p, q in zip(points, proba)]
    metrics["gradient_check"] = gradient_check(fitted)
    # Separation and stalls: boolean fields and "warnings" (strings the script prints on stderr).
    inputs = fitted.inputs.sample(fitted.inputs.m) if fitted.rows is not None else None  # rows in memory
    metrics.update(findings(fitted.cfg, fitted.model, fitted.history, fitted.params, metrics["train_accuracy"], inputs))
    return metrics


def fit_inference(fitted: Fit) -> Inference:
    """:func:`logreg_jax.report.inference.inference` of a trained logistic model on all its training rows,
    as ``cfg.inference`` asks (the bootstrap drawn from the run's ``bootstrap`` key)."""
    data, cfg = fitted.data, fitted.cfg
    X_raw, y = (data.X, data.y) if fitted.rows is not None else data.read(0, data.m)
    return inference(
        fitted.params,
        X_raw,
        y,
        fitted.feature_map,
        l2=cfg.loss.l2,
        cov_type=cfg.inference.cov_type,
        names=data.feature_names,
        bootstrap=cfg.inference.bootstrap,
        key=run_keys(cfg.seed).bootstrap,
    )
