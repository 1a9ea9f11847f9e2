"""The hand-derived gradient, jax.grad and finite differences agree; the loss is stable."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference
from conftest import rel_err
from jax.test_util import check_grads

import logreg_jax as lj
from logreg_jax.data.features import Standardizer
from logreg_jax.models import logistic
from logreg_jax.models.logistic import sigmoid_derivative


def random_problem(rng, m, n, scale=1.0):
    X = np.concatenate([np.ones((m, 1)), rng.normal(size=(m, n - 1))], axis=1)
    y = (rng.random(m) < 0.5).astype(np.float64)
    y[: min(m, 2)] = [0.0, 1.0][: min(m, 2)]
    theta = scale * rng.normal(size=n)
    return jnp.asarray(theta), jnp.asarray(X), jnp.asarray(y)


@pytest.mark.parametrize("m,n", [(1, 2), (7, 3), (100, 3), (64, 28), (500, 10)])
@pytest.mark.parametrize("l2", [0.0, 1.0, 100.0])
def test_autodiff_equals_analytic_float64(x64, rng, m, n, l2):
    for _ in range(3):
        theta, X, y = random_problem(rng, m, n)
        auto = lj.autodiff_gradient(theta, X, y, l2)
        hand = lj.analytic_gradient(theta, X, y, l2)
        assert auto.dtype == hand.dtype == jnp.float64
        assert rel_err(auto, hand) <= 1e-12
        assert rel_err(hand, reference.gradient(theta, X, y, l2)) <= 1e-12
        assert abs(float(lj.cross_entropy(theta, X, y, l2)) - reference.loss(theta, X, y, l2)) <= 1e-12 * max(
            1.0, reference.loss(theta, X, y, l2)
        )


@pytest.mark.parametrize("l2", [0.0, 3.0])
def test_exam_scores_gradients_at_several_theta(x64, rng, l2):
    data = lj.load_dataset("data/exam_scores.txt")
    X = jnp.asarray(lj.add_bias(Standardizer.fit(data.X)(data.X)))
    y = jnp.asarray(data.y)
    for theta in [np.zeros(3), np.ones(3), [1.28, 3.07, 2.84], [-5.0, 20.0, -20.0], *rng.normal(size=(3, 3))]:
        theta = jnp.asarray(theta, dtype=jnp.float64)
        assert rel_err(lj.autodiff_gradient(theta, X, y, l2), lj.analytic_gradient(theta, X, y, l2)) <= 1e-12


@pytest.mark.parametrize("l2", [0.0, 2.0])
def test_gradients_match_finite_differences(x64, rng, l2):
    theta, X, y = random_problem(rng, 40, 5)
    # check_grads compares jax's derivatives (forward and reverse, 1st and 2nd order) with
    # central finite differences.
    check_grads(lambda t: lj.cross_entropy(t, X, y, l2), (theta,), order=2, modes=("fwd", "rev"))
    # And the hand-derived gradient against our own central differences.
    eps = 1e-6
    fd = np.array(
        [
            (reference.loss(theta + eps * e, X, y, l2) - reference.loss(theta - eps * e, X, y, l2)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    assert rel_err(lj.analytic_gradient(theta, X, y, l2), fd) <= 1e-7


@pytest.mark.parametrize("z", [1e3, -1e3, 1e4, -1e4])
def test_extreme_logits_stay_finite_and_exact(x64, z):
    # One input column, so the logit of every sample is exactly z; half the labels disagree with
    # the sign of z, so the loss is |z| / 2 there (the naive formula gives inf or NaN).
    X = jnp.ones((4, 1))
    y = jnp.asarray([0.0, 1.0, 0.0, 1.0])
    theta = jnp.asarray([z])
    loss = lj.cross_entropy(theta, X, y)
    naive = -jnp.mean(y * jnp.log(lj.sigmoid(X @ theta)) + (1 - y) * jnp.log(1 - lj.sigmoid(X @ theta)))
    assert not np.isfinite(float(naive))
    assert float(loss) == pytest.approx(abs(z) / 2, rel=1e-15)
    # d/dθ = mean(σ(z) − y) = ±1/2 exactly, by hand and by autodiff.
    expected = np.array([np.sign(z) * 0.5])
    np.testing.assert_array_equal(np.asarray(lj.analytic_gradient(theta, X, y)), expected)
    np.testing.assert_array_equal(np.asarray(lj.autodiff_gradient(theta, X, y)), expected)


@pytest.mark.parametrize("z", [1e3, 1e4])
def test_extreme_logits_float32(z):
    X = jnp.asarray([[1.0, 0.0], [1.0, 0.0]], dtype=jnp.float32)
    y = jnp.asarray([0.0, 1.0], dtype=jnp.float32)
    theta = jnp.asarray([z, 0.0], dtype=jnp.float32)
    assert float(lj.cross_entropy(theta, X, y)) == pytest.approx(z / 2, rel=1e-6)
    assert np.all(np.isfinite(lj.autodiff_gradient(theta, X, y)))


def test_float32_in_float32_out_and_close_to_float64(rng):
    theta, X, y = (np.asarray(a) for a in random_problem(rng, 200, 6))
    f32 = [jnp.asarray(a, jnp.float32) for a in (theta, X, y)]
    for fn in (
        lj.cross_entropy,
        lj.autodiff_gradient,
        lj.analytic_gradient,
        lambda t, X, y, l2: logistic.probability(t, X),
    ):
        out = fn(*f32, 0.5)
        assert out.dtype == jnp.float32
    assert rel_err(lj.analytic_gradient(*f32, 0.5), reference.gradient(theta, X, y, 0.5)) <= 1e-5
    assert rel_err(lj.autodiff_gradient(*f32, 0.5), reference.gradient(theta, X, y, 0.5)) <= 1e-5
    assert rel_err(lj.cross_entropy(*f32, 0.5), reference.loss(theta, X, y, 0.5)) <= 1e-5


def test_l2_penalty_leaves_bias_alone(x64):
    X = jnp.asarray([[1.0, 0.0], [1.0, 0.0]])
    y = jnp.asarray([0.0, 1.0])
    # Zero features: only the penalty depends on θ_1, and nothing penalizes θ_0.
    base = float(lj.cross_entropy(jnp.asarray([0.0, 0.0]), X, y))
    assert float(lj.cross_entropy(jnp.asarray([0.0, 3.0]), X, y, 4.0)) == pytest.approx(base + 4.0 / 4 * 9)
    assert float(lj.cross_entropy(jnp.asarray([3.0, 0.0]), X, y, 4.0)) == pytest.approx(
        float(lj.cross_entropy(jnp.asarray([3.0, 0.0]), X, y, 0.0))
    )


def test_sigmoid_and_its_derivative(x64):
    z = jnp.linspace(-30, 30, 61)
    np.testing.assert_allclose(lj.sigmoid(z), 1 / (1 + np.exp(-np.asarray(z))), rtol=1e-15)
    np.testing.assert_allclose(sigmoid_derivative(z), jax.vmap(jax.grad(lj.sigmoid))(z), rtol=1e-14)
    assert float(lj.sigmoid(jnp.asarray(-1e4))) == 0.0 and float(lj.sigmoid(jnp.asarray(1e4))) == 1.0


def test_synthetic_rows_are_seeded_and_learnable():
    from logreg_jax.scale.sources import SyntheticSource

    a = SyntheticSource(500, 4, key=jax.random.key(1)).read(0, 500)
    b = SyntheticSource(500, 4, key=jax.random.key(1)).read(0, 500)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape == (500, 4) and a[0].dtype == np.float32 and set(np.unique(a[1])) == {0.0, 1.0}
    assert 0.2 < a[1].mean() < 0.8
