"""K classes: softmax regression and the K-output MLP (hand gradients vs jax.grad and finite
differences, scikit-learn's optimum on Iris), labels, the held-out split, and the configs."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import load_script, rel_err, write_text
from jax.test_util import check_grads

import logreg_jax as lj
from logreg_jax.config import ModelConfig, config_from_dict
from logreg_jax.data import splits as holdout
from logreg_jax.fit import run_keys
from logreg_jax.loss import categorical_cross_entropy
from logreg_jax.models import mlp, softmax


def flat(tree) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in jax.tree_util.tree_leaves(tree)])


def labels(rng, m, k):
    y = rng.integers(0, k, size=m)
    y[:k] = np.arange(k)
    return jnp.asarray(y, jnp.float64)


def test_categorical_cross_entropy_is_the_float64_formula_and_stable(x64, rng):
    z = rng.normal(size=(30, 4)) * 3
    y = labels(rng, 30, 4)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(30), np.asarray(y, int)]))
    assert abs(float(categorical_cross_entropy(jnp.asarray(z), y)) - expected) < 1e-14
    # Scores of 1e4 overflow e^z; the loss stays exact: 0 for the right class, the gap otherwise.
    big = jnp.asarray([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    np.testing.assert_allclose(float(categorical_cross_entropy(big, jnp.asarray([0.0, 0.0]))), 1e4 / 2)


@pytest.mark.parametrize("m, n, k", [(1, 1, 2), (40, 3, 3), (97, 6, 10)])
def test_softmax_gradient_equals_autodiff_and_finite_differences(x64, rng, m, n, k):
    model = lj.get_model(ModelConfig(name="softmax"), n_classes=k)
    params = {"W": jnp.asarray(rng.normal(size=(n, k))), "b": jnp.asarray(rng.normal(size=k))}
    X, y = jnp.asarray(rng.normal(size=(m, n))), labels(rng, m, k) if m >= k else jnp.zeros(m)
    for l2 in (0.0, 0.7, 25.0):
        hand = model.gradient(params, X, y, l2)
        auto = jax.grad(lj.objective, argnums=1)(model, params, X, y, l2)
        assert rel_err(flat(hand), flat(auto)) < 1e-12
        check_grads(lambda p, l2=l2: lj.objective(model, p, X, y, l2), (params,), order=1, modes=["rev"], eps=1e-6)


@pytest.mark.parametrize("hidden, activation, k", [([5], "tanh", 3), ([6, 4], "relu", 4), ([3], "sigmoid", 10)])
def test_k_output_mlp_backprop_equals_autodiff_and_finite_differences(x64, rng, hidden, activation, k):
    cfg = ModelConfig(name="mlp", hidden=tuple(hidden), activation=activation)
    model = lj.get_model(cfg, n_classes=k)
    init = model.init(jax.random.key(1), 4, cfg)
    assert init[-1]["W"].shape == (hidden[-1], k)
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(size=a.shape)), init)
    X, y = jnp.asarray(rng.normal(size=(60, 4))), labels(rng, 60, k)
    assert model.logits(params, X).shape == (60, k)
    for l2 in (0.0, 3.0):
        hand = model.gradient(params, X, y, l2)
        auto = jax.grad(lj.objective, argnums=1)(model, params, X, y, l2)
        assert rel_err(flat(hand), flat(auto)) < 1e-12
    check_grads(lambda p: lj.objective(model, p, X, y, 3.0), (params,), order=1, modes=["rev"], eps=1e-6)
    # Two classes keep the binary network: one output through σ.
    assert lj.get_model(cfg, n_classes=2).logits(mlp.init(jax.random.key(0), 4, cfg), X).shape == (60,)


def test_two_class_softmax_is_logistic_regression_with_the_difference_of_weights(x64, rng):
    params = {"W": jnp.asarray(rng.normal(size=(3, 2))), "b": jnp.asarray(rng.normal(size=2))}
    X = jnp.asarray(rng.normal(size=(25, 3)))
    p_softmax = jax.nn.softmax(softmax.logits(params, X), axis=1)[:, 1]
    theta = jnp.concatenate([params["b"][1:] - params["b"][:1], params["W"][:, 1] - params["W"][:, 0]])
    np.testing.assert_allclose(p_softmax, lj.sigmoid(lj.add_bias(X) @ theta), rtol=1e-14, atol=1e-15)


def iris_cfg(**extra):
    raw = {
        "name": "iris",
        "dtype": "float64",
        "data": {"path": "data/iris.csv"},
        "model": {"name": "softmax", "init": "zeros"},
        "loss": {"l2": 1.0},
        "optimizer": {"name": "lbfgs"},
        "train": {"epochs": 500, "log_every": 500, "tol": 1e-11},
        "predict": {"points": []},
    }
    for section, values in extra.items():
        raw[section] = {**raw.get(section, {}), **values}
    return config_from_dict(raw)


def test_softmax_on_iris_reaches_scikit_learns_optimum(x64):
    """C = 1/l2: sklearn minimizes C Σ CE + ½ Σ W², which is m times our mean CE + (l2/2m) Σ W²."""
    from sklearn.linear_model import LogisticRegression

    fitted = lj.fit(iris_cfg())
    X, y = fitted.inputs
    assert fitted.history.converged
    sk = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    sk_params = {"W": jnp.asarray(sk.coef_.T), "b": jnp.asarray(sk.intercept_)}
    ours = float(lj.objective(fitted.model, fitted.params, X, y, 1.0))
    theirs = float(lj.objective(fitted.model, sk_params, X, y, 1.0))
    assert abs(ours - theirs) < 1e-8
    np.testing.assert_allclose(lj.predict_proba(fitted, fitted.data.X), sk.predict_proba(X), atol=1e-6)


def test_stratified_split_is_reproducible_and_keeps_every_class_share():
    y = np.repeat([0.0, 1.0, 2.0], [50, 30, 7])
    train, test = holdout.stratified_split(jax.random.key(3), y, 0.25)
    again = holdout.stratified_split(jax.random.key(3), y, 0.25)
    np.testing.assert_array_equal(test, again[1])
    np.testing.assert_array_equal(np.sort(np.r_[train, test]), np.arange(y.size))
    np.testing.assert_array_equal(np.bincount(y[test].astype(int)), [12, 8, 2])  # round(0.25 n_c)
    other = holdout.stratified_split(jax.random.key(4), y, 0.25)[1]
    assert not np.array_equal(test, other)
    # Through the config: the seed fixes the split, and the held-out rows are never trained on.
    a, b = (lj.fit(iris_cfg(data={"test_fraction": 0.2}, train={"epochs": 3})) for _ in range(2))
    np.testing.assert_array_equal(a.test.X, b.test.X)
    assert a.data.y.size == 120 and np.array_equal(np.bincount(a.test.y.astype(int)), [10, 10, 10])
    # Each training row knows its row of the file, the split's training indices.
    everything = lj.load_dataset("data/iris.csv", multiclass=True)
    np.testing.assert_array_equal(a.data.index, holdout.stratified_split(run_keys(0).split, everything.y, 0.2)[0])
    np.testing.assert_array_equal(a.data.X, everything.X[a.data.index])


@pytest.mark.parametrize(
    "label, model, message",
    [
        ("2.5", "softmax", r"data.csv:4: label 2.5 is not a class number 0, 1, 2, …"),
        ("-1", "mlp", r"data.csv:4: label -1 is not a class number 0, 1, 2, …"),
        ("3", "softmax", r"data.csv: class 2 never occurs in the training data; the labels must be the classes 0 … 3"),
        ("2", "logistic", r"data.csv:4: label 2 is not 0 or 1 .*\"softmax\" and \"mlp\" take the classes 0 … K−1"),
    ],
)
def test_bad_labels_give_one_line_errors(tmp_path, label, model, message):
    path = write_text(tmp_path, "data.csv", f"a,b,y\n0,1,0\n1,0,1\n2,2,{label}\n1,1,1\n")
    cfg = config_from_dict({"data": {"path": str(path)}, "model": {"name": model}, "predict": {"points": []}})
    with pytest.raises(lj.DataError, match=message) as err:
        lj.fit_config(cfg)
    assert "\n" not in str(err.value)


def test_a_label_seen_only_in_the_held_out_file_is_named(tmp_path):
    train = write_text(tmp_path, "train.csv", "a,y\n0,0\n1,1\n2,2\n3,0\n")
    test = write_text(tmp_path, "test.csv", "a,y\n0,0\n1,1\n5,3\n")
    cfg = config_from_dict(
        {
            "data": {"path": str(train), "test_path": str(test)},
            "model": {"name": "softmax"},
            "train": {"epochs": 2},
            "predict": {"points": []},
        }
    )
    with pytest.raises(
        lj.DataError,
        match=r"test.csv:4: label 3 occurs in the held-out data only; "  # issue 18: the line, not the row index
        r"the training data have the classes 0 … 2",
    ):
        lj.fit_config(cfg)


def test_scale_refuses_softmax_and_held_out_sets():
    cfg = iris_cfg(train={"batch_size": 16})
    with pytest.raises(lj.ConfigError, match=r'model.name = "softmax" needs the data in memory, but train.batch_size'):
        lj.fit_config(cfg)


@pytest.mark.slow
def test_iris_config_writes_held_out_metrics_and_figures(tmp_path):
    out = tmp_path / "iris"
    load_script("train").main(["configs/iris_softmax.toml", "--out", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 45 and metrics["test_accuracy"] >= 0.9
    matrix = np.asarray(metrics["test_confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 45 and np.trace(matrix) / 45 == metrics["test_accuracy"]
    assert len(metrics["test_precision"]) == len(metrics["train_recall"]) == 3
    assert {"confusion.png", "loss.png", "metrics.json"} <= {p.name for p in out.iterdir()}
