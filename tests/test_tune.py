"""The λ-tuning study: the descent reaches the grid's minimum; V is the CV loss of scikit-learn refits."""

import json
from dataclasses import replace

import jax
import numpy as np
import pytest
from conftest import load_script

import logreg_jax as lj
from logreg_jax.fit import read_dataset, split_data
from logreg_jax.hypergrad import NotConverged
from logreg_jax.studies.tune import TuneConfig, check_folds, descend, score_grid
from logreg_jax.studies.tune_problem import make_problem, value

CONFIG = "configs/tune_l2.toml"


def _problem(overrides=()):
    cfg = lj.load_config(CONFIG, list(overrides), cls=TuneConfig)
    train_rows, test = split_data(cfg.base, read_dataset(cfg.base))
    return cfg, make_problem(cfg.base, train_rows, test, folds=cfg.tune.folds, key=jax.random.key(cfg.tune.seed))


SMALL = ["tune.steps=14", "tune.grid_points=16", "tune.grid_range=[0.01, 1.0]"]


def test_descent_reaches_the_grid_minimum():
    with jax.enable_x64(True):
        cfg, p = _problem(SMALL)
        path = descend(p, cfg.tune)
        l2, V = score_grid(p, cfg.tune)
    assert len(path.loss) == 14 and path.l2[0] == 1.0
    assert V.min() < path.loss[0] and min(path.loss) <= V.min() * (1 + 1e-4)


@pytest.mark.slow  # five scikit-learn refits at tol 1e-12 and two more compilations
def test_the_grid_is_the_cv_loss_of_scikit_learn_refits_and_the_slope_its_difference_quotient():
    from sklearn.linear_model import LogisticRegression

    with jax.enable_x64(True):
        cfg, p = _problem(SMALL)
        l2, V = score_grid(p, cfg.tune)
        path = descend(p, replace(cfg.tune, steps=1))
        # The grid's V at one λ against 5 scikit-learn refits on the same folds (C = 1/λ, bias unpenalized).
        i = 8
        losses = []
        for f in range(p.w.shape[0]):
            X, tr, va = np.asarray(p.X[f]), np.asarray(p.w[f]) > 0, np.asarray(p.v[f]) > 0
            y = np.asarray(p.y)
            clf = LogisticRegression(C=1 / l2[i], tol=1e-12, max_iter=10000).fit(X[tr, 1:], y[tr])
            q = np.clip(clf.predict_proba(X[va, 1:])[:, 1], 1e-300, 1)
            losses.append(-np.mean(y[va] * np.log(q) + (1 - y[va]) * np.log1p(-q)))
        assert abs(V[i] - np.mean(losses)) <= 1e-6 * V[i]
        # dV/d ln λ at the start against a central difference of V (independent of the custom JVP rule).
        inits = jax.vmap(lambda _: p.init)(p.w)
        V_at = jax.jit(lambda u: value(p, u, inits)[0])
        h = 1e-4
        fd = (V_at(h) - V_at(-h)) / (2 * h)
        assert abs(path.grad[0] - fd) <= 1e-6 * abs(fd)


def test_an_unconverged_fold_is_an_error_naming_lambda_and_the_gradient_norm():
    with pytest.raises(NotConverged, match=r"λ = 0.5, fold 1: the inner solve stopped at ‖∇C‖∞ = 0.003"):
        check_folds(0.5, np.array([1e-13, 3e-3]), np.array([1.0, 1.0]))
    with pytest.raises(NotConverged, match="not positive definite"):
        check_folds(0.5, np.array([1e-13]), np.array([-1e-3]))


@pytest.mark.parametrize(
    "override,message",
    [
        ("tune.folds=1", "tune.folds = 1: expected an integer >= 2"),
        ("tune.grid_range=[1.0, 0.1]", "tune.grid_range"),
        ("loss.l2=1.0", "loss.l2 is set, but this experiment does not use it"),
    ],
)
def test_bad_tune_keys_are_named(override, message):
    with pytest.raises(lj.ConfigError, match=message.replace("[", r"\[")):
        lj.load_config(CONFIG, [override], cls=TuneConfig)


@pytest.mark.slow  # its own shapes: another compilation of the solves
def test_a_held_out_file_is_the_validation_set(tmp_path):
    from sklearn.linear_model import LogisticRegression

    rows = np.loadtxt("data/microchips.txt", delimiter=",")
    np.savetxt(tmp_path / "train.txt", rows[::2], delimiter=",")
    np.savetxt(tmp_path / "test.txt", rows[1::2], delimiter=",")
    over = [f'data.path="{tmp_path}/train.txt"', f'data.test_path="{tmp_path}/test.txt"']
    with jax.enable_x64(True):
        cfg, p = _problem(over + ["tune.grid_points=3", "tune.grid_range=[0.1, 10.0]"])
        l2, V = score_grid(p, cfg.tune)
    assert p.X.shape[:2] == (1, 59) and p.Xv.shape[:2] == (1, 59)
    X, Xv = np.asarray(p.X[0])[:, 1:], np.asarray(p.Xv[0])[:, 1:]
    clf = LogisticRegression(C=1 / l2[1], tol=1e-12, max_iter=10000).fit(X, rows[::2, 2])
    q, yv = clf.predict_proba(Xv)[:, 1], rows[1::2, 2]
    assert abs(V[1] - np.mean(-(yv * np.log(q) + (1 - yv) * np.log1p(-q)))) <= 1e-6 * V[1]


def test_more_folds_than_the_smallest_class_is_named_by_its_key():
    with pytest.raises(lj.ConfigError, match=r"tune.folds = 100 folds: expected an integer with 2 <= k <= 58"):
        _problem(["tune.folds=100"])


@pytest.mark.slow
@pytest.mark.parametrize("config", ["configs/tune_l2.toml", "configs/tune_l2_breast_cancer.toml"])
def test_script_finds_lambda_by_gradient_within_1e4_of_the_grid_minimum(tmp_path, config):
    out = tmp_path / "run"
    load_script("tune_l2").main([config, "--out", str(out)])
    m = json.loads((out / "metrics.json").read_text())
    per_feature = "breast_cancer" in config
    assert {"path", "best_l2", "grid", "grid_best_l2"} <= m.keys() and len(m["grid"]["l2"]) == 200
    assert len(m["path"]["l2"]) == len(m["path"]["loss"]) == len(m["path"]["grad"]) <= 30
    assert m["path"]["l2"][0] == ([1.0] * 30 if per_feature else 1.0)
    assert min(m["path"]["loss"]) <= min(m["grid"]["loss"]) * (1 + 1e-4) and m["reached_grid_minimum"] is True
    assert m["grid_best_l2"] == m["grid"]["l2"][int(np.argmin(m["grid"]["loss"]))]
    assert m["unrolled"]["error"][-1] < 1e-8 < m["unrolled"]["error"][0]
    figures = {"path.png", "unrolled.png"} | ({"strengths.png"} if per_feature else set())
    assert figures <= {f.name for f in out.iterdir()}
