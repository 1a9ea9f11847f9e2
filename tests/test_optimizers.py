"""Optimizers to convergence: every optimizer reaches the optimum; Newton works on any pytree; tol."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import reference
from scipy.optimize import minimize

import logreg_jax as lj
from logreg_jax.config import OptimizerConfig, config_from_dict
from logreg_jax.data.features import Standardizer
from logreg_jax.loss import bound_objective
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.optimizers import init_state, optimizer_from, scale_by_newton, stored_loss_and_norm


@pytest.fixture(scope="module")
def exam_optimum():
    """The exam-scores optimum (standardized features) from SciPy on the NumPy reference loss."""
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias(Standardizer.fit(data.X)(data.X))
    res = minimize(
        reference.loss,
        np.zeros(3),
        args=(X, data.y),
        jac=reference.gradient,
        method="BFGS",
        options={"gtol": 1e-13, "maxiter": 1000},
    )
    return res.fun


def fit(name, dtype="float32", epochs=300, tol=0.0, **optimizer):
    return lj.fit(
        config_from_dict(
            {
                "dtype": dtype,
                "optimizer": {"name": name, **optimizer},
                "train": {"epochs": epochs, "log_every": epochs, "tol": tol},
            }
        )
    )


@pytest.mark.parametrize("name,lr,epochs", [("sgd", 5.0, 300), ("momentum", 1.0, 300), ("adam", 0.1, 400)])
def test_first_order_optimizers_reach_the_optimum_in_float32(exam_optimum, name, lr, epochs):
    fitted = fit(name, epochs=epochs, learning_rate=lr)
    assert abs(fitted.history.final_loss - exam_optimum) < 1e-6


@pytest.mark.parametrize("name", ["newton", "lbfgs"])
def test_newton_and_lbfgs_reach_the_optimum_to_1e_10_in_float64(x64, exam_optimum, name):
    fitted = fit(name, dtype="float64", epochs=60, tol=1e-10)
    assert abs(fitted.history.final_loss - exam_optimum) < 1e-10
    assert fitted.history.converged and fitted.history.final_grad_norm <= 1e-10
    if name == "newton":  # quadratic convergence: a handful of steps, not dozens
        assert fitted.history.loss.size <= 10


def test_newton_on_a_pytree_reaches_the_optimum(x64, exam_optimum):
    """Newton is generic over parameter pytrees: a dict-parameterised logistic model reaches the
    exam-scores optimum, and the loss never increases (line search)."""
    dict_model = lj.Model(
        name="logistic_dict",
        init=None,
        bias_column=False,
        gradient=None,
        logits=lambda p, X: X @ p["w"] + p["b"],
        weights=lambda p: p["w"],
    )
    data = lj.load_dataset("data/exam_scores.txt")
    X = jnp.asarray(Standardizer.fit(data.X)(data.X))
    start = {"w": jnp.asarray([0.5, 0.7]), "b": jnp.asarray(0.2)}
    params, history = lj.train(
        bound_objective(dict_model, X, jnp.asarray(data.y)),
        start,
        epochs=30,
        tol=1e-12,
        optimizer=lj.make_optimizer(OptimizerConfig(name="newton")),
    )
    assert history.final_loss == pytest.approx(exam_optimum, abs=1e-12)
    assert history.converged and history.loss.size <= 10 and np.all(np.diff(history.loss) <= 0)
    assert params["w"].shape == (2,) and params["b"].shape == ()


def test_newton_falls_back_to_the_gradient_where_the_hessian_is_indefinite(x64):
    """f(u, v) = u² − v² + v⁴ at (0.01, 0.1): H = diag(2, −2 + 12 v²) is indefinite and the Newton
    solve points uphill (∇f·d > 0); the direction must fall back to −∇f."""

    def f(p):
        return p["u"] ** 2 - p["v"] ** 2 + p["v"] ** 4

    p = {"u": jnp.asarray(0.01), "v": jnp.asarray(0.1)}
    grads = jax.grad(f)(p)

    newton_direction = jax.jit(lambda g, p: scale_by_newton(0.0).update(g, None, p, value_fn=f))
    direction, state = newton_direction(grads, p)
    assert bool(state.fell_back)
    np.testing.assert_allclose([direction["u"], direction["v"]], [-grads["u"], -grads["v"]])
    # With a gradient dominated by u (as at u = 1) the same solve is a descent direction: kept.
    assert not bool(newton_direction(jax.grad(f)({"u": jnp.asarray(1.0), "v": p["v"]}), p)[1].fell_back)


def test_newton_direction_is_the_newton_step_where_the_hessian_is_positive(x64):
    data = lj.load_dataset("data/exam_scores.txt")
    X = jnp.asarray(lj.add_bias(Standardizer.fit(data.X)(data.X)))
    theta = jnp.asarray([0.2, 0.5, 0.7])
    g = reference.gradient(theta, X, data.y)
    s = 1 / (1 + np.exp(-(X @ theta)))
    hessian = (X.T * (s * (1 - s))) @ X / X.shape[0]  # the analytic Hessian, (1/m) Xᵀ S X
    direction, state = jax.jit(
        lambda g, t: scale_by_newton(0.0).update(g, None, t, value_fn=lambda t: lj.cross_entropy(t, X, data.y))
    )(jnp.asarray(g), theta)
    assert not bool(state.fell_back)
    np.testing.assert_allclose(direction, -np.linalg.solve(hessian, g), rtol=1e-10)


def test_the_loss_lbfgs_stores_is_the_loss_at_its_parameters(x64):
    """L-BFGS's line search stores the loss and gradient where it stepped to; training reads its final
    loss and gradient norm from there, and they equal the NumPy formulas at the returned parameters.
    An optimizer without a line search stores none, and a stored non-finite loss is not used."""
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias(Standardizer.fit(data.X)(data.X))
    objective = bound_objective(LOGISTIC, X, data.y)
    lbfgs = optimizer_from("lbfgs")
    params, history = lj.train(objective, jnp.zeros(3), optimizer=lbfgs, epochs=4)
    assert history.final_loss == pytest.approx(reference.loss(params, X, data.y), rel=1e-13)
    assert history.final_grad_norm == pytest.approx(np.linalg.norm(reference.gradient(params, X, data.y)), rel=1e-10)
    assert history.final_loss < history.loss[-1]  # the loss after the last step, not before it
    assert stored_loss_and_norm(init_state(optimizer_from("adam"), jnp.zeros(3))) is None
    state = init_state(lbfgs, jnp.zeros(3))
    assert stored_loss_and_norm(state) is None  # optax starts it at inf: nothing evaluated yet
    assert stored_loss_and_norm(optax.tree.set(state, value=jnp.asarray(0.5), grad=jnp.asarray([3.0, 4.0, 0.0]))) == (
        0.5,
        5.0,
    )


def test_tol_stops_early_and_freezes_the_state(x64):
    """With tol the run stops at the first iteration whose gradient norm is ≤ tol; its history is
    exactly the first rows of the run without tol, and metrics record the iterations used."""
    full = fit("sgd", dtype="float64", epochs=400, learning_rate=5.0)
    early = lj.fit(
        config_from_dict(
            {
                "dtype": "float64",
                "optimizer": {"learning_rate": 5.0},
                "train": {"epochs": 400, "log_every": 7, "tol": 1e-4},
            }
        )
    )
    k = int(np.argmax(full.history.grad_norm <= 1e-4))  # first iteration at or below tol
    assert 0 < k < 400 and early.history.loss.size == k and early.history.converged
    np.testing.assert_allclose(early.history.loss, full.history.loss[:k], rtol=1e-13)
    assert early.history.final_grad_norm == pytest.approx(full.history.grad_norm[k], rel=1e-12)
    metrics = lj.summarize(early)
    assert metrics["epochs"] == k and metrics["converged"] is True
    assert not full.history.converged and full.history.loss.size == 400  # tol = 0: never stops


def test_a_config_rejects_negative_tol_and_damping():
    with pytest.raises(lj.ConfigError, match="train.tol = -1"):
        config_from_dict({"train": {"tol": -1.0}})
    with pytest.raises(lj.ConfigError, match="optimizer.damping"):
        config_from_dict({"optimizer": {"damping": float("nan")}})
