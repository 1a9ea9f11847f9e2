"""The implicit hypergradient against finite differences of converged refits (float64), forward against
reverse mode, the unrolled reference, scikit-learn refits, and the not-converged error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from logreg_jax import hypergrad as hg
from logreg_jax.config import ModelConfig
from logreg_jax.loss import l2_penalty, objective
from logreg_jax.models.registry import get_model


def _data(m, d, seed, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d))
    z = X @ rng.normal(size=(d, classes))
    y = np.argmax(z + rng.gumbel(size=z.shape), axis=1).astype(np.float64)
    return X, y


def _problem(name):
    """(model, init, X, y, Xv, yv) for a small logistic or 3-class softmax problem."""
    k = 2 if name == "logistic" else 3
    X, y = _data(60, 3, 0, k)
    Xv, yv = _data(40, 3, 1, k)
    if name == "logistic":
        X, Xv = np.c_[np.ones(60), X], np.c_[np.ones(40), Xv]
        return get_model(ModelConfig()), jnp.zeros(4), X, y, Xv, yv
    return get_model(ModelConfig(name="softmax"), 3), {"W": jnp.zeros((3, 3)), "b": jnp.zeros(3)}, X, y, Xv, yv


def _V(name):
    model, init, X, y, Xv, yv = _problem(name)
    # jit: one compilation per shape of λ, not one dispatch of the Newton loop per call.
    return jax.jit(lambda l2: hg.validation_loss(model, hg.solution(model, init, X, y, l2), Xv, yv))


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
@pytest.mark.parametrize("name", ["logistic", "softmax"])
def test_scalar_hypergradient_matches_central_differences(name):
    with jax.enable_x64(True):
        V, lam, h = _V(name), jnp.float64(2.0), 1e-4
        grad = jax.jit(jax.grad(V))
        fd = (V(lam + h) - V(lam - h)) / (2 * h)
        np.testing.assert_allclose(grad(lam), fd, rtol=1e-7)
        np.testing.assert_allclose(jax.jit(jax.jacfwd(V))(lam), grad(lam), rtol=1e-10)
        # Second order through the custom rule: against differences of the first derivative.
        np.testing.assert_allclose(jax.jit(jax.hessian(V))(lam), (grad(lam + h) - grad(lam - h)) / (2 * h), rtol=1e-6)


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
@pytest.mark.parametrize("name", ["logistic", "softmax"])
def test_per_feature_hypergradient_matches_central_differences(name):
    with jax.enable_x64(True):
        V, h = _V(name), 1e-4
        p = 3 if name == "logistic" else 9
        lam = jnp.linspace(0.5, 3.0, p)
        grad = jax.jit(jax.grad(V))(lam)
        fd = np.array([(V(lam.at[j].add(h)) - V(lam.at[j].add(-h))) / (2 * h) for j in range(p)])
        np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(jax.jit(jax.jacfwd(V))(lam), grad, rtol=1e-10, atol=1e-16)


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
def test_cg_solver_agrees_with_cholesky():
    with jax.enable_x64(True):
        model, init, X, y, Xv, yv = _problem("logistic")
        grads = [
            jax.grad(lambda l, s=s: hg.validation_loss(model, hg.solution(model, init, X, y, l, solver=s), Xv, yv))(1.0)
            for s in ("cholesky", "cg")
        ]
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9)


def test_vector_l2_penalty_is_the_weighted_sum_of_squares():
    with jax.enable_x64(True):
        w = {"a": jnp.arange(1.0, 4.0), "b": jnp.array([[2.0, -1.0]])}
        lam = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])
        expected = (1 * 1 + 2 * 4 + 3 * 9 + 4 * 4 + 5 * 1) / (2 * 10)
        np.testing.assert_allclose(l2_penalty(w, lam, 10), expected, rtol=1e-15)
        np.testing.assert_allclose(l2_penalty(w, 2.0, 10), l2_penalty(w, jnp.full(5, 2.0), 10), rtol=1e-15)


def test_training_objective_is_the_project_objective_and_weights_select_rows():
    with jax.enable_x64(True):
        model, _, X, y, _, _ = _problem("logistic")
        theta = jnp.array([0.1, -0.3, 0.2, 0.5])
        np.testing.assert_allclose(hg.training_objective(model, theta, X, y, 1.5), objective(model, theta, X, y, 1.5))
        w = (np.arange(60) % 3 != 0).astype(np.float64)
        rows = w == 1
        np.testing.assert_allclose(
            hg.training_objective(model, theta, X, y, 1.5, jnp.asarray(w)),
            objective(model, theta, X[rows], y[rows], 1.5),
            rtol=1e-14,
        )


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
def test_unrolled_hypergradient_converges_to_the_implicit_one():
    with jax.enable_x64(True):
        model, init, X, y, Xv, yv = _problem("logistic")
        implicit = jax.grad(_V("logistic"))(2.0)

        def unrolled(steps):
            V = lambda l: hg.validation_loss(  # noqa: E731
                model, hg.unrolled_solution(model, init, X, y, l, steps=steps, learning_rate=1.0), Xv, yv
            )
            return jax.grad(V)(2.0)

        errors = [abs(float(unrolled(n)) - float(implicit)) for n in (10, 100, 1000)]
        assert errors[0] > errors[1] > errors[2]
        assert errors[2] < 1e-8 * abs(float(implicit))


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
def test_unconverged_solve_is_an_error_naming_lambda_and_nan_tangents():
    with jax.enable_x64(True):
        model, init, X, y, Xv, yv = _problem("logistic")
        params = hg.solution(model, init, X, y, 2.0, steps=1)
        with pytest.raises(hg.NotConverged, match=r"λ = 2\.0: the inner solve stopped at ‖∇C‖∞ = "):
            hg.check_optimum(model, params, X, y, 2.0)
        g = jax.grad(lambda l: hg.validation_loss(model, hg.solution(model, init, X, y, l, steps=1), Xv, yv))(2.0)
        assert np.isnan(g)
        hg.check_optimum(model, hg.solution(model, init, X, y, 2.0), X, y, 2.0)  # converged: no error


@pytest.mark.slow  # compiles Newton solves and their derivatives for several λ shapes: seconds each
def test_hypergradient_matches_scikit_learn_refits():
    from sklearn.linear_model import LogisticRegression

    with jax.enable_x64(True):
        model, init, X, y, Xv, yv = _problem("logistic")
        lam, h = 2.0, 1e-3

        def V_sklearn(l2):
            # sklearn minimizes ½‖w‖² + C Σ log-loss; ours is mean + (λ / 2m)‖w‖²: C = 1 / λ.
            clf = LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10_000).fit(X[:, 1:], y)
            z = Xv[:, 1:] @ clf.coef_[0] + clf.intercept_[0]
            return np.mean(np.logaddexp(0, z) - yv * z)

        fd = (V_sklearn(lam + h) - V_sklearn(lam - h)) / (2 * h)
        np.testing.assert_allclose(jax.grad(_V("logistic"))(lam), fd, rtol=1e-6)
