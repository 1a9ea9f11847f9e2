"""L1 / elastic-net logistic regression: soft thresholding, l1_max, the duality gap, proximal Newton
and the path, against float64 NumPy formulas and scikit-learn's saga."""

import importlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import logreg_jax as lj
from logreg_jax import proximal
from logreg_jax.loss import bound_objective
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.proximal import kkt_violation, soft_threshold
from logreg_jax.report.sparse import duality_gap, l1_max
from logreg_jax.studies import path as study


@pytest.fixture(scope="module")
def cancer():
    data = lj.load_dataset("data/breast_cancer.csv")
    X = np.asarray(data.X, np.float64)
    return (X - X.mean(0)) / X.std(0), np.asarray(data.y, np.float64)


def saga(X, y, l1, l2=0.0, tol=1e-12):
    """scikit-learn's saga on (1/C)-scaled (l1, l2): C = 1 / (l1 + l2), l1_ratio = l1 / (l1 + l2)."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(solver="saga", C=1 / (l1 + l2), l1_ratio=l1 / (l1 + l2), tol=tol, max_iter=500_000)
        clf.fit(X, y)
    return np.r_[clf.intercept_, clf.coef_[0]]


def numpy_objective(theta, X, y, l1, l2):
    z = X @ theta[1:] + theta[0]
    loss = np.logaddexp(0, z) - y * z
    return (loss.sum() + l1 * np.abs(theta[1:]).sum() + 0.5 * l2 * (theta[1:] ** 2).sum()) / y.size


def test_soft_threshold_is_the_numpy_formula_with_exact_zeros(x64):
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0 + 1e-15, 2.5])
    got = np.asarray(soft_threshold(jnp.asarray(x), 1.0))
    np.testing.assert_array_equal(got, np.sign(x) * np.maximum(np.abs(x) - 1.0, 0))
    assert np.all(got[1:6] == 0.0) and got[6] > 0


def test_kkt_violation_is_the_subgradient_distance(x64):
    p = jnp.array([0.0, 0.0, 1.0, -2.0, 3.0])
    g = jnp.array([0.5, -1.5, -1.0, 0.7, 0.2])
    lam = jnp.array([1.0, 1.0, 1.0, 1.0, 0.0])  # last entry free (a bias)
    # zero: max(|g| − λ, 0) = 0, 0.5; nonzero: |g + λ sign p| = 0, 0.3; free: |g| = 0.2
    assert float(kkt_violation(p, g, lam)) == pytest.approx(0.5, abs=1e-15)


def test_l1_max_is_exact_zero_above_and_nonzero_below(cancer, x64):
    X, y = cancer
    lmax = float(l1_max(jnp.asarray(X), jnp.asarray(y)))
    assert lmax == pytest.approx(np.max(np.abs(X.T @ (y - y.mean()))), rel=1e-14)
    res = study.fit_path(jnp.asarray(X), jnp.asarray(y), jnp.ones(y.size), jnp.array([lmax, 0.99 * lmax]),
                         jnp.zeros(2), 1e-12)  # fmt: skip
    theta = np.asarray(res.theta)
    assert np.all(theta[0, 1:] == 0.0)
    assert theta[0, 0] == pytest.approx(np.log(y.mean() / (1 - y.mean())), rel=1e-12)
    assert np.sum(theta[1, 1:] != 0) >= 1


@pytest.mark.slow  # saga at tol 1e-12: seconds
def test_duality_gap_bounds_the_suboptimality_and_vanishes_at_saga_optimum(cancer, x64):
    X, y = cancer
    l1 = 0.1 * float(np.max(np.abs(X.T @ (y - y.mean()))))
    theta = saga(X, y, l1)
    primal, gap = (float(v) for v in duality_gap(jnp.asarray(theta), jnp.asarray(X), jnp.asarray(y), l1, 0.0))
    assert primal == pytest.approx(numpy_objective(theta, X, y, l1, 0.0), rel=1e-13)
    assert 0 <= gap <= 1e-9 * primal
    worse = theta + 0.01
    p2, gap2 = (float(v) for v in duality_gap(jnp.asarray(worse), jnp.asarray(X), jnp.asarray(y), l1, 0.0))
    assert gap2 >= p2 - primal > 0  # a bound on the suboptimality, not an estimate of it


def test_path_is_certified_and_matches_saga_on_a_few_lambdas(cancer, x64):
    X, y = cancer
    lmax, lams, l1s, l2s = study.path_grid(X, y, study.PathSection(points=100, ratio=0.01))
    res = jax.tree_util.tree_map(np.asarray, study.fit_path(jnp.asarray(X), jnp.asarray(y), jnp.ones(y.size),
                                                            jnp.asarray(l1s), jnp.asarray(l2s), 1e-10))  # fmt: skip
    assert np.all(res.gap <= 1e-8 * res.objective) and np.all(res.gap >= -1e-15)
    for i in (10, 40):
        ref = saga(X, y, l1s[i])
        np.testing.assert_allclose(res.theta[i], ref, atol=1e-6)
        np.testing.assert_array_equal(res.theta[i, 1:] != 0, ref[1:] != 0)


@pytest.mark.slow  # saga at tol 1e-12: seconds
def test_elastic_net_matches_saga(cancer, x64):
    X, y = cancer
    lmax, lams, l1s, l2s = study.path_grid(X, y, study.PathSection(points=20, ratio=0.05, l1_ratio=0.5))
    res = jax.tree_util.tree_map(np.asarray, study.fit_path(jnp.asarray(X), jnp.asarray(y), jnp.ones(y.size),
                                                            jnp.asarray(l1s), jnp.asarray(l2s), 1e-10))  # fmt: skip
    assert np.all(res.gap <= 1e-8 * res.objective)
    ref = saga(X, y, l1s[8], l2s[8])
    np.testing.assert_allclose(res.theta[8], ref, atol=1e-6)
    np.testing.assert_array_equal(res.theta[8, 1:] != 0, ref[1:] != 0)


def test_fit_with_l1_is_certified_and_matches_saga(x64):
    cfg = lj.load_config("configs/exam_scores.toml",
                         ["loss.l1=10.0", "optimizer.name=prox_newton", "dtype=float64", "train.tol=1e-12",
                          "train.epochs=50", "inference.enabled=false"])  # fmt: skip
    fitted = lj.fit(cfg)
    assert fitted.history.converged and fitted.history.final_grad_norm <= 1e-12
    X, y = np.asarray(fitted.inputs[0])[:, 1:], np.asarray(fitted.inputs[1])
    np.testing.assert_allclose(fitted.params, saga(X, y, 10.0), atol=1e-6)
    assert fitted.history.final_loss == pytest.approx(numpy_objective(fitted.params, X, y, 10.0, 0.0), rel=1e-12)


def test_choose_picks_min_and_one_standard_error():
    lams = np.array([10.0, 5.0, 2.0, 1.0])
    dev = np.array([[0.9, 0.5, 0.41, 0.41], [0.9, 0.5, 0.39, 0.40], [0.9, 0.5, 0.40, 0.36]])
    got = study.choose(lams, dev)
    assert got["lambda_min"] == 1.0  # means 0.9, 0.5, 0.4, 0.39
    assert got["lambda_1se"] == 2.0  # 0.4 ≤ 0.39 + se(0.41, 0.40, 0.36) = 0.39 + 0.0153 < 0.5


@pytest.mark.parametrize(
    "override, words",
    [
        ("loss.l1=-1.0", "loss.l1 = -1.0: expected a finite number >= 0"),
        ("model.name=mlp", "loss.l1 = 1.0: expected 0 for model.name = 'mlp' (the L1 penalty is for convex models"),
        ("optimizer.name=newton", "Newton needs a twice-differentiable objective"),
        ("optimizer.name=adam", "loss.l1 = 1.0: expected 0, or optimizer.name = \"prox_newton\" (not 'adam')"),
    ],
)
def test_bad_l1_configs_are_one_line_errors(override, words):
    base = ["loss.l1=1.0", "optimizer.name=prox_newton"]
    with pytest.raises(lj.ConfigError, match="exam_scores.toml") as err:
        lj.load_config("configs/exam_scores.toml", [*base, override])
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "override, words",
    [("path.ratio=1.5", "path.ratio = 1.5: expected a number in (0, 1)"),
     ("path.l1_ratio=0.0", "path.l1_ratio = 0.0: expected a number in (0, 1]")],
)  # fmt: skip
def test_bad_path_configs_are_one_line_errors(override, words):
    with pytest.raises(lj.ConfigError) as err:
        lj.load_config("configs/breast_cancer_path.toml", [override], cls=study.PathConfig)
    assert words in str(err.value)


@pytest.mark.slow
def test_whole_path_matches_warm_started_saga(cancer, x64):
    """Every λ from l1_max down to l1_max / 100: weights within 1e-6 of saga at tol 1e-12, same supports."""
    from sklearn.linear_model import LogisticRegression

    X, y = cancer
    lmax, lams, l1s, l2s = study.path_grid(X, y, study.PathSection(points=100, ratio=0.01))
    res = jax.tree_util.tree_map(np.asarray, study.fit_path(jnp.asarray(X), jnp.asarray(y), jnp.ones(y.size),
                                                            jnp.asarray(l1s), jnp.asarray(l2s), 1e-10))  # fmt: skip
    clf = LogisticRegression(solver="saga", l1_ratio=1.0, tol=1e-12, max_iter=500_000, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(1, lams.size):
            clf.set_params(C=1 / l1s[i]).fit(X, y)
            ref = np.r_[clf.intercept_, clf.coef_[0]]
            np.testing.assert_allclose(res.theta[i], ref, atol=1e-6, err_msg=f"λ {i}")
            np.testing.assert_array_equal(res.theta[i, 1:] != 0, ref[1:] != 0, err_msg=f"λ {i}")


@pytest.mark.slow
def test_path_script_writes_the_run(tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "experiments/path.py", "configs/sparse_synthetic_path.toml", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["certified"] and metrics["cv_certified"]
    assert metrics["support_1se"]["false_negatives"] == 0
    header = (out / "path.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["l1", "l2", "train_loss", "gap", "n_nonzero", "bias"] and len(header) == 6 + 300
    assert (out / "coefficients.png").stat().st_size > 0 and (out / "cv.png").stat().st_size > 0
    bad = subprocess.run(
        [sys.executable, "experiments/path.py", "configs/breast_cancer_path.toml", "--set", "path.ratio=2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "path.ratio" in bad.stderr


@pytest.mark.slow  # saga at tol 1e-12: seconds
def test_softmax_with_l1_matches_multinomial_saga(x64):
    from sklearn.linear_model import LogisticRegression

    overrides = ["loss.l1=2.0", "loss.l2=0.0", "optimizer.name=prox_newton", "dtype=float64", "train.tol=1e-12",
                 "train.epochs=50", "model.init=zeros"]  # fmt: skip
    fitted = lj.fit(lj.load_config("configs/iris_softmax.toml", overrides))
    X, y = np.asarray(fitted.inputs[0]), np.asarray(fitted.inputs[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(solver="saga", C=0.5, l1_ratio=1.0, tol=1e-12, max_iter=500_000).fit(X, y)
    assert fitted.history.converged
    np.testing.assert_allclose(fitted.params["W"], clf.coef_.T, atol=1e-6)
    np.testing.assert_array_equal(fitted.params["W"] != 0, clf.coef_.T != 0)  # exact zeros where saga has them


@pytest.mark.parametrize("override, words", [("dtype=float32", "expected float64"), ("model.name=mlp", '"logistic"')])
def test_path_script_refuses_what_it_cannot_certify_before_solving(override, words, tmp_path):
    from conftest import load_script

    with pytest.raises(lj.ConfigError, match="breast_cancer_path.toml") as err:
        load_script("path").main(["configs/breast_cancer_path.toml", "--set", override, "--out", str(tmp_path / "r")])
    assert words in str(err.value) and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "config, cls",
    [
        ("configs/sweep_lr.toml", "sweeps.SweepConfig"),
        ("configs/compare_optimizers.toml", "optimizers.OptimizersConfig"),
        ("configs/tune_l2.toml", "tune.TuneConfig"),
        ("configs/exam_scores_influence.toml", "influence.InfluenceConfig"),
    ],
)
def test_studies_of_the_smooth_objective_refuse_an_l1_penalty(config, cls):
    """A study that trains or differentiates the smooth objective must not drop loss.l1 silently."""
    module, name = cls.split(".")
    study_cls = getattr(importlib.import_module(f"logreg_jax.studies.{module}"), name)
    with pytest.raises(lj.ConfigError, match="loss.l1") as err:
        lj.load_config(config, ["loss.l1=1.0", "optimizer.name=prox_newton"], cls=study_cls)
    assert "\n" not in str(err.value)


def test_train_refuses_an_l1_term_for_an_optimizer_that_ignores_it(x64):
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias((data.X - data.X.mean(0)) / data.X.std(0))
    sparse = proximal.l1_term(LOGISTIC, 1.0, X.shape[0], X.dtype)
    with pytest.raises(lj.ConfigError, match="prox_newton"):
        lj.train(
            bound_objective(LOGISTIC, X, data.y),
            np.zeros(3, X.dtype),
            optimizer=optax.sgd(0.1),
            epochs=1,
            sparse=sparse,
        )
