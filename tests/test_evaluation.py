"""The project's classification metrics equal scikit-learn's on random inputs with ties."""

import numpy as np
import pytest

from logreg_jax.report.classification import (
    calibration_bins,
    class_report,
    confusion_matrix,
    precision_recall,
    roc_auc,
    roc_curve,
)


@pytest.mark.parametrize("m, levels", [(2, 2), (30, 3), (200, 7), (500, 1000)])
def test_roc_curve_and_auc_equal_scikit_learn_with_ties(rng, m, levels):
    from sklearn import metrics

    y = rng.integers(0, 2, m)
    y[:2] = [0, 1]
    score = rng.integers(0, levels, m) / levels  # few levels: many ties, across both classes
    fpr, tpr, thresholds = roc_curve(y, score)
    sk_fpr, sk_tpr, sk_thr = metrics.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, rtol=1e-15)
    np.testing.assert_allclose(tpr, sk_tpr, rtol=1e-15)
    np.testing.assert_array_equal(thresholds[1:], sk_thr[1:])
    assert abs(roc_auc(y, score) - metrics.roc_auc_score(y, score)) < 1e-14
    assert abs(roc_auc(y, score) - np.trapezoid(tpr, fpr)) < 1e-12


def test_auc_of_perfect_reversed_and_constant_scores():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc(y, [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([1, 1], [0.2, 0.3])


@pytest.mark.parametrize("m, k", [(5, 2), (100, 3), (400, 10)])
def test_confusion_precision_recall_equal_scikit_learn(rng, m, k):
    from sklearn import metrics

    y_true = rng.integers(0, k, m)
    y_pred = np.where(rng.random(m) < 0.6, y_true, rng.integers(0, k, m))
    y_pred[y_pred == k - 1] = 0  # a class never predicted: precision 0 by zero_division
    matrix = confusion_matrix(y_true.astype(float), y_pred, k)
    np.testing.assert_array_equal(matrix, metrics.confusion_matrix(y_true, y_pred, labels=range(k)))
    precision, recall = precision_recall(matrix)
    kw = {"labels": range(k), "average": None, "zero_division": 0}
    np.testing.assert_allclose(precision, metrics.precision_score(y_true, y_pred, **kw), rtol=1e-15)
    np.testing.assert_allclose(recall, metrics.recall_score(y_true, y_pred, **kw), rtol=1e-15)
    prob = rng.dirichlet(np.ones(k), m)
    report = class_report(y_true, prob)
    if k == 2:  # two classes: the ROC area of P(y = 1)
        assert report == {"auc": pytest.approx(metrics.roc_auc_score(y_true, prob[:, 1]), rel=1e-14)}
        return
    np.testing.assert_array_equal(
        report["confusion_matrix"], metrics.confusion_matrix(y_true, prob.argmax(1), labels=range(k))
    )


@pytest.mark.parametrize("n_bins", [5, 10])
def test_calibration_bins_equal_scikit_learn(rng, n_bins):
    from sklearn.calibration import calibration_curve

    prob = np.r_[rng.random(300), np.linspace(0, 1, 11)]  # bin edges themselves included
    y = (rng.random(prob.size) < prob).astype(int)
    mean_p, frac, count = calibration_bins(y, prob, n_bins)
    sk_frac, sk_mean = calibration_curve(y, prob, n_bins=n_bins)
    np.testing.assert_allclose(mean_p, sk_mean, rtol=1e-13)
    np.testing.assert_allclose(frac, sk_frac, rtol=1e-13)
    assert count.sum() == prob.size
