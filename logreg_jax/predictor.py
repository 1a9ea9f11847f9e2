"""A trained run applied to new rows: ``lj.load_run("runs/exam_scores").predict_proba(X_raw)``.

A run folder of ``experiments/train.py`` holds the model's parameters and the feature map fitted
on its training data (``params.npz``) beside the config; :func:`load_run` reads them back, and
:class:`Predictor` maps raw feature rows to class probabilities exactly as training did;
:func:`label_scores` measures the predictions against labels (loss, accuracy, ROC AUC), and
:func:`prediction_table` lays them out for ``experiments/predict.py``.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.errors import DataError
from logreg_jax.fit import Fit, precision
from logreg_jax.loss import binary_cross_entropy
from logreg_jax.rows import Rows
from logreg_jax.runs import load_fit, run_kind


class Predictor:
    """A trained model with its feature map: raw feature rows in, class probabilities out.

    Attributes:
        fitted: the :class:`~logreg_jax.fit.Fit` read back from the run folder.
        feature_names: the d raw features the model was trained on, in order.
        n_classes: K, the number of classes (2: the models are binary so far).
    """

    n_classes = 2

    def __init__(self, fitted: Fit):
        self.fitted = fitted
        self.feature_names = tuple(fitted.data.feature_names)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def logits(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → (k,) float64 logits z, P(y = 1) = σ(z), through the stored feature map.

        Raises:
            DataError: ``X_raw`` is not (k, d) for the run's d features.
        """
        X_raw = np.asarray(X_raw, dtype=np.float64)
        if X_raw.ndim != 2 or X_raw.shape[1] != self.n_features:
            raise DataError(f"expected rows of {self.n_features} features ({', '.join(self.feature_names)}), "
                            f"found an array of shape {X_raw.shape}")
        f = self.fitted
        with precision(f.cfg):
            X = jnp.asarray(f.feature_map(X_raw), f.cfg.dtype)
            return np.asarray(f.model.logits(f.params, X), dtype=np.float64)

    def predict_proba(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → (k, K) float64 probabilities, column c holding P(y = c)."""
        z = self.logits(X_raw)
        with precision(self.fitted.cfg):  # σ in the run's dtype, as lj.predict computes it
            z = jnp.asarray(z, self.fitted.cfg.dtype)
            return np.asarray(jnp.stack([jax.nn.sigmoid(-z), jax.nn.sigmoid(z)], axis=1), dtype=np.float64)

    def predict(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → (k,) predicted classes: 1 where z ≥ 0, the rule of every accuracy here."""
        return (self.logits(X_raw) >= 0).astype(np.int64)


def load_run(path: str | Path) -> Predictor:
    """The trained model of a run folder written by ``experiments/train.py``.

    The run's training data must still be readable: they define the raw features (their number
    and names), as when the run is re-plotted.

    Raises:
        DataError: ``path`` is not a run folder, or a run folder of another script.
    """
    path = Path(path)
    kind = run_kind(path)
    if kind is None:
        what = "no such folder" if not path.exists() else "not a run folder (no config.json)"
        raise DataError(f"{path}: {what}; expected a run folder written by experiments/train.py")
    if kind == "unknown":
        raise DataError(f"{path}: no params.npz; expected a complete run folder written by experiments/train.py")
    if kind != "train.py":
        raise DataError(f"{path}: a run folder of experiments/{kind}, not of experiments/train.py "
                        "(only train.py runs keep a model to predict with, in params.npz)")
    return Predictor(load_fit(path))


def roc_auc(y, score) -> float | None:
    """The area under the ROC curve: P(score of a positive > score of a negative), ties counting 1/2.

    From the Mann-Whitney rank sum: AUC = (R₁ − n₁(n₁ + 1)/2) / (n₁ n₀), R₁ the sum of the
    positives' ranks among all scores, tied scores sharing their mean rank.

    Args:
        y: (k,) 0/1 labels. score: (k,) scores, higher meaning class 1 is more likely.

    Returns:
        The AUC in [0, 1], or None when only one class occurs (it is then undefined).
    """
    y, score = np.asarray(y) == 1, np.asarray(score, dtype=np.float64)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return None
    _, group, counts = np.unique(score, return_inverse=True, return_counts=True)
    # The tied scores of a group hold ranks start + 1 … start + count; each gets their mean.
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0
    return float((mean_rank[group][y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def label_scores(predictor: Predictor, X_raw, y) -> dict:
    """``loss`` (mean cross-entropy, no L2 term), ``accuracy`` and ``auc`` (binary; None for one class)."""
    z = predictor.logits(X_raw)
    with jax.enable_x64(True):
        loss = float(binary_cross_entropy(jnp.asarray(z), jnp.asarray(y, jnp.float64)))
    return {"loss": loss, "accuracy": float(np.mean((z >= 0) == (np.asarray(y) == 1))),
            "auc": roc_auc(y, predictor.predict_proba(X_raw)[:, 1])}


def prediction_table(predictor: Predictor, rows: Rows) -> tuple[list[dict], list[str]]:
    """One dict per row: the features, the label (if any), ``p_0 … p_{K-1}``, ``predicted``; and the columns."""
    proba, predicted = predictor.predict_proba(rows.X), predictor.predict(rows.X)
    prob_cols = [f"p_{c}" for c in range(proba.shape[1])]
    columns = list(rows.feature_names) + ([rows.label_name] if rows.y is not None else []) + prob_cols + ["predicted"]
    if len(set(columns)) != len(columns):
        raise DataError(f"the output columns {columns} repeat a name; rename the input's header")
    table = []
    for i in range(rows.X.shape[0]):
        row = dict(zip(rows.feature_names, rows.X[i]))
        if rows.y is not None:
            row[rows.label_name] = int(rows.y[i])
        row.update(zip(prob_cols, proba[i]))
        row["predicted"] = int(predicted[i])
        table.append(row)
    return table, columns
