"""Classification metrics on label and probability arrays: ROC and its area, confusion matrix,
per-class precision and recall, and the bins of a reliability (calibration) diagram.

Host-side NumPy on (m,) arrays, no model involved, and no scikit-learn: the tests compare every
function with ``sklearn.metrics`` on random inputs with ties.
"""

from __future__ import annotations

import numpy as np


def roc_curve(y, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve of a score for 0/1 labels: one point per distinct score, highest first.

    Args:
        y: (m,) labels 0/1, both present.
        score: (m,) higher means more likely 1 (a probability or a logit).

    Returns:
        (fpr, tpr, thresholds), each (t + 1,) for t distinct scores: the rates of predicting 1 for
        score ≥ threshold, starting at (0, 0) with threshold +inf (as ``sklearn.metrics.roc_curve``
        with ``drop_intermediate=False``).
    """
    y, score = np.asarray(y) == 1, np.asarray(score, np.float64)
    order = np.argsort(-score, kind="stable")
    y, score = y[order], score[order]
    # The last sample of each run of equal scores: tied samples cross the threshold together.
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return (np.r_[0.0, fp / fp[-1]], np.r_[0.0, tp / tp[-1]], np.r_[np.inf, score[last]])


def roc_auc(y, score) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative), ties
    counting one half (the Mann–Whitney statistic, equal to the trapezoidal area under
    :func:`roc_curve`).

    Args:
        y: (m,) labels 0/1, both present.
        score: (m,) scores.
    """
    y, score = np.asarray(y) == 1, np.asarray(score, np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the area under the ROC curve needs both classes among the labels")
    return float((_average_ranks(score)[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1 … m of x, tied values sharing the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(xs)) + 1]
    ends = np.r_[starts[1:], xs.size]
    ranks = np.empty(x.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)  # mean of ranks start+1 … end
    return ranks


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(K, K) int counts: entry [i, j] is the number of samples of class i predicted as j.

    Args:
        y_true, y_pred: (m,) class numbers 0 … K−1 (any numeric dtype).
        n_classes: K.
    """
    t, p = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (right among those predicted k) and recall (found among those of
    class k) from a confusion matrix; 0 where a class is never predicted (or never occurs), as
    ``sklearn.metrics`` with ``zero_division=0``.

    Returns:
        Two (K,) float64 arrays.
    """
    matrix = np.asarray(matrix, np.float64)
    right = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(predicted > 0, right / predicted, 0.0), np.where(actual > 0, right / actual, 0.0))


def calibration_bins(y, prob, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reliability diagram's points: per equal-width bin of predicted P(y = 1), the mean
    prediction, the observed fraction of positives, and the count (empty bins left out).

    Bins are [0, 1/n], (1/n, 2/n], …, ((n−1)/n, 1], as ``sklearn.calibration.calibration_curve``.

    Returns:
        (mean predicted, fraction positive, count), each (b,) for the b non-empty bins.
    """
    y, prob = np.asarray(y, np.float64), np.asarray(prob, np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.searchsorted(edges[1:-1], prob)
    count = np.bincount(which, minlength=n_bins)
    total_p = np.bincount(which, weights=prob, minlength=n_bins)
    total_y = np.bincount(which, weights=y, minlength=n_bins)
    full = count > 0
    return total_p[full] / count[full], total_y[full] / count[full], count[full]


def class_report(y, prob) -> dict:
    """The metrics.json entries of one labelled set, from (m, K) class probabilities: for two
    classes the ROC area of P(y = 1), for K > 2 the confusion matrix of the most probable class and
    per-class precision and recall (as JSON-ready lists)."""
    prob = np.asarray(prob)
    if prob.shape[1] == 2:
        return {"auc": roc_auc(y, prob[:, 1])}
    matrix = confusion_matrix(y, np.argmax(prob, axis=1), prob.shape[1])
    precision, recall = precision_recall(matrix)
    return {"confusion_matrix": matrix.tolist(), "precision": precision.tolist(), "recall": recall.tolist()}
