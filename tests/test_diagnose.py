"""Runs that end badly but finite (logreg_jax.report.diagnose), and statistics that cannot overflow."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT, load_script
from scipy.optimize import linprog

import logreg_jax as lj
from logreg_jax.data.files import Dataset
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.report import diagnose
from logreg_jax.report.metrics import fit_inference
from logreg_jax.scale.pipeline import fit_feature_map
from logreg_jax.scale.sources import ArraySource
from logreg_jax.train import History


def config(**train):
    return SimpleNamespace(
        model=SimpleNamespace(name="logistic"),
        loss=SimpleNamespace(l2=0.0),
        dtype="float32",
        train=SimpleNamespace(tol=1e-6, batch_size=None, **train),
        optimizer=SimpleNamespace(name="sgd", learning_rate=1.0),
        features=SimpleNamespace(standardize=True),
    )


def separable(X, y) -> bool:
    """Reference: is there (w, b) with (2y − 1)(w·x + b) ≥ 1 for every row? (an LP feasibility problem)"""
    s = 2 * y - 1
    A = -s[:, None] * np.column_stack([X, np.ones(len(y))])
    return linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(y)), bounds=(None, None)).status == 0


def test_diverged_rule_vectorised():
    losses = np.array([[0.7, 0.5, 0.4], [0.7, 9.0, 80.0], [0.7, np.inf, 1.0], [0.7, 0.6, 0.2]])
    active = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 0, 0]], bool)  # the last stopped at tol
    final = np.array([0.3, 650.0, 0.5, 0.6])
    losses[3, 1:] = np.nan  # padding after stopping is not divergence
    np.testing.assert_array_equal(diagnose.diverged(losses, active, final), [False, True, True, False])
    assert not diagnose.rose(0.7, 0.7 * (1 + 1e-4))  # rounding is not divergence


def test_stall_needs_a_flat_tail_above_tol():
    flat = History(np.r_[np.linspace(1, 0.5, 10), np.full(60, 0.5)], np.ones(70), 0.5, 3e-6, False)
    found = diagnose.findings(config(), LOGISTIC, flat, np.zeros(3), 0.8)
    assert found["stalled"] and "float64" in found["warnings"][0] and not found["separated"]
    moving = flat._replace(loss=np.linspace(1, 0.5, 70), final_loss=0.49)
    assert not diagnose.findings(config(), LOGISTIC, moving, np.zeros(3), 0.8)["stalled"]
    assert not diagnose.findings(config(), LOGISTIC, flat._replace(converged=True), np.zeros(3), 0.8)["stalled"]


@pytest.mark.slow
@pytest.mark.parametrize("data, expect", [("separable", True), ("data/exam_scores.txt", False)])
def test_separation_is_warned_exactly_when_the_data_are_separable(tmp_path, capsys, data, expect):
    if data == "separable":
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 2))
        y = (X @ [1.0, -2.0] > 0.3).astype(float)
        np.savetxt(tmp_path / "sep.txt", np.column_stack([X, y]), delimiter=",")
        data = str(tmp_path / "sep.txt")
    table = np.loadtxt(data, delimiter=",")
    assert separable(table[:, :2], table[:, 2]) == expect
    load_script("train").main(
        [
            "configs/exam_scores.toml",
            "--out",
            str(tmp_path / "run"),
            "--set",
            f'data.path="{data}"',
            "--set",
            "optimizer.name=lbfgs",
            "--set",
            "predict.points=[]",
        ]
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["separated"] == expect
    assert ("linearly separable" in capsys.readouterr().err) == expect


def test_statistics_of_huge_values_match_a_scaled_float64_reference():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 2)) * [1e300, 1.0] + [5e299, 3.0]  # 1e300² overflows float64
    y = (rng.random(20_000) < 0.5).astype(float)
    fm = fit_feature_map(ArraySource(Dataset(X, y, ("a", "b"))), degree=1, standardize=True, bias=True)
    scaled = X / [1e300, 1.0]
    np.testing.assert_allclose(fm.standardizer.mean, scaled.mean(0) * [1e300, 1.0], rtol=1e-12)
    np.testing.assert_allclose(fm.standardizer.std, scaled.std(0) * [1e300, 1.0], rtol=1e-12)
    assert np.all(np.isfinite(fm(X)))
    with pytest.raises(lj.DataError, match="feature 'a' reaches .* beyond the largest float32"):
        fit_feature_map(ArraySource(Dataset(X, y, ("a", "b"))), degree=1, standardize=False, bias=True, dtype="float32")


def _quasi_file(tmp_path):
    """x1 < 0: class 0, x1 > 0: class 1, and two tied points on x1 = 0 with opposite labels."""
    rng = np.random.default_rng(0)
    x1 = np.concatenate([-rng.uniform(0.5, 3, 20), rng.uniform(0.5, 3, 20), [0.0, 0.0]])
    x2 = np.concatenate([rng.normal(size=40), [0.5, 0.5]])
    y = np.concatenate([np.zeros(20), np.ones(20), [0.0, 1.0]])
    path = tmp_path / "quasi.txt"
    np.savetxt(path, np.column_stack([x1, x2, y]), delimiter=",", fmt="%.17g")
    return path


@pytest.mark.slow  # compiles a float64 Newton fit and the inference: ~7 s
def test_quasi_separated_data_never_claim_convergence_nor_a_table(tmp_path):
    """Issue 18: separable but for tied boundary points, l2 = 0: separated, not converged, no coefficient table."""
    path = _quasi_file(tmp_path)
    over = [f'data.path="{path}"', "optimizer.name=newton", "train.epochs=30", "predict.points=[]", 'dtype="float64"']
    cfg = lj.load_config(ROOT / "configs" / "exam_scores.toml", [*over, "plot.x1=[-4.0, 4.0]", "plot.x2=[-4.0, 4.0]"])
    fitted = lj.fit(cfg)
    metrics = lj.summarize(fitted)
    assert metrics["train_accuracy"] < 1.0  # the tied pair cannot both be right
    assert metrics["separated"] and not metrics["converged"]
    assert any("quasi-complete separation" in w for w in metrics["warnings"])
    with pytest.raises(lj.DataError, match="quasi-complete separation"):
        fit_inference(fitted)


def test_perfectly_separated_data_never_claim_convergence(tmp_path):
    """Issue 18: separable data reached train.tol (the gradient vanishes as ‖θ‖ → ∞) and said converged."""
    path = _quasi_file(tmp_path)
    rows = np.loadtxt(path, delimiter=",")[:-2]  # without the tied pair: perfectly separable
    np.savetxt(path, rows, delimiter=",", fmt="%.17g")
    over = [f'data.path="{path}"', "optimizer.name=newton", "train.epochs=200", "train.tol=1e-4", 'dtype="float64"']
    fitted = lj.fit(
        lj.load_config(ROOT / "configs" / "exam_scores.toml", [*over, "plot.x1=[-4.0, 4.0]", "plot.x2=[-4.0, 4.0]"])
    )
    metrics = lj.summarize(fitted)
    assert fitted.history.converged  # train.tol was reached ...
    assert metrics["separated"] and not metrics["converged"]  # ... but there is no optimum to converge to


def test_overlapping_data_are_not_quasi_separated():
    """The exam scores (89 % accuracy) overlap: a fitted θ has wrong-side points far from the boundary."""
    cfg = lj.load_config(ROOT / "configs" / "exam_scores_converged.toml")
    fitted = lj.fit(cfg)
    X, y = fitted.inputs
    assert not diagnose.quasi_separated(X, y, fitted.params)
    assert lj.summarize(fitted)["converged"] and not lj.summarize(fitted)["separated"]


def test_a_minibatch_run_that_ends_worse_than_it_started_is_refused():
    """Issue 18: unstandardized exam scores, batches of 10: loss 260 and accuracy 0.40 were reported as a success."""
    cfg = lj.load_config(
        ROOT / "configs" / "exam_scores.toml", ["features.standardize=false", "train.batch_size=10", "train.epochs=20"]
    )
    with pytest.raises(lj.TrainingDiverged, match="the loss over all rows rose from"):
        lj.fit_config(cfg)
