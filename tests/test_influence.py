"""Exact leave-one-out against scikit-learn refits, the approximations against float64 NumPy formulas,
the GLM diagnostics against statsmodels."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import logreg_jax as lj
from logreg_jax.config import ModelConfig
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.models.registry import get_model
from logreg_jax.report import influence as inf


def _problem(path, n_test, multiclass=False):
    data = lj.load_dataset(path, multiclass=multiclass)
    X = np.asarray(data.X, np.float64)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    y = np.asarray(data.y, np.float64)
    rows = np.random.default_rng(0).permutation(len(y))
    train, test = rows[n_test:], rows[:n_test]
    return X[train], y[train], X[test], y[test]


def _logistic(l2):
    X, y, Xt, yt = _problem("data/breast_cancer.csv", 170)
    X, Xt = np.c_[np.ones(len(X)), X], np.c_[np.ones(len(Xt)), Xt]
    theta, norm = inf.polish(LOGISTIC, np.zeros(X.shape[1]), X, y, l2, steps=25)
    assert norm <= 1e-12
    return np.asarray(theta), X, y, Xt, yt


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _test_loss(theta, X, y):
    z = X @ theta
    return np.mean(np.logaddexp(0.0, z) - y * z)


@pytest.mark.parametrize("l2", [1.0, 100.0])
def test_logistic_leave_one_out_and_approximations(l2):
    from sklearn.linear_model import LogisticRegression

    with jax.enable_x64(True):
        theta, X, y, Xt, yt = _logistic(l2)
        r = jax.tree_util.tree_map(np.asarray, inf.influence(LOGISTIC, theta, X, y, Xt, yt, l2, chunk=64))
    assert r.converged.all()
    worst = int(np.argmax(np.abs(r.exact_loss)))
    for i in (0, 17, worst):
        keep = np.arange(len(y)) != i
        ref = LogisticRegression(C=1 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X[keep, 1:], y[keep])
        refit = np.r_[ref.intercept_, ref.coef_[0]]
        assert np.max(np.abs(theta + r.exact_params[i] - refit)) <= 1e-8
        assert r.exact_loss[i] == pytest.approx(_test_loss(refit, Xt, yt) - _test_loss(theta, Xt, yt), abs=1e-10)
    # The formulas in NumPy: H = Xᵀ diag(p(1 − p)) X + λ diag(0, 1, …), g_i = (p_i − y_i) x_i.
    p = _sigmoid(X @ theta)
    w = p * (1 - p)
    H = (X.T * w) @ X + l2 * np.diag(np.r_[0.0, np.ones(X.shape[1] - 1)])
    G = (p - y)[:, None] * X
    step = np.linalg.solve(H, G.T).T
    grad_test = Xt.T @ (_sigmoid(Xt @ theta) - yt) / len(yt)
    leverage = w * np.sum(np.linalg.solve(H, X.T).T * X, axis=1)
    newton = step / (1 - leverage)[:, None]
    newton_loss = np.array([_test_loss(theta + d, Xt, yt) for d in newton]) - _test_loss(theta, Xt, yt)
    np.testing.assert_allclose(r.influence_params, step, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.influence_loss, step @ grad_test, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.newton_params, newton, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.newton_loss, newton_loss, rtol=0, atol=1e-10)


def test_glm_diagnostics_match_statsmodels():
    import statsmodels.api as sm

    data = lj.load_dataset("data/exam_scores.txt")
    X = np.c_[np.ones(len(data.y)), np.asarray(data.X, np.float64)]
    y = np.asarray(data.y, np.float64)
    res = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-14)
    ref = res.get_influence()
    with jax.enable_x64(True):
        theta, _ = inf.polish(LOGISTIC, np.asarray(res.params), X, y, 0.0)
        d = jax.tree_util.tree_map(np.asarray, inf.glm_diagnostics(theta, X, y))
    np.testing.assert_allclose(d.leverage, ref.hat_matrix_diag, rtol=1e-10)
    np.testing.assert_allclose(d.cooks_distance, ref.cooks_distance[0], rtol=1e-10)
    np.testing.assert_allclose(d.d_params, ref.d_params, rtol=1e-10, atol=1e-12 * np.abs(ref.d_params).max())


def _iris_softmax(chunk: int):
    """Softmax on iris (λ = 1, 30 % held out) polished to its optimum, with every refit: (X, y, Xt, yt,
    params, Influence as NumPy)."""
    X, y, Xt, yt = _problem("data/iris.csv", 30, multiclass=True)
    model, l2 = get_model(ModelConfig(name="softmax"), 3), 1.0
    with jax.enable_x64(True):
        start = {"W": np.zeros((X.shape[1], 3)), "b": np.zeros(3)}
        params, norm = inf.polish(model, start, X, y, l2, steps=25)
        r = jax.tree_util.tree_map(np.asarray, inf.influence(model, params, X, y, Xt, yt, l2, chunk=chunk))
        assert norm <= 1e-12 and r.converged.all()  # in float64: norm is a float64 array
    return X, y, Xt, yt, params, r


@pytest.mark.slow  # a second softmax program to compile
def test_softmax_refits_are_optima_of_the_reduced_objective():
    X, y, Xt, yt, params, r = _iris_softmax(chunk=50)
    l2 = 1.0
    Y = np.eye(3)[y.astype(int)]
    W0, b0 = np.asarray(params["W"]), np.asarray(params["b"])
    for i in (0, int(np.argmax(np.abs(r.exact_loss)))):
        dW, db = r.exact_params[i][: W0.size].reshape(W0.shape), r.exact_params[i][W0.size :]
        W, b = W0 + dW, b0 + db
        keep = np.arange(len(y)) != i
        Z = X[keep] @ W + b
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        # The gradient of Σ_{j≠i} ℓ_j + (λ/2)‖W‖² in NumPy: zero at a refit's optimum.
        assert np.max(np.abs(X[keep].T @ (P - Y[keep]) + l2 * W)) <= 1e-9
        assert np.max(np.abs((P - Y[keep]).sum(0))) <= 1e-9
        assert abs(db.sum()) <= 1e-12  # the common bias shift stays that of the full fit


def test_softmax_leave_one_out_matches_scikit_learn_multinomial_refits():
    from sklearn.linear_model import LogisticRegression

    X, y, Xt, yt, params, r = _iris_softmax(chunk=16)
    l2 = 1.0
    W0, b0 = np.asarray(params["W"]), np.asarray(params["b"])
    for i in (0, 17, int(np.argmax(np.abs(r.exact_loss)))):
        keep = np.arange(len(y)) != i
        ref = LogisticRegression(C=1 / l2, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X[keep], y[keep])
        W, b = W0 + r.exact_params[i][: W0.size].reshape(W0.shape), b0 + r.exact_params[i][W0.size :]
        # Only bias differences are identifiable (a common shift changes no probability): both centred.
        assert np.max(np.abs(W - ref.coef_.T)) <= 1e-8
        assert np.max(np.abs((b - b.mean()) - (ref.intercept_ - ref.intercept_.mean()))) <= 1e-8
        Z = Xt @ ref.coef_.T + ref.intercept_
        ref_loss = np.mean(np.log(np.exp(Z).sum(1)) - Z[np.arange(len(yt)), yt.astype(int)])
        Z0 = Xt @ W0 + b0
        base = np.mean(np.log(np.exp(Z0).sum(1)) - Z0[np.arange(len(yt)), yt.astype(int)])
        assert r.exact_loss[i] == pytest.approx(ref_loss - base, abs=1e-10)


@pytest.mark.parametrize("name", ["logistic", "softmax"])
def test_the_structured_hessian_and_gradient_are_jax_s(name, monkeypatch):
    from logreg_jax.loss import objective
    from logreg_jax.report import linear

    X, y, _, _ = _problem("data/iris.csv", 30, multiclass=True)
    if name == "logistic":
        model, y = LOGISTIC, (y > 0).astype(float)
        X = np.c_[np.ones(len(X)), X]
    else:
        model = get_model(ModelConfig(name="softmax"), 3)
    theta = np.sin(np.arange(1.0, (X.shape[1] if name == "logistic" else 15) + 1))
    params = theta if name == "logistic" else {"W": theta[:12].reshape(4, 3), "b": theta[12:]}
    monkeypatch.setattr(linear, "HESSIAN_BLOCK", 7)  # 120 rows: 18 blocks, the last padded

    @jax.jit
    def both(params):
        lin, A = linear.linear(model, params, X, y, 0.5)
        flat, unravel = jax.flatten_util.ravel_pytree(params)

        def total(t):
            return len(y) * objective(model, unravel(t), X, y, 0.5)

        ours = linear.hessian(lin, A), linear.gradient(lin, A[:, None], jnp.ones((len(y), 1))).ravel()
        return ours, (jax.hessian(total)(flat) + jnp.outer(lin.u.ravel(), lin.u.ravel()), jax.grad(total)(flat))

    with jax.enable_x64(True):
        (H, g), (ref_H, ref_g) = jax.tree_util.tree_map(np.asarray, both(params))
    np.testing.assert_allclose(H, ref_H, rtol=0, atol=1e-12 * np.abs(ref_H).max())
    np.testing.assert_allclose(g.ravel(), ref_g, rtol=0, atol=1e-12 * np.abs(ref_g).max())


def test_a_model_whose_logits_are_not_the_ravelled_layout_is_refused():
    reversed_model = LOGISTIC._replace(name="reversed", logits=lambda theta, X: X @ theta[::-1])
    X = np.c_[np.ones(5), np.arange(10.0).reshape(5, 2)]
    with pytest.raises(ValueError, match="linear in the inputs"):
        inf.influence(reversed_model, np.ones(3), X, np.ones(5), X, np.ones(5))


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.test_fraction=0.0", "needs a held-out set"),
        ('model.name="mlp" --set model.init="normal"', "exact Hessian"),
    ],
)
def test_bad_configs_are_refused_before_any_work(tmp_path, override, message, monkeypatch):
    from conftest import load_script

    monkeypatch.setattr(lj, "fit", lambda *a, **k: pytest.fail("trained before refusing"))
    script = load_script("influence")
    with pytest.raises(lj.ConfigError, match=message):
        sets = [a for o in override.split(" --set ") for a in ("--set", o)]
        script.main(["configs/exam_scores_influence.toml", *sets, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_separable_data_without_penalty_is_refused(tmp_path):
    from conftest import load_script, write_text

    rows = "\n".join(f"{x},{x + 0.5},{int(x > 5)}" for x in range(12))
    data = write_text(tmp_path, "separable.txt", rows + "\n")
    script = load_script("influence")
    with pytest.raises(lj.DataError, match="perfectly separated"):
        script.main(
            ["configs/exam_scores_influence.toml", "--set", f'data.path="{data}"', "--out", str(tmp_path / "out")]
        )


@pytest.mark.slow
def test_script_writes_the_table_and_names_the_largest_effect(tmp_path):
    import csv
    import json
    import subprocess
    import sys

    out = tmp_path / "exam"
    done = subprocess.run(
        [sys.executable, "experiments/influence.py", "configs/exam_scores_influence.toml", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert {"influence.csv", "metrics.json", "scatter.png", "point.png"} <= {p.name for p in out.iterdir()}
    table = list(csv.DictReader(open(out / "influence.csv")))
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(table[0]) == ["row", "label", "exact_loo", "influence", "newton_step", "leverage", "cooks_distance"]
    assert len(table) == metrics["n_rows"] == 80
    labels = np.loadtxt("data/exam_scores.txt", delimiter=",")[:, -1]
    assert all(int(r["label"]) == labels[int(r["row"])] for r in table)  # `row` is the line in the file
    largest = max(table, key=lambda r: abs(float(r["exact_loo"])))
    assert metrics["largest_exact_row"] == int(largest["row"])
    assert f"largest exact effect: row {largest['row']}" in done.stdout
    assert metrics["pearson_newton"] > 0.99 and metrics["pearson_influence"] > 0.95
