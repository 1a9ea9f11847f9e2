"""Polynomial features with L2 on the microchips: over- and underfitting, cross-validation, the λ sweep."""

import csv
import json

import jax
import numpy as np
import pytest
import reference
from conftest import load_script

import logreg_jax as lj
from logreg_jax.config import replace_key
from logreg_jax.data.features import Standardizer
from logreg_jax.data.splits import stratified_kfold
from logreg_jax.studies.cv import cross_validate
from logreg_jax.studies.regularization import RegularizationConfig

REG_CONFIG = "configs/microchips_regularization.toml"


@pytest.fixture(scope="module")
def microchips():
    return lj.load_dataset("data/microchips.txt")


@pytest.fixture(scope="module")
def fits(microchips):
    """The shipped sweep config (degree 6, raw monomials, float64 L-BFGS) fitted with λ = 0, 1, 100."""
    cfg = lj.load_config("configs/microchips.toml", ["train.epochs=500", "train.log_every=500"])
    return {lam: lj.fit(replace_key(cfg, "loss.l2", lam), microchips) for lam in (0.0, 1.0, 100.0)}


def accuracy(fitted):
    return float(np.mean((lj.predict_proba(fitted, fitted.data.X)[:, 1] >= 0.5) == (fitted.data.y == 1)))


def test_positive_lambdas_match_scikit_learn(fits, microchips):
    """Ours: (1/m) Σ ℓᵢ + (λ/2m)‖w‖²; scikit-learn: C Σ ℓᵢ + ½‖w‖², intercept unpenalized. Times m/λ
    ours is (1/λ) Σ ℓᵢ + ½‖w‖², so the minimisers coincide for C = 1/λ."""
    from sklearn.linear_model import LogisticRegression

    X = lj.polynomial_features(microchips.X, 6)
    for lam in (1.0, 100.0):
        ref = LogisticRegression(C=1 / lam, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X, microchips.y)
        theta = np.r_[ref.intercept_, ref.coef_[0]]
        np.testing.assert_allclose(fits[lam].params, theta, atol=1e-5 * np.abs(theta).max())
        assert fits[lam].history.final_grad_norm < 1e-10


def test_unpenalized_fit_converges_to_newtons_optimum(fits, microchips):
    """λ = 0 is ill-conditioned (Hessian condition ~1e8, |θ| in the thousands); SciPy's exact-Hessian
    trust-region Newton is the independent reference."""
    from scipy.optimize import minimize

    X, y = lj.add_bias(lj.polynomial_features(microchips.X, 6)), microchips.y

    def hess(theta):
        s = 1 / (1 + np.exp(-X @ theta))
        return X.T @ (X * (s * (1 - s))[:, None]) / X.shape[0]

    ref = minimize(
        reference.loss,
        np.zeros(28),
        args=(X, y),
        jac=reference.gradient,
        hess=lambda t, X, y: hess(t),
        method="trust-exact",
        options={"gtol": 1e-12},
    )
    fitted = fits[0.0]
    assert fitted.history.final_loss == pytest.approx(ref.fun, rel=1e-9)
    assert fitted.history.final_grad_norm < 1e-9
    assert accuracy(fitted) == pytest.approx(np.mean(((X @ ref.x) > 0) == (y == 1)))


def test_lambda_zero_overfits_and_lambda_100_underfits(fits, microchips):
    """Underfitting, defined: the λ = 100 model is nearly the constant predictor. Every probability
    lies within 0.1 of the class rate, its loss is within 1 % of that predictor's (the entropy of
    the class rate), and its accuracy is at most 15 points above the majority class's."""
    acc = {lam: accuracy(f) for lam, f in fits.items()}
    assert acc[0.0] > acc[1.0] > acc[100.0]
    assert acc[0.0] >= acc[100.0] + 0.2
    rate = microchips.y.mean()
    entropy = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))
    under = fits[100.0]
    assert np.max(np.abs(lj.predict_proba(under, microchips.X)[:, 1] - rate)) < 0.1
    assert under.history.final_loss == pytest.approx(entropy, rel=0.01)
    assert acc[100.0] <= max(rate, 1 - rate) + 0.15
    # ...while λ = 0 is far from constant and beats λ = 1 on the data it was fitted to.
    assert fits[0.0].history.final_loss < fits[1.0].history.final_loss - 0.2


def assert_valid_folds(folds, y, k):
    assert len(folds) == k
    everything = np.arange(y.size)
    val = np.concatenate([v for _, v in folds])
    np.testing.assert_array_equal(np.sort(val), everything)  # disjoint and covering: each index once
    for train, v in folds:
        np.testing.assert_array_equal(train, np.setdiff1d(everything, v))
    sizes = [v.size for _, v in folds]
    assert max(sizes) - min(sizes) <= 1
    for c in np.unique(y):
        per_fold = [np.sum(y[v] == c) for _, v in folds]
        assert max(per_fold) - min(per_fold) <= 1  # stratified: each class spread evenly


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_folds_are_stratified_disjoint_and_cover_every_sample(microchips, k):
    folds = stratified_kfold(microchips.y, k, key=jax.random.key(0))
    assert_valid_folds(folds, microchips.y, k)


def test_folds_on_unbalanced_labels_and_their_seeding():
    y = np.array([0] * 17 + [1] * 4)
    folds = stratified_kfold(y, 4, key=jax.random.key(3))
    assert_valid_folds(folds, y, 4)
    assert all(np.sum(y[v] == 1) == 1 for _, v in folds)
    again = stratified_kfold(y, 4, key=jax.random.key(3))
    other = stratified_kfold(y, 4, key=jax.random.key(4))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


@pytest.mark.parametrize("k", [1, 5, 2.5, True])
def test_bad_k_is_a_clear_error(k):
    with pytest.raises(
        lj.ConfigError,
        match=r"k = .* folds: expected an integer with 2 <= k <= 4, "
        r"the size of the smallest class \(class 1 has 4 samples\)",
    ):
        stratified_kfold(np.array([0] * 17 + [1] * 4), k, key=jax.random.key(0))


def test_cross_validation_fits_on_the_training_folds_only(microchips, monkeypatch):
    """No leakage: each fit sees exactly its training rows; and each fold's validation accuracy is
    what scikit-learn's model (C = 1/λ) trained on the same rows gets."""
    from sklearn.linear_model import LogisticRegression

    import logreg_jax.studies.cv as cv

    seen, real_fit = [], cv.fit
    monkeypatch.setattr(cv, "fit", lambda cfg, data: seen.append(data) or real_fit(cfg, data))
    # Standardized here, so that a leak would show in the statistics. Same chunk length as the other
    # fits in this file, and k = 2 (one fold shape), so the compiled training is shared.
    cfg = lj.load_config(
        "configs/microchips.toml", ["train.epochs=500", "train.log_every=500", "features.standardize=true"]
    )
    result = cross_validate(cfg, microchips, k=2, key=jax.random.key(7))
    folds = stratified_kfold(microchips.y, 2, key=jax.random.key(7))
    assert len(seen) == 2
    for (train, val), data, fold in zip(folds, seen, result["folds"]):
        np.testing.assert_array_equal(data.X, microchips.X[train])
        assert (fold["n_train"], fold["n_val"]) == (train.size, val.size)
        scale = Standardizer.fit(lj.polynomial_features(microchips.X[train], 6))
        Z = lambda rows: scale(lj.polynomial_features(microchips.X[rows], 6))  # noqa: E731
        ref = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(
            Z(train), microchips.y[train]
        )
        assert fold["val_accuracy"] == pytest.approx(ref.score(Z(val), microchips.y[val]))
        assert fold["train_accuracy"] == pytest.approx(ref.score(Z(train), microchips.y[train]))
        p = ref.predict_proba(Z(val))[:, 1]
        yv = microchips.y[val]
        assert fold["val_loss"] == pytest.approx(-np.mean(yv * np.log(p) + (1 - yv) * np.log(1 - p)), rel=1e-6)
    accs = [f["val_accuracy"] for f in result["folds"]]
    assert result["val_accuracy_mean"] == pytest.approx(np.mean(accs))
    assert result["val_accuracy_std"] == pytest.approx(np.std(accs))


def test_shipped_configs_load():
    load_script("regularization")  # the script imports cleanly
    cfg = lj.load_config(REG_CONFIG, cls=RegularizationConfig)
    assert cfg.lambdas == (0.0, 1.0, 10.0, 100.0) and cfg.cv.k == 5
    assert (cfg.base.features.polynomial_degree, cfg.base.features.standardize, cfg.base.optimizer.name) == (
        6,
        False,
        "lbfgs",
    )
    assert lj.load_config("configs/microchips.toml").loss.l2 == 1.0


@pytest.mark.parametrize(
    "override,message",
    [
        ("lambdas=[1, -1]", "lambdas = [1, -1]: expected a non-empty list of distinct finite numbers >= 0"),
        ("lambdas=[]", "lambdas = []"),
        ("lambdas=[1, 1]", "lambdas = [1, 1]"),
        ("cv.k=1", "cv.k = 1: expected an integer >= 2"),
        ("cv.folds=3", "unknown key 'cv.folds'"),
        ("optimizer.memory_size=0", "optimizer.memory_size = 0: expected an integer >= 1"),
    ],
)
def test_bad_sweep_keys_are_named(override, message):
    with pytest.raises(lj.ConfigError) as err:
        lj.load_config(REG_CONFIG, [override], cls=RegularizationConfig)
    assert message in str(err.value) and REG_CONFIG in str(err.value)


@pytest.mark.slow
def test_script_smoke_run(tmp_path, capsys):
    out = tmp_path / "run"
    load_script("regularization").main(
        [
            REG_CONFIG,
            "--set",
            "lambdas=[0.0, 10.0]",
            "--set",
            "cv.k=2",
            "--set",
            "train.epochs=500",
            "--set",
            "train.log_every=500",
            "--out",
            str(out),
        ]
    )
    assert sorted(p.name for p in out.iterdir()) == [
        ".logreg_jax_run",
        "accuracy_vs_lambda.png",
        "boundaries.png",
        "config.json",
        "metrics.json",
        "results.csv",
    ]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [float(r["lambda"]) for r in rows] == [0.0, 10.0]
    assert float(rows[0]["train_accuracy"]) > float(rows[1]["train_accuracy"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best_lambda"] in (0.0, 10.0) and metrics["k"] == 2
    best = max(metrics["lambdas"], key=lambda r: (r["val_accuracy_mean"], r["lambda"]))
    assert metrics["best_lambda"] == best["lambda"]
    assert [len(f) for f in metrics["folds"].values()] == [2, 2]
    assert "best λ by mean validation accuracy" in capsys.readouterr().out


def test_script_rejects_too_many_folds_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(lj.ConfigError, match="k = 100 folds"):
        load_script("regularization").main(
            [REG_CONFIG, "--set", "cv.k=100", "--set", "train.epochs=5", "--set", "lambdas=[1.0]", "--out", str(out)]
        )
    assert not out.exists()
