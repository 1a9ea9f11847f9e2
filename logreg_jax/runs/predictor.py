"""A trained run applied to new rows: ``lj.load_run("runs/exam_scores").predict_proba(X_raw)``.

A run folder of ``experiments/train.py`` holds the model's parameters and the feature map fitted
on its training data (``params.npz``) beside the config; :func:`load_run` reads them back, and
:class:`Predictor` maps raw feature rows to class probabilities exactly as training did;
:func:`label_scores` measures the predictions against labels (loss, accuracy, binary ROC AUC), and
:func:`prediction_table` lays them out for ``experiments/predict.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from logreg_jax.data.rows import Rows
from logreg_jax.errors import DataError
from logreg_jax.fit import Fit, model_inputs, precision, predict_proba
from logreg_jax.report.classification import roc_auc
from logreg_jax.report.metrics import accuracy_on, loss_on
from logreg_jax.runs.folder import run_kind
from logreg_jax.runs.store import load_fit


class Predictor:
    """A trained model with its feature map: raw feature rows in, class probabilities out.

    Attributes:
        fitted: the :class:`~logreg_jax.fit.Fit` read back from the run folder.
        feature_names: the d raw features the model was trained on, in order.
        n_classes: K, the number of classes.
    """

    def __init__(self, fitted: Fit):
        self.fitted = fitted
        self.feature_names = tuple(fitted.data.feature_names)
        self.n_classes = fitted.model.n_classes

    def _check(self, X_raw) -> np.ndarray:
        X_raw = np.asarray(X_raw, dtype=np.float64)
        if X_raw.ndim != 2 or X_raw.shape[1] != len(self.feature_names):
            raise DataError(
                f"expected rows of {len(self.feature_names)} features ({', '.join(self.feature_names)}), "
                f"found an array of shape {X_raw.shape}"
            )
        return X_raw

    def logits(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → float64 logits: (k,) with P(y = 1) = σ(z) for a binary model, else (k, K).

        Raises:
            DataError: ``X_raw`` is not (k, d) for the run's d features.
        """
        f = self.fitted
        with precision(f.cfg):
            return np.asarray(f.model.logits(f.params, model_inputs(f, self._check(X_raw))), dtype=np.float64)

    def predict_proba(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → (k, K) float64 probabilities, column c holding P(y = c).

        Raises:
            DataError: a row whose values the run's dtype cannot carry through the model (e.g. 1e300
                in float32: infinite inputs, NaN probabilities); naming the data row (from 1).
        """
        X_raw = self._check(X_raw)
        with np.errstate(over="ignore"):  # overflow is what is looked for here
            inputs = self.fitted.feature_map(X_raw).astype(self.fitted.cfg.dtype)
        finite = np.all(np.isfinite(inputs), axis=1)
        p = predict_proba(self.fitted, X_raw[finite] if not finite.all() else X_raw)  # no overflow warning
        if finite.all():
            finite = np.all(np.isfinite(p), axis=1)
        bad = np.flatnonzero(~finite)
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"data row {i + 1} ({', '.join(f'{v:g}' for v in X_raw[i])}): no finite probability; "
                f"its values are beyond what the run's {self.fitted.cfg.dtype} model can compute "
                f"({bad.size} such rows)"
            )
        return p

    def predict(self, X_raw) -> np.ndarray:
        """(k, d) raw rows → (k,) predicted classes: the most likely one (binary: z ≥ 0, the rule of
        every accuracy here)."""
        z = self.logits(X_raw)
        return (z.argmax(axis=1) if z.ndim == 2 else z >= 0).astype(np.int64)


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
        what = "no such folder" if not path.exists() else "not a run folder (no .logreg_jax_run marker)"
        raise DataError(f"{path}: {what}; expected a run folder written by experiments/train.py")
    if kind != "train":
        raise DataError(
            f"{path}: a run folder of experiments/{kind}.py, not of experiments/train.py "
            "(only train.py runs keep a model to predict with, in params.npz)"
        )
    return Predictor(load_fit(path))


def label_scores(predictor: Predictor, X_raw, y) -> dict:
    """``loss`` (mean cross-entropy, no L2 term), ``accuracy``, and for a binary model ``auc`` (the
    area under the ROC curve; None when only one class occurs)."""
    f = predictor.fitted
    scores = {"loss": loss_on(f, X_raw, y), "accuracy": accuracy_on(f, X_raw, y)}
    if predictor.n_classes == 2:
        both = np.unique(np.asarray(y)).size == 2
        scores["auc"] = roc_auc(y, predict_proba(f, X_raw)[:, 1]) if both else None
    return scores


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
